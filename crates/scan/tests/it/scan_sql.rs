//! The exact SQL a scan sends for projections, filters and limits, and what EXPLAIN shows.

use std::sync::Arc;

use crate::common::{LocalAthena, client, corpus_batch, sorted_rows};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion_athena_emulator::dump_sql;

const FROM: &str = "FROM \"datafusion\".\"public\".\"Corpus Events\"";

async fn run(query: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let batch = corpus_batch();
    let schema = batch.schema();
    let athena = LocalAthena::new(batch);
    let pushed = client(Arc::clone(&athena), Arc::clone(&schema), true);
    let rows = pushed
        .sql(query)
        .await
        .expect(query)
        .collect()
        .await
        .expect(query);
    let sent = athena.take_statements();
    let local = client(Arc::clone(&athena), schema, false);
    let local_rows = local
        .sql(query)
        .await
        .expect(query)
        .collect()
        .await
        .expect(query);
    let sent_local = athena.take_statements();
    dump_sql(&sent).expect("ATHENA_SQL_DUMP");
    dump_sql(&sent_local).expect("ATHENA_SQL_DUMP");
    assert_eq!(sorted_rows(&rows), sorted_rows(&local_rows), "{query}");
    (sent, sorted_rows(&rows), sent_local)
}

#[tokio::test]
async fn projection_filter_and_limit_are_sent() {
    let (sent, rows, _) = run("SELECT name FROM t WHERE i32 > 5 LIMIT 10").await;
    assert_eq!(
        sent,
        vec![format!(
            "SELECT \"name\" {FROM} WHERE (\"i32\" > 5) LIMIT 10"
        )]
    );
    assert_eq!(rows.len(), 4, "{rows:?}");
}

#[tokio::test]
async fn count_star_fetches_no_column_data() {
    let (sent, rows, sent_local) = run("SELECT count(*) AS n FROM t WHERE i32 > 0").await;
    assert_eq!(
        sent,
        vec![format!(
            "SELECT count(*) AS \"row_count\" {FROM} WHERE (\"i32\" > 0)"
        )]
    );
    assert_eq!(rows, vec!["| 5 |".to_string()]);
    // Without pushdown the filter column is needed, but nothing else.
    assert_eq!(sent_local, vec![format!("SELECT \"i32\" {FROM}")]);
}

#[tokio::test]
async fn count_star_without_filter_counts_every_row() {
    let (sent, rows, _) = run("SELECT count(*) FROM t").await;
    assert_eq!(
        sent,
        vec![format!("SELECT count(*) AS \"row_count\" {FROM}")]
    );
    assert_eq!(rows, vec!["| 10       |".to_string()]);
}

#[tokio::test]
async fn untranslatable_filter_stays_local_and_the_rest_is_pushed() {
    let (sent, rows, _) = run(
        "SELECT id FROM t WHERE i32 > 0 AND initcap(name) <> 'Alice' AND dt = '2021-01' LIMIT 5",
    )
    .await;
    assert_eq!(sent.len(), 1);
    let sql = &sent[0];
    assert!(
        sql.starts_with("SELECT \"id\", \"name\" FROM ")
            || sql.starts_with("SELECT \"name\", \"id\" FROM "),
        "{sql}"
    );
    assert!(sql.contains("(\"i32\" > 0)"), "{sql}");
    assert!(sql.contains("(\"dt\" = '2021-01')"), "{sql}");
    assert!(!sql.contains("initcap"), "{sql}");
    // A filter above the scan remains, so the limit must not reach Athena.
    assert!(!sql.contains("LIMIT"), "{sql}");
    assert_eq!(rows, vec!["| 7  |".to_string()]);
}

#[tokio::test]
async fn explain_shows_the_exact_sql() {
    let batch = corpus_batch();
    let schema = batch.schema();
    let athena = LocalAthena::new(batch);
    let ctx = client(athena, schema, true);
    let batches = ctx
        .sql("EXPLAIN SELECT \"Upper Name\" FROM t WHERE name LIKE 'a\\%%' LIMIT 3")
        .await
        .expect("explain")
        .collect()
        .await
        .expect("explain");
    let text = pretty_format_batches(&batches).expect("format").to_string();
    let expected = format!(
        "AthenaExec: sql=SELECT \"Upper Name\" {FROM} WHERE \"name\" LIKE 'a\\%%' ESCAPE '\\' LIMIT 3"
    );
    assert!(text.contains(&expected), "{text}\nexpected: {expected}");
}

#[tokio::test]
async fn timestamp_with_time_zone_filters() {
    use datafusion::arrow::array::{Int64Array, RecordBatch, TimestampMillisecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
    ]));
    let at = TimestampMillisecondArray::from(vec![Some(0), Some(1_577_836_800_000), None])
        .with_timezone("UTC");
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![Arc::new(Int64Array::from(vec![1, 2, 3])), Arc::new(at)],
    )
    .expect("batch");
    let athena = LocalAthena::new(batch);
    let ctx = client(Arc::clone(&athena), Arc::clone(&schema), true);
    let rows = ctx
        .sql("SELECT id FROM t WHERE at > TIMESTAMP '2000-01-01T00:00:00Z'")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let sent = athena.take_statements();
    dump_sql(&sent).expect("ATHENA_SQL_DUMP");
    assert_eq!(sorted_rows(&rows), vec!["| 2  |".to_string()]);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].ends_with("WHERE (\"at\" > TIMESTAMP '2000-01-01 00:00:00.000 UTC')"),
        "{}",
        sent[0]
    );
}
