//! The query lifecycle and every result path against the local emulator, with fault injection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::error::DataFusionError;
use datafusion::physical_plan::{ExecutionPlan, collect, displayable};
use datafusion::prelude::SessionContext;
use datafusion_athena_config::ConnectionOptions;

use crate::common::emulator_runner;
use datafusion_athena_emulator::{Emulator, EmulatorHandle, QueryState, ThrottleKind};
use datafusion_athena_scan::{
    AthenaExec, AthenaRunner, AthenaTable, AthenaTableName, Error, QueryExecutor, QueryMetrics,
};
use futures::StreamExt;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("b", DataType::Boolean, true),
        Field::new("i8", DataType::Int8, true),
        Field::new("i16", DataType::Int16, true),
        Field::new("i32", DataType::Int32, true),
        Field::new("i64", DataType::Int64, true),
        Field::new("f32", DataType::Float32, true),
        Field::new("f64", DataType::Float64, true),
        Field::new("d", DataType::Decimal128(38, 10), true),
        Field::new("s", DataType::Utf8, true),
        Field::new("bin", DataType::Binary, true),
        Field::new("day", DataType::Date32, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]))
}

/// Every type with NULLs, extremes, the empty string, unicode, quotes, commas and newlines.
fn batch(rows: usize) -> RecordBatch {
    let pick = |r: usize| r % 5;
    let strings = [
        "",
        "plain",
        "comma, \"quote\"\nnewline",
        "ünïcödé 🦀 日本",
        "x",
    ];
    let cols: Vec<ArrayRef> = vec![
        Arc::new(BooleanArray::from_iter(
            (0..rows).map(|r| (pick(r) != 4).then_some(r % 2 == 0)),
        )),
        Arc::new(Int8Array::from_iter((0..rows).map(|r| match pick(r) {
            0 => Some(i8::MIN),
            1 => Some(i8::MAX),
            4 => None,
            _ => Some(r as i8),
        }))),
        Arc::new(Int16Array::from_iter((0..rows).map(|r| {
            (pick(r) != 4).then_some(if r % 2 == 0 { i16::MIN } else { i16::MAX })
        }))),
        // Never NULL: the sort key.
        Arc::new(Int32Array::from_iter_values(
            (0..rows).map(|r| r as i32 * 7 - 1000),
        )),
        Arc::new(Int64Array::from_iter((0..rows).map(|r| match pick(r) {
            0 => Some(i64::MIN),
            1 => Some(i64::MAX),
            4 => None,
            _ => Some(r as i64),
        }))),
        Arc::new(Float32Array::from_iter(
            (0..rows).map(|r| (pick(r) != 4).then_some(r as f32 / 8.0 - 3.5)),
        )),
        Arc::new(Float64Array::from_iter((0..rows).map(|r| match pick(r) {
            0 => Some(1.0e20),
            1 => Some(-1.0e-4),
            2 => Some(f64::MAX),
            3 => Some(r as f64 + 0.1),
            _ => None,
        }))),
        Arc::new(
            Decimal128Array::from_iter((0..rows).map(|r| match pick(r) {
                0 => Some(99_999_999_999_999_999_999_999_999_999_999_999_999i128),
                1 => Some(-1),
                4 => None,
                _ => Some(r as i128 * 12_345_678_901),
            }))
            .with_precision_and_scale(38, 10)
            .unwrap(),
        ),
        Arc::new(StringArray::from_iter(
            (0..rows).map(|r| (r % 6 != 5).then(|| strings[r % 5])),
        )),
        Arc::new(BinaryArray::from_iter((0..rows).map(|r| match pick(r) {
            0 => Some(vec![]),
            1 => Some(vec![0u8, 1, 254, 255]),
            4 => None,
            _ => Some((r as u32).to_be_bytes().to_vec()),
        }))),
        Arc::new(Date32Array::from_iter(
            (0..rows).map(|r| (pick(r) != 4).then_some(r as i32 * 37 - 20_000)),
        )),
        Arc::new(TimestampMillisecondArray::from_iter((0..rows).map(|r| {
            (pick(r) != 4).then_some(1_577_882_096_789 + r as i64 * 86_400_001 - 40_000_000_000_000)
        }))),
    ];
    RecordBatch::try_new(schema(), cols).unwrap()
}

async fn emulator(rows: usize) -> EmulatorHandle {
    let emu = Emulator::builder()
        .latencies(Duration::from_millis(20), Duration::from_millis(20))
        .workgroup("managed", None)
        .start()
        .await
        .expect("emulator starts");
    emu.register_batches("default", "t", schema(), vec![batch(rows)])
        .unwrap();
    emu
}

