//! The query lifecycle: QUEUED -> RUNNING -> SUCCEEDED / FAILED / CANCELLED, executed by
//! DataFusion in a tokio task, results streamed to disk.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use datafusion::common::config::Dialect;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::dataframe::DataFrame;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::task::AbortHandle;

use super::result_csv::encode_row;
use super::{metadata, render, sql, unload};
use crate::catalog::{DF_CATALOG, TableFormat};
use crate::error::ApiError;
use crate::state::Inner;
use crate::storage::S3Location;
use crate::types::{AthenaType, athena_type};

/// The state of a query execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryState {
    /// Accepted, waiting to run.
    Queued,
    /// Running.
    Running,
    /// Finished; results are available.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Stopped by StopQueryExecution.
    Cancelled,
}

impl QueryState {
    /// The name Athena uses (`QUEUED`, `RUNNING`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Whether the query has finished (it will not change state again).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// A result column.
#[derive(Debug, Clone)]
pub(crate) struct ColumnInfo {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) athena_type: AthenaType,
}

/// `Status.AthenaError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AthenaError {
    pub(crate) category: u32,
    pub(crate) error_type: u32,
    pub(crate) retryable: bool,
    pub(crate) message: String,
}

impl AthenaError {
    pub(crate) fn user(error_type: u32, message: impl Into<String>) -> Self {
        Self {
            category: 2,
            error_type,
            retryable: false,
            message: message.into(),
        }
    }

    pub(crate) fn syntax(message: impl Into<String>) -> Self {
        let message = message.into();
        let message = if message.starts_with("SYNTAX_ERROR") {
            message
        } else {
            format!("SYNTAX_ERROR: {message}")
        };
        Self::user(1006, message)
    }

    pub(crate) fn not_supported(message: impl Into<String>) -> Self {
        Self::user(1006, format!("NOT_SUPPORTED: {}", message.into()))
    }

    pub(crate) fn system(message: impl Into<String>) -> Self {
        Self {
            category: 1,
            error_type: 1000,
            retryable: true,
            message: message.into(),
        }
    }
}

/// What the query wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultKind {
    /// A CSV with a header row (SELECT).
    Rows,
    /// Nothing readable through GetQueryResults (UNLOAD).
    Empty,
}

/// Everything the emulator knows about one query execution.
#[derive(Debug)]
pub(crate) struct QueryRecord {
    pub(crate) id: String,
    pub(crate) sql: String,
    pub(crate) exec_sql: String,
    pub(crate) database: Option<String>,
    pub(crate) catalog: Option<String>,
    pub(crate) workgroup: String,
    /// `s3://` URI of the result CSV (None with managed results).
    pub(crate) output_location: Option<String>,
    /// The CSV on disk.
    pub(crate) result_path: PathBuf,
    pub(crate) result_kind: ResultKind,
    pub(crate) substatement: &'static str,
    pub(crate) state: QueryState,
    pub(crate) reason: Option<String>,
    pub(crate) error: Option<AthenaError>,
    pub(crate) submitted: DateTime<Utc>,
    pub(crate) running_since: Option<DateTime<Utc>>,
    pub(crate) completed: Option<DateTime<Utc>>,
    pub(crate) bytes_scanned: u64,
    pub(crate) columns: Vec<ColumnInfo>,
    pub(crate) rows: u64,
    pub(crate) manifest_location: Option<String>,
    pub(crate) abort: Option<AbortHandle>,
}

/// Every query, in submission order.
#[derive(Debug, Default)]
pub(crate) struct QueryTable {
    pub(crate) by_id: HashMap<String, QueryRecord>,
    pub(crate) order: Vec<String>,
    tokens: HashMap<String, String>,
}

/// A validated StartQueryExecution.
#[derive(Debug)]
pub(crate) struct StartRequest {
    pub(crate) sql: String,
    /// The SQL to run: `sql` with ExecutionParameters bound.
    pub(crate) exec_sql: String,
    pub(crate) database: Option<String>,
    pub(crate) catalog: Option<String>,
    pub(crate) workgroup: Option<String>,
    pub(crate) output_location: Option<String>,
    pub(crate) client_token: Option<String>,
}

