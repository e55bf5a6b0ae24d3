//! The query lifecycle: StartQueryExecution, polling GetQueryExecution, QueryTimeout,
//! StopQueryExecution when the caller stops caring, and streaming the results.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_athena::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_athena::types::{
    EncryptionConfiguration, EncryptionOption, QueryExecution, QueryExecutionContext,
    QueryExecutionState, ResultConfiguration, ResultReuseByAgeConfiguration,
    ResultReuseConfiguration,
};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion_athena_config::{ConnectionOptions, ResultFetcher, S3Location};
use futures::TryStreamExt;
use object_store::ObjectStore;

use crate::client;
use crate::error::{Error, Result};
use crate::exec::QueryExecutor;
use crate::metrics::QueryMetrics;
use crate::results;
use crate::results::UNLOAD_MEMORY_BUDGET;
use crate::results::csv::CsvReadOptions;

/// How often GetQueryExecution is called while a query runs: `initial` after the start, then
/// growing by `factor` up to `max`. The defaults (50 ms, x1.5, 2 s) answer short queries within
/// tens of milliseconds and cost one call per 2 s for long ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// The first wait.
    pub initial: Duration,
    /// Growth per poll.
    pub factor: f64,
    /// The longest wait.
    pub max: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(50),
            factor: 1.5,
            max: Duration::from_secs(2),
        }
    }
}

impl PollPolicy {
    /// The wait after `delay`.
    pub fn next(&self, delay: Duration) -> Duration {
        delay.mul_f64(self.factor.max(1.0)).min(self.max)
    }
}

/// A query that reached SUCCEEDED.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CompletedQuery {
    /// The QueryExecutionId.
    pub query_id: String,
    /// `ResultConfiguration.OutputLocation`: the result CSV (absent with managed results).
    pub output_location: Option<String>,
    /// `Statistics.DataManifestLocation` (UNLOAD and CTAS).
    pub manifest_location: Option<String>,
    /// `Statistics.DataScannedInBytes`.
    pub data_scanned_bytes: Option<i64>,
    /// `Statistics.QueryQueueTimeInMillis`.
    pub queue_time_ms: Option<i64>,
    /// `Statistics.EngineExecutionTimeInMillis`.
    pub engine_time_ms: Option<i64>,
    /// Whether Athena answered from a previous query's result.
    pub reused_previous_result: bool,
}

impl CompletedQuery {
    fn from_execution(query_id: &str, qe: &QueryExecution) -> Self {
        let stats = qe.statistics();
        Self {
            query_id: query_id.to_string(),
            output_location: qe
                .result_configuration()
                .and_then(|r| r.output_location())
                .map(str::to_string),
            manifest_location: stats
                .and_then(|s| s.data_manifest_location())
                .map(str::to_string),
            data_scanned_bytes: stats.and_then(|s| s.data_scanned_in_bytes()),
            queue_time_ms: stats.and_then(|s| s.query_queue_time_in_millis()),
            engine_time_ms: stats.and_then(|s| s.engine_execution_time_in_millis()),
            reused_previous_result: stats
                .and_then(|s| s.result_reuse_information())
                .is_some_and(|r| r.reused_previous_result()),
        }
    }
}

