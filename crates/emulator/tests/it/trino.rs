//! The Trino engine: the same Athena API, with every SELECT (and UNLOAD's SELECT) run by Trino
//! over the tables the emulator's Glue and S3 serve.
//!
//! The tests share one Trino server: the one `ATHENA_TRINO_URL` names (scripts/test starts
//! one), else one started here from `scripts/trino install`'s installation. Without Trino the
//! tests say so and pass, unless `ATHENA_TEST_REQUIRE_PEERS` is set (scripts/test and CI set
//! it), when they fail.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_athena::types::{QueryExecution, QueryExecutionContext, QueryExecutionState};
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion_athena_emulator::{Emulator, EmulatorHandle, Engine, shared_trino_url};

use crate::common::{AK, SK, all_rows, athena, people, state, strings, wait};

/// The shared server's URL, or why there is none.
async fn trino_url() -> Option<String> {
    let url = shared_trino_url().await;
    match url {
        Ok(url) => Some(url),
        Err(reason) => {
            assert!(
                std::env::var_os("ATHENA_TEST_REQUIRE_PEERS").is_none(),
                "no Trino ({reason}), and ATHENA_TEST_REQUIRE_PEERS is set"
            );
            eprintln!("skipping a Trino test: {reason}");
            None
        }
    }
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// `shop.orders` (Parquet, partitioned by `dt`), `shop.cities` (CSV) and `shop.people`
/// (registered batches).
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("amount", DataType::Decimal128(10, 2), true),
        Field::new("price", DataType::Float64, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("d", DataType::Date32, true),
        Field::new("note", DataType::Utf8, true),
    ]));
    for (dt, ids) in [("2024-01-01", [1i64, 2, 3]), ("2024-01-02", [4, 5, 6])] {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(
                Decimal128Array::from(
                    ids.iter()
                        .map(|i| Some(i128::from(*i) * 1050))
                        .collect::<Vec<_>>(),
                )
                .with_precision_and_scale(10, 2)
                .unwrap(),
            ),
            Arc::new(Float64Array::from(
                ids.iter().map(|i| *i as f64 * 0.1).collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMillisecondArray::from(
                ids.iter()
                    .map(|i| 1_704_067_200_000 + i * 3_600_123)
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                ids.iter().map(|i| -365 * *i as i32).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                ids.iter()
                    .map(|i| (i % 2 == 0).then(|| format!("n\"{i}\", x")))
                    .collect::<Vec<_>>(),
            )),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
        write_parquet(
            &dir.path()
                .join(format!("shop/orders/dt={dt}/part-0.parquet")),
            &batch,
        );
    }
    let cities = dir.path().join("shop/cities");
    std::fs::create_dir_all(&cities).unwrap();
    std::fs::write(
        cities.join("cities.csv"),
        "id,name,pop\n1,Berlin,3850000\n2,Paris,2100000\n4,Roma,2750000\n",
    )
    .unwrap();
    dir
}

async fn emulator(engine: Engine, dir: &Path, url: Option<&str>) -> EmulatorHandle {
    let mut builder = Emulator::builder()
        .credentials(AK, SK)
        .region("us-east-1")
        .data_dir(dir)
        .engine(engine);
    if let Some(url) = url {
        builder = builder.trino_url(url);
    }
    let emu = builder.start().await.expect("emulator starts");
    let (schema, batch) = people();
    emu.register_batches("shop", "people", schema, vec![batch])
        .unwrap();
    emu
}

/// Runs `sql` in database `shop` to its end.
async fn execute(client: &aws_sdk_athena::Client, sql: &str) -> QueryExecution {
    let id = client
        .start_query_execution()
        .query_string(sql)
        .query_execution_context(QueryExecutionContext::builder().database("shop").build())
        .send()
        .await
        .expect("StartQueryExecution")
        .query_execution_id
        .unwrap();
    wait(client, &id).await
}

/// Runs `sql` in database `shop`; returns the rows (header first) or the FAILED reason.
async fn query(emu: &EmulatorHandle, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let client = athena(emu);
    let q = execute(&client, sql).await;
    match state(&q) {
        QueryExecutionState::Succeeded => {
            Ok(all_rows(&client, q.query_execution_id().unwrap(), 1000).await)
        }
        _ => Err(q
            .status()
            .and_then(|s| s.state_change_reason())
            .unwrap_or_default()
            .to_owned()),
    }
}

