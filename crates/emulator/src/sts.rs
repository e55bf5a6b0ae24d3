//! STS over `awsQuery`: form-encoded `Action=...` requests, XML answers. Issued credentials
//! are added to the ones SigV4 accepts, with their expiry.

use axum::body::Body;
use axum::response::Response;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use http::{HeaderValue, StatusCode};
use regex::Regex;

use crate::s3::xml_escape;
use crate::sigv4::{self, Credential};
use crate::state::Inner;

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const SAML_ROLE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const SAML_SESSION_NAME: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// Actions STS serves without a signature.
pub(crate) const UNSIGNED_ACTIONS: [&str; 2] = ["AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"];

/// An STS error: `<ErrorResponse><Error><Type>Sender</Type><Code>..` .
#[derive(Debug)]
pub(crate) struct StsError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl StsError {
    fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

/// The form parameters of an awsQuery body (`+` is a space).
pub(crate) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body).replace('+', "%20");
    sigv4::parse_query(&text)
}

/// The `Action` of a form body, if it is one.
pub(crate) fn action(form: &[(String, String)]) -> Option<&str> {
    form.iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.as_str())
}

struct Form<'a>(&'a [(String, String)]);

impl Form<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, StsError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            StsError::invalid(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(name)
            ))
        })
    }

    /// DurationSeconds within `[900, max]`, `default` when absent.
    fn duration(&self, default: i64, max: i64) -> Result<i64, StsError> {
        let Some(raw) = self.get("DurationSeconds") else {
            return Ok(default);
        };
        let value: i64 = raw.parse().map_err(|_| {
            StsError::invalid(format!(
                "DurationSeconds {raw:?} is not a whole number of seconds"
            ))
        })?;
        if !(900..=max).contains(&value) {
            return Err(StsError::invalid(format!(
                "1 validation error detected: Value '{value}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and {max}"
            )));
        }
        Ok(value)
    }
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Answers one STS action. `caller` is the verified credential of a signed request.
pub(crate) fn handle(
    inner: &Inner,
    form: &[(String, String)],
    caller: Option<&Credential>,
    now: DateTime<Utc>,
) -> Result<String, StsError> {
    let form = Form(form);
    let action = form.required("Action")?;
    let body = match action {
        "AssumeRole" => {
            let role = role_arn(&form)?;
            let session = session_name(form.required("RoleSessionName")?)?;
            if let Some(id) = form.get("ExternalId")
                && !(2..=1224).contains(&id.len())
            {
                return Err(StsError::invalid(
                    "ExternalId must be between 2 and 1224 characters long",
                ));
            }
            mfa(&form)?;
            let duration = form.duration(3600, 43200)?;
            let (creds, user) = issue(inner, Some(&role), &session, duration, now);
            format!("{creds}{user}<PackedPolicySize>0</PackedPolicySize>")
        }
        "GetSessionToken" => {
            if caller.is_some_and(|c| c.session_token.is_some()) {
                return Err(StsError::new(
                    StatusCode::FORBIDDEN,
                    "AccessDenied",
                    "Cannot call GetSessionToken with session credentials",
                ));
            }
            mfa(&form)?;
            let duration = form.duration(43200, 129_600)?;
            issue(inner, None, "session", duration, now).0
        }
        "AssumeRoleWithWebIdentity" => {
            let role = role_arn(&form)?;
            let session = session_name(form.required("RoleSessionName")?)?;
            let claims = web_identity(form.required("WebIdentityToken")?, now)?;
            let duration = form.duration(3600, 43200)?;
            let (creds, user) = issue(inner, Some(&role), &session, duration, now);
            let claim = |name: &str| {
                claims
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(xml_escape)
                    .unwrap_or_default()
            };
            format!(
                "{creds}<SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>{user}<Provider>{}</Provider><Audience>{}</Audience>",
                claim("sub"),
                claim("iss"),
                claim("aud"),
            )
        }
        "AssumeRoleWithSAML" => {
            let role = role_arn(&form)?;
            let principal = form.required("PrincipalArn")?;
            let assertion = saml(form.required("SAMLAssertion")?, &role, principal, now)?;
            let duration = form.duration(3600, 43200)?;
            let session = session_name(&assertion.session_name)?;
            let (creds, user) = issue(inner, Some(&role), &session, duration, now);
            format!(
                "{creds}{user}<Subject>{}</Subject><SubjectType>persistent</SubjectType><Issuer>{}</Issuer><Audience>https://signin.aws.amazon.com/saml</Audience><NameQualifier>emulator</NameQualifier>",
                xml_escape(&assertion.subject),
                xml_escape(&assertion.issuer),
            )
        }
        "GetCallerIdentity" => {
            let caller = caller.ok_or_else(|| {
                StsError::new(
                    StatusCode::FORBIDDEN,
                    "MissingAuthenticationToken",
                    "Request is missing Authentication Token",
                )
            })?;
            let arn = caller
                .arn
                .clone()
                .unwrap_or_else(|| format!("arn:aws:iam::{}:user/emulator", inner.account_id));
            format!(
                "<UserId>{}</UserId><Account>{}</Account><Arn>{}</Arn>",
                xml_escape(&caller.access_key),
                inner.account_id,
                xml_escape(&arn)
            )
        }
        other => {
            return Err(StsError::new(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                format!("Could not find operation {other} for version 2011-06-15"),
            ));
        }
    };
    Ok(format!(
        "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{body}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        uuid::Uuid::new_v4()
    ))
}