async fn runner(emu: &EmulatorHandle, extra: &str) -> Arc<AthenaRunner> {
    Arc::new(runner_unshared(emu, extra).await)
}

/// [`runner`], before it is shared (to be configured further).
async fn runner_unshared(emu: &EmulatorHandle, extra: &str) -> AthenaRunner {
    emulator_runner(emu, extra)
        .await
        .with_s3_read(4096, 4)
        .with_batch_size(100)
}

/// The emulator's table `default.t` as an `AthenaTable` read through `runner`.
fn athena_table_t(runner: Arc<AthenaRunner>) -> AthenaTable {
    AthenaTable::new(
        AthenaTableName::new("default", "t"),
        schema(),
        runner as Arc<dyn QueryExecutor>,
    )
}

async fn run(
    runner: &Arc<AthenaRunner>,
    sql: &str,
    schema: SchemaRef,
) -> Result<(RecordBatch, QueryMetrics), DataFusionError> {
    let metrics = QueryMetrics::detached();
    let mut stream = runner.execute(sql, Arc::clone(&schema), metrics.clone())?;
    let mut batches = Vec::new();
    while let Some(b) = stream.next().await {
        batches.push(b?);
    }
    Ok((concat_batches(&schema, &batches)?, metrics))
}

fn scan_error(e: &DataFusionError) -> &Error {
    match e {
        DataFusionError::External(inner) => inner
            .downcast_ref::<Error>()
            .unwrap_or_else(|| panic!("not a scan error: {e}")),
        other => panic!("not an external error: {other}"),
    }
}

const ALL: &str = "SELECT * FROM t ORDER BY i32";

/// A query with no rows: every path ends cleanly with no rows (UNLOAD writes no file).
#[tokio::test]
async fn every_path_returns_an_empty_result() {
    let emu = emulator(20).await;
    for fetcher in ["S3", "GetQueryResults", "Unload"] {
        let r = runner(&emu, &format!("ResultFetcher={fetcher};")).await;
        let (got, m) = run(&r, "SELECT * FROM t WHERE i32 < -100000", schema())
            .await
            .unwrap_or_else(|e| panic!("{fetcher}: {e}"));
        assert_eq!(got.num_rows(), 0, "{fetcher}");
        assert_eq!(got.schema(), schema(), "{fetcher}");
        assert_eq!(m.fetch_path.values(), vec![fetcher.to_string()]);
        assert_eq!(m.rows_fetched.value(), 0, "{fetcher}");
    }
}

#[tokio::test]
async fn every_path_returns_every_type_exactly() {
    let emu = emulator(1200).await;
    let expected = batch(1200);
    for (fetcher, path) in [
        ("S3", "S3"),
        ("GetQueryResults", "GetQueryResults"),
        ("Unload", "Unload"),
        ("Auto", "S3"),
    ] {
        let r = runner(&emu, &format!("ResultFetcher={fetcher};")).await;
        let sql = if fetcher == "Unload" {
            "SELECT * FROM t"
        } else {
            ALL
        };
        let (got, metrics) = run(&r, sql, schema())
            .await
            .unwrap_or_else(|e| panic!("{fetcher}: {e}"));
        let got = if fetcher == "Unload" {
            // UNLOAD has no order across files: sort by i32 here.
            let idx =
                datafusion::arrow::compute::sort_to_indices(got.column(3), None, None).unwrap();
            datafusion::arrow::compute::take_record_batch(&got, &idx).unwrap()
        } else {
            got
        };
        assert_eq!(got, expected, "{fetcher}");
        assert_eq!(
            metrics.fetch_path.values(),
            vec![path.to_string()],
            "{fetcher}"
        );
        assert_eq!(metrics.rows_fetched.value(), 1200, "{fetcher}");
        assert_eq!(metrics.query_id.values().len(), 1);
        if fetcher == "GetQueryResults" {
            assert!(
                metrics.result_pages.value() >= 2,
                "1200 rows + header need 2 pages"
            );
        } else {
            assert!(metrics.bytes_fetched.value() > 0, "{fetcher}");
        }
    }
}

#[tokio::test]
async fn unload_deletes_its_files_and_falls_back_for_zoned_timestamps() {
    let emu = emulator(50).await;
    let r = runner(&emu, "ResultFetcher=Unload;").await;
    let (got, _) = run(&r, "SELECT * FROM t", schema()).await.unwrap();
    assert_eq!(got.num_rows(), 50);
    // The Parquet files are deleted shortly after the stream ends.
    let unload_dir = emu.storage_dir().join("athena-results/staging/unload");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let files = walk(&unload_dir);
        if files.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "UNLOAD files left behind: {files:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A column UNLOAD cannot write: the CSV path is used instead.
    let tz: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "ts",
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        true,
    )]));
    let (got, m) = run(&r, "SELECT ts FROM t ORDER BY i32", tz).await.unwrap();
    assert_eq!(got.num_rows(), 50);
    assert_eq!(m.fetch_path.values(), vec!["S3".to_string()]);
    let want = batch(50);
    let want_ts = want
        .column(11)
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .unwrap();
    let got_ts = got
        .column(0)
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .unwrap();
    assert_eq!(got_ts.values(), want_ts.values());
}

