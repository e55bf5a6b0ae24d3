//! The Rust side of the PyAthena comparison (`benches/pyathena_compare.py` runs the whole
//! benchmark; see its header).
//!
//! Roles, one per process so each peak RSS belongs to one client:
//!
//! ```text
//! pyathena_compare --role generate --rows N --data DIR   # writes DIR/bench/results/*.parquet
//! pyathena_compare --role client --fetcher S3|GetQueryResults|Unload   # connection in $PYATHENA_COMPARE_CONNECTION
//! ```
//!
//! Both print one JSON line on stdout: `generate` the checksum of the rows written, `client`
//! the checksum of the rows it read, the seconds it took and how the rows travelled.
//!
//! Without `--role` (that is under `cargo test --all-targets` and `cargo bench`) it runs a
//! smoke check in process: 3,000 rows through the emulator on each of the three paths, each
//! checksum equal to the generated one.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringBuilder,
    TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::SessionContext;
use datafusion_athena::ConnectionOptions;
use datafusion_athena::scan::AthenaExec;
use futures::StreamExt;

#[path = "support/tally.rs"]
mod tally;

use tally::Tally;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// The database and table the Python driver queries (`SELECT * FROM bench.results`).
const DATABASE: &str = "bench";
const TABLE: &str = "results";
/// The environment variable holding the connection string (it holds the emulator's key).
const CONN_ENV: &str = "PYATHENA_COMPARE_CONNECTION";
const BATCH_ROWS: usize = 65_536;
/// Rows per Parquet file, so that large tables are several files.
const FILE_ROWS: usize = 2_000_000;
const SMOKE_ROWS: usize = 3_000;
const FETCHERS: [&str; 3] = ["S3", "GetQueryResults", "Unload"];

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pyathena_compare: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The value after `--name`, if given.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn need<'a>(args: &'a [String], name: &str) -> Result<&'a str> {
    flag(args, name).ok_or_else(|| format!("{name} is required").into())
}

fn dispatch(args: &[String]) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match flag(args, "--role") {
        Some("generate") => {
            let rows = need(args, "--rows")?;
            let rows: usize = rows
                .replace('_', "")
                .parse()
                .map_err(|_| format!("--rows {rows:?}: expected a row count such as 1000000"))?;
            let tally = generate(Path::new(need(args, "--data")?), rows)?;
            println!("{}", tally.to_json());
            Ok(())
        }
        Some("client") => {
            let conn = std::env::var(CONN_ENV).map_err(|_| format!("{CONN_ENV} is not set"))?;
            let fetcher = need(args, "--fetcher")?;
            let run = runtime.block_on(client(&conn, fetcher))?;
            println!("{}", run.to_json());
            Ok(())
        }
        Some(other) => Err(format!("unknown --role {other:?}: use generate or client").into()),
        None => runtime.block_on(smoke()),
    }
}

// ---------------------------------------------------------------------------------------------
// The data: a pure function of the row number.

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("day", DataType::Date32, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("amount", DataType::Decimal128(18, 2), true),
    ]))
}

const WORDS: [&str; 4] = [
    "alpha",
    "ünïcödé",
    "comma, \"quote\"",
    "a longer piece of text",
];

/// Rows `start..start + len`.
fn batch(start: usize, len: usize) -> Result<RecordBatch> {
    let rows = start..start + len;
    let mut s = StringBuilder::with_capacity(len, len * 24);
    for r in rows.clone() {
        match r % 10 {
            0 => s.append_null(),
            1 => s.append_value(""),
            _ => s.append_value(format!("row {r} {}", WORDS[r % WORDS.len()])),
        }
    }
    let cols: Vec<ArrayRef> =
        vec![
            Arc::new(Int64Array::from_iter_values(rows.clone().map(|r| r as i64))),
            Arc::new(Float64Array::from_iter(rows.clone().map(|r| {
                (r % 7 != 3).then_some((r % 100_000) as f64 * 0.25 - 1000.0)
            }))),
            Arc::new(s.finish()),
            Arc::new(Date32Array::from_iter(
                rows.clone()
                    .map(|r| (r % 11 != 5).then_some((r % 40_000) as i32 - 10_000)),
            )),
            Arc::new(TimestampMillisecondArray::from_iter(rows.clone().map(
                |r| (r % 13 != 7).then_some(1_600_000_000_000 + r as i64 * 1_001),
            ))),
            Arc::new(
                Decimal128Array::from_iter(rows.map(|r| {
                    (r % 9 != 4).then_some((r as i128 * 7_919) % 100_000_000 - 50_000_000)
                }))
                .with_precision_and_scale(18, 2)?,
            ),
        ];
    Ok(RecordBatch::try_new(schema(), cols)?)
}

/// Writes `rows` rows as `data/bench/results/part-NNNNN.parquet`; returns their checksum.
fn generate(data: &Path, rows: usize) -> Result<Tally> {
    let dir = data.join(DATABASE).join(TABLE);
    std::fs::create_dir_all(&dir)?;
    let mut tally = Tally::default();
    let mut start = 0;
    let mut part = 0;
    while start < rows || part == 0 {
        let end = (start + FILE_ROWS).min(rows);
        let file = File::create(dir.join(format!("part-{part:05}.parquet")))?;
        let mut writer = ArrowWriter::try_new(file, schema(), None)?;
        while start < end {
            let len = BATCH_ROWS.min(end - start);
            let b = batch(start, len)?;
            tally.add(&b)?;
            writer.write(&b)?;
            start += len;
        }
        writer.close()?;
        part += 1;
    }
    Ok(tally)
}

