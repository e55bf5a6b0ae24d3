//! Glue column statistics (`GetColumnStatisticsForTable`) reach DataFusion's optimizer as the
//! table's column statistics, through the real Glue SDK client against the emulator.

use std::sync::Arc;

use datafusion::arrow::array::{
    BooleanArray, Date32Array, Decimal128Array, Int32Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::common::stats::Precision;
use datafusion::prelude::SessionContext;
use datafusion_athena_catalog::register_athena;
use datafusion_athena_emulator::Emulator;

fn items() -> (Arc<Schema>, RecordBatch) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, true),
        Field::new("price", DataType::Decimal128(10, 2), true),
        Field::new("day", DataType::Date32, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("ok", DataType::Boolean, true),
        Field::new("at", DataType::Timestamp(TimeUnit::Millisecond, None), true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int32Array::from(vec![
                Some(7),
                Some(-3),
                None,
                Some(7),
                Some(40),
            ])),
            Arc::new(
                Decimal128Array::from(vec![Some(-250), Some(1999), Some(5), None, Some(1999)])
                    .with_precision_and_scale(10, 2)
                    .expect("decimal"),
            ),
            Arc::new(Date32Array::from(vec![
                Some(19_000),
                None,
                Some(18_000),
                Some(19_500),
                None,
            ])),
            Arc::new(StringArray::from(vec![
                Some("a"),
                Some("bcd"),
                None,
                Some("a"),
                Some("é"),
            ])),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                Some(true),
                None,
                None,
            ])),
            Arc::new(TimestampMillisecondArray::from(vec![
                Some(1),
                None,
                None,
                None,
                Some(2),
            ])),
        ],
    )
    .expect("batch");
    (schema, batch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glue_column_statistics_become_the_tables_column_statistics() {
    let emu = Emulator::builder()
        .database("sales")
        .start()
        .await
        .expect("emulator");
    let (schema, batch) = items();
    emu.register_batches("sales", "items", schema, vec![batch])
        .expect("register");
    emu.register_batches("sales", "plain", items().0, vec![items().1])
        .expect("register");
    // Timestamps get no Glue statistics.
    assert_eq!(
        emu.compute_column_statistics("sales", "items")
            .await
            .expect("statistics task"),
        5
    );

    let ctx = SessionContext::new();
    register_athena(&ctx, &emu.connection_string())
        .await
        .expect("register");
    let stats = ctx
        .table_provider("items")
        .await
        .expect("items")
        .statistics()
        .expect("statistics");
    let c = &stats.column_statistics;
    assert_eq!(c.len(), 6);
    assert_eq!(
        c[0].min_value,
        Precision::Inexact(ScalarValue::Int32(Some(-3)))
    );
    assert_eq!(
        c[0].max_value,
        Precision::Inexact(ScalarValue::Int32(Some(40)))
    );
    assert_eq!(c[0].null_count, Precision::Inexact(1));
    assert_eq!(c[0].distinct_count, Precision::Inexact(3));
    assert_eq!(
        c[1].min_value,
        Precision::Inexact(ScalarValue::Decimal128(Some(-250), 10, 2))
    );
    assert_eq!(
        c[1].max_value,
        Precision::Inexact(ScalarValue::Decimal128(Some(1999), 10, 2))
    );
    assert_eq!(
        c[2].min_value,
        Precision::Inexact(ScalarValue::Date32(Some(18_000)))
    );
    assert_eq!(
        c[2].max_value,
        Precision::Inexact(ScalarValue::Date32(Some(19_500)))
    );
    assert_eq!(c[2].null_count, Precision::Inexact(2));
    // Strings: counts only; booleans: how many of true/false occur.
    assert_eq!(c[3].distinct_count, Precision::Inexact(3));
    assert_eq!(c[3].min_value, Precision::Absent);
    assert_eq!(c[4].distinct_count, Precision::Inexact(2));
    assert_eq!(c[4].null_count, Precision::Inexact(2));
    assert_eq!(c[5].min_value, Precision::Absent);
    assert_eq!(c[5].null_count, Precision::Absent);

    // A table whose statistics were never computed has none (Glue answers with errors).
    let plain = ctx
        .table_provider("plain")
        .await
        .expect("plain")
        .statistics();
    assert!(
        plain.as_ref().is_none_or(|s| s
            .column_statistics
            .iter()
            .all(|c| c.min_value == Precision::Absent)),
        "{plain:?}"
    );
    // One Glue call per table, cached with it.
    let _ = ctx.table_provider("items").await.expect("items again");
    let calls = emu
        .request_log()
        .iter()
        .filter(|r| r.operation == "GetColumnStatisticsForTable")
        .count();
    assert_eq!(calls, 2);
}