/// An UNLOAD written as many files: every row arrives exactly once, whatever order the files'
/// batches are passed on in, and every file is deleted afterwards.
#[tokio::test]
async fn unload_reads_every_file_of_a_multi_file_result() {
    let emu = Emulator::builder()
        .unload_rows_per_file(7)
        .start()
        .await
        .expect("emulator starts");
    emu.register_batches("default", "t", schema(), vec![batch(50)])
        .unwrap();
    let unload_dir = emu.storage_dir().join("athena-results/staging/unload");
    let options: ConnectionOptions = format!("{}ResultFetcher=Unload;", emu.connection_string())
        .parse()
        .unwrap();
    let kept = Arc::new(
        AthenaRunner::new(&options)
            .await
            .unwrap()
            .with_batch_size(3)
            .with_keep_unload_files(true),
    );
    emu.clear_request_log();
    let (got, m) = run(&kept, "SELECT * FROM t", schema()).await.unwrap();
    assert_eq!(m.fetch_path.values(), vec!["Unload".to_string()]);
    // 50 rows at 7 per file.
    assert_eq!(walk(&unload_dir).len(), 8);
    // One GET for the manifest and one per file (a small file comes whole with the read of its
    // footer); no HEAD.
    let s3: Vec<String> = emu
        .request_log()
        .into_iter()
        .filter(|r| r.operation.ends_with("Object"))
        .map(|r| r.operation)
        .collect();
    assert_eq!(s3, vec!["GetObject".to_string(); 9], "{s3:?}");
    let by_key = |b: &RecordBatch| {
        let idx = datafusion::arrow::compute::sort_to_indices(b.column(3), None, None).unwrap();
        datafusion::arrow::compute::take_record_batch(b, &idx).unwrap()
    };
    assert_eq!(by_key(&got), batch(50));

    // Without keeping them, all eight files are gone shortly after the stream ends.
    let r = runner(&emu, "ResultFetcher=Unload;").await;
    let (got, _) = run(&r, "SELECT * FROM t", schema()).await.unwrap();
    assert_eq!(by_key(&got), batch(50));
    let deadline = Instant::now() + Duration::from_secs(5);
    while walk(&unload_dir).len() > 8 {
        assert!(
            Instant::now() < deadline,
            "UNLOAD files left behind: {:?}",
            walk(&unload_dir)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn managed_results_use_get_query_results_in_auto_and_fail_clearly_in_s3() {
    let emu = emulator(30).await;
    // No S3StagingDirectory: the managed workgroup has no output location.
    let base = emu
        .connection_string()
        .replace(&format!("S3StagingDirectory={};", emu.staging_dir()), "");
    let options: ConnectionOptions = format!("{base}WorkGroup=managed;ResultFetcher=Auto;")
        .parse()
        .unwrap();
    let r = Arc::new(AthenaRunner::new(&options).await.unwrap());
    let (got, m) = run(&r, ALL, schema()).await.unwrap();
    assert_eq!(got, batch(30));
    assert_eq!(m.fetch_path.values(), vec!["GetQueryResults".to_string()]);

    let options: ConnectionOptions = format!("{base}WorkGroup=managed;ResultFetcher=S3;")
        .parse()
        .unwrap();
    let r = Arc::new(AthenaRunner::new(&options).await.unwrap());
    let err = run(&r, ALL, schema()).await.unwrap_err().to_string();
    assert!(err.contains("ResultFetcher=GetQueryResults"), "{err}");
}

#[tokio::test]
async fn a_missing_result_object_falls_back_to_get_query_results() {
    let emu = emulator(40).await;
    let r = runner(&emu, "ResultFetcher=Auto;").await;
    // An object store for the results bucket that has nothing in it.
    let r = Arc::new(Arc::try_unwrap(r).unwrap().with_object_store(
        "athena-results",
        Arc::new(object_store::memory::InMemory::new()),
    ));
    let (got, m) = run(&r, ALL, schema()).await.unwrap();
    assert_eq!(got, batch(40));
    assert_eq!(m.fetch_path.values(), vec!["GetQueryResults".to_string()]);
}

#[tokio::test]
async fn failures_carry_athenas_message_category_type_and_query_id() {
    let emu = emulator(1).await;
    let r = runner(&emu, "").await;
    let e = run(&r, "SELECT nope FROM t", schema()).await.unwrap_err();
    match scan_error(&e) {
        Error::QueryFailed {
            query_id,
            message,
            category,
            ..
        } => {
            assert!(!query_id.is_empty());
            assert!(message.to_lowercase().contains("nope"), "{message}");
            assert_eq!(*category, Some(2), "a user error");
            assert_eq!(emu.query_state(query_id), Some(QueryState::Failed));
        }
        other => panic!("{other}"),
    }
}

/// Waits (up to 5 s) until the emulator reports query `id` as cancelled.
async fn wait_until_cancelled(emu: &EmulatorHandle, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.query_state(id) != Some(QueryState::Cancelled) {
        assert!(
            Instant::now() < deadline,
            "query {id} not cancelled: {:?}",
            emu.query_state(id)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn dropping_the_stream_mid_query_cancels_it() {
    let emu = emulator(10).await;
    emu.faults().slow_queries(Duration::from_secs(30));
    let r = runner(&emu, "").await;
    let metrics = QueryMetrics::detached();
    let mut stream = r.execute(ALL, schema(), metrics.clone()).unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), stream.next())
            .await
            .is_err(),
        "still running"
    );
    let id = metrics
        .query_id
        .values()
        .pop()
        .expect("the query was started");
    assert_eq!(emu.query_state(&id), Some(QueryState::Running));
    drop(stream);
    wait_until_cancelled(&emu, &id).await;
}

#[tokio::test]
async fn query_timeout_stops_the_query_with_a_typed_error() {
    let emu = emulator(10).await;
    emu.faults().slow_queries(Duration::from_secs(30));
    let r = runner(&emu, "QueryTimeout=1;").await;
    let started = Instant::now();
    let e = run(&r, ALL, schema()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    match scan_error(&e) {
        Error::Timeout { query_id, timeout } => {
            assert_eq!(*timeout, Duration::from_secs(1));
            assert_eq!(emu.query_state(query_id), Some(QueryState::Cancelled));
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn throttling_and_500s_are_retried_and_no_query_starts_twice() {
    let emu = emulator(300).await;
    emu.faults().set_seed(7);
    for kind in [ThrottleKind::Throttling, ThrottleKind::TooManyRequests] {
        emu.faults().throttle(0.25, kind);
        emu.clear_request_log();
        let r = runner(&emu, "ResultFetcher=GetQueryResults;").await;
        let (got, m) = run(&r, ALL, schema()).await.unwrap();
        assert_eq!(got, batch(300), "{kind:?}");
        let log = emu.request_log();
        let starts: Vec<_> = log
            .iter()
            .filter(|r| r.operation == "StartQueryExecution")
            .collect();
        let started: Vec<_> = starts.iter().filter(|r| r.status == 200).collect();
        assert!(
            log.iter().any(|r| r.status != 200),
            "{kind:?}: some calls were throttled"
        );
        assert_eq!(
            started.len(),
            1,
            "{kind:?}: exactly one query started ({} attempts)",
            starts.len()
        );
        assert_eq!(m.query_id.values().len(), 1);
    }
    emu.faults().clear();
    emu.faults().http_500(0.2);
    let r = runner(&emu, "ResultFetcher=S3;").await;
    let (got, _) = run(&r, ALL, schema()).await.unwrap();
    assert_eq!(got, batch(300));
}

#[tokio::test]
async fn s3_errors_mid_stream_are_retried_and_results_stay_complete() {
    let emu = emulator(500).await;
    let r = runner(&emu, "ResultFetcher=S3;").await;
    emu.faults().set_seed(11);
    emu.faults().s3_get_failures(0.3);
    let (got, m) = run(&r, ALL, schema()).await.unwrap();
    assert_eq!(got, batch(500));
    assert!(m.bytes_fetched.value() > 4096 * 3, "read in several ranges");
    emu.faults().clear();
    emu.faults().s3_truncated_bodies(0.3);
    let (got, _) = run(&r, ALL, schema()).await.unwrap();
    assert_eq!(got, batch(500));
}

/// The same faults on the UNLOAD path: files larger than the first read of their end, column
/// chunks fetched in 4 KiB parts, some GETs failing or cut short.
#[tokio::test]
async fn s3_errors_during_unload_reads_are_retried_and_results_stay_complete() {
    const ROWS: usize = 20_000;
    let emu = Emulator::builder()
        .unload_rows_per_file(6_000)
        .start()
        .await
        .expect("emulator starts");
    emu.register_batches("default", "t", schema(), vec![batch(ROWS)])
        .unwrap();
    // Also with a memory budget smaller than a file's row group: the files are then read one
    // at a time.
    let r = runner(&emu, "ResultFetcher=Unload;").await;
    let small = Arc::new(
        runner_unshared(&emu, "ResultFetcher=Unload;")
            .await
            .with_unload_memory_budget(8 * 1024),
    );
    let by_key = |b: &RecordBatch| {
        let idx = datafusion::arrow::compute::sort_to_indices(b.column(3), None, None).unwrap();
        datafusion::arrow::compute::take_record_batch(b, &idx).unwrap()
    };
    emu.faults().set_seed(5);
    for (fault, r) in [
        ("failures", &r),
        ("truncated", &r),
        ("failures", &small),
        ("truncated", &small),
    ] {
        emu.faults().clear();
        emu.clear_request_log();
        match fault {
            "failures" => emu.faults().s3_get_failures(0.2),
            _ => emu.faults().s3_truncated_bodies(0.2),
        }
        let (got, m) = run(r, "SELECT * FROM t", schema()).await.unwrap();
        assert_eq!(m.fetch_path.values(), vec!["Unload".to_string()], "{fault}");
        assert_eq!(by_key(&got), batch(ROWS), "{fault}");
        let log = emu.request_log();
        let gets: Vec<_> = log.iter().filter(|r| r.operation == "GetObject").collect();
        assert!(
            gets.len() > 40,
            "{fault}: {} GETs, expected parts of 4 KiB",
            gets.len()
        );
        if fault == "failures" {
            assert!(gets.iter().any(|r| r.status >= 500), "no GET failed");
        }
    }
}

#[tokio::test]
async fn athena_exec_explains_its_sql_and_reports_metrics() {
    let emu = emulator(20).await;
    let r = runner(&emu, "").await;
    let exec: Arc<dyn ExecutionPlan> = Arc::new(AthenaExec::rows(
        Arc::clone(&r) as Arc<dyn QueryExecutor>,
        "SELECT * FROM t".into(),
        schema(),
    ));
    let shown = displayable(exec.as_ref()).indent(true).to_string();
    assert_eq!(shown.trim(), "AthenaExec: sql=SELECT * FROM t");
    let ctx = SessionContext::new();
    let batches = collect(Arc::clone(&exec), ctx.task_ctx()).await.unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 20);
    let metrics = exec.metrics().unwrap().to_string();
    for name in [
        "query_id{partition=0}=",
        "fetch_path{partition=0}=S3",
        "rows_fetched{partition=0}=20",
        "output_rows{partition=0}=20",
        "data_scanned_bytes{partition=0}=",
        "bytes_fetched{partition=0}=",
        "status_polls{partition=0}=",
    ] {
        assert!(metrics.contains(name), "{name} missing in {metrics}");
    }
}

#[tokio::test]
async fn time_and_zoned_timestamps_through_s3_and_get_query_results() {
    use datafusion::arrow::array::Time32MillisecondArray;
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("t", DataType::Time32(TimeUnit::Millisecond), true),
        Field::new(
            "z",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int32Array::from(vec![1, 2, 3])),
            Arc::new(Time32MillisecondArray::from(vec![
                Some(0),
                Some(86_399_999),
                None,
            ])),
            Arc::new(
                TimestampMillisecondArray::from(vec![Some(1_577_882_096_789), None, Some(-1)])
                    .with_timezone("UTC"),
            ),
        ],
    )
    .unwrap();
    let emu = emulator(1).await;
    emu.register_batches("default", "tz", Arc::clone(&schema), vec![batch.clone()])
        .unwrap();
    for fetcher in ["S3", "GetQueryResults"] {
        let r = runner(&emu, &format!("ResultFetcher={fetcher};")).await;
        let (got, _) = run(&r, "SELECT * FROM tz ORDER BY id", Arc::clone(&schema))
            .await
            .unwrap();
        assert_eq!(got, batch, "{fetcher}");
    }
}

#[tokio::test]
async fn nested_types_through_every_result_path() {
    use datafusion::arrow::array::{Array, ListArray, MapBuilder, StringBuilder, StructArray};
    use datafusion::arrow::datatypes::Int64Type;
    let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), None, Some(i64::MAX)]),
        None,
        Some(vec![]),
    ]);
    let st = StructArray::from(vec![
        (
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("b", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec![Some("x, y"), Some(""), None])) as ArrayRef,
        ),
    ]);
    let mut mb = MapBuilder::new(
        None,
        StringBuilder::new(),
        datafusion::arrow::array::Float64Builder::new(),
    );
    mb.keys().append_value("k");
    mb.values().append_value(1.5);
    mb.append(true).unwrap();
    mb.append(false).unwrap();
    mb.append(true).unwrap();
    let map = mb.finish();
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("l", list.data_type().clone(), true),
        Field::new("st", st.data_type().clone(), true),
        Field::new("m", map.data_type().clone(), true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int32Array::from(vec![1, 2, 3])),
            Arc::new(list),
            Arc::new(st),
            Arc::new(map),
        ],
    )
    .unwrap();
    let emu = emulator(1).await;
    emu.register_batches(
        "default",
        "nested",
        Arc::clone(&schema),
        vec![batch.clone()],
    )
    .unwrap();
    let r = runner(&emu, "ResultFetcher=Unload;").await;
    let (got, m) = run(&r, "SELECT * FROM nested", Arc::clone(&schema))
        .await
        .unwrap();
    let idx = datafusion::arrow::compute::sort_to_indices(got.column(0), None, None).unwrap();
    let got = datafusion::arrow::compute::take_record_batch(&got, &idx).unwrap();
    assert_eq!(got, batch);
    assert_eq!(m.fetch_path.values(), vec!["Unload".to_string()]);

    // The text paths read nested columns as `CAST(x AS JSON)` text.
    for fetcher in ["S3", "GetQueryResults"] {
        let r = runner(&emu, &format!("ResultFetcher={fetcher};")).await;
        let (got, m) = run(&r, "SELECT * FROM nested", Arc::clone(&schema))
            .await
            .unwrap();
        let idx = datafusion::arrow::compute::sort_to_indices(got.column(0), None, None).unwrap();
        let got = datafusion::arrow::compute::take_record_batch(&got, &idx).unwrap();
        assert_eq!(got, batch, "{fetcher}");
        assert_eq!(m.fetch_path.values(), vec![fetcher.to_string()]);
    }
}

