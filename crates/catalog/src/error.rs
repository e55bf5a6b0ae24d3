//! The crate's one error type.

use datafusion::error::DataFusionError;

/// A boxed error from the AWS SDK (its types stay out of this crate's API).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a catalog, database or table could not be listed or described.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection string or options could not be used.
    #[error("invalid connection options: {0}")]
    Config(#[from] datafusion_athena_config::Error),
    /// Credentials (or the region) could not be obtained.
    #[error("could not obtain AWS credentials: {0}")]
    Auth(#[from] datafusion_athena_auth::Error),
    /// The query runner could not be set up.
    #[error(transparent)]
    Scan(#[from] datafusion_athena_scan::Error),
    /// An Athena or Glue metadata call failed.
    #[error("{operation} failed for {target}: {source}")]
    Api {
        /// The API operation, e.g. `Glue.GetTables`.
        operation: &'static str,
        /// What was asked for, e.g. `AwsDataCatalog.sampledb`.
        target: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// A paginated call returned the same NextToken twice.
    #[error(
        "{operation} for {target} returned the same NextToken twice; the service is paginating \
         incorrectly"
    )]
    Pagination {
        /// The API operation.
        operation: &'static str,
        /// What was being listed.
        target: String,
    },
    /// A column's Athena/Hive type string has no Arrow equivalent (or could not be parsed).
    #[error(
        "table {table}: column {column} has type {type_name:?}, which datafusion-athena cannot \
         map to an Arrow type: {message}"
    )]
    UnsupportedType {
        /// `catalog.database.table`.
        table: String,
        /// The column name.
        column: String,
        /// The type string as the catalog reports it.
        type_name: String,
        /// Why it was rejected.
        message: String,
    },
    /// A data source, database or table named by the user does not exist.
    #[error("{kind} {name} not found{hint}")]
    NotFound {
        /// `data source`, `database` or `table`.
        kind: &'static str,
        /// The name as given.
        name: String,
        /// What to do next (may be empty).
        hint: String,
    },
    /// A value given by the user is invalid (a LOCATION, an option).
    #[error("{what} is invalid: {message}")]
    Invalid {
        /// The property or argument.
        what: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// An error from DataFusion.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}
