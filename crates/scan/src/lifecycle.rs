//! The query lifecycle: StartQueryExecution, polling GetQueryExecution, QueryTimeout, and
//! StopQueryExecution when the caller stops caring. Knows nothing of results: `results/` asks
//! it to run a statement and reads what the [`CompletedQuery`] points at.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_athena::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_athena::types::{
    EncryptionConfiguration, EncryptionOption, QueryExecution, QueryExecutionContext,
    QueryExecutionState, ResultConfiguration, ResultReuseByAgeConfiguration,
    ResultReuseConfiguration,
};
use datafusion_athena_config::{ConnectionOptions, S3Object};

use crate::error::{Error, Result};
use crate::metrics::QueryMetrics;

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
    pub output_location: Option<S3Object>,
    /// `Statistics.DataManifestLocation` (UNLOAD and CTAS).
    pub manifest_location: Option<S3Object>,
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
    fn from_execution(query_id: &str, qe: &QueryExecution) -> Result<Self> {
        let stats = qe.statistics();
        // An empty location means none (MiniStack answers `""` for a SELECT's manifest).
        let object = |url: Option<&str>| {
            url.filter(|u| !u.trim().is_empty())
                .map(|u| {
                    S3Object::parse(u).map_err(|message| Error::MalformedResult {
                        location: format!("GetQueryExecution of query {query_id}"),
                        message,
                    })
                })
                .transpose()
        };
        Ok(Self {
            query_id: query_id.to_string(),
            output_location: object(qe.result_configuration().and_then(|r| r.output_location()))?,
            manifest_location: object(stats.and_then(|s| s.data_manifest_location()))?,
            data_scanned_bytes: stats.and_then(|s| s.data_scanned_in_bytes()),
            queue_time_ms: stats.and_then(|s| s.query_queue_time_in_millis()),
            engine_time_ms: stats.and_then(|s| s.engine_execution_time_in_millis()),
            reused_previous_result: stats
                .and_then(|s| s.result_reuse_information())
                .is_some_and(|r| r.reused_previous_result()),
        })
    }
}

/// Starts, polls and stops the queries of one connection. Cheap to clone.
#[derive(Clone)]
pub(crate) struct QueryLifecycle {
    athena: aws_sdk_athena::Client,
    /// Catalog, database, workgroup, output location, encryption, reuse and timeout.
    options: Arc<ConnectionOptions>,
    poll: PollPolicy,
}

