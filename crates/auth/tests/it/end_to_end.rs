//! Every scheme end to end against the emulator: log in through its STS (`STSEndpoint` = the
//! emulator), then run an Athena query through the emulator with the resulting provider
//! (`AthenaRunner::with_credentials`), checking the rows and that the emulator's request log
//! shows the query (Athena calls and S3 result reads) signed with the expected key.
//! Also: refresh before expiry with an injected clock, and failures that name scheme, step
//! and cause.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::physical_plan::common::collect;
use datafusion_athena_auth::{
    AuthContext, ManualClock, credentials_provider, credentials_provider_with,
};
use datafusion_athena_config::{AuthScheme, ConnectionOptions, Secret};
use datafusion_athena_emulator::{Emulator, EmulatorHandle, Service};
use datafusion_athena_scan::{AthenaRunner, PollPolicy, QueryExecutor, QueryMetrics};

use crate::common;
use crate::common::idp::{self, OKTA_APP, PASSWORD, ROLE_A, USER};
use crate::common::imds::{self, Mode};
use crate::common::{ACCESS_KEY, SECRET_KEY, path_in, tempdir};

const ROLE: &str = "arn:aws:iam::123456789012:role/athena-reader";
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
    ]))
}

/// An emulator whose base key pair is the tests' [`ACCESS_KEY`] / [`SECRET_KEY`], holding
/// `default.people` (3 rows).
async fn emulator() -> EmulatorHandle {
    let emu = Emulator::builder()
        .credentials(ACCESS_KEY, SECRET_KEY)
        .region("eu-west-1")
        .start()
        .await
        .expect("emulator starts");
    let batch = RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec![Some("ada"), Some("bob"), None])),
        ],
    )
    .unwrap();
    emu.register_batches("default", "people", schema(), vec![batch])
        .unwrap();
    emu
}

/// Options for `scheme` aimed at the emulator (Athena, S3 and STS), without credentials.
fn emu_opts(emu: &EmulatorHandle, scheme: Option<AuthScheme>) -> ConnectionOptions {
    let base: ConnectionOptions = emu.connection_string().parse().unwrap();
    let mut o = common::opts(scheme, Some(&emu.endpoint()));
    o.region = base.region.clone();
    o.endpoints.all = base.endpoints.all.clone();
    o.s3_staging_directory = base.s3_staging_directory.clone();
    o.database = base.database.clone();
    o
}

/// Runs `SELECT id, name FROM people` through the emulator with `provider`, checks the rows,
/// and returns the access key every Athena and S3 request of that query was signed with.
async fn query_with(
    emu: &EmulatorHandle,
    o: &ConnectionOptions,
    provider: SharedCredentialsProvider,
) -> String {
    let runner = AthenaRunner::with_credentials(o, provider)
        .await
        .expect("runner")
        .with_poll_policy(PollPolicy {
            initial: Duration::from_millis(10),
            factor: 1.5,
            max: Duration::from_millis(100),
        });
    query_on(emu, &Arc::new(runner))
        .await
        .expect("query through the emulator")
}

