//! `datafusion-athena explain "STATEMENT"`: print the logical and physical plans.

use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::cli::Cli;
use crate::commands::connect::{connect, query_error};
use crate::commands::{CommandError, runtime};

/// Arguments of `explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The statement to explain (without `EXPLAIN`).
    statement: String,
    /// Print the plans with statistics and every intermediate plan (`EXPLAIN VERBOSE`).
    #[arg(long)]
    verbose: bool,
}

/// Prints the plan; the Athena SQL each scan sends is on its `AthenaExec` line.
pub(crate) fn run(cli: &Cli, args: &Args) -> Result<(), CommandError> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let session = connect(cli).await?;
        let verbose = if args.verbose { "VERBOSE " } else { "" };
        let sql = format!("EXPLAIN {verbose}{}", args.statement);
        let result = async {
            let batches = session
                .ctx
                .sql(&sql)
                .await
                .map_err(query_error)?
                .collect()
                .await
                .map_err(query_error)?;
            pretty_format_batches(&batches).map_err(|e| CommandError::failure(e.to_string()))
        }
        .await;
        session.close().await;
        println!("{}", result?);
        Ok(())
    })
}
