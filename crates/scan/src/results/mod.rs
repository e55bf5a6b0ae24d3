//! Reading query results: the S3 CSV, GetQueryResults pages, or UNLOAD's Parquet files, chosen
//! by `ResultFetcher`. Auto uses UNLOAD when table statistics expect at least
//! `AutoUnloadMinRows` rows, else the result CSV; it falls back from S3 to GetQueryResults when
//! the result object is missing or access to it is denied, and from UNLOAD to the CSV when a
//! column type cannot be unloaded or there is no staging directory.

pub(crate) mod csv;
pub(crate) mod get_query_results;
pub(crate) mod text;
pub(crate) mod unload;

pub use unload::UNLOAD_MEMORY_BUDGET;

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion_athena_config::{ResultFetcher, S3Location, S3Object};
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::client::S3Stores;
use crate::error::{Error, Result};
use crate::lifecycle::{CompletedQuery, QueryLifecycle};
use crate::metrics::QueryMetrics;

/// The name of each fetch path, as shown in the `fetch_path` metric.
pub(crate) const PATH_S3: &str = "S3";
pub(crate) const PATH_GET_QUERY_RESULTS: &str = "GetQueryResults";
pub(crate) const PATH_UNLOAD: &str = "Unload";

/// How results are read, on every path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadOptions {
    /// Bytes per ranged GET (the result CSV, UNLOAD's column chunks).
    pub(crate) part_size: u64,
    /// Ranged GETs in flight at once (memory is bounded by `part_size * concurrency`).
    pub(crate) concurrency: usize,
    /// Rows per record batch.
    pub(crate) batch_size: usize,
    /// Pieces decoded at once, each on a blocking thread (default: the number of CPUs, at most
    /// 4). Memory grows by about one part per decoder.
    pub(crate) decoders: usize,
    /// Bytes of Parquet row groups the Unload path may hold at once across its files.
    pub(crate) unload_memory_budget: u64,
    /// Keep UNLOAD's Parquet files instead of deleting them after reading.
    pub(crate) keep_unload_files: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            part_size: 8 * 1024 * 1024,
            concurrency: 4,
            batch_size: 8192,
            decoders: std::thread::available_parallelism()
                .map(|n| n.get().min(4))
                .unwrap_or(2),
            unload_memory_budget: UNLOAD_MEMORY_BUDGET,
            keep_unload_files: false,
        }
    }
}

/// What the three result paths need: the lifecycle that runs statements, the S3 clients, how
/// to read, and which path to take.
#[derive(Debug, Clone)]
pub(crate) struct Results {
    pub(crate) lifecycle: QueryLifecycle,
    pub(crate) stores: S3Stores,
    pub(crate) read: ReadOptions,
    /// `ResultFetcher`.
    pub(crate) fetcher: ResultFetcher,
    /// `AutoUnloadMinRows` (`None`: never).
    pub(crate) auto_unload_min_rows: Option<u64>,
    /// `S3StagingDirectory`, where UNLOAD writes.
    pub(crate) staging: Option<S3Location>,
}

impl Results {
    /// Runs `sql` and streams its rows as batches of `schema`, by the configured fetch path.
    pub(crate) async fn fetch(
        &self,
        sql: String,
        schema: SchemaRef,
        metrics: QueryMetrics,
        estimated_rows: Option<usize>,
    ) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        let fetcher = self.fetcher;
        if fetcher == ResultFetcher::Unload
            || (fetcher == ResultFetcher::Auto && self.large(estimated_rows))
        {
            match unload::unsupported_reason(&schema, self.staging.as_ref()) {
                None => match unload::run(self, &sql, Arc::clone(&schema), metrics.clone()).await {
                    Ok(stream) => {
                        metrics.fetch_path.push(PATH_UNLOAD);
                        return Ok(stream);
                    }
                    // Athena refused to UNLOAD this query (a type or name it cannot write):
                    // run it again as a plain query.
                    Err(Error::QueryFailed { message, .. })
                        if unload::is_unload_refusal(&message) =>
                    {
                        tracing::info!(%message, "UNLOAD refused; reading the result CSV instead");
                    }
                    Err(e) => return Err(e),
                },
                Some(reason) => {
                    tracing::info!(%reason, "UNLOAD cannot be used; reading the result CSV instead");
                }
            }
        }
        let text_sql = json_wrapped(&sql, &schema);
        let done = self.lifecycle.run(&text_sql, &metrics).await?;
        match fetcher {
            ResultFetcher::GetQueryResults => self.gqr(&done, schema, metrics),
            ResultFetcher::S3 => {
                let location =
                    done.output_location
                        .clone()
                        .ok_or_else(|| Error::NoOutputLocation {
                            query_id: done.query_id.clone(),
                        })?;
                metrics.fetch_path.push(PATH_S3);
                self.s3(&location, schema, metrics).await
            }
            ResultFetcher::Auto | ResultFetcher::Unload => match done.output_location.clone() {
                None => self.gqr(&done, schema, metrics),
                Some(location) => {
                    match self
                        .s3(&location, Arc::clone(&schema), metrics.clone())
                        .await
                    {
                        Ok(s) => {
                            metrics.fetch_path.push(PATH_S3);
                            Ok(s)
                        }
                        Err(e) if e.is_s3_unavailable() => {
                            tracing::info!(error = %e, "result object unavailable; using GetQueryResults");
                            self.gqr(&done, schema, metrics)
                        }
                        Err(e) => Err(e),
                    }
                }
            },
        }
    }

    /// Whether Auto should read a result of `estimated_rows` through UNLOAD.
    fn large(&self, estimated_rows: Option<usize>) -> bool {
        match (self.auto_unload_min_rows, estimated_rows) {
            (Some(threshold), Some(rows)) => rows as u64 >= threshold,
            _ => false,
        }
    }

    fn gqr(
        &self,
        done: &CompletedQuery,
        schema: SchemaRef,
        metrics: QueryMetrics,
    ) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        metrics.fetch_path.push(PATH_GET_QUERY_RESULTS);
        get_query_results::read(
            self.lifecycle.athena(),
            &done.query_id,
            schema,
            self.read.batch_size,
            metrics,
        )
    }

    async fn s3(
        &self,
        location: &S3Object,
        schema: SchemaRef,
        metrics: QueryMetrics,
    ) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        let store = self.stores.get(location.bucket())?;
        csv::read_csv(
            store,
            object_path(location)?,
            location.to_string(),
            schema,
            self.read,
            Some(metrics.bytes_fetched),
        )
        .await
    }
}

