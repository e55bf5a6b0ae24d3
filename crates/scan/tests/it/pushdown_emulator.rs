//! The filter corpus end to end: the Athena runner against the project's emulator (Athena API,
//! result files in S3, SQL run by DataFusion), pushdown on versus off.

use std::time::Duration;

use crate::common::emulator_corpus;
use datafusion_athena_emulator::{Emulator, dump_sql};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_returns_the_same_rows_with_and_without_pushdown() {
    let emu = Emulator::builder()
        .latencies(Duration::from_millis(1), Duration::from_millis(1))
        .start()
        .await
        .expect("emulator starts");
    let (report, filters) = emulator_corpus(&emu).await;
    dump_sql(&report.statements).expect("ATHENA_SQL_DUMP");
    println!(
        "emulator corpus: {} of {} filters pushed Exact",
        report.exact, filters
    );
    assert!(
        report.failures.is_empty(),
        "{} failures:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
}
