//! The crate's one error type.
//!
//! Foreign error types in the API: `object_store::Error` (in [`Error::S3`]; the crate's API
//! already speaks object_store through `AthenaRunner::with_object_store`), the Parquet error
//! DataFusion re-exports as `datafusion::parquet` (in [`Error::Parquet`]), Arrow's
//! ([`Error::Arrow`]) and the auth crate's ([`Error::Auth`]). AWS SDK errors stay boxed
//! ([`BoxError`]): their types change with every SDK release.

use std::time::Duration;

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;

/// A boxed error from a library whose types stay out of this crate's API (the AWS SDK).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while planning, running or reading an Athena query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An Athena/Hive/Trino type name this crate cannot map to Arrow.
    #[error("unsupported Athena type '{type_name}': {reason}")]
    UnsupportedAthenaType {
        /// The type as written by Athena or Glue.
        type_name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A column or table name that cannot be written as an Athena identifier.
    #[error(
        "the {kind} {name:?} cannot be written as an Athena identifier (it is empty or holds control characters)"
    )]
    UnquotableName {
        /// `column` or `table name part`.
        kind: &'static str,
        /// The name as given.
        name: String,
    },

    /// An Arrow type with no Athena equivalent.
    #[error("Arrow type {data_type} has no Athena equivalent{context}")]
    UnsupportedArrowType {
        /// The Arrow type, printed.
        data_type: String,
        /// Extra context (which spelling was asked for), starting with `: ` when present.
        context: String,
    },

    /// Credentials (or the region) could not be obtained for the connection.
    #[error("could not obtain AWS credentials: {0}")]
    Auth(#[from] datafusion_athena_auth::Error),

    /// A connection property has a value the AWS SDK refuses.
    #[error("{property} is invalid: {message}")]
    InvalidOption {
        /// The connection property.
        property: &'static str,
        /// What the SDK said.
        message: String,
    },

    /// The S3 client for a bucket could not be built (an unusable endpoint or region).
    #[error("cannot build the S3 client for bucket '{bucket}': {message}")]
    S3Client {
        /// The bucket.
        bucket: String,
        /// What is wrong.
        message: String,
    },

    /// `ResultFetcher=S3` was asked for, but the query has no S3 output location (a workgroup
    /// with managed query results).
    #[error(
        "query {query_id} has no S3 output location (a workgroup with managed query results?): use ResultFetcher=GetQueryResults or Auto"
    )]
    NoOutputLocation {
        /// The query execution id.
        query_id: String,
    },

    /// An Athena API call failed (after the SDK's retries).
    #[error("Athena {operation} failed{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Api {
        /// The API operation, e.g. `StartQueryExecution`.
        operation: &'static str,
        /// The service's error code, e.g. `ThrottlingException`, when known.
        code: Option<String>,
        /// The service's (or transport's) message.
        message: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },

    /// The query ran and Athena reported it FAILED.
    #[error(
        "Athena query {query_id} failed{}: {message}",
        describe_athena_error(*category, *error_type)
    )]
    QueryFailed {
        /// The query execution id.
        query_id: String,
        /// Athena's message (`StateChangeReason` or `AthenaError.ErrorMessage`).
        message: String,
        /// `AthenaError.ErrorCategory`: 1 = SYSTEM, 2 = USER, 3 = OTHER.
        category: Option<i32>,
        /// `AthenaError.ErrorType`, e.g. 1006 (syntax error) or 1110 (table not found).
        error_type: Option<i32>,
        /// Whether Athena says running the query again may succeed.
        retryable: bool,
    },

    /// The query was cancelled (by StopQueryExecution from anywhere).
    #[error("Athena query {query_id} was cancelled: {reason}")]
    QueryCancelled {
        /// The query execution id.
        query_id: String,
        /// Athena's state change reason.
        reason: String,
    },

    /// The query scanned more than `MaxBytesScanned` while running; it was stopped.
    #[error(
        "Athena query {query_id} scanned {scanned} bytes, more than MaxBytesScanned={limit}, and was stopped; filter on partition columns or raise MaxBytesScanned"
    )]
    ScanLimitExceeded {
        /// The query execution id.
        query_id: String,
        /// `MaxBytesScanned`.
        limit: u64,
        /// `DataScannedInBytes` when the query was stopped.
        scanned: u64,
    },

    /// The query did not finish within `QueryTimeout`; it was stopped.
    #[error(
        "Athena query {query_id} did not finish within QueryTimeout={}s and was stopped; raise QueryTimeout or make the query cheaper",
        timeout.as_secs_f64()
    )]
    Timeout {
        /// The query execution id.
        query_id: String,
        /// The configured timeout.
        timeout: Duration,
    },

    /// Reading the result object(s) from S3 failed.
    #[error("reading query results from {location} failed: {source}")]
    S3 {
        /// The S3 URL.
        location: String,
        /// The object_store error.
        #[source]
        source: object_store::Error,
    },

    /// A result value could not be read as its column's type.
    #[error("column '{column}' (row {row}): cannot read '{value}' as {data_type}: {reason}")]
    Decode {
        /// The column name.
        column: String,
        /// The 1-based data row (header not counted) where known, else 0.
        row: u64,
        /// The value text (shortened when long).
        value: String,
        /// The target Arrow type, printed.
        data_type: String,
        /// What is wrong.
        reason: String,
    },

    /// The result data is not shaped as expected (wrong column count, broken quoting).
    #[error("malformed query result from {location}: {message}")]
    MalformedResult {
        /// Where the result was read from.
        location: String,
        /// What is wrong.
        message: String,
    },

    /// The UNLOAD path cannot be used for this query.
    #[error("UNLOAD cannot be used: {0}")]
    UnloadUnsupported(String),

    /// An Arrow error.
    #[error(transparent)]
    Arrow(#[from] ArrowError),

    /// A Parquet error while reading UNLOAD output.
    #[error("reading UNLOAD Parquet output failed: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
}