#[tokio::test]
async fn sql_through_athena_table_and_the_runner() {
    use datafusion::arrow::array::Array;
    let emu = emulator(2000).await;
    let r = runner(&emu, "").await;
    let table = athena_table_t(r);
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::new(table)).unwrap();
    let got = ctx
        .sql("SELECT i32, s FROM t WHERE i32 >= 0 ORDER BY i32 LIMIT 3")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let got = concat_batches(&got[0].schema(), &got).unwrap();
    let ids = got.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
    // i32 = r * 7 - 1000 >= 0 from r = 143 on.
    assert_eq!(
        ids.values().to_vec(),
        vec![1001 - 1000, 1008 - 1000, 1015 - 1000]
    );
    let s = got
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let want = batch(2000);
    let want_s = want
        .column(8)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    for (i, r) in [143usize, 144, 145].into_iter().enumerate() {
        assert_eq!(s.is_null(i), want_s.is_null(r));
        if s.is_valid(i) {
            assert_eq!(s.value(i), want_s.value(r));
        }
    }
    let started: Vec<String> = emu
        .request_log()
        .into_iter()
        .filter(|r| r.operation == "StartQueryExecution")
        .filter_map(|r| r.sql)
        .collect();
    assert_eq!(started.len(), 1, "{started:?}");
    assert!(
        started[0].contains("WHERE") && started[0].contains("i32"),
        "filter pushed: {}",
        started[0]
    );
}

