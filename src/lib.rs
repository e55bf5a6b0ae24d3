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
//! One call registers every Athena data source, database and table with a DataFusion session:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! datafusion_athena::register_athena(
//!     &ctx,
//!     "AWSRegion=IRELAND;Database=sampledb;S3StagingDirectory=s3://bucket/staging/;",
//! )
//! .await?;
//! ctx.sql("SELECT * FROM awsdatacatalog.sampledb.orders WHERE amount > 100 LIMIT 10")
//!     .await?
//!     .show()
//!     .await?;
//! # Ok(())
//! # }
//! ```
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

pub use datafusion_athena_catalog::{
    AthenaCatalogs, register_athena, register_athena_with_options,
};
pub use datafusion_athena_config::ConnectionOptions;
