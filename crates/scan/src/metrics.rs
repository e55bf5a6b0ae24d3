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

/// The latest state Athena reported for a query (`QUEUED`, `RUNNING`, `SUCCEEDED`, ...) and the
/// data it had scanned by then, updated at each status poll: what a progress display shows
/// while the query runs. Displays as the state.
#[derive(Debug, Default)]
pub struct QueryStatus(Mutex<(String, Option<u64>)>);

impl QueryStatus {
    /// Records one GetQueryExecution answer.
    pub fn record(&self, state: &str, data_scanned_bytes: Option<i64>) {
        if let Ok(mut s) = self.0.lock() {
            *s = (
                state.to_string(),
                data_scanned_bytes.map(|b| b.max(0) as u64),
            );
        }
    }

    /// The last state recorded (empty before the first poll).
    pub fn state(&self) -> String {
        self.0.lock().map(|s| s.0.clone()).unwrap_or_default()
    }

    /// `Statistics.DataScannedInBytes` of the last poll, when Athena reported it.
    pub fn data_scanned_bytes(&self) -> Option<u64> {
        self.0.lock().ok().and_then(|s| s.1)
    }
}

impl fmt::Display for QueryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.state())
    }
}

impl CustomMetricValue for QueryStatus {
    fn new_empty(&self) -> Arc<dyn CustomMetricValue> {
        Arc::new(Self::default())
    }

    fn aggregate(&self, other: Arc<dyn CustomMetricValue + 'static>) {
        if let Some(o) = other.as_any().downcast_ref::<QueryStatus>() {
            let state = o.state();
            if !state.is_empty() {
                let scanned = o.data_scanned_bytes().map(|b| b as i64);
                self.record(&state, scanned);
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn is_eq(&self, other: &Arc<dyn CustomMetricValue>) -> bool {
        other
            .as_any()
            .downcast_ref::<QueryStatus>()
            .is_some_and(|o| {
                o.state() == self.state() && o.data_scanned_bytes() == self.data_scanned_bytes()
            })
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
    /// The state and data scanned of the latest status poll (`query_state` in EXPLAIN ANALYZE).
    pub status: Arc<QueryStatus>,
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
            status: {
                let value = Arc::new(QueryStatus::default());
                MetricBuilder::new(set)
                    .with_partition(partition)
                    .build(MetricValue::Custom {
                        name: Cow::Borrowed("query_state"),
                        value: Arc::clone(&value) as Arc<dyn CustomMetricValue>,
                    });
                value
            },
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
