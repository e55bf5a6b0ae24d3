//! Shared fixtures: an in-process stand-in for Athena that runs the generated SQL with
//! DataFusion over an in-memory table, and a recorder of every statement sent.
#![allow(unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch, RecordBatchOptions, StringArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::catalog::MemTable;
use datafusion::common::{DataFusionError, TableReference};
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::displayable;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use datafusion_athena_config::ConnectionOptions;
use datafusion_athena_emulator::EmulatorHandle;
use datafusion_athena_scan::{
    AthenaRunner, AthenaTable, AthenaTableName, PollPolicy, QueryExecutor, QueryMetrics,
};
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
    fn execute(
        &self,
        sql: &str,
        schema: SchemaRef,
        _metrics: QueryMetrics,
    ) -> Result<SendableRecordBatchStream> {
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
    Ok(RecordBatch::try_new_with_options(
        relaxed, columns, &options,
    )?)
}

pub fn table_name() -> AthenaTableName {
    AthenaTableName::new(DATABASE, TABLE).with_catalog(CATALOG)
}

/// A client session with the Athena table registered as `t`.
pub fn client(executor: Arc<LocalAthena>, schema: SchemaRef, pushdown: bool) -> SessionContext {
    client_for(executor, table_name(), schema, pushdown)
}

/// A client session with Athena table `name`, read through `executor`, registered as `t`.
pub fn client_for(
    executor: Arc<dyn QueryExecutor>,
    name: AthenaTableName,
    schema: SchemaRef,
    pushdown: bool,
) -> SessionContext {
    let ctx = SessionContext::new();
    let table = AthenaTable::new(name, schema, executor).with_filter_pushdown(pushdown);
    ctx.register_table("t", Arc::new(table))
        .expect("register t");
    ctx
}

/// The corpus table as Glue would describe it: Athena folds column names to lower case.
pub fn corpus_batch_lowercase() -> RecordBatch {
    let batch = corpus_batch();
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_name(f.name().to_lowercase()))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), batch.columns().to_vec())
        .expect("lower-case batch")
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

/// Polling for the emulator, which answers within milliseconds.
pub const FAST_POLL: PollPolicy = PollPolicy {
    initial: Duration::from_millis(5),
    factor: 1.5,
    max: Duration::from_millis(50),
};

/// An Athena runner for `emu` (its connection string with `extra` properties appended, e.g.
/// `ResultFetcher=Unload;`), polling with [`FAST_POLL`].
pub async fn emulator_runner(emu: &EmulatorHandle, extra: &str) -> AthenaRunner {
    let options: ConnectionOptions = format!("{}{extra}", emu.connection_string())
        .parse()
        .expect("emulator options");
    AthenaRunner::new(&options)
        .await
        .expect("runner")
        .with_poll_policy(FAST_POLL)
}

/// Records every statement before handing it to another executor (e.g. the Athena runner).
#[derive(Debug)]
pub struct Recorder {
    inner: Arc<dyn QueryExecutor>,
    pub statements: Mutex<Vec<String>>,
}

impl Recorder {
    pub fn new(inner: Arc<dyn QueryExecutor>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            statements: Mutex::new(Vec::new()),
        })
    }

    pub fn take_statements(&self) -> Vec<String> {
        std::mem::take(&mut *self.statements.lock().expect("lock"))
    }
}

impl QueryExecutor for Recorder {
    fn execute(
        &self,
        sql: &str,
        schema: SchemaRef,
        metrics: QueryMetrics,
    ) -> Result<SendableRecordBatchStream> {
        self.statements.lock().expect("lock").push(sql.to_string());
        self.inner.execute(sql, schema, metrics)
    }
}

/// What a corpus run found.
#[derive(Debug, Default)]
pub struct CorpusReport {
    pub exact: usize,
    pub not_exact: Vec<String>,
    pub failures: Vec<String>,
    pub statements: Vec<String>,
}

