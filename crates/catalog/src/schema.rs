//! One Athena database as a DataFusion `SchemaProvider`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::TableType;

use crate::cache::{Clock, Ttl, TtlCache};
use crate::column_stats::{ColumnStats, column_statistics};
use crate::error::Result;
use datafusion_athena_scan::AthenaTableName;

use crate::metadata::{DataSourceInfo, MetadataSource, TableMetadata};
use crate::table::{TableOpener, TableSpec, arrow_schema};

/// How the catalog caches and loads metadata.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// How long listings and table schemas stay cached.
    pub ttl: Ttl,
    /// The clock the TTL is measured by.
    pub clock: Arc<dyn Clock>,
    /// Load each database's table listing (with columns) when registering, so that
    /// `information_schema` and `SHOW TABLES` see every table. When false, a database's listing
    /// is loaded in the background on first use and single tables are looked up on demand.
    pub preload_tables: bool,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        Self {
            ttl: Ttl::default(),
            clock: Arc::new(crate::cache::SystemClock),
            preload_tables: true,
        }
    }
}

/// What every provider of one registration shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) metadata: Arc<dyn MetadataSource>,
    pub(crate) opener: Arc<dyn TableOpener>,
    pub(crate) options: CatalogOptions,
}

/// The table names of a database, by lower-case name: (name as listed, table type).
type Listing = Arc<BTreeMap<String, (String, TableType)>>;

const LISTING: &str = "";

/// One Athena database. Tables come from the catalog (listed with pagination, described lazily,
/// cached with the TTL); tables registered by the user (`CREATE EXTERNAL TABLE`,
/// `register_table`) are kept locally beside them and take precedence.
pub struct AthenaSchemaProvider {
    source: Arc<DataSourceInfo>,
    database: String,
    shared: Arc<Shared>,
    tables: TtlCache<Option<Arc<TableMetadata>>>,
    /// Column statistics per table (one Glue call per table and TTL).
    column_stats: TtlCache<Arc<Vec<ColumnStats>>>,
    listing: TtlCache<Listing>,
    refreshing: AtomicBool,
    local: MemorySchemaProvider,
    this: Weak<AthenaSchemaProvider>,
}

impl fmt::Debug for AthenaSchemaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AthenaSchemaProvider")
            .field("data_source", &self.source.name)
            .field("database", &self.database)
            .field("tables", &self.tables)
            .finish()
    }
}

impl AthenaSchemaProvider {
    pub(crate) fn new(
        source: Arc<DataSourceInfo>,
        database: String,
        shared: Arc<Shared>,
    ) -> Arc<Self> {
        let ttl = shared.options.ttl;
        let clock = Arc::clone(&shared.options.clock);
        Arc::new_cyclic(|this| Self {
            source,
            database,
            tables: TtlCache::new(ttl, Arc::clone(&clock)),
            column_stats: TtlCache::new(ttl, Arc::clone(&clock)),
            listing: TtlCache::new(ttl, clock),
            shared,
            refreshing: AtomicBool::new(false),
            local: MemorySchemaProvider::new(),
            this: Weak::clone(this),
        })
    }

    /// The database name as Athena spells it.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The data source this database belongs to.
    pub fn data_source(&self) -> &DataSourceInfo {
        &self.source
    }

    /// Loads the table listing (with every table's columns) unless a fresh one is cached.
    /// Concurrent callers share one listing.
    pub async fn load_tables(&self) -> Result<()> {
        self.listing().await.map(|_| ())
    }

    /// Forgets what is cached about `table`: the next lookup asks the catalog again (e.g. after
    /// creating or altering it through Athena).
    pub fn invalidate(&self, table: &str) {
        self.tables.invalidate(&table.to_lowercase());
    }

    /// Forgets every cached table and the listing, then lists again.
    pub async fn refresh(&self) -> Result<()> {
        self.listing.clear();
        self.tables.clear();
        self.load_tables().await
    }

    async fn listing(&self) -> Result<Listing> {
        self.listing
            .get_or_load(LISTING, || self.fetch_listing())
            .await
    }

    /// Lists the tables (one paginated listing) and primes the table cache with their columns.
    async fn fetch_listing(&self) -> Result<Listing> {
        let tables = self
            .shared
            .metadata
            .list_tables(&self.source, &self.database)
            .await?;
        let mut names = BTreeMap::new();
        for t in tables {
            let kind = if t.is_view() {
                TableType::View
            } else {
                TableType::Base
            };
            let key = t.name.to_lowercase();
            names.insert(key.clone(), (t.name.clone(), kind));
            self.tables.insert(&key, Some(Arc::new(t)));
        }
        Ok(Arc::new(names))
    }