/// `EXPLAIN ANALYZE` over an `AthenaTable` shows the plan node's Athena metrics, in row mode and
/// in count mode (where the count row becomes column-less rows).
#[tokio::test]
async fn explain_analyze_through_athena_table_shows_query_id_and_data_scanned() {
    use datafusion::arrow::util::pretty::pretty_format_batches;
    let emu = emulator(50).await;
    let r = runner(&emu, "").await;
    let table = athena_table_t(r);
    let ctx = SessionContext::new();
    ctx.register_table("t", Arc::new(table)).unwrap();
    for (query, sent, rows_fetched, output_rows) in [
        (
            "EXPLAIN ANALYZE SELECT i32 FROM t WHERE i32 >= -650",
            "SELECT \"i32\" FROM \"default\".\"t\" WHERE (\"i32\" >= (-650))",
            // i32 = r * 7 - 1000 >= -650 from r = 50 on: 0 of the 50 rows.
            0,
            0,
        ),
        (
            "EXPLAIN ANALYZE SELECT i32 FROM t WHERE i32 >= -700",
            "SELECT \"i32\" FROM \"default\".\"t\" WHERE (\"i32\" >= (-700))",
            // from r = 43 on (43 * 7 - 1000 = -699): rows 43..=49.
            7,
            7,
        ),
        (
            "EXPLAIN ANALYZE SELECT count(*) FROM t",
            "SELECT count(*) AS \"row_count\" FROM \"default\".\"t\"",
            // One count row from Athena becomes 50 column-less rows.
            1,
            50,
        ),
    ] {
        emu.clear_request_log();
        let batches = ctx.sql(query).await.unwrap().collect().await.unwrap();
        let text = pretty_format_batches(&batches).unwrap().to_string();
        let ids: Vec<String> = emu
            .request_log()
            .into_iter()
            .filter(|r| r.operation == "GetQueryExecution")
            .filter_map(|r| r.query_execution_id)
            .collect();
        let id = ids
            .first()
            .unwrap_or_else(|| panic!("no query ran: {text}"));
        assert!(ids.iter().all(|i| i == id), "one query: {ids:?}");
        let line = text
            .lines()
            .find(|l| l.contains("AthenaExec: sql="))
            .unwrap_or_else(|| panic!("no AthenaExec in {text}"));
        assert!(line.contains(&format!("AthenaExec: sql={sent},")), "{line}");
        assert!(line.contains(&format!("query_id={id}")), "{line}");
        assert!(line.contains("fetch_path=S3"), "{line}");
        assert!(
            line.contains(&format!("output_rows={output_rows},")),
            "{line}"
        );
        assert!(
            line.contains(&format!("rows_fetched={rows_fetched},")),
            "{line}"
        );
        let scanned = line
            .split("data_scanned_bytes=")
            .nth(1)
            .and_then(|rest| rest.split([',', ']']).next())
            .unwrap_or_else(|| panic!("no data_scanned_bytes in {line}"));
        assert!(
            !scanned.trim().is_empty() && scanned.trim() != "0",
            "data scanned is {scanned:?}: {line}"
        );
    }
}

