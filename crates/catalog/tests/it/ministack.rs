//! The catalog against MiniStack, an independent Athena + Glue + S3 emulator that runs the SQL
//! with DuckDB (see docs/test-stack.md). A Glue database and a Parquet table in MiniStack's S3
//! are created here; `register_athena` must then list them with the right Arrow types, and a
//! query with a filter must return the right rows.
//!
//! `ATHENA_TEST_MINISTACK_URL` uses a running MiniStack; else `MINISTACK_BIN` is started on a
//! free 127.0.0.1 port and stopped by its PID. Without either the tests print `SKIPPED: ...`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_glue::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_glue::types::{Column, DatabaseInput, SerDeInfo, StorageDescriptor, TableInput};
use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::SessionContext;
use datafusion_athena_catalog::register_athena;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

const DATA_BUCKET: &str = "ministack-data";
const RESULTS_BUCKET: &str = "ministack-results";

/// A MiniStack this test started (stopped by PID on drop), or one given by URL.
struct MiniStack {
    url: String,
    child: Option<Child>,
}

impl Drop for MiniStack {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl MiniStack {
    /// Starts (or finds) MiniStack; `None` (after printing `SKIPPED: ...`) when there is none.
    fn start() -> Option<Self> {
        if let Ok(url) = std::env::var("ATHENA_TEST_MINISTACK_URL") {
            return Some(Self {
                url: url.trim_end_matches('/').to_string(),
                child: None,
            });
        }
        let Ok(bin) = std::env::var("MINISTACK_BIN") else {
            let reason =
                "MiniStack is not available (set MINISTACK_BIN or ATHENA_TEST_MINISTACK_URL)";
            // scripts/test installs MiniStack and sets this: there, a missing peer is a failure.
            assert!(
                std::env::var_os("ATHENA_TEST_REQUIRE_PEERS").is_none(),
                "{reason}, and ATHENA_TEST_REQUIRE_PEERS is set"
            );
            println!("SKIPPED: {reason}");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&bin)
            .env("BIND_HOST", "127.0.0.1")
            .env("GATEWAY_PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start MINISTACK_BIN={bin}: {e}"));
        let server = Self {
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "MiniStack did not listen on {port} in 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    fn host_port(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// `PUT /<bucket>` (MiniStack accepts unsigned S3 calls); an existing bucket is fine.
    fn create_bucket(&self, bucket: &str) {
        let mut stream = TcpStream::connect(self.host_port()).expect("connect");
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.host_port()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let status = response.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            status == "200" || status == "409",
            "CreateBucket {bucket}: {response}"
        );
    }

    fn connection_string(&self, extra: &str) -> String {
        format!(
            "AWSRegion=us-east-1;AWSAccessKey=test;AWSSecretKey=test;Endpoint={};\
             S3StagingDirectory=s3://{RESULTS_BUCKET}/out/;Database=shop;{extra}",
            self.url
        )
    }
}

fn orders() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("price", DataType::Float64, true),
        Field::new("qty", DataType::Int32, true),
        Field::new("paid", DataType::Boolean, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])),
            Arc::new(StringArray::from(vec![
                Some("apple"),
                Some("pear"),
                Some("fig"),
                None,
                Some("plum"),
            ])),
            Arc::new(Float64Array::from(vec![0.5, 2.25, 3.0, 9.5, 1.75])),
            Arc::new(Int32Array::from(vec![10, 20, 30, 40, 50])),
            Arc::new(BooleanArray::from(vec![true, false, true, false, true])),
        ],
    )
    .expect("batch")
}

fn parquet_bytes(batch: &RecordBatch) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).expect("writer");
    w.write(batch).expect("write");
    w.close().expect("close");
    buf
}

fn column(name: &str, ty: &str) -> Column {
    Column::builder()
        .name(name)
        .r#type(ty)
        .build()
        .expect("column")
}

