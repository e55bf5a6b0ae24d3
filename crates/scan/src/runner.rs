//! [`AthenaRunner`], the public way to run SQL on Athena: built from connection options (with
//! credentials from the auth crate), it starts queries through the query lifecycle and streams
//! their results through `results/`. Data flows one way: runner -> results -> lifecycle.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion_athena_config::ConnectionOptions;
use futures::TryStreamExt;
use object_store::ObjectStore;

use crate::client::{self, S3Stores};
use crate::error::Result;
use crate::exec::QueryExecutor;
use crate::lifecycle::{CompletedQuery, PollPolicy, QueryLifecycle};
use crate::metrics::QueryMetrics;
use crate::results::{ReadOptions, Results};

/// Runs SQL on Athena and streams the results as Arrow record batches. Cheap to clone (clones
/// share the SDK client and the S3 clients).
#[derive(Clone)]
pub struct AthenaRunner {
    options: Arc<ConnectionOptions>,
    region: String,
    results: Results,
}

impl fmt::Debug for AthenaRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AthenaRunner")
            .field("region", &self.region)
            .field("catalog", &self.options.data_source)
            .field("database", &self.options.database)
            .field("work_group", &self.options.work_group)
            .field("staging", &self.options.s3_staging_directory)
            .field("result_fetcher", &self.options.result_fetcher)
            .field("poll", &self.results.lifecycle.poll_policy())
            .finish_non_exhaustive()
    }
}

impl AthenaRunner {
    /// A runner with the credentials `options` select (`AuthScheme`, keys, SSO, roles, or the
    /// default AWS chain when nothing is set), resolved by `datafusion-athena-auth`: a scheme
    /// that logs in does so now, and its failure is returned as [`Error::Auth`](crate::Error).
    pub async fn new(options: &ConnectionOptions) -> Result<Self> {
        let config = datafusion_athena_auth::sdk_config(options).await?;
        Self::from_sdk_config(options, &config)
    }

    /// A runner using `credentials` (e.g. a provider from `datafusion-athena-auth` shared with
    /// other clients) for Athena and S3, in the region of `options` (else the environment's).
    pub async fn with_credentials(
        options: &ConnectionOptions,
        credentials: SharedCredentialsProvider,
    ) -> Result<Self> {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).credentials_provider(credentials);
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.code().to_string()));
        }
        Self::from_sdk_config(options, &loader.load().await)
    }

    /// A runner using a ready SDK configuration: its region, credentials, identity cache and
    /// time source (e.g. `datafusion_athena_auth::sdk_config`, which refreshes credentials
    /// 5 minutes before expiry by an injectable clock). The S3 result reader judges expiry by
    /// the same clock. `AthenaEndpoint` / `S3Endpoint` still come from `options`.
    pub fn from_sdk_config(options: &ConnectionOptions, config: &SdkConfig) -> Result<Self> {
        let region = datafusion_athena_auth::region_of(options, config)?.to_string();
        let options = Arc::new(options.clone());
        let clock = config
            .time_source()
            .unwrap_or_else(|| SharedTimeSource::new(SystemTimeSource::new()));
        let lifecycle = QueryLifecycle::new(
            client::athena_client(config, &options),
            Arc::clone(&options),
        );
        let stores = S3Stores::new(
            Arc::clone(&options),
            region.clone(),
            config.credentials_provider(),
            clock,
        );
        let results = Results {
            lifecycle,
            stores,
            read: ReadOptions::default(),
            fetcher: options.result_fetcher,
            auto_unload_min_rows: options.auto_unload_threshold(),
            staging: options.s3_staging_directory.clone(),
        };
        Ok(Self {
            options,
            region,
            results,
        })
    }

    /// Replaces the polling policy.
    pub fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.results.lifecycle = self.results.lifecycle.with_poll_policy(poll);
        self
    }

    /// Sets the ranged-GET part size and the number of GETs in flight of the S3 path (and of
    /// the Unload path's column chunks, whose files' footers come with one GET each).
    pub fn with_s3_read(mut self, part_size: u64, concurrency: usize) -> Self {
        self.results.read.part_size = part_size.max(1);
        self.results.read.concurrency = concurrency.max(1);
        self
    }

    /// Rows per record batch (default 8192).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.results.read.batch_size = batch_size.max(1);
        self
    }

    /// Keeps the Parquet files UNLOAD wrote instead of deleting them after reading.
    pub fn with_keep_unload_files(mut self, keep: bool) -> Self {
        self.results.read.keep_unload_files = keep;
        self
    }

    /// Bytes of Parquet row groups the Unload path may hold at once across the files it reads
    /// (default [`UNLOAD_MEMORY_BUDGET`](crate::UNLOAD_MEMORY_BUDGET), 256 MiB). A row group
    /// larger than the budget is read alone; a smaller budget trades speed for memory.
    pub fn with_unload_memory_budget(mut self, bytes: u64) -> Self {
        self.results.read.unload_memory_budget = bytes.max(1);
        self
    }

    /// Uses `store` for `bucket` instead of building an S3 client for it.
    pub fn with_object_store(self, bucket: &str, store: Arc<dyn ObjectStore>) -> Self {
        self.results.stores.insert(bucket, store);
        self
    }

    /// The connection options.
    pub fn options(&self) -> &ConnectionOptions {
        &self.options
    }

    /// Starts `sql`, returning the QueryExecutionId. The request carries a fresh
    /// ClientRequestToken; the SDK retries throttled or failed calls with the same token, so
    /// Athena starts the query at most once.
    pub async fn start_query(&self, sql: &str) -> Result<String> {
        self.results.lifecycle.start_query(sql).await
    }

    /// Starts `sql` with the given ClientRequestToken (32 to 128 characters). Athena answers a
    /// repeated token (with the same request) with the QueryExecutionId of the first start, so
    /// calling this again with the same token never starts a second query.
    pub async fn start_query_with_token(&self, sql: &str, token: &str) -> Result<String> {
        self.results
            .lifecycle
            .start_query_with_token(sql, token)
            .await
    }

    /// Stops a query (succeeds for queries that already finished).
    pub async fn stop_query(&self, query_id: &str) -> Result<()> {
        self.results.lifecycle.stop_query(query_id).await
    }

    /// Polls until the query finishes. FAILED and CANCELLED become errors carrying Athena's
    /// message, category and type; past `QueryTimeout` (counted from `started`) the query is
    /// stopped and [`Error::Timeout`](crate::Error::Timeout) returned.
    pub async fn wait(
        &self,
        query_id: &str,
        started: Instant,
        metrics: &QueryMetrics,
    ) -> Result<CompletedQuery> {
        self.results
            .lifecycle
            .wait(query_id, started, metrics)
            .await
    }

    /// Starts `sql` and waits for it. If this future is dropped before the query finished, the
    /// query is stopped (StopQueryExecution from a spawned task), also when it is dropped while
    /// StartQueryExecution is still being sent or retried: the spawned task then repeats the
    /// start with the same ClientRequestToken, which gives the id of the query if Athena
    /// started it (or starts it, if no attempt ever arrived), and stops that query.
    pub async fn run_query(&self, sql: &str, metrics: &QueryMetrics) -> Result<CompletedQuery> {
        self.results.lifecycle.run(sql, metrics).await
    }
}

