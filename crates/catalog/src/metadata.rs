//! Athena and Glue metadata: data sources, databases, tables with their columns.
//!
//! [`MetadataSource`] is what the providers need; [`MetadataClient`] implements it with the AWS
//! SDK. Glue-backed data sources are read through Glue (`GetDatabases`, `GetTables` with 100
//! tables and their columns per call, `GetTable`); the others through Athena
//! (`ListDatabases`, `ListTableMetadata`, `GetTableMetadata`). Every call is counted.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_athena::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_athena::types::DataCatalogType;

use crate::column_stats::{self, ColumnStats};
use crate::error::{Error, Result};

/// The name of the account's default Glue-backed data source.
pub const AWS_DATA_CATALOG: &str = "AwsDataCatalog";

/// Page sizes: the maximum each API accepts.
const ATHENA_PAGE: i32 = 50;
const GLUE_PAGE: i32 = 100;

/// How a data source stores its metadata, which decides the API used to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataSourceKind {
    /// An AWS Glue Data Catalog; `catalog_id` is the owning account when it is not the caller's.
    Glue {
        /// The Glue `CatalogId` (an account id); `None` for the caller's own catalog.
        catalog_id: Option<String>,
    },
    /// An external Hive metastore.
    Hive,
    /// A Lambda-backed catalog.
    Lambda,
    /// A federated (connector) catalog.
    Federated,
    /// A type this version does not know; read through Athena's API.
    Other(String),
}

/// One Athena data source (data catalog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSourceInfo {
    /// The name as Athena spells it, e.g. `AwsDataCatalog`.
    pub name: String,
    /// What backs it.
    pub kind: DataSourceKind,
}

impl DataSourceInfo {
    /// The Glue catalog id when this source is read through Glue.
    fn glue_catalog(&self) -> Option<Option<&str>> {
        match &self.kind {
            DataSourceKind::Glue { catalog_id } => Some(catalog_id.as_deref()),
            _ => None,
        }
    }
}

/// One column (or partition key) as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMetadata {
    /// The column name.
    pub name: String,
    /// The Athena/Hive type string, e.g. `array<struct<a:int>>`.
    pub type_name: String,
    /// The column comment, if any.
    pub comment: Option<String>,
}

/// One table or view with its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMetadata {
    /// The table name.
    pub name: String,
    /// `EXTERNAL_TABLE`, `MANAGED_TABLE`, `VIRTUAL_VIEW`, ... as the catalog reports it.
    pub table_type: Option<String>,
    /// The data columns, in order.
    pub columns: Vec<ColumnMetadata>,
    /// The partition keys, which Athena exposes as the last columns.
    pub partition_keys: Vec<ColumnMetadata>,
    /// The number of rows the catalog records (table parameter `numRows`, `recordCount` or
    /// `spark.sql.statistics.numRows`), when it records one.
    pub row_count: Option<u64>,
}

impl TableMetadata {
    /// Whether this is a view (`VIRTUAL_VIEW` in Glue and Athena).
    pub fn is_view(&self) -> bool {
        self.table_type.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("VIRTUAL_VIEW") || t.eq_ignore_ascii_case("VIEW")
        })
    }

    /// Data columns followed by partition keys: the columns a query sees.
    pub fn all_columns(&self) -> impl Iterator<Item = &ColumnMetadata> {
        self.columns.iter().chain(self.partition_keys.iter())
    }
}

/// Where the providers read metadata from. [`MetadataClient`] is the AWS implementation.
#[async_trait]
pub trait MetadataSource: fmt::Debug + Send + Sync {
    /// Every data source of the account (`ListDataCatalogs`).
    async fn list_data_sources(&self) -> Result<Vec<DataSourceInfo>>;
    /// One data source by name, `None` if it does not exist.
    async fn data_source(&self, name: &str) -> Result<Option<DataSourceInfo>>;
    /// The database names of a data source.
    async fn list_databases(&self, source: &DataSourceInfo) -> Result<Vec<String>>;
    /// Every table of a database, with columns.
    async fn list_tables(
        &self,
        source: &DataSourceInfo,
        database: &str,
    ) -> Result<Vec<TableMetadata>>;
    /// One table, `None` if it does not exist.
    async fn table(
        &self,
        source: &DataSourceInfo,
        database: &str,
        table: &str,
    ) -> Result<Option<TableMetadata>>;
    /// The column statistics the catalog keeps for `table`'s columns (Glue's
    /// `GetColumnStatisticsForTable`); none by default, and none is never an error.
    async fn column_statistics(
        &self,
        _source: &DataSourceInfo,
        _database: &str,
        _table: &TableMetadata,
    ) -> Vec<ColumnStats> {
        Vec::new()
    }
    /// API calls made so far, by operation (`Glue.GetTables`, ...). Empty if not counted.
    fn api_calls(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }
}

