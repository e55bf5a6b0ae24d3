//! Turning `Name=value` text into typed options: the constructors of [`ConnectionOptions`]
//! (`parse`, `FromStr`, `from_map`) and the per-property conversions they share with the
//! builder.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::keys::{ConfigKey, SsoKey, is_secret_name};
use crate::parse::{tokenize, tokenize_nested};
use crate::{
    AuthScheme, ConnectionOptions, EncryptionOption, Error, REGIONS, Region, Result, ResultFetcher,
    S3Location, Secret, SsoProperties,
};

/// The process environment, for validation of what the environment may provide.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl ConnectionOptions {
    /// Parses and validates a connection string such as
    /// `AWSRegion=IRELAND;Database=sampledb;S3StagingDirectory='s3://bucket/staging/';`.
    ///
    /// Validation may count on the process environment for what the chosen scheme needs
    /// (e.g. `AWS_ROLE_ARN` for `AwsWebIdentity`); use [`Self::parse_with_env`] to control it.
    pub fn parse(s: &str) -> Result<Self> {
        Self::parse_with_env(s, process_env)
    }

    /// [`Self::parse`] with an injected environment (`name -> value`).
    pub fn parse_with_env(s: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let options = Self::parse_unvalidated(s)?;
        options.validate_with(env)?;
        Ok(options)
    }

    /// Parses a connection string without checking what the chosen `AuthScheme` needs, ranges
    /// or URLs (call [`Self::validate`] later).
    pub fn parse_unvalidated(s: &str) -> Result<Self> {
        let pairs = tokenize(s, &is_secret_name)?;
        Self::from_pairs(pairs.into_iter().map(|p| (p.key, p.value)))
    }

    /// Builds options from a map of property names (any alias, case-insensitive) to values
    /// (unquoted; `SSOProperties` holds its nested list), and validates them.
    pub fn from_map(map: HashMap<String, String>) -> Result<Self> {
        Self::from_map_with_env(map, process_env)
    }

    /// [`Self::from_map`] with an injected environment.
    pub fn from_map_with_env(
        map: HashMap<String, String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let mut pairs: Vec<(String, String)> = map.into_iter().collect();
        // A map has no order: sort so that errors are the same on every run.
        pairs.sort();
        let options = Self::from_pairs(pairs.into_iter())?;
        options.validate_with(env)?;
        Ok(options)
    }

    fn from_pairs(pairs: impl Iterator<Item = (String, String)>) -> Result<Self> {
        let mut options = Self::default();
        let mut keys = KeyResolver::default();
        for (written, value) in pairs {
            if let Some(key) = keys.resolve(written, &value)? {
                options.set(key, &value)?;
            }
        }
        Ok(options)
    }

    /// Sets one property from its text (unquoted) value. An empty value unsets it (back to its
    /// default).
    pub(crate) fn set(&mut self, key: ConfigKey, value: &str) -> Result<()> {
        let v = value.trim();
        let name = key.name();
        let text = || (!v.is_empty()).then(|| v.to_string());
        let secret = || (!v.is_empty()).then(|| Secret::new(v));
        let path = || (!v.is_empty()).then(|| PathBuf::from(v));
        let auth = &mut self.auth;
        match key {
            ConfigKey::AwsRegion => self.region = optional(v, |v| parse_region(name, v))?,
            ConfigKey::DataSource => self.data_source = text(),
            ConfigKey::Database => self.database = text(),
            ConfigKey::S3StagingDirectory => {
                self.s3_staging_directory = optional(v, |v| {
                    S3Location::parse(v).map_err(|reason| Error::InvalidS3Url {
                        key: name.into(),
                        reason,
                    })
                })?
            }
            ConfigKey::WorkGroup => self.work_group = text(),
            ConfigKey::EncryptionOption => {
                self.encryption_option = optional(v, |v| {
                    EncryptionOption::from_name(v).ok_or_else(|| {
                        invalid_enum(name, v, EncryptionOption::ALL.iter().map(|o| o.as_str()))
                    })
                })?
            }
            ConfigKey::KmsKey => self.kms_key = text(),
            ConfigKey::ResultReuseEnabled => {
                self.result_reuse.enabled = optional(v, |v| parse_bool(name, v))?.unwrap_or(false)
            }
            ConfigKey::ResultReuseMaxAgeMinutes => {
                self.result_reuse.max_age_minutes = optional(v, |v| {
                    parse_u32(name, v, "a whole number of minutes from 0 to 10080")
                })?
                .unwrap_or(crate::options::DEFAULT_RESULT_REUSE_MAX_AGE_MINUTES)
            }
            ConfigKey::ResultFetcher => {
                self.result_fetcher = optional(v, |v| {
                    ResultFetcher::from_name(v).ok_or_else(|| {
                        invalid_enum(
                            name,
                            v,
                            [
                                ResultFetcher::Auto,
                                ResultFetcher::S3,
                                ResultFetcher::GetQueryResults,
                                ResultFetcher::Unload,
                            ]
                            .iter()
                            .map(|f| f.as_str()),
                        )
                    })
                })?
                .unwrap_or_default()
            }
            ConfigKey::AutoUnloadMinRows => {
                self.auto_unload_min_rows = optional(v, |v| {
                    parse_u64(name, v, "a whole number of rows (0: never)")
                })?
            }
            ConfigKey::QueryTimeout => {
                self.query_timeout = optional(v, |v| {
                    parse_u64(name, v, "a whole number of seconds, more than 0")
                        .map(Duration::from_secs)
                })?
            }
            ConfigKey::MaxBytesScanned => {
                self.max_bytes_scanned = optional(v, |v| parse_bytes(name, v))?
            }
            ConfigKey::PricePerTB => {
                self.price_per_tb = optional(v, |v| {
                    v.trim()
                        .trim_start_matches('$')
                        .parse::<f64>()
                        .ok()
                        .filter(|p| p.is_finite() && *p >= 0.0)
                        .ok_or_else(|| Error::InvalidNumber {
                            key: name.to_string(),
                            value: v.to_string(),
                            expected: "US dollars per TB, e.g. 5.00".into(),
                        })
                })?
            }
            ConfigKey::Endpoint => self.endpoints.all = text(),
            ConfigKey::AthenaEndpoint => self.endpoints.athena = text(),
            ConfigKey::GlueEndpoint => self.endpoints.glue = text(),
            ConfigKey::S3Endpoint => self.endpoints.s3 = text(),
            ConfigKey::StsEndpoint => self.endpoints.sts = text(),
            ConfigKey::ImdsEndpoint => self.endpoints.imds = text(),
            ConfigKey::AuthScheme => {
                auth.scheme = optional(v, |v| {
                    AuthScheme::from_name(v).ok_or_else(|| {
                        invalid_enum(name, v, AuthScheme::ALL.iter().map(|(_, n)| *n))
                    })
                })?
            }
            ConfigKey::AwsAccessKey => auth.access_key = text(),
            ConfigKey::AwsSecretKey => auth.secret_key = secret(),
            ConfigKey::AwsSessionToken => auth.session_token = secret(),
            ConfigKey::AwsRoleArn => auth.role_arn = text(),
            ConfigKey::AwsExternalId => auth.external_id = text(),
            ConfigKey::AwsPrincipalArn => auth.principal_arn = text(),
            ConfigKey::MfaSerialNumber => auth.mfa_serial_number = text(),
            ConfigKey::MfaToken => auth.mfa_token = secret(),
            ConfigKey::TemporaryTokenDuration => {
                auth.temporary_token_duration = optional(v, |v| {
                    parse_u32(name, v, "a whole number of seconds from 900 to 129600")
                })?
                .unwrap_or(crate::options::DEFAULT_TEMPORARY_TOKEN_DURATION)
            }
            ConfigKey::CredentialsLocation => auth.credentials_location = path(),
            ConfigKey::AwsWebIdentityToken => auth.web_identity_token = secret(),
            ConfigKey::AwsWebIdentityTokenFile => auth.web_identity_token_file = path(),
            ConfigKey::User => auth.user = text(),
            ConfigKey::Password => auth.password = secret(),
            ConfigKey::SsoLoginUrl => auth.sso_login_url = text(),
            ConfigKey::SsoExchangeUrl => auth.sso_exchange_url = text(),
            ConfigKey::SsoProperties => auth.sso_properties = SsoProperties::parse(v)?,
            ConfigKey::OAuthClientId => auth.oauth_client_id = text(),
            ConfigKey::OAuthClientSecret => auth.oauth_client_secret = secret(),
            ConfigKey::CallbackUrl => auth.callback_url = text(),
            ConfigKey::InitiateOAuth => {
                auth.initiate_oauth = optional(v, |v| {
                    INITIATE_OAUTH
                        .iter()
                        .find(|o| o.eq_ignore_ascii_case(v))
                        .map(|o| o.to_string())
                        .ok_or_else(|| invalid_enum(name, v, INITIATE_OAUTH.iter().copied()))
                })?
            }
            ConfigKey::OAuthSettingsLocation => auth.oauth_settings_location = path(),
            ConfigKey::AwsCredentialsFile => auth.credentials_file = path(),
            ConfigKey::AwsCredentialsFileProfile => auth.credentials_file_profile = text(),
            ConfigKey::AwsCognitoRegion => auth.cognito.region = region_code(name, v)?,
            ConfigKey::AwsUserPoolId => auth.cognito.user_pool_id = text(),
            ConfigKey::AwsUserPoolClientAppId => auth.cognito.user_pool_client_app_id = text(),
            ConfigKey::AwsUserPoolClientAppSecret => {
                auth.cognito.user_pool_client_app_secret = secret()
            }
            ConfigKey::AwsIdentityPoolId => auth.cognito.identity_pool_id = text(),
            ConfigKey::DataZoneDomainId => auth.datazone.domain_id = text(),
            ConfigKey::DataZoneEnvironmentId => auth.datazone.environment_id = text(),
            ConfigKey::DataZoneDomainUrl => auth.datazone.domain_url = text(),
            ConfigKey::DataZoneRegion => auth.datazone.region = region_code(name, v)?,
            ConfigKey::SsoStartUrl => auth.datazone.sso_start_url = text(),
            ConfigKey::SsoRegion => auth.datazone.sso_region = region_code(name, v)?,
        }
        Ok(())
    }
}

