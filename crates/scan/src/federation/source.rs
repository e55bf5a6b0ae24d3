//! [`AthenaSubquery`]: the table that stands in for a sub-plan Athena runs as one query.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};

use crate::exec::{AthenaExec, QueryExecutor};
use crate::parameters::Parameter;

/// The rows of one Athena SQL statement (a federated sub-plan), columns by position.
///
/// Its scan is an [`AthenaExec`], so `EXPLAIN` shows `AthenaExec: sql=<the statement>`. Filters
/// are not pushed into it (DataFusion applies them); a projection is applied to the rows read.
/// Parameters (scalar subqueries computed first) are planned with the scan and become the
/// [`AthenaExec`]'s children.
#[derive(Debug)]
pub struct AthenaSubquery {
    sql: String,
    schema: SchemaRef,
    executor: Arc<dyn QueryExecutor>,
    parameters: Vec<(String, LogicalPlan)>,
}

impl AthenaSubquery {
    /// The rows of `sql`, whose result columns are `schema` (by position), run by `executor`.
    pub fn new(sql: String, schema: SchemaRef, executor: Arc<dyn QueryExecutor>) -> Self {
        Self {
            sql,
            schema,
            executor,
            parameters: Vec::new(),
        }
    }

    /// Scalar subqueries whose values replace their markers in the SQL (see
    /// [`crate::Parameter`]): `(marker, plan)`, each plan answering one column.
    pub fn with_parameters(mut self, parameters: Vec<(String, LogicalPlan)>) -> Self {
        self.parameters = parameters;
        self
    }

    /// The SQL sent to Athena.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

#[async_trait]
impl TableProvider for AthenaSubquery {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut parameters = Vec::with_capacity(self.parameters.len());
        for (marker, plan) in &self.parameters {
            parameters.push(Parameter {
                marker: marker.clone(),
                plan: state.create_physical_plan(plan).await?,
            });
        }
        let exec: Arc<dyn ExecutionPlan> = Arc::new(
            AthenaExec::rows(
                Arc::clone(&self.executor),
                self.sql.clone(),
                Arc::clone(&self.schema),
            )
            .with_parameters(parameters),
        );
        match projection {
            Some(p) if !p.iter().copied().eq(0..self.schema.fields().len()) => {
                let exprs = p
                    .iter()
                    .map(|&i| {
                        let name = self.schema.field(i).name().clone();
                        ProjectionExpr::new(Arc::new(Column::new(&name, i)), name)
                    })
                    .collect::<Vec<_>>();
                Ok(Arc::new(ProjectionExec::try_new(exprs, exec)?))
            }
            _ => Ok(exec),
        }
    }
}
