//! The `CredentialsLocation` file: credentials obtained with a single-use MFA code, kept as JSON
//! (mode 0600) and reused by later connections until they expire.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::context::AuthContext;
use crate::error::{Error, Result};

/// The file's JSON, in the shape of STS's `Credentials` plus what they were obtained for.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CachedCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    /// RFC 3339, as STS writes it.
    expiration: String,
    /// What the credentials were obtained for (operation, MFA device, role, source key id): a
    /// file written for another identity is not reused.
    source: String,
}

/// Credentials from the cache file when it exists, was written for `source` and stays valid
/// beyond the refresh margin. A missing file is `Ok(None)`; an unreadable one is an error.
pub(crate) fn load(
    scheme: &'static str,
    path: &Path,
    source: &str,
    ctx: &AuthContext,
    provider_name: &'static str,
) -> Result<Option<Credentials>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Cache {
                scheme,
                path: path.to_path_buf(),
                message:
                    "cannot read it; fix its permissions or point CredentialsLocation elsewhere"
                        .into(),
                source: Some(Box::new(e)),
            });
        }
    };
    let cached: CachedCredentials = match serde_json::from_str(&text) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(scheme, path = %path.display(), "ignoring unreadable credentials cache: {e}");
            return Ok(None);
        }
    };
    if cached.source != source {
        return Ok(None);
    }
    let Ok(expiration) = DateTime::parse_from_rfc3339(&cached.expiration) else {
        tracing::warn!(scheme, path = %path.display(), "ignoring credentials cache with a bad Expiration");
        return Ok(None);
    };
    let expiry = SystemTime::from(expiration.with_timezone(&Utc));
    if expiry <= ctx.now() + ctx.refresh_before_expiry() {
        return Ok(None);
    }
    Ok(Some(Credentials::new(
        cached.access_key_id,
        cached.secret_access_key,
        cached.session_token,
        Some(expiry),
        provider_name,
    )))
}

/// Writes `creds` to the cache file with mode 0600 (owner read/write only).
pub(crate) fn store(
    scheme: &'static str,
    path: &Path,
    source: &str,
    creds: &Credentials,
) -> Result<()> {
    let cache_err = |message: &str, e: Option<crate::error::BoxError>| Error::Cache {
        scheme,
        path: path.to_path_buf(),
        message: message.to_string(),
        source: e,
    };
    let expiry = creds
        .expiry()
        .ok_or_else(|| cache_err("credentials without expiry are not cached", None))?;
    let cached = CachedCredentials {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: creds.secret_access_key().to_string(),
        session_token: creds.session_token().map(str::to_string),
        expiration: DateTime::<Utc>::from(expiry).to_rfc3339(),
        source: source.to_string(),
    };
    let json = serde_json::to_vec_pretty(&cached)
        .map_err(|e| cache_err("cannot encode credentials", Some(Box::new(e))))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| cache_err("cannot create its directory", Some(Box::new(e))))?;
    }
    write_private(&json, path).map_err(|(m, e)| cache_err(m, Some(e)))
}

/// Writes `bytes` to `path` readable and writable by the owner only (mode 0600 on Unix).
pub(crate) fn write_private(
    bytes: &[u8],
    path: &Path,
) -> std::result::Result<(), (&'static str, crate::error::BoxError)> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        (
            "cannot write it; check the path",
            Box::new(e) as crate::error::BoxError,
        )
    })?;
    #[cfg(unix)]
    {
        // An existing file keeps its mode on open: tighten it before writing secrets into it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| {
                (
                    "cannot restrict it to mode 0600",
                    Box::new(e) as crate::error::BoxError,
                )
            })?;
    }
    file.write_all(bytes)
        .map_err(|e| ("cannot write it", Box::new(e) as crate::error::BoxError))?;
    Ok(())
}