/// Counts API calls by operation name.
#[derive(Debug, Default)]
struct CallCounter(Mutex<BTreeMap<&'static str, u64>>);

impl CallCounter {
    fn add(&self, operation: &'static str) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(operation).or_default() += 1;
        }
    }

    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .lock()
            .map(|m| m.iter().map(|(k, v)| ((*k).to_string(), *v)).collect())
            .unwrap_or_default()
    }
}

/// The AWS implementation of [`MetadataSource`]: an Athena client and a Glue client.
#[derive(Debug)]
pub struct MetadataClient {
    athena: aws_sdk_athena::Client,
    glue: aws_sdk_glue::Client,
    work_group: Option<String>,
    use_glue: bool,
    calls: CallCounter,
}

impl MetadataClient {
    /// A client over the given SDK clients. Glue is used for Glue-backed data sources.
    pub fn new(athena: aws_sdk_athena::Client, glue: aws_sdk_glue::Client) -> Self {
        Self {
            athena,
            glue,
            work_group: None,
            use_glue: true,
            calls: CallCounter::default(),
        }
    }

    /// The Athena workgroup passed to Athena's metadata calls.
    pub fn with_work_group(mut self, work_group: Option<String>) -> Self {
        self.work_group = work_group;
        self
    }

    /// Whether Glue-backed data sources are read through Glue (default) or through Athena's
    /// metadata API (one page per 50 tables instead of 100).
    pub fn with_glue(mut self, use_glue: bool) -> Self {
        self.use_glue = use_glue;
        self
    }

    fn glue_catalog<'a>(&self, source: &'a DataSourceInfo) -> Option<Option<&'a str>> {
        if self.use_glue {
            source.glue_catalog()
        } else {
            None
        }
    }

    /// Runs `call` page by page until no NextToken is returned, counting each call.
    async fn paginate<T, F, Fut>(
        &self,
        operation: &'static str,
        target: &str,
        mut call: F,
    ) -> Result<Vec<T>>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), String>>,
    {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.calls.add(operation);
            let (items, next) = call(token.clone()).await.map_err(|message| Error::Api {
                operation,
                target: target.to_string(),
                source: message.into(),
            })?;
            out.extend(items);
            match next.filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(Error::Pagination {
                        operation,
                        target: target.to_string(),
                    });
                }
                Some(next) => token = Some(next),
                None => return Ok(out),
            }
        }
    }
}

fn sdk_message<E>(e: &E) -> String
where
    E: std::error::Error + 'static,
{
    DisplayErrorContext(e).to_string()
}

fn catalog_kind(
    kind: Option<&DataCatalogType>,
    name: &str,
    catalog_id: Option<String>,
) -> DataSourceKind {
    match kind {
        Some(DataCatalogType::Glue) => DataSourceKind::Glue {
            catalog_id: if name.eq_ignore_ascii_case(AWS_DATA_CATALOG) {
                None
            } else {
                catalog_id
            },
        },
        Some(DataCatalogType::Hive) => DataSourceKind::Hive,
        Some(DataCatalogType::Lambda) => DataSourceKind::Lambda,
        Some(DataCatalogType::Federated) => DataSourceKind::Federated,
        Some(other) => DataSourceKind::Other(other.as_str().to_string()),
        None if name.eq_ignore_ascii_case(AWS_DATA_CATALOG) => {
            DataSourceKind::Glue { catalog_id: None }
        }
        None => DataSourceKind::Other(String::new()),
    }
}

fn athena_column(c: &aws_sdk_athena::types::Column) -> ColumnMetadata {
    ColumnMetadata {
        name: c.name().to_string(),
        type_name: c.r#type().unwrap_or_default().to_string(),
        comment: c.comment().map(str::to_string),
    }
}

fn glue_column(c: &aws_sdk_glue::types::Column) -> ColumnMetadata {
    ColumnMetadata {
        name: c.name().to_string(),
        type_name: c.r#type().unwrap_or_default().to_string(),
        comment: c.comment().map(str::to_string),
    }
}

