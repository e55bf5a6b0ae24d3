//! The data catalog (`AwsDataCatalog`): databases and tables from a data directory or registered
//! through the Rust API, kept both as DataFusion tables and as Glue/Athena metadata.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{
    CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider,
};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, ViewTable, provider_as_source};
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::{SessionConfig, SessionContext, ident};

use crate::error::{Error, Result};
use crate::types::hive_type;

/// The catalog's name in the Athena API.
pub(crate) const CATALOG_NAME: &str = "AwsDataCatalog";
/// The catalog's name inside DataFusion (Athena folds identifiers to lower case).
pub(crate) const DF_CATALOG: &str = "awsdatacatalog";
/// The bucket named in table locations.
pub(crate) const DATA_BUCKET: &str = "emulator-data";
/// The database every Athena account has.
pub(crate) const DEFAULT_DATABASE: &str = "default";

/// A column's name and Hive type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnMeta {
    pub(crate) name: String,
    pub(crate) hive_type: String,
}

/// A partition: its key values and where its files are.
#[derive(Debug, Clone)]
pub(crate) struct PartitionMeta {
    pub(crate) values: Vec<String>,
    pub(crate) location: String,
}

/// How a table's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableFormat {
    Parquet,
    Csv,
    Memory,
}

/// A table's metadata.
#[derive(Debug, Clone)]
pub(crate) struct TableMeta {
    pub(crate) name: String,
    pub(crate) database: String,
    pub(crate) columns: Vec<ColumnMeta>,
    pub(crate) partition_keys: Vec<ColumnMeta>,
    pub(crate) partitions: Vec<PartitionMeta>,
    pub(crate) location: String,
    pub(crate) format: TableFormat,
    /// Bytes a full scan reads (file sizes, or in-memory size of registered batches).
    pub(crate) bytes: u64,
    /// The number of rows (from the Parquet footers, or of the registered batches); unknown
    /// for CSV.
    pub(crate) rows: Option<u64>,
    pub(crate) created: DateTime<Utc>,
    /// The file or directory the table was registered from (none for registered batches).
    pub(crate) source: Option<PathBuf>,
}

/// A database's metadata.
#[derive(Debug, Clone)]
pub(crate) struct DatabaseMeta {
    pub(crate) name: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) tables: BTreeMap<String, TableMeta>,
}

/// The catalog shared by every query.
pub(crate) struct Catalog {
    ctx: SessionContext,
    df_catalog: Arc<MemoryCatalogProvider>,
    databases: RwLock<BTreeMap<String, DatabaseMeta>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("databases", &self.databases)
            .finish_non_exhaustive()
    }
}

impl Catalog {
    pub(crate) fn new() -> Self {
        let config = SessionConfig::new()
            .with_create_default_catalog_and_schema(false)
            .with_default_catalog_and_schema(DF_CATALOG, DEFAULT_DATABASE)
            .with_information_schema(false);
        let ctx = SessionContext::new_with_config(config);
        ctx.register_udf(crate::athena::json::udf());
        let df_catalog = Arc::new(MemoryCatalogProvider::new());
        ctx.register_catalog(
            DF_CATALOG,
            Arc::clone(&df_catalog) as Arc<dyn CatalogProvider>,
        );
        let catalog = Self {
            ctx,
            df_catalog,
            databases: RwLock::new(BTreeMap::new()),
        };
        catalog.ensure_database(DEFAULT_DATABASE);
        catalog
    }

    /// The DataFusion context holding every table.
    pub(crate) fn context(&self) -> &SessionContext {
        &self.ctx
    }

    fn ensure_database(&self, name: &str) -> Arc<dyn SchemaProvider> {
        let mut dbs = self.databases.write().unwrap_or_else(|e| e.into_inner());
        dbs.entry(name.to_owned()).or_insert_with(|| DatabaseMeta {
            name: name.to_owned(),
            created: Utc::now(),
            tables: BTreeMap::new(),
        });
        match self.df_catalog.schema(name) {
            Some(schema) => schema,
            None => {
                let schema: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                // Registering on a memory catalog cannot fail.
                let _ = self.df_catalog.register_schema(name, Arc::clone(&schema));
                schema
            }
        }
    }

