//! The Trino engine: StartQueryExecution's SELECTs (and UNLOAD's inner SELECT) run on a Trino
//! server, through a Hive catalog over the emulator's own Glue and S3 endpoints.
//!
//! Each emulator creates its own catalog on the server (`CREATE CATALOG emu_<id> USING hive`,
//! `catalog.management=dynamic`), so that one shared server (`ATHENA_TRINO_URL`) can serve
//! many emulators at once; `awsdatacatalog.` in a statement is pointed at that catalog, and
//! the catalog's name in Trino's messages is turned back into `awsdatacatalog`.

mod client;
pub(crate) mod convert;
pub(crate) mod files;
mod server;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

pub use server::{TRINO_VERSION, TrinoServer};

use crate::athena::query::{AthenaError, ColumnInfo};
use crate::error::{Error, Result};
use client::{Client, QueryError, Response};
use convert::{Cell, ColumnBuilder, TrinoType, parse_signature};

/// The environment variable naming a running Trino server (`http://127.0.0.1:PORT`) for the
/// Trino engine to use instead of starting its own.
pub const TRINO_URL_ENV: &str = "ATHENA_TRINO_URL";

/// The URL of one Trino server shared by everything in this process: `ATHENA_TRINO_URL` if
/// set, else a server started on first use (from `scripts/trino install`'s installation, or
/// `TRINO_HOME`) that stops when the process exits. Tests share it so that they pay Trino's
/// start-up (tens of seconds) once.
pub async fn shared_trino_url() -> Result<String> {
    static SHARED: tokio::sync::OnceCell<std::result::Result<String, String>> =
        tokio::sync::OnceCell::const_new();
    static SERVER: std::sync::OnceLock<TrinoServer> = std::sync::OnceLock::new();
    let url = SHARED
        .get_or_init(|| async {
            if let Ok(url) = std::env::var(TRINO_URL_ENV)
                && !url.is_empty()
            {
                return Ok(url);
            }
            let server = TrinoServer::start().await.map_err(|e| e.to_string())?;
            let url = server.url().to_owned();
            // Kept for the life of the process; its guard shell stops it when the process ends.
            let _ = SERVER.set(server);
            Ok(url)
        })
        .await;
    url.clone().map_err(Error::trino)
}

/// The SQL engine that runs the emulator's queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// DataFusion, in process (the default; needs nothing installed).
    #[default]
    DataFusion,
    /// Trino, the engine Athena (engine v3) runs: a server started from the installation
    /// `scripts/trino install` makes (or `TRINO_HOME`), or the one `ATHENA_TRINO_URL` names.
    Trino,
}

impl std::str::FromStr for Engine {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "datafusion" => Ok(Self::DataFusion),
            "trino" => Ok(Self::Trino),
            _ => Err(Error::invalid("engine", s, "use trino or datafusion")),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::DataFusion => "datafusion",
            Self::Trino => "trino",
        })
    }
}

/// What the Trino catalog of one emulator needs to reach it.
pub(crate) struct Endpoint<'a> {
    pub(crate) url: &'a str,
    pub(crate) region: &'a str,
    pub(crate) access_key: &'a str,
    pub(crate) secret_key: &'a str,
}

/// One emulator's connection to Trino.
pub(crate) struct TrinoEngine {
    client: Client,
    catalog: String,
    dropped: Mutex<bool>,
    server: Mutex<Option<TrinoServer>>,
}

impl std::fmt::Debug for TrinoEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrinoEngine")
            .field("url", &self.client.base())
            .field("catalog", &self.catalog)
            .finish_non_exhaustive()
    }
}

fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

impl TrinoEngine {
    /// Connects to `url` (or, without one, starts a server) and creates this emulator's
    /// catalog there.
    pub(crate) async fn connect(url: Option<String>, endpoint: &Endpoint<'_>) -> Result<Self> {
        let (url, server) = match url {
            Some(url) => (url, None),
            None => {
                let server = TrinoServer::start().await?;
                (server.url().to_owned(), Some(server))
            }
        };
        let catalog = format!("emu_{}", uuid::Uuid::new_v4().simple());
        let engine = Self {
            client: Client::new(&url),
            catalog,
            dropped: Mutex::new(false),
            server: Mutex::new(server),
        };
        let properties = [
            ("hive.metastore", "glue"),
            ("hive.metastore.glue.region", endpoint.region),
            ("hive.metastore.glue.endpoint-url", endpoint.url),
            ("hive.metastore.glue.aws-access-key", endpoint.access_key),
            ("hive.metastore.glue.aws-secret-key", endpoint.secret_key),
            ("hive.metastore.glue.partitions-segments", "1"),
            ("fs.native-s3.enabled", "true"),
            ("s3.endpoint", endpoint.url),
            ("s3.path-style-access", "true"),
            ("s3.region", endpoint.region),
            ("s3.aws-access-key", endpoint.access_key),
            ("s3.aws-secret-key", endpoint.secret_key),
            ("hive.table-statistics-enabled", "false"),
            ("hive.timestamp-precision", "MILLISECONDS"),
        ];
        let with = properties
            .iter()
            .map(|(k, v)| format!("\"{k}\" = {}", quote(v)))
            .collect::<Vec<_>>()
            .join(", ");
        let create = format!("CREATE CATALOG {} USING hive WITH ({with})", engine.catalog);
        engine.client.execute(&create).await.map_err(|e| {
            Error::trino(format!(
                "creating the emulator's catalog on Trino at {url}: {e}"
            ))
        })?;
        Ok(engine)
    }

