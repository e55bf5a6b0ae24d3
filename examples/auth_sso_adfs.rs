//! Auth through a SAML identity provider (`AuthScheme=ADFS`): log in to ADFS with a user name
//! and password, take the SAML assertion it returns, pick the role named by `AWSRoleARN`, call
//! STS AssumeRoleWithSAML, and query with the temporary credentials. `Okta`, `PingFederate` and
//! `AzureAD` follow the same path after their own login step.
//!
//! Needs: nothing but this repository. The identity provider is a small ADFS stand-in started
//! inside this example on 127.0.0.1 (the sign-on page with a forms login, then the auto-post
//! page carrying the `SAMLResponse`); the bundled emulator (on `examples/data`) plays STS,
//! Athena and S3. Against a real ADFS, `SSOLoginURL` is your ADFS host.
//!
//! Prints: the connection string with the password as `***`, the requests the identity provider
//! saw, the STS and Athena requests the emulator saw (AssumeRoleWithSAML, then Athena and S3
//! signed with the temporary key), the query's result, and the error a wrong password gives.
//!
//! `cargo run --example auth_sso_adfs`

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, State};
use axum::http::Method;
use axum::response::Html;
use axum::routing::get;
use base64::Engine;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use datafusion_athena::ConnectionOptions;
use datafusion_athena_emulator::{ACCOUNT_ID, Emulator, Service};

type Error = Box<dyn std::error::Error + Send + Sync>;

const USER: &str = "alice@corp.example";
const PASSWORD: &str = "correct horse battery staple";
const SIGN_ON: &str = "/adfs/ls/IdpInitiatedSignOn.aspx";
const QUERY: &str = "SELECT region, count(*) AS orders FROM orders GROUP BY region ORDER BY region";

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(&mut std::io::stdout().lock()).await
}

/// Runs the example, writing what it shows to `out`.
pub(crate) async fn run(out: &mut dyn Write) -> Result<(), Error> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let emu = Emulator::builder().data_dir(data).start().await?;
    let idp = FakeAdfs::start().await?;

    let role = format!("arn:aws:iam::{ACCOUNT_ID}:role/athena-analyst");
    // A bare ADFS host gets the standard IdP-initiated sign-on path for AWS.
    let conn = |password: &str| {
        format!(
            "AuthScheme=ADFS;SSOLoginURL={};User={USER};Password='{password}';AWSRoleARN={role};\
             AWSRegion={};Endpoint={};S3StagingDirectory={};Database=sales;",
            idp.url,
            emu.region(),
            emu.endpoint(),
            emu.staging_dir()
        )
    };
    let options: ConnectionOptions = conn(PASSWORD).parse()?;
    writeln!(out, "connection: {options}")?;

    let ctx = SessionContext::new();
    datafusion_athena::register_athena(&ctx, &conn(PASSWORD)).await?;
    let batches = ctx.sql(QUERY).await?.collect().await?;

    writeln!(out, "requests the identity provider saw:")?;
    for r in idp.requests() {
        writeln!(out, "  {r}")?;
    }
    writeln!(out, "requests the emulator accepted:")?;
    let mut shown: Vec<String> = Vec::new();
    for r in emu.request_log() {
        let line = match (r.service, &r.access_key) {
            (Service::Sts, _) => {
                format!("STS {} (unsigned, the assertion is the proof)", r.operation)
            }
            (service, Some(key)) => {
                format!(
                    "{service:?} requests signed with the temporary key ****{}",
                    tail(key)
                )
            }
            (_, None) => continue,
        };
        if !shown.contains(&line) {
            writeln!(out, "  {line}")?;
            shown.push(line);
        }
    }
    writeln!(out, "{}", pretty_format_batches(&batches)?)?;

    match datafusion_athena::register_athena(&SessionContext::new(), &conn("wrong password")).await
    {
        Ok(_) => writeln!(out, "a wrong password was accepted?!")?,
        Err(e) => writeln!(out, "with a wrong password: {}", one_line(&e.to_string()))?,
    }
    emu.shutdown().await;
    Ok(())
}

/// A minimal ADFS: `GET /adfs/ls/IdpInitiatedSignOn.aspx` shows the forms login; posting the
/// right user and password answers with the page that posts a `SAMLResponse` to AWS, whose
/// assertion offers the role `athena-analyst` through the SAML provider `CorpADFS`.
struct FakeAdfs {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl FakeAdfs {
    async fn start() -> Result<Self, Error> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route(SIGN_ON, get(login_page).post(login))
            .with_state(Arc::clone(&seen));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { url, seen })
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

type Seen = State<Arc<Mutex<Vec<String>>>>;

fn note(seen: &Seen, method: Method, what: &str) {
    if let Ok(mut s) = seen.lock() {
        s.push(format!("{method} {SIGN_ON} {what}"));
    }
}

fn login_form(error: &str) -> Html<String> {
    Html(format!(
        "<html><body><form method=\"post\" id=\"loginForm\" \
         action=\"{SIGN_ON}?loginToRp=urn:amazon:webservices\">{error}\
         <input id=\"userNameInput\" name=\"UserName\" type=\"email\" value=\"\"/>\
         <input id=\"passwordInput\" name=\"Password\" type=\"password\"/>\
         <input type=\"hidden\" name=\"AuthMethod\" value=\"FormsAuthentication\"/>\
         </form></body></html>"
    ))
}

async fn login_page(seen: Seen) -> Html<String> {
    note(&seen, Method::GET, "-> login form");
    login_form("")
}

async fn login(seen: Seen, Form(form): Form<HashMap<String, String>>) -> Html<String> {
    let user = form.get("UserName").map(String::as_str).unwrap_or_default();
    if form.get("Password").map(String::as_str) != Some(PASSWORD) || user != USER {
        note(
            &seen,
            Method::POST,
            &format!("UserName={user} -> wrong password"),
        );
        return login_form("<span id=\"errorText\">Incorrect user ID or password.</span>");
    }
    note(
        &seen,
        Method::POST,
        &format!("UserName={user} -> SAMLResponse"),
    );
    let role = format!("arn:aws:iam::{ACCOUNT_ID}:role/athena-analyst");
    let provider = format!("arn:aws:iam::{ACCOUNT_ID}:saml-provider/CorpADFS");
    let response = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r1\" Version=\"2.0\">\
         <samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
         <saml:Assertion ID=\"_a1\" Version=\"2.0\"><saml:Issuer>http://adfs.corp.example/adfs/services/trust</saml:Issuer>\
         <saml:Subject><saml:NameID>{user}</saml:NameID></saml:Subject><saml:AttributeStatement>\
         <saml:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/Role\">\
         <saml:AttributeValue>{role},{provider}</saml:AttributeValue></saml:Attribute>\
         <saml:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/RoleSessionName\">\
         <saml:AttributeValue>{user}</saml:AttributeValue></saml:Attribute>\
         </saml:AttributeStatement></saml:Assertion></samlp:Response>"
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(response);
    Html(format!(
        "<html><body onload=\"document.forms[0].submit()\"><form method=\"POST\" name=\"hiddenform\" \
         action=\"https://signin.aws.amazon.com:443/saml\">\
         <input type=\"hidden\" name=\"SAMLResponse\" value=\"{encoded}\"/></form></body></html>"
    ))
}

/// The last 4 characters of an access key ID.
fn tail(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
