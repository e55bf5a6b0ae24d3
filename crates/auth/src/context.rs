//! What the providers read from the outside world: the clock and the environment. Tests inject
//! both; production uses the system clock and the process environment.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource, TimeSource};

/// How long before expiry credentials are fetched again (AWS SDKs use 5 to 15 minutes).
pub const DEFAULT_REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Shows the user a sign-in URL (OAuth authorization code flows).
pub type OpenBrowser = Arc<dyn Fn(&str) + Send + Sync>;

/// The clock and environment credential providers use, the refresh margin, and how a sign-in
/// URL reaches the user.
#[derive(Clone)]
pub struct AuthContext {
    time: SharedTimeSource,
    env: Option<Arc<HashMap<String, String>>>,
    refresh_before_expiry: Duration,
    browser: Option<OpenBrowser>,
}

impl std::fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthContext")
            .field("time", &self.time)
            .field("env", &self.env.as_ref().map(|e| e.len()))
            .field("refresh_before_expiry", &self.refresh_before_expiry)
            .field("browser", &self.browser.is_some())
            .finish()
    }
}

impl Default for AuthContext {
    fn default() -> Self {
        Self {
            time: SharedTimeSource::new(SystemTimeSource::new()),
            env: None,
            refresh_before_expiry: DEFAULT_REFRESH_BEFORE_EXPIRY,
            browser: None,
        }
    }
}

impl AuthContext {
    /// The system clock and the process environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `time` as the clock (for expiry checks, the MFA cache and the SDK's identity cache).
    pub fn with_time_source(mut self, time: impl TimeSource + 'static) -> Self {
        self.time = SharedTimeSource::new(time);
        self
    }

    /// Replaces the process environment with exactly these variables (for tests).
    pub fn with_env<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let vars = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self.env = Some(Arc::new(vars));
        self
    }

    /// Fetch credentials again when they expire within `margin`.
    pub fn with_refresh_before_expiry(mut self, margin: Duration) -> Self {
        self.refresh_before_expiry = margin;
        self
    }

    /// Uses `open` to show sign-in URLs (default: printed on stderr for the user to open).
    pub fn with_browser(mut self, open: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.browser = Some(Arc::new(open));
        self
    }

    /// Shows `url` to the user.
    pub(crate) fn open_browser(&self, url: &str) {
        match &self.browser {
            Some(open) => open(url),
            None => {
                tracing::info!("sign-in URL: {url}");
                eprintln!("Open this URL in a browser to sign in: {url}");
            }
        }
    }

    /// The current time of the clock.
    pub fn now(&self) -> SystemTime {
        self.time.now()
    }

    /// The clock, as the SDK takes it.
    pub fn time_source(&self) -> SharedTimeSource {
        self.time.clone()
    }

    /// The refresh margin.
    pub fn refresh_before_expiry(&self) -> Duration {
        self.refresh_before_expiry
    }

    /// An environment variable (non-empty values only).
    pub(crate) fn var(&self, name: &str) -> Option<String> {
        let value = match &self.env {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.trim().is_empty())
    }
}

/// A clock that stands still until moved: inject it with [`AuthContext::with_time_source`] to
/// test refresh before expiry without waiting.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<std::sync::Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: SystemTime) -> Self {
        Self {
            now: Arc::new(std::sync::Mutex::new(now)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: SystemTime) {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = to;
    }
}

impl TimeSource for ManualClock {
    fn now(&self) -> SystemTime {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
