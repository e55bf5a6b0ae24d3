//! Helpers shared by the JSON services: reading request members, paging, timestamps.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::Value;

use crate::error::ApiError;

/// An optional string member; a member of another type is refused.
pub(crate) fn opt_str<'a>(body: &'a Value, member: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::invalid_request(format!(
            "member {member} must be a string, got {other}"
        ))),
    }
}

/// A required string member.
pub(crate) fn req_str<'a>(body: &'a Value, member: &str) -> Result<&'a str, ApiError> {
    opt_str(body, member)?.ok_or_else(|| ApiError::missing(&lower_first(member)))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// `MaxResults` within `min..=max`, or `default` when absent.
pub(crate) fn max_results(
    body: &Value,
    min: i64,
    max: i64,
    default: i64,
) -> Result<usize, ApiError> {
    let value = match body.get("MaxResults") {
        None | Some(Value::Null) => default,
        Some(v) => v.as_i64().ok_or_else(|| {
            ApiError::invalid_request(format!("MaxResults must be an integer, got {v}"))
        })?,
    };
    if value < min {
        return Err(ApiError::validation(
            "maxResults",
            value,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(ApiError::validation(
            "maxResults",
            value,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(value as usize)
}

/// An opaque NextToken naming a position within a listing called `scope`.
pub(crate) fn encode_token(scope: &str, position: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{scope}:{position}"))
}

/// Reads a NextToken made by [`encode_token`] for the same `scope`.
pub(crate) fn decode_token(scope: &str, token: &str) -> Result<u64, ApiError> {
    let bad = || {
        ApiError::invalid_request(format!(
            "NextToken {token:?} is not valid for this request; start again without NextToken"
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (s, pos) = text.rsplit_once(':').ok_or_else(bad)?;
    if s != scope {
        return Err(bad());
    }
    pos.parse().map_err(|_| bad())
}

/// One page of `items`: the slice for this call and the NextToken of the next one.
pub(crate) fn page<'a, T>(
    items: &'a [T],
    scope: &str,
    token: Option<&str>,
    max: usize,
) -> Result<(&'a [T], Option<String>), ApiError> {
    let start = match token {
        Some(t) => decode_token(scope, t)? as usize,
        None => 0,
    };
    if start > items.len() {
        return Err(ApiError::invalid_request(
            "NextToken points past the end of the listing",
        ));
    }
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| encode_token(scope, end as u64));
    Ok((&items[start..end], next))
}

/// A timestamp in awsJson's form: epoch seconds with a fraction.
pub(crate) fn epoch(t: DateTime<Utc>) -> Value {
    Value::from(t.timestamp_millis() as f64 / 1000.0)
}

/// A Hive/Glue name pattern (`*` is any run of characters, `|` separates alternatives)
/// matched against whole names, case-insensitively.
pub(crate) fn name_pattern(expression: &str) -> Result<Regex, ApiError> {
    let mut pattern = String::new();
    let mut prev = None;
    for c in expression.chars() {
        if c == '*' && prev != Some('.') {
            pattern.push_str(".*");
        } else {
            pattern.push(c);
        }
        prev = Some(c);
    }
    Regex::new(&format!("(?i)^(?:{pattern})$")).map_err(|e| {
        ApiError::invalid_request(format!(
            "Expression {expression:?} is not a valid pattern: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_tokens() {
        let items: Vec<u32> = (0..5).collect();
        let (first, next) = page(&items, "s", None, 2).unwrap();
        assert_eq!(first, [0, 1]);
        let (second, next) = page(&items, "s", next.as_deref(), 2).unwrap();
        assert_eq!(second, [2, 3]);
        let (third, next) = page(&items, "s", next.as_deref(), 2).unwrap();
        assert_eq!((third, next), (&[4][..], None));
        assert!(page(&items, "other", Some(&encode_token("s", 2)), 2).is_err());
        assert!(page(&items, "s", Some("garbage!"), 2).is_err());
    }

    #[test]
    fn patterns() {
        let p = name_pattern("sales*|orders").unwrap();
        assert!(p.is_match("sales_2020") && p.is_match("orders") && !p.is_match("order"));
        assert!(name_pattern("a.*b").unwrap().is_match("axxb"));
        assert!(name_pattern("(").is_err());
    }
}
