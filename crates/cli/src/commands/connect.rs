//! The session the query commands share: the connection options (from `--connection`, or the
//! in-process emulator of `--emulator` with `--connection` on top), the Athena catalogs, and
//! DataFusion's dynamic file catalog for quoted local paths.

use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use datafusion_athena_catalog::register_athena_with_options;
use datafusion_athena_config::ConnectionOptions;
use datafusion_athena_emulator::{Emulator, EmulatorHandle};

use crate::cli::Cli;
use crate::commands::CommandError;

/// A connected session; holds the in-process emulator (if any) alive as long as it lives.
pub(crate) struct Session {
    /// The DataFusion context: Athena catalogs (default catalog and schema from the
    /// connection), `information_schema`, and quoted local paths as tables.
    pub(crate) ctx: SessionContext,
    /// The connection options the catalogs were registered with.
    pub(crate) options: ConnectionOptions,
    emulator: Option<EmulatorHandle>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.ctx.session_id())
            .field("emulator", &self.emulator.as_ref().map(|e| e.endpoint()))
            .finish()
    }
}

impl Session {
    /// Stops the in-process emulator, if any.
    pub(crate) async fn close(self) {
        drop(self.ctx);
        if let Some(emu) = self.emulator {
            emu.shutdown().await;
        }
    }
}

/// The connection options and the started emulator of `--emulator` (if given).
pub(crate) async fn options(
    cli: &Cli,
) -> Result<(ConnectionOptions, Option<EmulatorHandle>), CommandError> {
    let Some(dir) = &cli.emulator else {
        return Ok((cli.connection_options().map_err(CommandError::usage)?, None));
    };
    if !dir.is_dir() {
        return Err(CommandError::usage(format!(
            "--emulator {}: not a directory; give a directory holding <database>/<table>/ folders of Parquet or CSV files",
            dir.display()
        )));
    }
    let emu = Emulator::builder()
        .data_dir(dir)
        .engine(cli.emulator_engine.into())
        .start()
        .await
        .map_err(|e| CommandError::failure(format!("cannot start the emulator: {e}")))?;
    match cli.connection_options_over(&emu.connection_string()) {
        Ok(opts) => Ok((opts, Some(emu))),
        Err(e) => {
            emu.shutdown().await;
            Err(CommandError::usage(e))
        }
    }
}

/// Connects: registers the Athena catalogs, then wraps the catalogs so that a quoted path
/// (`'local.parquet'`) that names no Athena table reads the local file.
pub(crate) async fn connect(cli: &Cli) -> Result<Session, CommandError> {
    let (opts, emulator) = options(cli).await?;
    let ctx = SessionContext::new();
    if let Err(e) = register_athena_with_options(&ctx, &opts).await {
        if let Some(emu) = emulator {
            emu.shutdown().await;
        }
        return Err(CommandError::failure(format!("cannot connect: {e}")));
    }
    // After the Athena catalogs, so that the dynamic file catalog wraps them.
    let ctx = ctx.enable_url_table();
    Ok(Session {
        ctx,
        options: opts,
        emulator,
    })
}

/// A query error as one line: planning and SQL errors are the user's (exit 2), the rest
/// failures (exit 1).
pub(crate) fn query_error(e: DataFusionError) -> CommandError {
    let message = one_line(&e.to_string());
    match e.find_root() {
        DataFusionError::SQL(..) | DataFusionError::Plan(..) | DataFusionError::SchemaError(..) => {
            CommandError::usage(message)
        }
        _ => CommandError::failure(message),
    }
}

/// `text` on one line (newlines folded into spaces).
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
