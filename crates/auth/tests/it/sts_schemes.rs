//! STS-backed schemes against moto's STS on 127.0.0.1: AwsMFA (with its CredentialsLocation
//! cache), AwsIAMRoles (external id, MFA) and AwsWebIdentity (inline token, environment file).

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::{
    AuthContext, Error, ManualClock, credentials_provider, credentials_provider_with,
    scheme_provider_with,
};
use datafusion_athena_config::{AuthScheme, Secret};

use crate::common;
use crate::common::{ACCESS_KEY, moto, opts, path_in, tempdir, with_keys};

const ROLE: &str = "arn:aws:iam::123456789012:role/athena-reader";
const MFA_DEVICE: &str = "arn:aws:iam::123456789012:mfa/alice";

fn mfa_opts(
    sts: &str,
    cache: Option<std::path::PathBuf>,
) -> datafusion_athena_config::ConnectionOptions {
    let mut o = with_keys(opts(Some(AuthScheme::AwsMfa), Some(sts)));
    o.auth.mfa_serial_number = Some(MFA_DEVICE.into());
    o.auth.mfa_token = Some(Secret::new("123456"));
    o.auth.temporary_token_duration = 900;
    o.auth.credentials_location = cache;
    o
}

#[tokio::test]
async fn mfa_gets_a_session_token_and_caches_it_with_mode_0600() {
    let Some(sts) = moto() else { return };
    let dir = tempdir();
    let cache = path_in(&dir, "sub/creds.json");
    let o = mfa_opts(&sts, Some(cache.clone()));
    let creds = credentials_provider(&o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_ne!(creds.access_key_id(), ACCESS_KEY);
    assert!(creds.session_token().is_some_and(|t| !t.is_empty()));
    let left = creds
        .expiry()
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(800) && left <= Duration::from_secs(900),
        "{left:?}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(json["AccessKeyId"], creds.access_key_id());
    assert_eq!(json["SessionToken"], creds.session_token().unwrap());
    assert!(json["Expiration"].as_str().unwrap().contains('T'));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A later connection with the same options reuses the file: STS is not even reachable.
    let o2 = mfa_opts("http://127.0.0.1:9", Some(cache.clone()));
    let again = credentials_provider(&o2)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(again.access_key_id(), creds.access_key_id());
    assert_eq!(again.session_token(), creds.session_token());
}

#[tokio::test]
async fn mfa_cache_for_another_device_or_expired_is_not_reused() {
    let Some(sts) = moto() else { return };
    let dir = tempdir();
    let cache = path_in(&dir, "creds.json");
    credentials_provider(&mfa_opts(&sts, Some(cache.clone())))
        .await
        .unwrap();

    let mut other = mfa_opts("http://127.0.0.1:9", Some(cache.clone()));
    other.auth.mfa_serial_number = Some("arn:aws:iam::123456789012:mfa/bob".into());
    let err = credentials_provider(&other).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Call {
                step: "STS GetSessionToken",
                ..
            }
        ),
        "{err}"
    );

    let clock = ManualClock::new(SystemTime::now() + Duration::from_secs(3600));
    let ctx = AuthContext::new().with_time_source(clock);
    let err = credentials_provider_with(&mfa_opts("http://127.0.0.1:9", Some(cache)), &ctx)
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("AwsMFA: STS GetSessionToken: "),
        "{err}"
    );
}

#[tokio::test]
async fn mfa_code_is_used_once_then_expiry_asks_for_a_new_one() {
    let Some(sts) = moto() else { return };
    let clock = ManualClock::new(SystemTime::now());
    let ctx = AuthContext::new().with_time_source(clock.clone());
    let provider = scheme_provider_with(&mfa_opts(&sts, None), &ctx)
        .await
        .unwrap();
    let first = provider.credentials().await.unwrap();
    // Still valid: the same credentials, no second STS call.
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        provider.credentials().await.unwrap().session_token(),
        first.session_token()
    );
    clock.advance(Duration::from_secs(900));
    let err = provider.credentials().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                scheme: "AwsMFA",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("connect again with a new MFAToken"),
        "{err}"
    );
}

