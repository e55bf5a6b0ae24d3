//! ADFSIntegrated against a real MIT Kerberos KDC on 127.0.0.1 (krb5kdc, a realm made with
//! kdb5_util and kadmin.local in a temporary directory), with the user's ticket from kinit, and
//! an ADFS fixture whose WIA endpoint verifies the Negotiate token with the service keytab
//! (gss_accept_sec_context) and checks the client principal. Then AssumeRoleWithSAML on the
//! emulator's STS and a query. Failures: no ticket, a ticket the server cannot decrypt (the
//! service key changed), ADFS answering with its forms login.
//!
//! Needs the `kerberos` feature and MIT krb5's KDC tools (Debian: krb5-kdc, krb5-admin-server,
//! krb5-user, libkrb5-dev); without the tools the test skips (fails under
//! ATHENA_TEST_REQUIRE_PEERS). Runs in a process of its own: GSSAPI reads the environment this
//! test sets.

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::provider::ProvideCredentials;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::physical_plan::common::collect;
use datafusion_athena_auth::{AuthContext, Error, credentials_provider_with};
use datafusion_athena_config::{AuthScheme, ConnectionOptions};
use datafusion_athena_emulator::{Emulator, Service};
use datafusion_athena_scan::{AthenaRunner, QueryExecutor, QueryMetrics};

use crate::common;
use crate::common::idp::{ROLE_A, saml_page};
use crate::common::{ACCESS_KEY, SECRET_KEY};

const REALM: &str = "ATHENA.TEST";
const USER_PRINCIPAL: &str = "alice@ATHENA.TEST";

// ---- the acceptor side of GSSAPI, for the fixture ----

#[repr(C)]
struct Buffer {
    length: usize,
    value: *mut c_void,
}

#[link(name = "gssapi_krb5")]
unsafe extern "C" {
    #[allow(clippy::too_many_arguments)]
    fn gss_accept_sec_context(
        minor: *mut u32,
        context: *mut *mut c_void,
        acceptor_cred: *mut c_void,
        input: *const Buffer,
        channel: *const c_void,
        src_name: *mut *mut c_void,
        mech: *mut *const c_void,
        output: *mut Buffer,
        ret_flags: *mut u32,
        time_rec: *mut u32,
        delegated: *mut *mut c_void,
    ) -> u32;
    fn gss_display_name(
        minor: *mut u32,
        name: *mut c_void,
        output: *mut Buffer,
        name_type: *mut *const c_void,
    ) -> u32;
    fn gss_release_buffer(minor: *mut u32, buffer: *mut Buffer) -> u32;
    fn gss_release_name(minor: *mut u32, name: *mut *mut c_void) -> u32;
    fn gss_delete_sec_context(
        minor: *mut u32,
        context: *mut *mut c_void,
        output: *mut Buffer,
    ) -> u32;
}

