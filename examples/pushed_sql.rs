//! Query an Athena table with filters and see which of them run inside Athena.
//!
//! Needs: nothing but this repository: it starts the bundled emulator on `examples/data`
//! (the `sales.orders` table of the quickstart).
//!
//! Prints: the SQL the Athena scan sends (the `AthenaExec` node of the physical plan: the
//! `region`, `order_date` and `amount` filters, the two needed columns), the filter DataFusion
//! still applies itself because Athena's `round` differs from DataFusion's (the `FilterExec`
//! line), what Athena reported for the query (query id, bytes scanned, rows fetched), and the
//! result rows.
//!
//! `cargo run --example pushed_sql`

use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::{ExecutionPlan, collect, displayable};
use datafusion::prelude::SessionContext;
use datafusion_athena::scan::AthenaExec;
use datafusion_athena_emulator::Emulator;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Filters on a partition column, a date and a decimal go to Athena; `round(...)` stays local.
const QUERY: &str = "SELECT order_id, amount FROM sales.orders \
     WHERE region = 'emea' AND order_date BETWEEN DATE '2026-03-01' AND DATE '2026-03-31' \
     AND amount > 2000 AND round(amount) % 2 = 0 \
     ORDER BY order_id LIMIT 5";

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(&mut std::io::stdout().lock()).await
}

/// Runs the example, writing what it shows to `out`.
pub(crate) async fn run(out: &mut dyn Write) -> Result<(), Error> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let emulator = Emulator::builder().data_dir(data).start().await?;
    let ctx = SessionContext::new();
    datafusion_athena::register_athena(&ctx, &emulator.connection_string()).await?;

    let df = ctx.sql(QUERY).await?;
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    writeln!(out, "query:\n  {QUERY}\n")?;
    for exec in athena_scans(&plan) {
        writeln!(out, "SQL sent to Athena:\n  {}\n", exec.sql())?;
    }
    let local: Vec<String> = displayable(plan.as_ref())
        .indent(false)
        .to_string()
        .lines()
        .filter(|l| l.trim_start().starts_with("FilterExec"))
        .map(|l| l.trim().to_string())
        .collect();
    writeln!(out, "filters DataFusion applies itself:")?;
    for line in &local {
        writeln!(out, "  {line}")?;
    }

    let batches = collect(Arc::clone(&plan), task).await?;
    for exec in athena_scans(&plan) {
        let metrics = exec.metrics().unwrap_or_default();
        let query_id = metrics.iter().find_map(|m| match m.value() {
            MetricValue::Custom { name, value } if name == "query_id" => Some(value.to_string()),
            _ => None,
        });
        let count = |name: &str| metrics.sum_by_name(name).map_or(0, |v| v.as_usize());
        writeln!(
            out,
            "\nathena query {}: scanned {} bytes, fetched {} rows",
            query_id.unwrap_or_default(),
            count("data_scanned_bytes"),
            count("rows_fetched")
        )?;
    }
    writeln!(out, "{}", pretty_format_batches(&batches)?)?;
    emulator.shutdown().await;
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
