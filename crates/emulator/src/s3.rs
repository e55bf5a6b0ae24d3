//! S3 REST (path-style `/bucket/key`) over [`Storage`](crate::storage::Storage).

use std::io::SeekFrom;

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode};

use crate::error::S3Error;
use crate::sigv4::{percent_decode, uri_encode};
use crate::state::Inner;
use crate::storage::ObjectInfo;

/// The operation a request names, for routing, throttling and the log.
pub(crate) fn operation(
    method: &Method,
    raw_path: &str,
    query: &[(String, String)],
) -> &'static str {
    let path = String::from_utf8_lossy(&percent_decode(raw_path.as_bytes())).into_owned();
    let trimmed = path.trim_start_matches('/');
    let (bucket, key) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    match (bucket.is_empty(), key.is_empty(), method.as_str()) {
        (true, _, "GET") => "ListBuckets",
        (false, true, "GET") if has("list-type") => "ListObjectsV2",
        (false, true, "GET") if has("location") => "GetBucketLocation",
        (false, true, "GET") => "ListObjects",
        (false, true, "PUT") => "CreateBucket",
        (false, true, "HEAD") => "HeadBucket",
        (false, true, "POST") if has("delete") => "DeleteObjects",
        (false, false, "GET") => "GetObject",
        (false, false, "HEAD") => "HeadObject",
        (false, false, "PUT") => "PutObject",
        (false, false, "DELETE") => "DeleteObject",
        _ => "Unsupported",
    }
}

/// Answers one S3 request; the second value is the error code, if any.
pub(crate) async fn handle(
    inner: &Inner,
    op: &str,
    raw_path: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, S3Error> {
    let path = String::from_utf8_lossy(&percent_decode(raw_path.as_bytes())).into_owned();
    let trimmed = path.trim_start_matches('/');
    let (bucket, key) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let storage = &inner.storage;
    if !bucket.is_empty() && !matches!(op, "CreateBucket") && !storage.bucket_exists(bucket) {
        return Err(S3Error::no_such_bucket(bucket));
    }
    match op {
        "ListBuckets" => {
            let mut xml = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>emulator</ID><DisplayName>emulator</DisplayName></Owner><Buckets>",
            );
            for (name, created) in storage.list_buckets() {
                xml.push_str(&format!(
                    "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate></Bucket>",
                    xml_escape(&name),
                    iso(created.into())
                ));
            }
            xml.push_str("</Buckets></ListAllMyBucketsResult>");
            Ok(xml_response(StatusCode::OK, xml))
        }
        "CreateBucket" => {
            if storage.bucket_path(bucket).is_none() {
                return Err(S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidBucketName",
                    "The specified bucket is not valid.",
                )
                .with_resource(bucket));
            }
            storage
                .create_bucket(bucket)
                .map_err(|e| S3Error::internal(e.to_string()))?;
            Ok(empty(StatusCode::OK))
        }
        "HeadBucket" => Ok(empty(StatusCode::OK)),
        "GetBucketLocation" => Ok(xml_response(
            StatusCode::OK,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{}</LocationConstraint>",
                if inner.region == "us-east-1" {
                    ""
                } else {
                    &inner.region
                }
            ),
        )),
        "ListObjectsV2" | "ListObjects" => {
            list_objects(inner, bucket, op == "ListObjectsV2", query)
        }
        "DeleteObjects" => delete_objects(inner, bucket, &body),
        "GetObject" | "HeadObject" => {
            get_object(inner, bucket, key, headers, op == "HeadObject").await
        }
        "PutObject" => {
            let data = if is_aws_chunked(headers) {
                decode_aws_chunked(&body)?
            } else {
                body.to_vec()
            };
            storage
                .object_path(bucket, key)
                .ok_or_else(|| invalid_key(key))?;
            storage
                .put(bucket, key, &data)
                .map_err(|e| S3Error::internal(e.to_string()))?;
            let info = storage
                .head(bucket, key)
                .ok_or_else(|| S3Error::internal("object vanished after write"))?;
            let mut response = empty(StatusCode::OK);
            insert(&mut response, "etag", &info.etag());
            Ok(response)
        }
        "DeleteObject" => {
            storage
                .delete(bucket, key)
                .map_err(|e| S3Error::internal(e.to_string()))?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        _ => Err(S3Error::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "The emulator does not implement this S3 operation (path-style GetObject, HeadObject, PutObject, ListObjectsV2, DeleteObject(s) are served).",
        )),
    }
}

