//! AzureAD against a Microsoft identity platform fixture: authorization code with PKCE through
//! a real local callback (the "browser" is an HTTP client following the redirect), refresh with
//! the stored refresh token, on-behalf-of exchange for SAML, password grant, and failures.

use std::net::TcpListener;

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::{AuthContext, Error, credentials_provider_with};
use datafusion_athena_config::{AuthScheme, ConnectionOptions, Secret};

use crate::common;
use crate::common::azure::{self, CLIENT_ID, CLIENT_SECRET, RESOURCE, TENANT};
use crate::common::idp::{PASSWORD, USER};
use crate::common::{moto, opts, path_in, tempdir};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn azure_opts(authority: &str, sts: Option<&str>) -> ConnectionOptions {
    let mut o = opts(Some(AuthScheme::AzureAd), sts);
    o.auth.sso_login_url = Some(authority.to_string());
    o.auth.sso_properties.azure_tenant = Some(TENANT.into());
    o.auth.sso_properties.resource = Some(RESOURCE.into());
    o.auth.oauth_client_id = Some(CLIENT_ID.into());
    o.auth.oauth_client_secret = Some(Secret::new(CLIENT_SECRET));
    o.auth.callback_url = Some(format!("http://localhost:{}/callback", free_port()));
    o.auth.initiate_oauth = Some("GETANDREFRESH".into());
    o
}

/// A "browser" that follows the authorize redirect to the callback.
fn browser() -> AuthContext {
    AuthContext::new().with_browser(|url| {
        let url = url.to_string();
        tokio::spawn(async move {
            let _ = reqwest::get(url).await;
        });
    })
}

async fn assert_sts_credentials(o: &ConnectionOptions, ctx: &AuthContext) {
    let creds = credentials_provider_with(o, ctx)
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
    assert!(creds.session_token().is_some());
    let arn = common::caller_arn(o.endpoints.sts().unwrap(), creds).await;
    assert!(arn.contains(":assumed-role/AthenaAnalyst/"), "{arn}");
}

#[tokio::test]
async fn sign_in_then_reuse_the_stored_refresh_token() {
    let Some(sts) = moto() else { return };
    let (authority, az) = azure::start().await;
    let dir = tempdir();
    let store = path_in(&dir, "oauth.json");
    let mut o = azure_opts(&authority, Some(&sts));
    o.auth.oauth_settings_location = Some(store.clone());
    assert_sts_credentials(&o, &browser()).await;
    assert_eq!(*az.authorizations.lock().unwrap(), 1);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&store).unwrap()).unwrap();
    assert_eq!(stored["RefreshToken"], "rt-1");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&store).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A new connection refreshes instead of signing in (a browser that is never used).
    o.auth.initiate_oauth = Some("REFRESH".into());
    let no_browser = AuthContext::new().with_browser(|url| panic!("unexpected sign-in at {url}"));
    assert_sts_credentials(&o, &no_browser).await;
    assert_eq!(*az.refreshes.lock().unwrap(), vec!["rt-1".to_string()]);
    assert_eq!(*az.authorizations.lock().unwrap(), 1);
}

#[tokio::test]
async fn expired_refresh_token_with_refresh_only_is_refused() {
    let (authority, _az) = azure::start().await;
    let dir = tempdir();
    let store = path_in(&dir, "oauth.json");
    std::fs::write(&store, r#"{"RefreshToken":"revoked-token"}"#).unwrap();
    let mut o = azure_opts(&authority, None);
    o.auth.oauth_settings_location = Some(store);
    o.auth.initiate_oauth = Some("REFRESH".into());
    let err = credentials_provider_with(&o, &browser()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                scheme: "AzureAD",
                step: "refresh the user token",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("AADSTS700082"), "{err}");
}

#[tokio::test]
async fn password_grant_and_wrong_password() {
    let Some(sts) = moto() else { return };
    let (authority, _az) = azure::start().await;
    let mut o = azure_opts(&authority, Some(&sts));
    o.auth.initiate_oauth = None;
    o.auth.user = Some(USER.into());
    o.auth.password = Some(Secret::new(PASSWORD));
    assert_sts_credentials(&o, &AuthContext::new()).await;
    o.auth.password = Some(Secret::new("wrong"));
    let err = credentials_provider_with(&o, &AuthContext::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "AzureAD: password grant for a SAML assertion: refused: HTTP 400 invalid_grant: AADSTS50126: Error validating credentials due to invalid username or password."
    );
}

#[tokio::test]
async fn wrong_client_secret_and_missing_tenant() {
    let (authority, _az) = azure::start().await;
    let mut o = azure_opts(&authority, None);
    o.auth.oauth_client_secret = Some(Secret::new("not-the-secret"));
    let err = credentials_provider_with(&o, &browser()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                step: "redeem the authorization code",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("invalid_client"), "{err}");
    o.auth.sso_properties.azure_tenant = None;
    let err = credentials_provider_with(&o, &browser()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "AzureTenant",
                ..
            }
        ),
        "{err}"
    );
}
