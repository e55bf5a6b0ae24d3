//! AWS SDK clients and the S3 object store, built from [`ConnectionOptions`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use datafusion_athena_config::ConnectionOptions;
use object_store::CredentialProvider;
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// The retry policy of every Athena call: throttling and transient errors are retried with
/// exponential backoff and jitter (the SDK's standard mode), up to 8 attempts.
pub(crate) fn athena_retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(20))
}

/// The Athena client for `config`, pointed at `AthenaEndpoint` (or `Endpoint`) when set.
pub fn athena_client(config: &SdkConfig, options: &ConnectionOptions) -> aws_sdk_athena::Client {
    let mut builder =
        aws_sdk_athena::config::Builder::from(config).retry_config(athena_retry_config());
    if let Some(endpoint) = options.endpoints.athena() {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_athena::Client::from_conf(builder.build())
}

/// An object store for one S3 bucket: `S3Endpoint` (or `Endpoint`) with path-style requests when
/// set, plain HTTP allowed for `http://` endpoints, credentials from `credentials` (refreshed
/// 5 minutes before they expire, by the real clock).
pub fn s3_store(
    options: &ConnectionOptions,
    region: &str,
    bucket: &str,
    credentials: Option<SharedCredentialsProvider>,
) -> Result<Arc<dyn ObjectStore>> {
    s3_store_with_clock(
        options,
        region,
        bucket,
        credentials,
        SharedTimeSource::new(SystemTimeSource::new()),
    )
}

/// [`s3_store`] judging credential expiry by `clock` (the SDK configuration's time source, so
/// a test clock or a skew-corrected clock applies to S3 as it does to the SDK clients).
pub(crate) fn s3_store_with_clock(
    options: &ConnectionOptions,
    region: &str,
    bucket: &str,
    credentials: Option<SharedCredentialsProvider>,
    clock: SharedTimeSource,
) -> Result<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::new()
        .with_region(region)
        .with_bucket_name(bucket);
    if let Some(endpoint) = options.endpoints.s3() {
        builder = builder
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    if let Some(c) = credentials {
        builder = builder.with_credentials(Arc::new(SdkCredentialBridge::new(c, clock)));
    }
    let store = builder.build().map_err(|e| Error::S3Client {
        bucket: bucket.to_string(),
        message: e.to_string(),
    })?;
    Ok(Arc::new(store))
}

/// The S3 clients of one connection, one per bucket, built on first use and then shared.
#[derive(Clone)]
pub(crate) struct S3Stores {
    options: Arc<ConnectionOptions>,
    region: String,
    credentials: Option<SharedCredentialsProvider>,
    clock: SharedTimeSource,
    stores: Arc<std::sync::Mutex<HashMap<String, Arc<dyn ObjectStore>>>>,
}

impl fmt::Debug for S3Stores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Stores")
            .field("region", &self.region)
            .field("endpoint", &self.options.endpoints.s3())
            .finish_non_exhaustive()
    }
}

impl S3Stores {
    pub(crate) fn new(
        options: Arc<ConnectionOptions>,
        region: String,
        credentials: Option<SharedCredentialsProvider>,
        clock: SharedTimeSource,
    ) -> Self {
        Self {
            options,
            region,
            credentials,
            clock,
            stores: Arc::default(),
        }
    }

    /// Uses `store` for `bucket` from now on.
    pub(crate) fn insert(&self, bucket: &str, store: Arc<dyn ObjectStore>) {
        self.cache().insert(bucket.to_string(), store);
    }

    /// The object store for `bucket` (built once, then shared).
    pub(crate) fn get(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        let mut stores = self.cache();
        if let Some(s) = stores.get(bucket) {
            return Ok(Arc::clone(s));
        }
        let store = s3_store_with_clock(
            &self.options,
            &self.region,
            bucket,
            self.credentials.clone(),
            self.clock.clone(),
        )?;
        stores.insert(bucket.to_string(), Arc::clone(&store));
        Ok(store)
    }