fn query_param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn invalid_key(key: &str) -> S3Error {
    S3Error::invalid_argument(format!(
        "the emulator stores keys as files: {key:?} must be non-empty, not end in '/', and have no empty, '.' or '..' segments"
    ))
}

fn is_aws_chunked(headers: &HeaderMap) -> bool {
    let sha = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let enc = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    sha.starts_with("STREAMING-") || enc.contains("aws-chunked")
}

/// Decodes `aws-chunked` bodies (`<hex size>[;chunk-signature=..]\r\n<data>\r\n ... 0\r\n<trailers>`).
/// Chunk signatures are not checked.
fn decode_aws_chunked(body: &[u8]) -> Result<Vec<u8>, S3Error> {
    let bad = || {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            "malformed aws-chunked body",
        )
    };
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").ok_or_else(bad)?;
        let line = std::str::from_utf8(&rest[..line_end]).map_err(|_| bad())?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad())?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size {
            return Err(bad());
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size..];
        rest = rest.strip_prefix(b"\r\n").ok_or_else(bad)?;
    }
}

fn list_objects(
    inner: &Inner,
    bucket: &str,
    v2: bool,
    query: &[(String, String)],
) -> Result<Response, S3Error> {
    let q = |name: &str| query_param(query, name);
    let prefix = q("prefix").unwrap_or("");
    let delimiter = q("delimiter").filter(|d| !d.is_empty());
    let max_keys: usize = match q("max-keys") {
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| {
                S3Error::invalid_argument(format!("max-keys {v:?} must be a non-negative integer"))
            })?
            .min(1000),
        None => 1000,
    };
    let url_encode = q("encoding-type") == Some("url");
    let enc = |s: &str| {
        if url_encode {
            uri_encode(s.as_bytes(), false)
        } else {
            xml_escape(s)
        }
    };
    // Position: skip keys up to and including `after`; `after_prefix` skips a whole common prefix.
    let (after, after_prefix) = if v2 {
        match q("continuation-token") {
            Some(token) => {
                let text = URL_SAFE_NO_PAD
                    .decode(token)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        S3Error::invalid_argument("The continuation token provided is incorrect")
                    })?;
                match text.split_once(':') {
                    Some(("p", p)) => (Some(p.to_owned()), true),
                    Some(("k", k)) => (Some(k.to_owned()), false),
                    _ => {
                        return Err(S3Error::invalid_argument(
                            "The continuation token provided is incorrect",
                        ));
                    }
                }
            }
            None => (q("start-after").map(str::to_owned), false),
        }
    } else {
        (q("marker").map(str::to_owned), false)
    };
    let objects = inner.storage.list(bucket, prefix);
    let mut contents: Vec<&ObjectInfo> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut last: Option<String> = None;
    let mut truncated = false;
    for object in &objects {
        if let Some(a) = &after
            && (object.key.as_str() <= a.as_str()
                || (after_prefix && object.key.starts_with(a.as_str())))
        {
            continue;
        }
        let common = delimiter.and_then(|d| {
            object.key[prefix.len()..]
                .find(d)
                .map(|i| object.key[..prefix.len() + i + d.len()].to_owned())
        });
        if let Some(cp) = &common
            && prefixes.last() == Some(cp)
        {
            continue;
        }
        if contents.len() + prefixes.len() >= max_keys {
            truncated = true;
            break;
        }
        match common {
            Some(cp) => {
                last = Some(format!("p:{cp}"));
                prefixes.push(cp);
            }
            None => {
                last = Some(format!("k:{}", object.key));
                contents.push(object);
            }
        }
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    xml.push_str(&format!(
        "<Name>{}</Name><Prefix>{}</Prefix>",
        xml_escape(bucket),
        enc(prefix)
    ));
    if let Some(d) = delimiter {
        xml.push_str(&format!("<Delimiter>{}</Delimiter>", enc(d)));
    }
    if url_encode {
        xml.push_str("<EncodingType>url</EncodingType>");
    }
    xml.push_str(&format!(
        "<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{truncated}</IsTruncated>"
    ));
    if v2 {
        xml.push_str(&format!(
            "<KeyCount>{}</KeyCount>",
            contents.len() + prefixes.len()
        ));
        if let Some(t) = q("continuation-token") {
            xml.push_str(&format!(
                "<ContinuationToken>{}</ContinuationToken>",
                xml_escape(t)
            ));
        }
        if let Some(s) = q("start-after") {
            xml.push_str(&format!("<StartAfter>{}</StartAfter>", enc(s)));
        }
        if truncated && let Some(l) = &last {
            xml.push_str(&format!(
                "<NextContinuationToken>{}</NextContinuationToken>",
                URL_SAFE_NO_PAD.encode(l)
            ));
        }
    } else {
        xml.push_str(&format!(
            "<Marker>{}</Marker>",
            enc(q("marker").unwrap_or(""))
        ));
        if truncated && let Some(l) = &last {
            xml.push_str(&format!("<NextMarker>{}</NextMarker>", enc(&l[2..])));
        }
    }
    for o in contents {
        xml.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            enc(&o.key),
            iso(o.modified.into()),
            xml_escape(&o.etag()),
            o.size
        ));
    }
    for p in prefixes {
        xml.push_str(&format!(
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            enc(&p)
        ));
    }
    xml.push_str("</ListBucketResult>");
    Ok(xml_response(StatusCode::OK, xml))
}