fn row(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some((*v).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_parquet_csv_join_and_window() {
    let Some(url) = trino_url().await else { return };
    let dir = data_dir();
    let emu = emulator(Engine::Trino, dir.path(), Some(&url)).await;
    assert_eq!(emu.engine(), Engine::Trino);
    let client = athena(&emu);

    // Partition pruning: only dt=2024-01-02 is read; DataScannedInBytes comes from Trino.
    let q = execute(
        &client,
        "SELECT dt, count(*) AS n, sum(amount) AS total FROM orders WHERE dt = '2024-01-02' GROUP BY dt",
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let scanned = q
        .statistics()
        .and_then(|s| s.data_scanned_in_bytes())
        .unwrap_or(0);
    assert!(scanned > 0, "{q:?}");
    let id = q.query_execution_id().unwrap();
    let rows = all_rows(&client, id, 10).await;
    assert_eq!(
        rows,
        [
            row(&["dt", "n", "total"]),
            row(&["2024-01-02", "3", "157.50"])
        ]
    );
    let out = client
        .get_query_results()
        .query_execution_id(id)
        .send()
        .await
        .unwrap();
    let types: Vec<(String, i32, i32)> = out
        .result_set()
        .unwrap()
        .result_set_metadata()
        .unwrap()
        .column_info()
        .iter()
        .map(|c| (c.r#type().to_owned(), c.precision(), c.scale()))
        .collect();
    assert_eq!(
        types,
        [
            ("varchar".to_owned(), 2_147_483_647, 0),
            ("bigint".to_owned(), 19, 0),
            ("decimal".to_owned(), 38, 2)
        ]
    );

    // The CSV table (header skipped, typed columns) joined with the Parquet table, with a
    // window over the join.
    let rows = query(
        &emu,
        "SELECT o.id, c.name, c.pop * 2 AS pop2, rank() OVER (PARTITION BY o.dt ORDER BY o.amount DESC) AS r \
         FROM orders o JOIN cities c ON o.id = c.id ORDER BY o.id",
    )
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            row(&["id", "name", "pop2", "r"]),
            row(&["1", "Berlin", "7700000", "2"]),
            row(&["2", "Paris", "4200000", "1"]),
            row(&["4", "Roma", "5500000", "1"]),
        ]
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_render_as_on_the_datafusion_engine() {
    let Some(url) = trino_url().await else { return };
    let dir = data_dir();
    let trino = emulator(Engine::Trino, dir.path(), Some(&url)).await;
    let datafusion = emulator(Engine::DataFusion, dir.path(), None).await;
    for sql in [
        "SELECT * FROM people ORDER BY id",
        "SELECT id, amount, price, ts, d, note, dt FROM orders ORDER BY id",
        "SELECT id, amount * 2 AS a2, price / 3 AS p3, CAST(id AS double) * 1e20 AS big, ts + INTERVAL '1' DAY AS t1 \
         FROM orders ORDER BY id",
    ] {
        let expected = query(&datafusion, sql).await.unwrap();
        assert_eq!(query(&trino, sql).await.unwrap(), expected, "{sql}");
    }
    // Types DataFusion has no literal syntax for, as Athena prints them.
    let rows = query(
        &trino,
        "SELECT ARRAY[1, NULL, 3] AS a, MAP(ARRAY['k', 'j'], ARRAY[1, 2]) AS m, \
         CAST(ROW(1, 'x y') AS ROW(id integer, name varchar)) AS r, X'01ff' AS b, nan() AS n, \
         -infinity() AS i, CAST(0.1 AS real) AS f, CAST('a' AS char(3)) AS c, DATE '1900-01-01' AS old",
    )
    .await
    .unwrap();
    assert_eq!(
        rows[1],
        strings(&[
            Some("[1, null, 3]"),
            Some("{k=1, j=2}"),
            Some("{id=1, name=x y}"),
            Some("01 ff"),
            Some("NaN"),
            Some("-Infinity"),
            Some("0.1"),
            Some("a  "),
            Some("1900-01-01"),
        ])
    );
    trino.shutdown().await;
    datafusion.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_trinos_name_and_message() {
    let Some(url) = trino_url().await else { return };
    let dir = data_dir();
    let emu = emulator(Engine::Trino, dir.path(), Some(&url)).await;
    let reason = query(&emu, "SELECT nope FROM orders").await.unwrap_err();
    assert_eq!(
        reason,
        "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    );
    let reason = query(&emu, "SELECT * FROM awsdatacatalog.shop.missing")
        .await
        .unwrap_err();
    assert_eq!(
        reason,
        "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.shop.missing' does not exist"
    );
    let reason = query(&emu, "SELECT 1 / (id - id) FROM orders")
        .await
        .unwrap_err();
    assert_eq!(reason, "DIVISION_BY_ZERO: Division by zero");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unload_runs_its_select_on_trino() {
    let Some(url) = trino_url().await else { return };
    let dir = data_dir();
    let emu = emulator(Engine::Trino, dir.path(), Some(&url)).await;
    let client = athena(&emu);
    let q = execute(
        &client,
        "UNLOAD (SELECT id, amount, ts FROM \"AwsDataCatalog\".\"shop\".\"orders\" WHERE dt = '2024-01-01') \
         TO 's3://athena-results/unload/t/' WITH (format = 'PARQUET', compression = 'SNAPPY')",
    )
    .await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let unnamed = execute(
        &client,
        "UNLOAD (SELECT id + 1 FROM orders) TO 's3://athena-results/unload/u/' WITH (format = 'PARQUET')",
    )
    .await;
    assert_eq!(state(&unnamed), QueryExecutionState::Failed, "{unnamed:?}");
    let unloaded = emu.storage_dir().join("athena-results/unload/t");
    let mut rows = 0;
    let mut schema = None;
    for file in std::fs::read_dir(&unloaded).unwrap() {
        let file = std::fs::File::open(file.unwrap().path()).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        schema = Some(Arc::clone(reader.schema()));
        rows += reader.metadata().file_metadata().num_rows();
    }
    assert_eq!(rows, 3);
    let schema = schema.unwrap();
    assert_eq!(schema.field(1).data_type(), &DataType::Decimal128(10, 2));
    assert_eq!(
        schema.field(2).data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, None)
    );
    emu.shutdown().await;
}