    fn add_table(
        &self,
        meta: TableMeta,
        provider: Arc<dyn datafusion::catalog::TableProvider>,
    ) -> Result<()> {
        let schema = self.ensure_database(&meta.database);
        let _ = schema.deregister_table(&meta.name);
        schema
            .register_table(meta.name.clone(), provider)
            .map_err(|e| {
                Error::datafusion(
                    format!("registering table {}.{}", meta.database, meta.name),
                    e,
                )
            })?;
        let mut dbs = self.databases.write().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = dbs.get_mut(&meta.database) {
            db.tables.insert(meta.name.clone(), meta);
        }
        Ok(())
    }

    /// Registers in-memory batches as `db.table`.
    pub(crate) fn register_batches(
        &self,
        db: &str,
        table: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        validate_name("database", db)?;
        validate_name("table", table)?;
        let bytes = batches
            .iter()
            .map(|b| b.get_array_memory_size() as u64)
            .sum();
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        let (schema, batches) = lower_case_batches(schema, batches, db, table)?;
        let columns = columns_of(&schema);
        let provider = MemTable::try_new(schema, vec![batches])
            .map_err(|e| Error::datafusion(format!("registering batches as {db}.{table}"), e))?;
        self.add_table(
            TableMeta {
                name: table.to_owned(),
                database: db.to_owned(),
                columns,
                partition_keys: Vec::new(),
                partitions: Vec::new(),
                location: format!("s3://{DATA_BUCKET}/{db}/{table}/"),
                format: TableFormat::Memory,
                bytes,
                rows: Some(rows),
                created: Utc::now(),
                source: None,
            },
            Arc::new(provider),
        )
    }

    /// Registers Parquet or CSV files (a file, or a directory with optional `key=value/`
    /// partition directories) as `db.table`.
    pub(crate) async fn register_files(&self, db: &str, table: &str, path: &Path) -> Result<()> {
        validate_name("database", db)?;
        validate_name("table", table)?;
        let layout = scan_layout(path)?;
        let (format, extension): (Arc<dyn FileFormat>, &str) = match layout.format {
            TableFormat::Csv => (Arc::new(CsvFormat::default().with_has_header(true)), ".csv"),
            _ => (Arc::new(ParquetFormat::default()), ".parquet"),
        };
        let options = ListingOptions::new(format)
            .with_file_extension(extension)
            .with_table_partition_cols(
                layout
                    .partition_keys
                    .iter()
                    .map(|k| (k.clone(), DataType::Utf8))
                    .collect(),
            );
        let url_text = if layout.is_dir {
            format!("{}/", layout.root.display())
        } else {
            layout.root.display().to_string()
        };
        let context = format!("reading table {db}.{table} from {}", path.display());
        let url =
            ListingTableUrl::parse(&url_text).map_err(|e| Error::datafusion(context.clone(), e))?;
        let state = self.ctx.state();
        let file_schema = options
            .infer_schema(&state, &url)
            .await
            .map_err(|e| Error::datafusion(context.clone(), e))?;
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(Arc::clone(&file_schema));
        let listing =
            ListingTable::try_new(config).map_err(|e| Error::datafusion(context.clone(), e))?;
        let provider = lower_case_columns(Arc::new(listing), table)
            .map_err(|e| Error::datafusion(context, e))?;
        let location = format!("s3://{DATA_BUCKET}/{db}/{table}/");
        let partitions = layout
            .partitions
            .iter()
            .map(|values| PartitionMeta {
                location: format!(
                    "{location}{}/",
                    layout
                        .partition_keys
                        .iter()
                        .zip(values)
                        .map(|(k, v)| format!("{}={v}", k.to_lowercase()))
                        .collect::<Vec<_>>()
                        .join("/")
                ),
                values: values.clone(),
            })
            .collect();
        self.add_table(
            TableMeta {
                name: table.to_owned(),
                database: db.to_owned(),
                columns: columns_of(&file_schema),
                partition_keys: layout
                    .partition_keys
                    .iter()
                    .map(|k| ColumnMeta {
                        name: k.to_lowercase(),
                        hive_type: "string".into(),
                    })
                    .collect(),
                partitions,
                location,
                format: layout.format,
                bytes: layout.bytes,
                rows: layout.rows,
                created: layout.created,
                source: Some(layout.root.clone()),
            },
            provider,
        )
    }

