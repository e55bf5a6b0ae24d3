//! `CREATE EXTERNAL TABLE x STORED AS ATHENA LOCATION 'catalog.db.table'`: an Athena table under
//! a local name.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::Schema;
use datafusion::catalog::{Session, TableProvider, TableProviderFactory};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::CreateExternalTable;

use crate::error::Error;
use datafusion_athena_scan::AthenaTableName;

use crate::metadata::DataSourceInfo;
use crate::provider::AthenaCatalogList;
use crate::schema::{AthenaSchemaProvider, Shared};
use crate::table::{TableSpec, arrow_schema};

/// The `STORED AS` name this factory is registered under.
pub const ATHENA_FORMAT: &str = "ATHENA";

/// Creates Athena tables from `CREATE EXTERNAL TABLE ... STORED AS ATHENA LOCATION '...'`.
///
/// `LOCATION` is `table`, `database.table` or `data_source.database.table` (double quotes
/// allowed around parts); missing parts come from the registration's default data source and
/// database. Columns given in the statement select (and order) the table's columns; their types
/// come from the catalog. `OPTIONS ('filter_pushdown' 'false')` turns filter pushdown off (the
/// only option).
pub struct AthenaTableFactory {
    list: Arc<AthenaCatalogList>,
    shared: Arc<Shared>,
    default_catalog: String,
    default_schema: Option<String>,
}

impl fmt::Debug for AthenaTableFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AthenaTableFactory")
            .field("default_catalog", &self.default_catalog)
            .field("default_schema", &self.default_schema)
            .finish_non_exhaustive()
    }
}

impl AthenaTableFactory {
    pub(crate) fn new(
        list: Arc<AthenaCatalogList>,
        shared: Arc<Shared>,
        default_catalog: String,
        default_schema: Option<String>,
    ) -> Self {
        Self {
            list,
            shared,
            default_catalog,
            default_schema,
        }
    }

    /// Splits a LOCATION into (data source, database, table).
    fn parse_location(&self, location: &str) -> Result<(String, String, String), Error> {
        let parts: Vec<String> = location
            .split('.')
            .map(|p| p.trim().trim_matches('"').to_string())
            .collect();
        let invalid = |message: &str| Error::Invalid {
            what: format!("LOCATION '{location}'"),
            message: message.to_string(),
        };
        if parts.iter().any(String::is_empty) {
            return Err(invalid(
                "expected 'data_source.database.table', 'database.table' or 'table'",
            ));
        }
        match parts.as_slice() {
            [c, d, t] => Ok((c.clone(), d.clone(), t.clone())),
            [d, t] => Ok((self.default_catalog.clone(), d.clone(), t.clone())),
            [t] => {
                let d = self.default_schema.clone().ok_or_else(|| {
                    invalid("no database: write 'database.table' or set Database in the connection")
                })?;
                Ok((self.default_catalog.clone(), d, t.clone()))
            }
            _ => Err(invalid(
                "expected 'data_source.database.table', 'database.table' or 'table'",
            )),
        }
    }

    fn filter_pushdown(options: &HashMap<String, String>) -> Result<bool, Error> {
        let mut pushdown = true;
        for (key, value) in options {
            match key.to_ascii_lowercase().trim_start_matches("format.") {
                "filter_pushdown" => {
                    pushdown = value.parse().map_err(|_| Error::Invalid {
                        what: format!("option '{key}'"),
                        message: format!("'{value}' is not true or false"),
                    })?;
                }
                _ => {
                    return Err(Error::Invalid {
                        what: format!("option '{key}'"),
                        message: "STORED AS ATHENA accepts only 'filter_pushdown'".into(),
                    });
                }
            }
        }
        Ok(pushdown)
    }
}

#[async_trait]
impl TableProviderFactory for AthenaTableFactory {
    async fn create(
        &self,
        _state: &dyn Session,
        cmd: &CreateExternalTable,
    ) -> Result<Arc<dyn TableProvider>> {
        let location = match cmd.locations.as_slice() {
            [one] => one.as_str(),
            _ => {
                return Err(Error::Invalid {
                    what: "LOCATION".into(),
                    message:
                        "STORED AS ATHENA takes exactly one LOCATION 'data_source.database.table'"
                            .into(),
                }
                .into());
            }
        };
        let (catalog, database, table) = self.parse_location(location)?;
        let pushdown = Self::filter_pushdown(&cmd.options)?;
        // Prefer the registered database (its cache); else look the table up once.
        let schema = match self
            .list
            .athena_catalog(&catalog)
            .and_then(|c| c.database(&database))
        {
            Some(db) => db,
            None => {
                let source = match self.list.athena_catalog(&catalog) {
                    Some(c) => Arc::new(c.data_source().clone()),
                    None => Arc::new(
                        self.shared
                            .metadata
                            .data_source(&catalog)
                            .await?
                            .ok_or_else(|| Error::NotFound {
                                kind: "data source",
                                name: catalog.clone(),
                                hint: format!(" (from LOCATION '{location}')"),
                            })?,
                    ),
                };
                AthenaSchemaProvider::new(source, database.clone(), Arc::clone(&self.shared))
            }
        };
        let meta = schema
            .describe(&table)
            .await?
            .ok_or_else(|| Error::NotFound {
                kind: "table",
                name: format!("{catalog}.{database}.{table}"),
                hint: format!(" (from LOCATION '{location}')"),
            })?;
        let source: &DataSourceInfo = schema.data_source();
        let full = arrow_schema(&source.name, schema.database(), &meta)?;
        let wanted = cmd.schema.fields();
        let arrow = if wanted.is_empty() {
            full
        } else {
            let fields = wanted
                .iter()
                .map(|f| {
                    full.field_with_name(f.name()).cloned().map_err(|_| {
                        DataFusionError::from(Error::NotFound {
                            kind: "column",
                            name: f.name().clone(),
                            hint: format!(" in Athena table {catalog}.{database}.{table}"),
                        })
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Arc::new(Schema::new(fields))
        };
        let spec = TableSpec {
            name: AthenaTableName::new(schema.database(), &meta.name).with_catalog(&source.name),
            column_statistics: Vec::new(),
            schema: arrow,
            is_view: meta.is_view(),
            filter_pushdown: pushdown,
            row_count: meta.row_count,
        };
        self.shared.opener.open(spec)
    }
}