/// The query on an existing runner: the signing key, or the error as text.
async fn query_on(emu: &EmulatorHandle, runner: &Arc<AthenaRunner>) -> Result<String, String> {
    emu.clear_request_log();
    let stream = QueryExecutor::execute(
        runner.as_ref(),
        "SELECT id, name FROM people ORDER BY id",
        schema(),
        QueryMetrics::detached(),
    )
    .map_err(|e| e.to_string())?;
    let batches = collect(stream).await.map_err(|e| e.to_string())?;
    let ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let col = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            col.values().to_vec()
        })
        .collect();
    let names: Vec<Option<String>> = batches
        .iter()
        .flat_map(|b| {
            let col = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
            col.iter()
                .map(|v| v.map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(names, vec![Some("ada".into()), Some("bob".into()), None]);

    let log = emu.request_log();
    let start = log
        .iter()
        .find(|r| r.service == Service::Athena && r.operation == "StartQueryExecution")
        .expect("StartQueryExecution in the request log");
    assert!(
        start.sql.as_deref().is_some_and(|s| s.contains("people")),
        "{:?}",
        start.sql
    );
    let key = start.access_key.clone().expect("signed request");
    let query_requests: Vec<_> = log
        .iter()
        .filter(|r| matches!(r.service, Service::Athena | Service::S3))
        .collect();
    assert!(
        query_requests.iter().any(|r| r.service == Service::S3),
        "the result was read from S3"
    );
    for r in &query_requests {
        assert_eq!(
            r.access_key.as_deref(),
            Some(key.as_str()),
            "{} {} (StartQueryExecution signed with {key})",
            r.operation,
            r.status
        );
        // 200, or 206 for ranged S3 reads.
        assert!(
            r.status == 200 || r.status == 206,
            "{} {} {:?}",
            r.operation,
            r.status,
            r.error_code
        );
    }
    Ok(key)
}

/// Logs in with `o` (and `ctx`), which must end in a successful `sts_action` on the emulator,
/// runs the query, and checks it was signed with the issued `ASIA...` key that the provider
/// hands out (never the base key).
async fn login_then_query(
    emu: &EmulatorHandle,
    o: &ConnectionOptions,
    ctx: &AuthContext,
    sts_action: &str,
) {
    let provider = credentials_provider_with(o, ctx).await.expect("login");
    assert!(
        emu.request_log()
            .iter()
            .any(|r| r.service == Service::Sts && r.operation == sts_action && r.status == 200),
        "{:?}",
        emu.request_log()
    );
    let issued = provider.provide_credentials().await.unwrap();
    assert!(
        issued.access_key_id().starts_with("ASIA"),
        "{}",
        issued.access_key_id()
    );
    assert_ne!(issued.access_key_id(), ACCESS_KEY);
    assert!(issued.session_token().is_some());
    assert!(issued.expiry().is_some());
    let signer = query_with(emu, o, provider).await;
    assert_eq!(signer, issued.access_key_id());
    assert!(
        emu.request_log().iter().all(|r| r.service != Service::Sts),
        "the query itself makes no STS call"
    );
}

/// The error code the emulator answered the last StartQueryExecution with.
fn start_error(emu: &EmulatorHandle) -> Option<String> {
    emu.request_log()
        .iter()
        .rev()
        .find(|r| r.service == Service::Athena && r.operation == "StartQueryExecution")
        .and_then(|r| r.error_code.clone())
}

fn no_home() -> AuthContext {
    AuthContext::new().with_env([("HOME", "/nonexistent")])
}

// ---- keys ----

#[tokio::test]
async fn static_keys_query() {
    let emu = emulator().await;
    let mut o = common::with_keys(emu_opts(&emu, Some(AuthScheme::AwsIamKeys)));
    o.auth.session_token = None;
    let provider = credentials_provider(&o).await.unwrap();
    assert_eq!(query_with(&emu, &o, provider).await, ACCESS_KEY);
}

#[tokio::test]
async fn temporary_credentials_query() {
    let emu = emulator().await;
    emu.add_credentials(
        "ASIATEMPCREDS0000001",
        "temp-secret",
        Some("temp-session-token"),
    );
    let mut o = emu_opts(&emu, Some(AuthScheme::AwsTempCredentials));
    o.auth.access_key = Some("ASIATEMPCREDS0000001".into());
    o.auth.secret_key = Some(Secret::new("temp-secret"));
    o.auth.session_token = Some(Secret::new("temp-session-token"));
    let provider = credentials_provider(&o).await.unwrap();
    assert_eq!(query_with(&emu, &o, provider).await, "ASIATEMPCREDS0000001");

    // With another session token the emulator refuses the key: the query fails.
    o.auth.session_token = Some(Secret::new("wrong-session-token"));
    let provider = credentials_provider(&o).await.unwrap();
    let runner = AthenaRunner::with_credentials(&o, provider).await.unwrap();
    let err = query_on(&emu, &Arc::new(runner)).await.unwrap_err();
    assert!(!err.contains("wrong-session-token"), "{err}");
    assert_eq!(
        start_error(&emu).as_deref(),
        Some("UnrecognizedClientException"),
        "{err}"
    );
}

// ---- STS-backed ----

#[tokio::test]
async fn aws_mfa_query() {
    let emu = emulator().await;
    let dir = tempdir();
    let mut o = common::with_keys(emu_opts(&emu, Some(AuthScheme::AwsMfa)));
    o.auth.mfa_serial_number = Some("arn:aws:iam::123456789012:mfa/alice".into());
    o.auth.mfa_token = Some(Secret::new("123456"));
    o.auth.temporary_token_duration = 900;
    o.auth.credentials_location = Some(path_in(&dir, "mfa.json"));
    login_then_query(&emu, &o, &no_home(), "GetSessionToken").await;
    assert!(path_in(&dir, "mfa.json").is_file());
}

#[tokio::test]
async fn aws_iam_roles_with_external_id_query() {
    let emu = emulator().await;
    let mut o = common::with_keys(emu_opts(&emu, Some(AuthScheme::AwsIamRoles)));
    o.auth.role_arn = Some(ROLE.into());
    o.auth.external_id = Some("partner-42".into());
    login_then_query(&emu, &o, &no_home(), "AssumeRole").await;
}

#[tokio::test]
async fn aws_web_identity_inline_token_query() {
    let emu = emulator().await;
    let mut o = emu_opts(&emu, Some(AuthScheme::AwsWebIdentity));
    o.auth.role_arn = Some(ROLE.into());
    o.auth.web_identity_token = Some(Secret::new(JWT));
    login_then_query(&emu, &o, &no_home(), "AssumeRoleWithWebIdentity").await;
}

#[tokio::test]
async fn aws_web_identity_token_file_query() {
    let emu = emulator().await;
    let dir = tempdir();
    let token = path_in(&dir, "token");
    std::fs::write(&token, format!("{JWT}\n")).unwrap();
    let o = emu_opts(&emu, Some(AuthScheme::AwsWebIdentity));
    let ctx = AuthContext::new().with_env([
        ("HOME", "/nonexistent"),
        ("AWS_ROLE_ARN", ROLE),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
    ]);
    login_then_query(&emu, &o, &ctx, "AssumeRoleWithWebIdentity").await;
}

#[tokio::test]
async fn aws_credentials_file_role_chain_query() {
    let emu = emulator().await;
    emu.add_credentials(
        "AKIADEVPROFILE000001",
        "dev-profile-secret",
        Some("dev-profile-token"),
    );
    let dir = tempdir();
    let path = path_in(&dir, "credentials");
    std::fs::write(
        &path,
        "[dev]\naws_access_key_id = AKIADEVPROFILE000001\naws_secret_access_key = dev-profile-secret\naws_session_token = dev-profile-token\n\n[analyst]\nrole_arn = arn:aws:iam::123456789012:role/analyst\nsource_profile = dev\nexternal_id = ext-1\n",
    )
    .unwrap();
    let mut o = emu_opts(&emu, Some(AuthScheme::AwsCredentialsFile));
    o.auth.credentials_file = Some(path);
    o.auth.credentials_file_profile = Some("analyst".into());
    login_then_query(&emu, &o, &no_home(), "AssumeRole").await;
}

#[tokio::test]
async fn aws_ec2_roles_query() {
    let emu = emulator().await;
    // The instance role's keys are valid in "AWS".
    emu.add_credentials("ASIAIMDS0001", "imds-secret-1", Some("imds-session-1"));
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V2, clock.clone()).await;
    let mut o = emu_opts(&emu, Some(AuthScheme::AwsEc2Roles));
    o.endpoints.imds = Some(fx.url.clone());
    let ctx = no_home().with_time_source(clock);
    let provider = credentials_provider_with(&o, &ctx).await.unwrap();
    assert_eq!(query_with(&emu, &o, provider).await, "ASIAIMDS0001");
}

#[tokio::test]
async fn aws_ec2_roles_then_assume_role_query() {
    let emu = emulator().await;
    emu.add_credentials("ASIAIMDS0001", "imds-secret-1", Some("imds-session-1"));
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V1Only(404), clock.clone()).await;
    let mut o = emu_opts(&emu, Some(AuthScheme::AwsEc2Roles));
    o.endpoints.imds = Some(fx.url.clone());
    o.auth.role_arn = Some("arn:aws:iam::123456789012:role/cross-account-athena".into());
    let ctx = no_home().with_time_source(clock);
    let provider = credentials_provider_with(&o, &ctx).await.unwrap();
    let issued = provider.provide_credentials().await.unwrap();
    assert!(!issued.access_key_id().starts_with("ASIAIMDS"));
    assert!(issued.access_key_id().starts_with("ASIA"));
    // The instance role's key signed AssumeRole on the emulator's STS.
    assert!(
        emu.request_log().iter().any(|r| r.service == Service::Sts
            && r.operation == "AssumeRole"
            && r.access_key.as_deref() == Some("ASIAIMDS0001")
            && r.status == 200),
        "{:?}",
        emu.request_log()
    );
    let signer = query_with(&emu, &o, provider).await;
    assert_eq!(signer, issued.access_key_id());
}

