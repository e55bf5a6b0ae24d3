//! Connection options for datafusion-athena: the `Key=Value;` connection strings of the CData
//! Athena connector, parsed into typed, documented [`ConnectionOptions`].
//!
//! ```
//! use datafusion_athena_config::ConnectionOptions;
//! let opts = ConnectionOptions::parse_with_env(
//!     "AWSRegion=IRELAND;Database=sampledb;S3StagingDirectory=s3://bucket/staging/;",
//!     |_| None,
//! )
//! .unwrap();
//! assert_eq!(opts.region.as_ref().unwrap().code(), "eu-west-1");
//! assert_eq!(opts.to_redacted_json()["Database"], "sampledb");
//! ```
//!
//! Every property is listed in [`ConfigKey`] (and [`SsoKey`] for `SSOProperties`); the
//! reference docs/connection-string.md is generated from that table
//! ([`connection_string_reference`]).

mod apply;
mod builder;
mod env;
mod error;
mod fetcher;
mod keys;
mod options;
mod output;
mod parse;
mod reference;
mod region;
mod s3;
mod scheme;
mod secret;
mod validate;

pub use apply::parse_properties;
pub use builder::ConnectionOptionsBuilder;
pub use env::CONNECTION_ENV;
pub use error::{Error, Result};
pub use fetcher::ResultFetcher;
pub use keys::{ConfigKey, SsoKey};
pub use options::{
    AuthOptions, CognitoOptions, ConnectionOptions, DEFAULT_AUTO_UNLOAD_MIN_ROWS,
    DEFAULT_PRICE_PER_TB, DEFAULT_RESULT_REUSE_MAX_AGE_MINUTES, DEFAULT_TEMPORARY_TOKEN_DURATION,
    DataZoneOptions, EncryptionOption, Endpoints, ResultReuse, SsoProperties,
};
pub use reference::connection_string_reference;
pub use region::{REGIONS, Region};
pub use s3::{S3Location, S3Object};
pub use scheme::AuthScheme;
pub use secret::{REDACTED, Secret};