/// The accepted values of `InitiateOAuth`.
pub(crate) const INITIATE_OAUTH: &[&str] = &["OFF", "GETANDREFRESH", "REFRESH"];

/// The accepted values of `SSOProperties.MFAType`.
pub(crate) const MFA_TYPES: &[&str] = &["OktaVerify", "Email", "SMS"];

/// The accepted values of `SSOProperties.SSLClientCertType`.
pub(crate) const SSL_CLIENT_CERT_TYPES: &[&str] =
    &["PEMKEY_FILE", "PEMKEY_BLOB", "PFXFILE", "PFXBLOB"];

impl SsoProperties {
    /// Parses the nested list of `SSOProperties`, e.g. `ApiToken=abc;MFAType=OktaVerify;`.
    /// Names in errors are written `SSOProperties.<Key>`.
    pub fn parse(s: &str) -> Result<Self> {
        let mut props = Self::default();
        let mut seen: HashMap<SsoKey, (String, String)> = HashMap::new();
        for pair in tokenize_nested(s, "SSOProperties.", &is_secret_name)? {
            let key = SsoKey::from_str(&pair.key)?;
            if let Some((first, earlier)) = seen.get(&key) {
                if *earlier == pair.value {
                    continue;
                }
                return Err(Error::DuplicateKey {
                    key: format!("SSOProperties.{}", key.name()),
                    first: format!("SSOProperties.{first}"),
                    second: format!("SSOProperties.{}", pair.key),
                    values: (!key.is_secret()).then(|| (earlier.clone(), pair.value.clone())),
                });
            }
            props.set(key, &pair.value)?;
            seen.insert(key, (pair.key, pair.value));
        }
        Ok(props)
    }

