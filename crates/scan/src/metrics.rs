//! Per-query metrics shown by `EXPLAIN ANALYZE`.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::physical_plan::metrics::{
    Count, CustomMetricValue, ExecutionPlanMetricsSet, MetricBuilder, MetricValue, Time,
};

/// A text metric (query id, fetch path). Several values (one per execution) are joined by `,`.
#[derive(Debug, Default)]
pub struct TextMetric(Mutex<Vec<String>>);

impl TextMetric {
    /// Adds a value.
    pub fn push(&self, value: impl Into<String>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(value.into());
        }
    }

    /// The values so far.
    pub fn values(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl fmt::Display for TextMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.values().join(","))
    }
}

impl CustomMetricValue for TextMetric {
    fn new_empty(&self) -> Arc<dyn CustomMetricValue> {
        Arc::new(Self::default())
    }

    fn aggregate(&self, other: Arc<dyn CustomMetricValue + 'static>) {
        if let Some(o) = other.as_any().downcast_ref::<TextMetric>() {
            for v in o.values() {
                self.push(v);
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn is_eq(&self, other: &Arc<dyn CustomMetricValue>) -> bool {
        other
            .as_any()
            .downcast_ref::<TextMetric>()
            .is_some_and(|o| o.values() == self.values())
    }
}

/// The metrics of one Athena query execution.
#[derive(Debug, Clone)]
pub struct QueryMetrics {
    /// Athena's QueryExecutionId.
    pub query_id: Arc<TextMetric>,
    /// How the results were read: `S3`, `GetQueryResults` or `Unload`.
    pub fetch_path: Arc<TextMetric>,
    /// `Statistics.DataScannedInBytes`.
    pub data_scanned_bytes: Count,
    /// Rows delivered.
    pub rows_fetched: Count,
    /// Result bytes downloaded (CSV or Parquet).
    pub bytes_fetched: Count,
    /// GetQueryExecution calls made while waiting.
    pub status_polls: Count,
    /// GetQueryResults pages read.
    pub result_pages: Count,
    /// `Statistics.QueryQueueTimeInMillis`.
    pub queue_time: Time,
    /// `Statistics.EngineExecutionTimeInMillis`.
    pub engine_time: Time,
    /// From StartQueryExecution until the query reached a final state, as seen by the client.
    pub wait_time: Time,
    /// Rows emitted by the plan node (after a count became column-less rows).
    pub output_rows: Count,
}

impl QueryMetrics {
    /// Registers the metrics of `partition` in `set`.
    pub fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let text = |name: &'static str| {
            let value = Arc::new(TextMetric::default());
            MetricBuilder::new(set)
                .with_partition(partition)
                .build(MetricValue::Custom {
                    name: Cow::Borrowed(name),
                    value: Arc::clone(&value) as Arc<dyn CustomMetricValue>,
                });
            value
        };
        let count = |name: &'static str| MetricBuilder::new(set).counter(name, partition);
        let time = |name: &'static str| MetricBuilder::new(set).subset_time(name, partition);
        Self {
            query_id: text("query_id"),
            fetch_path: text("fetch_path"),
            data_scanned_bytes: count("data_scanned_bytes"),
            rows_fetched: count("rows_fetched"),
            bytes_fetched: count("bytes_fetched"),
            status_polls: count("status_polls"),
            result_pages: count("result_pages"),
            queue_time: time("athena_queue_time"),
            engine_time: time("athena_engine_time"),
            wait_time: time("query_wait_time"),
            output_rows: MetricBuilder::new(set).output_rows(partition),
        }
    }

    /// Metrics that are recorded nowhere, for running a query without a plan node (read the
    /// values from the returned struct).
    pub fn detached() -> Self {
        Self::new(&ExecutionPlanMetricsSet::new(), 0)
    }

    pub(crate) fn add_millis(time: &Time, millis: Option<i64>) {
        if let Some(ms) = millis.filter(|m| *m > 0) {
            time.add_duration(Duration::from_millis(ms as u64));
        }
    }
}