fn delete_objects(inner: &Inner, bucket: &str, body: &[u8]) -> Result<Response, S3Error> {
    let text = std::str::from_utf8(body)
        .map_err(|_| S3Error::new(StatusCode::BAD_REQUEST, "MalformedXML", "body is not UTF-8"))?;
    let key_re = regex::Regex::new(r"(?s)<Key>(.*?)</Key>").unwrap_or_else(|_| unreachable!());
    let quiet = text.contains("<Quiet>true</Quiet>");
    let keys: Vec<String> = key_re
        .captures_iter(text)
        .map(|c| xml_unescape(&c[1]))
        .collect();
    if keys.is_empty() || keys.len() > 1000 {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema (1 to 1000 keys)",
        ));
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
    );
    for key in keys {
        match inner.storage.delete(bucket, &key) {
            Ok(()) if !quiet => xml.push_str(&format!(
                "<Deleted><Key>{}</Key></Deleted>",
                xml_escape(&key)
            )),
            Ok(()) => {}
            Err(e) => xml.push_str(&format!(
                "<Error><Key>{}</Key><Code>InternalError</Code><Message>{}</Message></Error>",
                xml_escape(&key),
                xml_escape(&e.to_string())
            )),
        }
    }
    xml.push_str("</DeleteResult>");
    Ok(xml_response(StatusCode::OK, xml))
}

/// A parsed `Range: bytes=...` header, resolved against the object size: `[start, end)`.
fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let invalid = || {
        S3Error::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| invalid())?;
            if n == 0 {
                return Err(invalid());
            }
            (size.saturating_sub(n), size)
        }
        (s, "") => (s.parse().map_err(|_| invalid())?, size),
        (s, e) => {
            let s: u64 = s.parse().map_err(|_| invalid())?;
            let e: u64 = e.parse().map_err(|_| invalid())?;
            if e < s {
                return Ok(None);
            }
            (s, (e + 1).min(size))
        }
    };
    if start >= size {
        return Err(invalid());
    }
    Ok(Some((start, end)))
}

async fn get_object(
    inner: &Inner,
    bucket: &str,
    key: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, S3Error> {
    let info = inner
        .storage
        .head(bucket, key)
        .ok_or_else(|| S3Error::no_such_key(key))?;
    let etag = info.etag();
    if let Some(want) = headers.get("if-none-match").and_then(|v| v.to_str().ok())
        && (want == etag || want == "*")
    {
        return Ok(empty(StatusCode::NOT_MODIFIED));
    }
    if let Some(want) = headers.get("if-match").and_then(|v| v.to_str().ok())
        && want != etag
        && want != "*"
    {
        return Err(S3Error::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        ));
    }
    let range = match headers
        .get(http::header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        Some(r) => parse_range(r, info.size)?,
        None => None,
    };
    let (start, end) = range.unwrap_or((0, info.size));
    let length = end - start;
    let status = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let body = if head {
        Body::empty()
    } else {
        if inner.faults.roll_s3_get_failure() {
            return Err(S3Error::internal(
                "We encountered an internal error. Please try again. (injected fault)",
            ));
        }
        let cut = inner.faults.roll_s3_truncate().then_some(length / 2);
        let path = inner
            .storage
            .object_path(bucket, key)
            .ok_or_else(|| invalid_key(key))?;
        let file = tokio::task::spawn_blocking(move || {
            use std::io::Seek;
            let mut file = std::fs::File::open(&path)?;
            file.seek(SeekFrom::Start(start))?;
            Ok::<_, std::io::Error>(file)
        })
        .await
        .map_err(|e| S3Error::internal(e.to_string()))?
        .map_err(|_| S3Error::no_such_key(key))?;
        Body::from_stream(body_stream(file, length, cut))
    };
    let mut response = Response::builder()
        .status(status)
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()));
    insert(&mut response, "content-length", &length.to_string());
    insert(
        &mut response,
        "content-type",
        if key.ends_with(".csv") {
            "text/csv"
        } else {
            "application/octet-stream"
        },
    );
    insert(&mut response, "etag", &etag);
    insert(
        &mut response,
        "last-modified",
        &http_date(info.modified.into()),
    );
    insert(&mut response, "accept-ranges", "bytes");
    if range.is_some() {
        insert(
            &mut response,
            "content-range",
            &format!("bytes {start}-{}/{}", end.saturating_sub(1), info.size),
        );
    }
    Ok(response)
}

