//! Result-path benchmark (issue 5) and the emulator's peak RSS (issue 3).
//!
//! One deterministic result of N rows (bigint, double, varchar with empty strings and NULLs,
//! date, timestamp, decimal) is written as a Parquet table that the emulator serves. `SELECT *`
//! then runs through each result path of `AthenaRunner` (S3, GetQueryResults, Unload), and two
//! local baselines run on the same bytes: arrow-csv parsing the result CSV the emulator wrote,
//! and DataFusion reading the Parquet files UNLOAD wrote. Every measured phase runs in its own
//! child process of this binary, so each peak RSS (`VmHWM`) belongs to that phase alone; the
//! emulator runs in a child too and its peak is reset between paths.
//!
//! ```text
//! cargo bench --bench result_paths                     # 10,000,000 rows
//! cargo bench --bench result_paths -- --rows 1000000   # or RESULT_PATHS_ROWS=1000000
//! cargo test --bench result_paths                      # 2,000-row smoke run
//! ```
//!
//! Other options: `--gqr-rows N` (GetQueryResults reads only the first N rows, via LIMIT),
//! `RESULT_PATHS_DIR` (where the data and the emulator's storage go; default a temp dir).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringBuilder,
    TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion_athena_config::ConnectionOptions;
use datafusion_athena_emulator::{Emulator, RESULTS_BUCKET};
use datafusion_athena_scan::{AthenaRunner, QueryExecutor, QueryMetrics, s3_store};
use futures::StreamExt;
use object_store::ObjectStoreExt;

#[path = "support/tally.rs"]
mod tally;

use tally::Tally;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

const DATABASE: &str = "bench";
const TABLE: &str = "results";
const SMOKE_ROWS: usize = 2_000;
const BENCH_ROWS: usize = 10_000_000;
const BATCH_ROWS: usize = 8192;
/// The child processes get the connection string here (it holds the emulator's secret key).
const CONN_ENV: &str = "RESULT_PATHS_CONNECTION";
const MIB: f64 = 1024.0 * 1024.0;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("result_paths: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The flags that take a value; any other argument is ignored.
const VALUE_FLAGS: [&str; 10] = [
    "--role",
    "--rows",
    "--gqr-rows",
    "--path",
    "--limit",
    "--data",
    "--storage",
    "--file",
    "--dir",
    "--keys",
];

/// Command-line flags: `--name value` pairs plus the bare `--bench` cargo passes.
#[derive(Debug, Default)]
struct Args {
    values: BTreeMap<String, String>,
    bench: bool,
}

impl Args {
    fn parse(args: &[String]) -> Result<Self> {
        let mut out = Self::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--bench" => out.bench = true,
                flag if VALUE_FLAGS.contains(&flag) => {
                    let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
                    out.values.insert(flag[2..].to_string(), value.clone());
                }
                // Test-harness flags and filters (`--nocapture`, `--quiet`, names) mean nothing here.
                _ => {}
            }
        }
        Ok(out)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn need(&self, name: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required").into())
    }

    fn count(&self, name: &str) -> Result<Option<usize>> {
        self.get(name)
            .map(|v| {
                v.replace('_', "")
                    .parse::<usize>()
                    .map_err(|_| format!("--{name} {v:?}: expected a row count such as 1000000"))
            })
            .transpose()
            .map_err(Into::into)
    }
}

