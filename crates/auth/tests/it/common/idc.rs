//! IAM Identity Center (SSO OIDC) and DataZone on 127.0.0.1 (axum), speaking their JSON APIs:
//! `POST /client/register`, `GET /authorize` (redirects the browser to the registered loopback
//! callback with a code, or with `error=access_denied`), `POST /token` (authorization code with
//! PKCE S256 check, refresh token), DataZone `POST /sso/redeem-token` and
//! `GET /v2/domains/{d}/environments/{e}/credentials` (SigV4 checked with the redeemed domain
//! credentials). Errors in the AWS JSON shape (`x-amzn-errortype` header + message).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_smithy_async::time::TimeSource;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use datafusion_athena_auth::ManualClock;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub(crate) const ISSUER: &str = "https://d-9067example.awsapps.com/start";
pub(crate) const DOMAIN: &str = "dzd_4p9n6example";
pub(crate) const ENVIRONMENT: &str = "6f6mvexample";
pub(crate) const SCOPE: &str = "datazone:domain:access";
pub(crate) const DOMAIN_KEY: &str = "ASIADZDOMAIN00000001";
pub(crate) const DOMAIN_SECRET: &str = "datazone-domain-role-secret";
pub(crate) const DOMAIN_TOKEN: &str = "datazone-domain-role-session-token";

/// The environment credentials the fixture hands out, in order (the last one repeats).
#[derive(Clone, Debug)]
pub(crate) struct EnvCreds {
    pub(crate) key: String,
    pub(crate) secret: String,
    pub(crate) token: String,
}

/// What the fixture has seen, and knobs for failure answers.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) registers: usize,
    pub(crate) authorizes: usize,
    pub(crate) code_grants: usize,
    pub(crate) refresh_grants: usize,
    pub(crate) redeems: usize,
    pub(crate) env_calls: usize,
    /// Environment credentials handed out.
    pub(crate) env_issued: usize,
    pub(crate) redirect_uris: Vec<String>,
    /// Consent is refused at /authorize.
    pub(crate) deny_consent: bool,
    /// Access tokens are issued already expired (DataZone refuses them).
    pub(crate) issue_expired_tokens: bool,
    /// Refresh tokens are refused.
    pub(crate) revoke_refresh_tokens: bool,
    /// The user has no access to the environment.
    pub(crate) no_environment_access: bool,
}

struct Client {
    secret: String,
    redirect_uri: String,
}

struct Code {
    client_id: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Clone)]
struct Fx {
    base: String,
    clock: ManualClock,
    seen: Arc<Mutex<Seen>>,
    clients: Arc<Mutex<HashMap<String, Client>>>,
    codes: Arc<Mutex<HashMap<String, Code>>>,
    /// access token -> expiry
    access: Arc<Mutex<HashMap<String, SystemTime>>>,
    refresh: Arc<Mutex<Vec<String>>>,
    env: Arc<Vec<EnvCreds>>,
}

/// A running fixture.
pub(crate) struct Idc {
    /// Base URL of both services.
    pub(crate) url: String,
    pub(crate) seen: Arc<Mutex<Seen>>,
}

impl Idc {
    pub(crate) fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }
}

/// Starts the fixture; `env` are the environment credentials it hands out, dated by `clock`
/// (valid one hour).
pub(crate) async fn start(clock: ManualClock, env: Vec<EnvCreds>) -> Idc {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let fx = Fx {
        base: url.clone(),
        clock,
        seen: Arc::default(),
        clients: Arc::default(),
        codes: Arc::default(),
        access: Arc::default(),
        refresh: Arc::default(),
        env: Arc::new(env),
    };
    let seen = Arc::clone(&fx.seen);
    let app = Router::new()
        .route("/client/register", post(register))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/sso/redeem-token", post(redeem))
        .route(
            "/v2/domains/{domain}/environments/{env}/credentials",
            get(env_credentials),
        )
        .with_state(fx);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Idc { url, seen }
}

fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [(
            "x-amzn-errortype",
            format!("{kind}:http://internal.amazon.com/"),
        )],
        axum::Json(json!({ "message": message })),
    )
        .into_response()
}

fn oidc_error(kind: &str, error: &str, desc: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [("x-amzn-errortype", kind.to_string())],
        axum::Json(json!({ "error": error, "error_description": desc })),
    )
        .into_response()
}

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