// ---- SAML ----

fn idp_opts(
    emu: &EmulatorHandle,
    scheme: AuthScheme,
    login_url: String,
    user: &str,
) -> ConnectionOptions {
    let mut o = emu_opts(emu, Some(scheme));
    o.auth.sso_login_url = Some(login_url);
    o.auth.user = Some(user.to_string());
    o.auth.password = Some(Secret::new(PASSWORD));
    o.auth.role_arn = Some(ROLE_A.into());
    o.auth.sso_properties.mfa_remember_device = true;
    o
}

#[tokio::test]
async fn adfs_query() {
    let emu = emulator().await;
    let base = idp::start().await;
    let o = idp_opts(&emu, AuthScheme::Adfs, base, USER);
    login_then_query(&emu, &o, &no_home(), "AssumeRoleWithSAML").await;
}

#[tokio::test]
async fn okta_query() {
    let emu = emulator().await;
    let base = idp::start().await;
    let o = idp_opts(&emu, AuthScheme::Okta, format!("{base}{OKTA_APP}"), USER);
    login_then_query(&emu, &o, &no_home(), "AssumeRoleWithSAML").await;
}

/// `AthenaRunner::new` resolves credentials through this crate, honouring `AuthScheme`: with
/// Okta and no keys it logs in to Okta and signs with the role's temporary key; a failed login
/// is an auth error naming Okta, and no Athena call is made with any other credentials.
#[tokio::test]
async fn a_runner_built_from_okta_options_signs_with_the_okta_role() {
    let emu = emulator().await;
    let base = idp::start().await;
    let o = idp_opts(&emu, AuthScheme::Okta, format!("{base}{OKTA_APP}"), USER);
    assert!(o.auth.access_key.is_none() && o.auth.secret_key.is_none());

    let runner = AthenaRunner::new(&o).await.expect("Okta login");
    let sts: Vec<_> = emu
        .request_log()
        .into_iter()
        .filter(|r| r.service == Service::Sts)
        .collect();
    assert!(
        sts.iter()
            .any(|r| r.operation == "AssumeRoleWithSAML" && r.status == 200),
        "{sts:?}"
    );
    let runner = runner.with_poll_policy(PollPolicy {
        initial: Duration::from_millis(10),
        factor: 1.5,
        max: Duration::from_millis(100),
    });
    let signer = query_on(&emu, &Arc::new(runner)).await.expect("query");
    assert!(signer.starts_with("ASIA"), "{signer}");
    assert_ne!(signer, ACCESS_KEY);

    let mut wrong = o.clone();
    wrong.auth.password = Some(Secret::new("not-the-password"));
    emu.clear_request_log();
    let err = AthenaRunner::new(&wrong).await.expect_err("wrong password");
    assert!(
        matches!(err, datafusion_athena_scan::Error::Auth(ref e) if e.scheme() == "Okta"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not-the-password"), "{err}");
    assert!(
        emu.request_log()
            .iter()
            .all(|r| r.service != Service::Athena && r.service != Service::S3),
        "no Athena or S3 call after a failed login"
    );
}

#[tokio::test]
async fn ping_federate_query() {
    let emu = emulator().await;
    let base = idp::start().await;
    let mut o = idp_opts(
        &emu,
        AuthScheme::PingFederate,
        format!("{base}/idp/sts.wst"),
        "alice&co",
    );
    o.auth.sso_exchange_url = Some("urn:amazon:webservices".into());
    login_then_query(&emu, &o, &no_home(), "AssumeRoleWithSAML").await;
}

/// PingFederate behind mutual TLS: the client certificate (a PEM file) is presented to the
/// WS-Trust endpoint, whose server certificate is trusted through AWS_CA_BUNDLE.
#[tokio::test]
async fn ping_federate_mutual_tls_query() {
    let emu = emulator().await;
    let pki = common::tls::Pki::new();
    let url = common::tls::serve(idp::ping_router(), &pki).await;
    let mut o = idp_opts(
        &emu,
        AuthScheme::PingFederate,
        format!("{url}/idp/sts.wst"),
        "alice&co",
    );
    o.auth.sso_exchange_url = Some("urn:amazon:webservices".into());
    o.auth.sso_properties.ssl_client_cert = Some(pki.client_pem.to_str().unwrap().into());
    o.auth.sso_properties.ssl_client_cert_type = Some("PEMKEY_FILE".into());
    let ctx = AuthContext::new().with_env([
        ("HOME", "/nonexistent"),
        ("AWS_CA_BUNDLE", pki.ca_pem.to_str().unwrap()),
    ]);
    login_then_query(&emu, &o, &ctx, "AssumeRoleWithSAML").await;
}

#[tokio::test]
async fn azure_ad_query() {
    use common::azure::{self, CLIENT_ID, CLIENT_SECRET, RESOURCE, TENANT};
    let emu = emulator().await;
    let (authority, _az) = azure::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = emu_opts(&emu, Some(AuthScheme::AzureAd));
    o.auth.sso_login_url = Some(authority);
    o.auth.sso_properties.azure_tenant = Some(TENANT.into());
    o.auth.sso_properties.resource = Some(RESOURCE.into());
    o.auth.oauth_client_id = Some(CLIENT_ID.into());
    o.auth.oauth_client_secret = Some(Secret::new(CLIENT_SECRET));
    o.auth.callback_url = Some(format!("http://localhost:{port}/callback"));
    o.auth.initiate_oauth = Some("GETANDREFRESH".into());
    let dir = tempdir();
    o.auth.oauth_settings_location = Some(path_in(&dir, "oauth.json"));
    // The "browser" follows the authorize redirect to the local callback.
    let ctx = no_home().with_browser(|url| {
        let url = url.to_string();
        tokio::spawn(async move {
            let _ = reqwest::get(url).await;
        });
    });
    login_then_query(&emu, &o, &ctx, "AssumeRoleWithSAML").await;
}

#[tokio::test]
async fn datazone_idc_query() {
    use common::idc::{self, DOMAIN, ENVIRONMENT, EnvCreds, ISSUER};
    let emu = emulator().await;
    // The environment's credentials are valid in "AWS".
    emu.add_credentials(
        "ASIADZENV0000001",
        "datazone-env-secret-1",
        Some("datazone-env-session-token-1"),
    );
    let clock = ManualClock::new(SystemTime::now());
    let env = vec![EnvCreds {
        key: "ASIADZENV0000001".into(),
        secret: "datazone-env-secret-1".into(),
        token: "datazone-env-session-token-1".into(),
    }];
    let fx = idc::start(clock.clone(), env).await;
    let mut o = emu_opts(&emu, Some(AuthScheme::DataZoneIdc));
    o.auth.datazone.sso_start_url = Some(ISSUER.into());
    o.auth.datazone.domain_id = Some(DOMAIN.into());
    o.auth.datazone.environment_id = Some(ENVIRONMENT.into());
    // The "browser" follows the authorize redirect to the local callback.
    let ctx = AuthContext::new()
        .with_env([
            ("HOME", "/nonexistent"),
            ("AWS_ENDPOINT_URL_SSO_OIDC", fx.url.as_str()),
            ("AWS_ENDPOINT_URL_DATAZONE", fx.url.as_str()),
        ])
        .with_time_source(clock)
        .with_browser(|url| {
            let url = url.to_string();
            tokio::spawn(async move {
                let _ = reqwest::get(url).await;
            });
        });
    let provider = credentials_provider_with(&o, &ctx).await.unwrap();
    assert_eq!(query_with(&emu, &o, provider).await, "ASIADZENV0000001");
    assert_eq!(fx.seen().env_issued, 1);
}

// ---- refresh ----

/// A long-running use of one provider: queries keep the first credentials while they are
/// valid; by the injected clock the provider fetches fresh ones before expiry; once the first
/// credentials expire in the emulator, a query through a runner on the same provider is signed
/// with the fresh ones and succeeds.
///
/// AwsEC2Roles, because the IMDS fixture dates its credentials by the injected clock (the
/// emulator's STS dates them by the wall clock, so there a clock moved ahead would see fresh
/// credentials as old as the first ones, and would sign its STS calls outside the 15-minute
/// window).
///
/// The runner made after the refresh is deliberate: `AthenaRunner`'s own caches (the SDK's
/// identity cache and the S3 credential bridge in `datafusion-athena-scan`) expire credentials
/// by the wall clock, not by the auth context's clock, so an existing runner would keep the
/// first key until its real expiry.
#[tokio::test]
async fn credentials_are_refreshed_before_expiry_across_queries() {
    let emu = emulator().await;
    // The keys the instance role gets, valid in "AWS".
    emu.add_credentials("ASIAIMDS0001", "imds-secret-1", Some("imds-session-1"));
    emu.add_credentials("ASIAIMDS0002", "imds-secret-2", Some("imds-session-2"));
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V2, clock.clone()).await;
    let mut o = emu_opts(&emu, Some(AuthScheme::AwsEc2Roles));
    o.endpoints.imds = Some(fx.url.clone());
    let ctx = no_home().with_time_source(clock.clone());
    let provider = credentials_provider_with(&o, &ctx).await.unwrap();
    let runner = Arc::new(
        AthenaRunner::with_credentials(&o, provider.clone())
            .await
            .unwrap(),
    );
    assert_eq!(query_on(&emu, &runner).await.unwrap(), "ASIAIMDS0001");

    // 50 minutes on (10 left): still the first credentials.
    clock.advance(Duration::from_secs(50 * 60));
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .unwrap()
            .access_key_id(),
        "ASIAIMDS0001"
    );
    assert_eq!(query_on(&emu, &runner).await.unwrap(), "ASIAIMDS0001");
    assert_eq!(fx.issued.load(Ordering::SeqCst), 1);

    // 56 minutes on (4 left, inside the 5-minute margin): refreshed before expiry.
    clock.advance(Duration::from_secs(6 * 60));
    assert_eq!(
        provider
            .provide_credentials()
            .await
            .unwrap()
            .access_key_id(),
        "ASIAIMDS0002"
    );
    assert_eq!(fx.issued.load(Ordering::SeqCst), 2);

    // The first credentials expire; the query runs with the fresh ones.
    emu.expire_credentials("ASIAIMDS0001");
    let later = Arc::new(AthenaRunner::with_credentials(&o, provider).await.unwrap());
    assert_eq!(query_on(&emu, &later).await.unwrap(), "ASIAIMDS0002");
    assert_eq!(
        fx.issued.load(Ordering::SeqCst),
        2,
        "no refresh per request"
    );
}

