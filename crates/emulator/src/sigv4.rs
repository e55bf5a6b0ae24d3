//! Verification of AWS Signature Version 4 on incoming requests.
//!
//! Both forms are checked: the `Authorization` header and presigned query strings.
//! The payload hash is `x-amz-content-sha256` when the client sends it (S3 always does;
//! `UNSIGNED-PAYLOAD` and `STREAMING-*` are taken literally, a hex digest must match the
//! body), otherwise the SHA-256 of the body.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a request's `x-amz-date` may be from the emulator's clock.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// A key pair (and optional session token) the emulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credential {
    pub(crate) access_key: String,
    pub(crate) secret_key: String,
    pub(crate) session_token: Option<String>,
    /// When STS-issued credentials stop being accepted.
    pub(crate) expires: Option<DateTime<Utc>>,
    /// The ARN GetCallerIdentity reports for STS-issued credentials.
    pub(crate) arn: Option<String>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key", &self.access_key)
            .field("secret_key", &"******")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "******"),
            )
            .field("expires", &self.expires)
            .field("arn", &self.arn)
            .finish()
    }
}

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    /// No `Authorization` header and no presigned query.
    Missing,
    /// The header or query is not a well-formed SigV4 signature.
    Malformed(String),
    /// The access key id is not one the emulator knows.
    UnknownAccessKey,
    /// The session token is missing, unexpected or wrong.
    BadSessionToken,
    /// The session token was issued by the emulator's STS and has expired.
    ExpiredToken,
    /// The request is too old, too far in the future, or its presigned URL expired.
    Expired(String),
    /// The signature does not match.
    SignatureMismatch,
    /// `x-amz-content-sha256` is a digest that does not match the body.
    PayloadHashMismatch,
}

/// The parts of an HTTP request that SigV4 covers.
#[derive(Debug)]
pub(crate) struct SignedRequest<'a> {
    pub(crate) method: &'a str,
    /// The path as received, still percent-encoded.
    pub(crate) raw_path: &'a str,
    /// The query string as received, still percent-encoded.
    pub(crate) raw_query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// What a verified signature says about the caller.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub(crate) access_key: String,
    /// The credential the request was signed with.
    pub(crate) credential: Credential,
}

struct Parsed {
    access_key: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    presigned_expires: Option<i64>,
    session_token: Option<String>,
}

/// Checks the request's signature against `credentials` at time `now`.
pub(crate) fn verify(
    req: &SignedRequest<'_>,
    credentials: &[Credential],
    now: DateTime<Utc>,
) -> Result<Verified, AuthFailure> {
    let query = parse_query(req.raw_query.unwrap_or(""));
    let parsed = if let Some(auth) = req.headers.get(http::header::AUTHORIZATION) {
        let auth = auth
            .to_str()
            .map_err(|_| AuthFailure::Malformed("Authorization header is not ASCII".into()))?;
        parse_header(auth, req.headers)?
    } else if query.iter().any(|(k, _)| k == "X-Amz-Algorithm") {
        parse_presigned(&query)?
    } else {
        return Err(AuthFailure::Missing);
    };

    let credential = credentials
        .iter()
        .find(|c| c.access_key == parsed.access_key)
        .ok_or(AuthFailure::UnknownAccessKey)?;
    if credential.session_token != parsed.session_token {
        return Err(AuthFailure::BadSessionToken);
    }
    if credential.expires.is_some_and(|expires| expires <= now) {
        return Err(AuthFailure::ExpiredToken);
    }

    let request_time = NaiveDateTime::parse_from_str(&parsed.amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| {
            AuthFailure::Malformed(format!(
                "X-Amz-Date {:?} is not YYYYMMDDTHHMMSSZ",
                parsed.amz_date
            ))
        })?
        .and_utc();
    if !parsed.amz_date.starts_with(&parsed.date) {
        return Err(AuthFailure::Malformed(
            "the credential scope date does not match X-Amz-Date".into(),
        ));
    }
    match parsed.presigned_expires {
        Some(expires) => {
            if now.signed_duration_since(request_time).num_seconds() > expires {
                return Err(AuthFailure::Expired("Request has expired".into()));
            }
        }
        None => {
            let skew = now.signed_duration_since(request_time).num_seconds().abs();
            if skew > MAX_SKEW_SECONDS {
                return Err(AuthFailure::Expired(format!(
                    "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                    parsed.amz_date,
                    (now - chrono::Duration::seconds(MAX_SKEW_SECONDS)).format("%Y%m%dT%H%M%SZ"),
                    now.format("%Y%m%dT%H%M%SZ"),
                )));
            }
        }
    }

    let payload_hash = payload_hash(req, parsed.presigned_expires.is_some())?;
    let canonical = canonical_request(req, &query, &parsed, &payload_hash)?;
    let scope = format!(
        "{}/{}/{}/aws4_request",
        parsed.date, parsed.region, parsed.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        parsed.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(
        &credential.secret_key,
        &parsed.date,
        &parsed.region,
        &parsed.service,
    );
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), parsed.signature.as_bytes()) {
        return Err(AuthFailure::SignatureMismatch);
    }
    Ok(Verified {
        access_key: parsed.access_key,
        credential: credential.clone(),
    })
}

