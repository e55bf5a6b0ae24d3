//! Exact SQL of federated plans, and plans that stay local.

use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::source_as_provider;
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::EmptyRecordBatchStream;
use datafusion::prelude::SessionContext;

use super::{AthenaFederation, AthenaSubquery};
use crate::exec::QueryExecutor;
use crate::metrics::QueryMetrics;
use crate::statement::AthenaTableName;
use crate::table::AthenaTable;

/// Records every statement and answers each with no rows (the integration tests' `Recorder`
/// passes statements on to a real executor instead).
#[derive(Debug, Default)]
struct SilentRecorder {
    sent: Mutex<Vec<String>>,
}

impl QueryExecutor for SilentRecorder {
    fn execute(
        &self,
        sql: &str,
        schema: SchemaRef,
        _metrics: QueryMetrics,
    ) -> Result<SendableRecordBatchStream> {
        self.sent.lock().expect("lock").push(sql.to_string());
        Ok(Box::pin(EmptyRecordBatchStream::new(schema)))
    }
}

fn orders() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("o_id", DataType::Int64, true),
        Field::new("c_id", DataType::Int64, true),
        Field::new("region", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(12, 2), true),
        Field::new("qty", DataType::Int32, true),
        Field::new("score", DataType::Float64, true),
    ]))
}

fn customers() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("c_id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("region", DataType::Utf8, true),
    ]))
}

/// A session with `orders` and `customers` on one connection and `other` on another.
fn session() -> SessionContext {
    recorded_session().0
}

/// [`session`], with the recorders of its two connections.
fn recorded_session() -> (SessionContext, Arc<SilentRecorder>, Arc<SilentRecorder>) {
    let ctx = SessionContext::new();
    ctx.add_optimizer_rule(Arc::new(AthenaFederation::new()));
    let first = Arc::new(SilentRecorder::default());
    let second = Arc::new(SilentRecorder::default());
    let one: Arc<dyn QueryExecutor> = Arc::clone(&first) as _;
    let two: Arc<dyn QueryExecutor> = Arc::clone(&second) as _;
    for (name, schema, executor) in [
        ("orders", orders(), &one),
        ("customers", customers(), &one),
        ("other", customers(), &two),
    ] {
        let table = AthenaTable::new(
            AthenaTableName::new("sales", format!("{name}_v1")).with_catalog("AwsDataCatalog"),
            schema,
            Arc::clone(executor),
        );
        ctx.register_table(name, Arc::new(table)).expect("register");
    }
    (ctx, first, second)
}

impl SilentRecorder {
    fn sent(&self) -> Vec<String> {
        self.sent.lock().expect("lock").clone()
    }
}

/// The SQL of every federated scan in the optimized plan of `query`.
async fn federated(query: &str) -> Vec<String> {
    let plan = session()
        .sql(query)
        .await
        .expect("plan")
        .into_optimized_plan()
        .expect("optimize");
    federated_in(&plan)
}

