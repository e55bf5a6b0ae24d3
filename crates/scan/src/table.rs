//! [`AthenaTable`]: one Athena table as a DataFusion `TableProvider`, with projection, filter
//! and limit pushdown.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::ColumnStatistics;
use datafusion::common::{DFSchema, DataFusionError, Statistics};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::{AnalysisContext, analyze};
use datafusion::physical_plan::ExecutionPlan;

use crate::exec::{AthenaExec, QueryExecutor};
use crate::pushdown::{can_push, filter_to_sql};
use crate::statement::{AthenaTableName, ScanShape, scan_sql};

/// One Athena table, read by sending SQL to Athena.
///
/// Pushdown:
/// - projection: only the columns DataFusion needs are selected; with none (`count(*)`) the
///   scan asks Athena for `count(*)` and reads no column data;
/// - filters: `Exact` when the whole filter translates to Athena SQL with the same answers
///   (see [`crate::can_push`]), `Unsupported` otherwise, so DataFusion filters those rows
///   itself; partition columns are filtered like any other, so Athena prunes partitions;
/// - limit: DataFusion passes a limit to the scan only when nothing above the scan still
///   filters rows, and the scan then sends `LIMIT n`.
///
/// - join keys: a scan without a limit takes the dynamic filter of a hash join it is the probe
///   side of, and adds the build side's keys (an `IN` list, or their range) to its `WHERE`
///   clause when it starts (see [`AthenaExec`]); turned off with filter pushdown.
///
/// Statistics ([`Self::with_statistics`], e.g. the row count Glue records) reach DataFusion's
/// optimizer through the scan, so a join puts the smaller (local) side on the build side.
///
/// The scan is an [`AthenaExec`]: `EXPLAIN` shows the exact SQL (`AthenaExec: sql=SELECT ...`)
/// and `EXPLAIN ANALYZE` the query id, data scanned and the other [`crate::QueryMetrics`].
#[derive(Debug)]
pub struct AthenaTable {
    name: AthenaTableName,
    schema: SchemaRef,
    executor: Arc<dyn QueryExecutor>,
    filter_pushdown: bool,
    statistics: Option<Statistics>,
}

/// The share of rows DataFusion assumes a filter keeps when it knows nothing better (its
/// `default_filter_selectivity`, 20%): the estimate for a scan with pushed filters.
const FILTER_SELECTIVITY: f64 = 0.2;

impl AthenaTable {
    /// A table named `name` with the Arrow `schema` of its columns (partition columns
    /// included), read through `executor`.
    pub fn new(name: AthenaTableName, schema: SchemaRef, executor: Arc<dyn QueryExecutor>) -> Self {
        Self {
            name,
            schema,
            executor,
            filter_pushdown: true,
            statistics: None,
        }
    }

    /// Table statistics (row count, column statistics in schema order) for DataFusion's
    /// optimizer; column statistics that do not match the schema are treated as unknown. The
    /// row count of a scan is this count, scaled by 20% when filters are pushed and capped by
    /// its limit, and always inexact.
    pub fn with_statistics(mut self, mut statistics: Statistics) -> Self {
        if statistics.column_statistics.len() != self.schema.fields().len() {
            statistics.column_statistics = Statistics::unknown_column(&self.schema);
        }
        self.statistics = Some(statistics);
        self
    }

