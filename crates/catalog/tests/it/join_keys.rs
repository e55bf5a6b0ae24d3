//! Glue statistics and join key pushdown through `register_athena` and the emulator: the row
//! count Glue reports puts a local Parquet file of 1,000 keys on the build side, and its keys
//! reach Athena as one `IN` list (the session's list limit is raised by `register_athena`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::stats::Precision;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::displayable;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion_athena_catalog::{JOIN_KEY_LIST_MAX_DISTINCT, register_athena};
use datafusion_athena_emulator::{Emulator, Service, dump_sql};

const FACT_ROWS: i64 = 20_000;

fn schema(columns: &[&str]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Int64, true))
            .collect::<Vec<_>>(),
    ))
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let file = std::fs::File::create(path).expect("create");
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(batch).expect("write");
    writer.close().expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glue_row_counts_put_local_keys_on_the_build_side_and_send_them_as_a_list() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Athena: `facts(id, k)` with k = id % 5000, so each key matches 4 rows.
    let ids: Vec<i64> = (0..FACT_ROWS).collect();
    let facts = RecordBatch::try_new(
        schema(&["id", "k"]),
        vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(Int64Array::from(
                ids.iter().map(|i| i % 5_000).collect::<Vec<_>>(),
            )),
        ],
    )
    .expect("facts");
    write_parquet(&dir.path().join("data/sales/facts/part-0.parquet"), &facts);
    // Local: 1,000 distinct keys, half of them in Athena.
    let keys: Vec<i64> = (0..1_000).map(|i| i * 10).collect();
    let local =
        RecordBatch::try_new(schema(&["k"]), vec![Arc::new(Int64Array::from(keys))]).expect("keys");
    let local_path = dir.path().join("local/keys.parquet");
    write_parquet(&local_path, &local);

    let emu = Emulator::builder()
        .data_dir(dir.path().join("data"))
        .database("sales")
        .latencies(Duration::ZERO, Duration::ZERO)
        .start()
        .await
        .expect("emulator starts");
    let ctx = SessionContext::new();
    register_athena(&ctx, &emu.connection_string())
        .await
        .expect("register");
    assert_eq!(
        ctx.state()
            .config_options()
            .optimizer
            .hash_join_inlist_pushdown_max_distinct_values,
        JOIN_KEY_LIST_MAX_DISTINCT
    );
    // Glue's numRows (from the Parquet footer) is the table's statistics.
    let provider = ctx.table_provider("facts").await.expect("facts");
    let stats = provider.statistics().expect("statistics from Glue");
    assert_eq!(stats.num_rows, Precision::Inexact(FACT_ROWS as usize));

    ctx.register_parquet(
        "local_keys",
        local_path.to_str().expect("utf-8 path"),
        ParquetReadOptions::default(),
    )
    .await
    .expect("register local");
    // Written with Athena first: the small local side becomes the build side.
    let sql = "SELECT count(*) AS n, sum(f.id) AS s FROM facts f JOIN local_keys l ON f.k = l.k";
    let plan = ctx
        .sql(sql)
        .await
        .expect("plan")
        .create_physical_plan()
        .await
        .expect("physical plan");
    let text = displayable(plan.as_ref()).indent(true).to_string();
    let local_at = text.find("keys.parquet").expect(&text);
    let athena_at = text.find("AthenaExec").expect(&text);
    assert!(
        local_at < athena_at,
        "local keys are the build side:\n{text}"
    );

    emu.clear_request_log();
    let got = ctx
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let sent: Vec<String> = emu
        .request_log()
        .into_iter()
        .filter(|r| r.service == Service::Athena && r.operation == "StartQueryExecution")
        .filter_map(|r| r.sql)
        .collect();
    dump_sql(&sent).expect("ATHENA_SQL_DUMP");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let list = sent[0]
        .split("\"k\" IN (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no key list in {}", &sent[0][..sent[0].len().min(400)]));
    assert_eq!(list.split(", ").count(), 1_000);

    // The same join by DataFusion alone over the same files.
    let reference = SessionContext::new();
    reference
        .register_parquet(
            "facts",
            dir.path()
                .join("data/sales/facts/part-0.parquet")
                .to_str()
                .expect("utf-8"),
            ParquetReadOptions::default(),
        )
        .await
        .expect("facts");
    reference
        .register_parquet(
            "local_keys",
            local_path.to_str().expect("utf-8"),
            ParquetReadOptions::default(),
        )
        .await
        .expect("keys");
    let want = reference
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let fmt = |b: &[RecordBatch]| {
        datafusion::arrow::util::pretty::pretty_format_batches(b)
            .expect("format")
            .to_string()
    };
    assert_eq!(fmt(&got), fmt(&want));
    assert!(fmt(&got).contains("| 2000 |"), "{}", fmt(&got));
    emu.shutdown().await;
}
