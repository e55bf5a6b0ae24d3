//! `UNLOAD (SELECT ...) TO 's3://...' WITH (format = 'PARQUET', compression = ...)`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, GzipLevel, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;

use super::metadata;
use super::query::{AthenaError, Job, Outcome, select};
use super::sql::Unload;
use crate::state::Inner;
use crate::storage::S3Location;

fn compression(name: Option<&str>) -> Result<Compression, AthenaError> {
    Ok(match name.unwrap_or("GZIP") {
        "GZIP" => Compression::GZIP(GzipLevel::default()),
        "SNAPPY" => Compression::SNAPPY,
        "ZSTD" => Compression::ZSTD(ZstdLevel::default()),
        "LZ4" => Compression::LZ4_RAW,
        "NONE" | "UNCOMPRESSED" => Compression::UNCOMPRESSED,
        other => {
            return Err(AthenaError::user(
                1006,
                format!(
                    "INVALID_TABLE_PROPERTY: compression {other:?} is not one of GZIP, SNAPPY, ZSTD, LZ4, NONE"
                ),
            ));
        }
    })
}

pub(crate) async fn run(inner: &Inner, job: &Job, unload: &Unload) -> Result<Outcome, AthenaError> {
    if unload.format != "PARQUET" {
        return Err(AthenaError::not_supported(format!(
            "UNLOAD format {:?}: the emulator writes PARQUET only",
            unload.format
        )));
    }
    let compression = compression(unload.compression.as_deref())?;
    let Some(to) = S3Location::parse(&unload.to) else {
        return Err(AthenaError::user(
            1006,
            format!(
                "UNLOAD TO {:?} is not an s3://bucket/prefix/ URI",
                unload.to
            ),
        ));
    };
    if !inner.storage.bucket_exists(&to.bucket) {
        return Err(AthenaError::user(
            1000,
            format!("Unable to verify/create output bucket {}", to.bucket),
        ));
    }
    let prefix = to.prefix();
    if !inner.storage.list(&to.bucket, &prefix).is_empty() {
        return Err(AthenaError::user(
            1006,
            format!(
                "HIVE_PATH_ALREADY_EXISTS: Target directory for table already exists: {}. UNLOAD needs an empty location.",
                unload.to
            ),
        ));
    }
    let (columns, mut run) = select(inner, &job.database, &unload.select).await?;
    let stream_schema = run.stream.schema();
    let mut fields = Vec::new();
    for (field, column) in stream_schema.fields().iter().zip(&columns) {
        // Athena names an unnamed column `_colN` (Trino too, so the names agree there).
        let positional = column
            .label
            .strip_prefix("_col")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if column.label != *field.name() || positional {
            return Err(AthenaError::user(
                1006,
                format!(
                    "NOT_SUPPORTED: UNLOAD needs a name for column {}; add AS <name>",
                    column.label
                ),
            ));
        }
        if fields.iter().any(|f: &Field| f.name() == field.name()) {
            return Err(AthenaError::user(
                1006,
                format!(
                    "NOT_SUPPORTED: UNLOAD column name {} appears twice",
                    field.name()
                ),
            ));
        }
        if matches!(
            field.data_type(),
            DataType::Time32(_) | DataType::Time64(_) | DataType::Timestamp(_, Some(_))
        ) || column.athena_type.name == "time"
            || column.athena_type.name.ends_with("with time zone")
        {
            return Err(AthenaError::not_supported(format!(
                "UNLOAD of column {} of type {}; cast it to varchar or timestamp",
                field.name(),
                column.athena_type.name
            )));
        }
        fields.push(field.as_ref().clone());
    }
    let schema = Arc::new(Schema::new(fields));
    let props = WriterProperties::builder()
        .set_compression(compression)
        .build();
    let io = |e: std::io::Error| AthenaError::system(format!("writing UNLOAD output: {e}"));
    let pq = |e: datafusion::parquet::errors::ParquetError| {
        AthenaError::system(format!("writing UNLOAD output: {e}"))
    };

    let mut written: Vec<(std::path::PathBuf, String)> = Vec::new();
    let mut current: Option<(ArrowWriter<std::fs::File>, std::path::PathBuf, String)> = None;
    let mut rows_in_file = 0u64;
    let mut rows = 0u64;
    while let Some(batch) = run.stream.next().await {
        let batch = batch.map_err(|e| run.error(&e))?;
        let batch = RecordBatch::try_new(Arc::clone(&schema), batch.columns().to_vec())
            .map_err(|e| AthenaError::system(format!("UNLOAD batch: {e}")))?;
        rows += batch.num_rows() as u64;
        // The batch is cut where a file fills up, so every file but the last holds exactly
        // `unload_rows_per_file` rows.
        let mut offset = 0usize;
        while offset < batch.num_rows() {
            if current.is_none() {
                let key = format!("{prefix}{}_{:05}", job.id, written.len());
                let tmp = inner
                    .storage
                    .temp_path(&format!("{}_{:05}", job.id, written.len()));
                let file = std::fs::File::create(&tmp).map_err(io)?;
                let writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props.clone()))
                    .map_err(pq)?;
                current = Some((writer, tmp, key));
            }
            let room = inner.unload_rows_per_file - rows_in_file;
            let take = (batch.num_rows() - offset).min(usize::try_from(room).unwrap_or(usize::MAX));
            if let Some((writer, _, _)) = current.as_mut() {
                writer.write(&batch.slice(offset, take)).map_err(pq)?;
            }
            offset += take;
            rows_in_file += take as u64;
            if rows_in_file >= inner.unload_rows_per_file {
                if let Some((writer, tmp, key)) = current.take() {
                    writer.close().map_err(pq)?;
                    written.push((tmp, key));
                }
                rows_in_file = 0;
            }
        }
    }
    if let Some((writer, tmp, key)) = current.take() {
        writer.close().map_err(pq)?;
        written.push((tmp, key));
    }
    let mut manifest = String::new();
    for (tmp, key) in &written {
        let Some(path) = inner.storage.object_path(&to.bucket, key) else {
            return Err(AthenaError::user(
                1006,
                format!("UNLOAD TO {:?} is not a valid S3 prefix", unload.to),
            ));
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::rename(tmp, &path).map_err(io)?;
        manifest.push_str(&format!("s3://{}/{key}\n", to.bucket));
    }
    // Manifest and metadata go to the query result location, beside where the CSV would be.
    let mut manifest_location = None;
    let dir = job.result_path.parent().map(std::path::Path::to_path_buf);
    if let Some(dir) = dir {
        inner
            .storage
            .put_path(
                &dir.join(format!("{}-manifest.csv", job.id)),
                manifest.as_bytes(),
            )
            .map_err(io)?;
        inner
            .storage
            .put_path(
                &dir.join(format!("{}.metadata", job.id)),
                &metadata::encode(&job.id, "UNLOAD", rows, &[]),
            )
            .map_err(io)?;
        if let Some(output) = &job.output_location
            && let Some(base) = output.strip_suffix(&format!("{}.csv", job.id))
        {
            manifest_location = Some(format!("{base}{}-manifest.csv", job.id));
        }
    }
    Ok(Outcome {
        columns: Vec::new(),
        rows,
        bytes_scanned: run.bytes_scanned(),
        manifest_location,
    })
}