fn parse_header(auth: &str, headers: &HeaderMap) -> Result<Parsed, AuthFailure> {
    let rest = auth.strip_prefix(ALGORITHM).ok_or_else(|| {
        AuthFailure::Malformed(format!(
            "the Authorization header must start with {ALGORITHM}"
        ))
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(AuthFailure::Malformed(
            "the Authorization header needs Credential, SignedHeaders and Signature".into(),
        ));
    };
    let amz_date = header_str(headers, "x-amz-date")
        .ok_or_else(|| AuthFailure::Malformed("missing X-Amz-Date header".into()))?;
    let session_token = header_str(headers, "x-amz-security-token").map(str::to_owned);
    build_parsed(
        credential,
        signed_headers,
        signature,
        amz_date,
        None,
        session_token,
    )
}

fn parse_presigned(query: &[(String, String)]) -> Result<Parsed, AuthFailure> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("X-Amz-Algorithm") != Some(ALGORITHM) {
        return Err(AuthFailure::Malformed(format!(
            "X-Amz-Algorithm must be {ALGORITHM}"
        )));
    }
    let need = |name: &'static str| {
        get(name).ok_or_else(|| AuthFailure::Malformed(format!("missing query parameter {name}")))
    };
    let expires: i64 = need("X-Amz-Expires")?
        .parse()
        .map_err(|_| AuthFailure::Malformed("X-Amz-Expires is not a number".into()))?;
    if !(1..=604_800).contains(&expires) {
        return Err(AuthFailure::Malformed(
            "X-Amz-Expires must be 1..604800".into(),
        ));
    }
    build_parsed(
        need("X-Amz-Credential")?,
        need("X-Amz-SignedHeaders")?,
        need("X-Amz-Signature")?,
        need("X-Amz-Date")?,
        Some(expires),
        get("X-Amz-Security-Token").map(str::to_owned),
    )
}

fn build_parsed(
    credential: &str,
    signed_headers: &str,
    signature: &str,
    amz_date: &str,
    presigned_expires: Option<i64>,
    session_token: Option<String>,
) -> Result<Parsed, AuthFailure> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = parts.as_slice() else {
        return Err(AuthFailure::Malformed(
            "Credential must be <key>/<date>/<region>/<service>/aws4_request".into(),
        ));
    };
    if *terminator != "aws4_request" {
        return Err(AuthFailure::Malformed(
            "the credential scope must end in aws4_request".into(),
        ));
    }
    Ok(Parsed {
        access_key: (*access_key).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers: signed_headers
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
        signature: signature.trim().to_owned(),
        amz_date: amz_date.to_owned(),
        presigned_expires,
        session_token,
    })
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn payload_hash(req: &SignedRequest<'_>, presigned: bool) -> Result<String, AuthFailure> {
    match header_str(req.headers, "x-amz-content-sha256") {
        Some(declared) => {
            let is_digest = declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit());
            if is_digest && !declared.eq_ignore_ascii_case(&hex::encode(Sha256::digest(req.body))) {
                return Err(AuthFailure::PayloadHashMismatch);
            }
            Ok(declared.to_owned())
        }
        None if presigned => Ok("UNSIGNED-PAYLOAD".to_owned()),
        None => Ok(hex::encode(Sha256::digest(req.body))),
    }
}

