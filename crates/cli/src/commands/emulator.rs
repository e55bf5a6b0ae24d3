//! `datafusion-athena emulator`: serve a directory as a local Athena + Glue + S3 service.

use std::path::PathBuf;

use datafusion_athena_emulator::Emulator;

use crate::cli::{Cli, EngineArg};
use crate::commands::CommandError;

/// Arguments of `emulator`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The data directory: `DIR/<database>/<table>/` holding Parquet or CSV files.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where result objects are stored (default: a temporary directory removed on exit).
    #[arg(long, value_name = "DIR")]
    storage: Option<PathBuf>,
    /// The database the printed connection string names (default: the only database in DIR,
    /// else `default`).
    #[arg(long, value_name = "NAME")]
    database: Option<String>,
    /// The SQL engine: datafusion (in process) or trino (needs `scripts/trino install`, or
    /// ATHENA_TRINO_URL naming a running Trino server).
    #[arg(long, value_enum, default_value_t = EngineArg::Datafusion)]
    engine: EngineArg,
}

/// Starts the emulator, prints one line holding a ready-to-use connection string on stdout, and
/// serves until interrupted (Ctrl-C).
pub(crate) fn run(_cli: &Cli, args: &Args) -> Result<(), CommandError> {
    if !args.data.is_dir() {
        return Err(CommandError::usage(format!(
            "--data {}: not a directory; give a directory holding <database>/<table>/ folders of Parquet or CSV files",
            args.data.display()
        )));
    }
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let mut builder = Emulator::builder()
            .data_dir(&args.data)
            .bind(format!("127.0.0.1:{}", args.port))
            .engine(args.engine.into());
        if let Some(storage) = &args.storage {
            builder = builder.storage_dir(storage);
        }
        if let Some(database) = &args.database {
            builder = builder.database(database);
        }
        let emu = builder.start().await.map_err(CommandError::failure)?;
        // The one line a script reads; it holds the emulator's own test key, not a user secret.
        println!("{}", emu.connection_string());
        eprintln!(
            "emulator serving {} at {} with {} (Ctrl-C to stop)",
            args.data.display(),
            emu.endpoint(),
            emu.engine()
        );
        tokio::signal::ctrl_c()
            .await
            .map_err(CommandError::failure)?;
        emu.shutdown().await;
        Ok(())
    })
}
