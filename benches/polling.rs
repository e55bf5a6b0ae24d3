//! Query-status polling benchmark (issue 5): how soon a finished query is noticed, and how many
//! GetQueryExecution calls waiting for it costs, for the runner's default [`PollPolicy`]
//! (50 ms, growing x1.5 up to 2 s) against two fixed-interval baselines measured in the same
//! run: every 100 ms (quick to notice, many calls) and every 2 s (few calls, slow to notice).
//!
//! The emulator keeps each query RUNNING for a set time; "overhead" is the wall time from
//! StartQueryExecution to the first result row minus that time (the detection delay plus the
//! emulator's own work, the same for every policy).
//!
//! ```text
//! cargo bench --bench polling        # queries of 0.05 s to 20 s
//! cargo test --bench polling         # smoke: 0.05 s and 0.3 s
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion_athena_config::ConnectionOptions;
use datafusion_athena_emulator::{Emulator, EmulatorHandle};
use datafusion_athena_scan::{AthenaRunner, PollPolicy, QueryExecutor, QueryMetrics};
use futures::StreamExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One policy under test.
struct Policy {
    name: &'static str,
    poll: PollPolicy,
}

fn policies() -> Vec<Policy> {
    let fixed = |ms| PollPolicy {
        initial: Duration::from_millis(ms),
        factor: 1.0,
        max: Duration::from_millis(ms),
    };
    vec![
        Policy {
            name: "default (50 ms x1.5, max 2 s)",
            poll: PollPolicy::default(),
        },
        Policy {
            name: "fixed 100 ms (baseline)",
            poll: fixed(100),
        },
        Policy {
            name: "fixed 2 s (baseline)",
            poll: fixed(2000),
        },
    ]
}

/// Wall time to the end of the result and the GetQueryExecution calls it took.
async fn measure(runner: &AthenaRunner) -> Result<(Duration, usize), BoxError> {
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    let metrics = QueryMetrics::detached();
    let started = Instant::now();
    let mut stream = runner.execute("SELECT n FROM t", schema, metrics.clone())?;
    let mut rows = 0;
    while let Some(b) = stream.next().await {
        rows += b?.num_rows();
    }
    if rows != 3 {
        return Err(format!("expected 3 rows, got {rows}").into());
    }
    Ok((started.elapsed(), metrics.status_polls.value()))
}

async fn emulator() -> Result<EmulatorHandle, BoxError> {
    let emu = Emulator::builder().start().await?;
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
    )?;
    emu.register_batches("default", "t", schema, vec![batch])?;
    Ok(emu)
}

async fn run(durations: &[Duration], repeat: usize) -> Result<(), BoxError> {
    let emu = emulator().await?;
    let options: ConnectionOptions = emu.connection_string().parse()?;
    println!(
        "\nPolling: wall time over the query's RUNNING time (overhead) and GetQueryExecution calls, mean of {repeat} queries.\n"
    );
    println!(
        "| query runs | policy | overhead ms | calls | overhead vs fixed 100 ms | calls vs fixed 2 s |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for &d in durations {
        emu.set_latencies(Duration::ZERO, d);
        let mut rows = Vec::new();
        for p in policies() {
            let runner = AthenaRunner::new(&options).await?.with_poll_policy(p.poll);
            let (mut wall, mut calls) = (Duration::ZERO, 0);
            for _ in 0..repeat {
                let (w, c) = measure(&runner).await?;
                wall += w;
                calls += c;
            }
            let overhead = (wall / repeat as u32).saturating_sub(d).as_secs_f64() * 1000.0;
            rows.push((p.name, overhead, calls as f64 / repeat as f64));
        }
        let fast = rows[1].1.max(1.0);
        let few = rows[2].2.max(1.0);
        for (name, overhead, calls) in &rows {
            println!(
                "| {:.2} s | {name} | {overhead:.0} | {calls:.1} | {:.2} | {:.2} |",
                d.as_secs_f64(),
                overhead / fast,
                calls / few
            );
        }
    }
    emu.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let bench = std::env::args().any(|a| a == "--bench");
    let (durations, repeat): (Vec<Duration>, usize) = if bench {
        (
            [50, 300, 1_000, 5_000, 20_000]
                .into_iter()
                .map(Duration::from_millis)
                .collect(),
            3,
        )
    } else {
        (
            [50, 300].into_iter().map(Duration::from_millis).collect(),
            1,
        )
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("polling: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&durations, repeat)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polling: {e}");
            ExitCode::FAILURE
        }
    }
}
