//! [`AthenaExec`]: the leaf plan node that runs one SQL query on Athena, and
//! [`QueryExecutor`], what it runs the query through.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

use crate::metrics::QueryMetrics;

/// Runs one Athena SQL statement and streams its rows as record batches of `schema`.
///
/// [`crate::AthenaRunner`] implements this; tests use in-process stand-ins.
pub trait QueryExecutor: fmt::Debug + Send + Sync {
    /// Starts `sql` and returns its rows (columns by position); the stream does the waiting.
    ///
    /// What the executor learns about the query (query id, fetch path, data scanned, rows and
    /// bytes fetched, polls, Athena's timings) goes into `metrics`; an executor with nothing to
    /// report leaves them alone. Dropping the stream before the query finished should stop it.
    fn execute(
        &self,
        sql: &str,
        schema: SchemaRef,
        metrics: QueryMetrics,
    ) -> Result<SendableRecordBatchStream>;
}

/// Rows per batch when a row count is turned back into zero-column rows.
const COUNT_BATCH_ROWS: usize = 8192;

/// What the answer to the SQL is turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// The rows themselves.
    Rows,
    /// One `count(*)`, turned into that many column-less rows (at most `limit`).
    Count { limit: Option<usize> },
}

/// Runs `sql` through a [`QueryExecutor`] (one partition).
///
/// `EXPLAIN` shows `AthenaExec: sql=<the sql>`; `EXPLAIN ANALYZE` adds the query id, the fetch
/// path, data scanned, rows and bytes fetched, status polls and Athena's queue/engine times.
/// Dropping the stream before the query finished stops the query.
#[derive(Debug, Clone)]
pub struct AthenaExec {
    executor: Arc<dyn QueryExecutor>,
    sql: String,
    schema: SchemaRef,
    answer: Answer,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl AthenaExec {
    fn new(
        executor: Arc<dyn QueryExecutor>,
        sql: String,
        schema: SchemaRef,
        answer: Answer,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            executor,
            sql,
            schema,
            answer,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// A node streaming the rows of `sql`, whose result columns are `schema` (by position).
    pub fn rows(executor: Arc<dyn QueryExecutor>, sql: String, schema: SchemaRef) -> Self {
        Self::new(executor, sql, schema, Answer::Rows)
    }

    /// A node running `sql`, a `count(*)` query, and yielding that many rows (at most `limit`)
    /// of the column-less `schema`.
    pub fn count(
        executor: Arc<dyn QueryExecutor>,
        sql: String,
        schema: SchemaRef,
        limit: Option<usize>,
    ) -> Self {
        Self::new(executor, sql, schema, Answer::Count { limit })
    }

    /// The SQL sent to Athena.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The executor the SQL is sent through.
    pub fn executor(&self) -> &Arc<dyn QueryExecutor> {
        &self.executor
    }
}

impl DisplayAs for AthenaExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => {
                write!(f, "AthenaExec: sql={}", self.sql)
            }
            DisplayFormatType::TreeRender => write!(f, "sql={}", self.sql),
        }
    }
}

impl ExecutionPlan for AthenaExec {
    fn name(&self) -> &str {
        "AthenaExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal(
                "AthenaExec is a leaf and takes no children".into(),
            ))
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "AthenaExec has one partition, asked for partition {partition}"
            )));
        }
        let metrics = QueryMetrics::new(&self.metrics, partition);
        let output_rows = metrics.output_rows.clone();
        let batches: SendableRecordBatchStream = match self.answer {
            Answer::Rows => self
                .executor
                .execute(&self.sql, Arc::clone(&self.schema), metrics)?,
            Answer::Count { limit } => {
                let count_schema = Arc::new(Schema::new(vec![Field::new(
                    "row_count",
                    DataType::Int64,
                    true,
                )]));
                let counts = self.executor.execute(&self.sql, count_schema, metrics)?;
                let schema = Arc::clone(&self.schema);
                let rows = async move {
                    let total = total_count(counts).await?;
                    let total = limit.map_or(total, |l| total.min(l));
                    zero_column_batches(schema, total)
                };
                Box::pin(RecordBatchStreamAdapter::new(
                    Arc::clone(&self.schema),
                    futures::stream::once(rows).try_flatten(),
                ))
            }
        };
        let counted = batches.inspect_ok(move |b| output_rows.add(b.num_rows()));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            counted,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// Sums the `count(*)` values of a count query's answer.
async fn total_count(mut batches: SendableRecordBatchStream) -> Result<usize> {
    let mut total: usize = 0;
    while let Some(batch) = batches.next().await {
        let batch = batch?;
        let column = batch.columns().first().ok_or_else(|| {
            DataFusionError::Execution("Athena count query returned no column".to_string())
        })?;
        let values = column.as_primitive_opt::<Int64Type>().ok_or_else(|| {
            DataFusionError::Execution(format!(
                "Athena count query returned {} instead of bigint",
                column.data_type()
            ))
        })?;
        for i in 0..values.len() {
            if values.is_valid(i) {
                let n = usize::try_from(values.value(i)).map_err(|_| {
                    DataFusionError::Execution(format!(
                        "Athena count query returned a negative count {}",
                        values.value(i)
                    ))
                })?;
                total = total.saturating_add(n);
            }
        }
    }
    Ok(total)
}

/// `rows` zero-column rows of `schema`, in batches of at most [`COUNT_BATCH_ROWS`].
fn zero_column_batches(
    schema: SchemaRef,
    rows: usize,
) -> Result<futures::stream::Iter<std::vec::IntoIter<Result<RecordBatch>>>> {
    let mut batches = Vec::with_capacity(rows.div_ceil(COUNT_BATCH_ROWS));
    let mut left = rows;
    while left > 0 {
        let n = left.min(COUNT_BATCH_ROWS);
        let options = RecordBatchOptions::new().with_row_count(Some(n));
        batches.push(
            RecordBatch::try_new_with_options(Arc::clone(&schema), vec![], &options)
                .map_err(DataFusionError::from),
        );
        left -= n;
    }
    Ok(futures::stream::iter(batches))
}
