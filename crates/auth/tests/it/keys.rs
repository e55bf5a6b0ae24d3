//! Static keys, temporary credentials, the default chain selection and the SdkConfig seam.

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::{Error, credentials_provider, scheme_name, sdk_config};
use datafusion_athena_config::{AuthScheme, Secret};

use crate::common::{ACCESS_KEY, SECRET_KEY, opts, with_keys};

#[tokio::test]
async fn iam_user_keys_sign_as_given() {
    for scheme in [
        None,
        Some(AuthScheme::AwsIamKeys),
        Some(AuthScheme::AwsRootKeys),
    ] {
        let o = with_keys(opts(scheme, None));
        let creds = credentials_provider(&o)
            .await
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(creds.access_key_id(), ACCESS_KEY);
        assert_eq!(creds.secret_access_key(), SECRET_KEY);
        assert_eq!(creds.session_token(), None);
        assert_eq!(creds.expiry(), None);
    }
}

#[tokio::test]
async fn session_token_makes_temporary_credentials() {
    let mut o = with_keys(opts(None, None));
    o.auth.session_token = Some(Secret::new("FwoGZXIvYXdzEtemporary-token"));
    assert_eq!(scheme_name(&o), "AwsTempCredentials");
    let creds = credentials_provider(&o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.session_token(), Some("FwoGZXIvYXdzEtemporary-token"));

    o.auth.scheme = Some(AuthScheme::AwsTempCredentials);
    let creds = credentials_provider(&o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), ACCESS_KEY);
    assert_eq!(creds.session_token(), Some("FwoGZXIvYXdzEtemporary-token"));
}

#[tokio::test]
async fn temp_credentials_without_token_name_the_missing_property() {
    let o = with_keys(opts(Some(AuthScheme::AwsTempCredentials), None));
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AWSSessionToken",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("AwsTempCredentials: AWSSessionToken is required"),
        "{err}"
    );
}

#[tokio::test]
async fn keys_scheme_without_secret_is_an_error() {
    let mut o = opts(Some(AuthScheme::AwsIamKeys), None);
    o.auth.access_key = Some(ACCESS_KEY.into());
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AWSSecretKey",
                ..
            }
        ),
        "{err}"
    );
    let o = opts(Some(AuthScheme::AwsRootKeys), None);
    let err = credentials_provider(&o).await.unwrap_err();
    assert_eq!(err.scheme(), "AwsRootKeys");
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AWSAccessKey",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn sdk_config_carries_region_and_credentials_but_no_endpoint() {
    let mut o = with_keys(opts(None, None));
    o.endpoints.all = Some("http://127.0.0.1:9".into());
    let conf = sdk_config(&o).await.unwrap();
    assert_eq!(conf.region().map(|r| r.as_ref()), Some("eu-west-1"));
    let creds = conf
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), ACCESS_KEY);
    assert_ne!(conf.endpoint_url(), Some("http://127.0.0.1:9"));
}

#[tokio::test]
async fn no_scheme_and_no_keys_selects_the_default_chain() {
    let o = opts(None, None);
    assert_eq!(scheme_name(&o), "Default");
    let o2 = opts(Some(AuthScheme::Default), None);
    assert_eq!(scheme_name(&o2), "Default");
    // Building the chain needs nothing; what it resolves to depends on the machine, so
    // default_chain.rs checks resolution in a process with a known environment.
    credentials_provider(&o).await.unwrap();
    credentials_provider(&o2).await.unwrap();
}