fn role_arn(form: &Form<'_>) -> Result<String, StsError> {
    let arn = form.required("RoleArn")?;
    let re = Regex::new(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$")
        .unwrap_or_else(|_| unreachable!());
    if arn.len() > 2048 || !re.is_match(arn) {
        return Err(StsError::invalid(format!(
            "RoleArn {arn:?} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)"
        )));
    }
    Ok(arn.to_owned())
}

fn session_name(name: &str) -> Result<String, StsError> {
    let re = Regex::new(r"^[A-Za-z0-9_+=,.@-]+$").unwrap_or_else(|_| unreachable!());
    if !(2..=64).contains(&name.len()) || !re.is_match(name) {
        return Err(StsError::invalid(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64"
        )));
    }
    Ok(name.to_owned())
}

/// SerialNumber and TokenCode come together; the code is 6 digits.
fn mfa(form: &Form<'_>) -> Result<(), StsError> {
    match (form.get("SerialNumber"), form.get("TokenCode")) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(StsError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "MultiFactorAuthentication failed, must provide a TokenCode with the SerialNumber",
        )),
        (None, Some(_)) => Err(StsError::invalid(
            "TokenCode was given without SerialNumber",
        )),
        (Some(_), Some(code)) if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(())
        }
        (Some(_), Some(_)) => Err(StsError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        )),
    }
}

/// Registers new temporary credentials; returns the `<Credentials>` and `<AssumedRoleUser>`
/// elements (the latter empty without a role).
fn issue(
    inner: &Inner,
    role: Option<&str>,
    session: &str,
    duration: i64,
    now: DateTime<Utc>,
) -> (String, String) {
    let id = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    let access_key = format!("ASIA{}", &id[..16]);
    let secret_key = base64::engine::general_purpose::STANDARD.encode(
        [
            *uuid::Uuid::new_v4().as_bytes(),
            *uuid::Uuid::new_v4().as_bytes(),
        ]
        .concat(),
    );
    let session_token = base64::engine::general_purpose::STANDARD.encode(
        [
            b"emulator-session:".as_slice(),
            uuid::Uuid::new_v4().as_bytes(),
            uuid::Uuid::new_v4().as_bytes(),
        ]
        .concat(),
    );
    let expires = now + Duration::seconds(duration);
    let (arn, user) = match role {
        Some(role) => {
            let name = role.rsplit('/').next().unwrap_or(role);
            let arn = format!(
                "arn:aws:sts::{}:assumed-role/{name}/{session}",
                inner.account_id
            );
            let user = format!(
                "<AssumedRoleUser><AssumedRoleId>AROA{}:{session}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser>",
                &id[16..],
                xml_escape(&arn)
            );
            (arn, user)
        }
        None => (
            format!("arn:aws:iam::{}:user/emulator", inner.account_id),
            String::new(),
        ),
    };
    let creds = format!(
        "<Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret_key}</SecretAccessKey><SessionToken>{session_token}</SessionToken><Expiration>{}</Expiration></Credentials>",
        expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    inner
        .credentials
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .push(Credential {
            access_key,
            secret_key,
            session_token: Some(session_token),
            expires: Some(expires),
            arn: Some(arn),
        });
    (creds, user)
}

/// The claims of a JWT (not signature-checked: the emulator trusts every issuer), refusing an
/// expired one.
fn web_identity(
    token: &str,
    now: DateTime<Utc>,
) -> Result<serde_json::Map<String, serde_json::Value>, StsError> {
    let bad = |why: &str| {
        StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidIdentityToken",
            format!("The web identity token that was passed could not be validated by AWS: {why}"),
        )
    };
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("it is not a JWT (header.payload.signature)"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("the payload is not base64url"))?;
    let serde_json::Value::Object(claims) =
        serde_json::from_slice(&bytes).map_err(|_| bad("the payload is not a JSON object"))?
    else {
        return Err(bad("the payload is not a JSON object"));
    };
    if let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_i64)
        && exp <= now.timestamp()
    {
        return Err(StsError::new(
            StatusCode::BAD_REQUEST,
            "ExpiredTokenException",
            "Token expired: current date/time is after the token's exp claim",
        ));
    }
    Ok(claims)
}

struct Assertion {
    subject: String,
    issuer: String,
    session_name: String,
}