    /// The cache; a panic elsewhere while it was held leaves a map that is still whole.
    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn ObjectStore>>> {
        self.stores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How long before their expiry credentials handed to S3 are replaced (the same margin as the
/// auth crate's providers).
pub(crate) const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// Hands AWS SDK credentials to object_store, caching them until [`REFRESH_BEFORE_EXPIRY`]
/// before they expire, by `clock`.
#[derive(Debug)]
pub(crate) struct SdkCredentialBridge {
    provider: SharedCredentialsProvider,
    clock: SharedTimeSource,
    cached: Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

impl SdkCredentialBridge {
    pub(crate) fn new(provider: SharedCredentialsProvider, clock: SharedTimeSource) -> Self {
        Self {
            provider,
            clock,
            cached: Mutex::new(None),
        }
    }
}

#[async_trait]
impl CredentialProvider for SdkCredentialBridge {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        if let Some((credential, expiry)) = cached.as_ref() {
            let fresh = match expiry {
                None => true,
                Some(e) => *e > self.clock.now() + REFRESH_BEFORE_EXPIRY,
            };
            if fresh {
                return Ok(Arc::clone(credential));
            }
        }
        let c = self.provider.provide_credentials().await.map_err(|e| {
            object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            }
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: c.access_key_id().to_string(),
            secret_key: c.secret_access_key().to_string(),
            token: c.session_token().map(str::to_string),
        });
        *cached = Some((Arc::clone(&credential), c.expiry()));
        Ok(credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_smithy_async::time::TimeSource;

    #[tokio::test]
    async fn bridge_hands_over_and_caches_credentials() {
        let creds = Credentials::new("AK", "SK", Some("TOKEN".into()), None, "test");
        let bridge = SdkCredentialBridge::new(
            SharedCredentialsProvider::new(creds),
            SharedTimeSource::new(SystemTimeSource::new()),
        );
        let a = bridge.get_credential().await.unwrap();
        assert_eq!(
            (a.key_id.as_str(), a.secret_key.as_str(), a.token.as_deref()),
            ("AK", "SK", Some("TOKEN"))
        );
        let b = bridge.get_credential().await.unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    /// A clock the test moves by hand.
    #[derive(Debug, Clone)]
    struct TestClock(Arc<std::sync::Mutex<SystemTime>>);

    impl TimeSource for TestClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
    }

    /// Hands out credentials numbered by call, each valid for 15 minutes from `clock`.
    #[derive(Debug)]
    struct Numbered {
        clock: TestClock,
        calls: std::sync::atomic::AtomicUsize,
    }

    impl ProvideCredentials for Numbered {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let expiry = self.clock.now() + Duration::from_secs(900);
            aws_credential_types::provider::future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AK{n}"),
                "SK",
                None,
                Some(expiry),
                "test",
            )))
        }
    }

    #[tokio::test]
    async fn bridge_refreshes_five_minutes_before_expiry_by_the_given_clock() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let clock = TestClock(Arc::new(std::sync::Mutex::new(start)));
        let provider = Numbered {
            clock: clock.clone(),
            calls: Default::default(),
        };
        let bridge = SdkCredentialBridge::new(
            SharedCredentialsProvider::new(provider),
            SharedTimeSource::new(clock.clone()),
        );
        assert_eq!(bridge.get_credential().await.unwrap().key_id, "AK0");
        // 9 minutes in, 6 minutes are left: still fresh.
        *clock.0.lock().unwrap() = start + Duration::from_secs(540);
        assert_eq!(bridge.get_credential().await.unwrap().key_id, "AK0");
        // 10 minutes and 1 second in, under 5 minutes are left: replaced.
        *clock.0.lock().unwrap() = start + Duration::from_secs(601);
        assert_eq!(bridge.get_credential().await.unwrap().key_id, "AK1");
        assert_eq!(bridge.get_credential().await.unwrap().key_id, "AK1");
    }
}
