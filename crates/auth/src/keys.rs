//! Static access keys: an IAM user's or the root account's, optionally with a session token
//! (temporary credentials).

use aws_credential_types::Credentials;
use datafusion_athena_config::ConnectionOptions;

use crate::error::{Error, Result};

/// What the static keys are called in the credentials the SDK sees.
pub(crate) const PROVIDER_NAME: &str = "datafusion-athena-keys";

/// `AWSAccessKey` + `AWSSecretKey` (+ `AWSSessionToken`). `require_token` is set for
/// `AwsTempCredentials`.
pub(crate) fn static_credentials(
    scheme: &'static str,
    opts: &ConnectionOptions,
    require_token: bool,
) -> Result<Credentials> {
    let a = &opts.auth;
    let access_key = a.access_key.as_deref().filter(|k| !k.trim().is_empty()).ok_or(
        Error::MissingOption {
            scheme,
            option: "AWSAccessKey",
            hint: "set AWSAccessKey and AWSSecretKey, or leave AuthScheme unset to use the default AWS credential chain",
        },
    )?;
    let secret_key =
        a.secret_key
            .as_ref()
            .filter(|k| !k.is_empty())
            .ok_or(Error::MissingOption {
                scheme,
                option: "AWSSecretKey",
                hint: "set the secret key that belongs to AWSAccessKey",
            })?;
    let token = a.session_token.as_ref().filter(|t| !t.is_empty());
    if require_token && token.is_none() {
        return Err(Error::MissingOption {
            scheme,
            option: "AWSSessionToken",
            hint: "temporary credentials need the session token STS issued with them",
        });
    }
    Ok(Credentials::new(
        access_key.trim(),
        secret_key.expose(),
        token.map(|t| t.expose().to_string()),
        None,
        PROVIDER_NAME,
    ))
}

/// Whether both keys are given.
pub(crate) fn has_keys(opts: &ConnectionOptions) -> bool {
    opts.auth
        .access_key
        .as_deref()
        .is_some_and(|k| !k.trim().is_empty())
        && opts.auth.secret_key.as_ref().is_some_and(|k| !k.is_empty())
}
