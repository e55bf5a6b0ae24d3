//! [`ConnectionOptionsBuilder`]: options for programmatic use, typed or by [`ConfigKey`].

use std::path::PathBuf;
use std::time::Duration;

use crate::apply::process_env;
use crate::keys::ConfigKey;
use crate::{
    AuthScheme, CognitoOptions, ConnectionOptions, DataZoneOptions, EncryptionOption, Error,
    Region, Result, ResultFetcher, S3Location, Secret, SsoProperties,
};

/// Builds [`ConnectionOptions`] with typed setters or [`with_config`](Self::with_config).
/// Later settings replace earlier ones; [`build`](Self::build) reports the first bad value, then
/// validates the whole (ranges, URLs, what the `AuthScheme` needs).
///
/// ```
/// use datafusion_athena_config::{ConfigKey, ConnectionOptions, Region};
/// let options = ConnectionOptions::builder()
///     .with_region(Region::parse("OREGON").unwrap())
///     .with_database("sampledb")
///     .with_config(ConfigKey::WorkGroup, "analytics")
///     .build_with_env(|_| None)
///     .unwrap();
/// assert_eq!(options.to_string(), "AWSRegion=us-west-2;Database=sampledb;WorkGroup=analytics;");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConnectionOptionsBuilder {
    options: ConnectionOptions,
    error: Option<Error>,
}

impl ConnectionOptions {
    /// A builder starting from the defaults.
    pub fn builder() -> ConnectionOptionsBuilder {
        ConnectionOptionsBuilder::default()
    }
}

macro_rules! setters {
    ($( $(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => |$o:ident| $body:expr; )*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                let $o = &mut self.options;
                $body;
                self
            }
        )*
    };
}

impl ConnectionOptionsBuilder {
    /// Starts from existing options (e.g. parsed from a connection string).
    pub fn from_options(options: ConnectionOptions) -> Self {
        Self {
            options,
            error: None,
        }
    }

    /// Sets a property from its text value, exactly as in a connection string (any alias,
    /// friendly region names, `SSOProperties` as a nested list). An empty value unsets it. A
    /// bad value is reported by [`build`](Self::build).
    pub fn with_config(mut self, key: ConfigKey, value: impl AsRef<str>) -> Self {
        if let Err(e) = self.options.set(key, value.as_ref()) {
            self.error.get_or_insert(e);
        }
        self
    }

