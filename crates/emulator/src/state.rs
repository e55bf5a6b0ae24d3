//! The state every request handler shares.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::athena::query::QueryTable;
use crate::catalog::Catalog;
use crate::faults::Faults;
use crate::log::RequestLog;
use crate::sigv4::Credential;
use crate::storage::Storage;

/// An Athena workgroup.
#[derive(Debug, Clone)]
pub(crate) struct Workgroup {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) output_location: Option<String>,
    /// Managed query results: no OutputLocation, results only through GetQueryResults.
    pub(crate) managed: bool,
    pub(crate) created: DateTime<Utc>,
}

/// Shared state.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) credentials: RwLock<Vec<Credential>>,
    pub(crate) catalog: Catalog,
    pub(crate) storage: Storage,
    pub(crate) queries: Mutex<QueryTable>,
    pub(crate) workgroups: Vec<Workgroup>,
    pub(crate) faults: Faults,
    pub(crate) log: RequestLog,
    pub(crate) latencies: Mutex<(Duration, Duration)>,
    /// Rows an UNLOAD writes to one Parquet file before it starts the next.
    pub(crate) unload_rows_per_file: u64,
    pub(crate) active_tasks: Arc<AtomicUsize>,
    /// Glue column statistics computed so far.
    pub(crate) column_stats: crate::column_stats::ColumnStatsStore,
    /// The Trino engine's connection (none with the DataFusion engine).
    pub(crate) trino: Option<Arc<crate::trino::TrinoEngine>>,
}

impl Inner {
    /// (queue latency, minimum run latency).
    pub(crate) fn latencies(&self) -> (Duration, Duration) {
        *self.latencies.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn credentials(&self) -> Vec<Credential> {
        self.credentials
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
