//! Starting the emulator: [`Emulator::builder`] -> [`EmulatorBuilder::start`] -> [`EmulatorHandle`].

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::Utc;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::athena::query::{QueryState, QueryTable};
use crate::catalog::{Catalog, DEFAULT_DATABASE};
use crate::error::{Error, Result};
use crate::faults::Faults;
use crate::log::{RequestLog, RequestRecord};
use crate::sigv4::Credential;
use crate::state::{Inner, Workgroup};
use crate::storage::{S3Location, Storage};
use crate::trino::{Endpoint, Engine, TrinoEngine};

/// Access key id the emulator accepts unless [`EmulatorBuilder::credentials`] says otherwise.
pub const DEFAULT_ACCESS_KEY: &str = "AKIDEMULATOR";
/// Secret key the emulator accepts unless [`EmulatorBuilder::credentials`] says otherwise.
pub const DEFAULT_SECRET_KEY: &str = "emulator-secret";
/// Region reported unless [`EmulatorBuilder::region`] says otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The bucket created at start for query results.
pub const RESULTS_BUCKET: &str = "athena-results";
/// The `primary` workgroup's output location (and the connection string's staging directory).
pub const STAGING_DIR: &str = "s3://athena-results/staging/";
/// The account id in ARNs and Glue `CatalogId`s.
pub const ACCOUNT_ID: &str = "123456789012";
/// Rows an UNLOAD writes to one Parquet file unless [`EmulatorBuilder::unload_rows_per_file`]
/// says otherwise.
pub const DEFAULT_UNLOAD_ROWS_PER_FILE: u64 = 1_000_000;

/// Entry point: `Emulator::builder()...start().await`.
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// A builder with the defaults: credentials [`DEFAULT_ACCESS_KEY`] / [`DEFAULT_SECRET_KEY`],
    /// region [`DEFAULT_REGION`], bind `127.0.0.1:0` (any free port), storage in a temporary
    /// directory, no data directory, workgroup `primary` writing to [`STAGING_DIR`].
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Settings of an emulator to start.
#[derive(Clone)]
pub struct EmulatorBuilder {
    data_dir: Option<PathBuf>,
    storage_dir: Option<PathBuf>,
    access_key: String,
    secret_key: String,
    region: String,
    bind: String,
    /// `None`: the data directory's only database, else `default`.
    database: Option<String>,
    queue_latency: Duration,
    run_latency: Duration,
    workgroups: Vec<(String, Option<String>)>,
    unload_rows_per_file: u64,
    engine: Engine,
    trino_url: Option<String>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            data_dir: None,
            storage_dir: None,
            access_key: DEFAULT_ACCESS_KEY.into(),
            secret_key: DEFAULT_SECRET_KEY.into(),
            region: DEFAULT_REGION.into(),
            bind: "127.0.0.1:0".into(),
            database: None,
            queue_latency: Duration::ZERO,
            run_latency: Duration::ZERO,
            workgroups: Vec::new(),
            unload_rows_per_file: DEFAULT_UNLOAD_ROWS_PER_FILE,
            engine: Engine::default(),
            trino_url: None,
        }
    }
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("data_dir", &self.data_dir)
            .field("storage_dir", &self.storage_dir)
            .field("access_key", &self.access_key)
            .field("secret_key", &"******")
            .field("region", &self.region)
            .field("bind", &self.bind)
            .field("database", &self.database)
            .field("queue_latency", &self.queue_latency)
            .field("run_latency", &self.run_latency)
            .field("workgroups", &self.workgroups)
            .field("unload_rows_per_file", &self.unload_rows_per_file)
            .field("engine", &self.engine)
            .field("trino_url", &self.trino_url)
            .finish()
    }
}

impl EmulatorBuilder {
    /// The SQL engine that runs queries: [`Engine::DataFusion`] (the default) or
    /// [`Engine::Trino`]. With Trino, [`start`](Self::start) connects to the server
    /// [`trino_url`](Self::trino_url) or `ATHENA_TRINO_URL` names, or else starts one (from
    /// `scripts/trino install`'s installation, or `TRINO_HOME`) that stops with the emulator.
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// A running Trino server (`http://127.0.0.1:PORT`) for [`Engine::Trino`] to use instead
    /// of `ATHENA_TRINO_URL` or a server of its own.
    pub fn trino_url(mut self, url: impl Into<String>) -> Self {
        self.trino_url = Some(url.into());
        self
    }