    /// Sets one nested property from its text value; empty unsets it.
    pub(crate) fn set(&mut self, key: SsoKey, value: &str) -> Result<()> {
        let v = value.trim();
        let name = format!("SSOProperties.{}", key.name());
        let text = || (!v.is_empty()).then(|| v.to_string());
        let secret = || (!v.is_empty()).then(|| Secret::new(v));
        let one_of = |accepted: &[&str]| {
            optional(v, |v| {
                accepted
                    .iter()
                    .find(|a| a.eq_ignore_ascii_case(v))
                    .map(|a| a.to_string())
                    .ok_or_else(|| invalid_enum(&name, v, accepted.iter().copied()))
            })
        };
        match key {
            SsoKey::ApiToken => self.api_token = secret(),
            SsoKey::MfaType => self.mfa_type = one_of(MFA_TYPES)?,
            SsoKey::MfaPassCode => self.mfa_pass_code = secret(),
            SsoKey::MfaRememberDevice => {
                self.mfa_remember_device = optional(v, |v| parse_bool(&name, v))?.unwrap_or(true)
            }
            SsoKey::Resource => self.resource = text(),
            SsoKey::AzureTenant => self.azure_tenant = text(),
            SsoKey::AuthScheme => self.auth_scheme = one_of(&["Basic"])?,
            SsoKey::SslClientCert => self.ssl_client_cert = text(),
            SsoKey::SslClientCertType => self.ssl_client_cert_type = one_of(SSL_CLIENT_CERT_TYPES)?,
            SsoKey::SslClientCertPassword => self.ssl_client_cert_password = secret(),
            SsoKey::SslClientCertSubject => self.ssl_client_cert_subject = text(),
        }
        Ok(())
    }
}