    /// The statistics of a scan with these arguments.
    fn scan_statistics(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Option<Statistics> {
        let table = self.statistics.as_ref()?;
        let selectivity = self.filter_selectivity(state, filters, &table.column_statistics);
        let mut stats = table.clone().project(projection).to_inexact();
        if !filters.is_empty() {
            stats.num_rows = stats.num_rows.with_estimated_selectivity(selectivity);
            stats.total_byte_size = stats
                .total_byte_size
                .with_estimated_selectivity(selectivity);
        }
        if let Some(limit) = limit {
            stats.num_rows = stats
                .num_rows
                .min(&datafusion::common::stats::Precision::Inexact(limit));
        }
        Some(stats)
    }

    /// The share of rows `filters` keep: from the columns' least and greatest values when the
    /// statistics know them for every column the filters read (DataFusion's interval
    /// analysis, as its own filters use), else 20%.
    fn filter_selectivity(
        &self,
        state: &dyn Session,
        filters: &[Expr],
        column_statistics: &[ColumnStatistics],
    ) -> f64 {
        let Some(predicate) = conjunction(filters.iter().cloned()) else {
            return 1.0;
        };
        let bounded = |name: &str| {
            self.schema.index_of(name).ok().is_some_and(|i| {
                column_statistics.get(i).is_some_and(|c| {
                    c.min_value.get_value().is_some() && c.max_value.get_value().is_some()
                })
            })
        };
        if !predicate.column_refs().iter().all(|c| bounded(&c.name)) {
            return FILTER_SELECTIVITY;
        }
        let analysed = self.df_schema().ok().and_then(|schema| {
            let expr = state.create_physical_expr(predicate, &schema).ok()?;
            let context =
                AnalysisContext::try_from_statistics(&self.schema, column_statistics).ok()?;
            analyze(&expr, context, &self.schema).ok()?.selectivity
        });
        analysed
            .filter(|s| s.is_finite())
            .map_or(FILTER_SELECTIVITY, |s| s.clamp(0.0, 1.0))
    }

    /// Turns filter pushdown on (the default) or off; off, every filter is applied by
    /// DataFusion, which gives the reference answers pushdown is checked against.
    pub fn with_filter_pushdown(mut self, enabled: bool) -> Self {
        self.filter_pushdown = enabled;
        self
    }

    /// The Athena name of the table.
    pub fn name(&self) -> &AthenaTableName {
        &self.name
    }

    /// The executor (connection) the table's SQL is sent through.
    pub fn executor(&self) -> &Arc<dyn QueryExecutor> {
        &self.executor
    }

    /// Whether filters are pushed to Athena (see [`Self::with_filter_pushdown`]).
    pub fn filter_pushdown(&self) -> bool {
        self.filter_pushdown
    }

    fn df_schema(&self) -> Result<DFSchema> {
        DFSchema::try_from(Arc::clone(&self.schema))
    }

    /// The Athena conditions of pushed filters.
    fn filter_sqls(&self, filters: &[Expr]) -> Result<Vec<String>> {
        let schema = self.df_schema()?;
        filters
            .iter()
            .map(|f| {
                filter_to_sql(f, &schema).map_err(|e| {
                    DataFusionError::Plan(format!(
                        "cannot scan Athena table {}: {e}; only filters accepted by supports_filters_pushdown can be passed to scan",
                        self.name
                    ))
                })
            })
            .collect()
    }

    /// The SQL a scan with these arguments sends, and the shape of its answer.
    pub fn scan_sql(
        &self,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<(String, ScanShape)> {
        let filters = self.filter_sqls(filters)?;
        let columns: Vec<String> = match projection {
            None => self.schema.fields().iter().map(|f| f.name().clone()).collect(),
            Some(indices) => indices
                .iter()
                .map(|&i| {
                    self.schema.fields().get(i).map(|f| f.name().clone()).ok_or_else(|| {
                        DataFusionError::Plan(format!(
                            "projection index {i} is out of range for Athena table {} with {} columns",
                            self.name,
                            self.schema.fields().len()
                        ))
                    })
                })
                .collect::<Result<_>>()?,
        };
        let shape = if columns.is_empty() {
            ScanShape::Count
        } else {
            ScanShape::Rows(columns)
        };
        let sql = scan_sql(&self.name, &shape, &filters, limit).map_err(|e| {
            DataFusionError::Plan(format!("cannot scan Athena table {}: {e}", self.name))
        })?;
        Ok((sql, shape))
    }
}

#[async_trait]
impl TableProvider for AthenaTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn statistics(&self) -> Option<Statistics> {
        self.statistics.clone()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let (sql, shape) = self.scan_sql(projection, filters, limit)?;
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => Arc::clone(&self.schema),
        };
        let executor = Arc::clone(&self.executor);
        let exec = match shape {
            // Join keys narrow the rows fetched; with a limit they would change which rows.
            ScanShape::Rows(columns) if limit.is_none() && self.filter_pushdown => {
                let filters = self.filter_sqls(filters)?;
                AthenaExec::table_scan(executor, self.name.clone(), columns, filters, schema)
                    .map_err(|e| {
                        DataFusionError::Plan(format!(
                            "cannot scan Athena table {}: {e}",
                            self.name
                        ))
                    })?
            }
            ScanShape::Rows(_) => AthenaExec::rows(executor, sql, schema),
            ScanShape::Count => AthenaExec::count(executor, sql, schema, limit),
        };
        let exec = match self.scan_statistics(state, projection, filters, limit) {
            Some(stats) => exec.with_statistics(stats),
            None => exec,
        };
        Ok(Arc::new(exec))
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let schema = self.df_schema()?;
        Ok(filters
            .iter()
            .map(|f| {
                if self.filter_pushdown && can_push(f, &schema) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::execution::SendableRecordBatchStream;
    use datafusion::physical_plan::collect;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use datafusion::prelude::SessionContext;

    use super::*;
    use crate::metrics::QueryMetrics;

    /// Answers every statement with the given counts and records it.
    #[derive(Debug)]
    struct Counts {
        counts: Vec<Option<i64>>,
        sent: Mutex<Vec<String>>,
    }

    impl QueryExecutor for Counts {
        fn execute(
            &self,
            sql: &str,
            schema: SchemaRef,
            _metrics: QueryMetrics,
        ) -> Result<SendableRecordBatchStream> {
            self.sent.lock().expect("lock").push(sql.to_string());
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![Arc::new(Int64Array::from(self.counts.clone()))],
            )?;
            Ok(Box::pin(RecordBatchStreamAdapter::new(
                schema,
                futures::stream::iter(vec![Ok(batch)]),
            )))
        }
    }

    fn table(counts: Vec<Option<i64>>) -> (AthenaTable, Arc<Counts>) {
        let executor = Arc::new(Counts {
            counts,
            sent: Mutex::new(Vec::new()),
        });
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        let table = AthenaTable::new(
            AthenaTableName::new("db", "t"),
            schema,
            Arc::clone(&executor) as Arc<dyn QueryExecutor>,
        );
        (table, executor)
    }

    async fn rows(table: &AthenaTable, limit: Option<usize>) -> (usize, usize) {
        let ctx = SessionContext::new();
        let plan = table
            .scan(&ctx.state(), Some(&vec![]), &[], limit)
            .await
            .expect("scan");
        let batches = collect(plan, ctx.task_ctx()).await.expect("collect");
        assert!(batches.iter().all(|b| b.num_columns() == 0));
        (
            batches.iter().map(RecordBatch::num_rows).sum(),
            batches.len(),
        )
    }

    #[tokio::test]
    async fn a_count_becomes_that_many_column_less_rows() {
        let (t, executor) = table(vec![Some(20_000)]);
        assert_eq!(rows(&t, None).await, (20_000, 3));
        assert_eq!(rows(&t, Some(5)).await, (5, 1));
        assert_eq!(
            executor.sent.lock().expect("lock").as_slice(),
            [
                "SELECT count(*) AS \"row_count\" FROM \"db\".\"t\"",
                "SELECT count(*) AS \"row_count\" FROM \"db\".\"t\""
            ]
        );
        let (t, _) = table(vec![Some(0)]);
        assert_eq!(rows(&t, None).await, (0, 0));
        let (t, _) = table(vec![Some(2), None, Some(3)]);
        assert_eq!(rows(&t, None).await, (5, 1));
    }

    /// The row count DataFusion's statistics give a scan of `t`'s first column.
    async fn estimated_rows(
        t: &AthenaTable,
        ctx: &SessionContext,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::common::stats::Precision<usize> {
        use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
        let plan = t
            .scan(&ctx.state(), Some(&vec![0]), filters, limit)
            .await
            .expect("scan");
        StatisticsContext::new()
            .compute(plan.as_ref(), &StatisticsArgs::new())
            .expect("statistics")
            .num_rows
    }

    #[tokio::test]
    async fn scans_report_the_table_statistics_scaled_by_filters_and_limits() {
        use datafusion::common::stats::Precision;
        use datafusion::logical_expr::{col, lit};
        use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};

        let (t, _) = table(vec![Some(1)]);
        let schema = t.schema();
        let t = t.with_statistics(
            Statistics::new_unknown(&schema).with_num_rows(Precision::Exact(1_000)),
        );
        assert_eq!(
            t.statistics().map(|s| s.num_rows),
            Some(Precision::Exact(1_000))
        );
        let ctx = SessionContext::new();
        let rows = |filters: Vec<Expr>, limit: Option<usize>| {
            let (t, ctx) = (&t, &ctx);
            async move { estimated_rows(t, ctx, &filters, limit).await }
        };
        assert_eq!(rows(vec![], None).await, Precision::Inexact(1_000));
        assert_eq!(
            rows(vec![col("a").gt(lit(1))], None).await,
            Precision::Inexact(200)
        );
        assert_eq!(rows(vec![], Some(5)).await, Precision::Inexact(5));
        // Without statistics nothing is claimed.
        let (bare, _) = table(vec![Some(1)]);
        let plan = bare
            .scan(&ctx.state(), None, &[], None)
            .await
            .expect("scan");
        let stats = StatisticsContext::new()
            .compute(plan.as_ref(), &StatisticsArgs::new())
            .expect("statistics");
        assert_eq!(stats.num_rows, Precision::Absent);
    }

    #[tokio::test]
    async fn column_bounds_estimate_how_many_rows_a_filter_keeps() {
        use datafusion::common::ScalarValue;
        use datafusion::common::stats::{ColumnStatistics, Precision};
        use datafusion::logical_expr::{col, lit};

        let (t, _) = table(vec![Some(1)]);
        let mut stats =
            Statistics::new_unknown(&t.schema()).with_num_rows(Precision::Inexact(1_000));
        stats.column_statistics = vec![ColumnStatistics {
            min_value: Precision::Inexact(ScalarValue::Int32(Some(0))),
            max_value: Precision::Inexact(ScalarValue::Int32(Some(999))),
            ..ColumnStatistics::new_unknown()
        }];
        let t = t.with_statistics(stats);
        let ctx = SessionContext::new();
        let rows = |filter: Expr| {
            let (t, ctx) = (&t, &ctx);
            async move { estimated_rows(t, ctx, &[filter], None).await }
        };
        // A tenth of the range keeps about a tenth of the rows, not the default 20%.
        let Precision::Inexact(n) = rows(col("a").lt(lit(100))).await else {
            panic!("an estimate");
        };
        assert!((90..=110).contains(&n), "{n}");
        // Outside the range: none.
        assert_eq!(rows(col("a").gt(lit(5_000))).await, Precision::Inexact(0));
        // A filter the bounds say nothing about keeps the default share.
        assert_eq!(rows(col("a").is_null()).await, Precision::Inexact(200),);
    }

    #[tokio::test]
    async fn a_negative_count_is_an_error() {
        let (t, _) = table(vec![Some(-1)]);
        let ctx = SessionContext::new();
        let plan = t
            .scan(&ctx.state(), Some(&vec![]), &[], None)
            .await
            .expect("scan");
        let err = collect(plan, ctx.task_ctx()).await.expect_err("negative");
        assert!(err.to_string().contains("negative count -1"), "{err}");
    }

    #[tokio::test]
    async fn filters_are_exact_or_unsupported_and_bad_projections_fail() {
        use datafusion::logical_expr::{col, lit};
        let (t, _) = table(vec![Some(1)]);
        let pushable = col("a").gt(lit(1));
        let local = col("a").gt(Expr::ScalarVariable(
            Arc::new(Field::new("v", DataType::Int32, true)),
            vec!["@v".into()],
        ));
        assert_eq!(
            t.supports_filters_pushdown(&[&pushable, &local])
                .expect("pushdown"),
            vec![
                TableProviderFilterPushDown::Exact,
                TableProviderFilterPushDown::Unsupported
            ]
        );
        let off = table(vec![Some(1)]).0.with_filter_pushdown(false);
        assert_eq!(
            off.supports_filters_pushdown(&[&pushable])
                .expect("pushdown"),
            vec![TableProviderFilterPushDown::Unsupported]
        );
        let err = t
            .scan_sql(Some(&vec![3]), &[], None)
            .expect_err("out of range");
        assert!(err.to_string().contains("projection index 3"), "{err}");
        let err = t
            .scan_sql(None, &[col("a").eq(col("missing"))], None)
            .expect_err("not translatable");
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