/// Runs SQL on Athena and streams the results as Arrow record batches. Cheap to clone (clones
/// share the SDK client and the S3 clients).
#[derive(Clone)]
pub struct AthenaRunner {
    athena: aws_sdk_athena::Client,
    options: ConnectionOptions,
    region: String,
    credentials: Option<SharedCredentialsProvider>,
    clock: SharedTimeSource,
    stores: Arc<Mutex<HashMap<String, Arc<dyn ObjectStore>>>>,
    poll: PollPolicy,
    pub(crate) csv: CsvReadOptions,
    keep_unload_files: bool,
    unload_memory_budget: u64,
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
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl AthenaRunner {
    /// A runner with credentials from the options' static keys, else the default AWS chain.
    pub async fn new(options: &ConnectionOptions) -> Result<Self> {
        let credentials = client::static_credentials(options)?;
        Self::build(options, credentials).await
    }

    /// A runner using `credentials` (e.g. from `datafusion-athena-auth`) for Athena and S3.
    pub async fn with_credentials(
        options: &ConnectionOptions,
        credentials: SharedCredentialsProvider,
    ) -> Result<Self> {
        Self::build(options, Some(credentials)).await
    }

    /// A runner using a ready SDK configuration: its region, credentials, identity cache and
    /// time source (e.g. `datafusion_athena_auth::sdk_config`, which refreshes credentials
    /// 5 minutes before expiry by an injectable clock). The S3 result reader judges expiry by
    /// the same clock. `AthenaEndpoint` / `S3Endpoint` still come from `options`.
    pub fn from_sdk_config(options: &ConnectionOptions, config: &SdkConfig) -> Result<Self> {
        if config.region().is_none() {
            return Err(Error::Config(
                "no AWS region: set AWSRegion (e.g. AWSRegion=eu-west-1) or AWS_REGION".into(),
            ));
        }
        Ok(Self::from_config(options, config))
    }

    async fn build(
        options: &ConnectionOptions,
        credentials: Option<SharedCredentialsProvider>,
    ) -> Result<Self> {
        let config = client::sdk_config(options, credentials).await?;
        Ok(Self::from_config(options, &config))
    }

    fn from_config(options: &ConnectionOptions, config: &SdkConfig) -> Self {
        let region = config.region().map(|r| r.to_string()).unwrap_or_default();
        Self {
            athena: client::athena_client(config, options),
            options: options.clone(),
            region,
            credentials: config.credentials_provider(),
            clock: config
                .time_source()
                .unwrap_or_else(|| SharedTimeSource::new(SystemTimeSource::new())),
            stores: Arc::new(Mutex::new(HashMap::new())),
            poll: PollPolicy::default(),
            csv: CsvReadOptions::default(),
            keep_unload_files: false,
            unload_memory_budget: UNLOAD_MEMORY_BUDGET,
        }
    }

    /// Replaces the polling policy.
    pub fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Sets the ranged-GET part size and the number of GETs in flight of the S3 path (and of
    /// the Unload path's column chunks, whose files' footers come with one GET each).
    pub fn with_s3_read(mut self, part_size: u64, concurrency: usize) -> Self {
        self.csv.part_size = part_size.max(1);
        self.csv.concurrency = concurrency.max(1);
        self
    }

    /// Rows per record batch (default 8192).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.csv.batch_size = batch_size.max(1);
        self
    }

    /// Keeps the Parquet files UNLOAD wrote instead of deleting them after reading.
    pub fn with_keep_unload_files(mut self, keep: bool) -> Self {
        self.keep_unload_files = keep;
        self
    }

    /// Bytes of Parquet row groups the Unload path may hold at once across the files it reads
    /// (default [`UNLOAD_MEMORY_BUDGET`], 256 MiB). A row group larger than the budget is read
    /// alone; a smaller budget trades speed for memory.
    pub fn with_unload_memory_budget(mut self, bytes: u64) -> Self {
        self.unload_memory_budget = bytes.max(1);
        self
    }

    /// Uses `store` for `bucket` instead of building an S3 client for it.
    pub fn with_object_store(self, bucket: &str, store: Arc<dyn ObjectStore>) -> Self {
        if let Ok(mut stores) = self.stores.lock() {
            stores.insert(bucket.to_string(), store);
        }
        self
    }

    /// The connection options.
    pub fn options(&self) -> &ConnectionOptions {
        &self.options
    }

    pub(crate) fn athena(&self) -> &aws_sdk_athena::Client {
        &self.athena
    }

    pub(crate) fn result_fetcher(&self) -> ResultFetcher {
        self.options.result_fetcher
    }

    pub(crate) fn staging(&self) -> Option<&S3Location> {
        self.options.s3_staging_directory.as_ref()
    }

    pub(crate) fn keep_unload_files(&self) -> bool {
        self.keep_unload_files
    }

    pub(crate) fn unload_memory_budget(&self) -> u64 {
        self.unload_memory_budget
    }

    /// The object store for `bucket` (built once, then shared).
    pub(crate) fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        let mut stores = self
            .stores
            .lock()
            .map_err(|_| Error::Config("the object store cache is poisoned".into()))?;
        if let Some(s) = stores.get(bucket) {
            return Ok(Arc::clone(s));
        }
        let store = client::s3_store_with_clock(
            &self.options,
            &self.region,
            bucket,
            self.credentials.clone(),
            self.clock.clone(),
        )?;
        stores.insert(bucket.to_string(), Arc::clone(&store));
        Ok(store)
    }

