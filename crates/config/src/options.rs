//! The typed connection options: what a connection string means once parsed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::{AuthScheme, REDACTED, Region, ResultFetcher, S3Location, Secret};

/// Everything a datafusion-athena connection needs, typed. Built by parsing a connection string
/// ([`ConnectionOptions::parse`]), from a map, from the environment, or with
/// [`ConnectionOptionsBuilder`](crate::ConnectionOptionsBuilder). Unset values fall back to the standard AWS environment.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// `AWSRegion` (alias `Region`): the AWS region, as a code such as `eu-west-1`.
    pub region: Option<Region>,
    /// `DataSource` (alias `Catalog`): the Athena data source (data catalog), e.g. `AwsDataCatalog`.
    pub data_source: Option<String>,
    /// `Database` (alias `Schema`): the Athena database; the default schema for unqualified names.
    pub database: Option<String>,
    /// `S3StagingDirectory` (alias `OutputLocation`): where Athena writes query results.
    pub s3_staging_directory: Option<S3Location>,
    /// `WorkGroup`: the Athena workgroup (default `primary`).
    pub work_group: Option<String>,
    /// `EncryptionOption`: SSE_S3, SSE_KMS or CSE_KMS for query results.
    pub encryption_option: Option<EncryptionOption>,
    /// `KmsKey`: the KMS key for SSE_KMS / CSE_KMS.
    pub kms_key: Option<String>,
    /// `ResultReuseEnabled` and `ResultReuseMaxAgeMinutes`.
    pub result_reuse: ResultReuse,
    /// `ResultFetcher`: how results are read (Auto, S3, GetQueryResults, Unload).
    pub result_fetcher: ResultFetcher,
    /// `AutoUnloadMinRows`: with `ResultFetcher=Auto`, scans expected to return at least this
    /// many rows use UNLOAD. `None` means [`DEFAULT_AUTO_UNLOAD_MIN_ROWS`]; `Some(0)` never.
    pub auto_unload_min_rows: Option<u64>,
    /// `QueryTimeout` in seconds: a query still running after this long is stopped. `None` waits.
    pub query_timeout: Option<Duration>,
    /// `MaxBytesScanned`: a query that scans more is stopped and fails. `None`: no limit.
    pub max_bytes_scanned: Option<u64>,
    /// `PricePerTB` in US dollars. `None` means [`DEFAULT_PRICE_PER_TB`].
    pub price_per_tb: Option<f64>,
    /// Endpoint overrides (VPC endpoints, FIPS, local emulators).
    pub endpoints: Endpoints,
    /// Credentials and the scheme that turns them into AWS credentials.
    pub auth: AuthOptions,
}

/// Server-side encryption of query results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptionOption {
    /// Amazon S3 managed keys.
    SseS3,
    /// AWS KMS managed keys, server side.
    SseKms,
    /// AWS KMS managed keys, client side.
    CseKms,
}

impl EncryptionOption {
    /// Every option, in the order documented.
    pub const ALL: &'static [Self] = &[Self::SseS3, Self::SseKms, Self::CseKms];

    /// Parses `SSE_S3`, `SSE_KMS` or `CSE_KMS` case-insensitively (`-` for `_` is accepted).
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim().replace('-', "_");
        Self::ALL
            .iter()
            .copied()
            .find(|o| o.as_str().eq_ignore_ascii_case(&n))
    }

    /// Whether the option needs a KMS key (`KmsKey`).
    pub fn needs_kms_key(&self) -> bool {
        matches!(self, Self::SseKms | Self::CseKms)
    }

    /// The name Athena's API uses.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::SseS3 => "SSE_S3",
            Self::SseKms => "SSE_KMS",
            Self::CseKms => "CSE_KMS",
        }
    }
}

/// Athena's query result reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultReuse {
    /// Whether Athena may answer from a previous identical query's result.
    pub enabled: bool,
    /// How old a reused result may be, in minutes (0..=10080, default 60).
    pub max_age_minutes: u32,
}

impl Default for ResultReuse {
    fn default() -> Self {
        Self {
            enabled: false,
            max_age_minutes: DEFAULT_RESULT_REUSE_MAX_AGE_MINUTES,
        }
    }
}

