//! DataZoneIdC against the Identity Center + DataZone fixture on 127.0.0.1: the "browser" is
//! an HTTP client that follows the authorize redirect to the local callback. Sign-in, token
//! reuse and refresh by an injected clock, and the failure answers (consent denied, a verifier
//! that does not match, an expired token, no access to the environment, missing options).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::{
    AuthContext, Error, ManualClock, credentials_provider_with, scheme_provider_with,
};
use datafusion_athena_config::{AuthScheme, ConnectionOptions};

use crate::common;
use crate::common::idc::{self, DOMAIN, ENVIRONMENT, EnvCreds, ISSUER};

fn env_creds(n: usize) -> Vec<EnvCreds> {
    (1..=n)
        .map(|i| EnvCreds {
            key: format!("ASIADZENV000000{i}"),
            secret: format!("datazone-env-secret-{i}"),
            token: format!("datazone-env-session-token-{i}"),
        })
        .collect()
}

fn dz_opts() -> ConnectionOptions {
    let mut o = common::opts(Some(AuthScheme::DataZoneIdc), None);
    o.auth.datazone.sso_start_url = Some(ISSUER.into());
    o.auth.datazone.domain_id = Some(DOMAIN.into());
    o.auth.datazone.environment_id = Some(ENVIRONMENT.into());
    o
}

/// A context aimed at the fixture whose browser follows the sign-in URL with `tamper` applied
/// (the URLs it was given are recorded).
fn browser_ctx(
    url: &str,
    clock: ManualClock,
    tamper: fn(String) -> String,
) -> (AuthContext, Arc<Mutex<Vec<String>>>) {
    let opened = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&opened);
    let ctx = AuthContext::new()
        .with_env([
            ("HOME", "/nonexistent"),
            ("AWS_ENDPOINT_URL_SSO_OIDC", url),
            ("AWS_ENDPOINT_URL_DATAZONE", url),
        ])
        .with_time_source(clock)
        .with_browser(move |u| {
            seen.lock().unwrap().push(u.to_string());
            let u = tamper(u.to_string());
            tokio::spawn(async move {
                let _ = reqwest::get(u).await;
            });
        });
    (ctx, opened)
}

fn as_is(u: String) -> String {
    u
}

#[tokio::test]
async fn sign_in_with_pkce_then_environment_credentials() {
    let clock = ManualClock::new(SystemTime::now());
    let fx = idc::start(clock.clone(), env_creds(1)).await;
    let (ctx, opened) = browser_ctx(&fx.url, clock, as_is);
    let provider = credentials_provider_with(&dz_opts(), &ctx).await.unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), "ASIADZENV0000001");
    assert_eq!(creds.secret_access_key(), "datazone-env-secret-1");
    assert_eq!(creds.session_token(), Some("datazone-env-session-token-1"));
    assert!(creds.expiry().is_some());

    let opened = opened.lock().unwrap().clone();
    assert_eq!(opened.len(), 1);
    let url = reqwest::Url::parse(&opened[0]).unwrap();
    assert_eq!(url.path(), "/authorize");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["scopes"], idc::SCOPE);
    let seen = fx.seen();
    assert!(seen.redirect_uris[0].starts_with("http://127.0.0.1:"));
    assert!(seen.redirect_uris[0].ends_with("/oauth/callback"));
    assert_eq!(q["redirect_uri"], seen.redirect_uris[0]);
    assert_eq!(
        (
            seen.registers,
            seen.authorizes,
            seen.code_grants,
            seen.redeems,
            seen.env_calls
        ),
        (1, 1, 1, 1, 1)
    );
}

/// The provider fetches again before expiry by the injected clock: first with the access
/// token it holds, then with the refresh token, and signs in in the browser again only when the
/// refresh token is refused.
#[tokio::test]
async fn refresh_reuses_the_token_then_the_refresh_token_then_signs_in_again() {
    let clock = ManualClock::new(SystemTime::now());
    let fx = idc::start(clock.clone(), env_creds(4)).await;
    let (ctx, opened) = browser_ctx(&fx.url, clock.clone(), as_is);
    let provider = scheme_provider_with(&dz_opts(), &ctx).await.unwrap();
    let key = |c: aws_credential_types::Credentials| c.access_key_id().to_string();
    assert_eq!(
        key(provider.credentials().await.unwrap()),
        "ASIADZENV0000001"
    );
    // Still fresh 50 minutes on: nothing is fetched.
    clock.advance(Duration::from_secs(50 * 60));
    assert_eq!(
        key(provider.credentials().await.unwrap()),
        "ASIADZENV0000001"
    );
    assert_eq!(fx.seen().env_calls, 1);

    // 56 minutes on: within the 5-minute margin; the access token (valid 60 minutes) is reused.
    clock.advance(Duration::from_secs(6 * 60));
    assert_eq!(
        key(provider.credentials().await.unwrap()),
        "ASIADZENV0000002"
    );
    {
        let s = fx.seen();
        assert_eq!((s.registers, s.code_grants, s.refresh_grants), (1, 1, 0));
        assert_eq!((s.redeems, s.env_calls), (2, 2));
    }

    // Two hours later the access token has expired: the refresh token gets a new one.
    clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(
        key(provider.credentials().await.unwrap()),
        "ASIADZENV0000003"
    );
    {
        let s = fx.seen();
        assert_eq!((s.registers, s.code_grants, s.refresh_grants), (1, 1, 1));
    }
    assert_eq!(opened.lock().unwrap().len(), 1, "no second browser sign-in");

    // The refresh token is revoked: a new browser sign-in.
    fx.seen().revoke_refresh_tokens = true;
    clock.advance(Duration::from_secs(2 * 3600));
    assert_eq!(
        key(provider.credentials().await.unwrap()),
        "ASIADZENV0000004"
    );
    let s = fx.seen();
    assert_eq!((s.registers, s.code_grants, s.refresh_grants), (2, 2, 2));
    assert_eq!(opened.lock().unwrap().len(), 2);
}

