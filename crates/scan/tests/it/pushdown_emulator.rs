//! The filter corpus end to end: the Athena runner against the project's emulator (Athena API,
//! result files in S3, SQL run by DataFusion), pushdown on versus off.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{
    CORPUS, Recorder, client_for, compare_corpus, corpus_batch_lowercase, emulator_runner,
};
use datafusion_athena_emulator::{Emulator, dump_sql};
use datafusion_athena_scan::{AthenaTableName, QueryExecutor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_returns_the_same_rows_with_and_without_pushdown() {
    let emu = Emulator::builder()
        .latencies(Duration::from_millis(1), Duration::from_millis(1))
        .start()
        .await
        .expect("emulator starts");
    let batch = corpus_batch_lowercase();
    let schema = batch.schema();
    emu.register_batches("corpus", "events", Arc::clone(&schema), vec![batch])
        .expect("register");
    let runner = emulator_runner(&emu, "").await;
    let recorder = Recorder::new(Arc::new(runner) as Arc<dyn QueryExecutor>);
    let name = AthenaTableName::new("corpus", "events");
    let pushed = client_for(
        Arc::clone(&recorder) as Arc<dyn QueryExecutor>,
        name.clone(),
        Arc::clone(&schema),
        true,
    );
    let local = client_for(
        Arc::clone(&recorder) as Arc<dyn QueryExecutor>,
        name,
        Arc::clone(&schema),
        false,
    );
    let filters: Vec<String> = CORPUS
        .iter()
        .map(|f| f.replace("\"Upper Name\"", "\"upper name\""))
        .collect();
    let report = compare_corpus(&pushed, &local, &|| recorder.take_statements(), &filters).await;
    dump_sql(&report.statements).expect("ATHENA_SQL_DUMP");
    println!(
        "emulator corpus: {} of {} filters pushed Exact",
        report.exact,
        filters.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} failures:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
}
