//! Printing options back: the connection string (`Display`) and redacted JSON, both with every
//! secret as `***`.

use std::fmt;

use serde_json::{Map, Value};

use crate::keys::{ConfigKey, SsoKey, is_secret_name};
use crate::options::{DEFAULT_RESULT_REUSE_MAX_AGE_MINUTES, DEFAULT_TEMPORARY_TOKEN_DURATION};
use crate::parse::quote_value;
use crate::{ConnectionOptions, REDACTED, ResultFetcher, SsoProperties};

/// A property's value as printed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shown {
    Text(String),
    Number(u64),
    Bool(bool),
    /// A secret: printed as `***`.
    Secret,
    /// The nested `SSOProperties` list.
    Nested(Vec<(String, Shown)>),
}

impl Shown {
    fn to_json(&self) -> Value {
        match self {
            Self::Text(t) => Value::String(t.clone()),
            Self::Number(n) => Value::from(*n),
            Self::Bool(b) => Value::Bool(*b),
            Self::Secret => Value::String(REDACTED.to_string()),
            Self::Nested(items) => Value::Object(
                items
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    fn to_connection_value(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::Number(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::Secret => REDACTED.to_string(),
            Self::Nested(items) => items
                .iter()
                .map(|(k, v)| format!("{k}={};", quote_value(&v.to_connection_value())))
                .collect(),
        }
    }
}

fn text(v: &Option<String>) -> Option<Shown> {
    v.as_ref().map(|t| Shown::Text(t.clone()))
}

fn secret<T>(v: &Option<T>) -> Option<Shown> {
    v.as_ref().map(|_| Shown::Secret)
}

fn path(v: &Option<std::path::PathBuf>) -> Option<Shown> {
    v.as_ref().map(|p| Shown::Text(p.display().to_string()))
}

impl ConnectionOptions {
    /// Every property that is set or differs from its default, in table order.
    pub(crate) fn shown(&self) -> Vec<(ConfigKey, Shown)> {
        let a = &self.auth;
        ConfigKey::ALL
            .iter()
            .filter_map(|&key| {
                let shown = match key {
                    ConfigKey::AwsRegion => {
                        self.region.as_ref().map(|r| Shown::Text(r.code().into()))
                    }
                    ConfigKey::DataSource => text(&self.data_source),
                    ConfigKey::Database => text(&self.database),
                    ConfigKey::S3StagingDirectory => self
                        .s3_staging_directory
                        .as_ref()
                        .map(|s| Shown::Text(s.to_string())),
                    ConfigKey::WorkGroup => text(&self.work_group),
                    ConfigKey::EncryptionOption => self
                        .encryption_option
                        .map(|o| Shown::Text(o.as_str().into())),
                    ConfigKey::KmsKey => text(&self.kms_key),
                    ConfigKey::ResultReuseEnabled => {
                        self.result_reuse.enabled.then_some(Shown::Bool(true))
                    }
                    ConfigKey::ResultReuseMaxAgeMinutes => (self.result_reuse.max_age_minutes
                        != DEFAULT_RESULT_REUSE_MAX_AGE_MINUTES)
                        .then(|| Shown::Number(self.result_reuse.max_age_minutes.into())),
                    ConfigKey::ResultFetcher => (self.result_fetcher != ResultFetcher::Auto)
                        .then(|| Shown::Text(self.result_fetcher.as_str().into())),
                    ConfigKey::AutoUnloadMinRows => self.auto_unload_min_rows.map(Shown::Number),
                    ConfigKey::QueryTimeout => {
                        self.query_timeout.map(|d| Shown::Number(d.as_secs()))
                    }
                    ConfigKey::MaxBytesScanned => self.max_bytes_scanned.map(Shown::Number),
                    ConfigKey::PricePerTB => {
                        self.price_per_tb.map(|p| Shown::Text(format!("{p:.2}")))
                    }
                    ConfigKey::Endpoint => text(&self.endpoints.all),
                    ConfigKey::AthenaEndpoint => text(&self.endpoints.athena),
                    ConfigKey::GlueEndpoint => text(&self.endpoints.glue),
                    ConfigKey::S3Endpoint => text(&self.endpoints.s3),
                    ConfigKey::StsEndpoint => text(&self.endpoints.sts),
                    ConfigKey::ImdsEndpoint => text(&self.endpoints.imds),
                    ConfigKey::AuthScheme => a.scheme.map(|s| Shown::Text(s.as_str().into())),
                    // The access key ID is not a secret to AWS, but it is printed as one.
                    ConfigKey::AwsAccessKey => secret(&a.access_key),
                    ConfigKey::AwsSecretKey => secret(&a.secret_key),
                    ConfigKey::AwsSessionToken => secret(&a.session_token),
                    ConfigKey::AwsRoleArn => text(&a.role_arn),
                    ConfigKey::AwsExternalId => text(&a.external_id),
                    ConfigKey::AwsPrincipalArn => text(&a.principal_arn),
                    ConfigKey::MfaSerialNumber => text(&a.mfa_serial_number),
                    ConfigKey::MfaToken => secret(&a.mfa_token),
                    ConfigKey::TemporaryTokenDuration => (a.temporary_token_duration
                        != DEFAULT_TEMPORARY_TOKEN_DURATION)
                        .then(|| Shown::Number(a.temporary_token_duration.into())),
                    ConfigKey::CredentialsLocation => path(&a.credentials_location),
                    ConfigKey::AwsWebIdentityToken => secret(&a.web_identity_token),
                    ConfigKey::AwsWebIdentityTokenFile => path(&a.web_identity_token_file),
                    ConfigKey::User => text(&a.user),
                    ConfigKey::Password => secret(&a.password),
                    ConfigKey::SsoLoginUrl => text(&a.sso_login_url),
                    ConfigKey::SsoExchangeUrl => text(&a.sso_exchange_url),
                    ConfigKey::SsoProperties => {
                        let items = a.sso_properties.shown(false);
                        (!items.is_empty()).then_some(Shown::Nested(items))
                    }
                    ConfigKey::OAuthClientId => text(&a.oauth_client_id),
                    ConfigKey::OAuthClientSecret => secret(&a.oauth_client_secret),
                    ConfigKey::CallbackUrl => text(&a.callback_url),
                    ConfigKey::InitiateOAuth => text(&a.initiate_oauth),
                    ConfigKey::OAuthSettingsLocation => path(&a.oauth_settings_location),
                    ConfigKey::AwsCredentialsFile => path(&a.credentials_file),
                    ConfigKey::AwsCredentialsFileProfile => text(&a.credentials_file_profile),
                    ConfigKey::AwsCognitoRegion => text(&a.cognito.region),
                    ConfigKey::AwsUserPoolId => text(&a.cognito.user_pool_id),
                    ConfigKey::AwsUserPoolClientAppId => text(&a.cognito.user_pool_client_app_id),
                    ConfigKey::AwsUserPoolClientAppSecret => {
                        secret(&a.cognito.user_pool_client_app_secret)
                    }
                    ConfigKey::AwsIdentityPoolId => text(&a.cognito.identity_pool_id),
                    ConfigKey::DataZoneDomainId => text(&a.datazone.domain_id),
                    ConfigKey::DataZoneEnvironmentId => text(&a.datazone.environment_id),
                    ConfigKey::DataZoneDomainUrl => text(&a.datazone.domain_url),
                    ConfigKey::DataZoneRegion => text(&a.datazone.region),
                    ConfigKey::SsoStartUrl => text(&a.datazone.sso_start_url),
                    ConfigKey::SsoRegion => text(&a.datazone.sso_region),
                };
                shown.map(|s| (key, s))
            })
            .collect()
    }

    /// Whether a property is set (or differs from its default).
    pub fn is_set(&self, key: ConfigKey) -> bool {
        self.shown().iter().any(|(k, _)| *k == key)
    }

    /// The options as one JSON object keyed by canonical property names, with every secret as
    /// `"***"`. It holds every property that is set, plus the resolved `AuthScheme` and the
    /// defaults in effect for `ResultFetcher`, `ResultReuseEnabled`,
    /// `ResultReuseMaxAgeMinutes` and `TemporaryTokenDuration` (and
    /// `SSOProperties.MFARememberDevice` when `SSOProperties` is given).
    pub fn to_redacted_json(&self) -> Value {
        let mut object = Map::new();
        for (key, shown) in self.shown() {
            let value = match (key, &shown) {
                (ConfigKey::SsoProperties, Shown::Nested(_)) => {
                    Shown::Nested(self.auth.sso_properties.shown(true)).to_json()
                }
                _ => shown.to_json(),
            };
            object.insert(key.name().to_string(), value);
        }
        let defaults = [
            (
                ConfigKey::AuthScheme,
                Value::from(self.auth.effective_scheme().as_str()),
            ),
            (
                ConfigKey::ResultFetcher,
                Value::from(self.result_fetcher.as_str()),
            ),
            (
                ConfigKey::ResultReuseEnabled,
                Value::from(self.result_reuse.enabled),
            ),
            (
                ConfigKey::ResultReuseMaxAgeMinutes,
                Value::from(self.result_reuse.max_age_minutes),
            ),
            (
                ConfigKey::TemporaryTokenDuration,
                Value::from(self.auth.temporary_token_duration),
            ),
        ];
        for (key, value) in defaults {
            object.entry(key.name()).or_insert(value);
        }
        Value::Object(object)
    }
}

impl SsoProperties {
    /// The nested properties that are set (with `MFARememberDevice` even at its default when
    /// `with_defaults`), then `other`.
    pub(crate) fn shown(&self, with_defaults: bool) -> Vec<(String, Shown)> {
        let mut items: Vec<(String, Shown)> = SsoKey::ALL
            .iter()
            .filter_map(|&key| {
                let shown = match key {
                    SsoKey::ApiToken => secret(&self.api_token),
                    SsoKey::MfaType => text(&self.mfa_type),
                    SsoKey::MfaPassCode => secret(&self.mfa_pass_code),
                    SsoKey::MfaRememberDevice => {
                        (!self.mfa_remember_device).then_some(Shown::Bool(false))
                    }
                    SsoKey::Resource => text(&self.resource),
                    SsoKey::AzureTenant => text(&self.azure_tenant),
                    SsoKey::AuthScheme => text(&self.auth_scheme),
                    SsoKey::SslClientCert => text(&self.ssl_client_cert),
                    SsoKey::SslClientCertType => text(&self.ssl_client_cert_type),
                    SsoKey::SslClientCertPassword => secret(&self.ssl_client_cert_password),
                    SsoKey::SslClientCertSubject => text(&self.ssl_client_cert_subject),
                };
                shown.map(|s| (key.name().to_string(), s))
            })
            .collect();
        items.extend(self.other.iter().map(|(k, v)| {
            let shown = if is_secret_name(k) {
                Shown::Secret
            } else {
                Shown::Text(v.clone())
            };
            (k.clone(), shown)
        }));
        if with_defaults && !items.is_empty() && self.mfa_remember_device {
            items.push((SsoKey::MfaRememberDevice.name().into(), Shown::Bool(true)));
        }
        items
    }

    /// Whether a nested property is set (or differs from its default).
    pub fn is_set(&self, key: SsoKey) -> bool {
        self.shown(false).iter().any(|(k, _)| k == key.name())
    }
}

impl fmt::Display for ConnectionOptions {
    /// The connection string, canonical names, `Name=value;` each, with secrets as `***`.
    /// Without secrets it parses back to equal options.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, shown) in self.shown() {
            write!(
                f,
                "{}={};",
                key.name(),
                quote_value(&shown.to_connection_value())
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for SsoProperties {
    /// The nested list, `Name=value;` each, with secrets as `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Shown::Nested(self.shown(false)).to_connection_value())
    }
}
