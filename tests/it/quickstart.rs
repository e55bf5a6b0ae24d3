//! The quickstart's query, end to end: the sample `sales.orders` table served by the emulator
//! joined with a local Parquet file, compared with DataFusion reading the same files locally.

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion_athena_emulator::Emulator;

const QUERY: &str = "SELECT c.segment, count(*) AS orders, sum(o.amount) AS revenue \
     FROM sales.orders o JOIN customers c ON o.customer_id = c.customer_id \
     WHERE o.order_date >= DATE '2026-07-01' AND o.region = 'emea' \
     GROUP BY c.segment ORDER BY c.segment";

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

async fn local_answer() -> String {
    let ctx = SessionContext::new();
    let orders = examples().join("data/sales/orders/");
    ctx.sql("CREATE SCHEMA sales").await.unwrap();
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE sales.orders STORED AS PARQUET PARTITIONED BY (region) LOCATION '{}'",
        orders.display()
    ))
    .await
    .unwrap();
    register_customers(&ctx).await;
    let batches = ctx.sql(QUERY).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

async fn register_customers(ctx: &SessionContext) {
    let path = examples().join("local/customers.parquet");
    ctx.register_parquet(
        "customers",
        path.to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_of_athena_table_and_local_parquet_matches_local_datafusion() {
    let emu = Emulator::builder()
        .data_dir(examples().join("data"))
        .database("sales")
        .start()
        .await
        .unwrap();
    let ctx = SessionContext::new();
    datafusion_athena::register_athena(&ctx, &emu.connection_string())
        .await
        .unwrap();
    // `customers` lands in the default (Athena) catalog's local schema.
    let customers = examples().join("local/customers.parquet");
    ctx.register_parquet(
        "datafusion.public.customers",
        customers.to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    let query = QUERY.replace("JOIN customers", "JOIN datafusion.public.customers");
    let batches = ctx.sql(&query).await.unwrap().collect().await.unwrap();
    let remote = pretty_format_batches(&batches).unwrap().to_string();
    let local = local_answer().await;
    assert_eq!(remote, local);
    assert!(remote.contains("enterprise"), "{remote}");

    // The filter ran inside Athena: the SQL the emulator received carries it.
    let sent: Vec<String> = emu
        .request_log()
        .into_iter()
        .filter_map(|r| r.sql)
        .collect();
    assert!(
        sent.iter()
            .any(|sql| sql.contains("\"region\" = 'emea'") && sql.contains("DATE '2026-07-01'")),
        "{sent:?}"
    );
    emu.shutdown().await;
}
