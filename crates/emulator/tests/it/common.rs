//! Shared helpers: a started emulator with sample tables, and clients pointed at it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_athena::config::Region;
use aws_sdk_athena::types::{QueryExecution, QueryExecutionContext, QueryExecutionState};
use datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array,
    Int64Array, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion_athena_emulator::{Emulator, EmulatorHandle};
use object_store::aws::{AmazonS3, AmazonS3Builder};

pub(crate) const AK: &str = "AKIDTEST";
pub(crate) const SK: &str = "test-secret";

/// The `people` sample table: every scalar type Athena renders specially, NULLs and ''.
pub(crate) fn people() -> (SchemaRef, RecordBatch) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
        Field::new("active", DataType::Boolean, true),
        Field::new("born", DataType::Date32, true),
        Field::new(
            "seen",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ),
        Field::new("raw", DataType::Binary, true),
        Field::new("amount", DataType::Decimal128(10, 2), true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![1, 2, 3])),
        Arc::new(StringArray::from(vec![
            Some("ann \"a\", x"),
            Some(""),
            None,
        ])),
        Arc::new(Float64Array::from(vec![Some(1e20), Some(1.5), None])),
        Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        Arc::new(Date32Array::from(vec![Some(18262), None, Some(0)])),
        Arc::new(TimestampMillisecondArray::from(vec![
            Some(1_577_882_096_789),
            None,
            Some(0),
        ])),
        Arc::new(BinaryArray::from(vec![
            Some(&[1u8, 2][..]),
            None,
            Some(&[0xffu8][..]),
        ])),
        Arc::new(
            Decimal128Array::from(vec![Some(12345), Some(-5), None])
                .with_precision_and_scale(10, 2)
                .unwrap(),
        ),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    (schema, batch)
}

/// `n` rows of (`n` bigint, `label` varchar).
pub(crate) fn numbers(n: i64) -> (SchemaRef, RecordBatch) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, false),
        Field::new("label", DataType::Utf8, false),
    ]));
    let ns: Vec<i64> = (0..n).collect();
    let labels: Vec<String> = ns.iter().map(|i| format!("row {i}")).collect();
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(ns)),
            Arc::new(StringArray::from(labels)),
        ],
    )
    .unwrap();
    (schema, batch)
}

/// An emulator with `sales.people` and `sales.numbers` (2500 rows) registered.
pub(crate) async fn emulator() -> EmulatorHandle {
    let emu = Emulator::builder()
        .credentials(AK, SK)
        .region("us-east-1")
        .workgroup("managed", None)
        .start()
        .await
        .expect("emulator starts");
    let (schema, batch) = people();
    emu.register_batches("sales", "people", schema, vec![batch])
        .unwrap();
    let (schema, batch) = numbers(2500);
    emu.register_batches("sales", "numbers", schema, vec![batch])
        .unwrap();
    emu
}

pub(crate) fn athena_with(
    emu: &EmulatorHandle,
    ak: &str,
    sk: &str,
    attempts: u32,
) -> aws_sdk_athena::Client {
    let config = aws_sdk_athena::Config::builder()
        .endpoint_url(emu.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(ak, sk, None, None, "test"))
        .retry_config(
            aws_sdk_athena::config::retry::RetryConfig::standard().with_max_attempts(attempts),
        )
        .behavior_version_latest()
        .build();
    aws_sdk_athena::Client::from_conf(config)
}

pub(crate) fn athena(emu: &EmulatorHandle) -> aws_sdk_athena::Client {
    athena_with(emu, AK, SK, 1)
}

pub(crate) fn glue(emu: &EmulatorHandle) -> aws_sdk_glue::Client {
    let config = aws_sdk_glue::Config::builder()
        .endpoint_url(emu.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(AK, SK, None, None, "test"))
        .behavior_version_latest()
        .build();
    aws_sdk_glue::Client::from_conf(config)
}

pub(crate) fn s3_with(emu: &EmulatorHandle, bucket: &str, ak: &str, sk: &str) -> AmazonS3 {
    AmazonS3Builder::new()
        .with_endpoint(emu.endpoint())
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id(ak)
        .with_secret_access_key(sk)
        .with_retry(object_store::RetryConfig {
            max_retries: 0,
            ..Default::default()
        })
        .build()
        .unwrap()
}

pub(crate) fn s3(emu: &EmulatorHandle, bucket: &str) -> AmazonS3 {
    s3_with(emu, bucket, AK, SK)
}

/// Starts a query in database `sales` and returns its id.
pub(crate) async fn start(client: &aws_sdk_athena::Client, sql: &str) -> String {
    client
        .start_query_execution()
        .query_string(sql)
        .query_execution_context(QueryExecutionContext::builder().database("sales").build())
        .send()
        .await
        .expect("StartQueryExecution")
        .query_execution_id
        .expect("an id")
}

/// Polls until the query is in a final state.
pub(crate) async fn wait(client: &aws_sdk_athena::Client, id: &str) -> QueryExecution {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let q = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .expect("GetQueryExecution")
            .query_execution
            .expect("execution");
        let state = q.status().and_then(|s| s.state()).cloned();
        if matches!(
            state,
            Some(
                QueryExecutionState::Succeeded
                    | QueryExecutionState::Failed
                    | QueryExecutionState::Cancelled
            )
        ) {
            return q;
        }
        assert!(
            Instant::now() < deadline,
            "query {id} did not finish: {q:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs a query to completion.
pub(crate) async fn run(client: &aws_sdk_athena::Client, sql: &str) -> QueryExecution {
    let id = start(client, sql).await;
    wait(client, &id).await
}

pub(crate) fn state(q: &QueryExecution) -> QueryExecutionState {
    q.status()
        .and_then(|s| s.state())
        .cloned()
        .expect("a state")
}

/// Every row of a query's results through GetQueryResults (header included), NULL as None.
pub(crate) async fn all_rows(
    client: &aws_sdk_athena::Client,
    id: &str,
    page_size: i32,
) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .get_query_results()
            .query_execution_id(id)
            .max_results(page_size)
            .set_next_token(token)
            .send()
            .await
            .expect("GetQueryResults");
        let page = out.result_set().map(|r| r.rows()).unwrap_or_default();
        assert!(page.len() <= page_size as usize);
        for row in page {
            rows.push(
                row.data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_owned))
                    .collect(),
            );
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return rows;
        }
    }
}

pub(crate) fn strings(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_owned)).collect()
}