/// Dropping the stream of an `AthenaTable` scan (count mode) while Athena still runs the query
/// stops the query.
#[tokio::test]
async fn dropping_a_table_scan_mid_query_cancels_it() {
    use datafusion::catalog::TableProvider;
    let emu = emulator(10).await;
    emu.faults().slow_queries(Duration::from_secs(30));
    let r = runner(&emu, "").await;
    let table = athena_table_t(r);
    let ctx = SessionContext::new();
    let plan = table
        .scan(&ctx.state(), Some(&vec![]), &[], None)
        .await
        .unwrap();
    assert!(plan.downcast_ref::<AthenaExec>().is_some());
    let mut stream = plan.execute(0, ctx.task_ctx()).unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), stream.next())
            .await
            .is_err(),
        "still running"
    );
    let id = emu
        .request_log()
        .into_iter()
        .find(|r| r.operation == "GetQueryExecution")
        .and_then(|r| r.query_execution_id)
        .expect("the query was started");
    assert_eq!(emu.query_state(&id), Some(QueryState::Running));
    drop(stream);
    wait_until_cancelled(&emu, &id).await;
}

/// Dropping the stream while StartQueryExecution is still being retried (every attempt
/// throttled) leaves no query running: the start is repeated with the same ClientRequestToken
/// once Athena answers again, and the query it names is stopped.
#[tokio::test]
async fn dropping_the_stream_while_the_start_is_retried_stops_the_query() {
    let emu = emulator(10).await;
    emu.faults().slow_queries(Duration::from_secs(30));
    emu.faults().throttle_only(&["StartQueryExecution"]);
    emu.faults().throttle(1.0, ThrottleKind::Throttling);
    let r = runner(&emu, "").await;
    let metrics = QueryMetrics::detached();
    let mut stream = r.execute(ALL, schema(), metrics.clone()).unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), stream.next())
            .await
            .is_err(),
        "still starting"
    );
    assert!(metrics.query_id.values().is_empty(), "no query id yet");
    drop(stream);
    emu.faults().clear();
    let deadline = Instant::now() + Duration::from_secs(10);
    let started = loop {
        let ids: Vec<String> = emu
            .request_log()
            .into_iter()
            .filter(|r| r.operation == "StartQueryExecution" && r.status == 200)
            .filter_map(|r| r.query_execution_id)
            .collect();
        if !ids.is_empty() {
            break ids;
        }
        assert!(Instant::now() < deadline, "the start was never repeated");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(started.len(), 1, "one query started: {started:?}");
    wait_until_cancelled(&emu, &started[0]).await;
}

