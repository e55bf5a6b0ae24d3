//! [`AthenaExec`]: the leaf plan node that runs one SQL query on Athena, and
//! [`QueryExecutor`], what it runs the query through.

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, AsArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, Statistics};
use datafusion::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterPushdownPhase, FilterPushdownPropagation, PushedDown,
};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::statistics::StatisticsArgs;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};

use crate::key_filter::{MAX_QUERY_BYTES, key_filter_sql};
use crate::metrics::QueryMetrics;
use crate::parameters::{Parameter, fill};
use crate::statement::{AthenaTableName, ScanShape, scan_sql};

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

    /// [`Self::execute`] with the number of rows the answer is expected to hold (from table
    /// statistics), which lets an executor pick how to fetch it (AthenaRunner's Auto reads
    /// large results through UNLOAD). The default ignores the estimate.
    fn execute_with_estimate(
        &self,
        sql: &str,
        schema: SchemaRef,
        metrics: QueryMetrics,
        estimated_rows: Option<usize>,
    ) -> Result<SendableRecordBatchStream> {
        let _ = estimated_rows;
        self.execute(sql, schema, metrics)
    }
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

/// The parts of a table scan's SQL, kept so join key filters can join its `WHERE` at run time.
#[derive(Debug, Clone)]
struct ScanParts {
    table: AthenaTableName,
    columns: Vec<String>,
    filters: Vec<String>,
}

/// What the last execution did with the dynamic filters.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyFilterSent {
    /// Not executed yet.
    Pending,
    /// This condition was added to the `WHERE` clause.
    Condition(String),
    /// Nothing could be added (the filter was still `true`, not expressible, or too long).
    Nothing,
}

