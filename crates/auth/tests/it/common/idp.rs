//! Identity provider fixtures on 127.0.0.1 (axum): ADFS forms login with cookies, Okta's authn
//! API with MFA, PingFederate's WS-Trust STS. Each answers with a hand-written SAML assertion.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

pub(crate) const USER: &str = "alice@corp.example";
pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) const PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/CorpIdP";
pub(crate) const ROLE_A: &str = "arn:aws:iam::123456789012:role/AthenaAnalyst";
pub(crate) const ROLE_B: &str = "arn:aws:iam::123456789012:role/AthenaAdmin";
pub(crate) const OKTA_APP: &str = "/home/amazon_aws/0oa1abc/272";
pub(crate) const PASSCODE: &str = "246810";

/// A `saml:Assertion` offering `roles` (`role,provider` pairs). With `declare_ns` the saml
/// prefix is declared on the assertion itself; without, an ancestor must declare it.
pub(crate) fn assertion(roles: &[&str], declare_ns: bool) -> String {
    let ns = if declare_ns {
        " xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\""
    } else {
        ""
    };
    let values: String = roles
        .iter()
        .map(|r| format!("<saml:AttributeValue>{r},{PROVIDER}</saml:AttributeValue>"))
        .collect();
    format!(
        "<saml:Assertion{ns} ID=\"_assertion1\" IssueInstant=\"2026-11-26T12:00:00Z\" Version=\"2.0\"><saml:Issuer>https://idp.corp.example</saml:Issuer><saml:Subject><saml:NameID>{USER}</saml:NameID></saml:Subject><saml:AttributeStatement><saml:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/Role\">{values}</saml:Attribute><saml:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/RoleSessionName\"><saml:AttributeValue>{USER}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"
    )
}

/// The base64 `samlp:Response` around [`assertion`].
pub(crate) fn response_b64(roles: &[&str]) -> String {
    STANDARD.encode(format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r1\" Version=\"2.0\"><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>{}</samlp:Response>",
        assertion(roles, true)
    ))
}

/// The page an IdP posts to AWS: the SAMLResponse with `+` written as a character reference.
pub(crate) fn saml_page(roles: &[&str]) -> Html<String> {
    let value = response_b64(roles).replace('+', "&#x2b;");
    Html(format!(
        "<html><body onload=\"document.forms[0].submit()\"><form method=\"POST\" name=\"hiddenform\" action=\"https://signin.aws.amazon.com:443/saml\"><input type=\"hidden\" name=\"SAMLResponse\" value=\"{value}\" /><noscript><input type=\"submit\" value=\"Submit\" /></noscript></form></body></html>"
    ))
}

/// Roles the fixtures offer, chosen by a query parameter `roles=one|two|none` (default one).
fn roles_for(q: &HashMap<String, String>) -> Vec<&'static str> {
    match q.get("roles").map(String::as_str) {
        Some("two") => vec![ROLE_A, ROLE_B],
        Some("none") => vec![],
        _ => vec![ROLE_A],
    }
}

/// Starts every IdP fixture; returns the base URL.
pub(crate) async fn start() -> String {
    let app = Router::new()
        .route(
            "/adfs/ls/IdpInitiatedSignOn.aspx",
            get(adfs_page).post(adfs_login),
        )
        .route("/api/v1/authn", post(okta_authn))
        .route("/api/v1/authn/factors/{id}/verify", post(okta_verify))
        .route(OKTA_APP, get(okta_app))
        .route("/idp/sts.wst", post(ping_sts));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Only PingFederate's WS-Trust endpoint (`/idp/sts.wst`), to serve behind TLS.
pub(crate) fn ping_router() -> Router {
    Router::new().route("/idp/sts.wst", post(ping_sts))
}

// ---- ADFS ----

fn adfs_form(error: bool) -> String {
    let err = if error {
        "<span id=\"errorText\">Incorrect user ID or password.</span>"
    } else {
        ""
    };
    format!(
        "<html><body><form method=\"post\" id=\"loginForm\" autocomplete=\"off\" action=\"/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices&amp;client-request-id=42\">{err}<input id=\"userNameInput\" name=\"UserName\" type=\"email\" value=\"\"/><input id=\"passwordInput\" name=\"Password\" type=\"password\"/><input id=\"kmsiInput\" type=\"checkbox\" name=\"Kmsi\" value=\"true\"/><input id=\"optionForms\" type=\"hidden\" name=\"AuthMethod\" value=\"FormsAuthentication\"/><span id=\"submitButton\" role=\"button\">Sign in</span></form></body></html>"
    )
}

async fn adfs_page() -> Response {
    (
        [(
            "set-cookie",
            "MSISSamlRequest=QkFTRTY0; Path=/adfs; HttpOnly",
        )],
        Html(adfs_form(false)),
    )
        .into_response()
}

async fn adfs_login(
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let cookie = headers
        .get("cookie")
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default();
    if !cookie.contains("MSISSamlRequest=QkFTRTY0")
        || q.get("client-request-id").map(String::as_str) != Some("42")
    {
        return (
            StatusCode::BAD_REQUEST,
            "no ADFS session cookie or request id",
        )
            .into_response();
    }
    let ok = f.get("UserName").map(String::as_str) == Some(USER)
        && f.get("Password").map(String::as_str) == Some(PASSWORD)
        && f.get("AuthMethod").map(String::as_str) == Some("FormsAuthentication");
    if ok {
        let roles = if f.contains_key("Kmsi") {
            vec![]
        } else {
            vec![ROLE_A]
        };
        saml_page(&roles).into_response()
    } else {
        Html(adfs_form(true)).into_response()
    }
}

// ---- Okta ----
// The user name picks the scenario: alice (no MFA), push-ok, push-rejected, push-timeout,
// totp (TOTP + push enrolled), sms, email (SMS + email enrolled); "+forget" in the name expects
// rememberDevice=false at the factor verification.

async fn okta_authn(headers: HeaderMap, axum::Json(b): axum::Json<Value>) -> Response {
    let user = b["username"].as_str().unwrap_or_default().to_string();
    if b["password"] != PASSWORD {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"errorCode": "E0000004", "errorSummary": "Authentication failed"})),
        )
            .into_response();
    }
    if user == "trusted-app"
        && headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some("SSWS okta-api-token-123")
    {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(
                json!({"errorCode": "E0000006", "errorSummary": "You do not have permission"}),
            ),
        )
            .into_response();
    }
    let factor = |id: &str, kind: &str| json!({"id": id, "factorType": kind, "provider": "OKTA", "_links": {"verify": {"href": format!("http://{}/api/v1/authn/factors/{id}/verify", headers.get("host").unwrap().to_str().unwrap())}}});
    let factors = match user.split(['@', '+']).next().unwrap_or_default() {
        "push-ok" | "push-rejected" | "push-timeout" => {
            vec![factor(user.split('@').next().unwrap(), "push")]
        }
        "totp" => vec![
            factor("totp", "token:software:totp"),
            factor("push-ok", "push"),
        ],
        "sms" => vec![factor("sms", "sms")],
        "email" => vec![factor("sms", "sms"), factor("email", "email")],
        _ => {
            return axum::Json(json!({"status": "SUCCESS", "sessionToken": "okta-session-1"}))
                .into_response();
        }
    };
    // "+forget" users expect MFARememberDevice=false.
    let state = if user.contains("+forget") {
        "state-forget"
    } else {
        "state-1"
    };
    axum::Json(
        json!({"status": "MFA_REQUIRED", "stateToken": state, "_embedded": {"factors": factors}}),
    )
    .into_response()
}