    /// Loads the listing in the background (at most one load at a time) when a tokio runtime
    /// is available, keeping the stale listing visible meanwhile. Used by the synchronous
    /// `table_names`.
    fn refresh_in_background(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(this) = self.this.upgrade() else {
            return;
        };
        if self.refreshing.swap(true, Ordering::SeqCst) {
            return;
        }
        handle.spawn(async move {
            match this.fetch_listing().await {
                Ok(listing) => this.listing.insert(LISTING, listing),
                Err(e) => {
                    tracing::warn!(database = %this.database, error = %e, "listing Athena tables failed");
                }
            }
            this.refreshing.store(false, Ordering::SeqCst);
        });
    }

    /// The metadata of one table: from the cache, else from a fresh listing (a name missing
    /// from it does not exist), else one lookup. Concurrent lookups of a table share one call.
    pub(crate) async fn describe(&self, name: &str) -> Result<Option<Arc<TableMetadata>>> {
        let key = name.to_lowercase();
        self.tables
            .get_or_load(&key, || async {
                if let Some((listing, true)) = self.listing.peek(LISTING)
                    && !listing.contains_key(&key)
                {
                    return Ok(None);
                }
                let found = self
                    .shared
                    .metadata
                    .table(&self.source, &self.database, &key)
                    .await?;
                Ok(found.map(Arc::new))
            })
            .await
    }

    /// The catalog's column statistics of `meta`'s table (cached like the table).
    async fn column_stats(&self, meta: &TableMetadata) -> Arc<Vec<ColumnStats>> {
        if meta.is_view() {
            return Arc::new(Vec::new());
        }
        self.column_stats
            .get_or_load(&meta.name.to_lowercase(), || async {
                Ok::<_, std::convert::Infallible>(Arc::new(
                    self.shared
                        .metadata
                        .column_statistics(&self.source, &self.database, meta)
                        .await,
                ))
            })
            .await
            .unwrap_or_else(|never| match never {})
    }

    fn spec(&self, meta: &TableMetadata, stats: &[ColumnStats]) -> Result<TableSpec> {
        let schema = arrow_schema(&self.source.name, &self.database, meta)?;
        Ok(TableSpec {
            name: AthenaTableName::new(&self.database, &meta.name).with_catalog(&self.source.name),
            column_statistics: column_statistics(stats, &schema),
            schema,
            is_view: meta.is_view(),
            filter_pushdown: true,
            row_count: meta.row_count,
        })
    }

    fn listed(&self, name: &str) -> Option<(String, TableType)> {
        let (listing, _) = self.listing.peek(LISTING)?;
        listing.get(&name.to_lowercase()).cloned()
    }
}

#[async_trait]
impl SchemaProvider for AthenaSchemaProvider {
    fn owner_name(&self) -> Option<&str> {
        Some(&self.source.name)
    }

    fn table_names(&self) -> Vec<String> {
        let mut names = self.local.table_names();
        match self.listing.peek(LISTING) {
            Some((listing, fresh)) => {
                if !fresh {
                    self.refresh_in_background();
                }
                names.extend(listing.values().map(|(n, _)| n.clone()));
            }
            None => self.refresh_in_background(),
        }
        names.sort();
        names.dedup();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        if let Some(local) = self.local.table(name).await? {
            return Ok(Some(local));
        }
        let Some(meta) = self.describe(name).await? else {
            return Ok(None);
        };
        let stats = self.column_stats(&meta).await;
        let spec = self.spec(&meta, &stats)?;
        self.shared.opener.open(spec).map(Some)
    }

    async fn table_type(&self, name: &str) -> Result<Option<TableType>, DataFusionError> {
        if let Some(local) = self.local.table(name).await? {
            return Ok(Some(local.table_type()));
        }
        if let Some((_, kind)) = self.listed(name) {
            return Ok(Some(kind));
        }
        let meta = self.describe(name).await?;
        Ok(meta.map(|m| {
            if m.is_view() {
                TableType::View
            } else {
                TableType::Base
            }
        }))
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        self.local.register_table(name, table)
    }

    fn deregister_table(
        &self,
        name: &str,
    ) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        self.local.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.local.table_exist(name)
            || self.listed(name).is_some()
            || self
                .tables
                .peek(&name.to_lowercase())
                .is_some_and(|(m, _)| m.is_some())
    }
}
