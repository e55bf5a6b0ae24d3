//! The filter corpus: every filter is answered twice, with pushdown (Athena filters) and without
//! (DataFusion filters every row), and the rows must be the same. The stand-in for Athena runs
//! the generated SQL with DataFusion over the same rows, as the project's emulator does.
//!
//! Set `ATHENA_SQL_DUMP=/path/file.sql` to collect every generated statement for
//! `check_athena_sql.py`.

use std::sync::Arc;

use crate::common::{CORPUS, LocalAthena, client, compare_corpus, corpus_batch};
use datafusion_athena_emulator::dump_sql;

#[tokio::test]
async fn pushdown_returns_the_same_rows_as_local_filtering() {
    let batch = corpus_batch();
    let schema = batch.schema();
    let athena = LocalAthena::new(batch);
    let pushed = client(Arc::clone(&athena), Arc::clone(&schema), true);
    let local = client(Arc::clone(&athena), Arc::clone(&schema), false);

    assert!(
        CORPUS.len() >= 80,
        "the corpus has {} filters",
        CORPUS.len()
    );
    let filters: Vec<String> = CORPUS.iter().map(|f| f.to_string()).collect();
    let report = compare_corpus(&pushed, &local, &|| athena.take_statements(), &filters).await;
    assert!(
        report.failures.is_empty(),
        "{} failures:\n{}",
        report.failures.len(),
        report.failures.join("\n")
    );
    dump_sql(&report.statements).expect("ATHENA_SQL_DUMP");
    let share = report.exact as f64 / CORPUS.len() as f64;
    println!(
        "pushdown corpus: {} of {} filters pushed Exact ({:.1}%)",
        report.exact,
        CORPUS.len(),
        share * 100.0
    );
    println!("kept local: {:#?}", report.not_exact);
    // Each filter kept local has a stated semantic difference (see the pushdown module). The
    // share was 0.9 until running the SQL on Trino showed that `-i32`, `big - 1` (integer
    // overflow: Trino fails, DataFusion wraps) and `lower`/`upper` of text (per code point in
    // Trino) must stay local.
    assert!(
        share >= 0.85,
        "Exact share {share:.3}; kept local: {:#?}",
        report.not_exact
    );
}
