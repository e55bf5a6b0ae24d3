//! Every log line (a global tracing subscriber at TRACE, `log` records bridged into it) of
//! logins that handle secrets, successful and failing, with queries through the emulator, is
//! grepped for every secret involved: configured ones (keys, passwords, MFA codes, API tokens,
//! client secrets, client certificate keys) and issued ones (STS, Identity Center, DataZone).
//! Also the errors and the Debug output of the providers.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::physical_plan::common::collect;
use datafusion_athena_auth::{AuthContext, ManualClock, credentials_provider_with};
use datafusion_athena_config::{AuthScheme, ConnectionOptions, Secret};
use datafusion_athena_emulator::{Emulator, EmulatorHandle};
use datafusion_athena_scan::{AthenaRunner, QueryExecutor, QueryMetrics};

use crate::common;
use crate::common::idc::{
    self, DOMAIN, DOMAIN_SECRET, DOMAIN_TOKEN, ENVIRONMENT, EnvCreds, ISSUER,
};
use crate::common::idp::{self, OKTA_APP, PASSCODE, PASSWORD, ROLE_A};
use crate::common::{ACCESS_KEY, SECRET_KEY};

const MFA_CODE: &str = "864209";
const API_TOKEN: &str = "okta-api-token-123";
const ENV_SECRET: &str = "datazone-env-secret-for-logs";
const ENV_TOKEN: &str = "datazone-env-session-token-for-logs";

#[derive(Clone)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once; returns the captured output.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(BUF.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Buf(Arc::clone(&buf));
        // No timestamps: their microseconds could spell a six-digit code by chance.
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the only subscriber of this process");
        buf
    }))
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]))
}

async fn emulator() -> EmulatorHandle {
    let emu = Emulator::builder()
        .credentials(ACCESS_KEY, SECRET_KEY)
        .region("eu-west-1")
        .start()
        .await
        .unwrap();
    let batch =
        RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(vec![1, 2]))]).unwrap();
    emu.register_batches("default", "t", schema(), vec![batch])
        .unwrap();
    emu
}

fn emu_opts(emu: &EmulatorHandle, scheme: AuthScheme) -> ConnectionOptions {
    let base: ConnectionOptions = emu.connection_string().parse().unwrap();
    let mut o = common::opts(Some(scheme), Some(&emu.endpoint()));
    o.region = base.region.clone();
    o.endpoints.all = base.endpoints.all.clone();
    o.s3_staging_directory = base.s3_staging_directory.clone();
    o.database = base.database.clone();
    o
}

/// Runs a query with `provider` (signing Athena and S3 calls with its credentials).
async fn query(o: &ConnectionOptions, provider: SharedCredentialsProvider) {
    let runner = AthenaRunner::with_credentials(o, provider).await.unwrap();
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
    assert_eq!(rows, 2);
}

/// Logs in, remembers the issued secrets, checks the provider's Debug, runs a query.
async fn login_and_query(
    o: &ConnectionOptions,
    ctx: &AuthContext,
    issued: &mut Vec<String>,
) -> SharedCredentialsProvider {
    let provider = credentials_provider_with(o, ctx).await.unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    issued.push(creds.secret_access_key().to_string());
    issued.extend(creds.session_token().map(str::to_string));
    issued.push(format!("{provider:?} {creds:?}"));
    query(o, provider.clone()).await;
    provider
}

fn browser(env: &[(&str, &str)], clock: ManualClock) -> AuthContext {
    AuthContext::new()
        .with_env(env.iter().copied())
        .with_time_source(clock)
        .with_browser(|url| {
            let url = url.to_string();
            tokio::spawn(async move {
                let _ = reqwest::get(url).await;
            });
        })
}