/// Counts running query tasks; decrements when the task ends or is aborted.
struct ActiveGuard(Arc<AtomicUsize>);

impl ActiveGuard {
    fn enter(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(counter))
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts a query and starts its task; returns the QueryExecutionId.
pub(crate) fn start(inner: &Arc<Inner>, req: StartRequest) -> Result<String, ApiError> {
    let workgroup_name = req
        .workgroup
        .clone()
        .unwrap_or_else(|| "primary".to_owned());
    let Some(workgroup) = inner.workgroups.iter().find(|w| w.name == workgroup_name) else {
        return Err(ApiError::invalid_request(format!(
            "WorkGroup {workgroup_name} is not found."
        )));
    };
    if let Some(catalog) = &req.catalog
        && !catalog.eq_ignore_ascii_case(crate::catalog::CATALOG_NAME)
    {
        return Err(ApiError::invalid_request(format!(
            "Catalog {catalog} is not found; the emulator serves only {}",
            crate::catalog::CATALOG_NAME
        )));
    }
    let output = req
        .output_location
        .clone()
        .or_else(|| workgroup.output_location.clone());
    let id = uuid::Uuid::new_v4().to_string();
    let (output_location, result_path) = match output {
        Some(location) => {
            let Some(loc) = S3Location::parse(&location) else {
                return Err(ApiError::invalid_request(format!(
                    "OutputLocation {location:?} is not an s3://bucket/prefix/ URI"
                )));
            };
            let key = format!("{}{id}.csv", loc.prefix());
            let Some(path) = inner.storage.object_path(&loc.bucket, &key) else {
                return Err(ApiError::invalid_request(format!(
                    "OutputLocation {location:?} is not a valid S3 prefix"
                )));
            };
            (Some(format!("s3://{}/{key}", loc.bucket)), path)
        }
        None if workgroup.managed => (None, inner.storage.managed_path(&format!("{id}.csv"))),
        None => {
            return Err(ApiError::invalid_request(
                "No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.",
            ));
        }
    };
    let is_unload = sql::parse_unload(&req.sql).ok().flatten().is_some();

    let mut table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(token) = &req.client_token {
        if let Some(existing) = table.tokens.get(token) {
            let same = table
                .by_id
                .get(existing)
                .is_some_and(|q| q.exec_sql == req.exec_sql);
            return if same {
                Ok(existing.clone())
            } else {
                Err(ApiError::invalid_request(
                    "Idempotent parameters mismatch: this ClientRequestToken was used with a different query",
                ))
            };
        }
        table.tokens.insert(token.clone(), id.clone());
    }
    table.order.push(id.clone());
    table.by_id.insert(
        id.clone(),
        QueryRecord {
            id: id.clone(),
            sql: req.sql,
            exec_sql: req.exec_sql,
            database: req.database,
            catalog: req.catalog,
            workgroup: workgroup_name,
            output_location,
            result_path,
            result_kind: if is_unload {
                ResultKind::Empty
            } else {
                ResultKind::Rows
            },
            substatement: if is_unload { "UNLOAD" } else { "SELECT" },
            state: QueryState::Queued,
            reason: None,
            error: None,
            submitted: Utc::now(),
            running_since: None,
            completed: None,
            bytes_scanned: 0,
            columns: Vec::new(),
            rows: 0,
            manifest_location: None,
            abort: None,
        },
    );
    let task = tokio::spawn(run(Arc::clone(inner), id.clone()));
    if let Some(q) = table.by_id.get_mut(&id) {
        q.abort = Some(task.abort_handle());
    }
    Ok(id)
}

/// Stops a query: its task is aborted (DataFusion's streams are dropped) and it ends CANCELLED.
/// Stopping a finished query changes nothing.
pub(crate) fn stop(inner: &Inner, id: &str) -> Result<(), ApiError> {
    let mut table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
    let Some(q) = table.by_id.get_mut(id) else {
        return Err(not_found(id));
    };
    if q.state.is_terminal() {
        return Ok(());
    }
    if let Some(abort) = q.abort.take() {
        abort.abort();
    }
    q.state = QueryState::Cancelled;
    q.reason = Some("Query cancelled by user".into());
    q.completed = Some(Utc::now());
    let _ = std::fs::remove_file(inner.storage.temp_path(&format!("{id}.csv")));
    Ok(())
}

pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::invalid_request(format!("QueryExecution {id} was not found"))
}

