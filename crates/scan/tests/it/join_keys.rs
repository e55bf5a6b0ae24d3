//! Join key pushdown end to end: a local table (Parquet or memory) joined with an Athena table
//! served by the project's emulator. The build side's keys reach Athena as an `IN` list (or
//! their range), the rows equal the same join with pushdown off, and table statistics put the
//! small local side on the build side.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{Recorder, emulator_runner, sorted_rows};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::common::Statistics;
use datafusion::common::stats::Precision;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::displayable;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use datafusion_athena_emulator::{Emulator, EmulatorHandle, dump_sql};
use datafusion_athena_scan::{AthenaTable, AthenaTableName, MAX_QUERY_BYTES, QueryExecutor};

/// Rows of the Athena table: `id` 0..N, `k = id % 500` (NULL every 97th row), a name.
const FACT_ROWS: i64 = 3_000;

fn facts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("k", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ]))
}

fn facts() -> RecordBatch {
    let ids: Vec<i64> = (0..FACT_ROWS).collect();
    let keys: Vec<Option<i64>> = ids
        .iter()
        .map(|i| (i % 97 != 0).then_some(i % 500))
        .collect();
    let names: Vec<String> = ids.iter().map(|i| format!("row {i}")).collect();
    RecordBatch::try_new(
        facts_schema(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Int64Array::from(keys)),
            Arc::new(StringArray::from(names)),
        ],
    )
    .expect("facts")
}

fn local_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, true),
        Field::new("tag", DataType::Utf8, true),
    ]))
}

fn local_batch(keys: Vec<Option<i64>>) -> RecordBatch {
    let tags: Vec<String> = keys.iter().map(|k| format!("tag {k:?}")).collect();
    RecordBatch::try_new(
        local_schema(),
        vec![
            Arc::new(Int64Array::from(keys)),
            Arc::new(StringArray::from(tags)),
        ],
    )
    .expect("local")
}

struct Fixture {
    _emu: EmulatorHandle,
    recorder: Arc<Recorder>,
    _dir: tempfile::TempDir,
    parquet: String,
}

async fn fixture() -> Fixture {
    let emu = Emulator::builder()
        .latencies(Duration::from_millis(1), Duration::from_millis(1))
        .start()
        .await
        .expect("emulator starts");
    emu.register_batches("jk", "facts", facts_schema(), vec![facts()])
        .expect("register facts");
    let runner = emulator_runner(&emu, "").await;
    let recorder = Recorder::new(Arc::new(runner) as Arc<dyn QueryExecutor>);
    // The local Parquet file: keys with duplicates and a NULL, some absent from Athena.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("keys.parquet");
    let batch = local_batch(vec![
        Some(7),
        Some(42),
        Some(7),
        None,
        Some(499),
        Some(12_345),
        Some(42),
    ]);
    let file = std::fs::File::create(&path).expect("create parquet");
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    Fixture {
        _emu: emu,
        recorder,
        _dir: dir,
        parquet: path.display().to_string(),
    }
}

/// A session with the Athena table `facts` (statistics: `rows` when given) and the local
/// Parquet file `pq`.
async fn session(f: &Fixture, pushdown: bool, rows: Option<usize>) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(4);
    let ctx = SessionContext::new_with_config(config);
    let mut table = AthenaTable::new(
        AthenaTableName::new("jk", "facts"),
        facts_schema(),
        Arc::clone(&f.recorder) as Arc<dyn QueryExecutor>,
    )
    .with_filter_pushdown(pushdown);
    if let Some(rows) = rows {
        table = table.with_statistics(
            Statistics::new_unknown(&facts_schema()).with_num_rows(Precision::Inexact(rows)),
        );
    }
    ctx.register_table("facts", Arc::new(table))
        .expect("register facts");
    ctx.register_parquet("pq", &f.parquet, ParquetReadOptions::default())
        .await
        .expect("register parquet");
    ctx
}

fn register_memory(ctx: &SessionContext, name: &str, keys: Vec<Option<i64>>) {
    let table = MemTable::try_new(local_schema(), vec![vec![local_batch(keys)]]).expect("mem");
    ctx.register_table(name, Arc::new(table))
        .expect("register memory table");
}

