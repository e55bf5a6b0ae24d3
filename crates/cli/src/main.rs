//! `datafusion-athena`: the command-line tool of datafusion-athena.
//!
//! Global options (the connection) live in [`cli::Cli`]; each subcommand is one module under
//! [`commands`] with an `Args` struct and a `run` function.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.exit_code)
        }
    }
}