impl Tally {
    /// The checksum as JSON (big sums as strings, as JSON numbers are doubles elsewhere).
    fn to_json(self) -> String {
        format!(
            "{{\"rows\": {}, \"checksum\": {{\"rows\": \"{}\", \"id_sum\": \"{}\", \"x_nulls\": \"{}\", \"x4_sum\": \"{}\", \"s_nulls\": \"{}\", \"s_empty\": \"{}\", \"s_bytes\": \"{}\", \"day_sum\": \"{}\", \"ts_sum\": \"{}\", \"amount_sum\": \"{}\"}}}}",
            self.rows,
            self.rows,
            self.id_sum,
            self.x_nulls,
            self.x4_sum,
            self.s_nulls,
            self.s_empty,
            self.s_bytes,
            self.day_sum,
            self.ts_sum,
            self.amount_sum
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The client: `SELECT * FROM bench.results` through DataFusion and the Athena catalog.

/// What one client run measured.
#[derive(Debug)]
struct ClientRun {
    tally: Tally,
    /// From planning the statement to the last row, checksum time excluded.
    seconds: f64,
    /// Time spent computing the checksum.
    checksum_seconds: f64,
    fetch_path: String,
    bytes_fetched: usize,
}

impl ClientRun {
    fn to_json(&self) -> String {
        let tally = self.tally.to_json();
        let head = tally.strip_suffix('}').unwrap_or(&tally);
        format!(
            "{head}, \"seconds\": {:.6}, \"checksum_seconds\": {:.6}, \"fetch_path\": \"{}\", \"bytes_fetched\": {}}}",
            self.seconds, self.checksum_seconds, self.fetch_path, self.bytes_fetched
        )
    }
}

async fn client(conn: &str, fetcher: &str) -> Result<ClientRun> {
    if !FETCHERS.contains(&fetcher) {
        return Err(format!("--fetcher {fetcher:?}: use one of {FETCHERS:?}").into());
    }
    let conn = format!("{conn};ResultFetcher={fetcher};");
    let options = ConnectionOptions::parse_with_env(&conn, |_| None)?;
    let ctx = SessionContext::new();
    datafusion_athena::register_athena_with_options(&ctx, &options).await?;

    let started = Instant::now();
    let df = ctx
        .sql(&format!("SELECT * FROM {DATABASE}.{TABLE}"))
        .await?;
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let mut stream = execute_stream(Arc::clone(&plan), task)?;
    let mut tally = Tally::default();
    let mut checksum = Duration::ZERO;
    while let Some(b) = stream.next().await {
        let b = b?;
        let t = Instant::now();
        tally.add(&b)?;
        checksum += t.elapsed();
    }
    let total = started.elapsed();
    let (fetch_path, bytes_fetched) = athena_metrics(&plan);
    Ok(ClientRun {
        tally,
        seconds: total.saturating_sub(checksum).as_secs_f64(),
        checksum_seconds: checksum.as_secs_f64(),
        fetch_path,
        bytes_fetched,
    })
}

/// The fetch path and the result bytes downloaded, from the plan's Athena scan.
fn athena_metrics(plan: &Arc<dyn ExecutionPlan>) -> (String, usize) {
    if let Some(exec) = plan.downcast_ref::<AthenaExec>() {
        let metrics = exec.metrics().unwrap_or_default();
        let path = metrics
            .iter()
            .find_map(|m| match m.value() {
                MetricValue::Custom { name, value } if name == "fetch_path" => {
                    Some(value.to_string())
                }
                _ => None,
            })
            .unwrap_or_default();
        let bytes = metrics
            .sum_by_name("bytes_fetched")
            .map_or(0, |v| v.as_usize());
        return (path, bytes);
    }
    plan.children()
        .into_iter()
        .map(athena_metrics)
        .find(|(path, _)| !path.is_empty())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Smoke check (cargo test / cargo bench)

async fn smoke() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let expected = generate(&dir.path().join("data"), SMOKE_ROWS)?;
    let emu = datafusion_athena_emulator::Emulator::builder()
        .data_dir(dir.path().join("data"))
        .storage_dir(dir.path().join("s3"))
        .database(DATABASE)
        .start()
        .await?;
    for fetcher in FETCHERS {
        let run = client(&emu.connection_string(), fetcher).await?;
        if run.tally != expected {
            return Err(format!(
                "{fetcher}: checksum {} differs from the generated {}",
                run.tally.to_json(),
                expected.to_json()
            )
            .into());
        }
        if run.fetch_path != fetcher {
            return Err(format!("asked for {fetcher}, read via {:?}", run.fetch_path).into());
        }
        println!(
            "pyathena_compare smoke: {fetcher}: {} rows, checksum equal",
            run.tally.rows
        );
    }
    emu.shutdown().await;
    println!(
        "pyathena_compare: the benchmark itself is `benches/pyathena_compare.py` (see its header)"
    );
    Ok(())
}