/// One long-running stream: a GetQueryResults result of several pages, read batch by batch
/// while the injected clock passes the refresh margin. The runner is built from auth's
/// `SdkConfig` (its identity cache and the S3 reader judge expiry by the same clock), so the
/// pages fetched after the clock moved are signed with refreshed credentials, within the one
/// stream. The instance role's credentials are valid 10 minutes and the margin is 2 minutes, so
/// every signature stays within the emulator's 15-minute window of the wall clock.
#[tokio::test]
async fn credentials_are_refreshed_within_one_long_running_stream() {
    use datafusion::arrow::array::Int64Array;
    use datafusion_athena_config::ResultFetcher;
    use futures::StreamExt;

    let emu = emulator().await;
    let long = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        Arc::clone(&long),
        vec![Arc::new(Int64Array::from_iter_values(0..5000))],
    )
    .unwrap();
    emu.register_batches("default", "numbers", Arc::clone(&long), vec![batch])
        .unwrap();
    emu.add_credentials("ASIAIMDS0001", "imds-secret-1", Some("imds-session-1"));
    emu.add_credentials("ASIAIMDS0002", "imds-secret-2", Some("imds-session-2"));
    let clock = ManualClock::new(SystemTime::now() - Duration::from_secs(5 * 60));
    let fx = imds::start_with_ttl(Mode::V2, clock.clone(), Duration::from_secs(10 * 60)).await;
    let mut o = emu_opts(&emu, Some(AuthScheme::AwsEc2Roles));
    o.endpoints.imds = Some(fx.url.clone());
    o.result_fetcher = ResultFetcher::GetQueryResults;
    let ctx = no_home()
        .with_time_source(clock.clone())
        .with_refresh_before_expiry(Duration::from_secs(2 * 60));
    let config = datafusion_athena_auth::sdk_config_with(&o, &ctx)
        .await
        .unwrap();
    let runner = AthenaRunner::from_sdk_config(&o, &config)
        .unwrap()
        .with_batch_size(500)
        .with_poll_policy(PollPolicy {
            initial: Duration::from_millis(10),
            factor: 1.5,
            max: Duration::from_millis(100),
        });
    emu.clear_request_log();
    let mut stream = QueryExecutor::execute(
        &runner,
        "SELECT n FROM numbers ORDER BY n",
        long,
        QueryMetrics::detached(),
    )
    .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    let mut values: Vec<i64> = first
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .values()
        .to_vec();
    // 9.5 minutes on: 30 seconds left, inside the 2-minute margin.
    clock.advance(Duration::from_secs(9 * 60 + 30));
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        let col = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        values.extend(col.values().iter().copied());
    }
    assert_eq!(values, (0..5000).collect::<Vec<i64>>());
    assert_eq!(fx.issued.load(Ordering::SeqCst), 2, "refreshed once");
    let pages: Vec<Option<String>> = emu
        .request_log()
        .iter()
        .filter(|r| r.service == Service::Athena && r.operation == "GetQueryResults")
        .map(|r| {
            assert_eq!(r.status, 200, "{r:?}");
            r.access_key.clone()
        })
        .collect();
    assert!(pages.len() >= 5, "{pages:?}");
    assert_eq!(pages.first().unwrap().as_deref(), Some("ASIAIMDS0001"));
    assert_eq!(pages.last().unwrap().as_deref(), Some("ASIAIMDS0002"));
    // Once refreshed, never back to the old key.
    let switch = pages
        .iter()
        .position(|k| k.as_deref() == Some("ASIAIMDS0002"))
        .unwrap();
    assert!(
        pages[switch..]
            .iter()
            .all(|k| k.as_deref() == Some("ASIAIMDS0002")),
        "{pages:?}"
    );
}