    /// Serves `DIR/<database>/<table>/` (Parquet or CSV files, Hive `key=value/` partitions).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Keeps S3 objects (query results, uploads) in `dir` instead of a temporary directory.
    pub fn storage_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.storage_dir = Some(dir.into());
        self
    }

    /// The only key pair requests may be signed with (more can be added at runtime with
    /// [`EmulatorHandle::add_credentials`]).
    pub fn credentials(
        mut self,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        self.access_key = access_key.into();
        self.secret_key = secret_key.into();
        self
    }

    /// The region in the connection string and bucket locations.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The address to listen on (`127.0.0.1:0` picks a free port).
    pub fn bind(mut self, addr: impl Into<String>) -> Self {
        self.bind = addr.into();
        self
    }

    /// The `Database` of the connection string. Without it: the one database of
    /// [`data_dir`](Self::data_dir) when it holds exactly one, otherwise `default`.
    pub fn database(mut self, name: impl Into<String>) -> Self {
        self.database = Some(name.into());
        self
    }

    /// How long queries stay QUEUED, and at least how long RUNNING.
    pub fn latencies(mut self, queue: Duration, run: Duration) -> Self {
        self.queue_latency = queue;
        self.run_latency = run;
        self
    }

    /// How many rows an UNLOAD writes to one Parquet file before it starts the next (default
    /// 1,000,000; at least 1). Athena splits large UNLOAD results over many files too.
    pub fn unload_rows_per_file(mut self, rows: u64) -> Self {
        self.unload_rows_per_file = rows.max(1);
        self
    }

    /// Adds a workgroup writing to `output_location` (`s3://bucket/prefix/`, its bucket is
    /// created), or with `None` a workgroup with managed query results (no OutputLocation;
    /// results only through GetQueryResults).
    pub fn workgroup(mut self, name: impl Into<String>, output_location: Option<&str>) -> Self {
        self.workgroups
            .push((name.into(), output_location.map(str::to_owned)));
        self
    }

    /// Starts serving; returns once the port is bound and the data directory is registered.
    pub async fn start(mut self) -> Result<EmulatorHandle> {
        if self.access_key.is_empty() || self.secret_key.is_empty() {
            return Err(Error::invalid(
                "credentials",
                "",
                "access key and secret key must not be empty",
            ));
        }
        let (root, tempdir) = match &self.storage_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::io(format!("creating storage directory {}", dir.display()), e)
                })?;
                (dir.clone(), None)
            }
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("athena-emulator-")
                    .tempdir()
                    .map_err(|e| Error::io("creating a temporary storage directory", e))?;
                (tmp.path().to_path_buf(), Some(tmp))
            }
        };
        let storage = Storage::new(root)?;
        let now = Utc::now();
        let mut workgroups = vec![Workgroup {
            name: "primary".into(),
            description: "Default workgroup of the emulator".into(),
            output_location: Some(STAGING_DIR.into()),
            managed: false,
            created: now,
        }];
        for (name, location) in &self.workgroups {
            if workgroups.iter().any(|w| &w.name == name) {
                return Err(Error::invalid(
                    "workgroup",
                    name.clone(),
                    "a workgroup with this name exists already",
                ));
            }
            workgroups.push(Workgroup {
                name: name.clone(),
                description: String::new(),
                output_location: location.clone(),
                managed: location.is_none(),
                created: now,
            });
        }
        for location in workgroups
            .iter()
            .filter_map(|w| w.output_location.as_deref())
        {
            let loc = S3Location::parse(location).ok_or_else(|| {
                Error::invalid(
                    "workgroup output location",
                    location,
                    "use s3://bucket/prefix/ with a valid bucket name",
                )
            })?;
            storage
                .create_bucket(&loc.bucket)
                .map_err(|e| Error::io(format!("creating bucket {}", loc.bucket), e))?;
        }
        let catalog = Catalog::new();
        let mut found = Vec::new();
        if let Some(dir) = &self.data_dir {
            found = catalog.register_data_dir(dir).await?;
        }
        let database = match (self.database.take(), found.as_slice()) {
            (Some(name), _) => name,
            (None, [only]) => only.clone(),
            (None, _) => DEFAULT_DATABASE.to_owned(),
        };
        // The server and its queries run on a runtime of their own, so a caller that blocks its
        // own runtime (a current-thread test waiting synchronously) cannot stall the emulator.
        let listener = std::net::TcpListener::bind(&self.bind)
            .map_err(|e| Error::io(format!("binding {}", self.bind), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("making the listening socket non-blocking", e))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("athena-emulator")
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the emulator's runtime", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io("reading the bound address", e))?;
        let trino = match self.engine {
            Engine::DataFusion => None,
            Engine::Trino => {
                for db in catalog.databases() {
                    for table in db.tables.values() {
                        crate::trino::files::publish_files(&storage, table)?;
                    }
                }
                let url = self.trino_url.clone().or_else(|| {
                    std::env::var(crate::trino::TRINO_URL_ENV)
                        .ok()
                        .filter(|u| !u.is_empty())
                });
                let endpoint = format!("http://127.0.0.1:{}", addr.port());
                let (region, ak, sk) = (
                    self.region.clone(),
                    self.access_key.clone(),
                    self.secret_key.clone(),
                );
                // On the emulator's runtime, where its queries will use the same connections.
                let engine = match runtime
                    .spawn(async move {
                        TrinoEngine::connect(
                            url,
                            &Endpoint {
                                url: &endpoint,
                                region: &region,
                                access_key: &ak,
                                secret_key: &sk,
                            },
                        )
                        .await
                    })
                    .await
                {
                    Ok(Ok(engine)) => engine,
                    failed => {
                        // A runtime must not be dropped (blocking) inside async code.
                        runtime.shutdown_background();
                        return Err(match failed {
                            Ok(Err(e)) => e,
                            _ => Error::trino("connecting to Trino: the task failed"),
                        });
                    }
                };
                Some(Arc::new(engine))
            }
        };
        let inner = Arc::new(Inner {
            region: self.region.clone(),
            account_id: ACCOUNT_ID.into(),
            credentials: RwLock::new(vec![Credential {
                access_key: self.access_key.clone(),
                secret_key: self.secret_key.clone(),
                session_token: None,
                expires: None,
                arn: None,
            }]),
            catalog,
            storage,
            queries: Mutex::new(QueryTable::default()),
            workgroups,
            faults: Faults::default(),
            log: RequestLog::default(),
            latencies: Mutex::new((self.queue_latency, self.run_latency)),
            unload_rows_per_file: self.unload_rows_per_file,
            active_tasks: Arc::new(AtomicUsize::new(0)),
            column_stats: Default::default(),
            trino,
        });
        let (tx, rx) = oneshot::channel::<()>();
        let router = crate::server::router(Arc::clone(&inner));
        let task = runtime.spawn(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                tracing::error!("the emulator's listening socket could not join its runtime");
                return;
            };
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(EmulatorHandle {
            inner,
            addr,
            access_key: self.access_key,
            secret_key: self.secret_key,
            region: self.region,
            database,
            shutdown: Arc::new(Mutex::new(Some((tx, task)))),
            _runtime: Arc::new(RuntimeGuard(Some(runtime))),
            _tempdir: Arc::new(tempdir),
        })
    }
}