    /// Starts `sql`, returning the QueryExecutionId. The request carries a fresh
    /// ClientRequestToken; the SDK retries throttled or failed calls with the same token, so
    /// Athena starts the query at most once.
    pub async fn start_query(&self, sql: &str) -> Result<String> {
        self.start_query_with_token(sql, &new_request_token()).await
    }

    /// Starts `sql` with the given ClientRequestToken (32 to 128 characters). Athena answers a
    /// repeated token (with the same request) with the QueryExecutionId of the first start, so
    /// calling this again with the same token never starts a second query.
    pub async fn start_query_with_token(&self, sql: &str, token: &str) -> Result<String> {
        let o = &self.options;
        let mut context = QueryExecutionContext::builder();
        if let Some(catalog) = &o.data_source {
            context = context.catalog(catalog);
        }
        if let Some(db) = &o.database {
            context = context.database(db);
        }
        let mut result_config = ResultConfiguration::builder();
        let mut has_result_config = false;
        if let Some(staging) = &o.s3_staging_directory {
            result_config = result_config.output_location(staging.to_string());
            has_result_config = true;
        }
        if let Some(enc) = o.encryption_option {
            let mut e = EncryptionConfiguration::builder()
                .encryption_option(EncryptionOption::from(enc.as_str()));
            if let Some(k) = &o.kms_key {
                e = e.kms_key(k);
            }
            let e = e
                .build()
                .map_err(|e| Error::Config(format!("EncryptionOption: {e}")))?;
            result_config = result_config.encryption_configuration(e);
            has_result_config = true;
        }
        let mut req = self
            .athena
            .start_query_execution()
            .query_string(sql)
            .client_request_token(token)
            .query_execution_context(context.build());
        if let Some(wg) = &o.work_group {
            req = req.work_group(wg);
        }
        if has_result_config {
            req = req.result_configuration(result_config.build());
        }
        if o.result_reuse.enabled {
            req = req.result_reuse_configuration(
                ResultReuseConfiguration::builder()
                    .result_reuse_by_age_configuration(
                        ResultReuseByAgeConfiguration::builder()
                            .enabled(true)
                            .max_age_in_minutes(o.result_reuse.max_age_minutes as i32)
                            .build(),
                    )
                    .build(),
            );
        }
        let out = req
            .send()
            .await
            .map_err(|e| api_error("StartQueryExecution", e))?;
        out.query_execution_id()
            .map(str::to_string)
            .ok_or_else(|| Error::Api {
                operation: "StartQueryExecution",
                code: None,
                message: "the response has no QueryExecutionId".into(),
                source: "missing QueryExecutionId".into(),
            })
    }

    /// Stops a query (succeeds for queries that already finished).
    pub async fn stop_query(&self, query_id: &str) -> Result<()> {
        self.athena
            .stop_query_execution()
            .query_execution_id(query_id)
            .send()
            .await
            .map_err(|e| api_error("StopQueryExecution", e))?;
        Ok(())
    }

