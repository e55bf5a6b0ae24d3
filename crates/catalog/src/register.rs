//! The one-call setup: connection options in, Athena data sources registered in a session.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use datafusion::catalog::{CatalogProviderList, MemorySchemaProvider, SchemaProvider};
use datafusion::prelude::SessionContext;
use datafusion_athena_config::ConnectionOptions;
use datafusion_athena_scan::{AthenaFederation, AthenaRunner, FEDERATION_RULE_NAME, QueryExecutor};

use crate::cache::{Clock, Ttl};
use crate::create_table::{ATHENA_FORMAT, AthenaTableFactory};
use crate::error::{Error, Result};
use crate::metadata::{AWS_DATA_CATALOG, MetadataClient, MetadataSource};
use crate::provider::{AthenaCatalogList, AthenaCatalogProvider};
use crate::query_fn::{ATHENA_QUERY, AthenaQueryFunction};
use crate::schema::{CatalogOptions, Shared};
use crate::table::{ScanTableOpener, TableOpener};

/// Registers the Athena data sources of `conn_str` in `ctx`: the `DataSource` (or every data
/// source when unset) becomes a catalog, its databases (only `Database` when set) schemas, their
/// tables and views tables. The data source becomes the default catalog and `Database` the
/// default schema, so `SELECT * FROM t` works; `information_schema` is turned on.
///
/// Federation is on: the session gets the [`AthenaFederation`] optimizer rule (once), so the
/// largest parts of a plan over Athena tables (aggregates, joins, sorts with limits, `DISTINCT`,
/// `UNION`, uncorrelated scalar subqueries) run inside Athena as one query, and `EXPLAIN` shows
/// `AthenaExec: sql=...` for them. Turn it off with [`AthenaCatalogBuilder::with_federation`].
///
/// ```no_run
/// # async fn f() -> datafusion_athena_catalog::Result<()> {
/// let ctx = datafusion::prelude::SessionContext::new();
/// datafusion_athena_catalog::register_athena(
///     &ctx,
///     "AWSRegion=eu-west-1;DataSource=AwsDataCatalog;Database=sampledb;S3StagingDirectory=s3://b/p/;",
/// )
/// .await?;
/// let df = ctx.sql("SELECT * FROM elb_logs LIMIT 10").await?;
/// # Ok(()) }
/// ```
pub async fn register_athena(ctx: &SessionContext, conn_str: &str) -> Result<AthenaCatalogs> {
    let opts: ConnectionOptions = conn_str.parse()?;
    register_athena_with_options(ctx, &opts).await
}

/// [`register_athena`] with parsed options.
pub async fn register_athena_with_options(
    ctx: &SessionContext,
    opts: &ConnectionOptions,
) -> Result<AthenaCatalogs> {
    AthenaCatalogBuilder::new(opts.clone()).register(ctx).await
}

/// What [`register_athena`] registered: the catalog list, and the metadata calls made.
#[derive(Debug, Clone)]
pub struct AthenaCatalogs {
    list: Arc<AthenaCatalogList>,
    metadata: Arc<dyn MetadataSource>,
    default_catalog: String,
    default_schema: Option<String>,
}

impl AthenaCatalogs {
    /// The session's catalog list (local catalogs and the Athena data sources).
    pub fn catalog_list(&self) -> &Arc<AthenaCatalogList> {
        &self.list
    }

    /// The Athena data source that is the session's default catalog.
    pub fn default_catalog(&self) -> &str {
        &self.default_catalog
    }

    /// The database that is the session's default schema, when `Database` was set.
    pub fn default_schema(&self) -> Option<&str> {
        self.default_schema.as_deref()
    }

    /// Metadata API calls made so far, by operation.
    pub fn api_calls(&self) -> BTreeMap<String, u64> {
        self.metadata.api_calls()
    }

    /// The total of [`Self::api_calls`].
    pub fn total_api_calls(&self) -> u64 {
        self.api_calls().values().sum()
    }

    /// The metadata source the catalogs read.
    pub fn metadata(&self) -> &Arc<dyn MetadataSource> {
        &self.metadata
    }

    /// Lists databases (and tables, when preloading) of every Athena data source again.
    pub async fn refresh(&self) -> Result<()> {
        for c in self.list.athena_catalogs() {
            c.refresh().await?;
        }
        Ok(())
    }
}

/// [`register_athena`] with every knob: cache TTL and clock, preloading, and replaceable
/// metadata source and table opener (for tests and embedding).
#[derive(Debug)]
pub struct AthenaCatalogBuilder {
    opts: ConnectionOptions,
    catalog: CatalogOptions,
    metadata: Option<Arc<dyn MetadataSource>>,
    opener: Option<Arc<dyn TableOpener>>,
    federation: bool,
}