/// The properties of a connection string in the order written, each as its [`ConfigKey`] and its
/// text value (unquoted, as [`ConnectionOptionsBuilder::with_config`] takes it), without
/// converting or validating the values.
///
/// The text and the names are read as [`ConnectionOptions::parse`] reads them (quoting,
/// aliases, case) and fail with the same errors: an unknown name, a property written twice with
/// different values (written twice with one value, it is listed once).
///
/// ```
/// use datafusion_athena_config::{ConfigKey, parse_properties};
/// let pairs = parse_properties("awsregion=IRELAND;WorkGroup='a;b';").unwrap();
/// assert_eq!(
///     pairs,
///     [(ConfigKey::AwsRegion, "IRELAND".to_string()), (ConfigKey::WorkGroup, "a;b".to_string())]
/// );
/// ```
///
/// [`ConnectionOptionsBuilder::with_config`]: crate::ConnectionOptionsBuilder::with_config
pub fn parse_properties(s: &str) -> Result<Vec<(ConfigKey, String)>> {
    let mut keys = KeyResolver::default();
    let mut properties = Vec::new();
    for pair in tokenize(s, &is_secret_name)? {
        if let Some(key) = keys.resolve(pair.key, &pair.value)? {
            properties.push((key, pair.value));
        }
    }
    Ok(properties)
}

/// Matches written names to keys, one pair after the other, remembering what came before.
#[derive(Default)]
struct KeyResolver {
    /// The keys seen, with the name and value they were written with.
    seen: HashMap<ConfigKey, (String, String)>,
    /// The name written last.
    previous: Option<String>,
}

impl KeyResolver {
    /// The key of `written`, or `None` for a repetition with the same value (to skip); an
    /// unknown name or a repetition with another value is an error.
    fn resolve(&mut self, written: String, value: &str) -> Result<Option<ConfigKey>> {
        let key = match ConfigKey::from_str(&written) {
            Ok(key) => key,
            Err(Error::UnknownKey { suggestion, .. })
                if self.previous.as_deref().is_some_and(is_secret_name) =>
            {
                // Maybe the rest of a secret that holds an unquoted ';': never show it.
                return Err(Error::UnquotedSeparator {
                    after: self.previous.take().unwrap_or_default(),
                    suggestion,
                });
            }
            Err(e) => return Err(e),
        };
        if let Some((first, earlier)) = self.seen.get(&key) {
            if earlier == value {
                return Ok(None);
            }
            return Err(Error::DuplicateKey {
                key: key.name().to_string(),
                first: first.clone(),
                second: written,
                values: (!key.is_secret()).then(|| (earlier.clone(), value.to_string())),
            });
        }
        self.seen.insert(key, (written.clone(), value.to_string()));
        self.previous = Some(written);
        Ok(Some(key))
    }
}

