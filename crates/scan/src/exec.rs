//! `AthenaExec`: the leaf plan node that runs one SQL query on Athena.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

use crate::metrics::QueryMetrics;
use crate::runner::AthenaRunner;

/// Runs `sql` on Athena and streams the rows as batches of `schema` (one partition).
///
/// `EXPLAIN` shows `AthenaExec: sql=<the sql>`; `EXPLAIN ANALYZE` adds the query id, the fetch
/// path, data scanned, rows and bytes fetched, status polls and Athena's queue/engine times.
/// Dropping the stream before the query finished stops the query.
#[derive(Debug, Clone)]
pub struct AthenaExec {
    runner: Arc<AthenaRunner>,
    sql: String,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl AthenaExec {
    /// A node running `sql`, whose result columns are `schema` (by position).
    pub fn new(runner: Arc<AthenaRunner>, sql: String, schema: SchemaRef) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            runner,
            sql,
            schema,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// The SQL sent to Athena.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The runner.
    pub fn runner(&self) -> &Arc<AthenaRunner> {
        &self.runner
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
                "AthenaExec has no children".into(),
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
        self.runner
            .execute_with_metrics(self.sql.clone(), Arc::clone(&self.schema), metrics)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