fn federated_in(plan: &LogicalPlan) -> Vec<String> {
    let mut found = Vec::new();
    plan.apply(|p| {
        if let LogicalPlan::TableScan(scan) = p
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(sub) = provider.downcast_ref::<AthenaSubquery>()
        {
            found.push(sub.sql().to_string());
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("walk");
    dump_sql(&found);
    found
}

/// Hands generated statements to CI's Athena SQL check; statements still holding parameter
/// markers are left out (they are checked as sent, with their values).
fn dump_sql(statements: &[String]) {
    let complete: Vec<String> = statements
        .iter()
        .filter(|s| !s.contains("$athena_param_"))
        .cloned()
        .collect();
    datafusion_athena_emulator::dump_sql(&complete).expect("ATHENA_SQL_DUMP");
}

fn q(s: &str) -> String {
    s.replace('\'', "\"")
}

#[tokio::test]
async fn an_aggregate_runs_in_athena_with_its_columns_in_order() {
    assert_eq!(
        federated(
            "SELECT region, sum(amount) AS total, count(*) AS n FROM orders WHERE qty > 1 GROUP BY region"
        )
        .await,
        [q(
            "SELECT 'c0', 'c1', 'c2' FROM (SELECT 'orders'.'region' AS 'region', \
             sum('orders'.'amount') AS 'total', count(1) AS 'n' \
             FROM 'AwsDataCatalog'.'sales'.'orders_v1' AS 'orders' WHERE ('orders'.'qty' > 1) \
             GROUP BY 'orders'.'region') AS 'athena_query' ('c0', 'c1', 'c2')"
        )]
    );
}

#[tokio::test]
async fn a_join_of_two_tables_of_one_connection_runs_in_athena() {
    assert_eq!(
        federated(
            "SELECT c.name, sum(o.amount) FROM orders o JOIN customers c ON o.c_id = c.c_id GROUP BY c.name"
        )
        .await,
        [q(
            "SELECT 'c0', 'c1' FROM (SELECT 'c'.'name' AS 'name', sum('o'.'amount') AS 'sum(o.amount)' \
             FROM 'AwsDataCatalog'.'sales'.'orders_v1' AS 'o' \
             INNER JOIN 'AwsDataCatalog'.'sales'.'customers_v1' AS 'c' ON 'o'.'c_id' = 'c'.'c_id' \
             GROUP BY 'c'.'name') AS 'athena_query' ('c0', 'c1')"
        )]
    );
}

#[tokio::test]
async fn sort_with_limit_runs_in_athena_and_is_sorted_again_locally() {
    let plan = session()
        .sql("SELECT o_id, amount FROM orders ORDER BY amount DESC, o_id LIMIT 5")
        .await
        .expect("plan")
        .into_optimized_plan()
        .expect("optimize");
    assert_eq!(
        federated_in(&plan),
        [q(
            "SELECT 'c0', 'c1' FROM (SELECT 'orders'.'o_id', 'orders'.'amount' \
             FROM 'AwsDataCatalog'.'sales'.'orders_v1' AS 'orders' \
             ORDER BY 'orders'.'amount' DESC NULLS FIRST, 'orders'.'o_id' ASC NULLS LAST LIMIT 5) \
             AS 'athena_query' ('c0', 'c1')"
        )]
    );
    assert!(matches!(plan, LogicalPlan::Sort(_)), "{plan}");
}

#[tokio::test]
async fn an_offset_comes_before_the_limit() {
    assert_eq!(
        federated("SELECT o_id FROM orders ORDER BY o_id LIMIT 5 OFFSET 10").await,
        [q(
            "SELECT 'c0' FROM (SELECT 'orders'.'o_id' FROM 'AwsDataCatalog'.'sales'.'orders_v1' \
             AS 'orders' ORDER BY 'orders'.'o_id' ASC NULLS LAST OFFSET 10 LIMIT 5) \
             AS 'athena_query' ('c0')"
        )]
    );
}

#[tokio::test]
async fn a_union_runs_in_athena() {
    assert_eq!(
        federated("SELECT region FROM orders UNION SELECT region FROM customers").await,
        [q(
            "SELECT 'c0' FROM (SELECT 'region' AS 'region' FROM (SELECT 'orders'.'region' \
             FROM 'AwsDataCatalog'.'sales'.'orders_v1' AS 'orders' UNION ALL \
             SELECT 'customers'.'region' FROM 'AwsDataCatalog'.'sales'.'customers_v1' AS 'customers') \
             AS 'derived_union' GROUP BY 'region') AS 'athena_query' ('c0')"
        )]
    );
}

#[tokio::test]
async fn what_athena_answers_differently_stays_local() {
    // max of a double (NaN ordering), a join across two connections, a scan alone.
    assert!(
        federated("SELECT region, max(score) FROM orders GROUP BY region")
            .await
            .is_empty()
    );
    assert!(
        federated("SELECT c.name FROM customers c JOIN other x ON c.c_id = x.c_id")
            .await
            .is_empty()
    );
    assert!(
        federated("SELECT o_id FROM orders WHERE qty > 1 LIMIT 3")
            .await
            .is_empty()
    );
    assert!(
        federated("SELECT o_id FROM orders ORDER BY score LIMIT 3")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_decimal_avg_runs_as_sum_and_count_divided_locally() {
    let plan = session()
        .sql("SELECT region, avg(amount) FROM orders GROUP BY region")
        .await
        .expect("plan")
        .into_optimized_plan()
        .expect("optimize");
    assert_eq!(
        federated_in(&plan),
        [q(
            "SELECT 'c0', 'c1', 'c2' FROM (SELECT 'orders'.'region' AS 'region', \
             sum('orders'.'amount') AS '__athena_avg_sum_0', \
             count('orders'.'amount') AS '__athena_avg_count_0' \
             FROM 'AwsDataCatalog'.'sales'.'orders_v1' AS 'orders' GROUP BY 'orders'.'region') \
             AS 'athena_query' ('c0', 'c1', 'c2')"
        )]
    );
    assert_eq!(
        plan.schema().field(1).data_type(),
        &DataType::Decimal128(16, 6),
        "{plan}"
    );
}

#[tokio::test]
async fn the_rule_is_idempotent_and_explain_shows_the_sql() {
    let ctx = session();
    let query = "SELECT region, count(*) FROM orders GROUP BY region";
    let once = ctx
        .sql(query)
        .await
        .expect("plan")
        .into_optimized_plan()
        .expect("optimize");
    let twice = ctx.state().optimize(&once).expect("optimize again");
    assert_eq!(
        once.display_indent().to_string(),
        twice.display_indent().to_string()
    );
    let explain = ctx
        .sql(&format!("EXPLAIN {query}"))
        .await
        .expect("explain")
        .collect()
        .await
        .expect("run explain");
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&explain)
        .expect("format")
        .to_string();
    assert!(
        text.contains("AthenaExec: sql=SELECT \"c0\", \"c1\" FROM (SELECT \"orders\".\"region\""),
        "{text}"
    );
    assert!(text.contains("TableScan: athena_query"), "{text}");
}

#[test]
fn decimal_avg_truncates_like_datafusion() {
    use datafusion::arrow::array::{Array, Decimal128Array, Int64Array};
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl};

    let avg = super::DecimalAvg::new(DataType::Decimal128(16, 6));
    let sums = Decimal128Array::from(vec![Some(1000), Some(-1000), None, Some(5)])
        .with_precision_and_scale(22, 2)
        .expect("decimal");
    let counts = Int64Array::from(vec![3, 3, 2, 0]);
    let args = ScalarFunctionArgs {
        args: vec![
            ColumnarValue::Array(Arc::new(sums)),
            ColumnarValue::Array(Arc::new(counts)),
        ],
        arg_fields: vec![
            Arc::new(Field::new("s", DataType::Decimal128(22, 2), true)),
            Arc::new(Field::new("c", DataType::Int64, true)),
        ],
        number_rows: 4,
        return_field: Arc::new(Field::new("avg", DataType::Decimal128(16, 6), true)),
        config_options: Arc::new(Default::default()),
    };
    let ColumnarValue::Array(out) = avg.invoke_with_args(args).expect("avg") else {
        panic!("not an array");
    };
    let out = out
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .expect("decimal");
    // 10.00 / 3 = 3.333333 (truncated), -10.00 / 3 = -3.333333, NULL sum, no rows.
    assert_eq!(out.value(0), 3_333_333);
    assert_eq!(out.value(1), -3_333_333);
    assert!(out.is_null(2) && out.is_null(3));
}

#[tokio::test]
async fn semi_and_null_aware_anti_joins_become_exists_and_not_in() {
    let exists = federated(
        "SELECT region, count(*) FROM orders o WHERE EXISTS \
         (SELECT 1 FROM customers c WHERE c.c_id = o.c_id AND c.region = 'emea') GROUP BY region",
    )
    .await;
    assert_eq!(
        exists,
        [q(
            "SELECT 'c0', 'c1' FROM (SELECT 'o'.'region' AS 'region', count(1) AS 'count(*)' \
            FROM 'AwsDataCatalog'.'sales'.'orders_v1' AS 'o' WHERE EXISTS \
            (SELECT '__correlated_sq_1'.'c_id' FROM 'AwsDataCatalog'.'sales'.'customers_v1' \
            AS '__correlated_sq_1' WHERE ('o'.'c_id' = '__correlated_sq_1'.'c_id') \
            AND ('__correlated_sq_1'.'region' = #emea#)) GROUP BY 'o'.'region') \
            AS 'athena_query' ('c0', 'c1')"
        )
        .replace('#', "'")]
    );
    let not_in = federated(
        "SELECT region, count(*) FROM orders WHERE c_id NOT IN (SELECT c_id FROM customers) GROUP BY region",
    )
    .await;
    assert_eq!(not_in.len(), 1, "{not_in:?}");
    assert!(
        not_in[0].contains(&q(
            "WHERE 'orders'.'c_id' NOT IN (SELECT '__correlated_sq_1'.'c_id' AS 'c_id' \
             FROM 'AwsDataCatalog'.'sales'.'customers_v1' AS '__correlated_sq_1')"
        )),
        "{not_in:?}"
    );
}

#[tokio::test]
async fn a_scalar_subquery_athena_cannot_answer_is_computed_first_and_sent_as_a_value() {
    let (ctx, one, _) = recorded_session();
    let df = ctx
        .sql(
            "SELECT region, count(*) AS n FROM orders \
             WHERE amount > (SELECT avg(amount) FROM orders) GROUP BY region",
        )
        .await
        .expect("plan");
    let plan = df.clone().into_optimized_plan().expect("optimize");
    let found = federated_in(&plan);
    assert_eq!(found.len(), 1, "{plan}");
    assert!(
        found[0].contains(&q(
            "CAST('orders'.'amount' AS DECIMAL(16,6)) > $athena_param_0_"
        )),
        "{}",
        found[0]
    );
    // EXPLAIN shows the parameter's plan under the statement.
    let physical = df.clone().create_physical_plan().await.expect("physical");
    let text = datafusion::physical_plan::displayable(physical.as_ref())
        .indent(false)
        .to_string();
    assert!(text.contains("$athena_param_0_"), "{text}");
    assert!(text.contains("__athena_avg_count_0"), "{text}");
    // The average's sum and count run first (no rows: the value is NULL), then the statement.
    df.collect().await.expect("run");
    let sent = one.sent();
    dump_sql(&sent);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(sent[0].contains("__athena_avg_count_0"), "{}", sent[0]);
    assert!(
        sent[1].contains(&q("> CAST(NULL AS DECIMAL(16,6))")),
        "{}",
        sent[1]
    );
}

#[tokio::test]
async fn a_subquery_over_another_connection_becomes_a_parameter() {
    let (ctx, one, two) = recorded_session();
    let df = ctx
        .sql(
            "SELECT region, count(*) FROM customers \
             WHERE c_id = (SELECT max(c_id) FROM other) GROUP BY region",
        )
        .await
        .expect("plan");
    let found = federated_in(&df.clone().into_optimized_plan().expect("optimize"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("= $athena_param_0_"), "{}", found[0]);
    df.collect().await.expect("run");
    assert_eq!(two.sent().len(), 1, "{:#?} {:#?}", two.sent(), one.sent());
    let sent = one.sent();
    dump_sql(&sent);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("= CAST(NULL AS BIGINT)"), "{}", sent[0]);
}

#[tokio::test]
async fn doubles_are_spelled_as_doubles_and_tame_ones_compared_in_athena() {
    // `0.1` would be a decimal in Trino (exact arithmetic); DataFusion computes in doubles.
    let found = federated(
        "SELECT region, count(*) FROM orders WHERE CAST(qty AS DOUBLE) * 0.1 = 0.3 GROUP BY region",
    )
    .await;
    assert_eq!(found.len(), 1);
    assert!(
        found[0].contains(&q("(CAST('orders'.'qty' AS DOUBLE) * 1E-1) = 3E-1")),
        "{}",
        found[0]
    );
    // A HAVING on a decimal sum as a double: tame, and cast the way Arrow casts.
    let found = federated(
        "SELECT region FROM orders GROUP BY region \
         HAVING CAST(sum(amount) AS DOUBLE) * 0.5 > CAST(max(qty) AS DOUBLE)",
    )
    .await;
    assert_eq!(found.len(), 1);
    assert!(
        found[0].contains(&q(
            "CAST(CAST((sum('orders'.'amount') * 100) AS DECIMAL(38,0)) AS DOUBLE) / 1E2"
        )),
        "{}",
        found[0]
    );
    // A double column may hold NaN; -0.5 times a zero is -0.0: both HAVINGs stay local (the
    // aggregates below them still run in Athena).
    for having in [
        "max(qty) > 1 AND sum(score) > 1.0",
        "CAST(sum(qty) AS DOUBLE) * -0.5 > 1.0",
    ] {
        let found = federated(&format!(
            "SELECT region FROM orders GROUP BY region HAVING {having}"
        ))
        .await;
        assert!(found.iter().all(|s| !s.contains("HAVING")), "{found:#?}");
    }
}

#[tokio::test]
async fn window_functions_run_in_athena_unless_they_would_answer_differently() {
    let found = federated(
        "SELECT region, o_id, rank() OVER (PARTITION BY region ORDER BY amount DESC) AS r, \
         sum(qty) OVER (PARTITION BY region ORDER BY o_id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s \
         FROM orders",
    )
    .await;
    assert_eq!(
        found,
        [q(
            "SELECT 'c0', 'c1', 'c2', 'c3' FROM (SELECT 'orders'.'region' AS 'region', \
             'orders'.'o_id' AS 'o_id', rank() OVER (PARTITION BY 'orders'.'region' \
             ORDER BY 'orders'.'amount' DESC NULLS FIRST) AS 'r', sum(CAST('orders'.'qty' AS BIGINT)) OVER \
             (PARTITION BY 'orders'.'region' ORDER BY 'orders'.'o_id' ASC NULLS LAST \
             ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS 's' \
             FROM 'AwsDataCatalog'.'sales'.'orders_v1' AS 'orders') \
             AS 'athena_query' ('c0', 'c1', 'c2', 'c3')"
        )]
    );
    // Float order keys (NaN order), GROUPS and RANGE offsets, lag with a default of a float
    // value, max of a double: the window stays in DataFusion.
    for window in [
        "rank() OVER (ORDER BY score)",
        "sum(qty) OVER (ORDER BY o_id GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW)",
        "sum(qty) OVER (ORDER BY o_id RANGE BETWEEN 5 PRECEDING AND CURRENT ROW)",
        "lag(CAST(qty AS REAL), 1, 0) OVER (ORDER BY o_id)",
        "max(score) OVER (PARTITION BY region)",
    ] {
        let found = federated(&format!("SELECT o_id, {window} AS w FROM orders")).await;
        assert!(
            found.iter().all(|s| !s.contains(" OVER ")),
            "{window}: {found:#?}"
        );
    }
}

#[tokio::test]
async fn a_parameter_used_twice_is_sent_twice() {
    let (ctx, one, _) = recorded_session();
    let df = ctx
        .sql(
            "SELECT region, count(*) FROM orders \
             WHERE amount > (SELECT avg(amount) FROM orders) \
                OR amount < -(SELECT avg(amount) FROM orders) GROUP BY region",
        )
        .await
        .expect("plan");
    let found = federated_in(&df.clone().into_optimized_plan().expect("optimize"));
    assert_eq!(found.len(), 1, "{found:#?}");
    df.collect().await.expect("run");
    let sent = one.sent();
    dump_sql(&sent);
    let main = sent.last().expect("a statement");
    assert!(!main.contains("$athena_param_"), "{main}");
    assert!(
        main.matches("CAST(NULL AS DECIMAL(16,6))").count() >= 1,
        "{main}"
    );
}

#[tokio::test]
async fn sorting_by_a_tame_double_runs_in_athena() {
    // A decimal as a double, scaled by a positive literal: never NaN nor -0.0.
    let found = federated(
        "SELECT o_id, CAST(amount AS DOUBLE) * 0.9 AS net FROM orders ORDER BY net DESC LIMIT 5",
    )
    .await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("ORDER BY"), "{}", found[0]);
    // A double column may hold NaN: its sort stays local.
    let found = federated("SELECT o_id FROM orders ORDER BY score DESC LIMIT 5").await;
    assert!(found.iter().all(|s| !s.contains("ORDER BY")), "{found:#?}");
}

/// `lag`/`lead` defaults reach Athena as the value DataFusion casts them to, typed as the
/// value; a default DataFusion cannot cast stays local (DataFusion reports it).
#[tokio::test]
async fn lag_and_lead_defaults_are_sent_cast_to_the_values_type() {
    for (query, default) in [
        ("lag(qty, 1, 0)", "CAST(0 AS INTEGER)"),
        ("lag(amount, 2, 1)", "CAST(1.00 AS DECIMAL(12,2))"),
        ("lead(region, 1, 'none')", "CAST('none' AS VARCHAR)"),
        ("lead(o_id, 1, NULL)", "CAST(NULL AS BIGINT)"),
    ] {
        let found = federated(&format!("SELECT {query} OVER (ORDER BY o_id) FROM orders")).await;
        assert_eq!(found.len(), 1, "{query}: {found:#?}");
        assert!(
            found[0].contains(&format!(", {default}) OVER")),
            "{query}: {}",
            found[0]
        );
    }
    let found = federated("SELECT lag(o_id, 1, 'x') OVER (ORDER BY o_id) FROM orders").await;
    assert!(found.iter().all(|s| !s.contains("lag(")), "{found:#?}");
}