/// Runs `sql` through a [`QueryExecutor`] (one partition).
///
/// `EXPLAIN` shows `AthenaExec: sql=<the sql>`; `EXPLAIN ANALYZE` adds the query id, the fetch
/// path, data scanned, rows and bytes fetched, status polls and Athena's queue/engine times.
/// Dropping the stream before the query finished stops the query.
///
/// A table scan ([`Self::table_scan`]) also takes DataFusion's dynamic filters: the build
/// side keys of a hash join whose probe side it is (see `key_filter.rs`). The query
/// starts when the stream is first polled, which a hash join does only once its build side is
/// loaded and its filter complete; the filter's value then is written as Athena SQL and added
/// to the `WHERE` clause (the statement stays under Athena's 262,144 bytes: a key list too long
/// becomes a range, then nothing). A filter still in progress at that moment (a `TopK`
/// threshold) is used as it stands, never waited for. `EXPLAIN` shows
/// `dynamic_filter=pending (...)` and, after execution (`EXPLAIN ANALYZE`), the condition sent.
#[derive(Debug, Clone)]
pub struct AthenaExec {
    executor: Arc<dyn QueryExecutor>,
    sql: String,
    schema: SchemaRef,
    answer: Answer,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    scan: Option<ScanParts>,
    dynamic_filters: Vec<Arc<dyn PhysicalExpr>>,
    key_filter_sent: Arc<Mutex<KeyFilterSent>>,
    /// The statement sent with join key filters added (set when the stream starts).
    sent_sql: Arc<Mutex<Option<String>>>,
    statistics: Option<Arc<Statistics>>,
    /// Scalar subqueries computed before the statement is sent (this node's children).
    parameters: Vec<Parameter>,
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
            scan: None,
            dynamic_filters: Vec::new(),
            key_filter_sent: Arc::new(Mutex::new(KeyFilterSent::Pending)),
            sent_sql: Arc::new(Mutex::new(None)),
            statistics: None,
            parameters: Vec::new(),
        }
    }

    /// A scan of `table`: `SELECT <columns> FROM <table> WHERE <filters>` (each filter an
    /// Athena condition, e.g. from [`crate::filter_to_sql`]), whose result columns are
    /// `schema`. Unlike [`Self::rows`], the node accepts join key filters (dynamic filters).
    pub fn table_scan(
        executor: Arc<dyn QueryExecutor>,
        table: AthenaTableName,
        columns: Vec<String>,
        filters: Vec<String>,
        schema: SchemaRef,
    ) -> crate::Result<Self> {
        let sql = scan_sql(&table, &ScanShape::Rows(columns.clone()), &filters, None)?;
        let mut exec = Self::new(executor, sql, schema, Answer::Rows);
        exec.scan = Some(ScanParts {
            table,
            columns,
            filters,
        });
        Ok(exec)
    }

    /// The rows the statistics expect this scan to return (e.g. Glue's row count, scaled for
    /// pushed filters and capped by the limit), which the executor may use to pick a fetch path.
    fn estimated_rows(&self) -> Option<usize> {
        self.statistics
            .as_ref()
            .and_then(|s| s.num_rows.get_value().copied())
    }

    /// The statistics DataFusion's optimizer sees for this node's output (row count, column
    /// statistics), e.g. from the Glue catalog; unknown by default.
    pub fn with_statistics(mut self, statistics: Statistics) -> Self {
        self.statistics = Some(Arc::new(statistics));
        self
    }

    /// The dynamic filters this node took from the plan (join keys), in their current state.
    pub fn dynamic_filters(&self) -> &[Arc<dyn PhysicalExpr>] {
        &self.dynamic_filters
    }

    /// The statement the last execution sent: [`Self::sql`] with the join key condition
    /// added, or [`Self::sql`] itself before execution and when no keys were added.
    pub fn sql_sent(&self) -> String {
        self.sent_sql
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| self.sql.clone())
    }

    /// The join key condition the last execution added to the SQL: `None` before execution
    /// or when nothing was added.
    pub fn key_filter_sent(&self) -> Option<String> {
        match &*self
            .key_filter_sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
        {
            KeyFilterSent::Condition(c) => Some(c.clone()),
            _ => None,
        }
    }

    /// The SQL to send now: the scan's SQL with the current join key filters added.
    fn sql_with_key_filters(&self) -> (String, KeyFilterSent) {
        let Some(scan) = self
            .scan
            .as_ref()
            .filter(|_| !self.dynamic_filters.is_empty())
        else {
            return (self.sql.clone(), KeyFilterSent::Nothing);
        };
        let Ok(schema) = DFSchema::try_from(Arc::clone(&self.schema)) else {
            return (self.sql.clone(), KeyFilterSent::Nothing);
        };
        // Room left: the statement plus ` AND (...)` per condition.
        let room = MAX_QUERY_BYTES.saturating_sub(self.sql.len() + 16);
        let each = room / self.dynamic_filters.len();
        let conditions: Vec<String> = self
            .dynamic_filters
            .iter()
            .filter_map(|f| key_filter_sql(f, &schema, each.saturating_sub(8)))
            .collect();
        if conditions.is_empty() {
            return (self.sql.clone(), KeyFilterSent::Nothing);
        }
        let mut filters = scan.filters.clone();
        filters.extend(conditions.iter().cloned());
        match scan_sql(
            &scan.table,
            &ScanShape::Rows(scan.columns.clone()),
            &filters,
            None,
        ) {
            Ok(sql) if sql.len() <= MAX_QUERY_BYTES => {
                (sql, KeyFilterSent::Condition(conditions.join(" AND ")))
            }
            _ => (self.sql.clone(), KeyFilterSent::Nothing),
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

    /// Values computed before the statement is sent: each parameter's plan runs first (they
    /// are this node's children) and its single value replaces its marker in the SQL as a
    /// typed literal (see [`Parameter`]).
    pub fn with_parameters(mut self, parameters: Vec<Parameter>) -> Self {
        self.parameters = parameters;
        self
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
                write!(f, "AthenaExec: sql={}", self.sql)?;
                if !self.dynamic_filters.is_empty() {
                    write!(f, ", ")?;
                    self.fmt_dynamic_filter(f)?;
                }
                Ok(())
            }
            DisplayFormatType::TreeRender => {
                write!(f, "sql={}", self.sql)?;
                if !self.dynamic_filters.is_empty() {
                    writeln!(f)?;
                    self.fmt_dynamic_filter(f)?;
                }
                Ok(())
            }
        }
    }
}