fn athena_table(t: &aws_sdk_athena::types::TableMetadata) -> TableMetadata {
    TableMetadata {
        name: t.name().to_string(),
        table_type: t.table_type().map(str::to_string),
        columns: t.columns().iter().map(athena_column).collect(),
        partition_keys: t.partition_keys().iter().map(athena_column).collect(),
        row_count: t.parameters().and_then(row_count),
    }
}

/// The table parameters that record a row count, most trusted first: Hive/Athena statistics,
/// the Glue crawler's count, Spark's.
const ROW_COUNT_PARAMETERS: [&str; 3] = ["numRows", "recordCount", "spark.sql.statistics.numRows"];

/// The row count recorded in a table's parameters; Hive writes `-1` for "unknown".
pub(crate) fn row_count(parameters: &std::collections::HashMap<String, String>) -> Option<u64> {
    ROW_COUNT_PARAMETERS.iter().find_map(|key| {
        parameters
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
    })
}

fn glue_table(t: &aws_sdk_glue::types::Table) -> TableMetadata {
    TableMetadata {
        name: t.name().to_string(),
        table_type: t.table_type().map(str::to_string),
        columns: t
            .storage_descriptor()
            .map(|sd| sd.columns().iter().map(glue_column).collect())
            .unwrap_or_default(),
        partition_keys: t.partition_keys().iter().map(glue_column).collect(),
        row_count: t.parameters().and_then(row_count),
    }
}

/// Glue accepts at most this many column names per `GetColumnStatisticsForTable`.
const COLUMN_STATISTICS_BATCH: usize = 100;

impl MetadataClient {
    /// Glue's statistics of `table`'s data columns; none when Glue has none or refuses (the
    /// statistics only guide the optimizer, so their absence is never an error).
    async fn glue_column_statistics(
        &self,
        catalog_id: Option<&str>,
        database: &str,
        table: &TableMetadata,
    ) -> Vec<ColumnStats> {
        let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        if table.is_view() || names.is_empty() {
            return Vec::new();
        }
        let mut found = Vec::new();
        for batch in names.chunks(COLUMN_STATISTICS_BATCH) {
            self.calls.add("Glue.GetColumnStatisticsForTable");
            match self
                .glue
                .get_column_statistics_for_table()
                .set_catalog_id(catalog_id.map(str::to_string))
                .database_name(database)
                .table_name(&table.name)
                .set_column_names(Some(batch.to_vec()))
                .send()
                .await
            {
                Ok(out) => found.extend(
                    out.column_statistics_list()
                        .iter()
                        .filter_map(column_stats::from_glue),
                ),
                Err(e) => {
                    tracing::debug!(
                        table = %table.name,
                        error = %sdk_message(&e),
                        "no column statistics from Glue"
                    );
                    return Vec::new();
                }
            }
        }
        found
    }
}

/// Whether an Athena metadata error means "no such table/catalog".
fn is_not_found(code: Option<&str>, message: Option<&str>) -> bool {
    let code = code.unwrap_or_default();
    let message = message.unwrap_or_default().to_ascii_lowercase();
    code.contains("EntityNotFound")
        || code.contains("ResourceNotFound")
        || message.contains("not found")
        || message.contains("does not exist")
        || message.contains("entitynotfound")
}

