//! One HTTP port for every service: requests are told apart by `X-Amz-Target`
//! (`AmazonAthena.*`, `AWSGlue.*`), everything else is S3 REST path-style.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value};

use crate::athena::{self, OpNotes};
use crate::error::{ApiError, S3Error};
use crate::faults::ThrottleKind;
use crate::glue;
use crate::log::{RequestRecord, Service};
use crate::s3;
use crate::sigv4::{self, AuthFailure, SignedRequest};
use crate::state::Inner;
use crate::sts;

/// Largest request body accepted (PutObject included).
const MAX_BODY: usize = 1 << 30;

/// The axum router.
pub(crate) fn router(inner: Arc<Inner>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(inner)
}

async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let received_at = SystemTime::now();
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let raw_path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().map(str::to_owned);
    let query = sigv4::parse_query(raw_query.as_deref().unwrap_or(""));
    let (mut service, mut operation) = match target.as_deref().and_then(|t| t.split_once('.')) {
        Some(("AmazonAthena", op)) => (Service::Athena, op.to_owned()),
        Some(("AWSGlue", op)) => (Service::Glue, op.to_owned()),
        Some((_, op)) => (Service::Athena, op.to_owned()),
        None => (
            Service::S3,
            s3::operation(&parts.method, &raw_path, &query).to_owned(),
        ),
    };
    let head = parts.method == http::Method::HEAD;
    let mut notes = OpNotes::default();

    let body = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let response = error_for(
                service,
                head,
                &request_id,
                StatusCode::BAD_REQUEST,
                "IncompleteBody",
                &e.to_string(),
            );
            return finish(
                &inner,
                response,
                service,
                operation,
                notes,
                None,
                received_at,
                started,
                &request_id,
            );
        }
    };

    // STS speaks awsQuery: told apart by its credential scope or by a form with an Action.
    let mut sts_form = None;
    if service == Service::S3 && parts.method == http::Method::POST {
        let sts_scope = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("/sts/aws4_request"));
        let form_body = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if sts_scope || form_body {
            let form = sts::parse_form(&body);
            if let Some(action) = sts::action(&form) {
                service = Service::Sts;
                operation = action.to_owned();
            }
            if service == Service::Sts {
                sts_form = Some(form);
            }
        }
    }
    let unsigned_sts = service == Service::Sts
        && sts::UNSIGNED_ACTIONS.contains(&operation.as_str())
        && !parts.headers.contains_key(http::header::AUTHORIZATION);

    let signed = SignedRequest {
        method: parts.method.as_str(),
        raw_path: &raw_path,
        raw_query: raw_query.as_deref(),
        headers: &parts.headers,
        body: &body,
    };
    let now = chrono::Utc::now();
    let verified = if unsigned_sts {
        Ok(None)
    } else {
        sigv4::verify(&signed, &inner.credentials(), now).map(Some)
    };
    let access_key = verified
        .as_ref()
        .ok()
        .and_then(|v| v.as_ref().map(|v| v.access_key.clone()));
    let response = match verified {
        Err(failure) => auth_error(service, head, &request_id, &failure),
        Ok(caller) if service == Service::Sts => {
            let form = sts_form.unwrap_or_default();
            match sts::handle(&inner, &form, caller.as_ref().map(|v| &v.credential), now) {
                Ok(xml) => sts::xml_response(StatusCode::OK, xml),
                Err(e) => sts::error_response(&e, &request_id),
            }
        }
        Ok(_) if inner.faults.roll_http_500() => error_for(
            service,
            head,
            &request_id,
            StatusCode::INTERNAL_SERVER_ERROR,
            if service == Service::S3 {
                "InternalError"
            } else {
                "InternalServerException"
            },
            "We encountered an internal error. Please try again. (injected fault)",
        ),
        Ok(_) => match inner.faults.roll_throttle(&operation) {
            Some(kind) => throttle_response(service, head, &request_id, kind),
            None => {
                dispatch(
                    &inner,
                    service,
                    &operation,
                    &parts,
                    &raw_path,
                    &query,
                    body,
                    &request_id,
                    &mut notes,
                )
                .await
            }
        },
    };
    finish(
        &inner,
        response,
        service,
        operation,
        notes,
        access_key,
        received_at,
        started,
        &request_id,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    inner: &Inner,
    mut response: Response,
    service: Service,
    operation: String,
    notes: OpNotes,
    access_key: Option<String>,
    received_at: SystemTime,
    started: Instant,
    request_id: &str,
) -> Response {
    let error_code = response
        .headers()
        .get("x-amzn-errortype")
        .or_else(|| response.headers().get("x-amz-error-code"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", v.clone());
        response.headers_mut().insert("x-amz-request-id", v);
    }
    tracing::debug!(?service, %operation, status = response.status().as_u16(), "request");
    inner.log.push(RequestRecord {
        service,
        operation,
        sql: notes.sql,
        query_execution_id: notes.query_execution_id,
        access_key,
        status: response.status().as_u16(),
        error_code,
        received_at,
        duration: started.elapsed(),
    });
    response
}

#[allow(clippy::too_many_arguments)]
async fn dispatch(
    inner: &Arc<Inner>,
    service: Service,
    operation: &str,
    parts: &http::request::Parts,
    raw_path: &str,
    query: &[(String, String)],
    body: bytes::Bytes,
    request_id: &str,
    notes: &mut OpNotes,
) -> Response {
    match service {
        Service::Athena | Service::Glue => {
            let value: Value = if body.is_empty() {
                Value::Object(Map::new())
            } else {
                match serde_json::from_slice(&body) {
                    Ok(v) => v,
                    Err(e) => {
                        return json_error(&ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "SerializationException",
                            format!("the request body is not JSON: {e}"),
                        ));
                    }
                }
            };
            let result = if service == Service::Glue {
                glue::handle(inner, operation, &value)
            } else {
                athena::handle(inner, operation, &value, notes).await
            };
            match result {
                Ok(v) => json_response(StatusCode::OK, &v),
                Err(e) => json_error(&e),
            }
        }
        // Answered in `handle`, before faults are rolled.
        Service::Sts => sts::error_response(
            &sts::StsError::new(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!("Could not find operation {operation} for version 2011-06-15"),
            ),
            request_id,
        ),
        Service::S3 => {
            let head = parts.method == http::Method::HEAD;
            match s3::handle(inner, operation, raw_path, query, &parts.headers, body).await {
                Ok(r) => r,
                Err(e) => s3::error_response(&e, head, request_id),
            }
        }
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = Response::builder()
        .status(status)
        .body(Body::from(value.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()));
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

/// awsJson1.1 error: `{"__type": code, "message": ...}` plus extra members.
fn json_error(e: &ApiError) -> Response {
    let mut body = Map::new();
    body.insert("__type".into(), e.code.into());
    body.insert("message".into(), e.message.clone().into());
    for (k, v) in &e.extra {
        body.insert((*k).into(), v.clone().into());
    }
    let mut response = json_response(e.status, &Value::Object(body));
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(e.code));
    response
}

fn error_for(
    service: Service,
    head: bool,
    request_id: &str,
    status: StatusCode,
    code: &'static str,
    message: &str,
) -> Response {
    match service {
        Service::S3 => s3::error_response(&S3Error::new(status, code, message), head, request_id),
        _ => json_error(&ApiError::new(status, code, message)),
    }
}

fn throttle_response(
    service: Service,
    head: bool,
    request_id: &str,
    kind: ThrottleKind,
) -> Response {
    match (service, kind) {
        (Service::S3, _) => error_for(service, head, request_id, StatusCode::SERVICE_UNAVAILABLE, "SlowDown", "Please reduce your request rate."),
        (_, ThrottleKind::TooManyRequests) => json_error(
            &ApiError::new(StatusCode::BAD_REQUEST, "TooManyRequestsException", "You have exceeded the limit for the number of queries you can run concurrently. Reduce the number of concurrent queries submitted by this account. Contact customer support to request a concurrent query limit increase.")
                .with("Reason", "CONCURRENT_QUERY_LIMIT_EXCEEDED"),
        ),
        (_, _) => json_error(&ApiError::new(StatusCode::BAD_REQUEST, "ThrottlingException", "Rate exceeded")),
    }
}

fn auth_error(service: Service, head: bool, request_id: &str, failure: &AuthFailure) -> Response {
    const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
    if service == Service::Sts {
        let (status, code, message) = match failure {
            AuthFailure::Missing => (
                StatusCode::FORBIDDEN,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token".to_owned(),
            ),
            AuthFailure::Malformed(m) => {
                (StatusCode::BAD_REQUEST, "IncompleteSignature", m.clone())
            }
            AuthFailure::UnknownAccessKey | AuthFailure::BadSessionToken => (
                StatusCode::FORBIDDEN,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.".to_owned(),
            ),
            AuthFailure::ExpiredToken => (
                StatusCode::BAD_REQUEST,
                "ExpiredToken",
                "The security token included in the request is expired".to_owned(),
            ),
            AuthFailure::Expired(m) => (StatusCode::BAD_REQUEST, "RequestExpired", m.clone()),
            AuthFailure::SignatureMismatch | AuthFailure::PayloadHashMismatch => (
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                MISMATCH.to_owned(),
            ),
        };
        return sts::error_response(&sts::StsError::new(status, code, message), request_id);
    }
    if service == Service::S3 {
        let (status, code, message) = match failure {
            AuthFailure::Missing => (
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Access Denied".to_owned(),
            ),
            AuthFailure::Malformed(m) => (
                StatusCode::BAD_REQUEST,
                "AuthorizationHeaderMalformed",
                m.clone(),
            ),
            AuthFailure::UnknownAccessKey => (
                StatusCode::FORBIDDEN,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.".to_owned(),
            ),
            AuthFailure::BadSessionToken => (
                StatusCode::BAD_REQUEST,
                "InvalidToken",
                "The provided token is malformed or otherwise invalid.".to_owned(),
            ),
            AuthFailure::Expired(m) => (StatusCode::FORBIDDEN, "RequestTimeTooSkewed", m.clone()),
            AuthFailure::ExpiredToken => (
                StatusCode::BAD_REQUEST,
                "ExpiredToken",
                "The provided token has expired.".to_owned(),
            ),
            AuthFailure::SignatureMismatch => (
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                MISMATCH.to_owned(),
            ),
            AuthFailure::PayloadHashMismatch => (
                StatusCode::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .to_owned(),
            ),
        };
        return s3::error_response(&S3Error::new(status, code, message), head, request_id);
    }
    let (status, code, message) = match failure {
        AuthFailure::Missing => (
            StatusCode::BAD_REQUEST,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".to_owned(),
        ),
        AuthFailure::Malformed(m) => (
            StatusCode::BAD_REQUEST,
            "IncompleteSignatureException",
            m.clone(),
        ),
        AuthFailure::UnknownAccessKey | AuthFailure::BadSessionToken => (
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".to_owned(),
        ),
        AuthFailure::Expired(m) => (
            StatusCode::FORBIDDEN,
            "InvalidSignatureException",
            m.clone(),
        ),
        AuthFailure::ExpiredToken => (
            StatusCode::FORBIDDEN,
            "ExpiredTokenException",
            "The security token included in the request is expired".to_owned(),
        ),
        AuthFailure::SignatureMismatch | AuthFailure::PayloadHashMismatch => (
            StatusCode::FORBIDDEN,
            "InvalidSignatureException",
            MISMATCH.to_owned(),
        ),
    };
    json_error(&ApiError::new(status, code, message))
}
