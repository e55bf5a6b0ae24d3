//! Checks on a whole set of options: ranges, URLs, properties that go together, and what each
//! [`AuthScheme`] needs.

use std::time::Duration;

use crate::apply::process_env;
use crate::keys::{ConfigKey, SsoKey};
use crate::{AuthScheme, ConnectionOptions, Error, Result};

/// Where a required value may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A top-level property.
    Key(ConfigKey),
    /// A property inside `SSOProperties`.
    Sso(SsoKey),
    /// An environment variable.
    Env(&'static str),
}

impl Source {
    pub(crate) fn describe(self) -> String {
        match self {
            Self::Key(k) => k.name().to_string(),
            Self::Sso(k) => format!("SSOProperties.{}", k.name()),
            Self::Env(v) => format!("env {v}"),
        }
    }
}

/// One requirement: any of its sources satisfies it.
pub(crate) type Requirement = &'static [Source];

use Source::{Env, Key, Sso};

/// What each scheme needs (each entry: alternatives, any one of which is enough).
pub(crate) fn requirements(scheme: AuthScheme) -> &'static [Requirement] {
    const KEYS: &[Requirement] = &[
        &[Key(ConfigKey::AwsAccessKey)],
        &[Key(ConfigKey::AwsSecretKey)],
    ];
    const USER_PASSWORD_LOGIN: &[Requirement] = &[
        &[Key(ConfigKey::User)],
        &[Key(ConfigKey::Password)],
        &[Key(ConfigKey::SsoLoginUrl)],
    ];
    const COGNITO: &[Requirement] = &[
        &[Key(ConfigKey::User)],
        &[Key(ConfigKey::Password)],
        &[Key(ConfigKey::AwsUserPoolId)],
        &[Key(ConfigKey::AwsUserPoolClientAppId)],
        &[Key(ConfigKey::AwsIdentityPoolId)],
    ];
    match scheme {
        AuthScheme::AwsRootKeys | AuthScheme::AwsIamKeys => KEYS,
        AuthScheme::AwsTempCredentials => &[
            &[Key(ConfigKey::AwsAccessKey)],
            &[Key(ConfigKey::AwsSecretKey)],
            &[Key(ConfigKey::AwsSessionToken)],
        ],
        AuthScheme::AwsMfa => &[
            &[Key(ConfigKey::MfaSerialNumber)],
            &[Key(ConfigKey::MfaToken)],
        ],
        AuthScheme::AwsIamRoles => &[&[Key(ConfigKey::AwsRoleArn)]],
        AuthScheme::AwsEc2Roles | AuthScheme::Default => &[],
        AuthScheme::AwsWebIdentity => &[
            &[Key(ConfigKey::AwsRoleArn), Env("AWS_ROLE_ARN")],
            &[
                Key(ConfigKey::AwsWebIdentityToken),
                Key(ConfigKey::AwsWebIdentityTokenFile),
                Env("AWS_WEB_IDENTITY_TOKEN_FILE"),
            ],
        ],
        AuthScheme::AwsCredentialsFile => &[&[
            Key(ConfigKey::AwsCredentialsFile),
            Env("AWS_SHARED_CREDENTIALS_FILE"),
        ]],
        AuthScheme::Adfs | AuthScheme::Okta => USER_PASSWORD_LOGIN,
        AuthScheme::AdfsIntegrated => &[&[Key(ConfigKey::SsoLoginUrl)]],
        AuthScheme::PingFederate => &[
            &[Key(ConfigKey::User)],
            &[Key(ConfigKey::Password)],
            &[Key(ConfigKey::SsoLoginUrl)],
            &[Key(ConfigKey::SsoExchangeUrl)],
        ],
        AuthScheme::AzureAd => &[
            &[Key(ConfigKey::OAuthClientId)],
            &[Key(ConfigKey::OAuthClientSecret)],
            &[Key(ConfigKey::CallbackUrl)],
            &[Sso(SsoKey::Resource)],
            &[Sso(SsoKey::AzureTenant)],
        ],
        AuthScheme::AwsCognitoSrp | AuthScheme::AwsCognitoBasic => COGNITO,
        AuthScheme::DataZoneIdc => &[
            &[Key(ConfigKey::DataZoneDomainId)],
            &[Key(ConfigKey::DataZoneEnvironmentId)],
            &[Key(ConfigKey::SsoStartUrl)],
        ],
    }
}

impl ConnectionOptions {
    /// Checks the options as a whole: ranges, URLs, properties that need each other, and what
    /// the chosen `AuthScheme` needs. What the process environment provides (e.g.
    /// `AWS_ROLE_ARN` for `AwsWebIdentity`) counts.
    pub fn validate(&self) -> Result<()> {
        self.validate_with(process_env)
    }

