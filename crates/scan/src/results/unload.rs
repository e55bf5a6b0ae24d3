//! The UNLOAD path: the query is wrapped in `UNLOAD (...) TO '<staging>unload/<uuid>/' WITH
//! (format = 'PARQUET')`, the Parquet files listed in the data manifest are read, and deleted
//! afterwards (unless the runner keeps them).

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use datafusion::parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use futures::future::{BoxFuture, FutureExt};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::ops::Range;

use super::{AbortOnDrop, split_s3_url};
use crate::error::{Error, Result};
use crate::metrics::QueryMetrics;
use crate::runner::AthenaRunner;
use crate::types::unloadable;

/// Why UNLOAD cannot be used for `schema`, if it cannot.
pub(crate) fn unsupported_reason(schema: &SchemaRef, staging: Option<&str>) -> Option<String> {
    if staging.is_none() {
        return Some("UNLOAD needs S3StagingDirectory to write its Parquet files".into());
    }
    let mut seen = HashSet::new();
    for f in schema.fields() {
        if !unloadable(f.data_type()) {
            return Some(format!(
                "column '{}' has type {}, which UNLOAD cannot write (time, timestamp with time zone and intervals)",
                f.name(),
                f.data_type()
            ));
        }
        if f.name().is_empty() || !seen.insert(f.name().to_ascii_lowercase()) {
            return Some(format!(
                "UNLOAD needs unique, non-empty column names; '{}' is not",
                f.name()
            ));
        }
    }
    None
}

/// Whether a FAILED UNLOAD was refused for what it would write (so the plain query may work).
pub(crate) fn is_unload_refusal(message: &str) -> bool {
    let m = message.to_ascii_uppercase();
    m.contains("NOT_SUPPORTED")
        && (m.contains("UNLOAD") || m.contains("TYPE") || m.contains("COLUMN"))
}

/// `UNLOAD (<sql>) TO '<target>' WITH (format = 'PARQUET', compression = 'SNAPPY')`.
pub(crate) fn unload_sql(sql: &str, target: &str) -> String {
    format!(
        "UNLOAD ({sql}) TO '{}' WITH (format = 'PARQUET', compression = 'SNAPPY')",
        target.replace('\'', "''")
    )
}

/// Deletes UNLOAD's files when dropped (after the stream ended or was dropped).
#[derive(Debug)]
struct Cleanup {
    store: Arc<dyn ObjectStore>,
    files: Vec<Path>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let files = std::mem::take(&mut self.files);
        if files.is_empty() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = Arc::clone(&self.store);
        handle.spawn(async move {
            for f in files {
                if let Err(e) = store.delete(&f).await {
                    tracing::warn!(path = %f, error = %e, "deleting an UNLOAD file failed");
                }
            }
        });
    }
}

/// Runs `sql` through UNLOAD and streams the Parquet files as batches of `schema`.
pub(crate) async fn run(
    runner: Arc<AthenaRunner>,
    sql: &str,
    schema: SchemaRef,
    metrics: QueryMetrics,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let staging = runner
        .staging()
        .ok_or_else(|| Error::UnloadUnsupported("S3StagingDirectory is not set".into()))?;
    let target = staging.join(&format!("unload/{}/", uuid::Uuid::new_v4()));
    let (bucket, prefix) = split_s3_url(&target)?;
    let done = runner
        .run_query(&unload_sql(sql, &target), &metrics)
        .await?;
    let store = runner.store(&bucket)?;

    // The files: from the data manifest when there is one, else by listing the prefix.
    let mut files: Vec<(Arc<dyn ObjectStore>, Path)> = Vec::new();
    match &done.manifest_location {
        Some(manifest) => {
            let (mb, mp) = split_s3_url(manifest)?;
            let mstore = runner.store(&mb)?;
            let text = mstore
                .get(&mp)
                .await
                .map_err(|source| Error::S3 {
                    location: manifest.clone(),
                    source,
                })?
                .bytes()
                .await
                .map_err(|source| Error::S3 {
                    location: manifest.clone(),
                    source,
                })?;
            for line in String::from_utf8_lossy(&text)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                let (b, p) = split_s3_url(line)?;
                let s = if b == bucket {
                    Arc::clone(&store)
                } else {
                    runner.store(&b)?
                };
                files.push((s, p));
            }
        }
        None => {
            let mut listed: Vec<Path> = store
                .list(Some(&prefix))
                .map_ok(|m| m.location)
                .try_collect()
                .await
                .map_err(|source| Error::S3 {
                    location: target.clone(),
                    source,
                })?;
            listed.sort();
            files.extend(listed.into_iter().map(|p| (Arc::clone(&store), p)));
        }
    }
    let cleanup = Cleanup {
        store: Arc::clone(&store),
        files: if runner.keep_unload_files() {
            Vec::new()
        } else {
            files
                .iter()
                .filter(|(_, p)| p.as_ref().starts_with(prefix.as_ref()))
                .map(|(_, p)| p.clone())
                .collect()
        },
    };
    let batch_size = runner.csv.batch_size;
    // Twice as many files as CPUs: while some wait for their bytes, others decode.
    let files_in_flight = 2 * runner.csv.decoders.max(1);
    let bytes = metrics.bytes_fetched.clone();
    let target_schema = Arc::clone(&schema);
    let file_schema = Arc::clone(&schema);
    // Up to `files_in_flight` files are read and decoded at once, each by its own task feeding a
    // two-batch channel; a batch is passed on as soon as any file has one. The files of an UNLOAD
    // carry no order between them (Athena writes them in parallel), and a pushed ORDER BY is
    // always re-established locally, so waiting on the files in turn would only idle decoders.
    let stream = futures::stream::iter(files)
        .map(move |(store, path)| {
            read_file_in_task(
                store,
                path,
                Arc::clone(&file_schema),
                batch_size,
                bytes.clone(),
            )
        })
        .flatten_unordered(files_in_flight)
        .map(move |batch| {
            // Keep the cleanup guard alive as long as the stream.
            let _ = &cleanup;
            to_schema(batch?, &target_schema)
        });
    Ok(stream.boxed())
}