/// Credentials the emulator's STS issued expire (as after their DurationSeconds): a runner
/// still holding them fails its query with Athena's expired-token error.
#[tokio::test]
async fn expired_sts_session_fails_the_query_with_the_expired_token_error() {
    let emu = emulator().await;
    let mut o = common::with_keys(emu_opts(&emu, Some(AuthScheme::AwsIamRoles)));
    o.auth.role_arn = Some(ROLE.into());
    let provider = credentials_provider_with(&o, &no_home()).await.unwrap();
    let runner = Arc::new(
        AthenaRunner::with_credentials(&o, provider.clone())
            .await
            .unwrap(),
    );
    let first = query_on(&emu, &runner).await.unwrap();
    emu.expire_credentials(&first);
    let err = query_on(&emu, &runner).await.unwrap_err();
    assert_eq!(
        start_error(&emu).as_deref(),
        Some("ExpiredTokenException"),
        "{err}"
    );
}

// ---- failures ----

#[tokio::test]
async fn unknown_base_keys_are_refused_by_sts_naming_scheme_and_step() {
    let emu = emulator().await;
    let mut o = common::with_keys(emu_opts(&emu, Some(AuthScheme::AwsIamRoles)));
    o.auth.access_key = Some("AKIAUNKNOWNKEY000001".into());
    o.auth.role_arn = Some(ROLE.into());
    let err = credentials_provider_with(&o, &no_home())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("AwsIAMRoles: STS AssumeRole: "), "{err}");
    assert!(
        err.contains("The security token included in the request is invalid"),
        "{err}"
    );
    let log = emu.request_log();
    assert!(
        log.iter().any(|r| r.service == Service::Sts
            && r.error_code.as_deref() == Some("InvalidClientTokenId")),
        "{log:?}"
    );
    assert!(!err.contains(SECRET_KEY), "{err}");
}

#[tokio::test]
async fn expired_saml_session_fails_the_query_with_the_expired_token_error() {
    let emu = emulator().await;
    let base = idp::start().await;
    let o = idp_opts(&emu, AuthScheme::Adfs, base, USER);
    let provider = credentials_provider_with(&o, &no_home()).await.unwrap();
    let issued = provider.provide_credentials().await.unwrap();
    emu.expire_credentials(issued.access_key_id());
    let runner = AthenaRunner::with_credentials(&o, provider).await.unwrap();
    let err = query_on(&emu, &Arc::new(runner)).await.unwrap_err();
    assert_eq!(
        start_error(&emu).as_deref(),
        Some("ExpiredTokenException"),
        "{err}"
    );
}
