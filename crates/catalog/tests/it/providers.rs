//! The providers over an in-memory metadata source: names, types, views, caching, errors.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::prelude::SessionContext;
use datafusion_athena_catalog::{
    AthenaCatalogBuilder, AthenaCatalogs, Clock, ColumnMetadata, DataSourceInfo, DataSourceKind,
    ManualClock, MetadataSource, Result, TableMetadata, TableOpener, TableSpec, Ttl,
};
use datafusion_athena_config::ConnectionOptions;

/// A catalog held in memory that counts the calls made to it.
#[derive(Debug, Default)]
struct FakeMetadata {
    sources: Vec<DataSourceInfo>,
    /// (source, database) -> tables
    tables: BTreeMap<(String, String), Vec<TableMetadata>>,
    calls: Mutex<BTreeMap<String, u64>>,
    /// How long `table` takes, to let concurrent lookups overlap.
    table_delay: Duration,
    table_calls: AtomicUsize,
}

impl FakeMetadata {
    fn count(&self, op: &str) {
        *self
            .calls
            .lock()
            .expect("lock")
            .entry(op.to_string())
            .or_default() += 1;
    }
}

#[async_trait]
impl MetadataSource for FakeMetadata {
    async fn list_data_sources(&self) -> Result<Vec<DataSourceInfo>> {
        self.count("ListDataCatalogs");
        Ok(self.sources.clone())
    }

    async fn data_source(&self, name: &str) -> Result<Option<DataSourceInfo>> {
        self.count("GetDataCatalog");
        Ok(self
            .sources
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .cloned())
    }

    async fn list_databases(&self, source: &DataSourceInfo) -> Result<Vec<String>> {
        self.count("ListDatabases");
        Ok(self
            .tables
            .keys()
            .filter(|(s, _)| *s == source.name)
            .map(|(_, d)| d.clone())
            .collect())
    }

    async fn list_tables(
        &self,
        source: &DataSourceInfo,
        database: &str,
    ) -> Result<Vec<TableMetadata>> {
        self.count("ListTables");
        Ok(self
            .tables
            .get(&(source.name.clone(), database.to_string()))
            .cloned()
            .unwrap_or_default())
    }

    async fn table(
        &self,
        source: &DataSourceInfo,
        database: &str,
        table: &str,
    ) -> Result<Option<TableMetadata>> {
        self.count("GetTable");
        self.table_calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.table_delay).await;
        Ok(self
            .tables
            .get(&(source.name.clone(), database.to_string()))
            .and_then(|ts| ts.iter().find(|t| t.name == table).cloned()))
    }

    fn api_calls(&self) -> BTreeMap<String, u64> {
        self.calls.lock().expect("lock").clone()
    }
}

/// Tables as empty in-memory tables of the catalog's schema (views stay views).
#[derive(Debug)]
struct EmptyTables;

impl TableOpener for EmptyTables {
    fn open(&self, spec: TableSpec) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        let table: Arc<dyn TableProvider> = Arc::new(MemTable::try_new(spec.schema, vec![vec![]])?);
        Ok(if spec.is_view {
            Arc::new(datafusion_athena_catalog::AthenaView(table))
        } else {
            table
        })
    }
}

fn col(name: &str, ty: &str) -> ColumnMetadata {
    ColumnMetadata {
        name: name.into(),
        type_name: ty.into(),
        comment: None,
    }
}

fn table(
    name: &str,
    kind: &str,
    columns: Vec<ColumnMetadata>,
    keys: Vec<ColumnMetadata>,
) -> TableMetadata {
    TableMetadata {
        name: name.into(),
        table_type: Some(kind.into()),
        columns,
        partition_keys: keys,
        row_count: None,
    }
}

fn fake() -> FakeMetadata {
    let glue = DataSourceInfo {
        name: "AwsDataCatalog".into(),
        kind: DataSourceKind::Glue { catalog_id: None },
    };
    let lambda = DataSourceInfo {
        name: "MyLambda".into(),
        kind: DataSourceKind::Lambda,
    };
    let mut tables = BTreeMap::new();
    tables.insert(
        ("AwsDataCatalog".to_string(), "sampledb".to_string()),
        vec![
            table(
                "orders",
                "EXTERNAL_TABLE",
                vec![
                    col("id", "bigint"),
                    col("price", "decimal(10, 2)"),
                    col("items", "array<struct<sku:string,qty:int>>"),
                    col("attrs", "map<string,int>"),
                ],
                vec![col("dt", "string")],
            ),
            table(
                "recent_orders",
                "VIRTUAL_VIEW",
                vec![col("id", "bigint")],
                vec![],
            ),
            table(
                "broken",
                "EXTERNAL_TABLE",
                vec![col("x", "int"), col("h", "hyperloglog")],
                vec![],
            ),
        ],
    );
    tables.insert(
        ("AwsDataCatalog".to_string(), "other".to_string()),
        vec![table("t2", "EXTERNAL_TABLE", vec![col("a", "int")], vec![])],
    );
    tables.insert(
        ("MyLambda".to_string(), "ext".to_string()),
        vec![table(
            "t3",
            "EXTERNAL_TABLE",
            vec![col("b", "string")],
            vec![],
        )],
    );
    FakeMetadata {
        sources: vec![glue, lambda],
        tables,
        ..Default::default()
    }
}

