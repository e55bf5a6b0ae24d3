//! Athena data sources and databases as DataFusion catalogs and schemas, and the one-call setup
//! [`register_athena`].
//!
//! - [`MetadataClient`] lists data sources, databases and tables (with pagination, through Glue
//!   for Glue-backed data sources: 100 tables with their columns per call) and counts its calls.
//! - [`AthenaCatalogList`] adds the data sources to a session's catalogs, found by any case
//!   (`awsdatacatalog.db.t` and `"AwsDataCatalog".db.t`); [`AthenaCatalogProvider`] holds a data
//!   source's databases and [`AthenaSchemaProvider`] a database's tables and views, cached with a
//!   TTL, concurrent lookups of one table sharing one request.

mod cache;
mod column_stats;
mod create_table;
mod error;
mod metadata;
mod provider;
mod query_fn;
mod register;
mod schema;
mod table;

pub use cache::{Clock, ManualClock, SystemClock, Ttl};
pub use column_stats::{ColumnStats, StatValue};
pub use create_table::{ATHENA_FORMAT, AthenaTableFactory};
pub use error::{BoxError, Error, Result};
pub use metadata::{
    AWS_DATA_CATALOG, ColumnMetadata, DataSourceInfo, DataSourceKind, MetadataClient,
    MetadataSource, TableMetadata,
};
pub use provider::{AthenaCatalogList, AthenaCatalogProvider};
pub use query_fn::{ATHENA_QUERY, AthenaQueryFunction};
pub use register::{
    AthenaCatalogBuilder, AthenaCatalogs, JOIN_KEY_LIST_MAX_DISTINCT, register_athena,
    register_athena_with_options,
};
pub use schema::{AthenaSchemaProvider, CatalogOptions};
pub use table::{AthenaView, ScanTableOpener, TableOpener, TableSpec, arrow_schema};
