//! `athena_query('native Athena SQL')`: a table function whose rows are the result of a query
//! written in Athena's own dialect.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_athena_scan::{
    AthenaExec, AthenaRunner, QueryExecutor, QueryMetrics, quote_identifier,
};
use tokio::runtime::Runtime;

/// The name the function is registered under.
pub const ATHENA_QUERY: &str = "athena_query";

/// `athena_query('SELECT ...')`: runs a query in Athena's dialect (Trino functions,
/// `UNNEST`, ...) and returns its rows as a table that DataFusion can join, filter and aggregate.
///
/// Planning learns the result's columns by running `SELECT * FROM (<query>) LIMIT 0` in Athena
/// (table functions must know their schema while the statement is planned); the query itself
/// runs when the table is scanned, with the selected columns only. Only queries (`SELECT`,
/// `WITH`, `VALUES`) are accepted. Columns of type `array`, `map` or `row` are rejected,
/// because Athena's result metadata does not give their element types: cast them to `JSON` or
/// `VARCHAR` in the query.
pub struct AthenaQueryFunction {
    runner: Arc<AthenaRunner>,
    athena: aws_sdk_athena::Client,
}

impl fmt::Debug for AthenaQueryFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AthenaQueryFunction")
            .finish_non_exhaustive()
    }
}

impl AthenaQueryFunction {
    /// A function running queries through `runner`; `athena` reads result metadata.
    pub fn new(runner: Arc<AthenaRunner>, athena: aws_sdk_athena::Client) -> Self {
        Self { runner, athena }
    }
}

fn plan_err(message: impl Into<String>) -> DataFusionError {
    DataFusionError::Plan(format!("{ATHENA_QUERY}: {}", message.into()))
}

/// A runtime of its own for the metadata probe, which has to finish while DataFusion plans
/// (synchronously) inside the caller's runtime. Clients used here keep their connections on it.
fn side_runtime() -> Result<&'static Runtime> {
    static RT: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("athena-query-probe")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| plan_err(format!("cannot start a runtime for the probe query: {e}")))
}

/// Runs `fut` to completion on the side runtime, blocking this thread until it is done.
fn run_blocking<T, F>(fut: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let rt = side_runtime()?;
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| plan_err("the probe query was abandoned"))?
}

/// The Arrow type of a result column from its `ColumnInfo`.
fn column_type(name: &str, type_name: &str, precision: i32, scale: i32) -> Result<Field> {
    let lower = type_name.to_ascii_lowercase();
    let spelled = match lower.as_str() {
        "decimal" => format!("decimal({precision},{scale})"),
        "array" | "map" | "row" | "struct" => {
            return Err(plan_err(format!(
                "column {name} has type {type_name}, whose element types Athena's result metadata \
                 does not give: CAST it to JSON or VARCHAR in the query"
            )));
        }
        _ => lower,
    };
    let dt = datafusion_athena_scan::athena_to_arrow(&spelled)
        .map_err(|e| plan_err(format!("column {name} has type {type_name}: {e}")))?;
    Ok(Field::new(name, dt, true))
}

/// Whether `sql` is a query that can be wrapped in `SELECT * FROM (...)`.
fn is_query(sql: &str) -> bool {
    let first = sql
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(first.as_str(), "SELECT" | "WITH" | "VALUES")
}

impl TableFunctionImpl for AthenaQueryFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let sql = match args.exprs() {
            [
                Expr::Literal(
                    ScalarValue::Utf8(Some(s))
                    | ScalarValue::LargeUtf8(Some(s))
                    | ScalarValue::Utf8View(Some(s)),
                    _,
                ),
            ] => s.trim().trim_end_matches(';').to_string(),
            _ => {
                return Err(plan_err(
                    "takes one argument, the Athena SQL text as a string literal",
                ));
            }
        };
        if !is_query(&sql) {
            return Err(plan_err(
                "only queries (SELECT, WITH, VALUES) can be used as a table",
            ));
        }
        let probe = format!("SELECT * FROM (\n{sql}\n) LIMIT 0");
        let runner = Arc::clone(&self.runner);
        let athena = self.athena.clone();
        let schema = run_blocking(async move {
            let done = runner
                .run_query(&probe, &QueryMetrics::detached())
                .await
                .map_err(|e| plan_err(format!("the query failed in Athena: {e}")))?;
            let out = athena
                .get_query_results()
                .query_execution_id(&done.query_id)
                .max_results(1)
                .send()
                .await
                .map_err(|e| {
                    plan_err(format!(
                        "reading the result columns: {}",
                        aws_sdk_athena::error::DisplayErrorContext(&e)
                    ))
                })?;
            let columns = out
                .result_set()
                .and_then(|r| r.result_set_metadata())
                .map(|m| m.column_info())
                .unwrap_or_default();
            let fields = columns
                .iter()
                .map(|c| {
                    column_type(
                        c.label().unwrap_or(c.name()),
                        c.r#type(),
                        c.precision(),
                        c.scale(),
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(Schema::new(fields)))
        })?;
        Ok(Arc::new(AthenaQueryTable {
            sql,
            schema,
            executor: Arc::clone(&self.runner) as Arc<dyn QueryExecutor>,
        }))
    }
}

/// The result of one `athena_query(...)` call.
#[derive(Debug)]
struct AthenaQueryTable {
    sql: String,
    schema: SchemaRef,
    executor: Arc<dyn QueryExecutor>,
}

#[async_trait]
impl TableProvider for AthenaQueryTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => Arc::clone(&self.schema),
        };
        // All columns are selected by name, so the result has exactly `schema`'s columns.
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                quote_identifier(f.name()).ok_or_else(|| {
                    plan_err(format!(
                        "column name {:?} cannot be quoted for Athena",
                        f.name()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if columns.is_empty() {
            // count(*) and the like: Athena counts, no column data is read.
            let sql = format!("SELECT count(*) FROM (\n{}\n)", self.sql);
            return Ok(Arc::new(AthenaExec::count(
                Arc::clone(&self.executor),
                sql,
                schema,
                limit,
            )));
        }
        let mut sql = format!("SELECT {} FROM (\n{}\n)", columns.join(", "), self.sql);
        if let Some(n) = limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        Ok(Arc::new(AthenaExec::rows(
            Arc::clone(&self.executor),
            sql,
            schema,
        )))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::DataType;

    use super::*;

    #[test]
    fn only_queries_are_accepted() {
        assert!(is_query("SELECT 1"));
        assert!(is_query("  with t as (select 1) select * from t"));
        assert!(is_query("(SELECT 1)"));
        assert!(is_query("VALUES (1)"));
        assert!(!is_query("DROP TABLE t"));
        assert!(!is_query("SHOW TABLES"));
    }

    #[test]
    fn result_column_types() {
        assert_eq!(
            column_type("a", "integer", 10, 0).expect("int").data_type(),
            &DataType::Int32
        );
        assert_eq!(
            column_type("a", "varchar", 2147483647, 0)
                .expect("varchar")
                .data_type(),
            &DataType::Utf8
        );
        assert_eq!(
            column_type("a", "decimal", 10, 2).expect("dec").data_type(),
            &DataType::Decimal128(10, 2)
        );
        let err = column_type("xs", "array", 0, 0)
            .expect_err("array")
            .to_string();
        assert!(err.contains("xs") && err.contains("CAST"), "{err}");
    }
}
