//! AwsCredentialsFile: profiles from a given file, role chains through moto's STS, and
//! `credential_source = Ec2InstanceMetadata` through our IMDS (with IMDSv1 fallback).

use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::{AuthContext, Error, ManualClock, credentials_provider_with};
use datafusion_athena_config::{AuthScheme, ConnectionOptions};

use crate::common::imds::{self, Mode};
use crate::common::{moto, opts, path_in, tempdir};

const FILE: &str = "\
[default]
aws_access_key_id = AKIADEFAULTPROFILE01
aws_secret_access_key = default-profile-secret

[dev]
aws_access_key_id = AKIADEVPROFILE000001
aws_secret_access_key = dev-profile-secret
aws_session_token = dev-profile-token

[analyst]
role_arn = arn:aws:iam::123456789012:role/analyst
source_profile = dev
external_id = ext-1

[on-ec2]
role_arn = arn:aws:iam::123456789012:role/from-instance
credential_source = Ec2InstanceMetadata
";

fn file_opts(
    dir: &tempfile::TempDir,
    profile: Option<&str>,
    sts: Option<&str>,
) -> ConnectionOptions {
    let path = path_in(dir, "credentials");
    std::fs::write(&path, FILE).unwrap();
    let mut o = opts(Some(AuthScheme::AwsCredentialsFile), sts);
    o.auth.credentials_file = Some(path);
    o.auth.credentials_file_profile = profile.map(str::to_string);
    o
}

fn ctx() -> AuthContext {
    AuthContext::new().with_env([("HOME", "/nonexistent")])
}

#[tokio::test]
async fn named_and_default_profiles_from_a_given_file() {
    let dir = tempdir();
    let p = credentials_provider_with(&file_opts(&dir, Some("dev"), None), &ctx())
        .await
        .unwrap();
    let creds = p.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "AKIADEVPROFILE000001");
    assert_eq!(creds.session_token(), Some("dev-profile-token"));
    let p = credentials_provider_with(&file_opts(&dir, None, None), &ctx())
        .await
        .unwrap();
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "AKIADEFAULTPROFILE01"
    );
}

#[tokio::test]
async fn role_chain_assumes_the_role_through_sts_endpoint() {
    let Some(sts) = moto() else { return };
    let dir = tempdir();
    let o = file_opts(&dir, Some("analyst"), Some(&sts));
    let creds = credentials_provider_with(&o, &ctx())
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    assert_ne!(creds.access_key_id(), "AKIADEVPROFILE000001");
    assert!(creds.expiry().is_some());
}

#[tokio::test]
async fn credential_source_ec2_uses_imds_with_v1_fallback() {
    let Some(sts) = moto() else { return };
    let dir = tempdir();
    let clock = ManualClock::new(SystemTime::now());
    let fx = imds::start(Mode::V1Only(403), clock.clone()).await;
    let mut o = file_opts(&dir, Some("on-ec2"), Some(&sts));
    o.endpoints.imds = Some(fx.url.clone());
    let creds = credentials_provider_with(&o, &ctx())
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert!(!creds.access_key_id().starts_with("ASIAIMDS"));
    assert_eq!(fx.issued.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unknown_profile_and_missing_file_are_named() {
    let dir = tempdir();
    let err = credentials_provider_with(&file_opts(&dir, Some("nope"), None), &ctx())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Call {
                scheme: "AwsCredentialsFile",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("'nope'"), "{err}");
    let mut o = file_opts(&dir, None, None);
    o.auth.credentials_file = Some(path_in(&dir, "missing"));
    let err = credentials_provider_with(&o, &ctx()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                option: "AWSCredentialsFile",
                ..
            }
        ),
        "{err}"
    );
}