#[tokio::test]
async fn no_secret_in_any_log_line_error_or_debug_output() {
    // The subscriber is global: no other test may log into it.
    if !common::in_own_process(
        module_path!(),
        "no_secret_in_any_log_line_error_or_debug_output",
    ) {
        return;
    }
    let log = captured();
    tracing::info!("capture check");
    let emu = emulator().await;
    let base = idp::start().await;
    let no_home = AuthContext::new().with_env([("HOME", "/nonexistent")]);
    let mut issued: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();

    // AwsMFA then a query; AwsIAMRoles then a query.
    let mut o = common::with_keys(emu_opts(&emu, AuthScheme::AwsMfa));
    o.auth.mfa_serial_number = Some("arn:aws:iam::123456789012:mfa/alice".into());
    o.auth.mfa_token = Some(Secret::new(MFA_CODE));
    login_and_query(&o, &no_home, &mut issued).await;
    let mut o = common::with_keys(emu_opts(&emu, AuthScheme::AwsIamRoles));
    o.auth.role_arn = Some("arn:aws:iam::123456789012:role/reader".into());
    login_and_query(&o, &no_home, &mut issued).await;

    // Okta with an API token and a TOTP passcode, then a query.
    let mut o = emu_opts(&emu, AuthScheme::Okta);
    o.auth.sso_login_url = Some(format!("{base}{OKTA_APP}"));
    o.auth.user = Some("totp@corp".into());
    o.auth.password = Some(Secret::new(PASSWORD));
    o.auth.role_arn = Some(ROLE_A.into());
    o.auth.sso_properties.mfa_remember_device = true;
    o.auth.sso_properties.api_token = Some(Secret::new(API_TOKEN));
    o.auth.sso_properties.mfa_pass_code = Some(Secret::new(PASSCODE));
    login_and_query(&o, &no_home, &mut issued).await;
    // A wrong passcode and a wrong password.
    o.auth.sso_properties.mfa_pass_code = Some(Secret::new("135790"));
    let err = credentials_provider_with(&o, &no_home).await.unwrap_err();
    texts.push(format!("{err} {err:?}"));
    let mut adfs = emu_opts(&emu, AuthScheme::Adfs);
    adfs.auth.sso_login_url = Some(base.clone());
    adfs.auth.user = Some(idp::USER.into());
    adfs.auth.password = Some(Secret::new("wrong-adfs-password-24680"));
    let err = credentials_provider_with(&adfs, &no_home)
        .await
        .unwrap_err();
    texts.push(format!("{err} {err:?}"));

    // PingFederate with a client certificate, then a query.
    let pki = common::tls::Pki::new();
    let url = common::tls::serve(idp::ping_router(), &pki).await;
    let mut o = emu_opts(&emu, AuthScheme::PingFederate);
    o.auth.sso_login_url = Some(format!("{url}/idp/sts.wst"));
    o.auth.user = Some("alice&co".into());
    o.auth.password = Some(Secret::new(PASSWORD));
    o.auth.role_arn = Some(ROLE_A.into());
    o.auth.sso_properties.ssl_client_cert = Some(pki.client_pem_text());
    o.auth.sso_properties.ssl_client_cert_type = Some("PEMKEY_BLOB".into());
    let ctx = AuthContext::new().with_env([
        ("HOME", "/nonexistent"),
        ("AWS_CA_BUNDLE", pki.ca_pem.to_str().unwrap()),
    ]);
    login_and_query(&o, &ctx, &mut issued).await;
    let key_pem = pki.client_pem_text();
    let key_b64 = key_pem
        .split("-----BEGIN PRIVATE KEY-----")
        .nth(1)
        .and_then(|k| k.lines().nth(1))
        .unwrap()
        .to_string();

    // DataZone IdC: Identity Center tokens, domain and environment credentials, then a query
    // and a refresh by the injected clock (the access token is reused, then refreshed).
    emu.add_credentials("ASIADZENVLOGS0000001", ENV_SECRET, Some(ENV_TOKEN));
    let clock = ManualClock::new(SystemTime::now());
    let env = vec![EnvCreds {
        key: "ASIADZENVLOGS0000001".into(),
        secret: ENV_SECRET.into(),
        token: ENV_TOKEN.into(),
    }];
    let fx = idc::start(clock.clone(), env).await;
    let mut o = emu_opts(&emu, AuthScheme::DataZoneIdc);
    o.auth.datazone.sso_start_url = Some(ISSUER.into());
    o.auth.datazone.domain_id = Some(DOMAIN.into());
    o.auth.datazone.environment_id = Some(ENVIRONMENT.into());
    let ctx = browser(
        &[
            ("HOME", "/nonexistent"),
            ("AWS_ENDPOINT_URL_SSO_OIDC", fx.url.as_str()),
            ("AWS_ENDPOINT_URL_DATAZONE", fx.url.as_str()),
        ],
        clock.clone(),
    );
    let provider = login_and_query(&o, &ctx, &mut issued).await;
    clock.advance(Duration::from_secs(3 * 3600));
    provider.provide_credentials().await.unwrap();
    assert_eq!(fx.seen().refresh_grants, 1);

    let mut secrets: Vec<String> = [
        SECRET_KEY,
        PASSWORD,
        PASSCODE,
        "135790",
        "wrong-adfs-password-24680",
        MFA_CODE,
        API_TOKEN,
        "okta-session-1",
        "idc-client-secret-1",
        "idc-access-token-1",
        "idc-access-token-2",
        "idc-refresh-token-1",
        DOMAIN_SECRET,
        DOMAIN_TOKEN,
        ENV_SECRET,
        ENV_TOKEN,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    secrets.push(key_b64);
    let debug_outputs: Vec<String> = issued
        .iter()
        .filter(|s| s.contains("Credentials"))
        .cloned()
        .collect();
    secrets.extend(issued.into_iter().filter(|s| !s.contains("Credentials")));
    texts.extend(debug_outputs);

    let log = String::from_utf8_lossy(&log.lock().unwrap()).to_string();
    assert!(log.contains("capture check"), "the subscriber captures");
    let lines = log.lines().count();
    assert!(lines > 100, "only {lines} log lines were captured");
    // The SDK's signing traces (canonical requests) are among them.
    assert!(log.contains("aws_sigv4::http_request::sign: canonical_request="));
    for secret in &secrets {
        assert!(secret.len() >= 6, "{secret}");
        if let Some(line) = log.lines().find(|l| l.contains(secret.as_str())) {
            panic!("a log line holds the secret {secret:?}: {line}");
        }
        for text in &texts {
            assert!(!text.contains(secret.as_str()), "{secret:?} in {text}");
        }
    }
    eprintln!("{lines} log lines, {} secrets, none found", secrets.len());
}
