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
use datafusion_athena_config::ResultFetcher;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};
use crate::metrics::QueryMetrics;
use crate::runner::{AthenaRunner, CompletedQuery};

/// The name of each fetch path, as shown in the `fetch_path` metric.
pub(crate) const PATH_S3: &str = "S3";
pub(crate) const PATH_GET_QUERY_RESULTS: &str = "GetQueryResults";
pub(crate) const PATH_UNLOAD: &str = "Unload";

/// Runs `sql` and streams its rows as batches of `schema`, by the configured fetch path.
pub(crate) async fn fetch(
    runner: Arc<AthenaRunner>,
    sql: String,
    schema: SchemaRef,
    metrics: QueryMetrics,
    estimated_rows: Option<usize>,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let fetcher = runner.result_fetcher();
    if fetcher == ResultFetcher::Unload
        || (fetcher == ResultFetcher::Auto && large(runner.options(), estimated_rows))
    {
        let staging = runner.staging().map(|s| s.to_string());
        match unload::unsupported_reason(&schema, staging.as_deref()) {
            None => match unload::run(
                Arc::clone(&runner),
                &sql,
                Arc::clone(&schema),
                metrics.clone(),
            )
            .await
            {
                Ok(stream) => {
                    metrics.fetch_path.push(PATH_UNLOAD);
                    return Ok(stream);
                }
                // Athena refused to UNLOAD this query (a type or name it cannot write):
                // run it again as a plain query.
                Err(Error::QueryFailed { message, .. }) if unload::is_unload_refusal(&message) => {
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
    let done = runner.run_query(&text_sql, &metrics).await?;
    match fetcher {
        ResultFetcher::GetQueryResults => gqr(&runner, &done, schema, metrics),
        ResultFetcher::S3 => {
            let location = done.output_location.clone().ok_or_else(|| {
                Error::Config(format!(
                    "query {} has no S3 output location (a workgroup with managed query results?): use ResultFetcher=GetQueryResults or Auto",
                    done.query_id
                ))
            })?;
            metrics.fetch_path.push(PATH_S3);
            s3(&runner, &location, schema, metrics).await
        }
        ResultFetcher::Auto | ResultFetcher::Unload => match done.output_location.clone() {
            None => gqr(&runner, &done, schema, metrics),
            Some(location) => {
                match s3(&runner, &location, Arc::clone(&schema), metrics.clone()).await {
                    Ok(s) => {
                        metrics.fetch_path.push(PATH_S3);
                        Ok(s)
                    }
                    Err(e) if e.is_s3_unavailable() => {
                        tracing::info!(error = %e, "result object unavailable; using GetQueryResults");
                        gqr(&runner, &done, schema, metrics)
                    }
                    Err(e) => Err(e),
                }
            }
        },
    }
}

/// Whether Auto should read a result of `estimated_rows` through UNLOAD.
fn large(
    options: &datafusion_athena_config::ConnectionOptions,
    estimated_rows: Option<usize>,
) -> bool {
    match (options.auto_unload_threshold(), estimated_rows) {
        (Some(threshold), Some(rows)) => rows as u64 >= threshold,
        _ => false,
    }
}

fn gqr(
    runner: &AthenaRunner,
    done: &CompletedQuery,
    schema: SchemaRef,
    metrics: QueryMetrics,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    metrics.fetch_path.push(PATH_GET_QUERY_RESULTS);
    get_query_results::read(
        runner.athena(),
        &done.query_id,
        schema,
        runner.csv.batch_size,
        metrics,
    )
}

async fn s3(
    runner: &AthenaRunner,
    location: &str,
    schema: SchemaRef,
    metrics: QueryMetrics,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let (bucket, path) = split_s3_url(location)?;
    let store = runner.store(&bucket)?;
    csv::read_csv(
        store,
        path,
        location.to_string(),
        schema,
        runner.csv,
        Some(metrics.bytes_fetched),
    )
    .await
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

/// `s3://bucket/key` as the bucket and the object path.
pub(crate) fn split_s3_url(url: &str) -> Result<(String, Path)> {
    let rest = url
        .strip_prefix("s3://")
        .or_else(|| url.strip_prefix("s3a://"))
        .ok_or_else(|| Error::MalformedResult {
            location: url.to_string(),
            message: "expected an s3://bucket/key URL".into(),
        })?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(Error::MalformedResult {
            location: url.to_string(),
            message: "the URL has no bucket".into(),
        });
    }
    let path = Path::parse(key).map_err(|e| Error::MalformedResult {
        location: url.to_string(),
        message: format!("invalid object key: {e}"),
    })?;
    Ok((bucket.to_string(), path))
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
    fn s3_urls_split_into_bucket_and_key() {
        let (b, p) = split_s3_url("s3://bucket/out/q-1.csv").unwrap();
        assert_eq!((b.as_str(), p.as_ref()), ("bucket", "out/q-1.csv"));
        assert!(split_s3_url("https://x/y").is_err());
        assert!(split_s3_url("s3:///y").is_err());
    }

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
