//! Running Athena queries from DataFusion: SQL generation, the table provider, query execution
//! and result decoding.

mod client;
mod dialect;
mod error;
mod exec;
mod federation;
mod key_filter;
mod metrics;
mod parameters;
mod pushdown;
mod results;
mod runner;
mod table;
mod types;

pub use client::{
    athena_client, athena_retry_config, s3_store, s3_store_with_clock, sdk_config,
    static_credentials,
};
pub use dialect::{
    AthenaDialect, PUSHED_FUNCTIONS, literal_to_sql, quote_identifier, quote_string,
};
pub use error::{BoxError, Error, Result};
pub use exec::{AthenaExec, QueryExecutor};
pub use federation::{
    AthenaFederation, AthenaSubquery, DecimalAvg, FEDERATED_TABLE, FEDERATION_RULE_NAME,
};
pub use key_filter::{MAX_QUERY_BYTES, key_filter_sql};
pub use metrics::{QueryMetrics, QueryStatus, TextMetric};
pub use parameters::Parameter;
pub use pushdown::{
    AthenaTableName, NotPushable, ScanShape, can_push, check_pushable, filter_to_sql, scan_sql,
};
pub use results::UNLOAD_MEMORY_BUDGET;
pub use runner::{AthenaRunner, CompletedQuery, PollPolicy};
pub use table::AthenaTable;
pub use types::{
    AthenaType, TIMESTAMP_TZ, arrow_to_athena, arrow_to_hive, arrow_to_trino, athena_to_arrow,
    unloadable,
};