fn opts(s: &str) -> ConnectionOptions {
    s.parse().expect("connection string")
}

async fn register(
    ctx: &SessionContext,
    meta: Arc<FakeMetadata>,
    conn: &str,
    f: impl FnOnce(AthenaCatalogBuilder) -> AthenaCatalogBuilder,
) -> AthenaCatalogs {
    let b = AthenaCatalogBuilder::new(opts(conn))
        .with_metadata_source(meta as Arc<dyn MetadataSource>)
        .with_table_opener(Arc::new(EmptyTables));
    f(b).register(ctx).await.expect("register")
}

async fn strings(ctx: &SessionContext, sql: &str) -> Vec<Vec<String>> {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await.expect(sql).collect().await.expect(sql);
    let mut rows = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .map(|c| {
                        let c = datafusion::arrow::compute::cast(c, &DataType::Utf8).expect("cast");
                        let c = c.as_string::<i32>();
                        if c.is_null(r) {
                            "NULL".to_string()
                        } else {
                            c.value(r).to_string()
                        }
                    })
                    .collect(),
            );
        }
    }
    rows
}

#[tokio::test]
async fn names_resolve_lower_case_and_quoted_and_default_schema() {
    let ctx = SessionContext::new();
    let meta = Arc::new(fake());
    register(
        &ctx,
        Arc::clone(&meta),
        "DataSource=AwsDataCatalog;Database=sampledb;",
        |b| b,
    )
    .await;
    for sql in [
        "SELECT id FROM awsdatacatalog.sampledb.orders",
        "SELECT id FROM \"AwsDataCatalog\".sampledb.orders",
        "SELECT id FROM AwsDataCatalog.sampledb.orders",
        "SELECT id FROM sampledb.orders",
        "SELECT id FROM orders",
    ] {
        let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(df.schema().fields().len(), 1, "{sql}");
    }
    // Only Database is exposed when it is set, and no database listing was needed.
    let calls = meta.api_calls();
    assert_eq!(calls.get("ListDatabases"), None, "{calls:?}");
    assert_eq!(calls.get("ListTables"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("GetTable"), None, "{calls:?}");
    assert!(
        ctx.sql("SELECT * FROM awsdatacatalog.other.t2")
            .await
            .is_err()
    );
    // The local catalog is still there.
    assert!(ctx.catalog("datafusion").is_some());
}

#[tokio::test]
async fn schemas_are_exact_with_partition_keys_last() {
    let ctx = SessionContext::new();
    register(
        &ctx,
        Arc::new(fake()),
        "DataSource=AwsDataCatalog;Database=sampledb;",
        |b| b,
    )
    .await;
    let t = ctx.table_provider("orders").await.expect("orders");
    let s = t.schema();
    let names: Vec<_> = s.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "price", "items", "attrs", "dt"]);
    assert_eq!(s.field(0).data_type(), &DataType::Int64);
    assert_eq!(s.field(1).data_type(), &DataType::Decimal128(10, 2));
    let DataType::List(item) = s.field(2).data_type() else {
        panic!("{:?}", s.field(2))
    };
    let DataType::Struct(fields) = item.data_type() else {
        panic!("{item:?}")
    };
    assert_eq!(fields[0].name(), "sku");
    assert_eq!(fields[0].data_type(), &DataType::Utf8);
    assert_eq!(fields[1].data_type(), &DataType::Int32);
    assert!(
        matches!(s.field(3).data_type(), DataType::Map(_, _)),
        "{:?}",
        s.field(3)
    );
    assert_eq!(s.field(4).data_type(), &DataType::Utf8);
}

#[tokio::test]
async fn unknown_types_fail_naming_table_column_and_type() {
    let ctx = SessionContext::new();
    register(
        &ctx,
        Arc::new(fake()),
        "DataSource=AwsDataCatalog;Database=sampledb;",
        |b| b,
    )
    .await;
    let err = ctx
        .sql("SELECT * FROM broken")
        .await
        .expect_err("unknown type")
        .to_string();
    assert!(err.contains("AwsDataCatalog.sampledb.broken"), "{err}");
    assert!(err.contains("column h"), "{err}");
    assert!(err.contains("hyperloglog"), "{err}");
}

