//! [`SchemeProvider`]: one scheme's credentials, kept until shortly before they expire.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, error::CredentialsError};

use crate::context::AuthContext;
use crate::error::Result;

/// One way of obtaining credentials (a login, an STS call, a metadata read).
#[async_trait]
pub(crate) trait Fetch: Send + Sync + fmt::Debug {
    /// Logs in / calls STS and returns fresh credentials.
    async fn fetch(&self) -> Result<Credentials>;
}

/// The credentials of one AuthScheme. Fetched on first use and again when they expire within
/// [`AuthContext::refresh_before_expiry`] by the context's clock, so a long-running query never
/// signs with credentials about to lapse. Errors keep the scheme, the step and the cause.
pub struct SchemeProvider {
    scheme: &'static str,
    fetch: Arc<dyn Fetch>,
    ctx: AuthContext,
    current: tokio::sync::Mutex<Option<Credentials>>,
}

impl fmt::Debug for SchemeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials' own Debug redacts the secret key and the session token.
        f.debug_struct("SchemeProvider")
            .field("scheme", &self.scheme)
            .field("fetch", &self.fetch)
            .finish_non_exhaustive()
    }
}

impl SchemeProvider {
    pub(crate) fn new(scheme: &'static str, fetch: impl Fetch + 'static, ctx: AuthContext) -> Self {
        Self {
            scheme,
            fetch: Arc::new(fetch),
            ctx,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// The AuthScheme name.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// Current credentials: the ones held while they stay valid beyond the refresh margin,
    /// otherwise freshly fetched.
    pub async fn credentials(&self) -> Result<Credentials> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref().filter(|c| self.is_fresh(c)) {
            return Ok(c.clone());
        }
        let fresh = self.fetch.fetch().await?;
        tracing::debug!(scheme = self.scheme, expiry = ?fresh.expiry(), "fetched credentials");
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    fn is_fresh(&self, c: &Credentials) -> bool {
        match c.expiry() {
            None => true,
            Some(expiry) => expiry > self.ctx.now() + self.ctx.refresh_before_expiry(),
        }
    }
}

impl ProvideCredentials for SchemeProvider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.credentials()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}