async fn register(State(fx): State<Fx>, axum::Json(b): axum::Json<Value>) -> Response {
    fx.seen.lock().unwrap().registers += 1;
    let grants: Vec<&str> = b["grantTypes"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let redirects: Vec<&str> = b["redirectUris"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let loopback = redirects.len() == 1 && redirects[0].starts_with("http://127.0.0.1:");
    if b["clientType"] != "public"
        || !grants.contains(&"authorization_code")
        || !loopback
        || b["scopes"] != json!([SCOPE])
        || b["clientName"].as_str().is_none_or(str::is_empty)
    {
        return oidc_error(
            "InvalidRequestException",
            "invalid_request",
            "bad client registration",
        );
    }
    if b["issuerUrl"] != ISSUER {
        return oidc_error(
            "InvalidRequestException",
            "invalid_request",
            "Invalid issuer URL",
        );
    }
    let n = fx.clients.lock().unwrap().len() + 1;
    let id = format!("idc-client-{n}");
    let secret = format!("idc-client-secret-{n}");
    fx.clients.lock().unwrap().insert(
        id.clone(),
        Client {
            secret: secret.clone(),
            redirect_uri: redirects[0].to_string(),
        },
    );
    fx.seen
        .lock()
        .unwrap()
        .redirect_uris
        .push(redirects[0].to_string());
    axum::Json(json!({
        "clientId": id,
        "clientSecret": secret,
        "clientIdIssuedAt": 1_700_000_000,
        "clientSecretExpiresAt": 1_900_000_000,
        "authorizationEndpoint": format!("{}/authorize", fx.base),
        "tokenEndpoint": format!("{}/token", fx.base),
    }))
    .into_response()
}

async fn authorize(State(fx): State<Fx>, Query(q): Query<HashMap<String, String>>) -> Response {
    fx.seen.lock().unwrap().authorizes += 1;
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let client_id = get("client_id");
    let redirect_uri = match fx.clients.lock().unwrap().get(&client_id) {
        Some(c) if c.redirect_uri == get("redirect_uri") => c.redirect_uri.clone(),
        _ => return (StatusCode::BAD_REQUEST, "unknown client or redirect URI").into_response(),
    };
    if get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").len() != 43
        || get("scopes") != SCOPE
        || get("state").is_empty()
    {
        return (StatusCode::BAD_REQUEST, "bad authorize request").into_response();
    }
    let state = get("state");
    let mut target = reqwest::Url::parse(&redirect_uri).unwrap();
    if fx.seen.lock().unwrap().deny_consent {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user denied the request")
            .append_pair("state", &state);
    } else {
        let code = format!("idc-code-{}", uuid::Uuid::new_v4().simple());
        fx.codes.lock().unwrap().insert(
            code.clone(),
            Code {
                client_id,
                challenge: get("code_challenge"),
                redirect_uri,
            },
        );
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &state);
    }
    Redirect::to(target.as_str()).into_response()
}

fn issue_tokens(fx: &Fx) -> Response {
    let n = fx.access.lock().unwrap().len() + 1;
    let access = format!("idc-access-token-{n}");
    let refresh = format!("idc-refresh-token-{n}");
    let expired = fx.seen.lock().unwrap().issue_expired_tokens;
    let expiry = if expired {
        fx.clock.now() - Duration::from_secs(1)
    } else {
        fx.clock.now() + Duration::from_secs(3600)
    };
    fx.access.lock().unwrap().insert(access.clone(), expiry);
    fx.refresh.lock().unwrap().push(refresh.clone());
    axum::Json(json!({
        "accessToken": access,
        "tokenType": "Bearer",
        "expiresIn": 3600,
        "refreshToken": refresh,
    }))
    .into_response()
}

async fn token(State(fx): State<Fx>, axum::Json(b): axum::Json<Value>) -> Response {
    let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
    let client_ok = fx
        .clients
        .lock()
        .unwrap()
        .get(&s("clientId"))
        .is_some_and(|c| c.secret == s("clientSecret"));
    if !client_ok {
        return oidc_error("InvalidClientException", "invalid_client", "Invalid client");
    }
    match s("grantType").as_str() {
        "authorization_code" => {
            fx.seen.lock().unwrap().code_grants += 1;
            let Some(code) = fx.codes.lock().unwrap().remove(&s("code")) else {
                return oidc_error(
                    "InvalidGrantException",
                    "invalid_grant",
                    "Invalid authorization code",
                );
            };
            let verified = URL_SAFE_NO_PAD.encode(Sha256::digest(s("codeVerifier").as_bytes()));
            if code.client_id != s("clientId") || code.redirect_uri != s("redirectUri") {
                return oidc_error(
                    "InvalidGrantException",
                    "invalid_grant",
                    "Redirect URI mismatch",
                );
            }
            if verified != code.challenge {
                return oidc_error(
                    "InvalidGrantException",
                    "invalid_grant",
                    "Code verifier does not match the code challenge",
                );
            }
            issue_tokens(&fx)
        }
        "refresh_token" => {
            fx.seen.lock().unwrap().refresh_grants += 1;
            let known = fx.refresh.lock().unwrap().contains(&s("refreshToken"));
            if !known || fx.seen.lock().unwrap().revoke_refresh_tokens {
                return oidc_error(
                    "InvalidGrantException",
                    "invalid_grant",
                    "Refresh token has expired or was revoked",
                );
            }
            issue_tokens(&fx)
        }
        _ => oidc_error(
            "UnsupportedGrantTypeException",
            "unsupported_grant_type",
            "Unsupported grant type",
        ),
    }
}

async fn redeem(State(fx): State<Fx>, axum::Json(b): axum::Json<Value>) -> Response {
    fx.seen.lock().unwrap().redeems += 1;
    if b["domainId"] != DOMAIN {
        return aws_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "Domain not found",
        );
    }
    let token = b["accessToken"].as_str().unwrap_or_default();
    match fx.access.lock().unwrap().get(token) {
        None => aws_error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "Invalid access token",
        ),
        Some(expiry) if *expiry <= fx.clock.now() => aws_error(
            StatusCode::UNAUTHORIZED,
            "ExpiredTokenException",
            "The access token has expired",
        ),
        Some(_) => axum::Json(json!({
            "credentials": {
                "accessKeyId": DOMAIN_KEY,
                "secretAccessKey": DOMAIN_SECRET,
                "sessionToken": DOMAIN_TOKEN,
                "expiration": epoch(fx.clock.now() + Duration::from_secs(3600)),
            }
        }))
        .into_response(),
    }
}