async fn login_error(fx: &idc::Idc, tamper: fn(String) -> String, o: &ConnectionOptions) -> Error {
    let clock = ManualClock::new(SystemTime::now());
    let (ctx, _) = browser_ctx(&fx.url, clock, tamper);
    credentials_provider_with(o, &ctx).await.unwrap_err()
}

#[tokio::test]
async fn denied_consent_is_refused_at_the_callback() {
    let fx = idc::start(ManualClock::new(SystemTime::now()), env_creds(1)).await;
    fx.seen().deny_consent = true;
    let err = login_error(&fx, as_is, &dz_opts()).await;
    assert_eq!(
        err.to_string(),
        "DataZoneIdC: wait for the sign-in callback: refused: access_denied: The user denied the request"
    );
    assert_eq!(fx.seen().code_grants, 0);
}

/// The challenge is altered on its way through the browser: the code comes back, but
/// CreateToken refuses our verifier for it.
#[tokio::test]
async fn verifier_not_matching_the_challenge_is_refused() {
    let fx = idc::start(ManualClock::new(SystemTime::now()), env_creds(1)).await;
    let tamper = |u: String| {
        let mut url = reqwest::Url::parse(&u).unwrap();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .map(|(k, v)| {
                if k == "code_challenge" {
                    (k, "A".repeat(43))
                } else {
                    (k, v)
                }
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        url.to_string()
    };
    let err = login_error(&fx, tamper, &dz_opts()).await;
    assert_eq!(
        err.to_string(),
        "DataZoneIdC: SSO OIDC CreateToken (authorization code): refused: HTTP 400 InvalidGrantException: Code verifier does not match the code challenge"
    );
    assert_eq!(fx.seen().redeems, 0);
}

#[tokio::test]
async fn expired_access_token_is_refused_by_datazone() {
    let fx = idc::start(ManualClock::new(SystemTime::now()), env_creds(1)).await;
    fx.seen().issue_expired_tokens = true;
    let err = login_error(&fx, as_is, &dz_opts()).await;
    assert_eq!(
        err.to_string(),
        "DataZoneIdC: DataZone redeem-token: refused: HTTP 401 ExpiredTokenException: The access token has expired"
    );
    assert!(matches!(err, Error::Rejected { .. }));
}

#[tokio::test]
async fn no_access_to_the_environment_and_unknown_domain() {
    let fx = idc::start(ManualClock::new(SystemTime::now()), env_creds(1)).await;
    fx.seen().no_environment_access = true;
    let err = login_error(&fx, as_is, &dz_opts()).await;
    assert_eq!(
        err.to_string(),
        "DataZoneIdC: DataZone GetEnvironmentCredentials: refused: HTTP 403 AccessDeniedException: User is not a member of the environment's project"
    );
    fx.seen().no_environment_access = false;
    let mut o = dz_opts();
    o.auth.datazone.domain_id = Some("dzd_other".into());
    let err = login_error(&fx, as_is, &o).await;
    assert_eq!(
        err.to_string(),
        "DataZoneIdC: DataZone redeem-token: refused: HTTP 404 ResourceNotFoundException: Domain not found"
    );
    let mut o = dz_opts();
    o.auth.datazone.sso_start_url = Some("https://d-0000000000.awsapps.com/start".into());
    let err = login_error(&fx, as_is, &o).await;
    assert_eq!(
        err.to_string(),
        "DataZoneIdC: SSO OIDC RegisterClient: refused: HTTP 400 InvalidRequestException: Invalid issuer URL"
    );
}

#[tokio::test]
async fn missing_options_are_named() {
    let ctx = AuthContext::new().with_env([("HOME", "/nonexistent")]);
    type Change = fn(&mut ConnectionOptions);
    let cases: [(Change, &str); 4] = [
        (|o| o.auth.datazone.sso_start_url = None, "SSOStartURL"),
        (|o| o.auth.datazone.domain_id = None, "DataZoneDomainId"),
        (
            |o| o.auth.datazone.environment_id = Some(" ".into()),
            "DataZoneEnvironmentId",
        ),
        (
            |o| {
                o.region = None;
            },
            "DataZoneRegion",
        ),
    ];
    for (change, option) in cases {
        let mut o = dz_opts();
        change(&mut o);
        let err = scheme_provider_with(&o, &ctx).await.unwrap_err();
        assert!(
            matches!(&err, Error::MissingOption { option: got, scheme: "DataZoneIdC", .. } if *got == option),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("DataZoneIdC: {option} is required: ")),
            "{err}"
        );
    }
    let mut o = dz_opts();
    o.auth.datazone.sso_region = Some("Atlantis".into());
    let err = scheme_provider_with(&o, &ctx)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("DataZoneIdC: SSORegion is invalid: "),
        "{err}"
    );
}