    /// [`Self::validate`] with an injected environment (`name -> value`).
    pub fn validate_with(&self, env: impl Fn(&str) -> Option<String>) -> Result<()> {
        self.validate_ranges()?;
        self.validate_urls()?;
        self.validate_pairs()?;
        self.validate_scheme(&env)
    }

    fn validate_ranges(&self) -> Result<()> {
        let duration = self.auth.temporary_token_duration;
        if !(900..=129_600).contains(&duration) {
            return Err(out_of_range(
                ConfigKey::TemporaryTokenDuration,
                duration,
                "a whole number of seconds from 900 to 129600",
            ));
        }
        let age = self.result_reuse.max_age_minutes;
        if age > 10_080 {
            return Err(out_of_range(
                ConfigKey::ResultReuseMaxAgeMinutes,
                age,
                "a whole number of minutes from 0 to 10080 (7 days)",
            ));
        }
        if self.max_bytes_scanned == Some(0) {
            return Err(out_of_range(
                ConfigKey::MaxBytesScanned,
                0,
                "more than 0 bytes (leave MaxBytesScanned out for no limit)",
            ));
        }
        if let Some(p) = self.price_per_tb
            && !(p.is_finite() && p >= 0.0)
        {
            return Err(out_of_range(
                ConfigKey::PricePerTB,
                p,
                "US dollars per TB, 0 or more",
            ));
        }
        if self.query_timeout == Some(Duration::ZERO) {
            return Err(out_of_range(
                ConfigKey::QueryTimeout,
                0,
                "a whole number of seconds, more than 0 (leave QueryTimeout out to wait forever)",
            ));
        }
        Ok(())
    }

    fn validate_urls(&self) -> Result<()> {
        let e = &self.endpoints;
        let auth = &self.auth;
        let http_urls = [
            (ConfigKey::Endpoint, &e.all),
            (ConfigKey::AthenaEndpoint, &e.athena),
            (ConfigKey::GlueEndpoint, &e.glue),
            (ConfigKey::S3Endpoint, &e.s3),
            (ConfigKey::StsEndpoint, &e.sts),
            (ConfigKey::ImdsEndpoint, &e.imds),
            (ConfigKey::SsoLoginUrl, &auth.sso_login_url),
            (ConfigKey::CallbackUrl, &auth.callback_url),
            (ConfigKey::DataZoneDomainUrl, &auth.datazone.domain_url),
            (ConfigKey::SsoStartUrl, &auth.datazone.sso_start_url),
        ];
        for (key, value) in http_urls {
            if let Some(url) = value {
                check_http_url(key.name(), url)?;
            }
        }
        if let Some(uri) = &auth.sso_exchange_url {
            check_uri(ConfigKey::SsoExchangeUrl.name(), uri)?;
        }
        Ok(())
    }

    fn validate_pairs(&self) -> Result<()> {
        let a = &self.auth;
        if a.secret_key.is_some() && a.access_key.is_none() {
            return Err(requires(
                ConfigKey::AwsSecretKey,
                ConfigKey::AwsAccessKey,
                "set AWSAccessKey too, or remove AWSSecretKey",
            ));
        }
        if a.access_key.is_some() && a.secret_key.is_none() {
            return Err(requires(
                ConfigKey::AwsAccessKey,
                ConfigKey::AwsSecretKey,
                "set AWSSecretKey too, or remove AWSAccessKey",
            ));
        }
        if a.session_token.is_some() && a.access_key.is_none() {
            return Err(requires(
                ConfigKey::AwsSessionToken,
                ConfigKey::AwsAccessKey,
                "a session token goes with AWSAccessKey and AWSSecretKey: set them too",
            ));
        }
        if a.mfa_token.is_some() && a.mfa_serial_number.is_none() {
            return Err(requires(
                ConfigKey::MfaToken,
                ConfigKey::MfaSerialNumber,
                "set MFASerialNumber to the MFA device the code comes from",
            ));
        }
        if let Some(option) = self.encryption_option {
            if option.needs_kms_key() && self.kms_key.is_none() {
                return Err(Error::Requires {
                    key: ConfigKey::EncryptionOption.name().into(),
                    requires: ConfigKey::KmsKey.name().into(),
                    hint: format!(
                        "EncryptionOption={} needs KmsKey: set it to a KMS key ID or ARN",
                        option.as_str()
                    ),
                });
            }
            if !option.needs_kms_key() && self.kms_key.is_some() {
                return Err(Error::Conflict {
                    key: ConfigKey::KmsKey.name().into(),
                    other: format!("EncryptionOption={}", option.as_str()),
                    hint:
                        "use EncryptionOption=SSE_KMS or CSE_KMS with a KMS key, or remove KmsKey"
                            .into(),
                });
            }
        } else if self.kms_key.is_some() {
            return Err(requires(
                ConfigKey::KmsKey,
                ConfigKey::EncryptionOption,
                "set EncryptionOption=SSE_KMS or CSE_KMS, or remove KmsKey",
            ));
        }
        if a.effective_scheme() == AuthScheme::AwsRootKeys && a.role_arn.is_some() {
            return Err(Error::Conflict {
                key: ConfigKey::AwsRoleArn.name().into(),
                other: "AuthScheme=AwsRootKeys".into(),
                hint: "root account keys cannot assume roles: use an IAM user's keys with AuthScheme=AwsIAMRoles".into(),
            });
        }
        Ok(())
    }