/// Accepts a SPNEGO token with the keytab of `KRB5_KTNAME`; the client principal, or the
/// major/minor status.
fn accept(token: &[u8]) -> Result<String, String> {
    let input = Buffer {
        length: token.len(),
        value: token.as_ptr().cast_mut().cast(),
    };
    let mut minor = 0u32;
    let mut context: *mut c_void = ptr::null_mut();
    let mut name: *mut c_void = ptr::null_mut();
    let mut output = Buffer {
        length: 0,
        value: ptr::null_mut(),
    };
    // SAFETY: the token outlives the call; every output is released below.
    let major = unsafe {
        gss_accept_sec_context(
            &mut minor,
            &mut context,
            ptr::null_mut(),
            &input,
            ptr::null(),
            &mut name,
            ptr::null_mut(),
            &mut output,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let result = if major & 0xffff_0000 != 0 {
        Err(format!("major {major:#x} minor {minor}"))
    } else {
        let mut shown = Buffer {
            length: 0,
            value: ptr::null_mut(),
        };
        // SAFETY: `name` is the accepted client name; the buffer is released.
        unsafe {
            gss_display_name(&mut minor, name, &mut shown, ptr::null_mut());
            let text = std::slice::from_raw_parts(shown.value.cast::<u8>(), shown.length);
            let text = String::from_utf8_lossy(text).to_string();
            gss_release_buffer(&mut minor, &mut shown);
            Ok(text)
        }
    };
    let mut ignored = 0u32;
    // SAFETY: released once each; null handles are accepted.
    unsafe {
        gss_release_buffer(&mut ignored, &mut output);
        if !context.is_null() {
            gss_delete_sec_context(&mut ignored, &mut context, ptr::null_mut());
        }
        if !name.is_null() {
            gss_release_name(&mut ignored, &mut name);
        }
    }
    result
}

// ---- the ADFS fixture ----

fn forms_page() -> Html<&'static str> {
    Html(
        "<html><body><form method=\"post\" action=\"/adfs/ls/\"><input name=\"UserName\" type=\"email\"/><input name=\"Password\" type=\"password\"/></form></body></html>",
    )
}

/// IdP-initiated sign-on: WIA-capable user agents go to /adfs/ls/wia, others get the forms.
async fn sign_on(headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let ua = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ua.contains("Trident/7.0") || q.contains_key("forms") {
        return forms_page().into_response();
    }
    if q.get("loginToRp").map(String::as_str) != Some("urn:amazon:webservices") {
        return (StatusCode::BAD_REQUEST, "no relying party").into_response();
    }
    Redirect::to("/adfs/ls/wia?client-request-id=7").into_response()
}

async fn wia(headers: HeaderMap) -> Response {
    let challenge = || {
        (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Negotiate")],
            "401 - Unauthorized",
        )
            .into_response()
    };
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Negotiate "))
        .and_then(|t| STANDARD.decode(t.trim()).ok())
    else {
        return challenge();
    };
    match tokio::task::spawn_blocking(move || accept(&token))
        .await
        .unwrap()
    {
        Ok(principal) if principal == USER_PRINCIPAL => saml_page(&[ROLE_A]).into_response(),
        Ok(other) => (StatusCode::FORBIDDEN, format!("unknown user {other}")).into_response(),
        Err(_) => challenge(),
    }
}

async fn start_adfs() -> String {
    let app = Router::new()
        .route("/adfs/ls/IdpInitiatedSignOn.aspx", get(sign_on))
        .route("/adfs/ls/wia", get(wia));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    // The service principal is HTTP/localhost.
    format!("http://localhost:{port}")
}

// ---- the KDC ----

struct Kdc {
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

impl Kdc {
    fn env(&self) -> Vec<(&'static str, String)> {
        let d = self.dir.path();
        vec![
            ("KRB5_CONFIG", d.join("krb5.conf").display().to_string()),
            ("KRB5_KDC_PROFILE", d.join("kdc.conf").display().to_string()),
            ("KRB5CCNAME", format!("FILE:{}", d.join("ccache").display())),
            (
                "KRB5_KTNAME",
                format!("FILE:{}", d.join("http.keytab").display()),
            ),
        ]
    }

    fn run(&self, name: &str, args: &[&str], stdin: Option<&str>) {
        let mut cmd = Command::new(tool(name).unwrap());
        cmd.args(args)
            .envs(self.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{name} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn kadmin(&self, query: &str) {
        self.run("kadmin.local", &["-r", REALM, "-q", query], None);
    }

    /// A realm with alice and HTTP/localhost (keytab exported), the KDC listening.
    fn start() -> Option<Self> {
        for t in ["krb5kdc", "kdb5_util", "kadmin.local", "kinit", "kdestroy"] {
            if tool(t).is_none() {
                common::skip(&format!(
                    "{t} not found (install krb5-kdc, krb5-admin-server, krb5-user)"
                ));
                return None;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("krb5.conf"),
            format!(
                "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n rdns = false\n dns_canonicalize_hostname = false\n udp_preference_limit = 1\n[realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n[domain_realm]\n localhost = {REALM}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("kdc.conf"),
            format!(
                "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n[realms]\n {REALM} = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  acl_file = {d}/kadm5.acl\n }}\n[logging]\n kdc = FILE:{d}/kdc.log\n"
            ),
        )
        .unwrap();
        let placeholder = Command::new("true").spawn().unwrap();
        let mut kdc = Kdc {
            dir,
            child: placeholder,
        };
        kdc.run(
            "kdb5_util",
            &["create", "-s", "-r", REALM, "-P", "kdc-master-password"],
            None,
        );
        kdc.kadmin("addprinc -pw alice-kerberos-password alice");
        kdc.kadmin("addprinc -randkey HTTP/localhost");
        let keytab = kdc.dir.path().join("http.keytab").display().to_string();
        kdc.kadmin(&format!("ktadd -k {keytab} HTTP/localhost"));
        let _ = kdc.child.wait();
        kdc.child = Command::new(tool("krb5kdc").unwrap())
            .args(["-n", "-r", REALM])
            .envs(kdc.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "krb5kdc did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(kdc)
    }

    fn kinit(&self) {
        self.run("kinit", &["alice"], Some("alice-kerberos-password\n"));
    }

    fn kdestroy(&self) {
        self.run("kdestroy", &[], None);
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]))
}

#[tokio::test]
async fn kerberos_ticket_signs_in_then_query_and_failures() {
    if !common::in_own_process(
        module_path!(),
        "kerberos_ticket_signs_in_then_query_and_failures",
    ) {
        return;
    }
    let Some(kdc) = Kdc::start() else { return };
    // GSSAPI in this process (our client and the fixture's acceptor) reads these. This process
    // runs this one test, and nothing else runs yet.
    for (k, v) in kdc.env() {
        // SAFETY: set before any other thread of this test reads the environment.
        unsafe { std::env::set_var(k, v) };
    }
    kdc.kinit();

    let emu = Emulator::builder()
        .credentials(ACCESS_KEY, SECRET_KEY)
        .region("eu-west-1")
        .start()
        .await
        .unwrap();
    let batch =
        RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(vec![7, 8, 9]))]).unwrap();
    emu.register_batches("default", "t", schema(), vec![batch])
        .unwrap();
    let base: ConnectionOptions = emu.connection_string().parse().unwrap();
    let mut o = common::opts(Some(AuthScheme::AdfsIntegrated), Some(&emu.endpoint()));
    o.region = base.region.clone();
    o.endpoints.all = base.endpoints.all.clone();
    o.s3_staging_directory = base.s3_staging_directory.clone();
    o.database = base.database.clone();
    let adfs = start_adfs().await;
    o.auth.sso_login_url = Some(adfs.clone());
    o.auth.role_arn = Some(ROLE_A.into());
    let ctx = AuthContext::new().with_env([("HOME", "/nonexistent")]);

    // Signed in with the ticket; STS AssumeRoleWithSAML on the emulator; a query.
    let provider = credentials_provider_with(&o, &ctx).await.unwrap();
    assert!(emu.request_log().iter().any(|r| r.service == Service::Sts
        && r.operation == "AssumeRoleWithSAML"
        && r.status == 200));
    let issued = provider.provide_credentials().await.unwrap();
    assert!(issued.access_key_id().starts_with("ASIA"));
    let runner = AthenaRunner::with_credentials(&o, provider).await.unwrap();
    emu.clear_request_log();
    let stream = QueryExecutor::execute(
        &runner,
        "SELECT id FROM t",
        schema(),
        QueryMetrics::detached(),
    )
    .unwrap();
    let rows: usize = collect(stream)
        .await
        .unwrap()
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 3);
    let start = emu
        .request_log()
        .into_iter()
        .find(|r| r.operation == "StartQueryExecution")
        .unwrap();
    assert_eq!(start.access_key.as_deref(), Some(issued.access_key_id()));

    // No ticket: the error names the scheme, the step and GSSAPI's cause.
    kdc.kdestroy();
    let err = credentials_provider_with(&o, &ctx).await.unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(
            "ADFSIntegrated: get a Kerberos service ticket (SPNEGO): refused: no ticket for HTTP/localhost: "
        ),
        "{text}"
    );
    assert!(text.contains("kinit"), "{text}");

    // The service key changes after the keytab was exported: ADFS cannot read new tickets.
    kdc.kadmin("cpw -randkey HTTP/localhost");
    kdc.kinit();
    let err = credentials_provider_with(&o, &ctx)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "ADFSIntegrated: sign in with Negotiate (Windows Integrated Authentication): refused: ADFS refused the Kerberos ticket (HTTP 401)"
    );

    // ADFS answers with its forms login.
    o.auth.sso_login_url = Some(format!(
        "{adfs}/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices&forms=1"
    ));
    let err = credentials_provider_with(&o, &ctx)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("ADFSIntegrated: open the ADFS sign-in page: refused: ADFS offered its forms login, not Windows Integrated Authentication"),
        "{err}"
    );
}