/// What a job needs from its record.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) sql: String,
    pub(crate) database: String,
    pub(crate) result_path: PathBuf,
    pub(crate) output_location: Option<String>,
}

/// What a successful job produced.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) columns: Vec<ColumnInfo>,
    pub(crate) rows: u64,
    pub(crate) bytes_scanned: u64,
    pub(crate) manifest_location: Option<String>,
}

async fn run(inner: Arc<Inner>, id: String) {
    let _guard = ActiveGuard::enter(&inner.active_tasks);
    let (queue, run_latency) = inner.latencies();
    if !queue.is_zero() {
        tokio::time::sleep(queue).await;
    }
    let job = {
        let mut table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
        let Some(q) = table.by_id.get_mut(&id) else {
            return;
        };
        if q.state != QueryState::Queued {
            return;
        }
        q.state = QueryState::Running;
        q.running_since = Some(Utc::now());
        Job {
            id: id.clone(),
            sql: q.exec_sql.clone(),
            database: q
                .database
                .clone()
                .map(|d| d.to_ascii_lowercase())
                .unwrap_or_else(|| crate::catalog::DEFAULT_DATABASE.to_owned()),
            result_path: q.result_path.clone(),
            output_location: q.output_location.clone(),
        }
    };
    let delay = run_latency + inner.faults.slow_query();
    if !delay.is_zero() {
        // While it runs, DataScannedInBytes shows the bytes of the tables the query reads, as
        // Athena's counter would once it has read them (a client's MaxBytesScanned sees it).
        if let Some(bytes) = table_bytes(&inner, &job).await {
            let mut table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(q) = table.by_id.get_mut(&id) {
                q.bytes_scanned = bytes;
            }
        }
        tokio::time::sleep(delay).await;
    }
    let result = execute(&inner, &job).await;
    let mut table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
    let Some(q) = table.by_id.get_mut(&id) else {
        return;
    };
    if q.state.is_terminal() {
        return;
    }
    q.completed = Some(Utc::now());
    q.abort = None;
    match result {
        Ok(outcome) => {
            q.state = QueryState::Succeeded;
            q.columns = outcome.columns;
            q.rows = outcome.rows;
            q.bytes_scanned = outcome.bytes_scanned;
            q.manifest_location = outcome.manifest_location;
        }
        Err(error) => {
            q.state = QueryState::Failed;
            q.reason = Some(error.message.clone());
            q.error = Some(error);
        }
    }
}

/// The size of the tables a SELECT reads (every format), or `None` for other statements.
async fn table_bytes(inner: &Inner, job: &Job) -> Option<u64> {
    let text = sql::normalize(&job.sql);
    if !matches!(sql::parse_unload(&text), Ok(None)) {
        return None;
    }
    let planned = plan(inner, &job.database, &text).await.ok()?;
    let plan = planned.frame.logical_plan();
    Some(
        read_tables(plan, &job.database)
            .iter()
            .filter_map(|(db, t)| inner.catalog.table(db, t))
            .map(|t| t.bytes)
            .sum(),
    )
}

async fn execute(inner: &Inner, job: &Job) -> Result<Outcome, AthenaError> {
    check_output_bucket(inner, job.output_location.as_deref())?;
    if let Some(unload) = sql::parse_unload(&sql::normalize(&job.sql))? {
        return unload::run(inner, job, &unload).await;
    }
    let (columns, mut run) = select(inner, &job.database, &job.sql).await?;
    let rows = write_csv(inner, job, &mut run, &columns).await?;
    Ok(Outcome {
        columns,
        rows,
        bytes_scanned: run.bytes_scanned(),
        manifest_location: None,
    })
}