fn dispatch(raw: &[String]) -> Result<()> {
    let args = Args::parse(raw)?;
    match args.get("role") {
        None => orchestrate(&args),
        Some("emulator") => runtime()?.block_on(serve_emulator(&args)),
        Some("client") => runtime()?.block_on(run_client(&args)),
        Some("csv-local") => csv_local(&args),
        Some("parquet-local") => runtime()?.block_on(parquet_local(&args)),
        Some("s3-download") => runtime()?.block_on(s3_download(&args)),
        Some(other) => Err(format!("unknown --role {other:?}").into()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ---------------------------------------------------------------------------------------------
// The data

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

const WORDS: [&str; 5] = [
    "alpha",
    "ünïcödé 🦀",
    "comma, \"quote\"",
    "a somewhat longer piece of text",
    "z",
];

/// Rows `start..start + len`: a pure function of the row number.
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
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.clone().map(|r| r as i64))),
        Arc::new(Float64Array::from_iter(
            rows.clone()
                .map(|r| (r % 7 != 3).then_some(r as f64 * 0.25 - 1000.0)),
        )),
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
                (r % 9 != 4).then_some((r as i128 * 7_919) % 1_000_000_000_000 - 500_000_000_000)
            }))
            .with_precision_and_scale(18, 2)?,
        ),
    ];
    Ok(RecordBatch::try_new(schema(), cols)?)
}

/// Writes the table as `dir/bench/results/part-00000.parquet`; returns its tally.
fn generate(data_dir: &Path, rows: usize) -> Result<Tally> {
    let table_dir = data_dir.join(DATABASE).join(TABLE);
    std::fs::create_dir_all(&table_dir)?;
    let file = File::create(table_dir.join("part-00000.parquet"))?;
    let mut writer = ArrowWriter::try_new(file, schema(), None)?;
    let mut tally = Tally::default();
    let mut start = 0;
    while start < rows {
        let len = BATCH_ROWS.min(rows - start);
        let b = batch(start, len)?;
        tally.add(&b)?;
        writer.write(&b)?;
        start += len;
    }
    writer.close()?;
    Ok(tally)
}