    setters! {
        /// `AWSRegion`.
        with_region(region: Region) => |o| o.region = Some(region);
        /// `DataSource`.
        with_data_source(name: impl Into<String>) => |o| o.data_source = Some(name.into());
        /// `Database`.
        with_database(name: impl Into<String>) => |o| o.database = Some(name.into());
        /// `S3StagingDirectory`.
        with_s3_staging_directory(location: S3Location) => |o| o.s3_staging_directory = Some(location);
        /// `WorkGroup`.
        with_work_group(name: impl Into<String>) => |o| o.work_group = Some(name.into());
        /// `EncryptionOption`.
        with_encryption_option(option: EncryptionOption) => |o| o.encryption_option = Some(option);
        /// `KmsKey`.
        with_kms_key(key: impl Into<String>) => |o| o.kms_key = Some(key.into());
        /// `ResultReuseEnabled`.
        with_result_reuse_enabled(enabled: bool) => |o| o.result_reuse.enabled = enabled;
        /// `ResultReuseMaxAgeMinutes` (0..=10080).
        with_result_reuse_max_age_minutes(minutes: u32) => |o| o.result_reuse.max_age_minutes = minutes;
        /// `ResultFetcher`.
        with_result_fetcher(fetcher: ResultFetcher) => |o| o.result_fetcher = fetcher;
        /// `AutoUnloadMinRows` (0: size never selects UNLOAD).
        with_auto_unload_min_rows(rows: u64) => |o| o.auto_unload_min_rows = Some(rows);
        /// `QueryTimeout` (more than 0; sub-second parts are dropped when printed).
        with_query_timeout(timeout: Duration) => |o| o.query_timeout = Some(timeout);
        /// `MaxBytesScanned` (more than 0).
        with_max_bytes_scanned(bytes: u64) => |o| o.max_bytes_scanned = Some(bytes);
        /// `PricePerTB` in US dollars.
        with_price_per_tb(dollars: f64) => |o| o.price_per_tb = Some(dollars);
        /// `Endpoint`: one endpoint for every service.
        with_endpoint(url: impl Into<String>) => |o| o.endpoints.all = Some(url.into());
        /// `AthenaEndpoint`.
        with_athena_endpoint(url: impl Into<String>) => |o| o.endpoints.athena = Some(url.into());
        /// `GlueEndpoint`.
        with_glue_endpoint(url: impl Into<String>) => |o| o.endpoints.glue = Some(url.into());
        /// `S3Endpoint`.
        with_s3_endpoint(url: impl Into<String>) => |o| o.endpoints.s3 = Some(url.into());
        /// `STSEndpoint`.
        with_sts_endpoint(url: impl Into<String>) => |o| o.endpoints.sts = Some(url.into());
        /// `IMDSEndpoint`.
        with_imds_endpoint(url: impl Into<String>) => |o| o.endpoints.imds = Some(url.into());
        /// `AuthScheme`.
        with_auth_scheme(scheme: AuthScheme) => |o| o.auth.scheme = Some(scheme);
        /// `AWSAccessKey`.
        with_access_key(key: impl Into<String>) => |o| o.auth.access_key = Some(key.into());
        /// `AWSSecretKey`.
        with_secret_key(key: impl Into<Secret>) => |o| o.auth.secret_key = Some(key.into());
        /// `AWSSessionToken`.
        with_session_token(token: impl Into<Secret>) => |o| o.auth.session_token = Some(token.into());
        /// `AWSRoleARN`.
        with_role_arn(arn: impl Into<String>) => |o| o.auth.role_arn = Some(arn.into());
        /// `AWSExternalId`.
        with_external_id(id: impl Into<String>) => |o| o.auth.external_id = Some(id.into());
        /// `AWSPrincipalARN`.
        with_principal_arn(arn: impl Into<String>) => |o| o.auth.principal_arn = Some(arn.into());
        /// `MFASerialNumber`.
        with_mfa_serial_number(serial: impl Into<String>) => |o| o.auth.mfa_serial_number = Some(serial.into());
        /// `MFAToken`.
        with_mfa_token(token: impl Into<Secret>) => |o| o.auth.mfa_token = Some(token.into());
        /// `TemporaryTokenDuration` in seconds (900..=129600).
        with_temporary_token_duration(seconds: u32) => |o| o.auth.temporary_token_duration = seconds;
        /// `CredentialsLocation`.
        with_credentials_location(path: impl Into<PathBuf>) => |o| o.auth.credentials_location = Some(path.into());
        /// `AWSWebIdentityToken`.
        with_web_identity_token(token: impl Into<Secret>) => |o| o.auth.web_identity_token = Some(token.into());
        /// `AWSWebIdentityTokenFile`.
        with_web_identity_token_file(path: impl Into<PathBuf>) => |o| o.auth.web_identity_token_file = Some(path.into());
        /// `User`.
        with_user(user: impl Into<String>) => |o| o.auth.user = Some(user.into());
        /// `Password`.
        with_password(password: impl Into<Secret>) => |o| o.auth.password = Some(password.into());
        /// `SSOLoginURL`.
        with_sso_login_url(url: impl Into<String>) => |o| o.auth.sso_login_url = Some(url.into());
        /// `SSOExchangeURL`.
        with_sso_exchange_url(uri: impl Into<String>) => |o| o.auth.sso_exchange_url = Some(uri.into());
        /// `SSOProperties`.
        with_sso_properties(properties: SsoProperties) => |o| o.auth.sso_properties = properties;
        /// `OAuthClientId`.
        with_oauth_client_id(id: impl Into<String>) => |o| o.auth.oauth_client_id = Some(id.into());
        /// `OAuthClientSecret`.
        with_oauth_client_secret(secret: impl Into<Secret>) => |o| o.auth.oauth_client_secret = Some(secret.into());
        /// `CallbackURL`.
        with_callback_url(url: impl Into<String>) => |o| o.auth.callback_url = Some(url.into());
        /// `OAuthSettingsLocation`.
        with_oauth_settings_location(path: impl Into<PathBuf>) => |o| o.auth.oauth_settings_location = Some(path.into());
        /// `AWSCredentialsFile`.
        with_credentials_file(path: impl Into<PathBuf>) => |o| o.auth.credentials_file = Some(path.into());
        /// `AWSCredentialsFileProfile`.
        with_profile(profile: impl Into<String>) => |o| o.auth.credentials_file_profile = Some(profile.into());
        /// The Cognito settings (`AWSCognitoRegion`, `AWSUserPoolId`, ...).
        with_cognito(cognito: CognitoOptions) => |o| o.auth.cognito = cognito;
        /// The DataZone settings (`DataZoneDomainId`, ...).
        with_datazone(datazone: DataZoneOptions) => |o| o.auth.datazone = datazone;
    }

    /// `InitiateOAuth`: OFF, GETANDREFRESH or REFRESH (checked by [`build`](Self::build)).
    pub fn with_initiate_oauth(self, mode: impl AsRef<str>) -> Self {
        self.with_config(ConfigKey::InitiateOAuth, mode)
    }

    /// Validates and returns the options; the process environment counts for what the scheme
    /// needs (see [`ConnectionOptions::validate`]).
    pub fn build(self) -> Result<ConnectionOptions> {
        self.build_with_env(process_env)
    }

    /// [`build`](Self::build) with an injected environment.
    pub fn build_with_env(self, env: impl Fn(&str) -> Option<String>) -> Result<ConnectionOptions> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.options.validate_with(env)?;
        Ok(self.options)
    }
}