/// Endpoint overrides. `all` applies to every service that has no override of its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    /// `Endpoint`: one URL for every service (e.g. a local emulator).
    pub all: Option<String>,
    /// `AthenaEndpoint`.
    pub athena: Option<String>,
    /// `GlueEndpoint`.
    pub glue: Option<String>,
    /// `S3Endpoint`.
    pub s3: Option<String>,
    /// `STSEndpoint`.
    pub sts: Option<String>,
    /// `IMDSEndpoint`: the EC2 instance metadata service.
    pub imds: Option<String>,
}

impl Endpoints {
    /// The endpoint for Athena: its own override, else `all`.
    pub fn athena(&self) -> Option<&str> {
        self.athena.as_deref().or(self.all.as_deref())
    }
    /// The endpoint for Glue: its own override, else `all`.
    pub fn glue(&self) -> Option<&str> {
        self.glue.as_deref().or(self.all.as_deref())
    }
    /// The endpoint for S3: its own override, else `all`.
    pub fn s3(&self) -> Option<&str> {
        self.s3.as_deref().or(self.all.as_deref())
    }
    /// The endpoint for STS: its own override, else `all`.
    pub fn sts(&self) -> Option<&str> {
        self.sts.as_deref().or(self.all.as_deref())
    }
}

/// Credentials and settings of the chosen [`AuthScheme`]. `Debug` prints every secret, and the
/// access key ID, as `***`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct AuthOptions {
    /// `AuthScheme`; `None` means the standard AWS credential chain (or keys, when given).
    pub scheme: Option<AuthScheme>,
    /// `AWSAccessKey`.
    pub access_key: Option<String>,
    /// `AWSSecretKey`.
    pub secret_key: Option<Secret>,
    /// `AWSSessionToken`: makes the keys temporary credentials.
    pub session_token: Option<Secret>,
    /// `AWSRoleARN`: the role to assume (or to pick from a SAML assertion).
    pub role_arn: Option<String>,
    /// `AWSExternalId`: for assuming a role in another account.
    pub external_id: Option<String>,
    /// `AWSPrincipalARN`: the SAML identity provider ARN.
    pub principal_arn: Option<String>,
    /// `MFASerialNumber`: the MFA device.
    pub mfa_serial_number: Option<String>,
    /// `MFAToken`: the current code of the MFA device.
    pub mfa_token: Option<Secret>,
    /// `TemporaryTokenDuration` in seconds (default 3600).
    pub temporary_token_duration: u32,
    /// `CredentialsLocation`: where MFA / temporary credentials are cached.
    pub credentials_location: Option<PathBuf>,
    /// `AWSWebIdentityToken`: an OIDC token for AssumeRoleWithWebIdentity.
    pub web_identity_token: Option<Secret>,
    /// `AWSWebIdentityTokenFile` (or `AWS_WEB_IDENTITY_TOKEN_FILE`): a file holding that token.
    pub web_identity_token_file: Option<PathBuf>,
    /// `User`: the IdP user.
    pub user: Option<String>,
    /// `Password`: the IdP password.
    pub password: Option<Secret>,
    /// `SSOLoginURL`.
    pub sso_login_url: Option<String>,
    /// `SSOExchangeURL`.
    pub sso_exchange_url: Option<String>,
    /// `SSOProperties`: the nested property list of the SSO schemes.
    pub sso_properties: SsoProperties,
    /// `OAuthClientId`.
    pub oauth_client_id: Option<String>,
    /// `OAuthClientSecret`.
    pub oauth_client_secret: Option<Secret>,
    /// `CallbackURL`: the OAuth redirect URI.
    pub callback_url: Option<String>,
    /// `InitiateOAuth`: OFF, GETANDREFRESH or REFRESH.
    pub initiate_oauth: Option<String>,
    /// `OAuthSettingsLocation`: where OAuth tokens are stored between runs.
    pub oauth_settings_location: Option<PathBuf>,
    /// `AWSCredentialsFile` (alias `CredentialsFile`): an AWS credentials/config file.
    pub credentials_file: Option<PathBuf>,
    /// `AWSCredentialsFileProfile` (alias `Profile`): the profile in that file.
    pub credentials_file_profile: Option<String>,
    /// Cognito settings.
    pub cognito: CognitoOptions,
    /// DataZone IdC settings.
    pub datazone: DataZoneOptions,
}

