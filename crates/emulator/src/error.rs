//! The crate's error type and the AWS error shapes sent on the wire.

use http::StatusCode;

/// Errors returned by the emulator's Rust API (starting it, registering tables).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What the emulator was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// DataFusion refused a table or a file.
    #[error("{context}: {source}")]
    DataFusion {
        /// What the emulator was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: Box<datafusion::error::DataFusionError>,
    },
    /// A setting or argument has a value the emulator cannot use.
    #[error("invalid {name} {value:?}: {reason}")]
    InvalidArgument {
        /// The setting or argument.
        name: &'static str,
        /// The value given.
        value: String,
        /// Why it was refused and what to do instead.
        reason: String,
    },
    /// The Trino engine could not be set up (Trino or Java missing, the server did not start,
    /// the emulator's catalog could not be created).
    #[error("Trino engine: {message}")]
    Trino {
        /// What went wrong and, where it applies, the command that fixes it.
        message: String,
    },
}

/// `Result` with the emulator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn datafusion(
        context: impl Into<String>,
        source: datafusion::error::DataFusionError,
    ) -> Self {
        Self::DataFusion {
            context: context.into(),
            source: Box::new(source),
        }
    }

    pub(crate) fn trino(message: impl Into<String>) -> Self {
        Self::Trino {
            message: message.into(),
        }
    }

    pub(crate) fn invalid(
        name: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidArgument {
            name,
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// An error answered to a client of the JSON services (Athena, Glue).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Extra members of the JSON body (`AthenaErrorCode`, `Reason`).
    pub(crate) extra: Vec<(&'static str, String)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// Athena's `InvalidRequestException` (HTTP 400).
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequestException", message)
            .with("AthenaErrorCode", "INVALID_INPUT")
    }

    /// A validation failure phrased as AWS phrases it.
    pub(crate) fn validation(
        member: &str,
        value: impl std::fmt::Display,
        constraint: &str,
    ) -> Self {
        Self::invalid_request(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// A required member is missing from the request.
    pub(crate) fn missing(member: &str) -> Self {
        Self::invalid_request(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    pub(crate) fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((key, value.into()));
        self
    }
}

/// An error answered to an S3 client, rendered as S3's XML error document.
#[derive(Debug, Clone)]
pub(crate) struct S3Error {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) resource: Option<String>,
}

impl S3Error {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            resource: None,
        }
    }

    pub(crate) fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    pub(crate) fn no_such_key(key: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        )
        .with_resource(key)
    }

    pub(crate) fn no_such_bucket(bucket: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        )
        .with_resource(bucket)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }
}
