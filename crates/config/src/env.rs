//! Options from the environment: `ATHENA_CONNECTION` plus the standard AWS variables for what
//! the connection string leaves unset.

use std::path::PathBuf;

use crate::apply::{parse_region, process_env};
use crate::{AuthScheme, ConnectionOptions, Result};

/// The variable holding a connection string.
pub const CONNECTION_ENV: &str = "ATHENA_CONNECTION";

impl ConnectionOptions {
    /// Reads `ATHENA_CONNECTION` (a connection string, may be absent) and fills what it leaves
    /// unset from the standard AWS variables, then validates:
    ///
    /// - `AWS_REGION`, then `AWS_DEFAULT_REGION` → `AWSRegion`;
    /// - `AWS_ENDPOINT_URL` → `Endpoint`; `AWS_ENDPOINT_URL_ATHENA`, `_GLUE`, `_S3`, `_STS` →
    ///   the per-service endpoints; `AWS_EC2_METADATA_SERVICE_ENDPOINT` → `IMDSEndpoint`
    ///   (none of them when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`);
    /// - with `AuthScheme=AwsCredentialsFile`: `AWS_SHARED_CREDENTIALS_FILE` →
    ///   `AWSCredentialsFile`, `AWS_PROFILE` → `AWSCredentialsFileProfile`;
    /// - with `AuthScheme=AwsWebIdentity`: `AWS_ROLE_ARN` → `AWSRoleARN`,
    ///   `AWS_WEB_IDENTITY_TOKEN_FILE` → `AWSWebIdentityTokenFile`.
    ///
    /// Credentials themselves (`AWS_ACCESS_KEY_ID`, ...) are left to the standard AWS chain.
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(process_env)
    }

    /// [`Self::from_env`] reading variables through `env` (`name -> value`), so that tests and
    /// callers with their own configuration source are deterministic.
    pub fn from_env_with(env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let connection = env(CONNECTION_ENV).unwrap_or_default();
        let mut options = Self::parse_unvalidated(&connection)?;
        options.fill_from_env(&env)?;
        options.validate_with(env)?;
        Ok(options)
    }

    /// Fills unset options from the standard AWS variables (see [`Self::from_env`]).
    pub fn fill_from_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if self.region.is_none() {
            for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
                if let Some(v) = get(name) {
                    self.region = Some(parse_region(name, &v)?);
                    break;
                }
            }
        }
        let ignore_endpoints = get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if !ignore_endpoints {
            let e = &mut self.endpoints;
            for (slot, name) in [
                (&mut e.all, "AWS_ENDPOINT_URL"),
                (&mut e.athena, "AWS_ENDPOINT_URL_ATHENA"),
                (&mut e.glue, "AWS_ENDPOINT_URL_GLUE"),
                (&mut e.s3, "AWS_ENDPOINT_URL_S3"),
                (&mut e.sts, "AWS_ENDPOINT_URL_STS"),
                (&mut e.imds, "AWS_EC2_METADATA_SERVICE_ENDPOINT"),
            ] {
                if slot.is_none() {
                    *slot = get(name);
                }
            }
        }
        let auth = &mut self.auth;
        match auth.scheme {
            Some(AuthScheme::AwsCredentialsFile) => {
                if auth.credentials_file.is_none() {
                    auth.credentials_file = get("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from);
                }
                if auth.credentials_file_profile.is_none() {
                    auth.credentials_file_profile = get("AWS_PROFILE");
                }
            }
            Some(AuthScheme::AwsWebIdentity) => {
                if auth.role_arn.is_none() {
                    auth.role_arn = get("AWS_ROLE_ARN");
                }
                if auth.web_identity_token.is_none() && auth.web_identity_token_file.is_none() {
                    auth.web_identity_token_file =
                        get("AWS_WEB_IDENTITY_TOKEN_FILE").map(PathBuf::from);
                }
            }
            _ => {}
        }
        Ok(())
    }
}