    /// Registers `DIR/<database>/<table>/` for every database and table directory.
    /// Registers every `dir/<database>/<table>/`; returns the databases found, in order.
    pub(crate) async fn register_data_dir(&self, dir: &Path) -> Result<Vec<String>> {
        let databases = sorted_dirs(dir)?;
        let mut names = Vec::with_capacity(databases.len());
        for db_dir in databases {
            let db = dir_name(&db_dir);
            validate_name("database directory", &db)?;
            self.ensure_database(&db);
            for table_dir in sorted_dirs(&db_dir)? {
                let table = dir_name(&table_dir);
                self.register_files(&db, &table, &table_dir).await?;
            }
            names.push(db);
        }
        Ok(names)
    }

    pub(crate) fn databases(&self) -> Vec<DatabaseMeta> {
        let dbs = self.databases.read().unwrap_or_else(|e| e.into_inner());
        dbs.values().cloned().collect()
    }

    pub(crate) fn database(&self, name: &str) -> Option<DatabaseMeta> {
        let dbs = self.databases.read().unwrap_or_else(|e| e.into_inner());
        dbs.get(&name.to_ascii_lowercase()).cloned()
    }

    pub(crate) fn table(&self, db: &str, table: &str) -> Option<TableMeta> {
        self.database(db)?
            .tables
            .get(&table.to_ascii_lowercase())
            .cloned()
    }
}

/// Athena folds column names to lower case: a table whose files use other cases is served
/// through a view that renames its columns.
fn lower_case_columns(
    provider: Arc<dyn datafusion::catalog::TableProvider>,
    table: &str,
) -> datafusion::error::Result<Arc<dyn datafusion::catalog::TableProvider>> {
    let schema = provider.schema();
    if schema
        .fields()
        .iter()
        .all(|f| *f.name() == f.name().to_lowercase())
    {
        return Ok(provider);
    }
    check_unique_lower_case(&schema).map_err(datafusion::error::DataFusionError::Plan)?;
    let exprs: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| ident(f.name()).alias(f.name().to_lowercase()))
        .collect();
    let plan =
        LogicalPlanBuilder::scan(format!("{table}_files"), provider_as_source(provider), None)?
            .project(exprs)?
            .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

fn check_unique_lower_case(schema: &SchemaRef) -> std::result::Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for f in schema.fields() {
        if !seen.insert(f.name().to_lowercase()) {
            return Err(format!(
                "columns differ only in case ({}); Athena folds names to lower case, rename one",
                f.name()
            ));
        }
    }
    Ok(())
}

fn lower_case_batches(
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    db: &str,
    table: &str,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    if schema
        .fields()
        .iter()
        .all(|f| *f.name() == f.name().to_lowercase())
    {
        return Ok((schema, batches));
    }
    check_unique_lower_case(&schema)
        .map_err(|reason| Error::invalid("table columns", format!("{db}.{table}"), reason))?;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_name(f.name().to_lowercase()))
        .collect();
    let lowered = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let batches = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(Arc::clone(&lowered), b.columns().to_vec()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::datafusion(format!("registering batches as {db}.{table}"), e.into()))?;
    Ok((lowered, batches))
}

fn columns_of(schema: &SchemaRef) -> Vec<ColumnMeta> {
    schema
        .fields()
        .iter()
        .map(|f| ColumnMeta {
            name: f.name().to_lowercase(),
            hive_type: hive_type(f.data_type()),
        })
        .collect()
}