/// Reads one UNLOAD file on a spawned task (so several files decode in parallel), handing its
/// batches over through a bounded channel. Dropping the returned stream stops the task.
fn read_file_in_task(
    store: Arc<dyn ObjectStore>,
    path: Path,
    target: SchemaRef,
    batch_size: usize,
    bytes: datafusion::physical_plan::metrics::Count,
) -> BoxStream<'static, Result<RecordBatch>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
    let task = tokio::spawn(async move {
        let opened = async {
            let meta = store.head(&path).await.map_err(|source| Error::S3 {
                location: path.to_string(),
                source,
            })?;
            bytes.add(meta.size as usize);
            let mut reader = ObjectReader {
                store,
                path,
                size: meta.size,
            };
            let file =
                ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new()).await?;
            let metadata = read_as(&file, &target).unwrap_or(file);
            Ok::<_, Error>(
                ParquetRecordBatchStreamBuilder::new_with_metadata(reader, metadata)
                    .with_batch_size(batch_size)
                    .build()?,
            )
        };
        let mut batches = match opened.await {
            Ok(b) => b,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        while let Some(batch) = batches.next().await {
            let failed = batch.is_err();
            if tx.send(batch.map_err(Error::from)).await.is_err() || failed {
                return;
            }
        }
    });
    futures::stream::unfold((rx, AbortOnDrop(task)), |(mut rx, task)| async move {
        rx.recv().await.map(|b| (b, (rx, task)))
    })
    .boxed()
}

/// The reader metadata that decodes the file's columns straight into the target types (e.g.
/// `Utf8` where the file's embedded Arrow schema says `Utf8View`), keeping the file's column
/// names; `None` when the Parquet reader cannot produce those types (then [`to_schema`] casts).
fn read_as(file: &ArrowReaderMetadata, target: &SchemaRef) -> Option<ArrowReaderMetadata> {
    let fields = file.schema().fields();
    if fields.len() != target.fields().len()
        || fields
            .iter()
            .zip(target.fields())
            .all(|(f, t)| f.data_type() == t.data_type())
    {
        return None;
    }
    let hint: Vec<_> = fields
        .iter()
        .zip(target.fields())
        .map(|(f, t)| f.as_ref().clone().with_data_type(t.data_type().clone()))
        .collect();
    let options = ArrowReaderOptions::new()
        .with_schema(Arc::new(datafusion::arrow::datatypes::Schema::new(hint)));
    ArrowReaderMetadata::try_new(Arc::clone(file.metadata()), options).ok()
}

/// Reads one Parquet file through object_store (ranged GETs for the footer and the column
/// chunks that are read).
#[derive(Debug)]
struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

fn parquet_io(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(
        &mut self,
        range: Range<u64>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(parquet_io)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(parquet_io)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, datafusion::parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_metadata_options(options.map(|o| o.metadata_options().clone()))
                .load_and_finish(&mut *self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// Casts UNLOAD's Parquet columns (by position) to the target schema.
fn to_schema(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.num_columns() != schema.fields().len() {
        return Err(Error::MalformedResult {
            location: "UNLOAD output".into(),
            message: format!(
                "a Parquet file has {} columns but {} were expected",
                batch.num_columns(),
                schema.fields().len()
            ),
        });
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(Arc::clone(c))
            } else {
                cast(c, f.data_type()).map_err(Error::from)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let options = datafusion::arrow::record_batch::RecordBatchOptions::new()
        .with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &options,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    #[test]
    fn wraps_the_query_and_escapes_the_target() {
        assert_eq!(
            unload_sql("SELECT 1 AS \"a\"", "s3://b/p/unload/x'y/"),
            "UNLOAD (SELECT 1 AS \"a\") TO 's3://b/p/unload/x''y/' WITH (format = 'PARQUET', compression = 'SNAPPY')"
        );
    }

    #[test]
    fn recognises_athenas_unload_refusals() {
        assert!(is_unload_refusal(
            "NOT_SUPPORTED: Unsupported Hive type: time"
        ));
        assert!(is_unload_refusal(
            "NOT_SUPPORTED: UNLOAD column name a appears twice"
        ));
        assert!(!is_unload_refusal(
            "line 1:8: Column 'x' cannot be resolved"
        ));
    }

    #[test]
    fn refuses_what_unload_cannot_write() {
        let ok: SchemaRef = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        assert!(unsupported_reason(&ok, Some("s3://b/")).is_none());
        assert!(
            unsupported_reason(&ok, None)
                .unwrap()
                .contains("S3StagingDirectory")
        );
        let tz: SchemaRef = Arc::new(Schema::new(vec![Field::new(
            "t",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        )]));
        assert!(
            unsupported_reason(&tz, Some("s3://b/"))
                .unwrap()
                .contains("column 't'")
        );
        let dup: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("A", DataType::Int32, true),
        ]));
        assert!(
            unsupported_reason(&dup, Some("s3://b/"))
                .unwrap()
                .contains("unique")
        );
    }
}
