//! Shared fixtures: an in-process stand-in for Athena that runs the generated SQL with
//! DataFusion over an in-memory table, and a recorder of every statement sent.
#![allow(dead_code, unreachable_pub)]

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch,
    RecordBatchOptions, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::catalog::MemTable;
use datafusion::common::{DataFusionError, TableReference};
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use datafusion_athena_scan::{AthenaTable, AthenaTableName, QueryExecutor};
use futures::TryStreamExt;

/// Catalog, database and table of the stand-in table: exact case, with a space.
pub const CATALOG: &str = "datafusion";
pub const DATABASE: &str = "public";
pub const TABLE: &str = "Corpus Events";

/// Runs Athena SQL with DataFusion (as the project's emulator does) and records it.
pub struct LocalAthena {
    ctx: SessionContext,
    pub statements: Mutex<Vec<String>>,
}

impl std::fmt::Debug for LocalAthena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAthena").finish_non_exhaustive()
    }
}

impl LocalAthena {
    pub fn new(batch: RecordBatch) -> Arc<Self> {
        let ctx = SessionContext::new();
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).expect("memtable");
        ctx.register_table(
            TableReference::full(CATALOG, DATABASE, TABLE),
            Arc::new(table),
        )
        .expect("register");
        Arc::new(Self {
            ctx,
            statements: Mutex::new(Vec::new()),
        })
    }

    pub fn take_statements(&self) -> Vec<String> {
        std::mem::take(&mut *self.statements.lock().expect("lock"))
    }
}

impl QueryExecutor for LocalAthena {
    fn execute(&self, sql: &str, schema: SchemaRef) -> Result<SendableRecordBatchStream> {
        self.statements.lock().expect("lock").push(sql.to_string());
        let ctx = self.ctx.clone();
        let sql = sql.to_string();
        let target = Arc::clone(&schema);
        let batches = async move {
            let batches = ctx.sql(&sql).await?.collect().await?;
            let conformed: Vec<Result<RecordBatch>> =
                batches.into_iter().map(|b| conform(b, &target)).collect();
            Ok::<_, DataFusionError>(futures::stream::iter(conformed))
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(batches).try_flatten(),
        )))
    }
}

/// Gives `batch` the schema the scan asked for (names, nullability, types by cast).
fn conform(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| cast(c, f.data_type()))
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    let relaxed = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    Ok(RecordBatch::try_new_with_options(relaxed, columns, &options)?)
}

pub fn table_name() -> AthenaTableName {
    AthenaTableName::new(DATABASE, TABLE).with_catalog(CATALOG)
}

/// A client session with the Athena table registered as `t`.
pub fn client(executor: Arc<LocalAthena>, schema: SchemaRef, pushdown: bool) -> SessionContext {
    let ctx = SessionContext::new();
    let table = AthenaTable::new(table_name(), schema, executor).with_filter_pushdown(pushdown);
    ctx.register_table("t", Arc::new(table)).expect("register t");
    ctx
}

