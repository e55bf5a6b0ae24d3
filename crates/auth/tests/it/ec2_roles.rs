//! AwsEC2Roles against an IMDS fixture on 127.0.0.1: IMDSv2, IMDSv1 fallback on 403/404/405,
//! failures, AssumeRole on top (moto), and refresh before expiry with an injected clock.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::{
    AuthContext, Error, ManualClock, credentials_provider_with, scheme_provider_with,
    sdk_config_with,
};
use datafusion_athena_config::{AuthScheme, ConnectionOptions};

use crate::common::imds::{self, Mode};
use crate::common::{moto, opts};

fn ec2_opts(imds_url: &str) -> ConnectionOptions {
    let mut o = opts(Some(AuthScheme::AwsEc2Roles), None);
    o.endpoints.imds = Some(imds_url.to_string());
    o
}

fn ctx(clock: &ManualClock) -> AuthContext {
    AuthContext::new()
        .with_time_source(clock.clone())
        .with_env([("HOME", "/nonexistent")])
}

#[tokio::test]
async fn imdsv2_token_is_fetched_and_sent() {
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V2, clock.clone()).await;
    let creds = credentials_provider_with(&ec2_opts(&fx.url), &ctx(&clock))
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), "ASIAIMDS0001");
    assert_eq!(creds.session_token(), Some("imds-session-1"));
    assert_eq!(
        creds.expiry(),
        Some(clock_secs(&clock) + Duration::from_secs(3600))
    );
    assert_eq!(fx.token_puts.load(Ordering::SeqCst), 1);
    let seen = fx.seen_token_headers.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter()
            .all(|t| t.as_deref() == Some("imds-session-token-AQAEAbc"))
    );
}

/// The fixture writes whole seconds.
fn clock_secs(clock: &ManualClock) -> SystemTime {
    use aws_smithy_async::time::TimeSource;
    let secs = clock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

#[tokio::test]
async fn imdsv1_fallback_when_the_token_call_is_refused() {
    for status in [403, 404, 405] {
        let clock = ManualClock::new(SystemTime::now());
        let fx = imds::start(Mode::V1Only(status), clock.clone()).await;
        let creds = credentials_provider_with(&ec2_opts(&fx.url), &ctx(&clock))
            .await
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(creds.access_key_id(), "ASIAIMDS0001", "status {status}");
        let seen = fx.seen_token_headers.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![None, None],
            "IMDSv1 GETs carry no token (status {status})"
        );
    }
}

#[tokio::test]
async fn imdsv1_fallback_is_refused_when_v1_is_disabled() {
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V1Only(403), clock.clone()).await;
    let ctx = ctx(&clock).with_env([("AWS_EC2_METADATA_V1_DISABLED", "true")]);
    let err = credentials_provider_with(&ec2_opts(&fx.url), &ctx)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                scheme: "AwsEC2Roles",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("refused with HTTP 403"), "{err}");
    assert!(
        err.to_string().contains("AWS_EC2_METADATA_V1_DISABLED"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_request_on_the_token_call_is_a_hard_error() {
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V1Only(400), clock.clone()).await;
    let err = credentials_provider_with(&ec2_opts(&fx.url), &ctx(&clock))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("AwsEC2Roles: IMDSv2 token"),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 400"), "{err}");
}

#[tokio::test]
async fn instance_without_role_says_so() {
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::NoRole, clock.clone()).await;
    let err = credentials_provider_with(&ec2_opts(&fx.url), &ctx(&clock))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Rejected { step, .. } if step.starts_with("IMDS role name")),
        "{err}"
    );
    assert!(err.to_string().contains("no IAM role"), "{err}");
}

#[tokio::test]
async fn unreachable_metadata_service_names_the_step() {
    let clock = ManualClock::new(SystemTime::now());
    let err = credentials_provider_with(&ec2_opts("http://127.0.0.1:9"), &ctx(&clock))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("AwsEC2Roles: IMDSv2 token"),
        "{err}"
    );
}

#[tokio::test]
async fn ec2_role_then_assume_role() {
    let Some(sts) = moto() else { return };
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V1Only(404), clock.clone()).await;
    let mut o = ec2_opts(&fx.url);
    o.endpoints.sts = Some(sts);
    o.auth.role_arn = Some("arn:aws:iam::123456789012:role/cross-account-athena".into());
    let creds = credentials_provider_with(&o, &ctx(&clock))
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(
        !creds.access_key_id().starts_with("ASIAIMDS"),
        "{}",
        creds.access_key_id()
    );
    assert!(creds.session_token().is_some());
    assert_eq!(
        fx.issued.load(Ordering::SeqCst),
        1,
        "the instance role signed AssumeRole"
    );
}

#[tokio::test]
async fn credentials_are_refreshed_before_they_expire() {
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V2, clock.clone()).await;
    let provider = scheme_provider_with(&ec2_opts(&fx.url), &ctx(&clock))
        .await
        .unwrap();
    assert_eq!(
        provider.credentials().await.unwrap().access_key_id(),
        "ASIAIMDS0001"
    );
    clock.advance(Duration::from_secs(50 * 60));
    assert_eq!(
        provider.credentials().await.unwrap().access_key_id(),
        "ASIAIMDS0001"
    );
    // 6 minutes left: inside the 5-minute margin? Not yet.
    clock.advance(Duration::from_secs(4 * 60));
    assert_eq!(
        provider.credentials().await.unwrap().access_key_id(),
        "ASIAIMDS0001"
    );
    // 4 minutes left: refreshed before expiry.
    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(
        provider.credentials().await.unwrap().access_key_id(),
        "ASIAIMDS0002"
    );
    assert_eq!(fx.issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn sdk_clients_sign_with_refreshed_credentials() {
    use axum::http::HeaderMap;
    use std::sync::{Arc, Mutex};
    // An STS stand-in that records which access key signed each request.
    let signers: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&signers);
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |headers: HeaderMap| {
            let seen = Arc::clone(&seen);
            async move {
                let auth = headers.get("authorization").unwrap().to_str().unwrap().to_string();
                let key = auth.split("Credential=").nth(1).unwrap().split('/').next().unwrap();
                seen.lock().unwrap().push(key.to_string());
                (
                    [("content-type", "text/xml")],
                    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/athena-ec2-role/i-1</Arn><UserId>AROA:i-1</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sts_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V2, clock.clone()).await;
    let conf = sdk_config_with(&ec2_opts(&fx.url), &ctx(&clock))
        .await
        .unwrap();
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&conf)
            .endpoint_url(&sts_url)
            .build(),
    );
    sts.get_caller_identity().send().await.unwrap();
    clock.advance(Duration::from_secs(30 * 60));
    sts.get_caller_identity().send().await.unwrap();
    clock.advance(Duration::from_secs(28 * 60));
    sts.get_caller_identity().send().await.unwrap();
    assert_eq!(
        *signers.lock().unwrap(),
        vec!["ASIAIMDS0001", "ASIAIMDS0001", "ASIAIMDS0002"]
    );
}
