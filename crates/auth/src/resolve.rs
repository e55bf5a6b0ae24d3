//! The entry points: connection options in, a credentials provider / SDK config out.

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::identity::IdentityCache;
use aws_config::provider_config::ProviderConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use datafusion_athena_config::{AuthScheme, ConnectionOptions};

use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::keys;
use crate::refresh::SchemeProvider;

/// The name of the scheme `opts` selects: the AuthScheme, or `AwsIAMKeys` /
/// `AwsTempCredentials` when keys are given without one, or `Default` for the AWS chain.
pub fn scheme_name(opts: &ConnectionOptions) -> &'static str {
    match opts.auth.scheme {
        Some(s) => s.as_str(),
        None if keys::has_keys(opts) && opts.auth.session_token.is_some() => {
            AuthScheme::AwsTempCredentials.as_str()
        }
        None if keys::has_keys(opts) => AuthScheme::AwsIamKeys.as_str(),
        None => AuthScheme::Default.as_str(),
    }
}

/// The credentials provider for `opts`, shared by every AWS client and the S3 result reader.
/// Interactive and STS-backed schemes log in once here, so a wrong password or a rejected MFA
/// code is reported now (as an [`Error`] naming scheme, step and cause), not at the first query.
pub async fn credentials_provider(opts: &ConnectionOptions) -> Result<SharedCredentialsProvider> {
    credentials_provider_with(opts, &AuthContext::new()).await
}

/// [`credentials_provider`] with an explicit clock and environment.
pub async fn credentials_provider_with(
    opts: &ConnectionOptions,
    ctx: &AuthContext,
) -> Result<SharedCredentialsProvider> {
    let scheme = scheme_name(opts);
    match opts.auth.scheme {
        None if keys::has_keys(opts) => Ok(SharedCredentialsProvider::new(
            keys::static_credentials(scheme, opts, false)?,
        )),
        None | Some(AuthScheme::Default) => default_chain(opts, ctx).await,
        Some(AuthScheme::AwsRootKeys | AuthScheme::AwsIamKeys) => Ok(
            SharedCredentialsProvider::new(keys::static_credentials(scheme, opts, false)?),
        ),
        Some(AuthScheme::AwsTempCredentials) => Ok(SharedCredentialsProvider::new(
            keys::static_credentials(scheme, opts, true)?,
        )),
        Some(_) => {
            let provider = scheme_provider_with(opts, ctx).await?;
            provider.credentials().await?;
            Ok(SharedCredentialsProvider::new(provider))
        }
    }
}

/// The [`SchemeProvider`] of a scheme that logs in or calls STS (everything except static keys
/// and the default chain). Nothing is fetched yet.
pub async fn scheme_provider_with(
    opts: &ConnectionOptions,
    ctx: &AuthContext,
) -> Result<SchemeProvider> {
    let scheme = scheme_name(opts);
    let Some(s) = opts.auth.scheme else {
        return Err(Error::InvalidOption {
            scheme,
            option: "AuthScheme",
            message: "no AuthScheme is set; static keys and the default chain need no login".into(),
        });
    };
    crate::schemes::provider_for(s, opts, ctx).await
}

/// An `SdkConfig` with the region and credentials of `opts` (and the context's clock, so the
/// SDK's identity cache expires credentials by it). No endpoint: endpoints are set per client.
/// Fails with [`Error::MissingRegion`] when neither `opts` nor the environment name a region.
pub async fn sdk_config(opts: &ConnectionOptions) -> Result<SdkConfig> {
    sdk_config_with(opts, &AuthContext::new()).await
}

/// [`sdk_config`] with an explicit clock and environment.
pub async fn sdk_config_with(opts: &ConnectionOptions, ctx: &AuthContext) -> Result<SdkConfig> {
    let provider = credentials_provider_with(opts, ctx).await?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(provider)
        .time_source(ctx.time_source())
        // Clients refresh (by the context's clock) within the same margin as SchemeProvider;
        // the SDK subtracts up to half of it as jitter.
        .identity_cache(
            IdentityCache::lazy()
                .buffer_time(ctx.refresh_before_expiry())
                .build(),
        );
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.code().to_string()));
    }
    let config = loader.load().await;
    region_of(opts, &config)?;
    Ok(config)
}

/// The region of `config` (built for `opts`), or [`Error::MissingRegion`]: every client needs
/// one.
pub fn region_of<'a>(opts: &ConnectionOptions, config: &'a SdkConfig) -> Result<&'a Region> {
    config.region().ok_or(Error::MissingRegion {
        scheme: scheme_name(opts),
    })
}

/// The standard AWS chain: environment, profile, web identity, container, instance metadata.
pub(crate) async fn default_chain(
    opts: &ConnectionOptions,
    ctx: &AuthContext,
) -> Result<SharedCredentialsProvider> {
    let conf = ProviderConfig::without_region().with_time_source(ctx.time_source());
    let mut chain = DefaultCredentialsChain::builder().configure(conf);
    if let Some(region) = &opts.region {
        chain = chain.region(Region::new(region.code().to_string()));
    }
    if let Some(endpoint) = opts.endpoints.imds.as_deref() {
        chain = chain.imds_client(crate::imds::aws_client(
            AuthScheme::Default.as_str(),
            endpoint,
        )?);
    }
    Ok(SharedCredentialsProvider::new(chain.build().await))
}