/// Bytes read from disk per body chunk: one blocking read each, straight into the buffer the
/// response sends (1 MiB: few thread-pool hops, and the socket is written while the next
/// chunk is read).
const CHUNK: u64 = 1024 * 1024;

fn body_stream(
    file: std::fs::File,
    remaining: u64,
    cut_after: Option<u64>,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send {
    futures::stream::unfold(
        (Some(file), remaining, cut_after),
        |(file, remaining, cut)| async move {
            let file = file?;
            if remaining == 0 {
                return None;
            }
            if cut == Some(0) {
                return Some((
                    Err(std::io::Error::other("injected fault: body cut mid-stream")),
                    (None, 0, None),
                ));
            }
            let n = remaining.min(CHUNK).min(cut.unwrap_or(u64::MAX));
            let read = tokio::task::spawn_blocking(move || {
                use std::io::Read;
                let mut buf = Vec::with_capacity(n as usize);
                let mut file = file;
                (&mut file).take(n).read_to_end(&mut buf)?;
                if buf.len() as u64 != n {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "object shorter than its recorded size",
                    ));
                }
                Ok((file, buf))
            })
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
            match read {
                Ok((file, buf)) => Some((
                    Ok(Bytes::from(buf)),
                    (Some(file), remaining - n, cut.map(|c| c - n)),
                )),
                Err(e) => Some((Err(e), (None, 0, None))),
            }
        },
    )
}

fn insert(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = http::HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
}

fn empty(status: StatusCode) -> Response {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn xml_response(status: StatusCode, xml: String) -> Response {
    let mut response = Response::builder()
        .status(status)
        .body(Body::from(xml))
        .unwrap_or_else(|_| Response::new(Body::empty()));
    insert(&mut response, "content-type", "application/xml");
    response
}

/// S3's XML error document (no body for HEAD requests).
pub(crate) fn error_response(error: &S3Error, head: bool, request_id: &str) -> Response {
    if head {
        let mut r = empty(error.status);
        insert(&mut r, "x-amz-error-code", error.code);
        return r;
    }
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>",
        error.code,
        xml_escape(&error.message)
    );
    if let Some(resource) = &error.resource {
        let tag = if error.code == "NoSuchBucket" {
            "BucketName"
        } else {
            "Key"
        };
        xml.push_str(&format!("<{tag}>{}</{tag}>", xml_escape(resource)));
    }
    xml.push_str(&format!("<RequestId>{request_id}</RequestId></Error>"));
    xml_response(error.status, xml)
}

pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), Some((90, 100)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 100)));
        assert_eq!(parse_range("bytes=95-200", 100).unwrap(), Some((95, 100)));
        assert!(parse_range("bytes=100-", 100).is_err());
        assert_eq!(parse_range("items=1-2", 100).unwrap(), None);
    }

    #[test]
    fn aws_chunked() {
        let body =
            b"3;chunk-signature=abc\r\nabc\r\n2\r\nde\r\n0\r\nx-amz-checksum-crc32:xyz\r\n\r\n";
        assert_eq!(decode_aws_chunked(body).unwrap(), b"abcde");
        assert!(decode_aws_chunked(b"zz\r\n").is_err());
    }
}