/// The nested `SSOProperties` list. `Debug` prints `***` for every secret, including values of
/// secret-looking names in `other`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SsoProperties {
    /// `ApiToken` (Okta trusted apps).
    pub api_token: Option<Secret>,
    /// `MFAType`: OktaVerify, Email or SMS.
    pub mfa_type: Option<String>,
    /// `MFAPassCode`.
    pub mfa_pass_code: Option<Secret>,
    /// `MFARememberDevice` (default true).
    pub mfa_remember_device: bool,
    /// `Resource` (Azure AD: the AWS SSO app's ID URI).
    pub resource: Option<String>,
    /// `AzureTenant`.
    pub azure_tenant: Option<String>,
    /// `AuthScheme` inside SSOProperties (PingFederate: `Basic`).
    pub auth_scheme: Option<String>,
    /// `SSLClientCert`: client certificate for mutual TLS (file path or PEM).
    pub ssl_client_cert: Option<String>,
    /// `SSLClientCertType`: PEMKEY_FILE, PEMKEY_BLOB, PFXFILE, ...
    pub ssl_client_cert_type: Option<String>,
    /// `SSLClientCertPassword`.
    pub ssl_client_cert_password: Option<Secret>,
    /// `SSLClientCertSubject`.
    pub ssl_client_cert_subject: Option<String>,
    /// Other nested properties, set programmatically (the parser rejects names it does not
    /// know). Values of secret-looking names (password, secret, token, key) print as `***`.
    pub other: Vec<(String, String)>,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            scheme: None,
            access_key: None,
            secret_key: None,
            session_token: None,
            role_arn: None,
            external_id: None,
            principal_arn: None,
            mfa_serial_number: None,
            mfa_token: None,
            temporary_token_duration: DEFAULT_TEMPORARY_TOKEN_DURATION,
            credentials_location: None,
            web_identity_token: None,
            web_identity_token_file: None,
            user: None,
            password: None,
            sso_login_url: None,
            sso_exchange_url: None,
            sso_properties: SsoProperties::default(),
            oauth_client_id: None,
            oauth_client_secret: None,
            callback_url: None,
            initiate_oauth: None,
            oauth_settings_location: None,
            credentials_file: None,
            credentials_file_profile: None,
            cognito: CognitoOptions::default(),
            datazone: DataZoneOptions::default(),
        }
    }
}

impl fmt::Debug for AuthOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            scheme,
            access_key,
            secret_key,
            session_token,
            role_arn,
            external_id,
            principal_arn,
            mfa_serial_number,
            mfa_token,
            temporary_token_duration,
            credentials_location,
            web_identity_token,
            web_identity_token_file,
            user,
            password,
            sso_login_url,
            sso_exchange_url,
            sso_properties,
            oauth_client_id,
            oauth_client_secret,
            callback_url,
            initiate_oauth,
            oauth_settings_location,
            credentials_file,
            credentials_file_profile,
            cognito,
            datazone,
        } = self;
        f.debug_struct("AuthOptions")
            .field("scheme", scheme)
            .field("access_key", &access_key.as_ref().map(|_| REDACTED))
            .field("secret_key", secret_key)
            .field("session_token", session_token)
            .field("role_arn", role_arn)
            .field("external_id", external_id)
            .field("principal_arn", principal_arn)
            .field("mfa_serial_number", mfa_serial_number)
            .field("mfa_token", mfa_token)
            .field("temporary_token_duration", temporary_token_duration)
            .field("credentials_location", credentials_location)
            .field("web_identity_token", web_identity_token)
            .field("web_identity_token_file", web_identity_token_file)
            .field("user", user)
            .field("password", password)
            .field("sso_login_url", sso_login_url)
            .field("sso_exchange_url", sso_exchange_url)
            .field("sso_properties", sso_properties)
            .field("oauth_client_id", oauth_client_id)
            .field("oauth_client_secret", oauth_client_secret)
            .field("callback_url", callback_url)
            .field("initiate_oauth", initiate_oauth)
            .field("oauth_settings_location", oauth_settings_location)
            .field("credentials_file", credentials_file)
            .field("credentials_file_profile", credentials_file_profile)
            .field("cognito", cognito)
            .field("datazone", datazone)
            .finish()
    }
}

impl AuthOptions {
    /// The scheme in effect: `AuthScheme` when set, otherwise [`AuthScheme::AwsIamKeys`] when
    /// `AWSAccessKey` is set, otherwise [`AuthScheme::Default`] (the standard AWS chain).
    pub fn effective_scheme(&self) -> AuthScheme {
        match (self.scheme, &self.access_key) {
            (Some(s), _) => s,
            (None, Some(_)) => AuthScheme::AwsIamKeys,
            (None, None) => AuthScheme::Default,
        }
    }
}

/// The default of `TemporaryTokenDuration`, in seconds.
pub const DEFAULT_TEMPORARY_TOKEN_DURATION: u32 = 3600;

