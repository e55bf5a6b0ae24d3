//! Query lifecycle and results through the real Athena SDK client.

use std::time::{Duration, Instant};

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use bytes::Bytes;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::common::*;

#[tokio::test]
async fn select_renders_values_like_athena() {
    let emu = emulator().await;
    let client = athena(&emu);
    let q = run(
        &client,
        "SELECT id, name, score, active, born, seen, raw, amount FROM people ORDER BY id",
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let id = q.query_execution_id().unwrap();
    let rows = all_rows(&client, id, 1000).await;
    assert_eq!(
        rows,
        vec![
            strings(&[
                Some("id"),
                Some("name"),
                Some("score"),
                Some("active"),
                Some("born"),
                Some("seen"),
                Some("raw"),
                Some("amount")
            ]),
            strings(&[
                Some("1"),
                Some("ann \"a\", x"),
                Some("1.0E20"),
                Some("true"),
                Some("2020-01-01"),
                Some("2020-01-01 12:34:56.789"),
                Some("01 02"),
                Some("123.45"),
            ]),
            strings(&[
                Some("2"),
                Some(""),
                Some("1.5"),
                Some("false"),
                None,
                None,
                None,
                Some("-0.05")
            ]),
            strings(&[
                Some("3"),
                None,
                None,
                None,
                Some("1970-01-01"),
                Some("1970-01-01 00:00:00.000"),
                Some("ff"),
                None
            ]),
        ]
    );

    let out = client
        .get_query_results()
        .query_execution_id(id)
        .send()
        .await
        .unwrap();
    let info = out
        .result_set()
        .unwrap()
        .result_set_metadata()
        .unwrap()
        .column_info();
    let types: Vec<(&str, &str, i32, i32)> = info
        .iter()
        .map(|c| (c.name(), c.r#type(), c.precision(), c.scale()))
        .collect();
    assert_eq!(
        types,
        vec![
            ("id", "integer", 10, 0),
            ("name", "varchar", 2_147_483_647, 0),
            ("score", "double", 17, 0),
            ("active", "boolean", 0, 0),
            ("born", "date", 0, 0),
            ("seen", "timestamp", 3, 0),
            ("raw", "varbinary", 1_073_741_824, 0),
            ("amount", "decimal", 10, 2),
        ]
    );
    assert_eq!(info[0].catalog_name(), Some("hive"));
    assert!(info[1].case_sensitive() && !info[0].case_sensitive());

    // The result object is Athena's exact CSV.
    let location = q.result_configuration().unwrap().output_location().unwrap();
    assert_eq!(location, format!("s3://athena-results/staging/{id}.csv"));
    let store = s3(&emu, "athena-results");
    let csv = store
        .get(&Path::from(format!("staging/{id}.csv")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&csv).unwrap(),
        "\"id\",\"name\",\"score\",\"active\",\"born\",\"seen\",\"raw\",\"amount\"\n\
         \"1\",\"ann \"\"a\"\", x\",\"1.0E20\",\"true\",\"2020-01-01\",\"2020-01-01 12:34:56.789\",\"01 02\",\"123.45\"\n\
         \"2\",\"\",\"1.5\",\"false\",,,,\"-0.05\"\n\
         \"3\",,,,\"1970-01-01\",\"1970-01-01 00:00:00.000\",\"ff\",\n"
    );
    let meta = store
        .get(&Path::from(format!("staging/{id}.csv.metadata")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(meta[0], 0x0a, "field 1, length-delimited");
    assert_eq!(&meta[2..2 + id.len()], id.as_bytes());
    assert!(meta.windows(7).any(|w| w == b"varchar"));

    let stats = q.statistics().unwrap();
    assert!(stats.data_scanned_in_bytes().unwrap() > 0);
    assert!(stats.total_execution_time_in_millis().is_some());
    assert_eq!(q.statement_type().map(|s| s.as_str()), Some("DML"));
    emu.shutdown().await;
}

#[tokio::test]
async fn unnamed_columns_and_athena_sql() {
    let emu = emulator().await;
    let client = athena(&emu);
    let q = run(
        &client,
        "SELECT count(*), max(n) AS top, 1 + 1 FROM numbers",
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let rows = all_rows(&client, q.query_execution_id().unwrap(), 10).await;
    assert_eq!(
        rows[0],
        strings(&[Some("_col0"), Some("top"), Some("_col2")])
    );
    assert_eq!(rows[1], strings(&[Some("2500"), Some("2499"), Some("2")]));

    // Quoted catalog/database/table names in any case, OFFSET before LIMIT, typed literals.
    let q = run(
        &client,
        r#"SELECT "N", DATE '2020-01-02' AS d, TIMESTAMP '2020-01-01 00:00:00.000' AS t, X'0aff' AS b, 1.5 AS x
           FROM "AwsDataCatalog"."Sales"."Numbers" ORDER BY n OFFSET 10 LIMIT 2"#,
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let rows = all_rows(&client, q.query_execution_id().unwrap(), 10).await;
    assert_eq!(
        rows,
        vec![
            strings(&[Some("n"), Some("d"), Some("t"), Some("b"), Some("x")]),
            strings(&[
                Some("10"),
                Some("2020-01-02"),
                Some("2020-01-01 00:00:00.000"),
                Some("0a ff"),
                Some("1.5")
            ]),
            strings(&[
                Some("11"),
                Some("2020-01-02"),
                Some("2020-01-01 00:00:00.000"),
                Some("0a ff"),
                Some("1.5")
            ]),
        ]
    );
    // db.table from another context database.
    let id = client
        .start_query_execution()
        .query_string("SELECT count(*) AS c FROM sales.people")
        .query_execution_context(
            QueryExecutionContext::builder()
                .database("default")
                .catalog("AwsDataCatalog")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .query_execution_id
        .unwrap();
    let q = wait(&client, &id).await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    assert_eq!(all_rows(&client, &id, 10).await[1], strings(&[Some("3")]));
    emu.shutdown().await;
}

#[tokio::test]
async fn get_query_results_paginates() {
    let emu = emulator().await;
    let client = athena(&emu);
    let q = run(&client, "SELECT n, label FROM numbers ORDER BY n").await;
    let id = q.query_execution_id().unwrap();
    let rows = all_rows(&client, id, 1000).await;
    assert_eq!(rows.len(), 2501, "header + 2500 rows");
    assert_eq!(rows[0], strings(&[Some("n"), Some("label")]));
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(
            row,
            &strings(&[Some(&i.to_string()), Some(&format!("row {i}"))])
        );
    }
    assert_eq!(all_rows(&client, id, 333).await, rows);

    for bad in [0, 1001] {
        let err = client
            .get_query_results()
            .query_execution_id(id)
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        let err = err.into_service_error();
        assert!(err.is_invalid_request_exception(), "{err:?}");
        assert!(
            err.to_string().contains("maxResults") || format!("{err:?}").contains("maxResults")
        );
    }
    let err = client
        .get_query_results()
        .query_execution_id(id)
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_sql_fails_the_query_not_the_call() {
    let emu = emulator().await;
    let client = athena(&emu);
    let cases = [
        ("SELECT * FROM people WHERE", 1006),
        ("SELECT * FROM no_such_table", 1110),
        ("SELEC 1", 1006),
    ];
    for (sql, error_type) in cases {
        let q = run(&client, sql).await;
        assert_eq!(state(&q), QueryExecutionState::Failed, "{sql}");
        let status = q.status().unwrap();
        let error = status.athena_error().unwrap();
        assert_eq!(error.error_category(), Some(2), "{sql}");
        assert_eq!(error.error_type(), Some(error_type), "{sql}: {error:?}");
        assert!(!status.state_change_reason().unwrap_or("").is_empty());
        let err = client
            .get_query_results()
            .query_execution_id(q.query_execution_id().unwrap())
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_invalid_request_exception());
        assert!(format!("{err:?}").contains("FAILED"));
    }
    // Statements that change things are refused.
    let q = run(&client, "CREATE TABLE x AS SELECT 1").await;
    assert_eq!(state(&q), QueryExecutionState::Failed);
    // Unknown ids are request errors.
    let err = client
        .get_query_execution()
        .query_execution_id("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    let err = client
        .start_query_execution()
        .query_string("SELECT 1")
        .work_group("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_request_exception());
    emu.shutdown().await;
}

#[tokio::test]
async fn stop_cancels_the_running_task() {
    let emu = emulator().await;
    let client = athena(&emu);
    // A query that would run for a very long time.
    let id = start(
        &client,
        "SELECT count(*) FROM numbers a, numbers b, numbers c WHERE a.n + b.n + c.n < 0",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while emu.query_state(&id) != Some(datafusion_athena_emulator::QueryState::Running) {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(emu.running_query_tasks(), 1);
    client
        .stop_query_execution()
        .query_execution_id(&id)
        .send()
        .await
        .unwrap();
    let q = wait(&client, &id).await;
    assert_eq!(state(&q), QueryExecutionState::Cancelled);
    assert_eq!(
        q.status().unwrap().state_change_reason(),
        Some("Query cancelled by user")
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.running_query_tasks() != 0 {
        assert!(
            Instant::now() < deadline,
            "the DataFusion task kept running"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Stopping again, or stopping a finished query, succeeds and changes nothing.
    client
        .stop_query_execution()
        .query_execution_id(&id)
        .send()
        .await
        .unwrap();
    let done = run(&client, "SELECT 1 AS one").await;
    client
        .stop_query_execution()
        .query_execution_id(done.query_execution_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        emu.query_state(done.query_execution_id().unwrap()),
        Some(datafusion_athena_emulator::QueryState::Succeeded)
    );
    let err = client
        .get_query_results()
        .query_execution_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(format!("{:?}", err.into_service_error()).contains("CANCELLED"));
    emu.shutdown().await;
}

#[tokio::test]
async fn states_follow_the_configured_latencies() {
    let emu = emulator().await;
    emu.set_latencies(Duration::from_millis(400), Duration::from_millis(400));
    let client = athena(&emu);
    let id = start(&client, "SELECT 1 AS one").await;
    let first = client
        .get_query_execution()
        .query_execution_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        state(first.query_execution().unwrap()),
        QueryExecutionState::Queued
    );
    let err = client
        .get_query_results()
        .query_execution_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(format!("{:?}", err.into_service_error()).contains("not yet finished"));
    let mut seen_running = false;
    let q = loop {
        let q = client
            .get_query_execution()
            .query_execution_id(&id)
            .send()
            .await
            .unwrap()
            .query_execution
            .unwrap();
        match state(&q) {
            QueryExecutionState::Running => seen_running = true,
            QueryExecutionState::Succeeded => break q,
            QueryExecutionState::Queued => {}
            other => panic!("unexpected {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(seen_running);
    let stats = q.statistics().unwrap();
    assert!(
        stats.query_queue_time_in_millis().unwrap() >= 350,
        "{stats:?}"
    );
    assert!(
        stats.engine_execution_time_in_millis().unwrap() >= 350,
        "{stats:?}"
    );
    assert!(
        stats.total_execution_time_in_millis().unwrap() >= 750,
        "{stats:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn client_request_token_makes_start_idempotent() {
    let emu = emulator().await;
    let client = athena(&emu);
    let token = "0123456789abcdef0123456789abcdef";
    let send = |sql: &'static str| {
        client
            .start_query_execution()
            .query_string(sql)
            .client_request_token(token)
            .query_execution_context(QueryExecutionContext::builder().database("sales").build())
            .send()
    };
    let a = send("SELECT 1 AS one")
        .await
        .unwrap()
        .query_execution_id
        .unwrap();
    let b = send("SELECT 1 AS one")
        .await
        .unwrap()
        .query_execution_id
        .unwrap();
    assert_eq!(a, b);
    let err = send("SELECT 2 AS two")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    let short = client
        .start_query_execution()
        .query_string("SELECT 1")
        .client_request_token("short")
        .send()
        .await;
    assert!(
        short
            .unwrap_err()
            .into_service_error()
            .is_invalid_request_exception()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn list_and_batch_get_query_executions() {
    let emu = emulator().await;
    let client = athena(&emu);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            run(&client, &format!("SELECT {i} AS i"))
                .await
                .query_execution_id
                .unwrap(),
        );
    }
    let managed = client
        .start_query_execution()
        .query_string("SELECT 1 AS one")
        .work_group("managed")
        .send()
        .await
        .unwrap()
        .query_execution_id
        .unwrap();
    let first = client
        .list_query_executions()
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.query_execution_ids(),
        &[ids[2].clone(), ids[1].clone()],
        "newest first"
    );
    let second = client
        .list_query_executions()
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.query_execution_ids(), &[ids[0].clone()]);
    assert!(second.next_token().is_none());
    let in_managed = client
        .list_query_executions()
        .work_group("managed")
        .send()
        .await
        .unwrap();
    assert_eq!(in_managed.query_execution_ids(), &[managed]);
    let err = client
        .list_query_executions()
        .max_results(51)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_request_exception());

    let batch = client
        .batch_get_query_execution()
        .query_execution_ids(&ids[0])
        .query_execution_ids("missing-id")
        .send()
        .await
        .unwrap();
    assert_eq!(batch.query_executions().len(), 1);
    assert_eq!(
        batch.query_executions()[0].query_execution_id(),
        Some(ids[0].as_str())
    );
    assert_eq!(
        batch.unprocessed_query_execution_ids()[0].query_execution_id(),
        Some("missing-id")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn output_locations_and_managed_results() {
    let emu = emulator().await;
    let client = athena(&emu);
    let store = s3(&emu, "athena-results");
    // A request OutputLocation overrides the workgroup's.
    let id = client
        .start_query_execution()
        .query_string("SELECT 'x' AS v")
        .result_configuration(
            ResultConfiguration::builder()
                .output_location("s3://athena-results/custom/")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .query_execution_id
        .unwrap();
    let q = wait(&client, &id).await;
    assert_eq!(
        q.result_configuration().unwrap().output_location(),
        Some(format!("s3://athena-results/custom/{id}.csv").as_str())
    );
    let body = store
        .get(&Path::from(format!("custom/{id}.csv")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&body[..], b"\"v\"\n\"x\"\n");

    // A missing bucket fails the query.
    let id = client
        .start_query_execution()
        .query_string("SELECT 1 AS one")
        .result_configuration(
            ResultConfiguration::builder()
                .output_location("s3://no-such-bucket/x/")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .query_execution_id
        .unwrap();
    let q = wait(&client, &id).await;
    assert_eq!(state(&q), QueryExecutionState::Failed);

    // Managed results: no OutputLocation, rows only through GetQueryResults.
    let id = client
        .start_query_execution()
        .query_string("SELECT 'm' AS v")
        .work_group("managed")
        .send()
        .await
        .unwrap()
        .query_execution_id
        .unwrap();
    let q = wait(&client, &id).await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded);
    assert!(
        q.result_configuration()
            .and_then(|r| r.output_location())
            .is_none()
    );
    assert_eq!(
        all_rows(&client, &id, 10).await,
        vec![strings(&[Some("v")]), strings(&[Some("m")])]
    );
    let listed: Vec<_> = futures::StreamExt::collect::<Vec<_>>(store.list(None)).await;
    assert!(
        listed
            .iter()
            .all(|o| !o.as_ref().unwrap().location.as_ref().contains(&id))
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn unload_writes_parquet_and_a_manifest() {
    let emu = emulator().await;
    let client = athena(&emu);
    let store = s3(&emu, "athena-results");
    let sql = "UNLOAD (SELECT n, label FROM numbers WHERE n < 100) TO 's3://athena-results/unload/a/' WITH (format = 'PARQUET', compression = 'SNAPPY')";
    let q = run(&client, sql).await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let manifest_uri = q
        .statistics()
        .unwrap()
        .data_manifest_location()
        .unwrap()
        .to_owned();
    let manifest_key = manifest_uri.strip_prefix("s3://athena-results/").unwrap();
    let manifest = store
        .get(&Path::from(manifest_key))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let files: Vec<&str> = std::str::from_utf8(&manifest).unwrap().lines().collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].starts_with("s3://athena-results/unload/a/"));
    let data: Bytes = store
        .get(&Path::from(
            files[0].strip_prefix("s3://athena-results/").unwrap(),
        ))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(data).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 100);
    let schema = std::sync::Arc::clone(reader.schema());
    assert_eq!(schema.field(0).name(), "n");
    assert_eq!(schema.field(1).name(), "label");
    let codec = reader.metadata().row_group(0).column(0).compression();
    assert_eq!(codec, datafusion::parquet::basic::Compression::SNAPPY);

    // The TO location is not empty any more.
    let again = run(&client, sql).await;
    assert_eq!(state(&again), QueryExecutionState::Failed);
    assert!(
        again
            .status()
            .unwrap()
            .state_change_reason()
            .unwrap()
            .contains("HIVE_PATH_ALREADY_EXISTS")
    );
    // Unnamed columns are refused.
    let unnamed = run(&client, "UNLOAD (SELECT n + 1 FROM numbers) TO 's3://athena-results/unload/b/' WITH (format = 'PARQUET')").await;
    assert_eq!(state(&unnamed), QueryExecutionState::Failed);
    emu.shutdown().await;
}

/// 10 million rows are streamed to disk; run with `--ignored --nocapture` to see peak RSS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: 10 million rows"]
async fn ten_million_rows_stream_to_disk() {
    let emu = emulator().await;
    let client = athena(&emu);
    let q = run(
        &client,
        "SELECT value AS n, value * 2 AS m FROM generate_series(1, 10000000)",
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let id = q.query_execution_id().unwrap();
    let head = s3(&emu, "athena-results")
        .head(&Path::from(format!("staging/{id}.csv")))
        .await
        .unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown")
        .to_owned();
    println!("result CSV {} bytes; peak RSS {peak}", head.size);
    assert!(head.size > 10_000_000 * 4);
    let page = client
        .get_query_results()
        .query_execution_id(id)
        .max_results(3)
        .send()
        .await
        .unwrap();
    assert_eq!(page.result_set().unwrap().rows().len(), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn execution_parameters_bind_placeholders() {
    let emu = emulator().await;
    let client = athena(&emu);
    let id = client
        .start_query_execution()
        .query_string("SELECT n FROM numbers WHERE label = ? OR n = ? ORDER BY n")
        .execution_parameters("'row 5'")
        .execution_parameters("7")
        .query_execution_context(QueryExecutionContext::builder().database("sales").build())
        .send()
        .await
        .unwrap()
        .query_execution_id
        .unwrap();
    let q = wait(&client, &id).await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    assert_eq!(
        q.query(),
        Some("SELECT n FROM numbers WHERE label = ? OR n = ? ORDER BY n")
    );
    assert_eq!(
        all_rows(&client, &id, 10).await,
        vec![
            strings(&[Some("n")]),
            strings(&[Some("5")]),
            strings(&[Some("7")])
        ]
    );
    let err = client
        .start_query_execution()
        .query_string("SELECT ?")
        .execution_parameters("1")
        .execution_parameters("2")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn quoted_literals_survive_identifier_folding() {
    let emu = emulator().await;
    let client = athena(&emu);
    // Upper case in a quoted identifier makes the emulator fold identifiers; the string
    // literals around it must keep their '' escapes.
    let q = run(
        &client,
        r#"SELECT 'O''Brien' AS "Who" FROM "AwsDataCatalog"."sales"."people" WHERE id = 1"#,
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let rows = all_rows(&client, q.query_execution_id().unwrap(), 100).await;
    assert_eq!(
        rows,
        vec![strings(&[Some("who")]), strings(&[Some("O'Brien")])]
    );

    // A literal that would read as `'x' OR '1'='1'` if its quotes were not re-doubled.
    let q = run(
        &client,
        r#"SELECT id FROM "AwsDataCatalog"."sales"."people" WHERE name = 'x'' OR ''1''=''1'"#,
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let rows = all_rows(&client, q.query_execution_id().unwrap(), 100).await;
    assert_eq!(rows, vec![strings(&[Some("id")])], "no row has that name");
}

#[tokio::test]
async fn cast_to_json_renders_nested_values_as_json_text() {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, Int32Array, Int64Builder, ListArray, MapBuilder, StringArray, StringBuilder,
        StructArray,
    };
    use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use datafusion::arrow::record_batch::RecordBatch;

    let emu = emulator().await;
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        Some(vec![Some(3), None]),
        None,
    ]);
    let row = StructArray::from(vec![
        (
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("b", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec![Some("x, \"y\""), Some("z"), None])) as ArrayRef,
        ),
    ]);
    let mut map = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    map.keys().append_value("a");
    map.values().append_value(1);
    map.append(true).unwrap();
    map.append(false).unwrap();
    map.keys().append_value("k");
    map.values().append_null();
    map.append(true).unwrap();
    let map = map.finish();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![1, 2, 3])),
        Arc::new(list),
        Arc::new(row),
        Arc::new(map),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("l", columns[1].data_type().clone(), true),
        Field::new("r", columns[2].data_type().clone(), true),
        Field::new("m", columns[3].data_type().clone(), true),
    ]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    emu.register_batches("sales", "nested", schema, vec![batch])
        .unwrap();

    let client = athena(&emu);
    let q = run(
        &client,
        "SELECT CAST(l AS JSON) AS l, CAST(r AS JSON) AS r, CAST(m AS JSON) AS m FROM nested ORDER BY id",
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let id = q.query_execution_id().unwrap();
    assert_eq!(
        all_rows(&client, id, 100).await,
        vec![
            strings(&[Some("l"), Some("r"), Some("m")]),
            strings(&[
                Some("[1,2]"),
                Some(r#"{"a":1,"b":"x, \"y\""}"#),
                Some(r#"{"a":1}"#)
            ]),
            strings(&[Some("[3,null]"), Some(r#"{"a":null,"b":"z"}"#), None]),
            strings(&[None, Some(r#"{"a":3,"b":null}"#), Some(r#"{"k":null}"#)]),
        ]
    );
    let out = client
        .get_query_results()
        .query_execution_id(id)
        .send()
        .await
        .unwrap();
    let types: Vec<&str> = out
        .result_set()
        .and_then(|r| r.result_set_metadata())
        .map(|m| m.column_info().iter().map(|c| c.r#type()).collect())
        .unwrap_or_default();
    assert_eq!(types, ["json", "json", "json"]);
    let q = run(&client, "SELECT l::json AS l FROM nested WHERE id = 1").await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    assert_eq!(
        all_rows(&client, q.query_execution_id().unwrap(), 10).await,
        vec![strings(&[Some("l")]), strings(&[Some("[1,2]")])]
    );

    let csv = s3(&emu, "athena-results")
        .get(&Path::from(format!("staging/{id}.csv")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(csv.to_vec()).unwrap(),
        concat!(
            "\"l\",\"r\",\"m\"\n",
            "\"[1,2]\",\"{\"\"a\"\":1,\"\"b\"\":\"\"x, \\\"\"y\\\"\"\"\"}\",\"{\"\"a\"\":1}\"\n",
            "\"[3,null]\",\"{\"\"a\"\":null,\"\"b\"\":\"\"z\"\"}\",\n",
            ",\"{\"\"a\"\":3,\"\"b\"\":null}\",\"{\"\"k\"\":null}\"\n",
        )
    );
}