static PUSH_POLLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One-time codes the fixture "sent" (SMS or email challenges).
pub(crate) static OTP_SENT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn okta_verify(
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(q): Query<HashMap<String, String>>,
    axum::Json(b): axum::Json<Value>,
) -> Response {
    let remember = if b["stateToken"] == "state-forget" {
        "false"
    } else {
        "true"
    };
    if !matches!(b["stateToken"].as_str(), Some("state-1" | "state-forget"))
        || q.get("rememberDevice").map(String::as_str) != Some(remember)
    {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"errorCode": "E0000001", "errorSummary": "bad state token or rememberDevice"}))).into_response();
    }
    let success =
        axum::Json(json!({"status": "SUCCESS", "sessionToken": "okta-session-1"})).into_response();
    match id.as_str() {
        "push-ok" => {
            // First answer WAITING, then SUCCESS.
            if PUSH_POLLS
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                .is_multiple_of(2)
            {
                axum::Json(json!({"status": "MFA_CHALLENGE", "factorResult": "WAITING", "stateToken": "state-1"})).into_response()
            } else {
                success
            }
        }
        "push-rejected" => {
            axum::Json(json!({"status": "MFA_CHALLENGE", "factorResult": "REJECTED"}))
                .into_response()
        }
        "push-timeout" => axum::Json(json!({"status": "MFA_CHALLENGE", "factorResult": "TIMEOUT"}))
            .into_response(),
        "totp" | "sms" | "email" => match b["passCode"].as_str() {
            Some(PASSCODE) => success,
            Some(_) => (
                StatusCode::FORBIDDEN,
                axum::Json(
                    json!({"errorCode": "E0000068", "errorSummary": "Invalid Passcode/Answer"}),
                ),
            )
                .into_response(),
            None => {
                if id != "totp" {
                    OTP_SENT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                axum::Json(json!({"status": "MFA_CHALLENGE", "factorResult": "CHALLENGE", "stateToken": "state-1"})).into_response()
            }
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn okta_app(Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("onetimetoken").map(String::as_str) != Some("okta-session-1") {
        return (StatusCode::FORBIDDEN, "no session").into_response();
    }
    saml_page(&roles_for(&q)).into_response()
}

// ---- PingFederate WS-Trust ----

async fn ping_sts(headers: HeaderMap, body: String) -> Response {
    let soap = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let doc = roxmltree::Document::parse(&body);
    let text_of = |name: &str| {
        doc.as_ref().ok().and_then(|d| {
            d.descendants()
                .find(|n| n.tag_name().name() == name)
                .and_then(|n| n.text())
                .map(str::to_string)
        })
    };
    let ok = soap.starts_with("application/soap+xml")
        && text_of("Username").as_deref() == Some("alice&co")
        && text_of("Password").as_deref() == Some(PASSWORD)
        && text_of("Address").as_deref() == Some("urn:amazon:webservices")
        && text_of("RequestType").as_deref()
            == Some("http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue");
    if !ok {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("content-type", "application/soap+xml")],
            "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en\">Authentication failed for the username token</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>",
        )
            .into_response();
    }
    let rstr = format!(
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"><s:Body><wst:RequestSecurityTokenResponseCollection xmlns:wst=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\"><wst:RequestSecurityTokenResponse><wst:RequestedSecurityToken>{}</wst:RequestedSecurityToken></wst:RequestSecurityTokenResponse></wst:RequestSecurityTokenResponseCollection></s:Body></s:Envelope>",
        assertion(&[ROLE_A], false)
    );
    ([("content-type", "application/soap+xml")], rstr).into_response()
}
