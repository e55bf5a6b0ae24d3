//! `datafusion-athena check`: parse and validate the connection, print it as redacted JSON.

use crate::cli::Cli;
use crate::commands::CommandError;

/// Arguments of `check` (none yet).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Prints the resolved options as one JSON object (secrets as `"***"`); a connection that does
/// not parse or validate is a usage error (exit code 2).
pub(crate) fn run(cli: &Cli, _args: &Args) -> Result<(), CommandError> {
    let options = cli.connection_options().map_err(CommandError::usage)?;
    let json =
        serde_json::to_string_pretty(&options.to_redacted_json()).map_err(CommandError::failure)?;
    println!("{json}");
    Ok(())
}
