//! Register Athena as DataFusion catalogs from a connection string, query a table with a filter,
//! and see the SQL that runs inside Athena.
//!
//! Needs: nothing but this repository. Without `ATHENA_CONNECTION` it starts the bundled
//! emulator on `examples/data`; with it (e.g. `AWSRegion=IRELAND;Database=sales;
//! S3StagingDirectory=s3://bucket/staging/;`) it runs against that Athena connection, which must
//! have a `sales.orders` table.
//!
//! `cargo run --example register_catalog`

use datafusion::prelude::SessionContext;
use datafusion_athena_emulator::Emulator;

const QUERY: &str = "SELECT order_id, amount FROM sales.orders \
                     WHERE region = 'emea' AND amount > 2500 ORDER BY order_id LIMIT 5";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut emulator = None;
    let connection = match std::env::var("ATHENA_CONNECTION") {
        Ok(connection) => connection,
        Err(_) => {
            let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
            let emu = Emulator::builder()
                .data_dir(data)
                .database("sales")
                .start()
                .await?;
            let connection = emu.connection_string();
            emulator = Some(emu);
            connection
        }
    };

    let ctx = SessionContext::new();
    let catalogs = datafusion_athena::register_athena(&ctx, &connection).await?;
    println!(
        "registered; default catalog {}, schema {}",
        catalogs.default_catalog(),
        catalogs.default_schema().unwrap_or("(none)")
    );

    // The physical plan's AthenaExec line holds the SQL Athena receives.
    let plan = ctx
        .sql(&format!("EXPLAIN {QUERY}"))
        .await?
        .collect()
        .await?;
    println!(
        "{}",
        datafusion::arrow::util::pretty::pretty_format_batches(&plan)?
    );

    ctx.sql(QUERY).await?.show().await?;
    if let Some(emu) = emulator {
        emu.shutdown().await;
    }
    Ok(())
}
