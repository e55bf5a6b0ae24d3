//! AwsMFA: STS GetSessionToken with an MFA device's current code, and the one-shot rule every
//! MFA code follows (AssumeRole with MFA uses it too).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use datafusion_athena_config::{ConnectionOptions, Secret};

use crate::cache;
use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::refresh::Fetch;
use crate::sts;

/// `MFASerialNumber` + `MFAToken`. A code works once: when credentials obtained with it expire,
/// the user must connect again with a new code (no silent refresh is possible).
#[derive(Debug)]
pub(crate) struct MfaCode {
    pub(crate) serial: String,
    code: Secret,
    used: AtomicBool,
}

impl MfaCode {
    /// The MFA settings of `opts`; `None` when neither is set. Half of the pair is an error.
    pub(crate) fn from_opts(
        scheme: &'static str,
        opts: &ConnectionOptions,
    ) -> Result<Option<Self>> {
        let serial = opts
            .auth
            .mfa_serial_number
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let code = opts.auth.mfa_token.as_ref().filter(|t| !t.is_empty());
        match (serial, code) {
            (None, None) => Ok(None),
            (Some(serial), Some(code)) => Ok(Some(Self {
                serial: serial.to_string(),
                code: code.clone(),
                used: AtomicBool::new(false),
            })),
            (Some(_), None) => Err(Error::MissingOption {
                scheme,
                option: "MFAToken",
                hint: "set MFAToken to the current code of the MFA device named by MFASerialNumber",
            }),
            (None, Some(_)) => Err(Error::MissingOption {
                scheme,
                option: "MFASerialNumber",
                hint: "set MFASerialNumber to the ARN (or serial) of the MFA device MFAToken comes from",
            }),
        }
    }

    /// The code, the first time only.
    pub(crate) fn take(&self, scheme: &'static str, step: &'static str) -> Result<&str> {
        if self.used.swap(true, Ordering::SeqCst) {
            return Err(Error::Rejected {
                scheme,
                step,
                message: "the credentials obtained with MFAToken have expired and an MFA code works only once: connect again with a new MFAToken".into(),
            });
        }
        Ok(self.code.expose())
    }
}

const SCHEME: &str = "AwsMFA";
const STEP: &str = "STS GetSessionToken";
const PROVIDER_NAME: &str = "datafusion-athena-mfa";

/// GetSessionToken signed by the long-term keys, cached in `CredentialsLocation`.
#[derive(Debug)]
pub(crate) struct SessionToken {
    sts: aws_sdk_sts::Client,
    mfa: MfaCode,
    duration: i32,
    cache: Option<PathBuf>,
    source: String,
    ctx: AuthContext,
}

impl SessionToken {
    pub(crate) fn new(opts: &ConnectionOptions, ctx: &AuthContext) -> Result<Self> {
        let keys = crate::keys::static_credentials(SCHEME, opts, false)?;
        let mfa = MfaCode::from_opts(SCHEME, opts)?.ok_or(Error::MissingOption {
            scheme: SCHEME,
            option: "MFASerialNumber",
            hint: "AwsMFA needs MFASerialNumber and MFAToken (the device's current code)",
        })?;
        let source = format!("GetSessionToken {} {}", mfa.serial, keys.access_key_id());
        let signer = aws_credential_types::provider::SharedCredentialsProvider::new(keys);
        Ok(Self {
            sts: sts::client(opts, ctx, Some(signer)),
            duration: sts::duration_seconds(SCHEME, opts)?,
            mfa,
            cache: opts.auth.credentials_location.clone(),
            source,
            ctx: ctx.clone(),
        })
    }
}

#[async_trait]
impl Fetch for SessionToken {
    async fn fetch(&self) -> Result<Credentials> {
        if let Some(path) = &self.cache
            && let Some(c) = cache::load(SCHEME, path, &self.source, &self.ctx, PROVIDER_NAME)?
        {
            return Ok(c);
        }
        let code = self.mfa.take(SCHEME, STEP)?;
        let out = self
            .sts
            .get_session_token()
            .serial_number(&self.mfa.serial)
            .token_code(code)
            .duration_seconds(self.duration)
            .send()
            .await
            .map_err(|e| Error::call(SCHEME, STEP, e))?;
        let creds = sts::credentials(SCHEME, STEP, out.credentials(), PROVIDER_NAME)?;
        if let Some(path) = &self.cache {
            cache::store(SCHEME, path, &self.source, &creds)?;
        }
        Ok(creds)
    }
}