#[tokio::test]
async fn mfa_without_device_or_code_names_the_property() {
    let mut o = mfa_opts("http://127.0.0.1:9", None);
    o.auth.mfa_token = None;
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                scheme: "AwsMFA",
                option: "MFAToken",
                ..
            }
        ),
        "{err}"
    );
    o.auth.mfa_serial_number = None;
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "MFASerialNumber",
                ..
            }
        ),
        "{err}"
    );
    let mut o = mfa_opts("http://127.0.0.1:9", None);
    o.auth.temporary_token_duration = 60;
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                option: "TemporaryTokenDuration",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn iam_role_is_assumed_with_keys_and_external_id() {
    let Some(sts) = moto() else { return };
    let mut o = with_keys(opts(Some(AuthScheme::AwsIamRoles), Some(&sts)));
    o.auth.role_arn = Some(ROLE.into());
    o.auth.external_id = Some("partner-42".into());
    let creds = credentials_provider(&o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_ne!(creds.access_key_id(), ACCESS_KEY);
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    assert!(creds.session_token().is_some());
    assert!(creds.expiry().is_some());
    let arn = common::caller_arn(&sts, creds).await;
    assert!(
        arn.contains(":assumed-role/athena-reader/datafusion-athena-"),
        "{arn}"
    );
}

#[tokio::test]
async fn iam_role_with_mfa_is_cached_like_aws_mfa() {
    let Some(sts) = moto() else { return };
    let dir = tempdir();
    let cache = path_in(&dir, "role.json");
    let mut o = with_keys(opts(Some(AuthScheme::AwsIamRoles), Some(&sts)));
    o.auth.role_arn = Some(ROLE.into());
    o.auth.mfa_serial_number = Some(MFA_DEVICE.into());
    o.auth.mfa_token = Some(Secret::new("654321"));
    o.auth.credentials_location = Some(cache.clone());
    let creds = credentials_provider(&o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(cache.is_file());
    o.endpoints.sts = Some("http://127.0.0.1:9".into());
    let again = credentials_provider(&o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(again.access_key_id(), creds.access_key_id());
}

#[tokio::test]
async fn iam_role_errors_name_role_and_step() {
    let mut o = with_keys(opts(
        Some(AuthScheme::AwsIamRoles),
        Some("http://127.0.0.1:9"),
    ));
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AWSRoleARN",
                ..
            }
        ),
        "{err}"
    );
    o.auth.role_arn = Some("athena-reader".into());
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                option: "AWSRoleARN",
                ..
            }
        ),
        "{err}"
    );
    o.auth.role_arn = Some(ROLE.into());
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        err.to_string().starts_with("AwsIAMRoles: STS AssumeRole: "),
        "{err}"
    );
}

#[tokio::test]
async fn web_identity_with_inline_token() {
    let Some(sts) = moto() else { return };
    let mut o = opts(Some(AuthScheme::AwsWebIdentity), Some(&sts));
    o.auth.role_arn = Some(ROLE.into());
    o.auth.web_identity_token = Some(Secret::new(
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln",
    ));
    let ctx = AuthContext::new().with_env([("HOME", "/nonexistent")]);
    let creds = credentials_provider_with(&o, &ctx)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(creds.session_token().is_some());
    assert!(creds.expiry().is_some());
    let arn = common::caller_arn(&sts, creds).await;
    assert!(arn.contains(":assumed-role/athena-reader/"), "{arn}");
}

#[tokio::test]
async fn web_identity_from_the_environment_rereads_the_token_file() {
    let Some(sts) = moto() else { return };
    let dir = tempdir();
    let token = path_in(&dir, "token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln\n").unwrap();
    let o = opts(Some(AuthScheme::AwsWebIdentity), Some(&sts));
    let clock = ManualClock::new(SystemTime::now());
    let ctx = AuthContext::new()
        .with_time_source(clock.clone())
        .with_env([
            ("AWS_ROLE_ARN", ROLE),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
            ("AWS_ROLE_SESSION_NAME", "pod-7"),
        ]);
    let provider = scheme_provider_with(&o, &ctx).await.unwrap();
    let first = provider.credentials().await.unwrap();
    // The rotated token is read on refresh: an empty file now fails, proving the re-read.
    std::fs::write(&token, "").unwrap();
    clock.advance(Duration::from_secs(3600));
    let err = provider.credentials().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                option: "AWS_WEB_IDENTITY_TOKEN_FILE",
                ..
            }
        ),
        "{err}"
    );
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2ln").unwrap();
    let second = provider.credentials().await.unwrap();
    assert_ne!(first.access_key_id(), second.access_key_id());
}

#[tokio::test]
async fn web_identity_without_role_or_token_says_what_to_set() {
    let o = opts(Some(AuthScheme::AwsWebIdentity), None);
    let ctx = AuthContext::new().with_env([("HOME", "/nonexistent")]);
    let err = credentials_provider_with(&o, &ctx).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AWSRoleARN",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("AWS_WEB_IDENTITY_TOKEN_FILE"),
        "{err}"
    );
    let ctx = AuthContext::new().with_env([("AWS_ROLE_ARN", ROLE)]);
    let err = credentials_provider_with(&o, &ctx).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AWSWebIdentityToken",
                ..
            }
        ),
        "{err}"
    );
}