type ServerTask = (oneshot::Sender<()>, JoinHandle<()>);

/// Owns the emulator's runtime; dropping it from async code must not block, so it shuts the
/// runtime down in the background.
struct RuntimeGuard(Option<tokio::runtime::Runtime>);

impl Drop for RuntimeGuard {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A running emulator. Cheap to clone; every clone controls the same server.
#[derive(Clone)]
pub struct EmulatorHandle {
    inner: Arc<Inner>,
    addr: SocketAddr,
    access_key: String,
    secret_key: String,
    region: String,
    database: String,
    shutdown: Arc<Mutex<Option<ServerTask>>>,
    _runtime: Arc<RuntimeGuard>,
    /// The temporary storage directory (none with `storage_dir`), removed when the last handle
    /// is dropped: after the runtime (declared above), and whether or not tasks still hold the
    /// state, so an emulator dropped without `shutdown` leaves nothing in the temp directory.
    _tempdir: Arc<Option<tempfile::TempDir>>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("endpoint", &self.endpoint())
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"******")
            .field("storage_dir", &self.inner.storage.root())
            .finish()
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`: the endpoint URL for Athena, Glue and S3 clients.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The region clients should sign for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The access key id requests are signed with.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key requests are signed with.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// `s3://athena-results/staging/`, the `primary` workgroup's output location.
    pub fn staging_dir(&self) -> String {
        STAGING_DIR.to_owned()
    }

    /// The directory holding the S3 buckets (`<dir>/<bucket>/<key>`).
    pub fn storage_dir(&self) -> &Path {
        self.inner.storage.root()
    }