/// Starts a SELECT on the emulator's engine: its result columns and its running execution.
pub(crate) async fn select(
    inner: &Inner,
    database: &str,
    sql: &str,
) -> Result<(Vec<ColumnInfo>, Execution), AthenaError> {
    if let Some(trino) = &inner.trino {
        let text = sql.trim().trim_end_matches(';').trim_end();
        let (columns, rows) = trino.select(database, text).await?;
        return Ok((
            columns,
            Execution {
                source: Source::Trino(rows.shared),
                stream: rows.stream,
            },
        ));
    }
    let planned = plan(inner, database, &sql::normalize(sql)).await?;
    let columns = planned.columns.clone();
    let run = Execution::start(planned.frame, planned.bytes_scanned).await?;
    Ok((columns, run))
}

/// Where a running query's rows come from.
enum Source {
    /// DataFusion's physical plan (for the bytes its Parquet scans read) and the bytes of the
    /// other tables it scans.
    DataFusion {
        plan: Arc<dyn ExecutionPlan>,
        planned_bytes: u64,
    },
    /// Trino's statistics and error.
    Trino(Arc<crate::trino::Shared>),
}

/// A running query: its rows, and what DataScannedInBytes is made of.
pub(crate) struct Execution {
    source: Source,
    pub(crate) stream: SendableRecordBatchStream,
}

impl Execution {
    async fn start(frame: DataFrame, planned_bytes: u64) -> Result<Self, AthenaError> {
        let task = Arc::new(frame.task_ctx());
        let plan = frame
            .create_physical_plan()
            .await
            .map_err(|e| AthenaError::from_datafusion(&e))?;
        let stream = execute_stream(Arc::clone(&plan), task)
            .map_err(|e| AthenaError::from_datafusion(&e))?;
        Ok(Self {
            source: Source::DataFusion {
                plan,
                planned_bytes,
            },
            stream,
        })
    }

    /// DataScannedInBytes so far. DataFusion: the bytes the Parquet scans of the plan read
    /// (only the partitions left after pruning and only the column chunks of the selected
    /// columns, like Athena's figure for Parquet tables) plus the other tables' sizes. Trino:
    /// its `physicalInputBytes`.
    pub(crate) fn bytes_scanned(&self) -> u64 {
        fn walk(plan: &Arc<dyn ExecutionPlan>) -> u64 {
            let own = plan
                .metrics()
                .and_then(|m| m.sum_by_name("bytes_scanned"))
                .map_or(0, |v| v.as_usize() as u64);
            own + plan.children().into_iter().map(walk).sum::<u64>()
        }
        match &self.source {
            Source::DataFusion {
                plan,
                planned_bytes,
            } => planned_bytes + walk(plan),
            Source::Trino(shared) => crate::trino::TrinoRows::bytes_scanned(shared),
        }
    }

    /// The query's error for an error its stream ended with.
    pub(crate) fn error(&self, error: &datafusion::error::DataFusionError) -> AthenaError {
        match &self.source {
            Source::Trino(shared) => crate::trino::TrinoRows::error(shared)
                .unwrap_or_else(|| AthenaError::system(format!("GENERIC_INTERNAL_ERROR: {error}"))),
            Source::DataFusion { .. } => AthenaError::from_datafusion(error),
        }
    }
}

/// A planned SELECT.
pub(crate) struct Planned {
    pub(crate) frame: DataFrame,
    pub(crate) columns: Vec<ColumnInfo>,
    pub(crate) bytes_scanned: u64,
}

/// Parses and plans a query in `database`; only queries are allowed (no DDL, DML or SET).
pub(crate) async fn plan(
    inner: &Inner,
    database: &str,
    text: &str,
) -> Result<Planned, AthenaError> {
    let mut state = inner.catalog.context().state();
    state.config_mut().options_mut().catalog.default_schema = database.to_owned();
    let mut statement = state
        .sql_to_statement(text, &Dialect::Generic)
        .map_err(|e| AthenaError::from_datafusion(&e))?;
    super::json::rewrite_casts(&mut statement);
    let hints = sql::projection_hints(&statement);
    let plan = state
        .statement_to_plan(statement)
        .await
        .map_err(|e| AthenaError::from_datafusion(&e))?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&plan)
        .map_err(|e| AthenaError::not_supported(format!("the emulator runs queries only: {e}")))?;
    let bytes_scanned = scanned_bytes(inner, &plan, database);
    let frame = DataFrame::new(state, plan);
    let names: Vec<String> = frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let labels = sql::labels(&hints, &names);
    let columns = frame
        .schema()
        .fields()
        .iter()
        .zip(labels)
        .map(|(f, label)| ColumnInfo {
            name: label.clone(),
            label,
            athena_type: if f
                .metadata()
                .get(super::json::ATHENA_TYPE_KEY)
                .map(String::as_str)
                == Some("json")
            {
                AthenaType::json()
            } else {
                athena_type(f.data_type())
            },
        })
        .collect();
    Ok(Planned {
        frame,
        columns,
        bytes_scanned,
    })
}

