//! Join key pushdown (issue 8): a local Parquet file of 1,000 keys joined with an Athena table
//! of N rows, run through `register_athena` against the embedded emulator with key pushdown on
//! and off. Prints the rows and bytes fetched from Athena (result CSV bytes), the data Athena
//! scanned, the result rows and the time of each.
//!
//! ```text
//! cargo bench --bench join_keys                     # 10,000,000 Athena rows
//! cargo bench --bench join_keys -- --rows 1000000   # or JOIN_KEYS_ROWS=1000000
//! cargo test --bench join_keys                      # 20,000-row smoke run
//! ```
//!
//! Other options: `--keys N` (local keys, default 1,000), `JOIN_KEYS_DIR` (where the data and
//! the emulator's storage go; default a temp dir).
//!
//! The Athena table `bench.facts(id bigint, k bigint, amount double, note varchar)` has
//! `k = id`; the local keys are spread evenly over `0..N`, so each matches exactly one row.
//! Every run checks that both joins return the same rows and that, with pushdown, Athena sent
//! exactly the matching rows.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion_athena_catalog::register_athena;
use datafusion_athena_emulator::Emulator;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

const SMOKE_ROWS: usize = 20_000;
const BENCH_ROWS: usize = 10_000_000;
const DEFAULT_KEYS: usize = 1_000;
const BATCH_ROWS: usize = 65_536;
const MIB: f64 = 1024.0 * 1024.0;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = || -> Result<()> {
        let args = Args::parse(&args)?;
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run(&args))
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("join_keys: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--rows N`, `--keys N` and the bare `--bench` cargo passes; anything else is ignored.
#[derive(Debug, Default)]
struct Args {
    values: BTreeMap<String, usize>,
    bench: bool,
}

impl Args {
    fn parse(args: &[String]) -> Result<Self> {
        let mut out = Self::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--bench" => out.bench = true,
                flag @ ("--rows" | "--keys") => {
                    let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
                    out.values.insert(flag[2..].to_string(), count(flag, v)?);
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

fn count(what: &str, v: &str) -> Result<usize> {
    v.replace('_', "")
        .parse::<usize>()
        .map_err(|_| format!("{what} {v:?}: expected a count such as 1000000").into())
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k", DataType::Int64, false),
        Field::new("amount", DataType::Float64, true),
        Field::new("note", DataType::Utf8, true),
    ]))
}

/// Writes `dir/bench/facts/part-0.parquet` with `rows` rows.
fn generate(dir: &Path, rows: usize) -> Result<()> {
    let table = dir.join("bench").join("facts");
    std::fs::create_dir_all(&table)?;
    let mut writer =
        ArrowWriter::try_new(File::create(table.join("part-0.parquet"))?, schema(), None)?;
    let mut start = 0;
    while start < rows {
        let len = BATCH_ROWS.min(rows - start);
        let ids: Vec<i64> = (start..start + len).map(|r| r as i64).collect();
        let mut notes = StringBuilder::with_capacity(len, len * 16);
        for r in start..start + len {
            notes.append_value(format!("order {r:09}"));
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from_iter_values(
                (start..start + len).map(|r| (r % 10_000) as f64 * 0.25),
            )),
            Arc::new(notes.finish()),
        ];
        writer.write(&RecordBatch::try_new(schema(), columns)?)?;
        start += len;
    }
    writer.close()?;
    Ok(())
}

/// Writes the local keys file: `keys` values spread evenly over `0..rows`.
fn write_keys(path: &Path, rows: usize, keys: usize) -> Result<()> {
    let step = (rows / keys.max(1)).max(1);
    let values: Vec<i64> = (0..keys.min(rows)).map(|i| (i * step) as i64).collect();
    let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(Int64Array::from(values))],
    )?;
    let mut writer = ArrowWriter::try_new(File::create(path)?, schema, None)?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}

/// What one run of the join measured.
#[derive(Debug, Default)]
struct Measured {
    result_rows: usize,
    rows_fetched: usize,
    bytes_fetched: usize,
    data_scanned: usize,
    statement_bytes: usize,
    time: Duration,
    checksum: i64,
}

/// Sums a metric of every `AthenaExec` in `plan`.
fn athena_metric(plan: &Arc<dyn ExecutionPlan>, name: &str) -> usize {
    let mut total = 0;
    if plan.name() == "AthenaExec"
        && let Some(v) = plan.metrics().and_then(|m| m.sum_by_name(name))
    {
        total += v.as_usize();
    }
    for child in plan.children() {
        total += athena_metric(child, name);
    }
    total
}

