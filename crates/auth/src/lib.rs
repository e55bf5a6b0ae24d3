//! Credentials for datafusion-athena: every AuthScheme of the CData Athena connector turned into
//! one [`SharedCredentialsProvider`](aws_credential_types::provider::SharedCredentialsProvider)
//! that the Athena, Glue and S3 clients share.
//!
//! Entry points: [`credentials_provider`] and [`sdk_config`] (and their `_with` forms taking an
//! [`AuthContext`] with an injected clock and environment).

mod adfs;
mod assume_role;
mod azure;
mod cache;
mod cognito;
mod context;
mod error;
mod html;
mod imds;
mod keys;
mod mfa;
mod okta;
mod ping;
mod profile;
mod refresh;
mod resolve;
mod saml;
mod schemes;
mod sts;
mod web_identity;

pub use context::{AuthContext, DEFAULT_REFRESH_BEFORE_EXPIRY, ManualClock, OpenBrowser};
pub use error::{BoxError, Error, Result};
pub use refresh::SchemeProvider;
pub use resolve::{
    credentials_provider, credentials_provider_with, scheme_name, scheme_provider_with, sdk_config,
    sdk_config_with,
};
