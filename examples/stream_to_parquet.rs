//! Stream a large Athena result into a Parquet file with bounded memory.
//!
//! Needs: nothing but this repository and ~300 MB of disk for the default 2,000,000 rows. The
//! example writes a generated table (id, name, amount, ts) as Parquet, batch by batch, serves it
//! with the bundled emulator as `big.events`, then copies `SELECT * FROM events` into
//! `events.parquet` with DataFusion's `write_parquet`: record batches flow from the Athena
//! result CSV to the Parquet writer without the result ever being held whole in memory.
//!
//! Prints: rows written (checked against the output file's Parquet footer), the output size,
//! the time and rows/s of the copy, and the peak resident memory of this process during the
//! copy (the in-process emulator included), next to the size of the result it streamed. On two
//! cores (debug build) the peak was 188 MiB for 200,000 rows (a 14 MiB result CSV), 274 MiB for
//! 2,000,000 (145 MiB) and 304 MiB for 5,000,000 (366 MiB): it levels off as the result grows.
//!
//! `cargo run --release --example stream_to_parquet [-- ROWS [OUTPUT_DIR]]`

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use datafusion::prelude::SessionContext;
use datafusion_athena_emulator::Emulator;

type Error = Box<dyn std::error::Error + Send + Sync>;

const DEFAULT_ROWS: usize = 2_000_000;
const BATCH_ROWS: usize = 65_536;
/// Rows per row group of the files written (the generated table and the output).
const ROW_GROUP_ROWS: usize = 131_072;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let rows = match args.next() {
        Some(n) => n
            .replace('_', "")
            .parse()
            .map_err(|_| format!("ROWS {n:?}: expected a row count such as 2000000"))?,
        None => DEFAULT_ROWS,
    };
    let dir = tempfile::tempdir()?;
    let out_dir = args.next().map(PathBuf::from);
    let target = out_dir.as_deref().unwrap_or(dir.path());
    let summary = run(&mut std::io::stdout().lock(), rows, dir.path(), target).await?;
    if summary.rows_written != rows as u64 || summary.rows_in_file != rows as i64 {
        return Err(format!(
            "expected {rows} rows, wrote {} (file footer: {})",
            summary.rows_written, summary.rows_in_file
        )
        .into());
    }
    if summary.peak_rss == 0 {
        println!("(no peak RSS: /proc/self/status is not available here)");
    }
    if out_dir.is_none() {
        println!("(removing {})", summary.output.display());
    }
    Ok(())
}

/// What one run did.
#[derive(Debug)]
pub(crate) struct Summary {
    /// Rows DataFusion reported writing.
    pub(crate) rows_written: u64,
    /// Rows in the output file's Parquet footer.
    pub(crate) rows_in_file: i64,
    /// This process's peak resident set during the copy, in bytes (0 without /proc).
    pub(crate) peak_rss: u64,
    /// The Parquet file written.
    pub(crate) output: PathBuf,
}

/// Generates `rows` rows under `work`, then streams them through Athena into
/// `target/events.parquet`.
pub(crate) async fn run(
    out: &mut dyn Write,
    rows: usize,
    work: &Path,
    target: &Path,
) -> Result<Summary, Error> {
    let table = work.join("data/big/events");
    std::fs::create_dir_all(&table)?;
    let source_bytes = generate(&table.join("part-0.parquet"), rows)?;
    writeln!(
        out,
        "generated big.events: {rows} rows, {:.1} MiB of Parquet",
        mib(source_bytes)
    )?;

    let emu = Emulator::builder()
        .data_dir(work.join("data"))
        .storage_dir(work.join("s3"))
        .start()
        .await?;
    let ctx = SessionContext::new();
    datafusion_athena::register_athena(&ctx, &emu.connection_string()).await?;

    std::fs::create_dir_all(target)?;
    let output = target.join("events.parquet");
    let before = rss_bytes("VmRSS:");
    let baseline = reset_peak_rss();
    let started = Instant::now();
    // `write_parquet` pulls batches from the Athena scan and hands each to the Parquet writer.
    // The writer holds a row group until it is flushed: smaller row groups keep that small.
    let mut parquet = TableParquetOptions::default();
    parquet.global.max_row_group_size = ROW_GROUP_ROWS;
    let written = ctx
        .sql("SELECT * FROM events")
        .await?
        .write_parquet(
            output.to_str().ok_or("the output path is not UTF-8")?,
            DataFrameWriteOptions::new().with_single_file_output(true),
            Some(parquet),
        )
        .await?;
    let elapsed = started.elapsed();
    let peak_rss = rss_bytes("VmHWM:");
    let rows_written: u64 = written
        .iter()
        .filter_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                .map(|c| c.values().iter().sum::<u64>())
        })
        .sum();
    let rows_in_file = SerializedFileReader::new(File::open(&output)?)?
        .metadata()
        .file_metadata()
        .num_rows();
    let result_csv: u64 = std::fs::read_dir(emu.storage_dir().join("athena-results/staging"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".csv"))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .sum();
    emu.shutdown().await;

    writeln!(
        out,
        "wrote {rows_written} rows to {} ({:.1} MiB; its footer says {rows_in_file} rows)",
        output.display(),
        mib(std::fs::metadata(&output)?.len())
    )?;
    writeln!(
        out,
        "copy took {:.2} s: {:.0} rows/s",
        elapsed.as_secs_f64(),
        rows_written as f64 / elapsed.as_secs_f64().max(1e-9)
    )?;
    if peak_rss > 0 {
        writeln!(
            out,
            "peak RSS during the copy: {:.0} MiB, {:.0} MiB before it (this process, emulator \
             included; {}) for a {:.1} MiB result CSV",
            mib(peak_rss),
            mib(before),
            if baseline {
                "peak reset before the copy"
            } else {
                "the kernel could not reset the peak: includes generating the data"
            },
            mib(result_csv)
        )?;
    }
    Ok(Summary {
        rows_written,
        rows_in_file,
        peak_rss,
        output,
    })
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]))
}

/// Writes `rows` deterministic rows to `path`, one batch at a time; returns the file size.
fn generate(path: &Path, rows: usize) -> Result<u64, Error> {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut writer = ArrowWriter::try_new(File::create(path)?, schema(), Some(props))?;
    let mut start = 0;
    while start < rows {
        let ids = start..(start + BATCH_ROWS).min(rows);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64))),
            Arc::new(StringArray::from_iter(ids.clone().map(|i| {
                (i % 17 != 0).then(|| format!("event {i} of customer {}", i % 1_000))
            }))),
            Arc::new(Float64Array::from_iter(
                ids.clone()
                    .map(|i| (i % 13 != 0).then_some(i as f64 * 0.01)),
            )),
            Arc::new(TimestampMillisecondArray::from_iter_values(
                ids.clone().map(|i| 1_767_225_600_000 + i as i64 * 1_000),
            )),
        ];
        start = ids.end;
        writer.write(&RecordBatch::try_new(schema(), columns)?)?;
    }
    writer.close()?;
    Ok(std::fs::metadata(path)?.len())
}

/// This process's resident set (`VmRSS:`) or its peak (`VmHWM:`) in bytes; 0 where /proc is
/// missing.
fn rss_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Resets `VmHWM` to the current RSS (Linux 4.0+); false when the kernel refuses.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