/// Athena names: lower case letters, digits and `_`.
fn validate_name(what: &'static str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            what,
            name,
            "Athena names use only lower case letters, digits and '_'; rename it",
        ))
    }
}

fn dir_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("reading data directory {}", dir.display()), e))?;
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !is_hidden(p))
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy().starts_with(['.', '_']))
        .unwrap_or(false)
}

struct Layout {
    root: PathBuf,
    is_dir: bool,
    format: TableFormat,
    partition_keys: Vec<String>,
    partitions: Vec<Vec<String>>,
    bytes: u64,
    rows: Option<u64>,
    created: DateTime<Utc>,
}

/// The row count in a Parquet file's footer.
fn parquet_rows(path: &Path) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let metadata = datafusion::parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .ok()?;
    u64::try_from(metadata.file_metadata().num_rows()).ok()
}

/// Walks a table's files: their format, partition keys and values, total size.
fn scan_layout(path: &Path) -> Result<Layout> {
    let root = path
        .canonicalize()
        .map_err(|e| Error::io(format!("reading table files at {}", path.display()), e))?;
    let meta = std::fs::metadata(&root)
        .map_err(|e| Error::io(format!("reading {}", root.display()), e))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
            for entry in entries.flatten() {
                let p = entry.path();
                if is_hidden(&p) {
                    continue;
                }
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
    } else {
        files.push(root.clone());
    }
    files.sort();
    let mut format = None;
    let mut bytes = 0;
    let mut rows = Some(0u64);
    let mut created: Option<std::time::SystemTime> = None;
    let mut partition_keys: Option<Vec<String>> = None;
    let mut partitions: Vec<Vec<String>> = Vec::new();
    for file in &files {
        let name = file.to_string_lossy().to_ascii_lowercase();
        let this = if name.ends_with(".parquet") {
            TableFormat::Parquet
        } else if name.ends_with(".csv") {
            TableFormat::Csv
        } else {
            continue;
        };
        match format {
            None => format = Some(this),
            Some(f) if f != this => {
                return Err(Error::invalid(
                    "table directory",
                    root.display().to_string(),
                    "it mixes Parquet and CSV files; keep one format per table",
                ));
            }
            Some(_) => {}
        }
        rows = match this {
            TableFormat::Parquet => rows.zip(parquet_rows(file)).map(|(a, b)| a + b),
            _ => None,
        };
        if let Ok(m) = std::fs::metadata(file) {
            bytes += m.len();
            if let Ok(t) = m.modified() {
                created = Some(created.map_or(t, |c| c.min(t)));
            }
        }
        let rel = file.strip_prefix(&root).unwrap_or(file);
        let dirs: Vec<String> = rel
            .parent()
            .map(|p| {
                p.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for d in &dirs {
            let Some((k, v)) = d.split_once('=') else {
                return Err(Error::invalid(
                    "table subdirectory",
                    d.clone(),
                    "subdirectories of a table must be Hive partitions named key=value",
                ));
            };
            keys.push(k.to_owned());
            values.push(v.to_owned());
        }
        match &partition_keys {
            None => partition_keys = Some(keys),
            Some(existing) if *existing != keys => {
                return Err(Error::invalid(
                    "partition directories",
                    root.display().to_string(),
                    format!(
                        "every file must sit under the same partition keys ({existing:?} vs {keys:?})"
                    ),
                ));
            }
            Some(_) => {}
        }
        if !values.is_empty() && !partitions.contains(&values) {
            partitions.push(values);
        }
    }
    let Some(format) = format else {
        return Err(Error::invalid(
            "table directory",
            root.display().to_string(),
            "it holds no .parquet or .csv file",
        ));
    };
    Ok(Layout {
        is_dir: meta.is_dir(),
        root,
        format,
        partition_keys: partition_keys.unwrap_or_default(),
        partitions,
        bytes,
        rows,
        created: created.map(DateTime::<Utc>::from).unwrap_or_else(Utc::now),
    })
}
