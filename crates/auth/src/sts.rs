//! STS clients pointed at `STSEndpoint`, and turning STS answers into SDK credentials.

use std::time::SystemTime;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use datafusion_athena_config::ConnectionOptions;

use crate::context::AuthContext;
use crate::error::{Error, Result};

/// The region STS calls go to: `AWSRegion`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else
/// `us-east-1` (STS's global endpoint region).
pub(crate) fn region(opts: &ConnectionOptions, ctx: &AuthContext) -> Region {
    let code = opts
        .region
        .as_ref()
        .map(|r| r.code().to_string())
        .or_else(|| ctx.var("AWS_REGION"))
        .or_else(|| ctx.var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_string());
    Region::new(code)
}

/// An STS client for `opts` (region, `STSEndpoint`, clock). `signer` signs the calls; `None`
/// is for the unsigned calls (AssumeRoleWithSAML, AssumeRoleWithWebIdentity).
pub(crate) fn client(
    opts: &ConnectionOptions,
    ctx: &AuthContext,
    signer: Option<SharedCredentialsProvider>,
) -> aws_sdk_sts::Client {
    let mut conf = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region(opts, ctx))
        .time_source(ctx.time_source());
    if let Some(endpoint) = opts.endpoints.sts() {
        conf = conf.endpoint_url(endpoint);
    }
    if let Some(signer) = signer {
        conf = conf.credentials_provider(signer);
    }
    aws_sdk_sts::Client::from_conf(conf.build())
}

/// SDK credentials from an STS `Credentials` answer.
pub(crate) fn credentials(
    scheme: &'static str,
    step: &'static str,
    creds: Option<&aws_sdk_sts::types::Credentials>,
    provider_name: &'static str,
) -> Result<Credentials> {
    let c = creds.ok_or_else(|| Error::Protocol {
        scheme,
        step,
        message: "STS answered without Credentials".into(),
    })?;
    let expiry = SystemTime::try_from(*c.expiration()).map_err(|e| Error::Protocol {
        scheme,
        step,
        message: format!("STS answered an unusable Expiration: {e}"),
    })?;
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        Some(expiry),
        provider_name,
    ))
}

/// A role session name: `datafusion-athena-<unix seconds>` (STS allows `[\w+=,.@-]{2,64}`).
pub(crate) fn session_name(ctx: &AuthContext) -> String {
    let secs = ctx
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("datafusion-athena-{secs}")
}

/// `TemporaryTokenDuration` (0 means unset: 3600 s), checked against STS's limits.
pub(crate) fn duration_seconds(scheme: &'static str, opts: &ConnectionOptions) -> Result<i32> {
    let d = match opts.auth.temporary_token_duration {
        0 => 3600,
        d => d,
    };
    if !(900..=129_600).contains(&d) {
        return Err(Error::InvalidOption {
            scheme,
            option: "TemporaryTokenDuration",
            message: format!("{d} seconds is outside STS's 900..=129600 (root keys: ..=3600)"),
        });
    }
    i32::try_from(d).map_err(|_| Error::InvalidOption {
        scheme,
        option: "TemporaryTokenDuration",
        message: format!("{d} seconds is too large"),
    })
}
