//! # datafusion-athena
//!
//! Query Amazon Athena from [Apache DataFusion](https://datafusion.apache.org) as if its tables
//! were local. This facade re-exports what an application needs:
//!
//! - [`config`]: connection strings (`AWSRegion=IRELAND;Database=sampledb;...`) parsed into
//!   typed [`ConnectionOptions`].
//! - [`auth`]: AWS credential schemes.
//! - [`scan`]: the Athena SQL dialect, the `TableProvider` and result streaming.
//! - [`catalog`]: Athena data sources and databases as DataFusion catalogs.
//!
//! ```
//! use datafusion_athena::ConnectionOptions;
//! let opts: ConnectionOptions = "AWSRegion=OREGON;Database=sampledb;".parse()?;
//! assert_eq!(opts.database.as_deref(), Some("sampledb"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use datafusion_athena_auth as auth;
pub use datafusion_athena_catalog as catalog;
pub use datafusion_athena_config as config;
pub use datafusion_athena_scan as scan;

pub use datafusion_athena_config::ConnectionOptions;