    /// A ready-to-use connection string for this emulator. It holds the secret key: print it
    /// for a user on purpose only, never log it.
    pub fn connection_string(&self) -> String {
        format!(
            "AWSRegion={};AWSAccessKey={};AWSSecretKey={};S3StagingDirectory={};Endpoint={};Database={};",
            self.region,
            self.access_key,
            self.secret_key,
            self.staging_dir(),
            self.endpoint(),
            self.database
        )
    }

    /// Registers record batches as table `db.table` (the database is created if needed).
    pub fn register_batches(
        &self,
        db: &str,
        table: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        if self.inner.trino.is_some() {
            crate::trino::files::publish_batches(
                &self.inner.storage,
                db,
                table,
                &schema,
                &batches,
            )?;
        }
        self.inner
            .catalog
            .register_batches(db, table, schema, batches)
    }

    /// Registers Parquet or CSV files (a file or a directory, Hive partitions allowed) as
    /// table `db.table`.
    pub async fn register_files(
        &self,
        db: &str,
        table: &str,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        self.inner
            .catalog
            .register_files(db, table, path.as_ref())
            .await?;
        if self.inner.trino.is_some()
            && let Some(meta) = self.inner.catalog.table(db, table)
        {
            crate::trino::files::publish_files(&self.inner.storage, &meta)?;
        }
        Ok(())
    }

    /// Computes Glue column statistics for `db.table` (as a Glue column statistics task would),
    /// which `GetColumnStatisticsForTable` then answers; returns how many columns got them
    /// (timestamps and nested columns get none, as in Glue). Tables start without.
    pub async fn compute_column_statistics(&self, db: &str, table: &str) -> Result<usize> {
        crate::column_stats::compute(&self.inner, db, table).await
    }

    /// Every request answered so far, oldest first.
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.inner.log.snapshot()
    }

    /// Empties the request log.
    pub fn clear_request_log(&self) {
        self.inner.log.clear();
    }

    /// The runtime fault knobs.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The state of a query, or `None` for an unknown id.
    pub fn query_state(&self, id: &str) -> Option<QueryState> {
        let table = self.inner.queries.lock().unwrap_or_else(|e| e.into_inner());
        table.by_id.get(id).map(|q| q.state)
    }

    /// How many query tasks are alive (queued, running, or still unwinding).
    pub fn running_query_tasks(&self) -> usize {
        self.inner.active_tasks.load(Ordering::SeqCst)
    }

    /// Changes how long new queries stay QUEUED and at least RUNNING.
    pub fn set_latencies(&self, queue: Duration, run: Duration) {
        *self
            .inner
            .latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = (queue, run);
    }

    /// Accepts another key pair, optionally with a session token (for STS-issued credentials).
    pub fn add_credentials(&self, access_key: &str, secret_key: &str, session_token: Option<&str>) {
        let mut creds = self
            .inner
            .credentials
            .write()
            .unwrap_or_else(|e| e.into_inner());
        creds.retain(|c| c.access_key != access_key);
        creds.push(Credential {
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            session_token: session_token.map(str::to_owned),
            expires: None,
            arn: None,
        });
    }

    /// Makes credentials issued by the emulator's STS (or added with
    /// [`add_credentials`](Self::add_credentials)) expire now, as if their DurationSeconds had
    /// passed: requests signed with them then fail with AWS's expired-token error.
    pub fn expire_credentials(&self, access_key: &str) {
        let mut creds = self
            .inner
            .credentials
            .write()
            .unwrap_or_else(|e| e.into_inner());
        for c in creds.iter_mut().filter(|c| c.access_key == access_key) {
            c.expires = Some(Utc::now());
        }
    }

    /// Stops serving and cancels running queries. Later calls do nothing.
    pub async fn shutdown(&self) {
        let task = self
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        {
            let mut table = self.inner.queries.lock().unwrap_or_else(|e| e.into_inner());
            for q in table.by_id.values_mut() {
                if let Some(abort) = q.abort.take() {
                    abort.abort();
                }
            }
        }
        if let Some((tx, task)) = task {
            let _ = tx.send(());
            let _ = task.await;
        }
        if let Some(trino) = &self.inner.trino {
            trino.close().await;
        }
    }

    /// The engine that runs this emulator's queries.
    pub fn engine(&self) -> Engine {
        if self.inner.trino.is_some() {
            Engine::Trino
        } else {
            Engine::DataFusion
        }
    }
}