/// Sorted text lines of the batches: a row-order-independent fingerprint.
pub fn sorted_rows(batches: &[RecordBatch]) -> Vec<String> {
    let text = pretty_format_batches(batches).expect("format").to_string();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// Appends statements to the file named by `ATHENA_SQL_DUMP`, one per line, each followed by a
/// line holding only `;` (the format `check_athena_sql.py` reads).
pub fn dump_sql(statements: &[String]) {
    let Ok(path) = std::env::var("ATHENA_SQL_DUMP") else {
        return;
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open ATHENA_SQL_DUMP={path}: {e}"));
    for s in statements {
        assert!(!s.contains('\n'), "generated SQL must be one line: {s}");
        writeln!(file, "{s}\n;").expect("write dump");
    }
}

fn date(y: i32, m: u32, d: u32) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let day = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
    i32::try_from((day - epoch).num_days()).expect("days")
}

fn ts(text: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.3f")
        .expect("timestamp")
        .and_utc()
        .timestamp_millis()
}

/// The corpus table: NULLs, empty strings, extremes, unicode, quotes, backslashes, newlines,
/// NaN, infinities and -0.0.
pub fn corpus_batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("i32", DataType::Int32, true),
        Field::new("small", DataType::Int16, true),
        Field::new("tiny", DataType::Int8, true),
        Field::new("big", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("Upper Name", DataType::Utf8, true),
        Field::new("we\"ird", DataType::Int32, true),
        Field::new("ünïcode", DataType::Utf8, true),
        Field::new("price", DataType::Decimal128(10, 2), true),
        Field::new("ratio", DataType::Float64, true),
        Field::new("r32", DataType::Float32, true),
        Field::new("flag", DataType::Boolean, true),
        Field::new("d", DataType::Date32, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("bin", DataType::Binary, true),
        Field::new("dt", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from((1..=10).collect::<Vec<i64>>())),
        Arc::new(Int32Array::from(vec![
            Some(1),
            Some(-5),
            None,
            Some(0),
            Some(i32::MAX),
            Some(i32::MIN),
            Some(42),
            Some(7),
            Some(100),
            Some(-100),
        ])),
        Arc::new(Int16Array::from(vec![
            Some(1),
            Some(-1),
            None,
            Some(0),
            Some(i16::MAX),
            Some(i16::MIN),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
        ])),
        Arc::new(Int8Array::from(vec![
            Some(1),
            Some(-1),
            None,
            Some(0),
            Some(i8::MAX),
            Some(i8::MIN),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
        ])),
        Arc::new(Int64Array::from(vec![
            Some(1),
            Some(-2),
            None,
            Some(0),
            Some(i64::MAX),
            Some(i64::MIN),
            Some(3),
            Some(4),
            Some(5),
            Some(6),
        ])),
        Arc::new(StringArray::from(vec![
            Some("alice"),
            Some("Bob O'Brien"),
            None,
            Some(""),
            Some("100% _sure_ \\ back\\slash"),
            Some("line1\nline2\ttab"),
            Some("  padded  "),
            Some("quote'd \"double\""),
            Some("ALICE"),
            Some("a%b_c"),
        ])),
        Arc::new(StringArray::from(vec![
            Some("Alice"),
            Some("BOB"),
            None,
            Some(""),
            Some("Percent"),
            Some("New\nLine"),
            Some("  Padded"),
            Some("O'Reilly"),
            Some("alice"),
            Some("under_score"),
        ])),
        Arc::new(Int32Array::from(vec![
            Some(10),
            None,
            None,
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(6),
        ])),
        Arc::new(StringArray::from(vec![
            Some("café"),
            Some("日本語"),
            None,
            Some(""),
            Some("x"),
            Some("emoji 😀"),
            Some("Straße"),
            Some("y"),
            Some("İstanbul"),
            Some("z"),
        ])),
        Arc::new(
            Decimal128Array::from(vec![
                Some(1230),
                Some(-1),
                None,
                Some(0),
                Some(9_999_999_999),
                Some(-9_999_999_999),
                Some(100),
                Some(777),
                Some(5),
                Some(250),
            ])
            .with_precision_and_scale(10, 2)
            .expect("decimal"),
        ),
        Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(-2.25),
            None,
            Some(0.0),
            Some(1e300),
            Some(-1e-300),
            Some(f64::NAN),
            Some(-0.0),
            Some(f64::INFINITY),
            Some(2.5),
        ])),
        Arc::new(Float32Array::from(vec![
            Some(1.5),
            Some(-0.5),
            None,
            Some(0.0),
            Some(f32::MAX),
            Some(f32::MIN_POSITIVE),
            Some(f32::NAN),
            Some(-0.0),
            Some(2.0),
            Some(2.5),
        ])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            None,
            Some(true),
            Some(false),
            Some(true),
            Some(false),
            Some(true),
            Some(false),
        ])),
        Arc::new(Date32Array::from(vec![
            Some(date(2020, 1, 1)),
            Some(date(1969, 12, 31)),
            None,
            Some(date(2000, 2, 29)),
            Some(date(2200, 12, 31)),
            Some(date(1700, 1, 1)),
            Some(date(2021, 6, 15)),
            Some(date(2020, 1, 2)),
            Some(date(2020, 3, 1)),
            Some(date(1999, 12, 31)),
        ])),
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(ts("2020-01-01 00:00:00.000")),
            Some(ts("1969-12-31 23:59:59.999")),
            None,
            Some(ts("2000-02-29 12:34:56.789")),
            Some(ts("2038-01-19 03:14:07.123")),
            Some(ts("1900-01-01 00:00:00.000")),
            Some(ts("2021-06-15 08:00:00.500")),
            Some(ts("2020-01-02 10:00:00.000")),
            Some(ts("2020-03-01 00:00:00.001")),
            Some(ts("1999-12-31 23:59:59.999")),
        ])),
        Arc::new(BinaryArray::from(vec![
            Some(&[1u8, 2][..]),
            Some(&[][..]),
            None,
            Some(&[0xff][..]),
            Some(&[0][..]),
            Some(&[1][..]),
            Some(&[2][..]),
            Some(&[3][..]),
            Some(&[4][..]),
            Some(&[5][..]),
        ])),
        Arc::new(StringArray::from(vec![
            Some("2020-01"),
            Some("2020-01"),
            Some("2020-01"),
            Some("2020-02"),
            Some("2020-02"),
            Some("2021-01"),
            Some("2021-01"),
            None,
            Some("2021-01"),
            Some("2020-02"),
        ])),
    ];
    RecordBatch::try_new(schema, columns).expect("corpus batch")
}