/// How a tally travels from a child process: its fields joined by `:`.
impl Tally {
    fn to_field(self) -> String {
        format!(
            "{}:{}:{}:{}:{}:{}:{}:{}:{}:{}",
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

    fn from_field(s: &str) -> Result<Self> {
        let p: Vec<&str> = s.split(':').collect();
        if p.len() != 10 {
            return Err(format!("bad tally {s:?}").into());
        }
        Ok(Self {
            rows: p[0].parse()?,
            id_sum: p[1].parse()?,
            x_nulls: p[2].parse()?,
            x4_sum: p[3].parse()?,
            s_nulls: p[4].parse()?,
            s_empty: p[5].parse()?,
            s_bytes: p[6].parse()?,
            day_sum: p[7].parse()?,
            ts_sum: p[8].parse()?,
            amount_sum: p[9].parse()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Memory

/// This process's peak resident set (`VmHWM`), in KiB; 0 where /proc is missing.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Resets `VmHWM` to the current RSS (Linux >= 4.0); false when the kernel refuses.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

// ---------------------------------------------------------------------------------------------
// Children: one measured phase each. Each prints one `RESULT k=v ...` line on stdout.

/// What a child reports.
#[derive(Debug, Clone, Default)]
struct Measured {
    tally: Tally,
    total: Duration,
    /// Time until the query SUCCEEDED (start + polling), included in `total`.
    wait: Duration,
    peak_kib: u64,
    query_id: String,
    fetch_path: String,
    /// Bytes moved (the transport-only child).
    bytes: u64,
}

impl Measured {
    fn print(&self) {
        println!(
            "RESULT tally={} total_ns={} wait_ns={} peak_kib={} bytes={} query_id={} fetch_path={}",
            self.tally.to_field(),
            self.total.as_nanos(),
            self.wait.as_nanos(),
            self.peak_kib,
            self.bytes,
            if self.query_id.is_empty() {
                "-"
            } else {
                &self.query_id
            },
            if self.fetch_path.is_empty() {
                "-"
            } else {
                &self.fetch_path
            },
        );
    }

    fn parse(line: &str) -> Result<Self> {
        let rest = line
            .strip_prefix("RESULT ")
            .ok_or_else(|| format!("not a result line: {line:?}"))?;
        let mut m = Self::default();
        for kv in rest.split_whitespace() {
            let (k, v) = kv.split_once('=').ok_or("bad result field")?;
            match k {
                "tally" => m.tally = Tally::from_field(v)?,
                "total_ns" => m.total = Duration::from_nanos(v.parse()?),
                "wait_ns" => m.wait = Duration::from_nanos(v.parse()?),
                "peak_kib" => m.peak_kib = v.parse()?,
                "bytes" => m.bytes = v.parse()?,
                "query_id" => m.query_id = v.trim_matches('-').to_string(),
                "fetch_path" => m.fetch_path = v.trim_matches('-').to_string(),
                _ => {}
            }
        }
        Ok(m)
    }

    fn fetch(&self) -> Duration {
        self.total.saturating_sub(self.wait)
    }
}

/// `--role emulator --data DIR --storage DIR`: serves DIR; prints `CONN <connection string>`.
/// Stdin commands: `peak` prints `PEAK <KiB>` and resets the peak; EOF stops.
async fn serve_emulator(args: &Args) -> Result<()> {
    let emu = Emulator::builder()
        .data_dir(args.need("data")?)
        .storage_dir(args.need("storage")?)
        .database(DATABASE)
        .start()
        .await?;
    let resettable = reset_peak_rss();
    println!("CONN {}", emu.connection_string());
    println!("RESETTABLE {resettable}");
    std::io::stdout().flush()?;
    tokio::task::spawn_blocking(|| {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line.trim() == "peak" {
                println!("PEAK {}", peak_rss_kib());
                let _ = std::io::stdout().flush();
                reset_peak_rss();
            }
        }
    })
    .await?;
    emu.shutdown().await;
    Ok(())
}

/// `--role client --path s3|gqr|unload [--limit N]`: streams `SELECT *` through one path.
async fn run_client(args: &Args) -> Result<()> {
    let fetcher = match args.need("path")? {
        "s3" => "S3",
        "gqr" => "GetQueryResults",
        "unload" => "Unload",
        other => return Err(format!("--path {other:?}: use s3, gqr or unload").into()),
    };
    let conn = std::env::var(CONN_ENV).map_err(|_| format!("{CONN_ENV} is not set"))?;
    let options =
        ConnectionOptions::parse_with_env(&format!("{conn}ResultFetcher={fetcher};"), |_| None)?;
    let runner = AthenaRunner::new(&options)
        .await?
        // The Parquet baseline reads the files UNLOAD wrote.
        .with_keep_unload_files(true);
    let mut sql = format!("SELECT * FROM {TABLE}");
    if let Some(limit) = args.count("limit")? {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let metrics = QueryMetrics::detached();
    let started = Instant::now();
    let mut stream = runner.execute(&sql, schema(), metrics.clone())?;
    let mut tally = Tally::default();
    while let Some(b) = stream.next().await {
        tally.add(&b?)?;
    }
    let total = started.elapsed();
    Measured {
        tally,
        total,
        wait: Duration::from_nanos(metrics.wait_time.value() as u64),
        peak_kib: peak_rss_kib(),
        query_id: metrics.query_id.values().join(","),
        fetch_path: metrics.fetch_path.values().join(","),
        bytes: metrics.bytes_fetched.value() as u64,
    }
    .print();
    Ok(())
}

/// `--role csv-local --file F`: arrow-csv parses the result CSV into the target schema.
fn csv_local(args: &Args) -> Result<()> {
    let started = Instant::now();
    let file = File::open(args.need("file")?)?;
    let reader = datafusion::arrow::csv::ReaderBuilder::new(schema())
        .with_header(true)
        .with_batch_size(BATCH_ROWS)
        .build(file)?;
    let mut tally = Tally::default();
    for b in reader {
        tally.add(&b?)?;
    }
    Measured {
        tally,
        total: started.elapsed(),
        peak_kib: peak_rss_kib(),
        ..Measured::default()
    }
    .print();
    Ok(())
}

/// `--role parquet-local --dir D`: DataFusion reads every Parquet file in D.
async fn parquet_local(args: &Args) -> Result<()> {
    let started = Instant::now();
    let ctx = SessionContext::new();
    let df = ctx
        .read_parquet(
            args.need("dir")?,
            ParquetReadOptions::default().file_extension(""),
        )
        .await?;
    let mut stream = df.execute_stream().await?;
    let mut tally = Tally::default();
    while let Some(b) = stream.next().await {
        tally.add(&b?)?;
    }
    Measured {
        tally,
        total: started.elapsed(),
        peak_kib: peak_rss_kib(),
        ..Measured::default()
    }
    .print();
    Ok(())
}

/// The S3 path's part size and GETs in flight (`AthenaRunner` defaults).
const PART_SIZE: u64 = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 4;

/// `--role s3-download --keys K1,K2`: the transport alone. Downloads objects of the results
/// bucket from the emulator with the S3 path's ranged GETs and discards the bytes.
async fn s3_download(args: &Args) -> Result<()> {
    let conn = std::env::var(CONN_ENV).map_err(|_| format!("{CONN_ENV} is not set"))?;
    let options = ConnectionOptions::parse_with_env(&conn, |_| None)?;
    let region = options
        .region
        .as_ref()
        .map_or_else(|| "us-east-1".to_string(), |r| r.code().to_string());
    let store = s3_store(
        &options,
        &region,
        RESULTS_BUCKET,
        Some(datafusion_athena_auth::credentials_provider(&options).await?),
    )?;
    let started = Instant::now();
    let mut bytes = 0u64;
    for key in args.need("keys")?.split(',') {
        let path = object_store::path::Path::from(key);
        let size = store.head(&path).await?.size;
        let ranges: Vec<std::ops::Range<u64>> = (0..size)
            .step_by(PART_SIZE as usize)
            .map(|s| s..(s + PART_SIZE).min(size))
            .collect();
        let mut parts = futures::stream::iter(ranges)
            .map(|r| {
                let store = Arc::clone(&store);
                let path = path.clone();
                async move { store.get_range(&path, r).await }
            })
            .buffered(PARTS_IN_FLIGHT);
        while let Some(part) = parts.next().await {
            bytes += part?.len() as u64;
        }
    }
    Measured {
        total: started.elapsed(),
        peak_kib: peak_rss_kib(),
        bytes,
        ..Measured::default()
    }
    .print();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The orchestrator

/// The emulator child and its pipes.
struct EmulatorChild {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    conn: String,
    resettable: bool,
}

impl std::fmt::Debug for EmulatorChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorChild")
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl EmulatorChild {
    fn start(data: &Path, storage: &Path) -> Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--role", "emulator", "--data"])
            .arg(data)
            .arg("--storage")
            .arg(storage)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().ok_or("no emulator stdout")?);
        let mut me = Self {
            child,
            stdin,
            stdout,
            conn: String::new(),
            resettable: false,
        };
        me.conn = me
            .expect_line("CONN ")
            .map_err(|e| format!("the emulator did not start: {e}"))?;
        me.resettable = me.expect_line("RESETTABLE ")? == "true";
        Ok(me)
    }

    fn expect_line(&mut self, prefix: &str) -> Result<String> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.stdout.read_line(&mut line)? == 0 {
                return Err(format!("emulator exited before printing {prefix:?}").into());
            }
            if let Some(rest) = line.trim_end().strip_prefix(prefix) {
                return Ok(rest.to_string());
            }
        }
    }

    /// The emulator's peak RSS since the last call (or since start), in KiB.
    fn peak_kib(&mut self) -> Result<u64> {
        let stdin = self.stdin.as_mut().ok_or("emulator stdin closed")?;
        writeln!(stdin, "peak")?;
        stdin.flush()?;
        Ok(self.expect_line("PEAK ")?.parse()?)
    }

    fn stop(mut self) -> Result<()> {
        drop(self.stdin.take());
        let status = self.child.wait()?;
        if !status.success() {
            return Err(format!("the emulator exited with {status}").into());
        }
        Ok(())
    }
}

impl Drop for EmulatorChild {
    fn drop(&mut self) {
        if self.stdin.take().is_some() {
            // Not stopped cleanly (an error elsewhere): do not leave it serving.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs this binary with `args` and parses its `RESULT` line.
fn child(args: &[&str], conn: Option<&str>) -> Result<Measured> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(args).stderr(Stdio::inherit());
    if let Some(conn) = conn {
        cmd.env(CONN_ENV, conn);
    }
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("child {args:?} failed ({}): {stdout}", out.status).into());
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .ok_or_else(|| format!("child {args:?} printed no result: {stdout}"))?;
    Measured::parse(line)
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// The directory holding the files UNLOAD wrote (`.../unload/<uuid>/`).
fn find_unload_dir(dir: &Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "unload") {
            return std::fs::read_dir(&path)
                .ok()?
                .flatten()
                .map(|e| e.path())
                .find(|p| p.is_dir());
        }
        if let Some(found) = find_unload_dir(&path) {
            return Some(found);
        }
    }
    None
}

/// The S3 key of `file` in the bucket stored at `bucket_dir`.
fn object_key(bucket_dir: &Path, file: &Path) -> Result<String> {
    let rel = file
        .strip_prefix(bucket_dir)
        .map_err(|_| format!("{} is outside {}", file.display(), bucket_dir.display()))?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    Ok(parts.join("/"))
}

fn print_transport(rows: &[(&str, &Measured, u64)]) {
    println!();
    println!(
        "Transport alone: the same objects fetched from the emulator with {} MiB ranged GETs, {PARTS_IN_FLIGHT} in flight, bytes discarded (no decoding).",
        PART_SIZE / 1024 / 1024
    );
    println!();
    println!("| objects | MiB | seconds | MiB/s | peak RSS MB |");
    println!("|---|---:|---:|---:|---:|");
    for (name, m, expected) in rows {
        let mib = m.bytes as f64 / MIB;
        let note = if m.bytes == *expected {
            String::new()
        } else {
            format!(" (expected {:.1} MiB)", *expected as f64 / MIB)
        };
        println!(
            "| {name} | {mib:.1}{note} | {:.2} | {:.0} | {:.0} |",
            m.total.as_secs_f64(),
            mib / m.total.as_secs_f64().max(1e-9),
            m.peak_kib as f64 / 1024.0
        );
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_bytes(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// One row of the printed table.
#[derive(Debug)]
struct Row {
    name: &'static str,
    measured: Measured,
    /// `(ratio name, baseline row index, target)`.
    ratio: Option<(&'static str, usize, f64)>,
    emulator_peak_kib: Option<u64>,
}

fn rows_per_sec(rows: u64, d: Duration) -> f64 {
    rows as f64 / d.as_secs_f64().max(1e-9)
}

fn orchestrate(args: &Args) -> Result<()> {
    let env_rows = std::env::var("RESULT_PATHS_ROWS").ok();
    let rows = match (args.count("rows")?, env_rows) {
        (Some(n), _) => n,
        (None, Some(v)) => v
            .replace('_', "")
            .parse()
            .map_err(|_| format!("RESULT_PATHS_ROWS={v:?}: expected a row count"))?,
        (None, None) if args.bench => BENCH_ROWS,
        (None, None) => SMOKE_ROWS,
    };
    let gqr_rows = args.count("gqr-rows")?.map(|n| n.min(rows));
    let base = match std::env::var_os("RESULT_PATHS_DIR") {
        Some(d) => {
            std::fs::create_dir_all(&d)?;
            PathBuf::from(d)
        }
        None => std::env::temp_dir(),
    };
    let work = tempfile::Builder::new()
        .prefix("result-paths-")
        .tempdir_in(base)?;
    let data = work.path().join("data");
    let storage = work.path().join("storage");

    eprintln!("result_paths: generating {rows} rows ...");
    let started = Instant::now();
    let expected = generate(&data, rows)?;
    let parquet_bytes = dir_bytes(&data);
    eprintln!(
        "result_paths: generated {:.1} MiB of Parquet in {:.1} s",
        parquet_bytes as f64 / MIB,
        started.elapsed().as_secs_f64()
    );

    let mut emu = EmulatorChild::start(&data, &storage)?;
    let conn = emu.conn.clone();
    let startup_peak = emu.peak_kib()?;
    let mut table: Vec<Row> = Vec::new();
    let mut failures: Vec<String> = Vec::new();

    // S3 path, then arrow-csv on the very CSV it read.
    eprintln!("result_paths: S3 path ...");
    let s3 = child(&["--role", "client", "--path", "s3"], Some(&conn))?;
    let s3_emu = emu.peak_kib()?;
    let csv_file = find_file(&storage, &format!("{}.csv", s3.query_id))
        .ok_or_else(|| format!("the result CSV of query {} is missing", s3.query_id))?;
    let csv_bytes = std::fs::metadata(&csv_file)?.len();
    let bucket_dir = storage.join(RESULTS_BUCKET);
    let csv_key = object_key(&bucket_dir, &csv_file)?;
    eprintln!("result_paths: S3 transport alone (result CSV) ...");
    let csv_transport = child(&["--role", "s3-download", "--keys", &csv_key], Some(&conn))?;
    eprintln!("result_paths: arrow-csv baseline ...");
    let csv_path = csv_file.to_string_lossy().to_string();
    let csv = child(&["--role", "csv-local", "--file", &csv_path], None)?;
    table.push(Row {
        name: "arrow-csv, local file (baseline)",
        measured: csv,
        ratio: None,
        emulator_peak_kib: None,
    });
    table.push(Row {
        name: "S3 (result CSV, ranged GETs)",
        measured: s3,
        ratio: Some(("S3 / arrow-csv local", 0, 0.5)),
        emulator_peak_kib: Some(s3_emu),
    });

    eprintln!("result_paths: GetQueryResults path ...");
    let limit = gqr_rows.map(|n| n.to_string());
    let mut gqr_args = vec!["--role", "client", "--path", "gqr"];
    if let Some(l) = &limit {
        gqr_args.extend(["--limit", l.as_str()]);
    }
    let gqr = child(&gqr_args, Some(&conn))?;
    let gqr_emu = emu.peak_kib()?;

    eprintln!("result_paths: Unload path ...");
    let unload = child(&["--role", "client", "--path", "unload"], Some(&conn))?;
    let unload_emu = emu.peak_kib()?;
    let unload_dir = find_unload_dir(&storage).ok_or("the UNLOAD output is missing")?;
    let unload_bytes = dir_bytes(&unload_dir);
    let mut unload_keys = Vec::new();
    for entry in std::fs::read_dir(&unload_dir)?.flatten() {
        unload_keys.push(object_key(&bucket_dir, &entry.path())?);
    }
    unload_keys.sort();
    eprintln!("result_paths: S3 transport alone (UNLOAD files) ...");
    let unload_transport = child(
        &["--role", "s3-download", "--keys", &unload_keys.join(",")],
        Some(&conn),
    )?;
    eprintln!("result_paths: DataFusion Parquet baseline ...");
    let pq_path = unload_dir.to_string_lossy().to_string();
    let parquet = child(&["--role", "parquet-local", "--dir", &pq_path], None)?;
    let resettable = emu.resettable;
    emu.stop()?;

    table.push(Row {
        name: "GetQueryResults (1000-row pages)",
        measured: gqr,
        ratio: None,
        emulator_peak_kib: Some(gqr_emu),
    });
    table.push(Row {
        name: "DataFusion Parquet, local files (baseline)",
        measured: parquet,
        ratio: None,
        emulator_peak_kib: None,
    });
    table.push(Row {
        name: "Unload (Parquet, ranged GETs)",
        measured: unload,
        ratio: Some(("Unload / DataFusion Parquet local", 3, 0.7)),
        emulator_peak_kib: Some(unload_emu),
    });

    // Correctness first: every path and baseline delivers every row; the paths (which keep
    // NULL apart from '') deliver exactly the generated values.
    for row in &table {
        let got = row.measured.tally;
        let want_rows = if row.name.starts_with("GetQueryResults") {
            gqr_rows.unwrap_or(rows) as u64
        } else {
            rows as u64
        };
        if got.rows != want_rows {
            failures.push(format!(
                "{}: {} rows, expected {want_rows}",
                row.name, got.rows
            ));
            continue;
        }
        let exact = !row.name.starts_with("arrow-csv") && want_rows == rows as u64;
        if exact && got != expected {
            failures.push(format!(
                "{}: values differ from the generated data: got {got:?}, expected {expected:?}",
                row.name
            ));
        }
    }

    print_report(
        args,
        rows,
        &table,
        &Sizes {
            parquet: parquet_bytes,
            csv: csv_bytes,
            unload: unload_bytes,
            emulator_startup_kib: startup_peak,
        },
        resettable,
    );
    print_transport(&[
        ("result CSV (S3 path's bytes)", &csv_transport, csv_bytes),
        (
            "UNLOAD Parquet (Unload path's bytes)",
            &unload_transport,
            unload_bytes,
        ),
    ]);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}

#[derive(Debug)]
struct Sizes {
    parquet: u64,
    csv: u64,
    unload: u64,
    emulator_startup_kib: u64,
}

fn print_report(args: &Args, rows: usize, table: &[Row], sizes: &Sizes, resettable: bool) {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let mut command = if args.bench {
        "cargo bench --bench result_paths".to_string()
    } else {
        "cargo test --bench result_paths".to_string()
    };
    let extra: Vec<String> = args
        .values
        .iter()
        .map(|(k, v)| format!("--{k} {v}"))
        .collect();
    if !extra.is_empty() {
        command.push_str(" -- ");
        command.push_str(&extra.join(" "));
    }
    if let Ok(v) = std::env::var("RESULT_PATHS_ROWS") {
        command = format!("RESULT_PATHS_ROWS={v} {command}");
    }
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "Result paths, `SELECT *` of {rows} rows (bigint, double, varchar with '' and NULL, date, timestamp, decimal(18,2)); {profile} build, {cpus} CPUs."
    );
    println!(
        "Source Parquet {:.1} MiB, result CSV {:.1} MiB, UNLOAD Parquet {:.1} MiB. \
         Seconds of a path = fetch time after the query SUCCEEDED (total incl. query in brackets).",
        sizes.parquet as f64 / MIB,
        sizes.csv as f64 / MIB,
        sizes.unload as f64 / MIB,
    );
    println!();
    println!("Command: `{command}`");
    println!();
    println!(
        "| path | rows | seconds | rows/s | ratio to baseline (target) | client peak RSS MB | emulator peak RSS MB |"
    );
    println!("|---|---:|---:|---:|---|---:|---:|");
    for row in table {
        let m = &row.measured;
        let fetch = m.fetch();
        let secs = if m.wait.is_zero() {
            format!("{:.2}", fetch.as_secs_f64())
        } else {
            format!("{:.2} ({:.2})", fetch.as_secs_f64(), m.total.as_secs_f64())
        };
        let ratio = match row.ratio {
            Some((name, base, target)) => {
                let b = &table[base].measured;
                let r = rows_per_sec(m.tally.rows, fetch) / rows_per_sec(b.tally.rows, b.fetch());
                let verdict = if r >= target { "met" } else { "MISSED" };
                format!("{r:.2} {name} (>= {target}: {verdict})")
            }
            None => String::new(),
        };
        let emu = row
            .emulator_peak_kib
            .map(|k| format!("{:.0}", k as f64 / 1024.0))
            .unwrap_or_default();
        println!(
            "| {} | {} | {secs} | {:.0} | {ratio} | {:.0} | {emu} |",
            row.name,
            m.tally.rows,
            rows_per_sec(m.tally.rows, fetch),
            m.peak_kib as f64 / 1024.0,
        );
    }
    println!();
    let reset = if resettable {
        "its peak is reset before each path, so each figure is that path's alone"
    } else {
        "the kernel refused to reset its peak, so each figure is the peak so far"
    };
    println!(
        "Peak RSS target while streaming: < 300 MB (client). Emulator idle after start: {:.0} MB; \
         {reset}.",
        sizes.emulator_startup_kib as f64 / 1024.0
    );
}