/// Streams the result rows as batches of `schema` (columns by position). DataFusion pulls:
/// nothing is read ahead beyond a few S3 ranges or one result page. Dropping the stream before
/// the query finished stops the query.
impl QueryExecutor for AthenaRunner {
    fn execute(
        &self,
        sql: &str,
        schema: SchemaRef,
        metrics: QueryMetrics,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        self.execute_with_estimate(sql, schema, metrics, None)
    }

    /// With `ResultFetcher=Auto`, an estimate of at least `AutoUnloadMinRows` rows reads the
    /// result through UNLOAD (falling back to the CSV like `ResultFetcher=Unload` does).
    fn execute_with_estimate(
        &self,
        sql: &str,
        schema: SchemaRef,
        metrics: QueryMetrics,
        estimated_rows: Option<usize>,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        let results = self.results.clone();
        let sql = sql.to_string();
        let target = Arc::clone(&schema);
        let rows = metrics.rows_fetched.clone();
        let batches = futures::stream::once(async move {
            results
                .fetch(sql, target, metrics, estimated_rows)
                .await
                .map(|s| s.map_err(DataFusionError::from))
                .map_err(DataFusionError::from)
        })
        .try_flatten()
        .inspect_ok(move |b| rows.add(b.num_rows()));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A one-endpoint HTTP server that records request bodies and answers each with `reply`.
    async fn capture_server(reply: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&bodies);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        // Read one request: headers, then Content-Length bytes of body.
                        let head_end = loop {
                            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break p + 4;
                            }
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        while buf.len() < head_end + len {
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let body =
                            String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
                        seen.lock().unwrap().push(body);
                        buf.drain(..head_end + len);
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n{reply}",
                            reply.len()
                        );
                        if sock.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (format!("http://{addr}"), bodies)
    }

    #[tokio::test]
    async fn start_sends_context_workgroup_output_encryption_reuse_and_a_token() {
        let (endpoint, bodies) = capture_server(r#"{"QueryExecutionId":"q-1"}"#).await;
        let options: ConnectionOptions = format!(
            "AWSRegion=eu-west-1;AWSAccessKey=AK;AWSSecretKey=SK;Endpoint={endpoint};DataSource=cat;Database=db;\
             WorkGroup=wg;S3StagingDirectory=s3://bucket/stage/;EncryptionOption=SSE_KMS;KmsKey=arn:key;\
             ResultReuseEnabled=true;ResultReuseMaxAgeMinutes=15;"
        )
        .parse()
        .unwrap();
        let runner = AthenaRunner::new(&options).await.unwrap();
        assert_eq!(runner.start_query("SELECT 1").await.unwrap(), "q-1");
        assert_eq!(runner.start_query("SELECT 1").await.unwrap(), "q-1");
        let bodies = bodies.lock().unwrap().clone();
        assert_eq!(bodies.len(), 2);
        for needle in [
            r#""QueryString":"SELECT 1""#,
            r#""Catalog":"cat""#,
            r#""Database":"db""#,
            r#""WorkGroup":"wg""#,
            r#""OutputLocation":"s3://bucket/stage/""#,
            r#""EncryptionOption":"SSE_KMS""#,
            r#""KmsKey":"arn:key""#,
            r#""Enabled":true"#,
            r#""MaxAgeInMinutes":15"#,
            r#""ClientRequestToken":""#,
        ] {
            assert!(
                bodies[0].contains(needle),
                "{needle} missing in {}",
                bodies[0]
            );
        }
        let token = |b: &str| {
            b.split(r#""ClientRequestToken":""#)
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        };
        let (t1, t2) = (token(&bodies[0]).unwrap(), token(&bodies[1]).unwrap());
        assert!((32..=128).contains(&t1.len()), "{t1}");
        assert_ne!(t1, t2, "each query gets its own token");
    }
}