/// One ranged GET, retried a few times on errors object_store gave up on (it already retries
/// 5xx and connection errors itself).
pub(crate) async fn get_range(
    store: &dyn ObjectStore,
    path: &Path,
    range: Range<u64>,
    location: &str,
) -> Result<Bytes> {
    let mut attempt = 0u32;
    loop {
        match store.get_range(path, range.clone()).await {
            Ok(b) => {
                let expected = (range.end - range.start) as usize;
                if b.len() != expected {
                    return Err(Error::MalformedResult {
                        location: location.to_string(),
                        message: format!(
                            "range {range:?} returned {} bytes, expected {expected}",
                            b.len()
                        ),
                    });
                }
                return Ok(b);
            }
            Err(
                e @ (object_store::Error::NotFound { .. }
                | object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. }),
            ) => {
                return Err(Error::S3 {
                    location: location.to_string(),
                    source: e,
                });
            }
            Err(e) if attempt >= 3 => {
                return Err(Error::S3 {
                    location: location.to_string(),
                    source: e,
                });
            }
            Err(e) => {
                attempt += 1;
                tracing::debug!(%location, ?range, attempt, error = %e, "retrying ranged GET");
                tokio::time::sleep(std::time::Duration::from_millis(100 * 2u64.pow(attempt))).await;
            }
        }
    }
}

/// `span` cut into consecutive ranges of `part` bytes (the last one shorter).
pub(crate) fn parts_of(span: Range<u64>, part: u64) -> impl Iterator<Item = Range<u64>> {
    let part = part.max(1);
    let mut at = span.start;
    std::iter::from_fn(move || {
        (at < span.end).then(|| {
            let end = span.end.min(at.saturating_add(part));
            let r = at..end;
            at = end;
            r
        })
    })
}

/// The object_store path of `object`'s key.
pub(crate) fn object_path(object: &S3Object) -> Result<Path> {
    Path::parse(object.key()).map_err(|e| Error::MalformedResult {
        location: object.to_string(),
        message: format!("invalid object key: {e}"),
    })
}

/// An S3 object URL Athena gave (an output location, a manifest line), parsed.
pub(crate) fn parse_object(url: &str) -> Result<S3Object> {
    S3Object::parse(url).map_err(|message| Error::MalformedResult {
        location: url.to_string(),
        message,
    })
}

/// Nested columns (array, map, row) are read as JSON text: `CAST(x AS JSON)` is unambiguous,
/// unlike Athena's `[a, b]` / `{k=v}` rendering. Other queries are returned unchanged.
pub(crate) fn json_wrapped(sql: &str, schema: &SchemaRef) -> String {
    use datafusion::arrow::datatypes::DataType;
    let nested = |dt: &DataType| {
        matches!(
            dt,
            DataType::List(_) | DataType::LargeList(_) | DataType::Map(..) | DataType::Struct(_)
        )
    };
    if !schema.fields().iter().any(|f| nested(f.data_type())) {
        return sql.to_string();
    }
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let q = format!("\"{}\"", f.name().replace('"', "\"\""));
            if nested(f.data_type()) {
                format!("CAST({q} AS JSON) AS {q}")
            } else {
                q
            }
        })
        .collect();
    format!(
        "SELECT {} FROM ({sql}) AS \"athena_json_source\"",
        columns.join(", ")
    )
}

/// Aborts a spawned task when dropped, so dropping a result stream stops its downloads.
#[derive(Debug)]
pub(crate) struct AbortOnDrop<T>(pub(crate) tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = std::result::Result<T, tokio::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn nested_columns_are_cast_to_json() {
        let flat: SchemaRef = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        assert_eq!(json_wrapped("SELECT a FROM t", &flat), "SELECT a FROM t");
        let nested: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new(
                "l\"x",
                DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
                true,
            ),
        ]));
        assert_eq!(
            json_wrapped("SELECT a, l FROM t", &nested),
            "SELECT \"a\", CAST(\"l\"\"x\" AS JSON) AS \"l\"\"x\" FROM (SELECT a, l FROM t) AS \"athena_json_source\""
        );
    }
}