impl AthenaCatalogBuilder {
    /// A builder for `opts`.
    pub fn new(opts: ConnectionOptions) -> Self {
        Self {
            opts,
            catalog: CatalogOptions::default(),
            metadata: None,
            opener: None,
            federation: true,
        }
    }

    /// How long listings and table schemas stay cached (default five minutes).
    pub fn with_ttl(mut self, ttl: Ttl) -> Self {
        self.catalog.ttl = ttl;
        self
    }

    /// The clock the TTL is measured by.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.catalog.clock = clock;
        self
    }

    /// Whether table listings are loaded when registering (default true); see
    /// [`CatalogOptions::preload_tables`].
    pub fn with_preload_tables(mut self, preload: bool) -> Self {
        self.catalog.preload_tables = preload;
        self
    }

    /// Whether whole sub-plans over Athena tables of this connection run inside Athena as one
    /// query (default true): registering adds the [`AthenaFederation`] optimizer rule to the
    /// session once; `false` removes it, so only projections, filters and limits are pushed.
    pub fn with_federation(mut self, enabled: bool) -> Self {
        self.federation = enabled;
        self
    }

    /// Reads metadata from `metadata` instead of Athena and Glue.
    pub fn with_metadata_source(mut self, metadata: Arc<dyn MetadataSource>) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Opens tables with `opener` instead of querying Athena.
    pub fn with_table_opener(mut self, opener: Arc<dyn TableOpener>) -> Self {
        self.opener = Some(opener);
        self
    }

    /// Connects (credentials, clients), lists the data sources and databases and registers them
    /// in `ctx`.
    pub async fn register(self, ctx: &SessionContext) -> Result<AthenaCatalogs> {
        let Self {
            opts,
            catalog,
            metadata,
            opener,
            federation,
        } = self;
        let mut query_fn = None;
        let (metadata, opener) = match (metadata, opener) {
            (Some(m), Some(f)) => (m, f),
            (metadata, opener) => {
                let config = sdk_config(&opts).await?;
                let metadata = match metadata {
                    Some(m) => m,
                    None => Arc::new(metadata_client(&config, &opts)),
                };
                let opener = match opener {
                    Some(f) => f,
                    None => {
                        let runner = runner(&config, &opts)?;
                        let athena = datafusion_athena_scan::athena_client(&config, &opts);
                        query_fn = Some(AthenaQueryFunction::new(Arc::clone(&runner), athena));
                        Arc::new(ScanTableOpener::new(runner as Arc<dyn QueryExecutor>))
                    }
                };
                (metadata, opener)
            }
        };
        let shared = Arc::new(Shared {
            metadata: Arc::clone(&metadata),
            opener,
            options: catalog,
        });
        let sources = match &opts.data_source {
            Some(name) => vec![metadata.data_source(name).await?.ok_or_else(|| {
                Error::NotFound {
                    kind: "data source",
                    name: name.clone(),
                    hint: ": check DataSource (the Athena data catalog name, e.g. AwsDataCatalog)"
                        .into(),
                }
            })?],
            None => metadata.list_data_sources().await?,
        };
        let default_catalog = match &opts.data_source {
            Some(_) => sources.first().map(|s| s.name.clone()),
            None => sources
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(AWS_DATA_CATALOG))
                .or(sources.first())
                .map(|s| s.name.clone()),
        }
        .unwrap_or_else(|| AWS_DATA_CATALOG.to_string());

        let list = athena_catalog_list(ctx);
        for source in sources {
            let is_default = source.name == default_catalog;
            let only_database = if is_default {
                opts.database.clone()
            } else {
                None
            };
            let name = source.name.clone();
            match AthenaCatalogProvider::load(source, Arc::clone(&shared), only_database).await {
                Ok(provider) => list.add(provider),
                // Listing everything is best effort: one unreachable federated source must not
                // hide the others. The default source's errors are the caller's.
                Err(e) if !is_default => {
                    tracing::warn!(data_source = %name, error = %e, "skipping Athena data source");
                }
                Err(e) => return Err(e),
            }
        }

        let state = ctx.state_ref();
        let mut state = state.write();
        let options = state.config_mut().options_mut();
        options.catalog.information_schema = true;
        raise_join_key_list_limit(options);
        options.catalog.default_catalog = default_catalog.clone();
        if let Some(db) = &opts.database {
            options.catalog.default_schema = db.clone();
        } else if let Some(c) = list.athena_catalog(&default_catalog) {
            // Keep `register_table("x", ..)` working: a local schema under the default name.
            let schema = options.catalog.default_schema.clone();
            if c.database(&schema).is_none() {
                c.register_local_schema(
                    &schema,
                    Arc::new(MemorySchemaProvider::new()) as Arc<dyn SchemaProvider>,
                );
            }
        }
        let default_schema = opts.database.clone();
        state.table_factories_mut().insert(
            ATHENA_FORMAT.to_string(),
            Arc::new(AthenaTableFactory::new(
                Arc::clone(&list),
                Arc::clone(&shared),
                default_catalog.clone(),
                default_schema.clone(),
            )),
        );
        if let Some(f) = query_fn {
            state.register_udtf(ATHENA_QUERY, Arc::new(f));
        }
        drop(state);
        set_federation(ctx, federation);
        Ok(AthenaCatalogs {
            list,
            metadata,
            default_catalog,
            default_schema,
        })
    }
}

