//! [`AthenaSubquery`]: the table that stands in for a sub-plan Athena runs as one query.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};

use crate::exec::{AthenaExec, QueryExecutor};

/// The rows of one Athena SQL statement (a federated sub-plan), columns by position.
///
/// Its scan is an [`AthenaExec`], so `EXPLAIN` shows `AthenaExec: sql=<the statement>`. Filters
/// are not pushed into it (DataFusion applies them); a projection is applied to the rows read.
#[derive(Debug)]
pub struct AthenaSubquery {
    sql: String,
    schema: SchemaRef,
    executor: Arc<dyn QueryExecutor>,
}

impl AthenaSubquery {
    /// The rows of `sql`, whose result columns are `schema` (by position), run by `executor`.
    pub fn new(sql: String, schema: SchemaRef, executor: Arc<dyn QueryExecutor>) -> Self {
        Self {
            sql,
            schema,
            executor,
        }
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
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let exec: Arc<dyn ExecutionPlan> = Arc::new(AthenaExec::rows(
            Arc::clone(&self.executor),
            self.sql.clone(),
            Arc::clone(&self.schema),
        ));
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