/// Recomputes the SigV4 signature of a GET with the domain credentials and compares.
fn signature_ok(uri: &str, headers: &HeaderMap) -> bool {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    if h("x-amz-security-token") != DOMAIN_TOKEN {
        return false;
    }
    let Ok(date) = chrono::NaiveDateTime::parse_from_str(h("x-amz-date"), "%Y%m%dT%H%M%SZ") else {
        return false;
    };
    let time = SystemTime::from(date.and_utc());
    let creds = aws_credential_types::Credentials::new(
        DOMAIN_KEY,
        DOMAIN_SECRET,
        Some(DOMAIN_TOKEN.to_string()),
        None,
        "fixture",
    );
    let identity = creds.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("datazone")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("http://{}{uri}", h("host"));
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        [("host", h("host"))].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    instructions
        .headers()
        .any(|(k, v)| k == "authorization" && v == h("authorization"))
}

async fn env_credentials(
    State(fx): State<Fx>,
    Path((domain, env)): Path<(String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    fx.seen.lock().unwrap().env_calls += 1;
    if !signature_ok(uri.path(), &headers) {
        return aws_error(
            StatusCode::FORBIDDEN,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided",
        );
    }
    if domain != DOMAIN || env != ENVIRONMENT {
        return aws_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "Environment not found",
        );
    }
    if fx.seen.lock().unwrap().no_environment_access {
        return aws_error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "User is not a member of the environment's project",
        );
    }
    let n = {
        let mut seen = fx.seen.lock().unwrap();
        seen.env_issued += 1;
        seen.env_issued
    };
    let c = &fx.env[(n - 1).min(fx.env.len() - 1)];
    axum::Json(json!({
        "accessKeyId": c.key,
        "secretAccessKey": c.secret,
        "sessionToken": c.token,
        "expiration": epoch(fx.clock.now() + Duration::from_secs(3600)),
    }))
    .into_response()
}