impl fmt::Debug for QueryLifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryLifecycle")
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl QueryLifecycle {
    pub(crate) fn new(athena: aws_sdk_athena::Client, options: Arc<ConnectionOptions>) -> Self {
        Self {
            athena,
            options,
            poll: PollPolicy::default(),
        }
    }

    pub(crate) fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    pub(crate) fn poll_policy(&self) -> PollPolicy {
        self.poll
    }

    pub(crate) fn athena(&self) -> &aws_sdk_athena::Client {
        &self.athena
    }

    /// Starts `sql`, returning the QueryExecutionId. The request carries a fresh
    /// ClientRequestToken; the SDK retries throttled or failed calls with the same token, so
    /// Athena starts the query at most once.
    pub(crate) async fn start_query(&self, sql: &str) -> Result<String> {
        self.start_query_with_token(sql, &new_request_token()).await
    }

    /// Starts `sql` with the given ClientRequestToken (32 to 128 characters). Athena answers a
    /// repeated token (with the same request) with the QueryExecutionId of the first start, so
    /// calling this again with the same token never starts a second query.
    pub(crate) async fn start_query_with_token(&self, sql: &str, token: &str) -> Result<String> {
        let o = &*self.options;
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
            let e = e.build().map_err(|e| Error::InvalidOption {
                property: "EncryptionOption",
                message: e.to_string(),
            })?;
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
    pub(crate) async fn stop_query(&self, query_id: &str) -> Result<()> {
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
    pub(crate) async fn wait(
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
                let state = status.and_then(|s| s.state());
                let scanned = qe.statistics().and_then(|s| s.data_scanned_in_bytes());
                if let Some(state) = state {
                    metrics.status.record(state.as_str(), scanned);
                }
                // (limit, scanned) when the query has scanned more than MaxBytesScanned.
                let over_limit =
                    self.options
                        .max_bytes_scanned
                        .zip(scanned)
                        .and_then(|(limit, scanned)| {
                            let scanned = u64::try_from(scanned).unwrap_or(0);
                            (scanned > limit).then_some((limit, scanned))
                        });
                if let Some((limit, scanned)) = over_limit
                    && matches!(
                        state,
                        Some(QueryExecutionState::Queued | QueryExecutionState::Running)
                    )
                {
                    if let Err(e) = self.stop_query(query_id).await {
                        tracing::warn!(query_id, error = %e, "stopping a query over MaxBytesScanned failed");
                    }
                    return Err(Error::ScanLimitExceeded {
                        query_id: query_id.to_string(),
                        limit,
                        scanned,
                    });
                }
                match state {
                    Some(QueryExecutionState::Succeeded) => {
                        if let Some((limit, scanned)) = over_limit {
                            tracing::warn!(
                                query_id,
                                scanned,
                                limit,
                                "the query finished before its scan passed MaxBytesScanned could be seen"
                            );
                        }
                        return CompletedQuery::from_execution(query_id, qe);
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
                        let reason = status
                            .and_then(|s| s.state_change_reason())
                            .unwrap_or("stopped");
                        return Err(Error::QueryCancelled {
                            query_id: query_id.to_string(),
                            reason: explain_cancel(reason, scanned),
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
    pub(crate) async fn run(&self, sql: &str, metrics: &QueryMetrics) -> Result<CompletedQuery> {
        let started = Instant::now();
        let token = new_request_token();
        let mut guard = StopOnDrop {
            lifecycle: self.clone(),
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

/// Athena's reason for a cancelled query, explained when the workgroup's per-query data usage
/// control (`BytesScannedCutoffPerQuery`) cancelled it.
fn explain_cancel(reason: &str, scanned: Option<i64>) -> String {
    let r = reason.to_ascii_lowercase();
    let by_cutoff = (r.contains("limit") || r.contains("cutoff"))
        && (r.contains("scan") || r.contains("bytes") || r.contains("data usage"));
    if !by_cutoff {
        return reason.to_string();
    }
    let scanned = scanned.map_or_else(String::new, |b| format!(" after {b} bytes"));
    format!(
        "{reason} (the workgroup's per-query data usage control, BytesScannedCutoffPerQuery, stopped it{scanned}: scan less, e.g. filter on partition columns, or ask for a higher workgroup limit)"
    )
}

/// A fresh ClientRequestToken (a UUID: 36 characters).
fn new_request_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What a dropped [`QueryLifecycle::run`] leaves behind.
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
    lifecycle: QueryLifecycle,
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
        let lifecycle = self.lifecycle.clone();
        handle.spawn(async move {
            let query_id = match pending {
                Pending::Nothing => return,
                Pending::Running(id) => id,
                Pending::Starting { sql, token } => {
                    match lifecycle.start_query_with_token(&sql, &token).await {
                        Ok(id) => id,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot learn the id of an abandoned Athena query to stop it");
                            return;
                        }
                    }
                }
            };
            match lifecycle.stop_query(&query_id).await {
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

    #[test]
    fn a_cancel_by_the_workgroups_cutoff_is_explained() {
        let r = explain_cancel(
            "Query exceeded the data usage limit of the workgroup",
            Some(42),
        );
        assert!(
            r.contains("BytesScannedCutoffPerQuery") && r.contains("after 42 bytes"),
            "{r}"
        );
        assert_eq!(
            explain_cancel("Query cancelled by user", None),
            "Query cancelled by user"
        );
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