    fn validate_scheme(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
        let scheme = self.auth.effective_scheme();
        let missing: Vec<String> = requirements(scheme)
            .iter()
            .filter(|alternatives| !alternatives.iter().any(|s| self.provides(*s, env)))
            .map(|alternatives| {
                let mut names = alternatives.iter().map(|s| s.describe());
                let first = names.next().unwrap_or_default();
                let rest: Vec<String> = names.collect();
                if rest.is_empty() {
                    first
                } else {
                    format!("{first} (or {})", rest.join(" or "))
                }
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::MissingForScheme {
                scheme: scheme.as_str().to_string(),
                missing,
            })
        }
    }

    fn provides(&self, source: Source, env: &dyn Fn(&str) -> Option<String>) -> bool {
        match source {
            Key(k) => self.is_set(k),
            Sso(k) => self.auth.sso_properties.is_set(k),
            Env(name) => env(name).is_some_and(|v| !v.trim().is_empty()),
        }
    }
}

fn out_of_range(key: ConfigKey, value: impl ToString, range: &str) -> Error {
    Error::OutOfRange {
        key: key.name().into(),
        value: value.to_string(),
        range: range.into(),
    }
}

fn requires(key: ConfigKey, needs: ConfigKey, hint: &str) -> Error {
    Error::Requires {
        key: key.name().into(),
        requires: needs.name().into(),
        hint: hint.into(),
    }
}

/// An `http://` or `https://` URL with a host and no whitespace.
pub(crate) fn check_http_url(key: &str, url: &str) -> Result<()> {
    let bad = |reason: &str| Error::InvalidUrl {
        key: key.to_string(),
        value: url.to_string(),
        reason: reason.to_string(),
    };
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| bad("is not an http(s) URL: write it as https://host[:port][/path]"))?;
    if url.chars().any(char::is_whitespace) {
        return Err(bad("contains whitespace: remove it (or percent-encode it)"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(bad("has no host: write it as https://host[:port][/path]"));
    }
    let port = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once("]:").map(|(_, p)| p),
        None => host_port.split_once(':').map(|(_, p)| p),
    };
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(bad("has a port that is not a number from 0 to 65535"));
    }
    Ok(())
}

/// An absolute URI: `scheme:rest` (e.g. `urn:amazon:webservices` or an https URL).
fn check_uri(key: &str, uri: &str) -> Result<()> {
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return check_http_url(key, uri);
    }
    let valid = uri.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    }) && !uri.chars().any(char::is_whitespace);
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidUrl {
            key: key.to_string(),
            value: uri.to_string(),
            reason: "is not a URI: use a URL such as https://signin.aws.amazon.com/saml or a URN such as urn:amazon:webservices".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls() {
        for ok in [
            "https://adfs.domain.com",
            "http://127.0.0.1:4566",
            "https://host:9033/idp/sts.wst",
            "http://[::1]:8080/x",
            "HTTPS://Example.com?q=1",
        ] {
            assert_eq!(check_http_url("K", ok), Ok(()), "{ok}");
        }
        for bad in [
            "ftp://x",
            "adfs.domain.com",
            "https://",
            "https://:80",
            "http://h:99999",
            "http://h:x",
            "https://a b",
        ] {
            assert!(
                matches!(check_http_url("K", bad), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn uris() {
        assert_eq!(check_uri("K", "urn:amazon:webservices"), Ok(()));
        assert_eq!(check_uri("K", "https://signin.aws.amazon.com/saml"), Ok(()));
        assert!(check_uri("K", "not a uri").is_err());
        assert!(check_uri("K", "1x:y").is_err());
    }
}
