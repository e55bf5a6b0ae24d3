//! AwsCognitoBasic against moto's Cognito user pool and identity pool on 127.0.0.1.

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::{Error, credentials_provider};
use datafusion_athena_config::{AuthScheme, ConnectionOptions, Secret};
use serde_json::{Value, json};

use crate::common::{ministack, moto, opts};

const PASSWORD: &str = "Corr3ct-Horse!";

async fn call(url: &str, target: &str, body: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{target}: {}", resp.status());
    resp.json().await.unwrap()
}

/// A user pool with an app client (with secret), a user with a permanent password and an
/// identity pool; returns options for it.
async fn setup(url: &str, user: &str) -> ConnectionOptions {
    setup_with(url, user, "USER_PASSWORD_AUTH", AuthScheme::AwsCognitoBasic).await
}

async fn setup_with(url: &str, user: &str, flow: &str, scheme: AuthScheme) -> ConnectionOptions {
    let idp = "AWSCognitoIdentityProviderService";
    let pool = call(
        url,
        &format!("{idp}.CreateUserPool"),
        json!({"PoolName": "athena-users"}),
    )
    .await;
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_string();
    let client = call(
        url,
        &format!("{idp}.CreateUserPoolClient"),
        json!({"UserPoolId": pool_id, "ClientName": "athena", "GenerateSecret": true, "ExplicitAuthFlows": [flow]}),
    )
    .await;
    call(
        url,
        &format!("{idp}.AdminCreateUser"),
        json!({"UserPoolId": pool_id, "Username": user}),
    )
    .await;
    call(
        url,
        &format!("{idp}.AdminSetUserPassword"),
        json!({"UserPoolId": pool_id, "Username": user, "Password": PASSWORD, "Permanent": true}),
    )
    .await;
    let ip = call(
        url,
        "AWSCognitoIdentityService.CreateIdentityPool",
        json!({"IdentityPoolName": "athena_identities", "AllowUnauthenticatedIdentities": false}),
    )
    .await;
    let mut o = opts(Some(scheme), None);
    o.endpoints.all = Some(url.to_string());
    o.auth.user = Some(user.to_string());
    o.auth.password = Some(Secret::new(PASSWORD));
    o.auth.cognito.user_pool_id = Some(pool_id);
    o.auth.cognito.user_pool_client_app_id = Some(
        client["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .into(),
    );
    o.auth.cognito.user_pool_client_app_secret = Some(Secret::new(
        client["UserPoolClient"]["ClientSecret"].as_str().unwrap(),
    ));
    o.auth.cognito.identity_pool_id = Some(ip["IdentityPoolId"].as_str().unwrap().into());
    o
}

#[tokio::test]
async fn user_pool_password_then_identity_pool_credentials() {
    let Some(url) = moto() else { return };
    let o = setup(&url, "carol").await;
    let creds = credentials_provider(&o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(!creds.access_key_id().is_empty());
    assert!(!creds.secret_access_key().is_empty());
    assert!(creds.session_token().is_some());
    assert!(
        creds
            .expiry()
            .is_some_and(|e| e > std::time::SystemTime::now())
    );
}

#[tokio::test]
async fn wrong_password_is_refused_by_the_user_pool() {
    let Some(url) = moto() else { return };
    let mut o = setup(&url, "dave").await;
    o.auth.password = Some(Secret::new("Wr0ng-password!"));
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                scheme: "AwsCognitoBasic",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "AwsCognitoBasic: user pool InitiateAuth (USER_PASSWORD_AUTH): refused: NotAuthorizedException: Incorrect username or password."
    );
}

#[tokio::test]
async fn missing_pool_settings_are_named() {
    let mut o = opts(Some(AuthScheme::AwsCognitoBasic), None);
    o.auth.user = Some("x".into());
    o.auth.password = Some(Secret::new("y"));
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AWSUserPoolId",
                ..
            }
        ),
        "{err}"
    );
    o.auth.scheme = Some(AuthScheme::AwsCognitoSrp);
    let err = credentials_provider(&o).await.unwrap_err();
    assert_eq!(err.scheme(), "AwsCognitoSrp");
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AWSUserPoolId",
                ..
            }
        ),
        "{err}"
    );
}

/// SRP against MiniStack, which checks PASSWORD_CLAIM_SIGNATURE for real (moto does not).
#[tokio::test]
async fn srp_sign_in_is_verified_by_the_user_pool() {
    let Some(url) = ministack() else { return };
    let mut o = setup_with(
        &url,
        "erin",
        "ALLOW_USER_SRP_AUTH",
        AuthScheme::AwsCognitoSrp,
    )
    .await;
    let creds = credentials_provider(&o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(creds.session_token().is_some());
    assert!(creds.expiry().is_some());
    o.auth.password = Some(Secret::new("Wr0ng-password!"));
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(err, Error::Rejected { scheme: "AwsCognitoSrp", step, .. } if step.contains("PASSWORD_VERIFIER")),
        "{err}"
    );
}