/// Auto reads a result through UNLOAD when the estimate reaches `AutoUnloadMinRows`, and
/// through the result CSV below it, without an estimate, or with the threshold at 0.
#[tokio::test]
async fn auto_picks_unload_for_results_expected_to_be_large() {
    let emu = emulator(300).await;
    let two: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("i32", DataType::Int32, true),
        Field::new("s", DataType::Utf8, true),
    ]));
    let sql = "SELECT i32, s FROM t ORDER BY i32";
    let fetch = |r: Arc<AthenaRunner>, estimate: Option<usize>| {
        let two = Arc::clone(&two);
        async move {
            let metrics = QueryMetrics::detached();
            let mut stream = r
                .execute_with_estimate(sql, Arc::clone(&two), metrics.clone(), estimate)
                .unwrap();
            let mut rows = 0;
            while let Some(b) = stream.next().await {
                rows += b.unwrap().num_rows();
            }
            (rows, metrics.fetch_path.values())
        }
    };
    let r = runner(&emu, "AutoUnloadMinRows=100;").await;
    assert_eq!(
        fetch(Arc::clone(&r), Some(100)).await,
        (300, vec!["Unload".to_string()])
    );
    assert_eq!(
        fetch(Arc::clone(&r), Some(99)).await,
        (300, vec!["S3".to_string()])
    );
    assert_eq!(
        fetch(Arc::clone(&r), None).await,
        (300, vec!["S3".to_string()])
    );
    let off = runner(&emu, "AutoUnloadMinRows=0;").await;
    assert_eq!(
        fetch(off, Some(1 << 40)).await,
        (300, vec!["S3".to_string()])
    );
    // The default threshold is a million rows.
    let default = runner(&emu, "").await;
    assert_eq!(
        fetch(Arc::clone(&default), Some(999_999)).await.1,
        vec!["S3".to_string()]
    );
    assert_eq!(
        fetch(default, Some(1_000_000)).await.1,
        vec!["Unload".to_string()]
    );
}

