//! The crate's one error type: every variant names the scheme, the step and the cause.

use std::path::PathBuf;

/// A boxed error from the AWS SDK, an HTTP client or the file system.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why credentials could not be obtained. Messages never contain a secret: keys, passwords,
/// tokens and MFA codes stay out of every variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Neither the connection options nor the environment name an AWS region.
    #[error("{scheme}: no AWS region: set AWSRegion (e.g. AWSRegion=eu-west-1) or AWS_REGION")]
    MissingRegion {
        /// The AuthScheme.
        scheme: &'static str,
    },
    /// A connection property the scheme needs is not set.
    #[error("{scheme}: {option} is required: {hint}")]
    MissingOption {
        /// The AuthScheme.
        scheme: &'static str,
        /// The connection property, as written in connection strings.
        option: &'static str,
        /// What to do about it.
        hint: &'static str,
    },
    /// A connection property has a value the scheme cannot use.
    #[error("{scheme}: {option} is invalid: {message}")]
    InvalidOption {
        /// The AuthScheme.
        scheme: &'static str,
        /// The connection property.
        option: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// The scheme is recognised but this build does not implement it.
    #[error("{scheme}: not supported yet: {message}")]
    Unsupported {
        /// The AuthScheme.
        scheme: &'static str,
        /// What to use instead.
        message: String,
    },
    /// The identity provider, STS or the metadata service refused: wrong password, MFA rejected
    /// or timed out, expired token.
    #[error("{scheme}: {step}: refused: {message}")]
    Rejected {
        /// The AuthScheme.
        scheme: &'static str,
        /// The step of the login that failed.
        step: &'static str,
        /// The reason given (never a secret).
        message: String,
    },
    /// The answer did not have the expected shape (no SAMLResponse, no role, bad JSON/XML).
    #[error("{scheme}: {step}: unexpected answer: {message}")]
    Protocol {
        /// The AuthScheme.
        scheme: &'static str,
        /// The step of the login that failed.
        step: &'static str,
        /// What was expected and what came.
        message: String,
    },
    /// A call failed (network, HTTP or an AWS service error).
    #[error("{scheme}: {step}: {message}")]
    Call {
        /// The AuthScheme.
        scheme: &'static str,
        /// The step of the login that failed.
        step: &'static str,
        /// The cause, rendered with its chain.
        message: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// The credentials cache file could not be read or written.
    #[error("{scheme}: credentials cache {}: {message}", path.display())]
    Cache {
        /// The AuthScheme.
        scheme: &'static str,
        /// The file (CredentialsLocation).
        path: PathBuf,
        /// What went wrong and what to do.
        message: String,
        /// The underlying I/O or JSON error, if any.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// Wraps an SDK or HTTP error, rendering its whole chain into the message.
    pub(crate) fn call(
        scheme: &'static str,
        step: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let message = render_chain(&source);
        Self::Call {
            scheme,
            step,
            message,
            source: Box::new(source),
        }
    }

    /// The AuthScheme the error belongs to.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::MissingRegion { scheme }
            | Self::MissingOption { scheme, .. }
            | Self::InvalidOption { scheme, .. }
            | Self::Unsupported { scheme, .. }
            | Self::Rejected { scheme, .. }
            | Self::Protocol { scheme, .. }
            | Self::Call { scheme, .. }
            | Self::Cache { scheme, .. } => scheme,
        }
    }
}

/// `a: b: c` from an error and its sources, without repeating a message its source repeats.
fn render_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        let s = e.to_string();
        if parts.last().is_none_or(|p| !p.contains(&s)) {
            parts.push(s);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_scheme_step_and_cause() {
        let e = Error::Rejected {
            scheme: "Okta",
            step: "verify MFA factor",
            message: "push was rejected".into(),
        };
        assert_eq!(
            e.to_string(),
            "Okta: verify MFA factor: refused: push was rejected"
        );
        assert_eq!(e.scheme(), "Okta");
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e = Error::call("AwsMFA", "STS GetSessionToken", io);
        assert_eq!(
            e.to_string(),
            "AwsMFA: STS GetSessionToken: connection refused"
        );
    }
}
