//! S3 objects kept as files: `<root>/<bucket>/<key>`. Names starting with `.` at the root are
//! the emulator's own (temporary files, managed query results) and never buckets.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// An object's listing entry.
#[derive(Debug, Clone)]
pub(crate) struct ObjectInfo {
    pub(crate) key: String,
    pub(crate) size: u64,
    pub(crate) modified: SystemTime,
}

impl ObjectInfo {
    /// A stable entity tag derived from size and modification time.
    pub(crate) fn etag(&self) -> String {
        let nanos = self
            .modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("\"{:x}-{nanos:x}\"", self.size)
    }
}

/// The directory holding every bucket.
#[derive(Debug)]
pub(crate) struct Storage {
    root: PathBuf,
}

/// A parsed `s3://bucket/prefix` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Location {
    pub(crate) bucket: String,
    pub(crate) key: String,
}

impl S3Location {
    /// Parses `s3://bucket/key...`.
    pub(crate) fn parse(uri: &str) -> Option<Self> {
        let rest = uri.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        valid_bucket(bucket).then(|| Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The key with a trailing `/` (a "directory" prefix).
    pub(crate) fn prefix(&self) -> String {
        if self.key.is_empty() || self.key.ends_with('/') {
            self.key.clone()
        } else {
            format!("{}/", self.key)
        }
    }
}

/// Whether `name` is a bucket name S3 would accept (3..63 of lower case letters, digits, `.`, `-`).
pub(crate) fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

impl Storage {
    pub(crate) fn new(root: PathBuf) -> Result<Self> {
        for dir in [root.join(".tmp"), root.join(".managed")] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        Ok(Self { root })
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Where temporary files go before they are renamed into place.
    pub(crate) fn temp_path(&self, name: &str) -> PathBuf {
        self.root.join(".tmp").join(name)
    }

    /// Where results of a managed-results workgroup go (not visible through S3).
    pub(crate) fn managed_path(&self, name: &str) -> PathBuf {
        self.root.join(".managed").join(name)
    }

    pub(crate) fn bucket_path(&self, bucket: &str) -> Option<PathBuf> {
        valid_bucket(bucket).then(|| self.root.join(bucket))
    }

    pub(crate) fn bucket_exists(&self, bucket: &str) -> bool {
        self.bucket_path(bucket).is_some_and(|p| p.is_dir())
    }

    pub(crate) fn create_bucket(&self, bucket: &str) -> std::io::Result<()> {
        match self.bucket_path(bucket) {
            Some(path) => std::fs::create_dir_all(path),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "invalid bucket name",
            )),
        }
    }

    pub(crate) fn list_buckets(&self) -> Vec<(String, SystemTime)> {
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if valid_bucket(&name) && entry.path().is_dir() {
                    let created = entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(SystemTime::UNIX_EPOCH);
                    out.push((name, created));
                }
            }
        }
        out.sort();
        out
    }

    /// The file of `bucket/key`, or `None` when the key cannot be a file name here
    /// (empty, `.`/`..` segments, trailing `/`).
    pub(crate) fn object_path(&self, bucket: &str, key: &str) -> Option<PathBuf> {
        let mut path = self.bucket_path(bucket)?;
        if key.is_empty() || key.ends_with('/') {
            return None;
        }
        for segment in key.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return None;
            }
            path.push(segment);
        }
        Some(path)
    }

    pub(crate) fn head(&self, bucket: &str, key: &str) -> Option<ObjectInfo> {
        let path = self.object_path(bucket, key)?;
        let meta = std::fs::metadata(&path).ok()?;
        meta.is_file().then(|| ObjectInfo {
            key: key.to_owned(),
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        })
    }

    /// Writes an object atomically (temp file, then rename).
    pub(crate) fn put(&self, bucket: &str, key: &str, body: &[u8]) -> std::io::Result<()> {
        let path = self
            .object_path(bucket, key)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "invalid key"))?;
        self.put_path(&path, body)
    }

    /// Writes bytes to a file under the root atomically.
    pub(crate) fn put_path(&self, path: &Path, body: &[u8]) -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = self.temp_path(&uuid::Uuid::new_v4().to_string());
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, path)
    }

    /// Deletes an object; deleting a missing object succeeds, as in S3.
    pub(crate) fn delete(&self, bucket: &str, key: &str) -> std::io::Result<()> {
        let Some(path) = self.object_path(bucket, key) else {
            return Ok(());
        };
        match std::fs::remove_file(&path) {
            Ok(()) => {
                // Remove directories left empty, up to the bucket.
                let bucket_dir = self.root.join(bucket);
                let mut dir = path.parent().map(Path::to_path_buf);
                while let Some(d) = dir {
                    if d == bucket_dir || std::fs::remove_dir(&d).is_err() {
                        break;
                    }
                    dir = d.parent().map(Path::to_path_buf);
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every object of the bucket whose key starts with `prefix`, sorted by key.
    pub(crate) fn list(&self, bucket: &str, prefix: &str) -> Vec<ObjectInfo> {
        let mut out = Vec::new();
        let Some(root) = self.bucket_path(bucket) else {
            return out;
        };
        // Only walk the directory the prefix points into.
        let start_dir = match prefix.rfind('/') {
            Some(i) => root.join(&prefix[..i]),
            None => root.clone(),
        };
        let mut stack = vec![start_dir];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(meta) = entry.metadata() else { continue };
                if meta.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&root) {
                    let key = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    if key.starts_with(prefix) {
                        out.push(ObjectInfo {
                            key,
                            size: meta.len(),
                            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::new(dir.path().to_path_buf()).unwrap();
        storage.create_bucket("bkt").unwrap();
        storage.put("bkt", "a/b/c.txt", b"xyz").unwrap();
        storage.put("bkt", "a/d.txt", b"1").unwrap();
        storage.put("bkt", "e.txt", b"22").unwrap();
        let keys: Vec<_> = storage
            .list("bkt", "a/")
            .into_iter()
            .map(|o| o.key)
            .collect();
        assert_eq!(keys, ["a/b/c.txt", "a/d.txt"]);
        assert_eq!(storage.list("bkt", "").len(), 3);
        assert_eq!(storage.head("bkt", "a/b/c.txt").unwrap().size, 3);
        assert!(storage.object_path("bkt", "../x").is_none());
        assert!(storage.object_path("bkt", "a/").is_none());
        storage.delete("bkt", "a/b/c.txt").unwrap();
        assert!(!dir.path().join("bkt/a/b").exists());
        assert_eq!(storage.list_buckets().len(), 1);
        assert_eq!(
            S3Location::parse("s3://bkt/x/y"),
            Some(S3Location {
                bucket: "bkt".into(),
                key: "x/y".into()
            })
        );
        assert_eq!(S3Location::parse("s3://bkt/x").unwrap().prefix(), "x/");
        assert!(S3Location::parse("http://x").is_none());
    }
}