#[async_trait]
impl MetadataSource for MetadataClient {
    async fn list_data_sources(&self) -> Result<Vec<DataSourceInfo>> {
        let summaries = self
            .paginate("Athena.ListDataCatalogs", "the account", |token| {
                let req = self
                    .athena
                    .list_data_catalogs()
                    .set_next_token(token)
                    .set_work_group(self.work_group.clone())
                    .max_results(ATHENA_PAGE);
                async move {
                    let out = req.send().await.map_err(|e| sdk_message(&e))?;
                    let items = out
                        .data_catalogs_summary()
                        .iter()
                        .filter_map(|s| Some((s.catalog_name()?.to_string(), s.r#type().cloned())))
                        .collect::<Vec<_>>();
                    Ok((items, out.next_token().map(str::to_string)))
                }
            })
            .await?;
        let mut out = Vec::with_capacity(summaries.len());
        for (name, kind) in summaries {
            // Another account's Glue catalog needs its catalog id, which only GetDataCatalog has.
            if matches!(kind, Some(DataCatalogType::Glue))
                && !name.eq_ignore_ascii_case(AWS_DATA_CATALOG)
            {
                if let Some(info) = self.data_source(&name).await? {
                    out.push(info);
                }
                continue;
            }
            out.push(DataSourceInfo {
                kind: catalog_kind(kind.as_ref(), &name, None),
                name,
            });
        }
        Ok(out)
    }

    async fn data_source(&self, name: &str) -> Result<Option<DataSourceInfo>> {
        if name.eq_ignore_ascii_case(AWS_DATA_CATALOG) {
            // Always the caller's own Glue catalog: no call needed.
            return Ok(Some(DataSourceInfo {
                name: AWS_DATA_CATALOG.to_string(),
                kind: DataSourceKind::Glue { catalog_id: None },
            }));
        }
        self.calls.add("Athena.GetDataCatalog");
        let out = self
            .athena
            .get_data_catalog()
            .name(name)
            .set_work_group(self.work_group.clone())
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.data_catalog().map(|c| DataSourceInfo {
                name: c.name().to_string(),
                kind: catalog_kind(
                    Some(c.r#type()),
                    c.name(),
                    c.parameters().and_then(|p| p.get("catalog-id").cloned()),
                ),
            })),
            Err(e) => {
                if let Some(se) = e.as_service_error()
                    && is_not_found(se.code(), se.message())
                {
                    return Ok(None);
                }
                Err(Error::Api {
                    operation: "Athena.GetDataCatalog",
                    target: name.to_string(),
                    source: sdk_message(&e).into(),
                })
            }
        }
    }

    async fn list_databases(&self, source: &DataSourceInfo) -> Result<Vec<String>> {
        let target = source.name.as_str();
        if let Some(catalog_id) = self.glue_catalog(source) {
            return self
                .paginate("Glue.GetDatabases", target, |token| {
                    let req = self
                        .glue
                        .get_databases()
                        .set_catalog_id(catalog_id.map(str::to_string))
                        .set_next_token(token)
                        .max_results(GLUE_PAGE);
                    async move {
                        let out = req.send().await.map_err(|e| sdk_message(&e))?;
                        let names = out
                            .database_list()
                            .iter()
                            .map(|d| d.name().to_string())
                            .collect();
                        Ok((names, out.next_token().map(str::to_string)))
                    }
                })
                .await;
        }
        self.paginate("Athena.ListDatabases", target, |token| {
            let req = self
                .athena
                .list_databases()
                .catalog_name(&source.name)
                .set_work_group(self.work_group.clone())
                .set_next_token(token)
                .max_results(ATHENA_PAGE);
            async move {
                let out = req.send().await.map_err(|e| sdk_message(&e))?;
                let names = out
                    .database_list()
                    .iter()
                    .map(|d| d.name().to_string())
                    .collect();
                Ok((names, out.next_token().map(str::to_string)))
            }
        })
        .await
    }

    async fn list_tables(
        &self,
        source: &DataSourceInfo,
        database: &str,
    ) -> Result<Vec<TableMetadata>> {
        let target = format!("{}.{database}", source.name);
        if let Some(catalog_id) = self.glue_catalog(source) {
            return self
                .paginate("Glue.GetTables", &target, |token| {
                    let req = self
                        .glue
                        .get_tables()
                        .set_catalog_id(catalog_id.map(str::to_string))
                        .database_name(database)
                        .set_next_token(token)
                        .max_results(GLUE_PAGE);
                    async move {
                        let out = req.send().await.map_err(|e| sdk_message(&e))?;
                        let tables = out.table_list().iter().map(glue_table).collect();
                        Ok((tables, out.next_token().map(str::to_string)))
                    }
                })
                .await;
        }
        self.paginate("Athena.ListTableMetadata", &target, |token| {
            let req = self
                .athena
                .list_table_metadata()
                .catalog_name(&source.name)
                .database_name(database)
                .set_work_group(self.work_group.clone())
                .set_next_token(token)
                .max_results(ATHENA_PAGE);
            async move {
                let out = req.send().await.map_err(|e| sdk_message(&e))?;
                let tables = out.table_metadata_list().iter().map(athena_table).collect();
                Ok((tables, out.next_token().map(str::to_string)))
            }
        })
        .await
    }

    async fn column_statistics(
        &self,
        source: &DataSourceInfo,
        database: &str,
        table: &TableMetadata,
    ) -> Vec<ColumnStats> {
        match self.glue_catalog(source) {
            Some(catalog_id) => {
                self.glue_column_statistics(catalog_id, database, table)
                    .await
            }
            None => Vec::new(),
        }
    }

    async fn table(
        &self,
        source: &DataSourceInfo,
        database: &str,
        table: &str,
    ) -> Result<Option<TableMetadata>> {
        let target = format!("{}.{database}.{table}", source.name);
        if let Some(catalog_id) = self.glue_catalog(source) {
            self.calls.add("Glue.GetTable");
            let out = self
                .glue
                .get_table()
                .set_catalog_id(catalog_id.map(str::to_string))
                .database_name(database)
                .name(table)
                .send()
                .await;
            return match out {
                Ok(out) => Ok(out.table().map(glue_table)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_entity_not_found_exception()) =>
                {
                    Ok(None)
                }
                Err(e) => Err(Error::Api {
                    operation: "Glue.GetTable",
                    target,
                    source: sdk_message(&e).into(),
                }),
            };
        }
        self.calls.add("Athena.GetTableMetadata");
        let out = self
            .athena
            .get_table_metadata()
            .catalog_name(&source.name)
            .database_name(database)
            .table_name(table)
            .set_work_group(self.work_group.clone())
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.table_metadata().map(athena_table)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| is_not_found(se.code(), se.message())) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::Api {
                operation: "Athena.GetTableMetadata",
                target,
                source: sdk_message(&e).into(),
            }),
        }
    }

    fn api_calls(&self) -> BTreeMap<String, u64> {
        self.calls.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_recognised_by_table_type() {
        let mut t = TableMetadata {
            name: "v".into(),
            table_type: Some("VIRTUAL_VIEW".into()),
            columns: vec![],
            partition_keys: vec![],
            row_count: None,
        };
        assert!(t.is_view());
        t.table_type = Some("EXTERNAL_TABLE".into());
        assert!(!t.is_view());
        t.table_type = None;
        assert!(!t.is_view());
    }

    #[test]
    fn partition_keys_come_after_data_columns() {
        let col = |n: &str| ColumnMetadata {
            name: n.into(),
            type_name: "int".into(),
            comment: None,
        };
        let t = TableMetadata {
            name: "t".into(),
            table_type: None,
            columns: vec![col("a"), col("b")],
            partition_keys: vec![col("dt")],
            row_count: None,
        };
        let names: Vec<_> = t.all_columns().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "dt"]);
    }

    #[test]
    fn aws_data_catalog_is_always_the_callers_glue_catalog() {
        let kind = catalog_kind(
            Some(&DataCatalogType::Glue),
            "awsdatacatalog",
            Some("123".into()),
        );
        assert_eq!(kind, DataSourceKind::Glue { catalog_id: None });
        let kind = catalog_kind(Some(&DataCatalogType::Glue), "shared", Some("123".into()));
        assert_eq!(
            kind,
            DataSourceKind::Glue {
                catalog_id: Some("123".into())
            }
        );
        assert_eq!(
            catalog_kind(Some(&DataCatalogType::Lambda), "x", None),
            DataSourceKind::Lambda
        );
    }

    #[test]
    fn row_counts_come_from_table_parameters() {
        let params = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect::<std::collections::HashMap<_, _>>()
        };
        assert_eq!(row_count(&params(&[("numRows", "42")])), Some(42));
        assert_eq!(row_count(&params(&[("recordCount", "7")])), Some(7));
        assert_eq!(
            row_count(&params(&[("numRows", "5"), ("recordCount", "9")])),
            Some(5)
        );
        // Hive's "unknown" and garbage are no count; the next parameter is tried.
        assert_eq!(
            row_count(&params(&[("numRows", "-1"), ("recordCount", "3")])),
            Some(3)
        );
        assert_eq!(row_count(&params(&[("numRows", "many")])), None);
        assert_eq!(row_count(&params(&[("classification", "parquet")])), None);
    }

    #[test]
    fn not_found_detection() {
        assert!(is_not_found(
            Some("MetadataException"),
            Some("Table not found: db.t")
        ));
        assert!(is_not_found(Some("EntityNotFoundException"), None));
        assert!(!is_not_found(Some("InternalServerException"), Some("boom")));
    }
}