    /// Polls until the query finishes. FAILED and CANCELLED become errors carrying Athena's
    /// message, category and type; past `QueryTimeout` (counted from `started`) the query is
    /// stopped and [`Error::Timeout`] returned.
    pub async fn wait(
        &self,
        query_id: &str,
        started: Instant,
        metrics: &QueryMetrics,
    ) -> Result<CompletedQuery> {
        let mut delay = self.poll.initial;
        loop {
            let out = self
                .athena
                .get_query_execution()
                .query_execution_id(query_id)
                .send()
                .await
                .map_err(|e| api_error("GetQueryExecution", e))?;
            metrics.status_polls.add(1);
            if let Some(qe) = out.query_execution() {
                let status = qe.status();
                if let Some(state) = status.and_then(|s| s.state()) {
                    let scanned = qe.statistics().and_then(|s| s.data_scanned_in_bytes());
                    metrics.status.record(state.as_str(), scanned);
                }
                match status.and_then(|s| s.state()) {
                    Some(QueryExecutionState::Succeeded) => {
                        return Ok(CompletedQuery::from_execution(query_id, qe));
                    }
                    Some(QueryExecutionState::Failed) => {
                        let err = status.and_then(|s| s.athena_error());
                        let message = err
                            .and_then(|e| e.error_message())
                            .or_else(|| status.and_then(|s| s.state_change_reason()))
                            .unwrap_or("no reason given")
                            .to_string();
                        return Err(Error::QueryFailed {
                            query_id: query_id.to_string(),
                            message,
                            category: err.and_then(|e| e.error_category()),
                            error_type: err.and_then(|e| e.error_type()),
                            retryable: err.is_some_and(|e| e.retryable()),
                        });
                    }
                    Some(QueryExecutionState::Cancelled) => {
                        return Err(Error::QueryCancelled {
                            query_id: query_id.to_string(),
                            reason: status
                                .and_then(|s| s.state_change_reason())
                                .unwrap_or("stopped")
                                .to_string(),
                        });
                    }
                    _ => {}
                }
            }
            let mut sleep = delay;
            if let Some(timeout) = self.options.query_timeout {
                let elapsed = started.elapsed();
                if elapsed >= timeout {
                    if let Err(e) = self.stop_query(query_id).await {
                        tracing::warn!(query_id, error = %e, "stopping a timed-out query failed");
                    }
                    return Err(Error::Timeout {
                        query_id: query_id.to_string(),
                        timeout,
                    });
                }
                sleep = sleep.min(timeout - elapsed);
            }
            tokio::time::sleep(sleep).await;
            delay = self.poll.next(delay);
        }
    }

    /// Starts `sql` and waits for it. If this future is dropped before the query finished, the
    /// query is stopped (StopQueryExecution from a spawned task), also when it is dropped while
    /// StartQueryExecution is still being sent or retried: the spawned task then repeats the
    /// start with the same ClientRequestToken, which gives the id of the query if Athena
    /// started it (or starts it, if no attempt ever arrived), and stops that query.
    pub async fn run_query(&self, sql: &str, metrics: &QueryMetrics) -> Result<CompletedQuery> {
        let started = Instant::now();
        let token = new_request_token();
        let mut guard = StopOnDrop {
            runner: self.clone(),
            pending: Pending::Starting {
                sql: sql.to_string(),
                token: token.clone(),
            },
        };
        let query_id = match self.start_query_with_token(sql, &token).await {
            Ok(id) => id,
            Err(e) => {
                // Every attempt was answered with an error: Athena started nothing.
                guard.pending = Pending::Nothing;
                return Err(e);
            }
        };
        guard.pending = Pending::Running(query_id.clone());
        metrics.query_id.push(query_id.clone());
        tracing::debug!(%query_id, "started Athena query");
        let result = self.wait(&query_id, started, metrics).await;
        // Finished one way or another (or stopped by the timeout): nothing left to stop.
        guard.pending = Pending::Nothing;
        metrics.wait_time.add_duration(started.elapsed());
        let done = result?;
        if let Some(b) = done.data_scanned_bytes {
            metrics.data_scanned_bytes.add(b.max(0) as usize);
        }
        QueryMetrics::add_millis(&metrics.queue_time, done.queue_time_ms);
        QueryMetrics::add_millis(&metrics.engine_time, done.engine_time_ms);
        Ok(done)
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
        let runner = Arc::new(self.clone());
        let sql = sql.to_string();
        let target = Arc::clone(&schema);
        let rows = metrics.rows_fetched.clone();
        let batches = futures::stream::once(async move {
            results::fetch(runner, sql, target, metrics, estimated_rows)
                .await
                .map(|s| s.map_err(DataFusionError::from))
                .map_err(DataFusionError::from)
        })
        .try_flatten()
        .inspect_ok(move |b| rows.add(b.num_rows()));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }
}