fn describe_athena_error(category: Option<i32>, error_type: Option<i32>) -> String {
    let category = category.map(|c| match c {
        1 => "SYSTEM".to_string(),
        2 => "USER".to_string(),
        3 => "OTHER".to_string(),
        other => format!("category {other}"),
    });
    match (category, error_type) {
        (Some(c), Some(t)) => format!(" ({c} error, type {t})"),
        (Some(c), None) => format!(" ({c} error)"),
        (None, Some(t)) => format!(" (error type {t})"),
        (None, None) => String::new(),
    }
}

impl Error {
    /// The Athena query execution id this error is about, when there is one.
    pub fn query_id(&self) -> Option<&str> {
        match self {
            Self::QueryFailed { query_id, .. }
            | Self::QueryCancelled { query_id, .. }
            | Self::Timeout { query_id, .. }
            | Self::ScanLimitExceeded { query_id, .. }
            | Self::NoOutputLocation { query_id } => Some(query_id),
            _ => None,
        }
    }

    /// Whether this is an API throttling error (`ThrottlingException`, `TooManyRequestsException`).
    pub fn is_throttling(&self) -> bool {
        matches!(self, Self::Api { code: Some(c), .. } if is_throttling_code(c))
    }

    /// Whether reading S3 failed because the object is missing or access is denied: the cases
    /// where GetQueryResults can still deliver the result.
    pub fn is_s3_unavailable(&self) -> bool {
        matches!(
            self,
            Self::S3 {
                source: object_store::Error::NotFound { .. }
                    | object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. },
                ..
            }
        )
    }
}

/// Error codes Athena uses for throttling.
pub(crate) fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException" | "TooManyRequestsException" | "Throttling" | "RequestLimitExceeded"
    )
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::Arrow(e) => DataFusionError::ArrowError(Box::new(e), None),
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_failed_names_category_type_and_id() {
        let e = Error::QueryFailed {
            query_id: "q-1".into(),
            message: "line 1:8: Column 'x' cannot be resolved".into(),
            category: Some(2),
            error_type: Some(1006),
            retryable: false,
        };
        assert_eq!(
            e.to_string(),
            "Athena query q-1 failed (USER error, type 1006): line 1:8: Column 'x' cannot be resolved"
        );
        assert_eq!(e.query_id(), Some("q-1"));
    }

    #[test]
    fn timeout_says_what_to_do() {
        let e = Error::Timeout {
            query_id: "q".into(),
            timeout: Duration::from_secs(5),
        };
        assert!(e.to_string().contains("QueryTimeout=5s"), "{e}");
        assert!(e.to_string().contains("raise QueryTimeout"), "{e}");
    }

    #[test]
    fn arrow_errors_stay_arrow_errors_in_datafusion() {
        let e: DataFusionError = Error::Arrow(ArrowError::ComputeError("x".into())).into();
        assert!(matches!(e, DataFusionError::ArrowError(..)));
        let e: DataFusionError = Error::NoOutputLocation {
            query_id: "q".into(),
        }
        .into();
        assert!(matches!(e, DataFusionError::External(..)));
    }
}
