//! A data directory of Parquet and CSV files, with Hive partitions.

use std::path::Path;

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion_athena_emulator::Emulator;

use crate::common::*;

fn write_parquet(path: &Path, rows: i64) -> u64 {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let (schema, batch) = numbers(rows);
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    std::fs::metadata(path).unwrap().len()
}

#[tokio::test]
async fn serves_parquet_and_csv_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut events_bytes = 0;
    events_bytes += write_parquet(
        &root.join("lake/events/year=2023/month=1/part-0.parquet"),
        10,
    );
    events_bytes += write_parquet(
        &root.join("lake/events/year=2024/month=2/part-0.parquet"),
        5,
    );
    std::fs::create_dir_all(root.join("lake/cities")).unwrap();
    std::fs::write(
        root.join("lake/cities/cities.csv"),
        "city,population\nOslo,700000\nBergen,290000\n",
    )
    .unwrap();

    let emu = Emulator::builder()
        .data_dir(root)
        .credentials(AK, SK)
        .start()
        .await
        .unwrap();
    let client = athena(&emu);
    let run_in_lake = |sql: &'static str| {
        let client = client.clone();
        async move {
            let id = client
                .start_query_execution()
                .query_string(sql)
                .query_execution_context(QueryExecutionContext::builder().database("lake").build())
                .send()
                .await
                .unwrap()
                .query_execution_id
                .unwrap();
            let q = wait(&client, &id).await;
            assert_eq!(state(&q), QueryExecutionState::Succeeded, "{sql}: {q:?}");
            (all_rows(&client, &id, 1000).await, q)
        }
    };
    let (rows, q) =
        run_in_lake("SELECT year, count(*) AS c FROM events GROUP BY year ORDER BY year").await;
    assert_eq!(
        rows,
        vec![
            strings(&[Some("year"), Some("c")]),
            strings(&[Some("2023"), Some("10")]),
            strings(&[Some("2024"), Some("5")]),
        ]
    );
    // DataScannedInBytes counts the Parquet column chunks read, as Athena does: partition
    // values and footers' row counts need none; a column of every file some; a column of the
    // one file left after partition pruning less.
    let scanned = |q: &aws_sdk_athena::types::QueryExecution| {
        q.statistics()
            .and_then(|s| s.data_scanned_in_bytes())
            .expect("DataScannedInBytes")
    };
    assert!(scanned(&q) < events_bytes as i64, "{q:?}");
    let (rows, all) = run_in_lake("SELECT sum(n) AS s FROM events").await;
    assert_eq!(rows.len(), 2);
    let (rows, pruned) = run_in_lake(
        "SELECT n FROM events WHERE year = '2024' AND month = '2' ORDER BY n DESC LIMIT 1",
    )
    .await;
    assert_eq!(rows[1], strings(&[Some("4")]));
    assert!(
        0 < scanned(&pruned)
            && scanned(&pruned) < scanned(&all)
            && scanned(&all) <= events_bytes as i64,
        "pruned {} < all {} <= files {events_bytes}",
        scanned(&pruned),
        scanned(&all)
    );
    let (rows, _) =
        run_in_lake(r#"SELECT city FROM "lake"."cities" WHERE population > 500000"#).await;
    assert_eq!(
        rows,
        vec![strings(&[Some("city")]), strings(&[Some("Oslo")])]
    );

    let glue = glue(&emu);
    let table = glue
        .get_table()
        .database_name("lake")
        .name("events")
        .send()
        .await
        .unwrap();
    let keys: Vec<(&str, Option<&str>)> = table
        .table()
        .unwrap()
        .partition_keys()
        .iter()
        .map(|c| (c.name(), c.r#type()))
        .collect();
    assert_eq!(keys, [("year", Some("string")), ("month", Some("string"))]);
    let parts = glue
        .get_partitions()
        .database_name("lake")
        .table_name("events")
        .send()
        .await
        .unwrap();
    let mut values: Vec<Vec<String>> = parts
        .partitions()
        .iter()
        .map(|p| p.values().to_vec())
        .collect();
    values.sort();
    assert_eq!(
        values,
        [
            vec!["2023".to_owned(), "1".to_owned()],
            vec!["2024".to_owned(), "2".to_owned()]
        ]
    );
    let page = glue
        .get_partitions()
        .database_name("lake")
        .table_name("events")
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.partitions().len(), 1);
    assert!(page.next_token().is_some());
    let cities = glue
        .get_table()
        .database_name("lake")
        .name("cities")
        .send()
        .await
        .unwrap();
    let cols = cities
        .table()
        .unwrap()
        .storage_descriptor()
        .unwrap()
        .columns();
    assert_eq!(cols[0].r#type(), Some("string"));
    assert_eq!(cols[1].r#type(), Some("bigint"));
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_data_directories_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("db/t/not_a_partition")).unwrap();
    write_parquet(&dir.path().join("db/t/not_a_partition/x.parquet"), 1);
    let err = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("key=value"), "{err}");

    let err = Emulator::builder()
        .data_dir(dir.path().join("missing"))
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");

    let emu = Emulator::builder().start().await.unwrap();
    let (schema, batch) = numbers(1);
    let err = emu
        .register_batches("Bad-Name", "t", schema, vec![batch])
        .unwrap_err();
    assert!(err.to_string().contains("Bad-Name"), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn column_names_fold_to_lower_case() {
    use std::sync::Arc;

    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;

    let schema = Arc::new(Schema::new(vec![Field::new(
        "UserId",
        DataType::Int64,
        false,
    )]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(Int64Array::from(vec![7, 8]))],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lake/mixed/Year=2023/part.parquet");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut writer = ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        Arc::clone(&schema),
        None,
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    let emu = Emulator::builder()
        .data_dir(dir.path())
        .credentials(AK, SK)
        .start()
        .await
        .unwrap();
    emu.register_batches("lake", "mem", schema, vec![batch])
        .unwrap();
    let client = athena(&emu);
    for sql in [
        r#"SELECT userid, "UserId" AS again, year FROM lake.mixed WHERE year = '2023' ORDER BY userid"#,
        "SELECT UserId AS userid, userid AS again, '2023' AS year FROM lake.mem ORDER BY 1",
    ] {
        let q = run(&client, sql).await;
        assert_eq!(state(&q), QueryExecutionState::Succeeded, "{sql}: {q:?}");
        assert_eq!(
            all_rows(&client, q.query_execution_id().unwrap(), 10).await,
            vec![
                strings(&[Some("userid"), Some("again"), Some("year")]),
                strings(&[Some("7"), Some("7"), Some("2023")]),
                strings(&[Some("8"), Some("8"), Some("2023")]),
            ],
            "{sql}"
        );
    }
    let table = glue(&emu)
        .get_table()
        .database_name("lake")
        .name("mixed")
        .send()
        .await
        .unwrap();
    let t = table.table().unwrap();
    assert_eq!(
        t.storage_descriptor().unwrap().columns()[0].name(),
        "userid"
    );
    assert_eq!(t.partition_keys()[0].name(), "year");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_single_database_becomes_the_connection_strings_database() {
    let database_of = |cs: String| {
        cs.split(';')
            .find_map(|p| p.strip_prefix("Database=").map(str::to_owned))
            .unwrap_or_else(|| panic!("no Database in {cs}"))
    };
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("lake/events/part-0.parquet"), 3);
    let start = |database: Option<&'static str>| {
        let root = dir.path().to_owned();
        async move {
            let mut builder = Emulator::builder().data_dir(root).credentials(AK, SK);
            if let Some(db) = database {
                builder = builder.database(db);
            }
            builder.start().await.unwrap()
        }
    };

    // One database directory: it is the connection string's Database.
    let emu = start(None).await;
    assert_eq!(database_of(emu.connection_string()), "lake");
    let client = athena(&emu);
    let q = run(&client, "SELECT count(*) FROM lake.events").await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    emu.shutdown().await;

    // `.database(..)` wins.
    let emu = start(Some("other")).await;
    assert_eq!(database_of(emu.connection_string()), "other");
    emu.shutdown().await;

    // Two databases: `default`.
    write_parquet(&dir.path().join("second/t/part-0.parquet"), 1);
    let emu = start(None).await;
    assert_eq!(database_of(emu.connection_string()), "default");
    emu.shutdown().await;

    // No data directory: `default`.
    let emu = Emulator::builder().start().await.unwrap();
    assert_eq!(database_of(emu.connection_string()), "default");
    emu.shutdown().await;
}

/// The temporary storage directory goes with the last handle, even when a query task still
/// runs and `shutdown` was never called.
#[tokio::test]
async fn dropping_the_handle_removes_the_temporary_storage() {
    let emu = Emulator::builder()
        .latencies(
            std::time::Duration::from_secs(30),
            std::time::Duration::ZERO,
        )
        .credentials(AK, SK)
        .start()
        .await
        .unwrap();
    let dir = emu.storage_dir().to_path_buf();
    let client = athena(&emu);
    client
        .start_query_execution()
        .query_string("SELECT 1")
        .send()
        .await
        .unwrap();
    assert!(dir.is_dir());
    let clone = emu.clone();
    drop(emu);
    assert!(dir.is_dir(), "a clone still holds the emulator");
    drop(clone);
    assert!(!dir.exists(), "{} left behind", dir.display());
}
