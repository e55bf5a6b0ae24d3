//! A Microsoft identity platform fixture on 127.0.0.1 (axum): authorize (redirects to the
//! callback with a code), v2 token (authorization code with PKCE, refresh), v1 token
//! (on-behalf-of and password grants issuing a base64url SAML assertion).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::idp::{PASSWORD, ROLE_A, USER, assertion};

pub(crate) const TENANT: &str = "corp.onmicrosoft.com";
pub(crate) const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub(crate) const CLIENT_SECRET: &str = "azure-client-secret-value";
pub(crate) const RESOURCE: &str = "https://signin.aws.amazon.com/saml";

#[derive(Clone, Default)]
pub(crate) struct Azure {
    /// code -> PKCE challenge.
    challenges: Arc<Mutex<HashMap<String, String>>>,
    pub(crate) authorizations: Arc<Mutex<usize>>,
    pub(crate) refreshes: Arc<Mutex<Vec<String>>>,
}

pub(crate) async fn start() -> (String, Azure) {
    let az = Azure::default();
    let app = Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/oauth2/v2.0/token", post(token_v2))
        .route("/{tenant}/oauth2/token", post(token_v1))
        .with_state(az.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, az)
}

fn oauth_error(code: &str, desc: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": code, "error_description": desc})),
    )
        .into_response()
}

async fn authorize(
    State(az): State<Azure>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ok = tenant == TENANT
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("response_type").map(String::as_str) == Some("code")
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("scope").is_some_and(|s| s.contains("offline_access"));
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    let state = q.get("state").cloned().unwrap_or_default();
    if !ok {
        return Redirect::to(&format!(
            "{redirect}?error=invalid_request&error_description=bad+authorize+request&state={state}"
        ))
        .into_response();
    }
    let mut n = az.authorizations.lock().unwrap();
    *n += 1;
    let code = format!("authcode-{n}");
    az.challenges
        .lock()
        .unwrap()
        .insert(code.clone(), q["code_challenge"].clone());
    Redirect::to(&format!("{redirect}?code={code}&state={state}")).into_response()
}

async fn token_v2(State(az): State<Azure>, Form(f): Form<HashMap<String, String>>) -> Response {
    if f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET) {
        return oauth_error(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = f.get("code").cloned().unwrap_or_default();
            let Some(challenge) = az.challenges.lock().unwrap().remove(&code) else {
                return oauth_error(
                    "invalid_grant",
                    "AADSTS70008: The provided authorization code has expired.",
                );
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
                return oauth_error(
                    "invalid_grant",
                    "AADSTS501481: The Code_Verifier does not match the code_challenge.",
                );
            }
            axum::Json(json!({"token_type": "Bearer", "access_token": format!("user-at-{code}"), "refresh_token": "rt-1", "expires_in": 3600})).into_response()
        }
        Some("refresh_token") => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            az.refreshes.lock().unwrap().push(rt.clone());
            if !rt.starts_with("rt-") {
                return oauth_error(
                    "invalid_grant",
                    "AADSTS700082: The refresh token has expired due to inactivity.",
                );
            }
            axum::Json(json!({"token_type": "Bearer", "access_token": format!("user-at-{rt}"), "refresh_token": format!("{rt}x"), "expires_in": 3600})).into_response()
        }
        _ => oauth_error("unsupported_grant_type", "unknown grant"),
    }
}

fn saml_token() -> Response {
    let token = URL_SAFE_NO_PAD.encode(assertion(&[ROLE_A], true));
    axum::Json(json!({"token_type": "Bearer", "issued_token_type": "urn:ietf:params:oauth:token-type:saml2", "access_token": token, "expires_in": "3599"})).into_response()
}

async fn token_v1(Form(f): Form<HashMap<String, String>>) -> Response {
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || f.get("requested_token_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:token-type:saml2")
        || f.get("resource").map(String::as_str) != Some(RESOURCE)
    {
        return oauth_error(
            "invalid_request",
            "AADSTS900144: missing or wrong parameter",
        );
    }
    match f.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let ok = f.get("requested_token_use").map(String::as_str) == Some("on_behalf_of")
                && f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
                && f.get("assertion")
                    .is_some_and(|a| a.starts_with("user-at-"));
            if ok {
                saml_token()
            } else {
                oauth_error(
                    "invalid_grant",
                    "AADSTS50013: Assertion failed signature validation.",
                )
            }
        }
        Some("password") => {
            if f.get("username").map(String::as_str) == Some(USER)
                && f.get("password").map(String::as_str) == Some(PASSWORD)
            {
                saml_token()
            } else {
                oauth_error(
                    "invalid_grant",
                    "AADSTS50126: Error validating credentials due to invalid username or password.\r\nTrace ID: 1",
                )
            }
        }
        _ => oauth_error("unsupported_grant_type", "unknown grant"),
    }
}