/// Bytes of the CSV files and registered batches of every table the plan scans (all of them:
/// the emulator does not measure what those scans skip); Parquet tables are counted from the
/// scan's metrics while the query runs ([`Execution::parquet_bytes_read`]).
fn scanned_bytes(inner: &Inner, plan: &LogicalPlan, database: &str) -> u64 {
    read_tables(plan, database)
        .iter()
        .filter_map(|(db, t)| inner.catalog.table(db, t))
        .filter(|t| t.format != TableFormat::Parquet)
        .map(|t| t.bytes)
        .sum()
}

/// The (database, table) of every table `plan` reads, once each.
fn read_tables(plan: &LogicalPlan, database: &str) -> Vec<(String, String)> {
    let mut tables = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let resolved = scan.table_name.clone().resolve(DF_CATALOG, database);
            let key = (resolved.schema.to_string(), resolved.table.to_string());
            if !tables.contains(&key) {
                tables.push(key);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    tables
}

/// Streams the query's rows into `<id>.csv` (temp file, renamed when complete) and writes
/// `<id>.csv.metadata`. Rows are never all held in memory.
async fn write_csv(
    inner: &Inner,
    job: &Job,
    run: &mut Execution,
    columns: &[ColumnInfo],
) -> Result<u64, AthenaError> {
    let io_err = |e: std::io::Error| AthenaError::system(format!("writing query results: {e}"));
    let tmp = inner.storage.temp_path(&format!("{}.csv", job.id));
    let file = tokio::fs::File::create(&tmp).await.map_err(io_err)?;
    let mut writer = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut buf = Vec::with_capacity(1 << 16);
    let header: Vec<Option<&str>> = columns.iter().map(|c| Some(c.label.as_str())).collect();
    encode_row(&header, &mut buf);
    writer.write_all(&buf).await.map_err(io_err)?;
    let mut rows = 0u64;
    let mut fields: Vec<Option<String>> = Vec::with_capacity(columns.len());
    while let Some(batch) = run.stream.next().await {
        let batch = batch.map_err(|e| run.error(&e))?;
        buf.clear();
        for row in 0..batch.num_rows() {
            fields.clear();
            fields.extend(
                batch
                    .columns()
                    .iter()
                    .map(|c| render::render(c.as_ref(), row)),
            );
            encode_row(&fields, &mut buf);
        }
        rows += batch.num_rows() as u64;
        writer.write_all(&buf).await.map_err(io_err)?;
    }
    writer.flush().await.map_err(io_err)?;
    drop(writer);
    if let Some(parent) = job.result_path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io_err)?;
    }
    tokio::fs::rename(&tmp, &job.result_path)
        .await
        .map_err(io_err)?;
    let meta = metadata::encode(&job.id, "", 0, columns);
    let meta_path = PathBuf::from(format!("{}.metadata", job.result_path.display()));
    inner.storage.put_path(&meta_path, &meta).map_err(io_err)?;
    Ok(rows)
}

/// Checks that the output bucket exists before running (Athena fails the query otherwise).
pub(crate) fn check_output_bucket(
    inner: &Inner,
    output_location: Option<&str>,
) -> Result<(), AthenaError> {
    if let Some(loc) = output_location.and_then(S3Location::parse)
        && !inner.storage.bucket_exists(&loc.bucket)
    {
        return Err(AthenaError::user(
            1000,
            format!("Unable to verify/create output bucket {}", loc.bucket),
        ));
    }
    Ok(())
}
