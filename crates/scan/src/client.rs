//! AWS SDK clients and the S3 object store, built from [`ConnectionOptions`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use datafusion_athena_config::ConnectionOptions;
use object_store::CredentialProvider;
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// Static credentials from `AWSAccessKey` / `AWSSecretKey` / `AWSSessionToken`, when given.
/// An access key without a secret key (or the reverse) is an error naming both properties.
pub fn static_credentials(
    options: &ConnectionOptions,
) -> Result<Option<SharedCredentialsProvider>> {
    let auth = &options.auth;
    match (&auth.access_key, &auth.secret_key) {
        (None, None) => Ok(None),
        (Some(key), Some(secret)) => Ok(Some(SharedCredentialsProvider::new(Credentials::new(
            key.clone(),
            secret.expose().to_string(),
            auth.session_token.as_ref().map(|t| t.expose().to_string()),
            None,
            "datafusion-athena-connection-options",
        )))),
        (Some(_), None) => Err(Error::Config(
            "AWSAccessKey is set but AWSSecretKey is not: set both, or neither to use the default credential chain".into(),
        )),
        (None, Some(_)) => Err(Error::Config(
            "AWSSecretKey is set but AWSAccessKey is not: set both, or neither to use the default credential chain".into(),
        )),
    }
}

/// Loads the shared AWS configuration: the region from `AWSRegion` (else the environment) and
/// the given credentials (else static keys from the options, else the default chain).
pub async fn sdk_config(
    options: &ConnectionOptions,
    credentials: Option<SharedCredentialsProvider>,
) -> Result<SdkConfig> {
    let credentials = match credentials {
        Some(c) => Some(c),
        None => static_credentials(options)?,
    };
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.code().to_string()));
    }
    if let Some(c) = credentials {
        loader = loader.credentials_provider(c);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(Error::Config(
            "no AWS region: set AWSRegion (e.g. AWSRegion=eu-west-1) or AWS_REGION".into(),
        ));
    }
    Ok(config)
}

/// The retry policy of every Athena call: throttling and transient errors are retried with
/// exponential backoff and jitter (the SDK's standard mode), up to 8 attempts.
pub fn athena_retry_config() -> RetryConfig {
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
pub fn s3_store_with_clock(
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
    let store = builder.build().map_err(|e| {
        Error::Config(format!(
            "cannot build the S3 client for bucket '{bucket}': {e}"
        ))
    })?;
    Ok(Arc::new(store))
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
    use aws_smithy_async::time::TimeSource;
    use datafusion_athena_config::Secret;

    #[test]
    fn keys_need_each_other() {
        let mut o = ConnectionOptions::default();
        assert!(static_credentials(&o).unwrap().is_none());
        o.auth.access_key = Some("AKIDEXAMPLE".into());
        let err = static_credentials(&o).unwrap_err().to_string();
        assert!(
            err.contains("AWSSecretKey is set but") || err.contains("AWSSecretKey is not"),
            "{err}"
        );
        o.auth.secret_key = Some(Secret::new("s3cr3t-value"));
        let p = static_credentials(&o).unwrap().unwrap();
        assert!(!format!("{p:?}").contains("s3cr3t-value"));
    }

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

    #[tokio::test]
    async fn region_is_required() {
        let mut o: ConnectionOptions = "AWSAccessKey=a;AWSSecretKey=b;AWSRegion=eu-west-1"
            .parse()
            .unwrap();
        let c = sdk_config(&o, None).await.unwrap();
        assert_eq!(c.region().map(|r| r.as_ref()), Some("eu-west-1"));
        o.auth.secret_key = None;
        assert!(sdk_config(&o, None).await.is_err());
    }
}
