//! Registers an emulated catalog of 3 databases x N tables x 30 columns, then plans and runs a
//! query on one table, printing the metadata API calls and the times.
//!
//! `cargo bench -p datafusion-athena-catalog --bench plan_first_query` (N from
//! `CATALOG_BENCH_TABLES`, default 1000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use datafusion_athena_catalog::AthenaCatalogBuilder;
use datafusion_athena_emulator::Emulator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("CATALOG_BENCH_TABLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let emu = Emulator::builder()
        .latencies(Duration::ZERO, Duration::ZERO)
        .start()
        .await?;
    let schema = Arc::new(Schema::new(
        (0..30)
            .map(|i| Field::new(format!("c{i}"), DataType::Int64, true))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..30)
        .map(|i| Arc::new(Int64Array::from(vec![i])) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    for db in ["db1", "db2", "db3"] {
        for t in 0..n {
            emu.register_batches(
                db,
                &format!("t{t:04}"),
                Arc::clone(&schema),
                vec![batch.clone()],
            )?;
        }
    }
    let conn = format!(
        "AWSRegion={};AWSAccessKey={};AWSSecretKey={};S3StagingDirectory={};Endpoint={};DataSource=AwsDataCatalog;",
        emu.region(),
        emu.access_key(),
        emu.secret_key(),
        emu.staging_dir(),
        emu.endpoint()
    );
    for (label, extra, preload) in [
        ("all databases", "", true),
        ("Database=db2", "Database=db2;", true),
        ("Database=db2, lazy", "Database=db2;", false),
    ] {
        let ctx = SessionContext::new();
        let started = Instant::now();
        let opts = format!("{conn}{extra}").parse()?;
        let reg = AthenaCatalogBuilder::new(opts)
            .with_preload_tables(preload)
            .register(&ctx)
            .await?;
        let registered = started.elapsed();
        let planning = Instant::now();
        let df = ctx
            .sql("SELECT c0, c29 FROM db2.t0007 WHERE c0 >= 0")
            .await?;
        let plan = df.create_physical_plan().await?;
        let planned = planning.elapsed();
        let running = Instant::now();
        let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        println!(
            "{label}: 3 x {n} tables x 30 columns: metadata calls {:?} (total {}); register {registered:?}; \
             plan first query {planned:?}; run {:?} ({rows} rows)",
            reg.api_calls(),
            reg.total_api_calls(),
            running.elapsed()
        );
    }
    emu.shutdown().await;
    Ok(())
}