impl FromStr for ConnectionOptions {
    type Err = Error;

    /// [`ConnectionOptions::parse`].
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// `None` for an empty value, otherwise the parsed value.
fn optional<T>(v: &str, parse: impl FnOnce(&str) -> Result<T>) -> Result<Option<T>> {
    if v.is_empty() {
        Ok(None)
    } else {
        parse(v).map(Some)
    }
}

fn invalid_enum<'a>(key: &str, value: &str, accepted: impl Iterator<Item = &'a str>) -> Error {
    Error::InvalidEnum {
        key: key.to_string(),
        value: value.to_string(),
        accepted: accepted.map(str::to_string).collect(),
    }
}

/// Parses a region code or friendly name; the error names the nearest friendly name.
pub(crate) fn parse_region(key: &str, value: &str) -> Result<Region> {
    Region::parse(value).map_err(|_| Error::InvalidRegion {
        key: key.to_string(),
        value: value.to_string(),
        suggestion: crate::keys::nearest(
            &value.replace([' ', '_', '-'], ""),
            REGIONS.iter().map(|(n, _)| (*n, *n)),
        )
        .map(str::to_string),
    })
}

fn region_code(key: &str, v: &str) -> Result<Option<String>> {
    optional(v, |v| parse_region(key, v).map(|r| r.code().to_string()))
}

/// Accepts true/false, yes/no, on/off and 1/0, case-insensitively.
pub(crate) fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(Error::InvalidBoolean {
            key: key.to_string(),
            value: value.to_string(),
        }),
    }
}

/// A whole number; a negative or huge number is out of range, anything else is not a number.
/// A byte count: digits, optionally followed by `B`, `KB`, `MB`, `GB` or `TB` (powers of 1024;
/// `KiB`... accepted too), case-insensitively and with optional spaces (`10GB`, `512 mb`).
pub(crate) fn parse_bytes(key: &str, value: &str) -> Result<u64> {
    const EXPECTED: &str = "bytes, or a number with KB, MB, GB or TB (e.g. 10GB)";
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => {
            return Err(Error::InvalidNumber {
                key: key.to_string(),
                value: v.to_string(),
                expected: EXPECTED.into(),
            });
        }
    };
    let n = parse_u64(key, digits, EXPECTED)?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| Error::OutOfRange {
            key: key.to_string(),
            value: v.to_string(),
            range: "at most 16 EB".into(),
        })
}

pub(crate) fn parse_u64(key: &str, value: &str, expected: &str) -> Result<u64> {
    let v = value.trim();
    v.parse::<u64>().map_err(|_| {
        let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            Error::OutOfRange {
                key: key.to_string(),
                value: v.to_string(),
                range: expected.to_string(),
            }
        } else {
            Error::InvalidNumber {
                key: key.to_string(),
                value: v.to_string(),
                expected: expected.to_string(),
            }
        }
    })
}

