//! The UNLOAD path: the query is wrapped in `UNLOAD (...) TO '<staging>unload/<uuid>/' WITH
//! (format = 'PARQUET')`, the Parquet files listed in the data manifest are read, and deleted
//! afterwards (unless the runner keeps them).
//!
//! Several files are read at once, each by its own task; batches are passed on in no
//! particular order. Each file costs one suffix GET for its size and footer (all of a small
//! file), then ranged GETs of the S3 path's part size for its column chunks, shared fairly
//! among the files (see [`Downloads`]).

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
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use std::ops::Range;

use datafusion_athena_config::S3Location;

use super::{AbortOnDrop, Results, get_range, object_path, parse_object, parts_of};
use crate::error::{Error, Result};
use crate::metrics::QueryMetrics;
use crate::types::unloadable;

/// Why UNLOAD cannot be used for `schema`, if it cannot.
pub(crate) fn unsupported_reason(
    schema: &SchemaRef,
    staging: Option<&S3Location>,
) -> Option<String> {
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
pub(crate) fn unload_sql(sql: &str, target: &S3Location) -> String {
    format!(
        "UNLOAD ({sql}) TO '{}' WITH (format = 'PARQUET', compression = 'SNAPPY')",
        target.to_string().replace('\'', "''")
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
    results: &Results,
    sql: &str,
    schema: SchemaRef,
    metrics: QueryMetrics,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let staging = results
        .staging
        .as_ref()
        .ok_or_else(|| Error::UnloadUnsupported("S3StagingDirectory is not set".into()))?;
    let target = staging.child(&format!("unload/{}", uuid::Uuid::new_v4()));
    let prefix = Path::parse(target.prefix()).map_err(|e| Error::MalformedResult {
        location: target.to_string(),
        message: format!("invalid key prefix: {e}"),
    })?;
    let done = results
        .lifecycle
        .run(&unload_sql(sql, &target), &metrics)
        .await?;
    let store = results.stores.get(target.bucket())?;

    // The files: from the data manifest when there is one, else by listing the prefix.
    let mut files: Vec<(Arc<dyn ObjectStore>, Path)> = Vec::new();
    match &done.manifest_location {
        Some(manifest) => {
            let mstore = results.stores.get(manifest.bucket())?;
            let s3_error = |source| Error::S3 {
                location: manifest.to_string(),
                source,
            };
            let text = mstore
                .get(&object_path(manifest)?)
                .await
                .map_err(s3_error)?
                .bytes()
                .await
                .map_err(s3_error)?;
            for line in String::from_utf8_lossy(&text)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
            {
                let file = parse_object(line)?;
                let s = if file.bucket() == target.bucket() {
                    Arc::clone(&store)
                } else {
                    results.stores.get(file.bucket())?
                };
                files.push((s, object_path(&file)?));
            }
        }
        None => {
            let mut listed: Vec<Path> = store
                .list(Some(&prefix))
                .map_ok(|m| m.location)
                .try_collect()
                .await
                .map_err(|source| Error::S3 {
                    location: target.to_string(),
                    source,
                })?;
            listed.sort();
            files.extend(listed.into_iter().map(|p| (Arc::clone(&store), p)));
        }
    }
    let cleanup = Cleanup {
        store: Arc::clone(&store),
        files: if results.read.keep_unload_files {
            Vec::new()
        } else {
            files
                .iter()
                .filter(|(_, p)| p.as_ref().starts_with(prefix.as_ref()))
                .map(|(_, p)| p.clone())
                .collect()
        },
    };
    let read = results.read;
    let batch_size = read.batch_size;
    // Twice as many files as CPUs: while some wait for their bytes, others decode.
    let files_in_flight = 2 * read.decoders.max(1);
    let downloads = Downloads::new(read.part_size, read.concurrency, read.unload_memory_budget);
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
                downloads.clone(),
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
    downloads: Downloads,
    target: SchemaRef,
    batch_size: usize,
    bytes: datafusion::physical_plan::metrics::Count,
) -> BoxStream<'static, Result<RecordBatch>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
    let task = tokio::spawn(async move {
        let opened = async {
            let (size, tail, metadata) = open_footer(&store, &path).await?;
            bytes.add(usize::try_from(size).unwrap_or(usize::MAX));
            let file = ArrowReaderMetadata::try_new(metadata, ArrowReaderOptions::new())?;
            let metadata = read_as(&file, &target).unwrap_or(file);
            let reader = ObjectReader {
                store,
                path,
                size,
                tail,
                downloads,
                held: None,
            };
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

/// Bytes read from the end of a file by its first request: enough for the footer of a typical
/// UNLOAD file, so its size and metadata take one GET (no HEAD, no second footer read).
const FOOTER_GUESS: u64 = 64 * 1024;

/// The size, the bytes read from the end and the Parquet metadata of `path`: from a suffix GET
/// of [`FOOTER_GUESS`] bytes and, only for a larger footer, one more GET of exactly what it
/// needs.
async fn open_footer(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
) -> Result<(u64, Bytes, Arc<ParquetMetaData>)> {
    let s3 = |source| Error::S3 {
        location: path.to_string(),
        source,
    };
    let options = GetOptions {
        range: Some(GetRange::Suffix(FOOTER_GUESS)),
        ..GetOptions::default()
    };
    let got = store.get_opts(path, options).await.map_err(s3)?;
    let size = got.meta.size;
    let mut tail = got.bytes().await.map_err(s3)?;
    let mut reader = ParquetMetaDataReader::new();
    match reader.try_parse_sized(&tail, size) {
        Ok(()) => {}
        Err(ParquetError::NeedMoreData(needed)) => {
            let from = size.saturating_sub(needed as u64);
            tail = get_range(store.as_ref(), path, from..size, path.as_ref()).await?;
            reader.try_parse_sized(&tail, size)?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok((size, tail, Arc::new(reader.finish()?)))
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

/// Reads one Parquet file through object_store: ranged GETs for the column chunks, except
/// those within the bytes already read from the file's end (all of a small file).
#[derive(Debug)]
struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
    /// The last `tail.len()` bytes of the file.
    tail: Bytes,
    downloads: Downloads,
    /// The budget taken by the bytes last fetched (the row group being decoded).
    held: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl ObjectReader {
    /// `range` of the file, when it lies within [`Self::tail`].
    fn in_tail(&self, range: &Range<u64>) -> Option<Bytes> {
        let start = self.size.checked_sub(self.tail.len() as u64)?;
        if range.start < start || range.end > self.size || range.start > range.end {
            return None;
        }
        let at = |offset: u64| usize::try_from(offset - start).ok();
        Some(self.tail.slice(at(range.start)?..at(range.end)?))
    }

    /// `ranges` of the file, from the tail when all lie there, else downloaded within the
    /// memory budget.
    async fn read(
        &mut self,
        ranges: &[Range<u64>],
    ) -> datafusion::parquet::errors::Result<Vec<Bytes>> {
        if let Some(all) = ranges.iter().map(|r| self.in_tail(r)).collect() {
            return Ok(all);
        }
        // The previous row group is decoded by now: its bytes go back to the budget first.
        self.held = None;
        let total = ranges.iter().map(|r| r.end.saturating_sub(r.start)).sum();
        self.held = Some(self.downloads.reserve(total).await?);
        self.downloads.fetch(&self.store, &self.path, ranges).await
    }
}

/// How the column chunks of an UNLOAD's files are downloaded: in ranged GETs of at most
/// `part_size` bytes, at most `permits` of them in flight across all files. Permits are granted
/// in the order asked, so the file that asked first (the one decoded next) gets its bytes first
/// while later files wait; on real S3 the parts of one file still come over several
/// connections.
///
/// Memory: a file's reader holds the bytes of the row group it decodes, so the files read at
/// once share a budget of bytes of row groups ([`UNLOAD_MEMORY_BUDGET`] by default; a row
/// group larger than the whole budget is read alone).
#[derive(Debug, Clone)]
struct Downloads {
    permits: Arc<tokio::sync::Semaphore>,
    part_size: u64,
    /// The budget, in KiB.
    budget: Arc<tokio::sync::Semaphore>,
    budget_kib: u32,
}

/// Bytes of row groups the files of one UNLOAD read may hold at once, unless
/// [`AthenaRunner::with_unload_memory_budget`] says otherwise.
pub const UNLOAD_MEMORY_BUDGET: u64 = 256 * 1024 * 1024;

/// Ranges closer than this are fetched as one (the bytes between are read and dropped).
const COALESCE_GAP: u64 = 1024 * 1024;

impl Downloads {
    fn new(part_size: u64, in_flight: usize, budget: u64) -> Self {
        let budget_kib = u32::try_from(budget.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, 1 << 30);
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(in_flight.max(1))),
            part_size: part_size.max(1),
            budget: Arc::new(tokio::sync::Semaphore::new(budget_kib as usize)),
            budget_kib,
        }
    }

    /// Waits until `bytes` (at most the whole budget) fit the budget; they are given back when
    /// the permit is dropped.
    async fn reserve(
        &self,
        bytes: u64,
    ) -> datafusion::parquet::errors::Result<tokio::sync::OwnedSemaphorePermit> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.budget_kib);
        Arc::clone(&self.budget)
            .acquire_many_owned(kib)
            .await
            .map_err(external)
    }

    /// `ranges` of `path`: nearby ranges are merged into spans, the spans cut into parts, the
    /// parts fetched concurrently, and each range cut from the parts (copied only where it
    /// straddles two).
    async fn fetch(
        &self,
        store: &Arc<dyn ObjectStore>,
        path: &Path,
        ranges: &[Range<u64>],
    ) -> datafusion::parquet::errors::Result<Vec<Bytes>> {
        let parts = self.parts(ranges);
        let fetched = futures::future::try_join_all(parts.iter().map(|part| async move {
            let _permit = self.permits.acquire().await.map_err(external)?;
            get_range(store.as_ref(), path, part.clone(), path.as_ref())
                .await
                .map_err(external)
        }))
        .await?;
        ranges
            .iter()
            .map(|range| cut(range, &parts, &fetched))
            .collect()
    }

    /// The parts covering `ranges`: sorted, merged across gaps below [`COALESCE_GAP`], and cut
    /// every `part_size` bytes.
    fn parts(&self, ranges: &[Range<u64>]) -> Vec<Range<u64>> {
        let mut sorted: Vec<Range<u64>> =
            ranges.iter().filter(|r| r.start < r.end).cloned().collect();
        sorted.sort_by_key(|r| r.start);
        let mut spans: Vec<Range<u64>> = Vec::new();
        for r in sorted {
            match spans.last_mut() {
                Some(last) if r.start <= last.end.saturating_add(COALESCE_GAP) => {
                    last.end = last.end.max(r.end);
                }
                _ => spans.push(r),
            }
        }
        spans
            .into_iter()
            .flat_map(|span| parts_of(span, self.part_size))
            .collect()
    }
}

/// `range` out of the fetched `parts` (sorted, not overlapping, covering it).
fn cut(
    range: &Range<u64>,
    parts: &[Range<u64>],
    fetched: &[Bytes],
) -> datafusion::parquet::errors::Result<Bytes> {
    let pieces: Vec<(&Range<u64>, &Bytes)> = parts
        .iter()
        .zip(fetched)
        .filter(|(p, _)| p.start < range.end && range.start < p.end)
        .collect();
    let slice = |p: &Range<u64>, b: &Bytes| {
        let from = usize::try_from(range.start.max(p.start) - p.start).unwrap_or(usize::MAX);
        let to = usize::try_from(range.end.min(p.end) - p.start).unwrap_or(usize::MAX);
        (from <= to && to <= b.len()).then(|| b.slice(from..to))
    };
    let short = || {
        ParquetError::General(format!(
            "bytes {}..{} of an UNLOAD file did not arrive whole",
            range.start, range.end
        ))
    };
    let bytes = match pieces.as_slice() {
        [(p, b)] => slice(p, b).ok_or_else(short)?,
        many => {
            let mut out = Vec::with_capacity(usize::try_from(range.end - range.start).unwrap_or(0));
            for (p, b) in many {
                out.extend_from_slice(&slice(p, b).ok_or_else(short)?);
            }
            Bytes::from(out)
        }
    };
    if bytes.len() as u64 != range.end - range.start {
        return Err(short());
    }
    Ok(bytes)
}

/// An error of the reads under the Parquet reader, as the reader carries it.
fn external(e: impl std::error::Error + Send + Sync + 'static) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(
        &mut self,
        range: Range<u64>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Bytes>> {
        async move {
            let mut got = self.read(std::slice::from_ref(&range)).await?;
            Ok(got.pop().unwrap_or_default())
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Vec<Bytes>>> {
        async move { self.read(&ranges).await }.boxed()
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
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use datafusion::parquet::arrow::ArrowWriter;
    use object_store::PutPayload;
    use object_store::memory::InMemory;

    /// A Parquet file of `columns` Int64 columns and one string column, `rows` rows.
    fn parquet(columns: usize, rows: usize) -> (RecordBatch, Bytes) {
        parquet_in_row_groups(columns, rows, rows.max(1))
    }

    /// [`parquet`] with row groups of `group_rows` rows.
    fn parquet_in_row_groups(
        columns: usize,
        rows: usize,
        group_rows: usize,
    ) -> (RecordBatch, Bytes) {
        let mut fields = vec![Field::new("s", DataType::Utf8, true)];
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter(
            (0..rows).map(|r| (r % 3 != 0).then(|| format!("row {r}"))),
        ))];
        for c in 0..columns {
            fields.push(Field::new(format!("c{c}"), DataType::Int64, true));
            arrays.push(Arc::new(Int64Array::from_iter_values(
                (0..rows).map(|r| (r * columns + c) as i64),
            )));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
        let mut out = Vec::new();
        let props = datafusion::parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(group_rows))
            .build();
        let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        (batch, Bytes::from(out))
    }

    /// The length of a Parquet file's footer metadata (the 4 bytes before the final `PAR1`).
    fn footer_len(file: &Bytes) -> u64 {
        let n = file.len();
        u64::from(u32::from_le_bytes(file[n - 8..n - 4].try_into().unwrap()))
    }

    async fn read_back(file: Bytes, schema: SchemaRef, part_size: u64) -> RecordBatch {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("unload/x/part-0");
        store.put(&path, PutPayload::from(file)).await.unwrap();
        let bytes = datafusion::physical_plan::metrics::Count::new();
        let batches: Vec<RecordBatch> = read_file_in_task(
            store,
            path,
            Downloads::new(part_size, 3, UNLOAD_MEMORY_BUDGET),
            Arc::clone(&schema),
            1000,
            bytes,
        )
        .try_collect()
        .await
        .unwrap();
        datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap()
    }

    /// Files of several row groups each, read at once under a budget smaller than one row
    /// group (each then reads alone) and one that fits about two: every row arrives, and all
    /// of the budget is given back.
    #[tokio::test]
    async fn files_read_at_once_share_the_memory_budget() {
        let (want, file) = parquet_in_row_groups(2, 60_000, 20_000);
        let groups = ParquetMetaDataReader::new()
            .parse_and_finish(&file)
            .unwrap()
            .num_row_groups();
        assert_eq!(groups, 3);
        let group_bytes = (file.len() / groups) as u64;
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let paths: Vec<Path> = (0..4).map(|i| Path::from(format!("u/part-{i}"))).collect();
        for p in &paths {
            store.put(p, PutPayload::from(file.clone())).await.unwrap();
        }
        for budget in [group_bytes / 3, 2 * group_bytes + 4096] {
            let downloads = Downloads::new(16 * 1024, 3, budget);
            let streams = paths.iter().map(|p| {
                read_file_in_task(
                    Arc::clone(&store),
                    p.clone(),
                    downloads.clone(),
                    want.schema(),
                    5000,
                    datafusion::physical_plan::metrics::Count::new(),
                )
            });
            let batches: Vec<RecordBatch> = futures::stream::iter(streams)
                .flatten_unordered(4)
                .try_collect()
                .await
                .unwrap();
            let got = datafusion::arrow::compute::concat_batches(&want.schema(), &batches).unwrap();
            assert_eq!(got.num_rows(), 4 * want.num_rows(), "budget {budget}");
            let mut ids: Vec<i64> = got
                .column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec();
            ids.sort_unstable();
            let mut expected: Vec<i64> = (0..4)
                .flat_map(|_| (0..want.num_rows()).map(|r| (r * 2) as i64))
                .collect();
            expected.sort_unstable();
            assert_eq!(ids, expected, "budget {budget}");
            assert_eq!(
                downloads.budget.available_permits(),
                downloads.budget_kib as usize,
                "budget {budget}: all given back"
            );
        }
    }

    #[tokio::test]
    async fn ranges_are_merged_cut_into_parts_and_put_back_together() {
        let d = Downloads::new(10, 2, UNLOAD_MEMORY_BUDGET);
        let far = COALESCE_GAP + 100;
        let ranges = vec![5..12, 0..5, 12..12, 30..35, far..far + 3];
        assert_eq!(
            d.parts(&ranges),
            vec![0..10, 10..20, 20..30, 30..35, far..far + 3]
        );
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("f");
        let data: Vec<u8> = (0..far + 10).map(|i| (i % 251) as u8).collect();
        store
            .put(&path, PutPayload::from(data.clone()))
            .await
            .unwrap();
        let got = d.fetch(&store, &path, &ranges).await.unwrap();
        for (r, b) in ranges.iter().zip(&got) {
            assert_eq!(b.as_ref(), &data[r.start as usize..r.end as usize], "{r:?}");
        }
    }

    #[tokio::test]
    async fn reads_files_whose_footer_fits_the_first_read_or_needs_a_second() {
        // Small: the whole file comes with the first read.
        let (want, file) = parquet(3, 100);
        assert!((file.len() as u64) < FOOTER_GUESS);
        assert_eq!(read_back(file, want.schema(), 1 << 20).await, want);
        // Wide: the footer alone is larger than the first read.
        let (want, file) = parquet(1500, 10);
        assert!(footer_len(&file) > FOOTER_GUESS, "{}", footer_len(&file));
        assert_eq!(read_back(file, want.schema(), 1 << 20).await, want);
        // Long: the column chunks lie before the bytes read first.
        let (want, file) = parquet(2, 200_000);
        assert!(file.len() as u64 > 4 * FOOTER_GUESS);
        // In parts smaller than a column chunk, larger than the file, and in between.
        for part_size in [1000, 77_777, 1 << 30] {
            assert_eq!(
                read_back(file.clone(), want.schema(), part_size).await,
                want,
                "part size {part_size}"
            );
        }
    }

    #[test]
    fn wraps_the_query_and_escapes_the_target() {
        assert_eq!(
            unload_sql(
                "SELECT 1 AS \"a\"",
                &S3Location::parse("s3://bkt/p/unload/x'y/").unwrap()
            ),
            "UNLOAD (SELECT 1 AS \"a\") TO 's3://bkt/p/unload/x''y/' WITH (format = 'PARQUET', compression = 'SNAPPY')"
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
        assert!(unsupported_reason(&ok, Some(&S3Location::parse("s3://bkt/").unwrap())).is_none());
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
            unsupported_reason(&tz, Some(&S3Location::parse("s3://bkt/").unwrap()))
                .unwrap()
                .contains("column 't'")
        );
        let dup: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("A", DataType::Int32, true),
        ]));
        assert!(
            unsupported_reason(&dup, Some(&S3Location::parse("s3://bkt/").unwrap()))
                .unwrap()
                .contains("unique")
        );
    }
}