async fn join(ctx: &SessionContext, pushdown: bool) -> Result<Measured> {
    ctx.sql(&format!(
        "SET datafusion.optimizer.enable_join_dynamic_filter_pushdown = {pushdown}"
    ))
    .await?
    .collect()
    .await?;
    let sql = "SELECT f.id, f.amount, f.note FROM facts f JOIN local_keys l ON f.k = l.k";
    let started = Instant::now();
    let plan = ctx.sql(sql).await?.create_physical_plan().await?;
    let batches = collect(Arc::clone(&plan), ctx.task_ctx()).await?;
    let time = started.elapsed();
    let mut checksum = 0i64;
    for b in &batches {
        let ids = b
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or("id is not bigint")?;
        checksum = checksum.wrapping_add(ids.iter().flatten().sum::<i64>());
    }
    Ok(Measured {
        result_rows: batches.iter().map(RecordBatch::num_rows).sum(),
        rows_fetched: athena_metric(&plan, "rows_fetched"),
        bytes_fetched: athena_metric(&plan, "bytes_fetched"),
        data_scanned: athena_metric(&plan, "data_scanned_bytes"),
        statement_bytes: 0,
        time,
        checksum,
    })
}

async fn run(args: &Args) -> Result<()> {
    let rows = match (
        args.values.get("rows"),
        std::env::var("JOIN_KEYS_ROWS").ok(),
    ) {
        (Some(n), _) => *n,
        (None, Some(v)) => count("JOIN_KEYS_ROWS", &v)?,
        (None, None) if args.bench => BENCH_ROWS,
        (None, None) => SMOKE_ROWS,
    };
    let keys = args
        .values
        .get("keys")
        .copied()
        .unwrap_or(DEFAULT_KEYS)
        .min(rows);
    let base = match std::env::var_os("JOIN_KEYS_DIR") {
        Some(d) => {
            std::fs::create_dir_all(&d)?;
            std::path::PathBuf::from(d)
        }
        None => std::env::temp_dir(),
    };
    let work = tempfile::Builder::new()
        .prefix("join-keys-")
        .tempdir_in(base)?;
    let data = work.path().join("data");
    eprintln!("join_keys: generating {rows} Athena rows and {keys} local keys ...");
    generate(&data, rows)?;
    let keys_path = work.path().join("keys.parquet");
    write_keys(&keys_path, rows, keys)?;

    let emu = Emulator::builder()
        .data_dir(&data)
        .storage_dir(work.path().join("storage"))
        .database("bench")
        .latencies(Duration::ZERO, Duration::ZERO)
        .start()
        .await?;
    let ctx = SessionContext::new();
    register_athena(&ctx, &emu.connection_string()).await?;
    ctx.register_parquet(
        "local_keys",
        keys_path.to_str().ok_or("temp path is not UTF-8")?,
        ParquetReadOptions::default(),
    )
    .await?;

    let mut results = Vec::new();
    for pushdown in [true, false] {
        eprintln!(
            "join_keys: key pushdown {} ...",
            if pushdown { "on" } else { "off" }
        );
        emu.clear_request_log();
        let mut m = join(&ctx, pushdown).await?;
        m.statement_bytes = emu
            .request_log()
            .iter()
            .filter(|r| r.operation == "StartQueryExecution")
            .filter_map(|r| r.sql.as_ref().map(String::len))
            .max()
            .unwrap_or(0);
        results.push((pushdown, m));
    }
    emu.shutdown().await;

    println!();
    println!(
        "join of {keys} local Parquet keys with an Athena table of {rows} rows (emulator, S3 result path)"
    );
    println!(
        "| key pushdown | rows fetched | bytes fetched | data scanned by Athena | SQL bytes | result rows | time |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (pushdown, m) in &results {
        println!(
            "| {} | {} | {} ({:.2} MiB) | {:.2} MiB | {} | {} | {:.2} s |",
            if *pushdown { "on" } else { "off" },
            m.rows_fetched,
            m.bytes_fetched,
            m.bytes_fetched as f64 / MIB,
            m.data_scanned as f64 / MIB,
            m.statement_bytes,
            m.result_rows,
            m.time.as_secs_f64()
        );
    }
    let (on, off) = (&results[0].1, &results[1].1);
    if on.rows_fetched > 0 && off.bytes_fetched > 0 {
        println!(
            "pushdown fetches {:.1}x fewer rows and {:.1}x fewer bytes",
            off.rows_fetched as f64 / on.rows_fetched as f64,
            off.bytes_fetched as f64 / on.bytes_fetched.max(1) as f64
        );
    }

    // Checks: same answer, every key matched once, and only the matching rows fetched.
    if on.result_rows != off.result_rows || on.checksum != off.checksum {
        return Err(format!(
            "the joins differ: {} rows (checksum {}) with pushdown, {} ({}) without",
            on.result_rows, on.checksum, off.result_rows, off.checksum
        )
        .into());
    }
    if on.result_rows != keys {
        return Err(format!("expected {keys} result rows, got {}", on.result_rows).into());
    }
    if on.rows_fetched != keys {
        return Err(format!(
            "with pushdown Athena should send exactly the {keys} matching rows, sent {}",
            on.rows_fetched
        )
        .into());
    }
    if off.rows_fetched != rows {
        return Err(format!(
            "without pushdown expected all {rows} rows, fetched {}",
            off.rows_fetched
        )
        .into());
    }
    Ok(())
}