/// Through AthenaTable: Glue-style statistics of a large table make Auto read the scan through
/// UNLOAD; the same scan with a pushed filter (estimated at 20%) or without statistics reads
/// the result CSV.
#[tokio::test]
async fn table_statistics_drive_autos_choice_of_unload() {
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::common::Statistics;
    use datafusion::common::stats::Precision;
    let emu = emulator(60).await;
    let r = runner(&emu, "AutoUnloadMinRows=1000;").await;
    let mut stats = Statistics::new_unknown(&schema());
    stats.num_rows = Precision::Exact(2_000);
    let ctx = SessionContext::new();
    ctx.register_table(
        "big",
        Arc::new(athena_table_t(Arc::clone(&r)).with_statistics(stats)),
    )
    .unwrap();
    ctx.register_table("plain", Arc::new(athena_table_t(r)))
        .unwrap();
    for (query, path) in [
        (
            "EXPLAIN ANALYZE SELECT i32, s FROM big",
            "fetch_path=Unload",
        ),
        // 20% of 2,000 is under the threshold.
        (
            "EXPLAIN ANALYZE SELECT i32, s FROM big WHERE i32 > 0",
            "fetch_path=S3",
        ),
        ("EXPLAIN ANALYZE SELECT i32, s FROM plain", "fetch_path=S3"),
    ] {
        let out = ctx.sql(query).await.unwrap().collect().await.unwrap();
        let text = pretty_format_batches(&out).unwrap().to_string();
        assert!(text.contains(path), "{query}: {text}");
    }
}

/// `MaxBytesScanned`: a query whose DataScannedInBytes passes the limit while it runs is
/// stopped within a poll and fails naming the limit and the bytes; under the limit it runs.
#[tokio::test]
async fn a_query_scanning_more_than_max_bytes_scanned_is_stopped_while_it_runs() {
    let emu = Emulator::builder()
        .latencies(Duration::ZERO, Duration::from_secs(5))
        .start()
        .await
        .expect("emulator starts");
    emu.register_batches("default", "t", schema(), vec![batch(200)])
        .unwrap();
    let limited = runner(&emu, "MaxBytesScanned=1KB;").await;
    let started = Instant::now();
    let err = run(&limited, ALL, schema())
        .await
        .expect_err("over the limit");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "stopped while running, not at the end: {:?}",
        started.elapsed()
    );
    let Error::ScanLimitExceeded {
        query_id,
        limit,
        scanned,
    } = scan_error(&err)
    else {
        panic!("{err}");
    };
    assert_eq!(*limit, 1024);
    assert!(*scanned > 1024, "{scanned}");
    let message = err.to_string();
    assert!(
        message.contains("MaxBytesScanned=1024") && message.contains(&scanned.to_string()),
        "{message}"
    );
    // No query is left running.
    let deadline = Instant::now() + Duration::from_secs(2);
    while emu.query_state(query_id) != Some(QueryState::Cancelled) {
        assert!(Instant::now() < deadline, "{:?}", emu.query_state(query_id));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let fast = Emulator::builder()
        .latencies(Duration::ZERO, Duration::from_millis(300))
        .start()
        .await
        .expect("emulator starts");
    fast.register_batches("default", "t", schema(), vec![batch(200)])
        .unwrap();
    let roomy = runner(&fast, "MaxBytesScanned=1GB;").await;
    let (rows, _) = run(&roomy, ALL, schema()).await.expect("under the limit");
    assert_eq!(rows.num_rows(), 200);
}
