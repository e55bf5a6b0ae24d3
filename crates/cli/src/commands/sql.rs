//! `datafusion-athena sql "STATEMENT"`: run one statement, print its result.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::physical_plan::execute_stream;
use futures::StreamExt;

use crate::cli::Cli;
use crate::commands::connect::{Session, connect, query_error};
use crate::commands::output::{self, Format};
use crate::commands::progress::{ProgressLine, SystemClock, snapshot};
use crate::commands::summary::athena_queries;
use crate::commands::{CommandError, runtime};

/// How long a Ctrl-C waits for the spawned StopQueryExecution of an abandoned scan.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// How often the progress line is redrawn.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Arguments of `sql`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The statement, e.g. "SELECT * FROM sampledb.elb_logs LIMIT 10" or
    /// "SELECT * FROM 'local.parquet'".
    statement: String,
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the result to FILE instead of stdout (required for parquet).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Do not print the summary of the Athena queries (SQL sent, bytes scanned) on stderr, nor
    /// the progress line shown while they run (on a terminal only).
    #[arg(long)]
    quiet: bool,
}

/// Runs the statement and prints its result; Ctrl-C drops the result stream (stopping the
/// running Athena queries) before the runtime shuts down.
pub(crate) fn run(cli: &Cli, args: &Args) -> Result<(), CommandError> {
    let sink = output::sink(args.format, args.output.as_deref())?;
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let session = connect(cli).await?;
        let outcome = tokio::select! {
            r = collect(&session, &args.statement, args.quiet) => r,
            _ = tokio::signal::ctrl_c() => {
                // The stream was dropped with the `collect` future: each scan's drop spawned
                // its StopQueryExecution; let those run before the runtime goes away.
                tokio::time::sleep(STOP_GRACE).await;
                Err(CommandError::interrupted())
            }
        };
        session.close().await;
        outcome
    });
    let (schema, batches) = result?;
    output::write(args.format, &schema, &batches, sink)
}

async fn collect(
    session: &Session,
    statement: &str,
    quiet: bool,
) -> Result<(datafusion::arrow::datatypes::SchemaRef, Vec<RecordBatch>), CommandError> {
    let df = session.ctx.sql(statement).await.map_err(query_error)?;
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await.map_err(query_error)?;
    let mut stream = execute_stream(Arc::clone(&plan), task).map_err(query_error)?;
    let schema = stream.schema();
    let mut batches = Vec::new();
    // The progress line only on a terminal: pipes and files get nothing.
    let mut progress = (!quiet && std::io::stderr().is_terminal())
        .then(|| ProgressLine::new(std::io::stderr(), SystemClock));
    let mut ticks = tokio::time::interval(PROGRESS_INTERVAL);
    loop {
        tokio::select! {
            batch = stream.next() => match batch {
                Some(batch) => batches.push(batch.map_err(query_error)?),
                None => break,
            },
            _ = ticks.tick(), if progress.is_some() => {
                if let Some(line) = progress.as_mut() {
                    line.draw(&snapshot(&plan));
                }
            }
        }
    }
    // Erased before the summary is printed (and by its drop on an error).
    drop(progress);
    if !quiet {
        for query in athena_queries(&plan, &session.options) {
            eprintln!("{query}");
        }
    }
    Ok((schema, batches))
}
