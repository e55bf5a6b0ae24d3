//! One module per subcommand, plus the shared session setup ([`connect`]) and result
//! writers ([`output`]).

pub(crate) mod check;
pub(crate) mod connect;
pub(crate) mod emulator;
pub(crate) mod explain;
pub(crate) mod output;
pub(crate) mod progress;
pub(crate) mod sql;
pub(crate) mod summary;
pub(crate) mod whoami;

use crate::cli::{Cli, Command};

/// A failed command: what to print after `error: ` and the exit code.
#[derive(Debug)]
pub(crate) struct CommandError {
    pub(crate) message: String,
    pub(crate) exit_code: u8,
}

impl CommandError {
    /// Bad input from the user (connection string, arguments): exit code 2.
    pub(crate) fn usage(message: impl ToString) -> Self {
        Self {
            message: message.to_string(),
            exit_code: 2,
        }
    }

    /// A failure while running (not the input's fault): exit code 1.
    pub(crate) fn failure(message: impl ToString) -> Self {
        Self {
            message: message.to_string(),
            exit_code: 1,
        }
    }

    /// Interrupted by Ctrl-C: exit code 130, as shells report SIGINT.
    pub(crate) fn interrupted() -> Self {
        Self {
            message: "interrupted".into(),
            exit_code: 130,
        }
    }
}

/// Runs the chosen subcommand.
pub(crate) fn run(cli: &Cli) -> Result<(), CommandError> {
    match &cli.command {
        Command::Check(args) => check::run(cli, args),
        Command::Emulator(args) => emulator::run(cli, args),
        Command::Sql(args) => sql::run(cli, args),
        Command::Explain(args) => explain::run(cli, args),
        Command::Whoami(args) => whoami::run(cli, args),
    }
}

/// A multi-threaded tokio runtime for the commands that talk to services.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failure(format!("cannot start the async runtime: {e}")))
}
