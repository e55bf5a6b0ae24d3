//! A local Athena-compatible service for tests, examples and benchmarks.
//!
//! One HTTP port on 127.0.0.1 speaks Athena's and Glue's `awsJson1.1` protocols and S3's REST
//! protocol (path-style). Every request's SigV4 signature is checked against the configured
//! credentials. Queries run with DataFusion over local Parquet/CSV files or registered record
//! batches; results are written as Athena writes them (`<id>.csv` + `<id>.csv.metadata`).
//!
//! ```no_run
//! # async fn demo() -> datafusion_athena_emulator::Result<()> {
//! let emu = datafusion_athena_emulator::Emulator::builder()
//!     .data_dir("testdata")
//!     .start()
//!     .await?;
//! println!("{}", emu.connection_string());
//! emu.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod athena;
mod builder;
mod catalog;
mod column_stats;
mod error;
mod faults;
mod glue;
mod log;
mod s3;
mod server;
mod sigv4;
mod sql_dump;
mod state;
mod storage;
mod sts;
mod trino;
mod types;
mod wire;

pub use athena::query::QueryState;
pub use builder::{
    ACCOUNT_ID, DEFAULT_ACCESS_KEY, DEFAULT_REGION, DEFAULT_SECRET_KEY,
    DEFAULT_UNLOAD_ROWS_PER_FILE, Emulator, EmulatorBuilder, EmulatorHandle, RESULTS_BUCKET,
    STAGING_DIR,
};
pub use error::{Error, Result};
pub use faults::{Faults, ThrottleKind};
pub use log::{RequestRecord, Service};
pub use sql_dump::{SQL_DUMP_ENV, dump_sql};
pub use trino::{Engine, TRINO_URL_ENV, TRINO_VERSION, TrinoServer, shared_trino_url};
