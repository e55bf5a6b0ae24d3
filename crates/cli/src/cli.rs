//! The command line: global options and the subcommands.

use clap::{Parser, Subcommand};
use datafusion_athena_config::{CONNECTION_ENV, ConnectionOptions, Result};

use crate::commands::{check, emulator};

/// Query Amazon Athena with Apache DataFusion.
#[derive(Debug, Parser)]
#[command(name = "datafusion-athena", version, about)]
pub(crate) struct Cli {
    /// The connection string, e.g. "AWSRegion=IRELAND;Database=sampledb;" (see
    /// docs/connection-string.md). Unset values fall back to the standard AWS environment.
    #[arg(long, global = true, env = CONNECTION_ENV, hide_env_values = true, value_name = "STR")]
    pub(crate) connection: Option<String>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse and validate the connection, print the resolved options as JSON (secrets as "***").
    Check(check::Args),
    /// Serve a directory of Parquet/CSV tables as a local Athena + Glue + S3 service and print
    /// a connection string for it.
    Emulator(emulator::Args),
}

impl Cli {
    /// The connection options: `--connection` (or `ATHENA_CONNECTION`) plus the standard AWS
    /// environment variables, validated.
    pub(crate) fn connection_options(&self) -> Result<ConnectionOptions> {
        ConnectionOptions::from_env_with(|name| {
            if name == CONNECTION_ENV {
                self.connection.clone()
            } else {
                std::env::var(name).ok()
            }
        })
    }
}