#[tokio::test]
async fn information_schema_show_tables_and_columns() {
    let ctx = SessionContext::new();
    register(
        &ctx,
        Arc::new(fake()),
        "DataSource=AwsDataCatalog;Database=sampledb;",
        |b| b,
    )
    .await;
    let rows = strings(
        &ctx,
        "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables \
         WHERE table_schema = 'sampledb' ORDER BY table_name",
    )
    .await;
    assert_eq!(
        rows,
        [
            ["AwsDataCatalog", "sampledb", "broken", "BASE TABLE"],
            ["AwsDataCatalog", "sampledb", "orders", "BASE TABLE"],
            ["AwsDataCatalog", "sampledb", "recent_orders", "VIEW"],
        ]
    );
    let rows = strings(&ctx, "SHOW TABLES").await;
    assert!(
        rows.iter()
            .any(|r| r[1..] == ["sampledb", "orders", "BASE TABLE"]),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r[1..] == ["sampledb", "recent_orders", "VIEW"]),
        "{rows:?}"
    );
    // SHOW COLUMNS reads every table's schema through information_schema.columns; the broken
    // table makes that fail, as an unknown type must, so check a schema without it.
    let ctx = SessionContext::new();
    let mut meta = fake();
    for ts in meta.tables.values_mut() {
        ts.retain(|t| t.name != "broken");
    }
    register(
        &ctx,
        Arc::new(meta),
        "DataSource=AwsDataCatalog;Database=sampledb;",
        |b| b,
    )
    .await;
    let rows = strings(&ctx, "SHOW COLUMNS FROM orders").await;
    let cols: Vec<_> = rows
        .iter()
        .map(|r| (r[3].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(cols[0], ("id", "Int64"));
    assert_eq!(cols[1], ("price", "Decimal128(10, 2)"));
    assert_eq!(cols[4], ("dt", "Utf8"));
    assert_eq!(cols.len(), 5);
}

#[tokio::test]
async fn every_source_and_database_when_unset() {
    let ctx = SessionContext::new();
    let meta = Arc::new(fake());
    let reg = register(&ctx, Arc::clone(&meta), "", |b| b).await;
    assert_eq!(reg.default_catalog(), "AwsDataCatalog");
    let names = reg.catalog_list().athena_catalogs();
    let names: Vec<_> = names.iter().map(|c| c.data_source().name.clone()).collect();
    assert_eq!(names, ["AwsDataCatalog", "MyLambda"]);
    let rows = strings(&ctx, "SELECT b FROM mylambda.ext.t3").await;
    assert!(rows.is_empty());
    let rows = strings(&ctx, "SELECT * FROM other.t2").await; // default catalog AwsDataCatalog
    assert!(rows.is_empty());
    let calls = meta.api_calls();
    assert_eq!(calls.get("ListDataCatalogs"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("ListDatabases"), Some(&2), "{calls:?}");
    assert_eq!(calls.get("ListTables"), Some(&3), "{calls:?}");
    assert_eq!(calls.get("GetTable"), None, "{calls:?}");
    // Without Database, local tables still register under the default schema.
    ctx.register_batch(
        "local_t",
        RecordBatch::new_empty(Arc::new(datafusion::arrow::datatypes::Schema::empty())),
    )
    .expect("local table");
    assert!(ctx.table_provider("local_t").await.is_ok());
}

#[tokio::test]
async fn unknown_data_source_is_a_clear_error() {
    let ctx = SessionContext::new();
    let err = AthenaCatalogBuilder::new(opts("DataSource=Nope;"))
        .with_metadata_source(Arc::new(fake()))
        .with_table_opener(Arc::new(EmptyTables))
        .register(&ctx)
        .await
        .expect_err("unknown source")
        .to_string();
    assert!(err.contains("Nope") && err.contains("DataSource"), "{err}");
}

#[tokio::test]
async fn lazy_lookups_share_one_request_and_expire_with_the_ttl() {
    let ctx = SessionContext::new();
    let mut meta = fake();
    meta.table_delay = Duration::from_millis(50);
    let meta = Arc::new(meta);
    let clock = Arc::new(ManualClock::new());
    let reg = register(
        &ctx,
        Arc::clone(&meta),
        "DataSource=AwsDataCatalog;Database=sampledb;",
        |b| {
            b.with_preload_tables(false)
                .with_ttl(Ttl::After(Duration::from_secs(60)))
                .with_clock(Arc::clone(&clock) as Arc<dyn Clock>)
        },
    )
    .await;
    let schema = reg
        .catalog_list()
        .athena_catalog("awsdatacatalog")
        .and_then(|c| c.database("sampledb"))
        .expect("schema");
    use datafusion::catalog::SchemaProvider;
    let lookups = (0..10).map(|_| schema.table("orders"));
    let found = futures::future::join_all(lookups).await;
    assert!(found.iter().all(|t| matches!(t, Ok(Some(_)))));
    assert_eq!(
        meta.table_calls.load(Ordering::SeqCst),
        1,
        "ten concurrent lookups, one call"
    );

    // Cached until the TTL passes, then looked up again (one call, not a listing).
    schema.table("orders").await.expect("cached");
    assert_eq!(meta.table_calls.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(61));
    schema.table("orders").await.expect("reloaded");
    assert_eq!(meta.table_calls.load(Ordering::SeqCst), 2);

    // A missing table is a miss, cached too.
    assert!(schema.table("nope").await.expect("lookup").is_none());
    assert!(schema.table("nope").await.expect("lookup").is_none());
    assert_eq!(meta.table_calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn preloaded_listing_answers_misses_without_calls() {
    let ctx = SessionContext::new();
    let meta = Arc::new(fake());
    register(
        &ctx,
        Arc::clone(&meta),
        "DataSource=AwsDataCatalog;Database=sampledb;",
        |b| b,
    )
    .await;
    assert!(ctx.sql("SELECT * FROM nope").await.is_err());
    ctx.sql("SELECT * FROM orders").await.expect("orders");
    ctx.sql("SELECT * FROM recent_orders").await.expect("view");
    assert_eq!(meta.table_calls.load(Ordering::SeqCst), 0);
    let v = ctx.table_provider("recent_orders").await.expect("view");
    assert_eq!(v.table_type(), datafusion::logical_expr::TableType::View);
}

#[tokio::test]
async fn create_external_table_stored_as_athena() {
    let ctx = SessionContext::new();
    let meta = Arc::new(fake());
    register(
        &ctx,
        Arc::clone(&meta),
        "DataSource=AwsDataCatalog;Database=sampledb;",
        |b| b,
    )
    .await;
    ctx.sql("CREATE EXTERNAL TABLE my_orders STORED AS ATHENA LOCATION 'AwsDataCatalog.sampledb.orders'")
        .await
        .expect("create");
    let t = ctx.table_provider("my_orders").await.expect("my_orders");
    let names: Vec<_> = t
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "price", "items", "attrs", "dt"]);

    // Columns select and order; types come from the catalog.
    ctx.sql("CREATE EXTERNAL TABLE two (price INT, id INT) STORED AS ATHENA LOCATION 'other.t2'")
        .await
        .expect_err("other.t2 has no price column");
    ctx.sql("CREATE EXTERNAL TABLE two (price INT, id INT) STORED AS ATHENA LOCATION 'orders'")
        .await
        .expect("create two");
    let t = ctx.table_provider("two").await.expect("two");
    let s = t.schema();
    assert_eq!(s.field(0).name(), "price");
    assert_eq!(s.field(0).data_type(), &DataType::Decimal128(10, 2));
    assert_eq!(s.field(1).data_type(), &DataType::Int64);

    // A database that is not registered (Database=sampledb) is looked up once per statement
    // (the failed `other.t2` statement above made the first call).
    ctx.sql("CREATE EXTERNAL TABLE t2 STORED AS ATHENA LOCATION '\"AwsDataCatalog\".other.t2'")
        .await
        .expect("create t2");
    assert_eq!(meta.api_calls().get("GetTable"), Some(&2));

    let err = ctx
        .sql("CREATE EXTERNAL TABLE bad STORED AS ATHENA LOCATION 'a..b'")
        .await
        .expect_err("bad location")
        .to_string();
    assert!(err.contains("LOCATION 'a..b'"), "{err}");
    let err = ctx
        .sql(
            "CREATE EXTERNAL TABLE bad STORED AS ATHENA LOCATION 'orders' OPTIONS ('colour' 'red')",
        )
        .await
        .expect_err("unknown option")
        .to_string();
    assert!(
        err.contains("colour") && err.contains("filter_pushdown"),
        "{err}"
    );
    let err = ctx
        .sql("CREATE EXTERNAL TABLE bad STORED AS ATHENA LOCATION 'sampledb.missing'")
        .await
        .expect_err("missing table")
        .to_string();
    assert!(err.contains("AwsDataCatalog.sampledb.missing"), "{err}");
}