    /// Drops the catalog and stops a server this engine started.
    pub(crate) async fn close(&self) {
        let drop_catalog = {
            let mut dropped = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
            !std::mem::replace(&mut *dropped, true)
        };
        if drop_catalog {
            let _ = self
                .client
                .execute(&format!("DROP CATALOG IF EXISTS {}", self.catalog))
                .await;
        }
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut server) = server {
            let _ = tokio::task::spawn_blocking(move || server.stop()).await;
        }
    }

    /// The message of a Trino error as Athena shows it: `ERROR_NAME: message`, the catalog
    /// called by its Athena name.
    fn error(&self, error: &QueryError) -> AthenaError {
        let message = format!("{}: {}", error.error_name, error.message)
            .replace(&self.catalog, crate::catalog::DF_CATALOG);
        let (category, error_type, retryable) =
            match (error.error_type.as_str(), error.error_name.as_str()) {
                (_, "TABLE_NOT_FOUND" | "SCHEMA_NOT_FOUND" | "CATALOG_NOT_FOUND") => {
                    (2, 1110, false)
                }
                (
                    "USER_ERROR",
                    "SYNTAX_ERROR"
                    | "COLUMN_NOT_FOUND"
                    | "TYPE_MISMATCH"
                    | "FUNCTION_NOT_FOUND"
                    | "NOT_SUPPORTED"
                    | "MISSING_ATTRIBUTE"
                    | "AMBIGUOUS_NAME"
                    | "INVALID_LITERAL"
                    | "EXPRESSION_NOT_AGGREGATE"
                    | "MISSING_GROUP_BY"
                    | "INVALID_CAST_ARGUMENT"
                    | "DUPLICATE_COLUMN_NAME",
                ) => (2, 1006, false),
                ("USER_ERROR", _) => (2, 1100, false),
                ("INSUFFICIENT_RESOURCES", _) => (1, 1002, false),
                _ => (1, 1000, true),
            };
        AthenaError {
            category,
            error_type,
            retryable,
            message,
        }
    }

    /// Starts a SELECT in `database`; returns its columns and its rows as Arrow batches once
    /// Trino knows the columns.
    pub(crate) async fn select(
        self: &Arc<Self>,
        database: &str,
        sql: &str,
    ) -> Result<(Vec<ColumnInfo>, TrinoRows), AthenaError> {
        let sql = crate::athena::sql::replace_catalog(sql, &self.catalog);
        let transport =
            |e: client::ClientError| AthenaError::system(format!("GENERIC_INTERNAL_ERROR: {e}"));
        let mut response = self
            .client
            .submit(&sql, Some(&self.catalog), Some(database))
            .await
            .map_err(transport)?;
        let shared = Arc::new(Shared::default());
        loop {
            shared.record(&response);
            if let Some(error) = &response.error {
                return Err(self.error(error));
            }
            if response.columns.is_some() || response.next_uri.is_none() {
                break;
            }
            let next = response.next_uri.clone().unwrap_or_default();
            response = self.client.next(&next).await.map_err(transport)?;
        }
        let columns = response.columns.clone().unwrap_or_default();
        let mut types = Vec::with_capacity(columns.len());
        let mut infos = Vec::with_capacity(columns.len());
        let mut fields = Vec::with_capacity(columns.len());
        for column in &columns {
            let ty = parse_signature(&column.type_signature).map_err(|e| {
                AthenaError::system(format!(
                    "GENERIC_INTERNAL_ERROR: column {} of type {}: {e}",
                    column.name, column.type_name
                ))
            })?;
            infos.push(ColumnInfo {
                name: column.name.clone(),
                label: column.name.clone(),
                athena_type: ty.athena(),
            });
            fields.push(Field::new(&column.name, ty.arrow(), true));
            types.push(ty);
        }
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let poll = Poll {
            engine: Arc::clone(self),
            next: response.next_uri.clone(),
            first: Some(response),
            builders: types.iter().map(ColumnBuilder::new).collect(),
            types,
            schema: Arc::clone(&schema),
            shared: Arc::clone(&shared),
        };
        let stream = futures::stream::unfold(poll, Poll::step);
        Ok((
            infos,
            TrinoRows {
                stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
                shared,
            },
        ))
    }
}