/// Adds the [`AthenaFederation`] rule to `ctx` unless it is there, or removes it.
fn set_federation(ctx: &SessionContext, enabled: bool) {
    let present = ctx
        .state_ref()
        .read()
        .optimizers()
        .iter()
        .any(|r| r.name() == FEDERATION_RULE_NAME);
    if enabled && !present {
        ctx.add_optimizer_rule(Arc::new(AthenaFederation::new()));
    } else if !enabled && present {
        ctx.remove_optimizer_rule(FEDERATION_RULE_NAME);
    }
}

/// The session's catalog list as an [`AthenaCatalogList`], installing one if needed.
fn athena_catalog_list(ctx: &SessionContext) -> Arc<AthenaCatalogList> {
    let current = Arc::clone(ctx.state_ref().read().catalog_list());
    let any: Arc<dyn Any + Send + Sync> = Arc::clone(&current) as Arc<dyn CatalogProviderList>;
    if let Ok(list) = any.downcast::<AthenaCatalogList>() {
        return list;
    }
    let list = Arc::new(AthenaCatalogList::new(current));
    ctx.register_catalog_list(Arc::clone(&list) as Arc<dyn CatalogProviderList>);
    list
}

/// Region and credentials for every client, logging in once.
async fn sdk_config(opts: &ConnectionOptions) -> Result<SdkConfig> {
    Ok(datafusion_athena_auth::sdk_config(opts).await?)
}

/// The metadata client: Athena with the scan crate's retry policy, Glue with its endpoint.
fn metadata_client(config: &SdkConfig, opts: &ConnectionOptions) -> MetadataClient {
    let athena = datafusion_athena_scan::athena_client(config, opts);
    let mut glue = aws_sdk_glue::config::Builder::from(config);
    if let Some(endpoint) = opts.endpoints.glue() {
        glue = glue.endpoint_url(endpoint);
    }
    let glue = aws_sdk_glue::Client::from_conf(glue.build());
    MetadataClient::new(athena, glue).with_work_group(opts.work_group.clone())
}

/// The query runner of the tables, sharing the configuration's credentials, identity cache
/// and clock (so Athena and S3 refresh credentials by the same rule).
fn runner(config: &SdkConfig, opts: &ConnectionOptions) -> Result<Arc<AthenaRunner>> {
    Ok(Arc::new(AthenaRunner::from_sdk_config(opts, config)?))
}

/// How many distinct build side keys of a hash join become an `IN` list (sent to Athena by a
/// probe side Athena scan) in sessions [`register_athena`] sets up, instead of DataFusion's
/// default of 150 (above which only the keys' range is sent). 10,000 bigint keys make about
/// 100 KB of SQL, well under Athena's 262,144-byte statement limit (longer lists fall back to
/// the range). Applied only while the session still has DataFusion's default: a value the user
/// set (`SET datafusion.optimizer.hash_join_inlist_pushdown_max_distinct_values = ...`) is kept,
/// and so is `hash_join_inlist_pushdown_max_size` (128 KiB of key data per partition).
pub const JOIN_KEY_LIST_MAX_DISTINCT: usize = 10_000;

fn raise_join_key_list_limit(options: &mut datafusion::config::ConfigOptions) {
    let default = datafusion::config::ConfigOptions::default()
        .optimizer
        .hash_join_inlist_pushdown_max_distinct_values;
    let current = &mut options
        .optimizer
        .hash_join_inlist_pushdown_max_distinct_values;
    if *current == default {
        *current = JOIN_KEY_LIST_MAX_DISTINCT;
    }
}
