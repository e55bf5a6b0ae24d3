//! Athena data sources as DataFusion catalogs, and the catalog list that finds them by any case.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider};

use futures::StreamExt;

use crate::error::Result;
use crate::metadata::DataSourceInfo;
use crate::schema::{AthenaSchemaProvider, Shared};

/// One Athena data source (e.g. `AwsDataCatalog`): a DataFusion catalog whose schemas are its
/// databases. Names are matched exactly, then ignoring case (DataFusion lower-cases unquoted
/// identifiers).
pub struct AthenaCatalogProvider {
    source: Arc<DataSourceInfo>,
    shared: Arc<Shared>,
    only_database: Option<String>,
    schemas: RwLock<BTreeMap<String, Arc<AthenaSchemaProvider>>>,
    local: RwLock<BTreeMap<String, Arc<dyn SchemaProvider>>>,
}

impl fmt::Debug for AthenaCatalogProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AthenaCatalogProvider")
            .field("data_source", &self.source)
            .field("databases", &self.schema_names())
            .finish()
    }
}

impl AthenaCatalogProvider {
    /// Lists the databases of `source` (or takes just `only_database`, with no call), and, when
    /// the options say so, each database's tables.
    pub(crate) async fn load(
        source: DataSourceInfo,
        shared: Arc<Shared>,
        only_database: Option<String>,
    ) -> Result<Arc<Self>> {
        let provider = Arc::new(Self {
            source: Arc::new(source),
            shared,
            only_database,
            schemas: RwLock::new(BTreeMap::new()),
            local: RwLock::new(BTreeMap::new()),
        });
        provider.refresh().await?;
        Ok(provider)
    }

    /// The data source.
    pub fn data_source(&self) -> &DataSourceInfo {
        &self.source
    }

    /// The database named `name` (exact, else ignoring case).
    pub fn database(&self, name: &str) -> Option<Arc<AthenaSchemaProvider>> {
        let schemas = self.schemas.read().unwrap_or_else(|p| p.into_inner());
        schemas.get(&name.to_lowercase()).map(Arc::clone)
    }

    /// Adds a schema kept in this process (not in Athena), e.g. for local tables under the
    /// default schema. Athena databases of the same name take precedence.
    pub fn register_local_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> Option<Arc<dyn SchemaProvider>> {
        self.local
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), schema)
    }

    /// Lists the databases again (and their tables, when preloading), replacing the cached ones.
    pub async fn refresh(&self) -> Result<()> {
        let names = match &self.only_database {
            Some(db) => vec![db.clone()],
            None => self.shared.metadata.list_databases(&self.source).await?,
        };
        let schemas: BTreeMap<_, _> = names
            .into_iter()
            .map(|db| {
                let provider = AthenaSchemaProvider::new(
                    Arc::clone(&self.source),
                    db.clone(),
                    Arc::clone(&self.shared),
                );
                (db.to_lowercase(), provider)
            })
            .collect();
        if self.shared.options.preload_tables {
            // One paginated listing per database; at most two at a time.
            let loads = schemas.values().map(|s| s.load_tables());
            futures::stream::iter(loads)
                .buffer_unordered(2)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
        }
        *self.schemas.write().unwrap_or_else(|p| p.into_inner()) = schemas;
        Ok(())
    }
}

impl CatalogProvider for AthenaCatalogProvider {
    fn schema_names(&self) -> Vec<String> {
        let schemas = self.schemas.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<String> = schemas.values().map(|s| s.database().to_string()).collect();
        let local = self.local.read().unwrap_or_else(|p| p.into_inner());
        names.extend(
            local
                .keys()
                .filter(|k| !schemas.contains_key(&k.to_lowercase()))
                .cloned(),
        );
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if let Some(db) = self.database(name) {
            return Some(db as Arc<dyn SchemaProvider>);
        }
        let local = self.local.read().unwrap_or_else(|p| p.into_inner());
        local.get(name).map(Arc::clone)
    }

    /// `CREATE SCHEMA` makes a local schema (Athena databases are not created from here).
    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> datafusion::error::Result<Option<Arc<dyn SchemaProvider>>> {
        Ok(self.register_local_schema(name, schema))
    }
}

/// The session's catalog list with Athena data sources added. Local catalogs (e.g.
/// `datafusion`) are served first; Athena data sources are found by their exact name or
/// ignoring case, so `awsdatacatalog.db.t` and `"AwsDataCatalog".db.t` both work, and are
/// listed under the name Athena uses.
pub struct AthenaCatalogList {
    inner: Arc<dyn CatalogProviderList>,
    athena: RwLock<BTreeMap<String, Arc<AthenaCatalogProvider>>>,
}

impl fmt::Debug for AthenaCatalogList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AthenaCatalogList")
            .field("catalogs", &self.catalog_names())
            .finish()
    }
}

impl AthenaCatalogList {
    /// Wraps `inner` (the session's current catalog list).
    pub fn new(inner: Arc<dyn CatalogProviderList>) -> Self {
        Self {
            inner,
            athena: RwLock::new(BTreeMap::new()),
        }
    }

    /// Adds (or replaces) an Athena data source.
    pub fn add(&self, catalog: Arc<AthenaCatalogProvider>) {
        let key = catalog.data_source().name.to_lowercase();
        self.athena
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, catalog);
    }

    /// The Athena data source named `name` (ignoring case).
    pub fn athena_catalog(&self, name: &str) -> Option<Arc<AthenaCatalogProvider>> {
        let athena = self.athena.read().unwrap_or_else(|p| p.into_inner());
        athena.get(&name.to_lowercase()).map(Arc::clone)
    }

    /// Every Athena data source.
    pub fn athena_catalogs(&self) -> Vec<Arc<AthenaCatalogProvider>> {
        let athena = self.athena.read().unwrap_or_else(|p| p.into_inner());
        athena.values().map(Arc::clone).collect()
    }

    /// The wrapped list.
    pub fn inner(&self) -> &Arc<dyn CatalogProviderList> {
        &self.inner
    }
}

impl CatalogProviderList for AthenaCatalogList {
    fn register_catalog(
        &self,
        name: String,
        catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        self.inner.register_catalog(name, catalog)
    }

    fn catalog_names(&self) -> Vec<String> {
        let mut names = self.inner.catalog_names();
        for c in self.athena_catalogs() {
            if !names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&c.data_source().name))
            {
                names.push(c.data_source().name.clone());
            }
        }
        names
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        if let Some(c) = self.inner.catalog(name) {
            return Some(c);
        }
        self.athena_catalog(name)
            .map(|c| c as Arc<dyn CatalogProvider>)
    }
}