impl Drop for TrinoEngine {
    fn drop(&mut self) {
        let dropped = *self.dropped.lock().unwrap_or_else(|e| e.into_inner());
        if dropped {
            return;
        }
        // Dropped without `close`: drop the catalog from a thread of its own (no runtime may
        // be running here); the server, if this engine started it, stops as it is dropped.
        let client = self.client.clone();
        let statement = format!("DROP CATALOG IF EXISTS {}", self.catalog);
        let _ = std::thread::Builder::new()
            .name("trino-drop-catalog".into())
            .spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = runtime.block_on(client.execute(&statement));
                }
            });
    }
}

/// What a running query's stream tells its reader besides rows.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    bytes: AtomicU64,
    error: Mutex<Option<AthenaError>>,
}

impl Shared {
    fn record(&self, response: &Response) {
        let bytes = response.stats.physical_input_bytes;
        self.bytes.fetch_max(bytes, Ordering::Relaxed);
    }
}

/// A Trino query's rows.
pub(crate) struct TrinoRows {
    pub(crate) stream: datafusion::execution::SendableRecordBatchStream,
    pub(crate) shared: Arc<Shared>,
}

impl TrinoRows {
    /// DataScannedInBytes: Trino's `physicalInputBytes` so far.
    pub(crate) fn bytes_scanned(shared: &Shared) -> u64 {
        shared.bytes.load(Ordering::Relaxed)
    }

    /// The query's own error, if the stream ended with one.
    pub(crate) fn error(shared: &Shared) -> Option<AthenaError> {
        shared
            .error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

struct Poll {
    engine: Arc<TrinoEngine>,
    next: Option<String>,
    first: Option<Response>,
    types: Vec<TrinoType>,
    builders: Vec<ColumnBuilder>,
    schema: SchemaRef,
    shared: Arc<Shared>,
}

impl Poll {
    fn fail(mut self, error: AthenaError) -> Option<(Result<RecordBatch, DataFusionError>, Self)> {
        let message = error.message.clone();
        *self.shared.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
        self.next = None;
        Some((Err(DataFusionError::Execution(message)), self))
    }

    async fn step(mut self) -> Option<(Result<RecordBatch, DataFusionError>, Self)> {
        loop {
            let response = match self.first.take() {
                Some(response) => response,
                None => {
                    let next = self.next.take()?;
                    match self.engine.client.next(&next).await {
                        Ok(response) => response,
                        Err(e) => {
                            return self
                                .fail(AthenaError::system(format!("GENERIC_INTERNAL_ERROR: {e}")));
                        }
                    }
                }
            };
            self.shared.record(&response);
            self.next = response.next_uri.clone();
            if let Some(error) = &response.error {
                let error = self.engine.error(error);
                return self.fail(error);
            }
            let Some(data) = response.data else { continue };
            if data.is_empty() {
                continue;
            }
            return match self.batch(&data) {
                Ok(batch) => Some((Ok(batch), self)),
                Err(e) => self.fail(AthenaError::system(format!(
                    "GENERIC_INTERNAL_ERROR: reading Trino's rows: {e}"
                ))),
            };
        }
    }

    fn batch(
        &mut self,
        data: &[Vec<Box<serde_json::value::RawValue>>],
    ) -> Result<RecordBatch, String> {
        for row in data {
            if row.len() != self.types.len() {
                return Err(format!(
                    "a row of {} values for {} columns",
                    row.len(),
                    self.types.len()
                ));
            }
            for ((builder, ty), value) in self.builders.iter_mut().zip(&self.types).zip(row) {
                builder.append(ty, Cell::Json(value))?;
            }
        }
        let columns = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new(Arc::clone(&self.schema), columns).map_err(|e| e.to_string())
    }
}

impl Drop for Poll {
    fn drop(&mut self) {
        // A query whose stream is dropped before its end (StopQueryExecution) is cancelled.
        if let Some(next) = self.next.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let client = self.engine.client.clone();
            runtime.spawn(async move { client.cancel(&next).await });
        }
    }
}