fn canonical_request(
    req: &SignedRequest<'_>,
    query: &[(String, String)],
    parsed: &Parsed,
    payload_hash: &str,
) -> Result<String, AuthFailure> {
    let decoded_path = percent_decode(req.raw_path.as_bytes());
    let once = uri_encode(&decoded_path, false);
    let path = if parsed.service == "s3" {
        once
    } else {
        uri_encode(once.as_bytes(), false)
    };
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        path
    };

    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| {
            (
                uri_encode(k.as_bytes(), true),
                uri_encode(v.as_bytes(), true),
            )
        })
        .collect();
    pairs.sort();
    let canonical_query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    let mut canonical_headers = String::new();
    for name in &parsed.signed_headers {
        let values: Vec<String> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() {
            return Err(AuthFailure::Malformed(format!(
                "signed header {name} is not in the request"
            )));
        }
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }
    Ok(format!(
        "{}\n{path}\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}",
        req.method,
        parsed.signed_headers.join(";")
    ))
}

/// Splits a raw query string into decoded `(name, value)` pairs.
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                String::from_utf8_lossy(&percent_decode(k.as_bytes())).into_owned(),
                String::from_utf8_lossy(&percent_decode(v.as_bytes())).into_owned(),
            )
        })
        .collect()
}

/// Decodes `%XX` escapes; anything else is kept as is.
pub(crate) fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%'
            && i + 2 < input.len()
            && let (Some(h), Some(l)) = (hex_val(input[i + 1]), hex_val(input[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// SigV4 URI encoding: unreserved characters stay, everything else is `%XX` (upper case).
pub(crate) fn uri_encode(input: &[u8], encode_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for &b in input {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !encode_slash)
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Signs a request the way an AWS client does (used by tests of the verifier).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_for_test(
    method: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &mut HeaderMap,
    body: &[u8],
    credential: &Credential,
    service: &str,
    region: &str,
    now: DateTime<Utc>,
) {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    headers.insert("x-amz-date", amz_date.parse().unwrap());
    let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
    names.sort();
    let parsed = Parsed {
        access_key: credential.access_key.clone(),
        date: date.clone(),
        region: region.into(),
        service: service.into(),
        signed_headers: names.clone(),
        signature: String::new(),
        amz_date: amz_date.clone(),
        presigned_expires: None,
        session_token: None,
    };
    let req = SignedRequest {
        method,
        raw_path,
        raw_query,
        headers,
        body,
    };
    let hash = payload_hash(&req, false).unwrap();
    let canonical =
        canonical_request(&req, &parse_query(raw_query.unwrap_or("")), &parsed, &hash).unwrap();
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let sts = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let sig = hex::encode(hmac(
        &signing_key(&credential.secret_key, &date, region, service),
        sts.as_bytes(),
    ));
    let auth = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
        credential.access_key,
        names.join(";")
    );
    headers.insert(http::header::AUTHORIZATION, auth.parse().unwrap());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cred() -> Credential {
        Credential {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            expires: None,
            arn: None,
        }
    }

    /// The `get-vanilla` case of AWS's SigV4 test suite (signature published by AWS).
    #[test]
    fn aws_test_suite_get_vanilla() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                .parse()
                .unwrap(),
        );
        let req = SignedRequest {
            method: "GET",
            raw_path: "/",
            raw_query: None,
            headers: &headers,
            body: b"",
        };
        let now = DateTime::parse_from_rfc3339("2015-08-30T12:36:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let verified = verify(&req, &[cred()], now).expect("valid signature");
        assert_eq!(verified.access_key, "AKIDEXAMPLE");

        let wrong = Credential {
            secret_key: "other".into(),
            ..cred()
        };
        assert_eq!(
            verify(&req, &[wrong], now).unwrap_err(),
            AuthFailure::SignatureMismatch
        );
        let other_key = Credential {
            access_key: "AKIDOTHER".into(),
            ..cred()
        };
        assert_eq!(
            verify(&req, &[other_key], now).unwrap_err(),
            AuthFailure::UnknownAccessKey
        );
        let late = now + chrono::Duration::minutes(20);
        assert!(matches!(
            verify(&req, &[cred()], late),
            Err(AuthFailure::Expired(_))
        ));
    }

    #[test]
    fn query_parameters_are_canonicalised_and_sorted() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "localhost:1".parse().unwrap());
        let now = Utc::now();
        sign_for_test(
            "GET",
            "/b/a%20b",
            Some("prefix=x%2Fy&list-type=2"),
            &mut headers,
            b"",
            &cred(),
            "s3",
            "us-east-1",
            now,
        );
        // The same request with the query in a different order and `/` unescaped verifies.
        let req = SignedRequest {
            method: "GET",
            raw_path: "/b/a%20b",
            raw_query: Some("list-type=2&prefix=x/y"),
            headers: &headers,
            body: b"",
        };
        assert!(verify(&req, &[cred()], now).is_ok());
        let tampered = SignedRequest {
            raw_query: Some("list-type=2&prefix=z"),
            ..req
        };
        assert_eq!(
            verify(&tampered, &[cred()], now).unwrap_err(),
            AuthFailure::SignatureMismatch
        );
    }

    #[test]
    fn payload_digest_must_match_body() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "localhost:1".parse().unwrap());
        headers.insert(
            "x-amz-content-sha256",
            hex::encode(Sha256::digest(b"abc")).parse().unwrap(),
        );
        let now = Utc::now();
        sign_for_test(
            "PUT",
            "/b/k",
            None,
            &mut headers,
            b"abc",
            &cred(),
            "s3",
            "us-east-1",
            now,
        );
        let ok = SignedRequest {
            method: "PUT",
            raw_path: "/b/k",
            raw_query: None,
            headers: &headers,
            body: b"abc",
        };
        assert!(verify(&ok, &[cred()], now).is_ok());
        let bad = SignedRequest { body: b"abd", ..ok };
        assert_eq!(
            verify(&bad, &[cred()], now).unwrap_err(),
            AuthFailure::PayloadHashMismatch
        );
    }

    #[test]
    fn session_token_must_match_credential() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "localhost:1".parse().unwrap());
        headers.insert("x-amz-security-token", "tok".parse().unwrap());
        let now = Utc::now();
        sign_for_test(
            "POST",
            "/",
            None,
            &mut headers,
            b"{}",
            &cred(),
            "athena",
            "us-east-1",
            now,
        );
        let req = SignedRequest {
            method: "POST",
            raw_path: "/",
            raw_query: None,
            headers: &headers,
            body: b"{}",
        };
        assert_eq!(
            verify(&req, &[cred()], now).unwrap_err(),
            AuthFailure::BadSessionToken
        );
        let with_token = Credential {
            session_token: Some("tok".into()),
            ..cred()
        };
        assert!(verify(&req, &[with_token], now).is_ok());
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credential {
            session_token: Some("tok".into()),
            ..cred()
        };
        let text = format!("{c:?}");
        assert!(
            !text.contains("EXAMPLEKEY") && !text.contains("tok\""),
            "{text}"
        );
    }
}