/// Runs `SELECT * FROM t WHERE <filter>` for every filter with pushdown (`pushed`) and without
/// (`local`), comparing the rows; `take` returns the statements sent since its last call.
pub async fn compare_corpus(
    pushed: &SessionContext,
    local: &SessionContext,
    take: &dyn Fn() -> Vec<String>,
    filters: &[String],
) -> CorpusReport {
    let mut report = CorpusReport::default();
    for filter in filters {
        let query = format!("SELECT * FROM t WHERE {filter}");
        let outcome = async {
            let df = pushed.sql(&query).await.map_err(|e| e.to_string())?;
            let plan = df
                .clone()
                .create_physical_plan()
                .await
                .map_err(|e| e.to_string())?;
            let plan_text = displayable(plan.as_ref()).indent(true).to_string();
            let rows = df.collect().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((plan_text, rows))
        }
        .await;
        let sent = take();
        let without = async {
            local
                .sql(&query)
                .await
                .map_err(|e| e.to_string())?
                .collect()
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        let sent_local = take();
        let (plan_text, with_pushdown, without) = match (outcome, without) {
            (Ok((plan, rows)), Ok(local_rows)) => (plan, rows, local_rows),
            (pushed, local) => {
                report.failures.push(format!(
                    "{filter}: pushed {:?} / local {:?}\n  sent: {sent:?}",
                    pushed.err(),
                    local.err()
                ));
                continue;
            }
        };
        if sent_local.iter().any(|s| s.contains(" WHERE ")) {
            report.failures.push(format!(
                "{filter}: pushdown off still sent a filter: {sent_local:?}"
            ));
        }
        if sorted_rows(&with_pushdown) != sorted_rows(&without) {
            report.failures.push(format!(
                "{filter}: rows differ\n  pushed: {:?}\n  local: {:?}\n  sent: {sent:?}",
                sorted_rows(&with_pushdown),
                sorted_rows(&without)
            ));
        }
        if plan_text.contains("FilterExec") {
            report.not_exact.push(filter.clone());
        } else {
            report.exact += 1;
            if !sent.iter().all(|s| s.contains(" WHERE ")) {
                report
                    .failures
                    .push(format!("{filter}: exact filter not sent: {sent:?}"));
            }
        }
        report.statements.extend(sent);
        report.statements.extend(sent_local);
    }
    report
}

/// The corpus against an emulator (its engine runs the pushed SQL) through the Athena runner:
/// `SELECT * FROM corpus.events WHERE <filter>` with pushdown on versus off. Returns the report
/// and the number of filters.
pub async fn emulator_corpus(emu: &EmulatorHandle) -> (CorpusReport, usize) {
    let batch = corpus_batch_lowercase();
    let schema = batch.schema();
    emu.register_batches("corpus", "events", Arc::clone(&schema), vec![batch])
        .expect("register");
    let runner = emulator_runner(emu, "").await;
    let recorder = Recorder::new(Arc::new(runner) as Arc<dyn QueryExecutor>);
    let name = AthenaTableName::new("corpus", "events");
    let pushed = client_for(
        Arc::clone(&recorder) as Arc<dyn QueryExecutor>,
        name.clone(),
        Arc::clone(&schema),
        true,
    );
    let local = client_for(
        Arc::clone(&recorder) as Arc<dyn QueryExecutor>,
        name,
        Arc::clone(&schema),
        false,
    );
    let filters: Vec<String> = CORPUS
        .iter()
        .map(|f| f.replace("\"Upper Name\"", "\"upper name\""))
        .collect();
    let report = compare_corpus(&pushed, &local, &|| recorder.take_statements(), &filters).await;
    (report, filters.len())
}

/// Filters over the corpus table `t`, in DataFusion SQL.
pub const CORPUS: &[&str] = &[
    // comparisons, every type
    "id = 1",
    "id <> 1",
    "i32 > 0",
    "i32 >= 0",
    "i32 < 0",
    "i32 <= 7",
    "small = 32767",
    "tiny < 0",
    "big = 9223372036854775807",
    "big = -9223372036854775808",
    "big < -1",
    "name = 'alice'",
    "name <> 'alice'",
    "name > 'B'",
    "name < 'b'",
    "\"Upper Name\" = 'Alice'",
    "\"we\"\"ird\" = 10",
    "\"ünïcode\" = 'café'",
    "\"ünïcode\" = '日本語'",
    "price = 12.30",
    "price > 0",
    "price < -1",
    "price >= 7.77",
    "ratio = 1.5",
    "ratio > 1",
    "ratio <> 2.5",
    "r32 = 1.5",
    "flag = true",
    "flag",
    "NOT flag",
    "flag IS TRUE",
    "flag IS NOT FALSE",
    "flag IS UNKNOWN",
    "d = DATE '2020-01-01'",
    "d > '2020-01-01'",
    "d < DATE '1970-01-01'",
    "ts = TIMESTAMP '2020-01-01 00:00:00'",
    "ts > TIMESTAMP '2000-02-29 12:34:56.789'",
    "ts < TIMESTAMP '1970-01-01 00:00:00'",
    "bin = X'0102'",
    "dt = '2020-01'",
    "dt IN ('2020-02', '2021-01')",
    // AND / OR / NOT nesting
    "i32 > 0 AND name IS NOT NULL",
    "i32 > 0 OR name = ''",
    "NOT (i32 > 0 AND flag)",
    "(i32 = 1 OR i32 = 7) AND NOT (name LIKE 'a%')",
    "NOT (NOT (id = 2))",
    "(dt = '2020-01' OR dt IS NULL) AND (i32 < 10 OR NOT flag)",
    // IN / BETWEEN
    "i32 IN (1, 7, 42)",
    "i32 NOT IN (1, 7)",
    "name IN ('alice', 'ALICE', '')",
    "i32 BETWEEN -5 AND 7",
    "i32 NOT BETWEEN 0 AND 100",
    "d BETWEEN DATE '2000-01-01' AND DATE '2021-01-01'",
    "ratio IN (1.5, 2.5)",
    // LIKE
    "name LIKE 'a%'",
    "name LIKE '%e'",
    "name LIKE '_lice'",
    "name LIKE '%\\%%'",
    "name LIKE '%\\_%'",
    "name NOT LIKE '%a%'",
    "name LIKE '%\\\\%'",
    "name LIKE '%s\\lash'",
    "name ILIKE 'ALICE'",
    "\"Upper Name\" LIKE '%''%'",
    // NULL tests
    "name IS NULL",
    "i32 IS NOT NULL",
    "price IS NULL OR ratio IS NULL",
    "i32 IS DISTINCT FROM 1",
    "i32 IS NOT DISTINCT FROM NULL",
    "ratio IS NOT DISTINCT FROM 1.5",
    // CASE
    "CASE WHEN i32 > 0 THEN 'pos' WHEN i32 < 0 THEN 'neg' ELSE 'zero' END = 'pos'",
    "CASE i32 WHEN 1 THEN true ELSE false END",
    // CAST
    "CAST(i32 AS BIGINT) > 5",
    "CAST(i32 AS VARCHAR) = '42'",
    "CAST(d AS TIMESTAMP) < TIMESTAMP '2000-01-01 00:00:00'",
    "CAST(i32 AS DOUBLE) = 42.0",
    "CAST(price AS INT) = 12",
    "CAST(small AS INT) + CAST(tiny AS INT) = 2",
    // arithmetic
    "i32 + 1 > 5",
    "i32 * 2 = 84",
    "i32 % 2 = 0",
    "i32 / 2 = 3",
    "-i32 > 0",
    "price * 2 > 20",
    "price / 2 > 1",
    "ratio * 2 = 3.0",
    "big - 1 = 9223372036854775806",
    // literals with quotes, backslashes, newlines, unicode
    "name = 'Bob O''Brien'",
    "name = E'line1\\nline2\\ttab'",
    "name = '100% _sure_ \\ back\\slash'",
    "name = 'quote''d \"double\"'",
    "\"ünïcode\" = 'emoji 😀'",
    "\"Upper Name\" = E'New\\nLine'",
    "name <> E'\\' OR 1=1 --'",
    // string functions
    "lower(name) = 'alice'",
    "upper(name) = 'ALICE'",
    "length(name) = 5",
    "character_length(\"ünïcode\") = 3",
    "substr(name, 1, 3) = 'ali'",
    "substr(name, 2) = 'lice'",
    "substr(name, 0, 2) = 'a'",
    "trim(name) = 'padded'",
    "ltrim(name) = 'padded  '",
    "rtrim(name) = '  padded'",
    "btrim(name, ' pd') = 'adde'",
    "concat(name, \"Upper Name\") = 'aliceAlice'",
    "concat(name, 'x') = 'x'",
    "replace(name, 'a', 'A') = 'Alice'",
    "starts_with(name, 'al')",
    "strpos(name, 'e') = 5",
    "reverse(name) = 'ecila'",
    "name || 'x' = 'alicex'",
    "starts_with(\"Upper Name\", 'O''R')",
    "regexp_like(name, '^a[a-z]+')",
    "regexp_like(name, '\\d')",
    "name ~ 'li'",
    "initcap(name) = 'Alice'",
    // math functions
    "abs(CAST(i32 AS BIGINT)) = 5",
    "abs(price) = 0.01",
    "ceil(ratio) = 2",
    "floor(ratio) = -3",
    "power(ratio, 2.0) = 2.25",
    "sqrt(abs(ratio)) = 1.5",
    "log10(ratio) = 300",
    "exp(ratio) > 1",
    "round(ratio) = 2",
    // date functions
    "date_trunc('month', ts) = TIMESTAMP '2021-06-01 00:00:00'",
    "date_trunc('day', ts) = TIMESTAMP '2020-01-02 00:00:00'",
    "date_part('year', d) = 2020",
    "EXTRACT(MONTH FROM ts) = 6",
    "date_part('doy', d) = 60",
    "date_part('dow', d) = 0",
    // conditional
    "coalesce(name, 'none') = 'none'",
    "nullif(i32, 0) IS NULL",
    "coalesce(i32, big, 0) > 3",
    // partly pushable: the rest stays local
    "i32 > 0 AND initcap(name) <> 'Alice'",
];