/// [`parse_u64`] limited to `u32`.
pub(crate) fn parse_u32(key: &str, value: &str, expected: &str) -> Result<u32> {
    let n = parse_u64(key, value, expected)?;
    u32::try_from(n).map_err(|_| Error::OutOfRange {
        key: key.to_string(),
        value: n.to_string(),
        range: expected.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_take_units_and_name_the_property_when_wrong() {
        let b = |v| parse_bytes("MaxBytesScanned", v);
        assert_eq!(b("1048576").unwrap(), 1 << 20);
        assert_eq!(b("10GB").unwrap(), 10 << 30);
        assert_eq!(b("512 mb").unwrap(), 512 << 20);
        assert_eq!(b("2TiB").unwrap(), 2 << 40);
        assert_eq!(b("7KB").unwrap(), 7 << 10);
        for bad in ["ten GB", "10 XB", "-5MB", "", "1.5GB"] {
            let e = b(bad).unwrap_err().to_string();
            assert!(e.contains("MaxBytesScanned"), "{bad}: {e}");
        }
        let e = b("99999999TB").unwrap_err().to_string();
        assert!(e.contains("16 EB"), "{e}");
    }

    #[test]
    fn the_cost_of_a_query_is_billed_per_megabyte_with_a_minimum_of_ten() {
        let o: ConnectionOptions = "PricePerTB=5".parse().unwrap();
        let per_mb = 5.0 / (1u64 << 20) as f64;
        assert!((o.query_cost(0) - 10.0 * per_mb).abs() < 1e-12);
        assert!((o.query_cost((10 << 20) + 1) - 11.0 * per_mb).abs() < 1e-12);
        assert!((o.query_cost(1 << 40) - 5.0).abs() < 1e-9);
        let dear: ConnectionOptions = "PricePerTB=$6.75".parse().unwrap();
        assert!((dear.query_cost(1 << 40) - 6.75).abs() < 1e-9);
        let e = "PricePerTB=cheap"
            .parse::<ConnectionOptions>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("PricePerTB"), "{e}");
        let e = "MaxBytesScanned=0"
            .parse::<ConnectionOptions>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("MaxBytesScanned"), "{e}");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64("Q", " 42 ", "x"), Ok(42));
        assert!(matches!(
            parse_u64("Q", "abc", "x"),
            Err(Error::InvalidNumber { .. })
        ));
        assert!(matches!(
            parse_u64("Q", "1.5", "x"),
            Err(Error::InvalidNumber { .. })
        ));
        assert!(matches!(
            parse_u64("Q", "-5", "x"),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_u64("Q", "99999999999999999999999999999999999999999", "x"),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_u32("Q", "4294967296", "x"),
            Err(Error::OutOfRange { .. })
        ));
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "yes", "On", "1"] {
            assert_eq!(parse_bool("B", t), Ok(true));
        }
        for f in ["false", "No", "off", "0"] {
            assert_eq!(parse_bool("B", f), Ok(false));
        }
        assert_eq!(
            parse_bool("B", "maybe"),
            Err(Error::InvalidBoolean {
                key: "B".into(),
                value: "maybe".into()
            })
        );
    }

    #[test]
    fn region_errors_suggest_a_name() {
        let err = parse_region("AWSRegion", "IRLAND").unwrap_err();
        assert_eq!(
            err,
            Error::InvalidRegion {
                key: "AWSRegion".into(),
                value: "IRLAND".into(),
                suggestion: Some("IRELAND".into())
            }
        );
    }

    #[test]
    fn properties_are_listed_as_written_with_their_keys() {
        let got = parse_properties(
            " region = IRELAND ;Schema=sales;SSOProperties='ApiToken=a;MFAType=OktaVerify;';\
             Password=\"p;w\"\"d\";Database=sales;WorkGroup=a=b",
        )
        .unwrap();
        let want = [
            (ConfigKey::AwsRegion, "IRELAND"),
            (ConfigKey::Database, "sales"),
            (ConfigKey::SsoProperties, "ApiToken=a;MFAType=OktaVerify;"),
            (ConfigKey::Password, "p;w\"d"),
            (ConfigKey::WorkGroup, "a=b"),
        ];
        let want: Vec<(ConfigKey, String)> =
            want.iter().map(|&(k, v)| (k, v.to_string())).collect();
        assert_eq!(got, want);
        // Values are not converted, so not checked.
        assert_eq!(
            parse_properties("QueryTimeout=soon").unwrap(),
            [(ConfigKey::QueryTimeout, "soon".to_string())]
        );
    }

    #[test]
    fn properties_fail_as_parse_does() {
        for bad in [
            "Database=a;Schema=b",
            "Databse=a",
            "Password=p;w;Database=a",
            "WorkGroup='open",
        ] {
            assert_eq!(
                parse_properties(bad).map(|_| ()),
                ConnectionOptions::parse_unvalidated(bad).map(|_| ()),
                "{bad}"
            );
            assert!(parse_properties(bad).is_err(), "{bad}");
        }
    }
}