/// The Parquet file in S3, and `shop.orders` over it in Glue.
async fn create_table(ms: &MiniStack) {
    ms.create_bucket(DATA_BUCKET);
    ms.create_bucket(RESULTS_BUCKET);
    let store = AmazonS3Builder::new()
        .with_endpoint(&ms.url)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_bucket_name(DATA_BUCKET)
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .build()
        .expect("object store");
    store
        .put(
            &ObjectPath::from("shop/orders/part-0.parquet"),
            PutPayload::from(parquet_bytes(&orders())),
        )
        .await
        .expect("PUT the Parquet file");

    let config = aws_sdk_glue::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "ministack"))
        .endpoint_url(&ms.url)
        .build();
    let glue = aws_sdk_glue::Client::from_conf(config);
    glue.create_database()
        .database_input(DatabaseInput::builder().name("shop").build().expect("db"))
        .send()
        .await
        .expect("Glue CreateDatabase");
    let storage = StorageDescriptor::builder()
        .set_columns(Some(vec![
            column("id", "bigint"),
            column("name", "string"),
            column("price", "double"),
            column("qty", "int"),
            column("paid", "boolean"),
        ]))
        .location(format!("s3://{DATA_BUCKET}/shop/orders/"))
        .input_format("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
        .output_format("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
        .serde_info(
            SerDeInfo::builder()
                .serialization_library(
                    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                )
                .build(),
        )
        .build();
    glue.create_table()
        .database_name("shop")
        .table_input(
            TableInput::builder()
                .name("orders")
                .table_type("EXTERNAL_TABLE")
                .parameters("classification", "parquet")
                .storage_descriptor(storage)
                .build()
                .expect("table input"),
        )
        .send()
        .await
        .expect("Glue CreateTable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_lists_glue_tables_and_a_filtered_query_returns_the_right_rows() {
    let Some(ms) = MiniStack::start() else {
        return;
    };
    create_table(&ms).await;

    let ctx = SessionContext::new();
    register_athena(&ctx, &ms.connection_string(""))
        .await
        .expect("register_athena against MiniStack");

    // The catalog lists the Glue database and table, with the Glue types as Arrow types.
    let catalog = ctx
        .catalog("awsdatacatalog")
        .expect("the AwsDataCatalog data source");
    assert!(
        catalog.schema_names().contains(&"shop".to_string()),
        "{:?}",
        catalog.schema_names()
    );
    let schema = catalog.schema("shop").expect("the shop database");
    assert_eq!(schema.table_names(), vec!["orders".to_string()]);
    let table = schema
        .table("orders")
        .await
        .expect("GetTable")
        .expect("orders is listed");
    let types: Vec<(String, DataType)> = table
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    assert_eq!(
        types,
        vec![
            ("id".to_string(), DataType::Int64),
            ("name".to_string(), DataType::Utf8),
            ("price".to_string(), DataType::Float64),
            ("qty".to_string(), DataType::Int32),
            ("paid".to_string(), DataType::Boolean),
        ]
    );

    // information_schema sees the same table.
    let tables = ctx
        .sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop'")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("information_schema");
    let names: Vec<String> = tables
        .iter()
        .flat_map(|b| {
            let c = b.column(0).as_string::<i32>().clone();
            (0..c.len()).map(move |i| c.value(i).to_string())
        })
        .collect();
    assert_eq!(names, vec!["orders".to_string()]);

    // A filtered query, run by MiniStack (DuckDB), for each way of fetching the result.
    for fetcher in ["Auto", "GetQueryResults"] {
        let ctx = SessionContext::new();
        register_athena(
            &ctx,
            &ms.connection_string(&format!("ResultFetcher={fetcher};")),
        )
        .await
        .expect("register_athena");
        let batches = ctx
            .sql("SELECT id, name, qty, paid FROM orders WHERE price > 2 AND paid = false ORDER BY id")
            .await
            .expect("plan")
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{fetcher}: query through MiniStack: {e}"));
        let mut rows = Vec::new();
        for b in &batches {
            let ids = b.column(0).as_primitive::<Int64Type>();
            let names = b.column(1).as_string::<i32>();
            let qty = b
                .column(2)
                .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
            let paid = b.column(3).as_boolean();
            for i in 0..b.num_rows() {
                rows.push((
                    ids.value(i),
                    (!names.is_null(i)).then(|| names.value(i).to_string()),
                    qty.value(i),
                    paid.value(i),
                ));
            }
        }
        assert_eq!(
            rows,
            vec![
                (2, Some("pear".to_string()), 20, false),
                (4, None, 40, false)
            ],
            "{fetcher}"
        );
    }
}
