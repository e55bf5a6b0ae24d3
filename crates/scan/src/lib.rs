//! Running Athena queries from DataFusion: SQL generation, the table provider, query execution
//! and result decoding.

mod client;
mod dialect;
mod error;
mod exec;
mod federation;
mod int_range;
mod key_filter;
mod lifecycle;
mod metrics;
mod parameters;
mod pushdown;
mod results;
mod runner;
mod statement;
mod table;
mod type_class;
mod types;

pub use client::{athena_client, s3_store};
pub use dialect::{
    AthenaDialect, PUSHED_FUNCTIONS, literal_to_sql, quote_identifier, quote_string,
};
pub use error::{BoxError, Error, Result};
pub use exec::{AthenaExec, QueryExecutor};
pub use federation::{
    AthenaFederation, AthenaSubquery, DecimalAvg, FEDERATED_TABLE, FEDERATION_RULE_NAME,
};
pub use key_filter::MAX_QUERY_BYTES;
pub use lifecycle::{CompletedQuery, PollPolicy};
pub use metrics::{QueryMetrics, QueryStatus, TextMetric};
pub use parameters::Parameter;
pub use pushdown::{NotPushable, can_push, check_pushable, filter_to_sql};
pub use results::UNLOAD_MEMORY_BUDGET;
pub use runner::AthenaRunner;
pub use statement::{AthenaTableName, ScanShape, scan_sql};
pub use table::AthenaTable;
pub use types::{AthenaType, arrow_to_athena, arrow_to_hive, arrow_to_trino, athena_to_arrow};