/// The default of `ResultReuseMaxAgeMinutes`.
pub const DEFAULT_RESULT_REUSE_MAX_AGE_MINUTES: u32 = 60;

/// The default of `AutoUnloadMinRows`: from a million rows on, UNLOAD's Parquet beats the
/// result CSV (see the `result_paths` bench in the README).
pub const DEFAULT_AUTO_UNLOAD_MIN_ROWS: u64 = 1_000_000;

/// The default of `PricePerTB`: Athena's list price per TB scanned in most regions.
pub const DEFAULT_PRICE_PER_TB: f64 = 5.0;

impl ConnectionOptions {
    /// What Athena bills for a query that scanned `bytes` at `PricePerTB`, in US dollars:
    /// bytes rounded up to the next MB, at least 10 MB.
    pub fn query_cost(&self, bytes: u64) -> f64 {
        const MB: u64 = 1 << 20;
        let billed = bytes.div_ceil(MB).max(10) * MB;
        billed as f64 / (1u64 << 40) as f64 * self.price_per_tb.unwrap_or(DEFAULT_PRICE_PER_TB)
    }

    /// The effective `AutoUnloadMinRows` (`None` when size never selects UNLOAD).
    pub fn auto_unload_threshold(&self) -> Option<u64> {
        match self
            .auto_unload_min_rows
            .unwrap_or(DEFAULT_AUTO_UNLOAD_MIN_ROWS)
        {
            0 => None,
            n => Some(n),
        }
    }
}

impl Default for SsoProperties {
    fn default() -> Self {
        Self {
            api_token: None,
            mfa_type: None,
            mfa_pass_code: None,
            mfa_remember_device: true,
            resource: None,
            azure_tenant: None,
            auth_scheme: None,
            ssl_client_cert: None,
            ssl_client_cert_type: None,
            ssl_client_cert_password: None,
            ssl_client_cert_subject: None,
            other: Vec::new(),
        }
    }
}

impl fmt::Debug for SsoProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be forgotten here.
        let Self {
            api_token,
            mfa_type,
            mfa_pass_code,
            mfa_remember_device,
            resource,
            azure_tenant,
            auth_scheme,
            ssl_client_cert,
            ssl_client_cert_type,
            ssl_client_cert_password,
            ssl_client_cert_subject,
            other,
        } = self;
        let shown_other: Vec<(&str, &str)> = other
            .iter()
            .map(|(k, v)| {
                let shown = if crate::keys::is_secret_name(k) {
                    REDACTED
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("SsoProperties")
            .field("api_token", api_token)
            .field("mfa_type", mfa_type)
            .field("mfa_pass_code", mfa_pass_code)
            .field("mfa_remember_device", mfa_remember_device)
            .field("resource", resource)
            .field("azure_tenant", azure_tenant)
            .field("auth_scheme", auth_scheme)
            .field("ssl_client_cert", ssl_client_cert)
            .field("ssl_client_cert_type", ssl_client_cert_type)
            .field("ssl_client_cert_password", ssl_client_cert_password)
            .field("ssl_client_cert_subject", ssl_client_cert_subject)
            .field("other", &shown_other)
            .finish()
    }
}

/// AWS Cognito settings (`AuthScheme=AwsCognitoSrp` / `AwsCognitoBasic`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CognitoOptions {
    /// `AWSCognitoRegion`.
    pub region: Option<String>,
    /// `AWSUserPoolId`.
    pub user_pool_id: Option<String>,
    /// `AWSUserPoolClientAppId`.
    pub user_pool_client_app_id: Option<String>,
    /// `AWSUserPoolClientAppSecret`.
    pub user_pool_client_app_secret: Option<Secret>,
    /// `AWSIdentityPoolId`.
    pub identity_pool_id: Option<String>,
}

/// DataZone IdC settings (`AuthScheme=DataZoneIdC`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DataZoneOptions {
    /// `DataZoneDomainId`.
    pub domain_id: Option<String>,
    /// `DataZoneEnvironmentId`.
    pub environment_id: Option<String>,
    /// `DataZoneDomainURL` (the portal URL).
    pub domain_url: Option<String>,
    /// `DataZoneRegion`.
    pub region: Option<String>,
    /// `SSOStartURL`: the IAM Identity Center start URL.
    pub sso_start_url: Option<String>,
    /// `SSORegion`: the IAM Identity Center region.
    pub sso_region: Option<String>,
}
