//! An EC2 instance metadata service on 127.0.0.1 (axum), in IMDSv2 or IMDSv1-only mode.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_async::time::TimeSource;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use datafusion_athena_auth::ManualClock;

pub(crate) const ROLE_NAME: &str = "athena-ec2-role";
const TOKEN: &str = "imds-session-token-AQAEAbc";

/// How the fixture answers the token PUT.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    /// IMDSv2: token issued with the TTL header; metadata GETs without it get 401.
    V2,
    /// IMDSv1 only: the token PUT gets this status; GETs need no token.
    V1Only(u16),
    /// No role attached: the role listing is 404.
    NoRole,
}

#[derive(Clone)]
struct Fixture {
    mode: Mode,
    clock: ManualClock,
    ttl: Duration,
    token_puts: Arc<AtomicUsize>,
    issued: Arc<AtomicUsize>,
    seen_token_headers: Arc<Mutex<Vec<Option<String>>>>,
}

/// A running fixture.
pub(crate) struct Imds {
    pub(crate) url: String,
    pub(crate) token_puts: Arc<AtomicUsize>,
    pub(crate) issued: Arc<AtomicUsize>,
    pub(crate) seen_token_headers: Arc<Mutex<Vec<Option<String>>>>,
}

/// Starts the fixture. Credentials expire one hour after `clock`'s time at issue; each issue
/// has a new access key id (`ASIAIMDS000n`).
pub(crate) async fn start(mode: Mode, clock: ManualClock) -> Imds {
    start_with_ttl(mode, clock, Duration::from_secs(3600)).await
}

/// [`start`] with credentials valid `ttl` after issue.
pub(crate) async fn start_with_ttl(mode: Mode, clock: ManualClock, ttl: Duration) -> Imds {
    let f = Fixture {
        mode,
        clock,
        ttl,
        token_puts: Arc::default(),
        issued: Arc::default(),
        seen_token_headers: Arc::default(),
    };
    let app = Router::new()
        .route("/latest/api/token", put(token))
        .route("/latest/meta-data/iam/security-credentials/", get(roles))
        .route(
            "/latest/meta-data/iam/security-credentials/{role}",
            get(creds),
        )
        .with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Imds {
        url,
        token_puts: f.token_puts,
        issued: f.issued,
        seen_token_headers: f.seen_token_headers,
    }
}

async fn token(State(f): State<Fixture>, headers: HeaderMap) -> Response {
    f.token_puts.fetch_add(1, Ordering::SeqCst);
    match f.mode {
        Mode::V1Only(status) => StatusCode::from_u16(status).unwrap().into_response(),
        Mode::V2 | Mode::NoRole => {
            let Some(ttl) = headers.get("x-aws-ec2-metadata-token-ttl-seconds") else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            let ttl = ttl.to_str().unwrap().to_string();
            ([("x-aws-ec2-metadata-token-ttl-seconds", ttl)], TOKEN).into_response()
        }
    }
}

fn check_token(f: &Fixture, headers: &HeaderMap) -> Result<(), StatusCode> {
    let token = headers
        .get("x-aws-ec2-metadata-token")
        .map(|v| v.to_str().unwrap().to_string());
    f.seen_token_headers.lock().unwrap().push(token.clone());
    match f.mode {
        Mode::V2 | Mode::NoRole if token.as_deref() != Some(TOKEN) => Err(StatusCode::UNAUTHORIZED),
        _ => Ok(()),
    }
}

async fn roles(State(f): State<Fixture>, headers: HeaderMap) -> Response {
    if let Err(r) = check_token(&f, &headers) {
        return r.into_response();
    }
    match f.mode {
        Mode::NoRole => StatusCode::NOT_FOUND.into_response(),
        _ => format!("{ROLE_NAME}\n").into_response(),
    }
}

async fn creds(State(f): State<Fixture>, Path(role): Path<String>, headers: HeaderMap) -> Response {
    if let Err(r) = check_token(&f, &headers) {
        return r.into_response();
    }
    if role != ROLE_NAME {
        return StatusCode::NOT_FOUND.into_response();
    }
    let n = f.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let now = f.clock.now();
    let expiry = chrono::DateTime::<chrono::Utc>::from(now + f.ttl);
    let updated = chrono::DateTime::<chrono::Utc>::from(now);
    axum::Json(serde_json::json!({
        "Code": "Success",
        "LastUpdated": updated.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "Type": "AWS-HMAC",
        "AccessKeyId": format!("ASIAIMDS{n:04}"),
        "SecretAccessKey": format!("imds-secret-{n}"),
        "Token": format!("imds-session-{n}"),
        "Expiration": expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }))
    .into_response()
}