/// Reads a base64 `samlp:Response` and checks its Role attribute offers `role,principal`.
fn saml(
    encoded: &str,
    role: &str,
    principal: &str,
    now: DateTime<Utc>,
) -> Result<Assertion, StsError> {
    let bad = |why: String| {
        StsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidIdentityToken",
            format!("Invalid SAML response: {why}"),
        )
    };
    let compact: String = encoded.split_whitespace().collect();
    let xml = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| bad(format!("SAMLAssertion is not base64: {e}")))?;
    let xml = String::from_utf8(xml).map_err(|_| bad("the assertion is not UTF-8".into()))?;
    let doc = roxmltree::Document::parse(&xml).map_err(|e| bad(format!("not XML: {e}")))?;
    let text_of = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name((SAML_NS, name)))
            .and_then(|n| n.text())
            .map(|t| t.trim().to_owned())
    };
    for n in doc.descendants().filter(|n| {
        n.has_tag_name((SAML_NS, "Conditions"))
            || n.has_tag_name((SAML_NS, "SubjectConfirmationData"))
    }) {
        if let Some(limit) = n.attribute("NotOnOrAfter") {
            let limit = DateTime::parse_from_rfc3339(limit)
                .map_err(|_| bad(format!("NotOnOrAfter {limit:?} is not a date-time")))?;
            if limit <= now {
                return Err(StsError::new(
                    StatusCode::BAD_REQUEST,
                    "ExpiredTokenException",
                    "Token must be redeemed before its NotOnOrAfter time",
                ));
            }
        }
    }
    let values = |attribute: &str| -> Vec<String> {
        doc.descendants()
            .filter(|n| {
                n.has_tag_name((SAML_NS, "Attribute")) && n.attribute("Name") == Some(attribute)
            })
            .flat_map(|n| {
                n.children()
                    .filter(|c| c.has_tag_name((SAML_NS, "AttributeValue")))
            })
            .filter_map(|v| v.text().map(|t| t.trim().to_owned()))
            .collect()
    };
    let roles = values(SAML_ROLE);
    let offered = roles.iter().any(|pair| {
        let mut arns: Vec<&str> = pair.split(',').map(str::trim).collect();
        arns.sort_unstable();
        let mut wanted = [role, principal];
        wanted.sort_unstable();
        arns == wanted
    });
    if !offered {
        return Err(StsError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "Not authorized to perform sts:AssumeRoleWithSAML: the assertion's {SAML_ROLE} attribute does not offer {role},{principal} (it offers: {})",
                if roles.is_empty() {
                    "none".to_owned()
                } else {
                    roles.join("; ")
                }
            ),
        ));
    }
    let session_name = values(SAML_SESSION_NAME)
        .into_iter()
        .next()
        .ok_or_else(|| {
            bad(format!(
                "the assertion has no {SAML_SESSION_NAME} attribute"
            ))
        })?;
    Ok(Assertion {
        subject: text_of("NameID").unwrap_or_default(),
        issuer: text_of("Issuer").unwrap_or_default(),
        session_name,
    })
}

/// A `text/xml` answer.
pub(crate) fn xml_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::builder()
        .status(status)
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::empty()));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    response
}

/// STS's error document.
pub(crate) fn error_response(e: &StsError, request_id: &str) -> Response {
    let mut response = xml_response(
        e.status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            e.code,
            xml_escape(&e.message),
            xml_escape(request_id)
        ),
    );
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(e.code));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_plus_and_percent() {
        let form = parse_form(b"Action=AssumeRole&RoleSessionName=a+b%2Bc");
        assert_eq!(action(&form), Some("AssumeRole"));
        assert_eq!(Form(&form).get("RoleSessionName"), Some("a b+c"));
    }

    #[test]
    fn mfa_needs_both_parts_and_six_digits() {
        let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(mfa(&Form(&form(&[]))).is_ok());
        assert!(
            mfa(&Form(&form(&[
                ("SerialNumber", "arn:x"),
                ("TokenCode", "123456")
            ])))
            .is_ok()
        );
        assert_eq!(
            mfa(&Form(&form(&[("SerialNumber", "arn:x")])))
                .unwrap_err()
                .code,
            "AccessDenied"
        );
        assert_eq!(
            mfa(&Form(&form(&[
                ("SerialNumber", "arn:x"),
                ("TokenCode", "12a")
            ])))
            .unwrap_err()
            .code,
            "AccessDenied"
        );
    }

    #[test]
    fn expired_jwts_are_refused() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let now = Utc::now();
        let token = |exp: i64| {
            format!(
                "{}.{}.sig",
                b64("{}"),
                b64(&format!(r#"{{"sub":"u","exp":{exp}}}"#))
            )
        };
        assert_eq!(
            web_identity(&token(now.timestamp() + 60), now).unwrap()["sub"],
            "u"
        );
        assert_eq!(
            web_identity(&token(now.timestamp() - 1), now)
                .unwrap_err()
                .code,
            "ExpiredTokenException"
        );
        assert_eq!(
            web_identity("nope", now).unwrap_err().code,
            "InvalidIdentityToken"
        );
    }
}
