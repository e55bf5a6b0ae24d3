//! A federated join: the Athena table `sales.orders` joined with the local Parquet file
//! `examples/local/customers.parquet`, in one DataFusion query.
//!
//! Needs: nothing but this repository: it starts the bundled emulator on `examples/data`.
//! With `ATHENA_CONNECTION` set (e.g. `AWSRegion=IRELAND;Database=sales;
//! S3StagingDirectory=s3://bucket/staging/;`) it runs against that Athena connection instead,
//! which must have a `sales.orders` table like the sample one.
//!
//! Prints: the SQL of each Athena scan (only the needed columns, the `region` and `order_date`
//! filters), the bytes Athena scanned and the rows it returned, then the revenue per customer
//! segment (the join and the aggregate ran in DataFusion).
//!
//! `cargo run --example federated_join`

use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion_athena::scan::AthenaExec;
use datafusion_athena_emulator::Emulator;

type Error = Box<dyn std::error::Error + Send + Sync>;

const QUERY: &str = "SELECT c.segment, count(*) AS orders, sum(o.amount) AS revenue \
     FROM sales.orders o JOIN datafusion.public.customers c ON o.customer_id = c.customer_id \
     WHERE o.region = 'emea' AND o.order_date >= DATE '2026-07-01' \
     GROUP BY c.segment ORDER BY c.segment";

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(&mut std::io::stdout().lock()).await
}

/// Runs the example, writing what it shows to `out`.
pub(crate) async fn run(out: &mut dyn Write) -> Result<(), Error> {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut emulator = None;
    let connection = match std::env::var("ATHENA_CONNECTION") {
        Ok(connection) => connection,
        Err(_) => {
            let emu = Emulator::builder()
                .data_dir(examples.join("data"))
                .start()
                .await?;
            let connection = emu.connection_string();
            emulator = Some(emu);
            connection
        }
    };

    let ctx = SessionContext::new();
    // Athena's catalogs: `awsdatacatalog.<database>.<table>`, the connection's database
    // (`sales`) being the default schema.
    datafusion_athena::register_athena(&ctx, &connection).await?;
    // A local table next to them, in DataFusion's own catalog.
    let customers = examples.join("local/customers.parquet");
    ctx.register_parquet(
        "datafusion.public.customers",
        customers.to_str().ok_or("the path is not UTF-8")?,
        ParquetReadOptions::default(),
    )
    .await?;

    let df = ctx.sql(QUERY).await?;
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let batches = collect(Arc::clone(&plan), task).await?;

    for exec in athena_scans(&plan) {
        let metrics = exec.metrics().unwrap_or_default();
        let count = |name: &str| metrics.sum_by_name(name).map_or(0, |v| v.as_usize());
        let fetch_path = metrics.iter().find_map(|m| match m.value() {
            MetricValue::Custom { name, value } if name == "fetch_path" => Some(value.to_string()),
            _ => None,
        });
        writeln!(out, "ran inside Athena:\n  {}", exec.sql())?;
        writeln!(
            out,
            "  scanned {} bytes, returned {} rows via {}\n",
            count("data_scanned_bytes"),
            count("rows_fetched"),
            fetch_path.unwrap_or_else(|| "-".into())
        )?;
    }
    writeln!(out, "joined with {} in DataFusion:", customers.display())?;
    writeln!(out, "{}", pretty_format_batches(&batches)?)?;
    if let Some(emu) = emulator {
        emu.shutdown().await;
    }
    Ok(())
}

/// The Athena scans of a physical plan, depth first.
fn athena_scans(plan: &Arc<dyn ExecutionPlan>) -> Vec<&AthenaExec> {
    let mut found: Vec<&AthenaExec> = plan.downcast_ref::<AthenaExec>().into_iter().collect();
    for child in plan.children() {
        found.extend(athena_scans(child));
    }
    found
}