impl AthenaExec {
    fn fmt_dynamic_filter(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sent = self
            .key_filter_sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match sent {
            KeyFilterSent::Pending => {
                let filters: Vec<String> =
                    self.dynamic_filters.iter().map(|e| e.to_string()).collect();
                write!(f, "dynamic_filter=pending ({})", filters.join(" AND "))
            }
            KeyFilterSent::Condition(c) => write!(f, "dynamic_filter=sent {c}"),
            KeyFilterSent::Nothing => write!(f, "dynamic_filter=sent nothing"),
        }
    }
}

/// Whether `e` holds a dynamic filter.
fn has_dynamic_filter(e: &Arc<dyn PhysicalExpr>) -> bool {
    e.exists(|n| Ok(n.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()))
        .unwrap_or(false)
}

impl ExecutionPlan for AthenaExec {
    fn name(&self) -> &str {
        "AthenaExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.parameters.iter().map(|p| &p.plan).collect()
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        // A hash join computes its dynamic filter only when a node below it visits it here.
        for e in &self.dynamic_filters {
            if f(e)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn handle_child_pushdown_result(
        &self,
        _phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        let filters: Vec<Arc<dyn PhysicalExpr>> = child_pushdown_result
            .parent_filters
            .into_iter()
            .map(|r| r.filter)
            .collect();
        // Every filter stays the parent's to apply: Athena only narrows what is fetched.
        let result = FilterPushdownPropagation::with_parent_pushdown_result(vec![
            PushedDown::No;
            filters.len()
        ]);
        if self.scan.is_none() {
            return Ok(result);
        }
        let new: Vec<Arc<dyn PhysicalExpr>> = filters
            .into_iter()
            .filter(|f| has_dynamic_filter(f) && !self.dynamic_filters.contains(f))
            .collect();
        if new.is_empty() {
            return Ok(result);
        }
        let mut node = self.clone();
        node.dynamic_filters.extend(new);
        node.key_filter_sent = Arc::new(Mutex::new(KeyFilterSent::Pending));
        Ok(result.with_updated_node(Arc::new(node)))
    }

    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(match &self.statistics {
            Some(s) => Arc::clone(s),
            None => Arc::new(Statistics::new_unknown(&self.schema)),
        })
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != self.parameters.len() {
            return Err(DataFusionError::Internal(format!(
                "AthenaExec has {} parameter plans, given {} children",
                self.parameters.len(),
                children.len()
            )));
        }
        if children.is_empty() {
            return Ok(self);
        }
        let mut node = Arc::unwrap_or_clone(self);
        for (p, plan) in node.parameters.iter_mut().zip(children) {
            p.plan = plan;
        }
        Ok(Arc::new(node))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "AthenaExec has one partition, asked for partition {partition}"
            )));
        }
        let metrics = QueryMetrics::new(&self.metrics, partition);
        let output_rows = metrics.output_rows.clone();
        let batches: SendableRecordBatchStream = match self.answer {
            // The SQL is written when the stream is first polled: by then the parameters can be
            // computed, and the join that fills the key filters has loaded its build side. (Key
            // filters belong to table scans, parameters to federated statements: never both.)
            Answer::Rows if !self.parameters.is_empty() || !self.dynamic_filters.is_empty() => {
                let node = self.clone();
                let started = async move {
                    let (sql, estimate) = if node.dynamic_filters.is_empty() {
                        let sql = fill(&node.sql, &node.parameters, context).await?;
                        (sql, node.estimated_rows())
                    } else {
                        let (sql, sent) = node.sql_with_key_filters();
                        *node
                            .key_filter_sent
                            .lock()
                            .unwrap_or_else(|e| e.into_inner()) = sent;
                        (sql, None)
                    };
                    *node.sent_sql.lock().unwrap_or_else(|e| e.into_inner()) = Some(sql.clone());
                    node.executor.execute_with_estimate(
                        &sql,
                        Arc::clone(&node.schema),
                        metrics,
                        estimate,
                    )
                };
                Box::pin(RecordBatchStreamAdapter::new(
                    Arc::clone(&self.schema),
                    futures::stream::once(started).try_flatten(),
                ))
            }
            // Join keys (above) make the answer smaller than the table: no size estimate there.
            Answer::Rows => self.executor.execute_with_estimate(
                &self.sql,
                Arc::clone(&self.schema),
                metrics,
                self.estimated_rows(),
            )?,
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