/// Runs `sql` with pushdown on and off; asserts equal rows; returns the statements sent with
/// pushdown on (dumped for the SQL checker) and the row count.
async fn compare(f: &Fixture, sql: &str, setup: &dyn Fn(&SessionContext)) -> (Vec<String>, usize) {
    let on = session(f, true, Some(1_000_000)).await;
    setup(&on);
    let with = on
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let sent = f.recorder.take_statements();
    let off = session(f, false, Some(1_000_000)).await;
    setup(&off);
    let without = off
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let sent_off = f.recorder.take_statements();
    assert_eq!(
        sorted_rows(&with),
        sorted_rows(&without),
        "{sql}: rows differ\n  sent: {sent:?}"
    );
    assert!(
        sent_off.iter().all(|s| !s.contains(" WHERE ")),
        "pushdown off sent a filter: {sent_off:?}"
    );
    dump_sql(&sent).expect("ATHENA_SQL_DUMP");
    dump_sql(&sent_off).expect("ATHENA_SQL_DUMP");
    let rows = with.iter().map(RecordBatch::num_rows).sum();
    (sent, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_keys_reach_athena_as_an_in_list_without_nulls_or_duplicates() {
    let f = fixture().await;
    let (sent, rows) = compare(
        &f,
        "SELECT f.id, f.k, p.tag FROM facts f JOIN pq p ON f.k = p.k",
        &|_| {},
    )
    .await;
    // 7, 42 and 499 each match 6 Athena rows (minus the NULL rows), twice for 7 and 42.
    assert!(rows > 0, "the join found rows");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].ends_with(
            "WHERE (((\"k\" >= 7) AND (\"k\" <= 12345)) AND (\"k\" IN (7, 42, 499, 12345)))"
        ),
        "{}",
        sent[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outer_joins_filter_athena_only_where_rows_cannot_be_lost() {
    let f = fixture().await;
    // Athena's rows are preserved: all of them must come back, no key filter.
    let (sent, rows) = compare(
        &f,
        "SELECT f.id, p.tag FROM facts f LEFT JOIN pq p ON f.k = p.k",
        &|_| {},
    )
    .await;
    assert_eq!(rows as i64, FACT_ROWS + 12, "every fact, duplicates twice");
    assert!(sent.iter().all(|s| !s.contains(" IN (")), "{sent:?}");
    // The local rows are preserved: Athena only needs the matching keys.
    let (sent, rows) = compare(
        &f,
        "SELECT p.k, p.tag, f.id FROM pq p LEFT JOIN facts f ON f.k = p.k",
        &|_| {},
    )
    .await;
    assert!(rows >= 7, "every local row at least once: {rows}");
    assert!(
        sent.iter()
            .any(|s| s.contains("\"k\" IN (7, 42, 499, 12345)")),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_all_null_local_sides_return_nothing() {
    let f = fixture().await;
    for (name, keys) in [("empty", vec![]), ("nulls", vec![None, None])] {
        let sql = format!("SELECT f.id FROM facts f JOIN {name} m ON f.k = m.k");
        let (sent, rows) = compare(&f, &sql, &|ctx| register_memory(ctx, name, keys.clone())).await;
        assert_eq!(rows, 0, "{name}");
        // Nothing to match: either no query at all, or one that fetches nothing.
        assert!(
            sent.iter().all(|s| s.contains("WHERE")),
            "{name}: a full scan was sent: {sent:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_list_over_the_statement_limit_becomes_a_range() {
    let f = fixture().await;
    // 30,000 eight-digit keys: about 300 KB as an IN list.
    let keys: Vec<Option<i64>> = (0..30_000).map(|i| Some(i * 1_000)).collect();
    let setup = |ctx: &SessionContext| {
        let state = ctx.state_ref();
        let mut state = state.write();
        let opts = state.config_mut().options_mut();
        opts.optimizer.hash_join_inlist_pushdown_max_distinct_values = 100_000;
        opts.optimizer.hash_join_inlist_pushdown_max_size = 64 * 1024 * 1024;
        drop(state);
        register_memory(ctx, "big", keys.clone());
    };
    let (sent, rows) = compare(
        &f,
        "SELECT f.id FROM facts f JOIN big b ON f.k = b.k",
        &setup,
    )
    .await;
    assert!(rows > 0);
    assert!(!sent.is_empty());
    for s in &sent {
        assert!(s.len() <= MAX_QUERY_BYTES, "{} bytes", s.len());
        assert!(
            s.ends_with("WHERE ((\"k\" >= 0) AND (\"k\" <= 29999000))"),
            "{}",
            &s[..s.len().min(300)]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_shows_the_key_filter_before_and_after_execution() {
    let f = fixture().await;
    let sql = "SELECT f.id, p.tag FROM facts f JOIN pq p ON f.k = p.k";
    let ctx = session(&f, true, Some(1_000_000)).await;
    let plan = physical_text(&ctx, sql).await;
    let parquet = plan.find("keys.parquet").expect(&plan);
    let athena = plan.find("AthenaExec").expect(&plan);
    assert!(parquet < athena, "build side first:\n{plan}");
    assert!(
        plan.contains("dynamic_filter=pending (DynamicFilter [ empty ])"),
        "{plan}"
    );
    let explain = ctx
        .sql(&format!("EXPLAIN ANALYZE {sql}"))
        .await
        .expect("explain")
        .collect()
        .await
        .expect("run");
    let explain = datafusion::arrow::util::pretty::pretty_format_batches(&explain)
        .expect("format")
        .to_string();
    assert!(
        explain.contains(
            "dynamic_filter=sent (((\"k\" >= 7) AND (\"k\" <= 12345)) AND (\"k\" IN (7, 42, 499, 12345)))"
        ),
        "{explain}"
    );
    dump_sql(&f.recorder.take_statements()).expect("ATHENA_SQL_DUMP");
}

async fn physical_text(ctx: &SessionContext, sql: &str) -> String {
    let plan = ctx
        .sql(sql)
        .await
        .expect("plan")
        .create_physical_plan()
        .await
        .expect("physical plan");
    displayable(plan.as_ref()).indent(true).to_string()
}

/// Forces partitioned hash joins (no side is small enough to collect), where only the
/// statistics decide which side is built.
fn partitioned(ctx: &SessionContext) {
    let state = ctx.state_ref();
    let mut state = state.write();
    let opts = state.config_mut().options_mut();
    opts.optimizer.hash_join_single_partition_threshold = 0;
    opts.optimizer.hash_join_single_partition_threshold_rows = 0;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_decide_the_build_side_of_a_partitioned_join() {
    let f = fixture().await;
    let sql = "SELECT f.id, f.k, p.tag FROM facts f JOIN pq p ON f.k = p.k";
    // With the table's row count, the 7-row Parquet file is built and its keys, routed per
    // hash partition (CASE ... WHEN n THEN k IN (...)), reach Athena as one condition.
    let ctx = session(&f, true, Some(1_000_000)).await;
    partitioned(&ctx);
    let plan = physical_text(&ctx, sql).await;
    assert!(plan.contains("mode=Partitioned"), "{plan}");
    let parquet = plan.find("keys.parquet").expect(&plan);
    let athena = plan.find("AthenaExec").expect(&plan);
    assert!(parquet < athena, "local side built:\n{plan}");
    let (sent, rows) = compare(&f, sql, &partitioned).await;
    assert!(rows > 0);
    assert_eq!(sent.len(), 1, "{sent:?}");
    for key in ["7", "42", "499", "12345"] {
        assert!(
            sent[0].contains(&format!("IN ({key}")) || sent[0].contains(&format!(", {key}")),
            "key {key} missing: {}",
            sent[0]
        );
    }
    // Without statistics the written order stands: Athena is built, fetched whole.
    let ctx = session(&f, true, None).await;
    partitioned(&ctx);
    let plan = physical_text(&ctx, sql).await;
    let parquet = plan.find("keys.parquet").expect(&plan);
    let athena = plan.find("AthenaExec").expect(&plan);
    assert!(athena < parquet, "Athena built without statistics:\n{plan}");
    assert!(!plan.contains("dynamic_filter="), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_top_k_filter_is_taken_as_it_stands_never_waited_for() {
    let f = fixture().await;
    // `ORDER BY ... LIMIT` pushes a TopK threshold (a dynamic filter that completes only when
    // the scan is done) into the scan: it must not block the query.
    let (sent, rows) = compare(
        &f,
        "SELECT id, k FROM facts ORDER BY id DESC LIMIT 5",
        &|_| {},
    )
    .await;
    assert_eq!(rows, 5);
    assert_eq!(sent, ["SELECT \"id\", \"k\" FROM \"jk\".\"facts\""]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_keys_reach_athena_as_tuples() {
    let f = fixture().await;
    let setup = |ctx: &SessionContext| {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("id", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(vec![
                    Some(7),
                    Some(42),
                    Some(7),
                    Some(1),
                    None,
                    Some(42),
                ])),
                Arc::new(Int64Array::from(vec![
                    Some(7),
                    Some(42),
                    Some(507),
                    Some(2),
                    Some(5),
                    Some(42),
                ])),
            ],
        )
        .expect("pairs");
        let table = MemTable::try_new(schema, vec![vec![batch]]).expect("mem");
        ctx.register_table("pairs", Arc::new(table))
            .expect("register pairs");
    };
    let (sent, rows) = compare(
        &f,
        "SELECT f.id, f.name FROM facts f JOIN pairs p ON f.k = p.k AND f.id = p.id",
        &setup,
    )
    .await;
    // (7, 7), (42, 42) twice and (7, 507) match; (1, 2) does not; (NULL, 5) never matches.
    assert_eq!(rows, 4);
    assert_eq!(sent.len(), 1, "{sent:?}");
    for tuple in [
        "((\"k\" = 7) AND (\"id\" = 7))",
        "((\"k\" = 42) AND (\"id\" = 42))",
        "((\"k\" = 7) AND (\"id\" = 507))",
        "((\"k\" = 1) AND (\"id\" = 2))",
    ] {
        assert_eq!(sent[0].matches(tuple).count(), 1, "{tuple} in {}", sent[0]);
    }
    assert!(!sent[0].contains("\"id\" = 5)"), "{}", sent[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn string_keys_from_parquet_are_sent_quoted() {
    let f = fixture().await;
    let (sent, rows) = compare(
        &f,
        "SELECT f.id FROM facts f JOIN pq p ON f.name = p.tag",
        &|_| {},
    )
    .await;
    assert_eq!(rows, 0, "no name equals a tag");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("\"name\" IN ('tag None', 'tag Some(12345)', 'tag Some(42)', "),
        "{}",
        sent[0]
    );
}
