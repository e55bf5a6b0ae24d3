//! Writing query results: a pretty table, CSV (with a header row), a JSON array, NDJSON, or
//! Parquet, to stdout or a file.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::parquet::arrow::ArrowWriter;

use crate::commands::CommandError;

/// How `sql` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// An aligned text table.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Parquet (needs --output).
    Parquet,
}

/// Writes `batches` (with `schema`, for results without rows) in `format` to `out`.
pub(crate) fn write(
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    mut out: Box<dyn Write + Send>,
) -> Result<(), CommandError> {
    let fail =
        |e: &dyn std::fmt::Display| CommandError::failure(format!("cannot write the result: {e}"));
    match format {
        Format::Table => {
            let text = if batches.iter().all(|b| b.num_rows() == 0) {
                let empty = RecordBatch::new_empty(std::sync::Arc::clone(schema));
                pretty_format_batches(&[empty])
            } else {
                pretty_format_batches(batches)
            }
            .map_err(|e| fail(&e))?;
            writeln!(out, "{text}").map_err(|e| fail(&e))?;
        }
        Format::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            if batches.is_empty() {
                w.write(&RecordBatch::new_empty(std::sync::Arc::clone(schema)))
                    .map_err(|e| fail(&e))?;
            }
            for b in batches {
                w.write(b).map_err(|e| fail(&e))?;
            }
            out = w.into_inner();
        }
        Format::Json => {
            let mut w = datafusion::arrow::json::ArrayWriter::new(out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            w.write_batches(&refs).map_err(|e| fail(&e))?;
            w.finish().map_err(|e| fail(&e))?;
            // `finish` writes `[]` for no rows, so the result is always one JSON array.
            out = w.into_inner();
            writeln!(out).map_err(|e| fail(&e))?;
        }
        Format::Ndjson => {
            let mut w = datafusion::arrow::json::LineDelimitedWriter::new(out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            w.write_batches(&refs).map_err(|e| fail(&e))?;
            w.finish().map_err(|e| fail(&e))?;
            out = w.into_inner();
        }
        Format::Parquet => {
            let mut w = ArrowWriter::try_new(out, std::sync::Arc::clone(schema), None)
                .map_err(|e| fail(&e))?;
            for b in batches {
                w.write(b).map_err(|e| fail(&e))?;
            }
            out = w.into_inner().map_err(|e| fail(&e))?;
        }
    }
    out.flush().map_err(|e| fail(&e))
}

/// Where to write: the file, else stdout (Parquet needs a file).
pub(crate) fn sink(
    format: Format,
    output: Option<&Path>,
) -> Result<Box<dyn Write + Send>, CommandError> {
    match output {
        Some(path) => {
            let file = File::create(path).map_err(|e| {
                CommandError::usage(format!("--output {}: cannot create: {e}", path.display()))
            })?;
            Ok(Box::new(std::io::BufWriter::new(file)))
        }
        None if format == Format::Parquet => Err(CommandError::usage(
            "--format parquet writes binary data: give --output FILE",
        )),
        None => Ok(Box::new(std::io::BufWriter::new(std::io::stdout()))),
    }
}
