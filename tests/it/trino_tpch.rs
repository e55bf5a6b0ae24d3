//! TPC-H's 22 queries (federation on and off), the window queries and the scalar-subquery
//! parameter queries through `register_athena`, against the emulator with its Trino engine (the
//! engine Athena runs): each answer must equal DataFusion's own over the same Parquet files with
//! no Athena at all.
//!
//! Needs Trino (`scripts/trino install`; `ATHENA_TRINO_URL` names a running server). Without
//! it the test says so and passes, unless `ATHENA_TEST_REQUIRE_PEERS` is set (scripts/test and
//! CI set it). Run with `--nocapture` to see every disagreement in full.

use crate::tpch_support::compare::{Cell, same_rows, sorted_rows};
use crate::tpch_support::data::{DATABASE, generate, local_session};
use crate::tpch_support::queries::{PARAMETER_QUERIES, QUERIES, WINDOW_QUERIES};
use crate::tpch_support::session::{athena_session, datafusion_answer, on_big_stacks};
use crate::tpch_support::trino::{check_known, sent_sql, trino_url};
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use datafusion_athena_emulator::{Emulator, Engine, dump_sql};

/// Queries whose federated answer on Trino differs from DataFusion's, and why. The test fails
/// when another query differs, and when one of these stops differing (the list must shrink as
/// the pushdown is fixed).
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[];

/// Scale factor of the generated data (lineitem: about 60,000 rows).
const SCALE_FACTOR: f64 = 0.01;

async fn run(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, String> {
    ctx.sql(sql)
        .await
        .map_err(|e| format!("planning: {e}"))?
        .collect()
        .await
        .map_err(|e| e.to_string())
}

fn show(row: Option<&Vec<Cell>>) -> String {
    row.map_or_else(
        || "(no row)".to_owned(),
        |r| {
            r.iter()
                .map(|c| match c {
                    Cell::Text(t) => t.clone(),
                    Cell::Float(f) => format!("{f:?}"),
                })
                .collect::<Vec<_>>()
                .join(" | ")
        },
    )
}

/// Where two sorted answers part: row counts and the first differing rows.
fn difference(trino: &[Vec<Cell>], datafusion: &[Vec<Cell>]) -> String {
    let first = (0..trino.len().max(datafusion.len()))
        .find(|&i| {
            !same_rows(
                &trino[i.min(trino.len())..(i + 1).min(trino.len())],
                &datafusion[i.min(datafusion.len())..(i + 1).min(datafusion.len())],
            )
        })
        .unwrap_or(0);
    format!(
        "{} rows on Trino, {} on DataFusion; first difference at sorted row {first}:\n    Trino:      {}\n    DataFusion: {}",
        trino.len(),
        datafusion.len(),
        show(trino.get(first)),
        show(datafusion.get(first)),
    )
}

#[test]
fn tpch_and_window_queries_on_trino_answer_as_datafusion() {
    on_big_stacks(tpch_on_trino);
}

async fn tpch_on_trino() {
    let Some(url) = trino_url("the Trino TPC-H test").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), SCALE_FACTOR);
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .database(DATABASE)
        .engine(Engine::Trino)
        .trino_url(url)
        .start()
        .await
        .expect("emulator with the Trino engine");
    let local = local_session(dir.path()).await;
    let on = athena_session(&emu, true).await;
    let off = athena_session(&emu, false).await;
    let federated = QUERIES
        .iter()
        .map(|(n, sql)| (format!("Q{n}"), *sql))
        .chain(
            WINDOW_QUERIES
                .iter()
                .enumerate()
                .map(|(i, sql)| (format!("W{}", i + 1), *sql)),
        )
        .chain(
            PARAMETER_QUERIES
                .iter()
                .enumerate()
                .map(|(i, sql)| (format!("P{}", i + 1), *sql)),
        )
        .map(|(label, sql)| (label, sql, &on));
    // Federation off: scans with their filters, projections and limits pushed; joins and
    // aggregates local.
    let scans = QUERIES
        .iter()
        .map(|(n, sql)| (format!("Q{n} (federation off)"), *sql, &off));
    let queries = federated.chain(scans);
    let mut differing = Vec::new();
    let mut report = Vec::new();
    let mut all_sent = Vec::new();
    for (label, sql, ctx) in queries {
        let expected = datafusion_answer(&local, sql).await;
        emu.clear_request_log();
        let answer = run(ctx, sql).await;
        let sent = sent_sql(&emu);
        let problem = match answer {
            Err(e) => Some(format!("failed: {e}")),
            Ok(batches) => {
                let rows = sorted_rows(&batches);
                (!same_rows(&rows, &expected)).then(|| difference(&rows, &expected))
            }
        };
        if let Some(problem) = problem {
            report.push(format!("{label}: {problem}\n  sent to Athena: {sent:#?}"));
            differing.push(label);
        }
        all_sent.extend(sent);
    }
    dump_sql(&all_sent).expect("ATHENA_SQL_DUMP");
    emu.shutdown().await;
    println!("{}", report.join("\n"));
    check_known(&differing, KNOWN_DISAGREEMENTS, &report);
}
