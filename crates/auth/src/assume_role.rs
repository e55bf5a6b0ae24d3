//! STS AssumeRole (`AWSRoleARN`, `AWSExternalId`, optional MFA) signed by base credentials:
//! access keys, the default chain or the EC2 instance role.

use std::path::PathBuf;

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use datafusion_athena_config::ConnectionOptions;

use crate::cache;
use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::mfa::MfaCode;
use crate::refresh::Fetch;
use crate::sts;

const STEP: &str = "STS AssumeRole";
const PROVIDER_NAME: &str = "datafusion-athena-assume-role";

/// AssumeRole on top of `base`. With MFA the result is cached like AwsMFA's (the code is
/// single-use); without, every refresh assumes the role again.
#[derive(Debug)]
pub(crate) struct AssumeRole {
    scheme: &'static str,
    sts: aws_sdk_sts::Client,
    role_arn: String,
    external_id: Option<String>,
    duration: i32,
    mfa: Option<MfaCode>,
    cache: Option<PathBuf>,
    source: String,
    ctx: AuthContext,
}

impl AssumeRole {
    /// The role of `opts` (`AWSRoleARN` must be set).
    pub(crate) fn new(
        scheme: &'static str,
        opts: &ConnectionOptions,
        ctx: &AuthContext,
        base: SharedCredentialsProvider,
        base_name: &str,
    ) -> Result<Self> {
        let role_arn = role_arn(scheme, opts)?.ok_or(Error::MissingOption {
            scheme,
            option: "AWSRoleARN",
            hint: "set AWSRoleARN to the ARN of the role to assume",
        })?;
        let mfa = MfaCode::from_opts(scheme, opts)?;
        let source = format!(
            "AssumeRole {role_arn} {} {base_name}",
            mfa.as_ref().map(|m| m.serial.as_str()).unwrap_or("-")
        );
        Ok(Self {
            scheme,
            sts: sts::client(opts, ctx, Some(base)),
            external_id: opts
                .auth
                .external_id
                .clone()
                .filter(|e| !e.trim().is_empty()),
            duration: sts::duration_seconds(scheme, opts)?,
            role_arn,
            mfa,
            cache: opts.auth.credentials_location.clone(),
            source,
            ctx: ctx.clone(),
        })
    }
}

/// `AWSRoleARN`, checked to look like a role ARN.
pub(crate) fn role_arn(scheme: &'static str, opts: &ConnectionOptions) -> Result<Option<String>> {
    let Some(arn) = opts
        .auth
        .role_arn
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    else {
        return Ok(None);
    };
    if !(arn.starts_with("arn:") && arn.contains(":role/")) {
        return Err(Error::InvalidOption {
            scheme,
            option: "AWSRoleARN",
            message: format!("'{arn}' is not a role ARN (arn:aws:iam::<account>:role/<name>)"),
        });
    }
    Ok(Some(arn.to_string()))
}

#[async_trait]
impl Fetch for AssumeRole {
    async fn fetch(&self) -> Result<Credentials> {
        let cache = self.cache.as_ref().filter(|_| self.mfa.is_some());
        if let Some(path) = cache
            && let Some(c) = cache::load(self.scheme, path, &self.source, &self.ctx, PROVIDER_NAME)?
        {
            return Ok(c);
        }
        let mut call = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(sts::session_name(&self.ctx))
            .duration_seconds(self.duration)
            .set_external_id(self.external_id.clone());
        if let Some(mfa) = &self.mfa {
            call = call
                .serial_number(&mfa.serial)
                .token_code(mfa.take(self.scheme, STEP)?);
        }
        let out = call
            .send()
            .await
            .map_err(|e| Error::call(self.scheme, STEP, e))?;
        let creds = sts::credentials(self.scheme, STEP, out.credentials(), PROVIDER_NAME)?;
        if let Some(path) = cache {
            cache::store(self.scheme, path, &self.source, &creds)?;
        }
        Ok(creds)
    }
}
