//! S3 URLs: `s3://bucket/prefix/` locations ([`S3Location`]) and `s3://bucket/key` objects
//! ([`S3Object`]). The workspace's one S3 URL parser.

use std::fmt;

/// An S3 location `s3://bucket/prefix/`. The prefix is empty or ends with `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Location {
    bucket: String,
    prefix: String,
}

/// One S3 object `s3://bucket/key` (a result CSV, a data manifest, an UNLOAD file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Object {
    bucket: String,
    key: String,
}

/// Splits `s3://bucket/rest` into a validated bucket and the rest. Returns a message saying
/// what is wrong otherwise; `expected` names the form wanted (for the message).
fn split(url: &str, expected: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("'{url}' is not an S3 URL: expected {expected}"))?;
    let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.']);
    if !valid_bucket {
        return Err(format!(
            "'{url}' has no valid bucket name: expected {expected} with a bucket of 3-63 lower-case letters, digits, '.' or '-'"
        ));
    }
    if path.contains("//") {
        return Err(format!("'{url}' has an empty path segment ('//')"));
    }
    Ok((bucket.to_string(), path.to_string()))
}

impl S3Location {
    /// Parses `s3://bucket/prefix/`; a missing trailing `/` is added. Returns a message saying
    /// what is wrong otherwise.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (bucket, mut prefix) = split(url, "s3://bucket/prefix/")?;
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Self { bucket, prefix })
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix: empty, or ending with `/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The location `dir/` under this prefix (`dir` may hold several segments; empty segments
    /// are dropped).
    pub fn child(&self, dir: &str) -> Self {
        let mut prefix = self.prefix.clone();
        for segment in dir.split('/').filter(|s| !s.is_empty()) {
            prefix.push_str(segment);
            prefix.push('/');
        }
        Self {
            bucket: self.bucket.clone(),
            prefix,
        }
    }

    /// The object `name` under this prefix.
    pub fn object(&self, name: &str) -> S3Object {
        S3Object {
            bucket: self.bucket.clone(),
            key: format!("{}{}", self.prefix, name.trim_start_matches('/')),
        }
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

impl S3Object {
    /// Parses `s3://bucket/key` (the key not empty). Returns a message saying what is wrong
    /// otherwise.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (bucket, key) = split(url, "s3://bucket/key")?;
        if key.is_empty() || key.ends_with('/') {
            return Err(format!("'{url}' names no object: expected s3://bucket/key"));
        }
        Ok(Self { bucket, key })
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for S3Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_objects_share_one_parser() {
        let l = S3Location::parse("s3://bucket/stage").unwrap();
        assert_eq!((l.bucket(), l.prefix()), ("bucket", "stage/"));
        assert_eq!(l.to_string(), "s3://bucket/stage/");
        let u = l.child("unload/abc/");
        assert_eq!(u.to_string(), "s3://bucket/stage/unload/abc/");
        let o = u.object("part-0.parquet");
        assert_eq!(
            (o.bucket(), o.key()),
            ("bucket", "stage/unload/abc/part-0.parquet")
        );
        assert_eq!(S3Object::parse(&o.to_string()).unwrap(), o);

        for bad in [
            "https://x/y",
            "s3:///y",
            "s3a://bucket/k",
            "s3://B_ucket/k",
            "s3://bk",
        ] {
            assert!(S3Object::parse(bad).is_err(), "{bad}");
            assert!(S3Location::parse(bad).is_err(), "{bad}");
        }
        assert!(S3Object::parse("s3://bucket/").is_err());
        assert!(S3Object::parse("s3://bucket/dir/").is_err());
        assert!(S3Object::parse("s3://bucket/a//b").is_err());
        let e = S3Object::parse("s3://bucket").unwrap_err();
        assert!(e.contains("names no object"), "{e}");
    }
}