/// A fresh ClientRequestToken (a UUID: 36 characters).
fn new_request_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What a dropped [`AthenaRunner::run_query`] leaves behind.
#[derive(Debug)]
enum Pending {
    /// Nothing to stop.
    Nothing,
    /// StartQueryExecution was sent (or is being retried) and has not answered yet.
    Starting { sql: String, token: String },
    /// The query with this id has not finished.
    Running(String),
}

/// Stops the query when dropped while something is still pending.
#[derive(Debug)]
struct StopOnDrop {
    runner: AthenaRunner,
    pending: Pending,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let pending = std::mem::replace(&mut self.pending, Pending::Nothing);
        if matches!(pending, Pending::Nothing) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            let query_id = match &pending {
                Pending::Running(id) => id.as_str(),
                _ => "(not yet known)",
            };
            tracing::warn!(
                query_id,
                "no tokio runtime to stop the abandoned Athena query"
            );
            return;
        };
        let runner = self.runner.clone();
        handle.spawn(async move {
            let query_id = match pending {
                Pending::Nothing => return,
                Pending::Running(id) => id,
                Pending::Starting { sql, token } => {
                    match runner.start_query_with_token(&sql, &token).await {
                        Ok(id) => id,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot learn the id of an abandoned Athena query to stop it");
                            return;
                        }
                    }
                }
            };
            match runner.stop_query(&query_id).await {
                Ok(()) => tracing::debug!(%query_id, "stopped abandoned Athena query"),
                Err(e) => tracing::warn!(%query_id, error = %e, "StopQueryExecution failed"),
            }
        });
    }
}

/// An SDK error as [`Error::Api`], keeping the service's code and message.
pub(crate) fn api_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_string);
    let message = err
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
    Error::Api {
        operation,
        code,
        message,
        source: Box::new(err),
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn polling_backs_off_to_the_cap() {
        let p = PollPolicy::default();
        let mut d = p.initial;
        let mut waited = Duration::ZERO;
        let mut calls = 0;
        while waited < Duration::from_secs(600) {
            waited += d;
            d = p.next(d);
            calls += 1;
        }
        // Short queries: the first 3 polls come within 0.25 s, the first 5 within 0.7 s.
        let first3: Duration = (0..3)
            .scan(p.initial, |d, _| {
                let cur = *d;
                *d = p.next(*d);
                Some(cur)
            })
            .sum();
        assert!(first3 < Duration::from_millis(250), "{first3:?}");
        let first5: Duration = (0..5)
            .scan(p.initial, |d, _| {
                let cur = *d;
                *d = p.next(*d);
                Some(cur)
            })
            .sum();
        assert!(first5 < Duration::from_millis(700), "{first5:?}");
        // Long queries: a 10 minute query costs ~300 calls, not thousands.
        assert!(calls < 320, "{calls}");
        assert_eq!(d, Duration::from_secs(2));
    }
}
