//! The table of every property: [`ConfigKey`] (top level) and [`SsoKey`] (inside
//! `SSOProperties`), each with its canonical name, aliases, whether it is secret, a one-line doc,
//! its default and an example. docs/connection-string.md is generated from this table.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// Defines a property enum and its table from one list, so names, docs and defaults cannot drift.
macro_rules! property_table {
    (
        $(#[$meta:meta])*
        pub enum $Enum:ident {
            $(
                $Variant:ident {
                    name: $name:literal,
                    aliases: [$($alias:literal),* $(,)?],
                    secret: $secret:literal,
                    group: $group:literal,
                    values: $values:literal,
                    default: $default:expr,
                    example: $example:literal,
                    doc: $doc:literal $(,)?
                }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $Enum {
            $(
                #[doc = concat!("`", $name, "`: ", $doc)]
                $Variant,
            )*
        }

        impl $Enum {
            /// Every property, in documentation order.
            pub const ALL: &'static [Self] = &[$(Self::$Variant),*];

            /// The canonical name, as printed in output.
            pub fn name(self) -> &'static str {
                match self { $(Self::$Variant => $name),* }
            }

            /// Other accepted names (compared case-insensitively, like the canonical name).
            pub fn aliases(self) -> &'static [&'static str] {
                match self { $(Self::$Variant => &[$($alias),*]),* }
            }

            /// Whether the value is secret: never printed, always shown as `***`.
            pub fn is_secret(self) -> bool {
                match self { $(Self::$Variant => $secret),* }
            }

            /// The documentation section the property belongs to.
            pub fn group(self) -> &'static str {
                match self { $(Self::$Variant => $group),* }
            }

            /// What values are accepted.
            pub fn values(self) -> &'static str {
                match self { $(Self::$Variant => $values),* }
            }

            /// The default, or what happens when the property is not set.
            pub fn default_value(self) -> Option<&'static str> {
                match self { $(Self::$Variant => $default),* }
            }

            /// An example value.
            pub fn example(self) -> &'static str {
                match self { $(Self::$Variant => $example),* }
            }

            /// A one-line description.
            pub fn doc(self) -> &'static str {
                match self { $(Self::$Variant => $doc),* }
            }

            /// Looks a name up case-insensitively among canonical names and aliases.
            pub fn from_name(name: &str) -> Option<Self> {
                let name = name.trim();
                Self::ALL.iter().copied().find(|k| {
                    k.name().eq_ignore_ascii_case(name)
                        || k.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
                })
            }

            /// The canonical name closest to `name` by edit distance, when it is close enough to
            /// be a likely typo.
            pub fn nearest(name: &str) -> Option<Self> {
                nearest(name, Self::ALL.iter().flat_map(|k| {
                    std::iter::once((*k, k.name())).chain(k.aliases().iter().map(move |a| (*k, *a)))
                }))
            }
        }

        impl fmt::Display for $Enum {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

property_table! {
    /// A top-level connection-string property (`object_store` style): parse one with
    /// [`FromStr`] (any alias, case-insensitive) and set it with
    /// [`ConnectionOptionsBuilder::with_config`](crate::ConnectionOptionsBuilder::with_config).
    pub enum ConfigKey {
        AwsRegion {
            name: "AWSRegion", aliases: ["Region"], secret: false, group: "Connection",
            values: "an AWS region code or a friendly name (case-insensitive)",
            default: Some("AWS_REGION / AWS_DEFAULT_REGION, then the AWS config file"),
            example: "IRELAND",
            doc: "The region where your Athena data is hosted.",
        },
        DataSource {
            name: "DataSource", aliases: ["Catalog"], secret: false, group: "Connection",
            values: "a data catalog name", default: Some("every data source"),
            example: "AwsDataCatalog",
            doc: "The Athena data source (data catalog) to connect to.",
        },
        Database {
            name: "Database", aliases: ["Schema"], secret: false, group: "Connection",
            values: "a database name", default: Some("every database of the data source"),
            example: "sampledb",
            doc: "The Athena database to connect to; the default schema for unqualified table names.",
        },
        S3StagingDirectory {
            name: "S3StagingDirectory", aliases: ["OutputLocation", "S3OutputLocation"],
            secret: false, group: "Connection",
            values: "s3://bucket/prefix/", default: Some("the workgroup's output location"),
            example: "s3://bucket/staging/",
            doc: "The S3 folder where Athena writes query results.",
        },
        WorkGroup {
            name: "WorkGroup", aliases: [], secret: false, group: "Connection",
            values: "a workgroup name", default: Some("primary"), example: "analytics",
            doc: "The Athena workgroup queries run in.",
        },
        EncryptionOption {
            name: "EncryptionOption", aliases: ["S3OutputEncOption"], secret: false,
            group: "Query results",
            values: "SSE_S3, SSE_KMS or CSE_KMS", default: Some("the workgroup's setting"),
            example: "SSE_KMS",
            doc: "How Athena encrypts query results in S3.",
        },
        KmsKey {
            name: "KmsKey", aliases: ["S3OutputEncKMSKey"], secret: false, group: "Query results",
            values: "a KMS key ID or ARN", default: None,
            example: "arn:aws:kms:eu-west-1:123456789012:key/abcd",
            doc: "The KMS key for EncryptionOption=SSE_KMS or CSE_KMS.",
        },
        ResultReuseEnabled {
            name: "ResultReuseEnabled", aliases: ["EnableResultReuseByAge", "ResultReuse"],
            secret: false, group: "Query results",
            values: "true or false", default: Some("false"), example: "true",
            doc: "Whether Athena may answer with the result of a previous identical query.",
        },
        ResultReuseMaxAgeMinutes {
            name: "ResultReuseMaxAgeMinutes", aliases: ["MaxResultReuseAgeInMinutes"],
            secret: false, group: "Query results",
            values: "0 to 10080 minutes", default: Some("60"), example: "120",
            doc: "How old a reused result may be.",
        },
        ResultFetcher {
            name: "ResultFetcher", aliases: [], secret: false, group: "Query results",
            values: "Auto, S3, GetQueryResults or Unload", default: Some("Auto"), example: "S3",
            doc: "How results travel back: the fastest that works, the result CSV in S3, GetQueryResults pages, or UNLOAD to Parquet.",
        },
        AutoUnloadMinRows {
            name: "AutoUnloadMinRows", aliases: [], secret: false, group: "Query results",
            values: "a whole number of rows; 0 never", default: Some("1000000"),
            example: "5000000",
            doc: "With ResultFetcher=Auto, a scan that table statistics expect to return at least this many rows is read through UNLOAD (Parquet) instead of the result CSV.",
        },
        QueryTimeout {
            name: "QueryTimeout", aliases: [], secret: false, group: "Query results",
            values: "a whole number of seconds, more than 0", default: Some("no timeout"),
            example: "300",
            doc: "A query still running after this many seconds is stopped.",
        },
        MaxBytesScanned {
            name: "MaxBytesScanned", aliases: ["BytesScannedLimit"], secret: false,
            group: "Query results",
            values: "bytes, or a number with KB, MB, GB or TB (powers of 1024)",
            default: Some("no limit"), example: "10GB",
            doc: "A query that scans more than this is stopped while it runs and fails with an error naming the limit (the workgroup's own cutoff applies as well).",
        },
        PricePerTB {
            name: "PricePerTB", aliases: [], secret: false, group: "Query results",
            values: "US dollars per TB (2^40 bytes) scanned", default: Some("5.00"),
            example: "6.75",
            doc: "The price the CLI uses to show what each query cost (billed per MB scanned, at least 10 MB); Athena's list price in most regions is 5.00.",
        },
        Endpoint {
            name: "Endpoint", aliases: ["EndpointOverride", "EndpointUrl"], secret: false,
            group: "Endpoints",
            values: "an http(s) URL", default: Some("AWS_ENDPOINT_URL, then the AWS endpoints"),
            example: "http://127.0.0.1:4566",
            doc: "One endpoint for every service without its own override (a local emulator, a proxy).",
        },
        AthenaEndpoint {
            name: "AthenaEndpoint", aliases: ["AthenaEndpointOverride"], secret: false,
            group: "Endpoints",
            values: "an http(s) URL", default: Some("Endpoint, then AWS_ENDPOINT_URL_ATHENA"),
            example: "https://vpce-0123-abcd.athena.eu-west-1.vpce.amazonaws.com",
            doc: "The Athena endpoint (VPC endpoint, FIPS endpoint).",
        },
        GlueEndpoint {
            name: "GlueEndpoint", aliases: ["GlueEndpointOverride"], secret: false,
            group: "Endpoints",
            values: "an http(s) URL", default: Some("Endpoint, then AWS_ENDPOINT_URL_GLUE"),
            example: "https://glue-fips.us-east-1.amazonaws.com",
            doc: "The Glue Data Catalog endpoint.",
        },
        S3Endpoint {
            name: "S3Endpoint", aliases: ["S3EndpointOverride"], secret: false,
            group: "Endpoints",
            values: "an http(s) URL", default: Some("Endpoint, then AWS_ENDPOINT_URL_S3"),
            example: "https://bucket.vpce-0123-abcd.s3.eu-west-1.vpce.amazonaws.com",
            doc: "The S3 endpoint used to read query results.",
        },
        StsEndpoint {
            name: "STSEndpoint", aliases: ["STSEndpointOverride"], secret: false,
            group: "Endpoints",
            values: "an http(s) URL", default: Some("Endpoint, then AWS_ENDPOINT_URL_STS"),
            example: "https://sts.eu-west-1.amazonaws.com",
            doc: "The STS endpoint used to obtain temporary credentials.",
        },
        ImdsEndpoint {
            name: "IMDSEndpoint", aliases: [], secret: false, group: "Endpoints",
            values: "an http(s) URL",
            default: Some("AWS_EC2_METADATA_SERVICE_ENDPOINT, then http://169.254.169.254"),
            example: "http://127.0.0.1:1338",
            doc: "The EC2 instance metadata service, for AuthScheme=AwsEC2Roles.",
        },
        AuthScheme {
            name: "AuthScheme", aliases: [], secret: false, group: "Authentication",
            values: "AwsRootKeys, AwsIAMKeys, AwsTempCredentials, AwsMFA, AwsIAMRoles, AwsEC2Roles, AwsWebIdentity, AwsCredentialsFile, ADFS, ADFSIntegrated, Okta, PingFederate, AzureAD, AwsCognitoSrp, AwsCognitoBasic, DataZoneIdC, Default",
            default: Some("AwsIAMKeys when AWSAccessKey is set, otherwise Default (the standard AWS credential chain)"),
            example: "Okta",
            doc: "How credentials are obtained.",
        },
        AwsAccessKey {
            name: "AWSAccessKey", aliases: ["AccessKey", "AccessKeyId"], secret: true,
            group: "AWS keys and roles",
            values: "an access key ID", default: None, example: "AKIAIOSFODNN7EXAMPLE",
            doc: "The access key of the IAM user or root account (shown as *** like a secret).",
        },
        AwsSecretKey {
            name: "AWSSecretKey", aliases: ["SecretKey", "SecretAccessKey"], secret: true,
            group: "AWS keys and roles",
            values: "a secret access key", default: None, example: "wJalrXUtnFEMI/K7MDENG",
            doc: "The secret key that goes with AWSAccessKey.",
        },
        AwsSessionToken {
            name: "AWSSessionToken", aliases: ["SessionToken"], secret: true,
            group: "AWS keys and roles",
            values: "a session token", default: None, example: "FwoGZXIvYXdzE...",
            doc: "Makes AWSAccessKey/AWSSecretKey temporary credentials.",
        },
        AwsRoleArn {
            name: "AWSRoleARN", aliases: ["RoleARN"], secret: false, group: "AWS keys and roles",
            values: "an IAM role ARN", default: None,
            example: "arn:aws:iam::123456789012:role/analyst",
            doc: "The role to assume (or to pick from a SAML assertion).",
        },
        AwsExternalId {
            name: "AWSExternalId", aliases: ["ExternalId"], secret: false,
            group: "AWS keys and roles",
            values: "text", default: None, example: "partner-42",
            doc: "The external ID, when assuming a role in another AWS account.",
        },
        AwsPrincipalArn {
            name: "AWSPrincipalARN", aliases: ["PrincipalARN"], secret: false,
            group: "AWS keys and roles",
            values: "a SAML provider ARN", default: None,
            example: "arn:aws:iam::123456789012:saml-provider/OktaProvider",
            doc: "The SAML identity provider, when the assertion offers several.",
        },
        MfaSerialNumber {
            name: "MFASerialNumber", aliases: [], secret: false, group: "AWS keys and roles",
            values: "an MFA device serial number or ARN", default: None,
            example: "arn:aws:iam::123456789012:mfa/alice",
            doc: "The MFA device.",
        },
        MfaToken {
            name: "MFAToken", aliases: [], secret: true, group: "AWS keys and roles",
            values: "the current MFA code", default: None, example: "123456",
            doc: "The temporary code shown by the MFA device.",
        },
        TemporaryTokenDuration {
            name: "TemporaryTokenDuration", aliases: ["RoleSessionDuration"], secret: false,
            group: "AWS keys and roles",
            values: "900 to 129600 seconds", default: Some("3600"), example: "7200",
            doc: "How long temporary credentials last.",
        },
        CredentialsLocation {
            name: "CredentialsLocation", aliases: [], secret: false, group: "AWS keys and roles",
            values: "a file path", default: None, example: "/home/alice/.athena/mfa.json",
            doc: "Where MFA and temporary credentials are cached between connections.",
        },
        AwsWebIdentityToken {
            name: "AWSWebIdentityToken", aliases: ["WebIdentityToken"], secret: true,
            group: "AWS keys and roles",
            values: "an OIDC token", default: Some("the file named by AWS_WEB_IDENTITY_TOKEN_FILE"),
            example: "eyJhbGciOi...",
            doc: "The OIDC token exchanged by AssumeRoleWithWebIdentity.",
        },
        AwsWebIdentityTokenFile {
            name: "AWSWebIdentityTokenFile", aliases: ["WebIdentityTokenFile"], secret: false,
            group: "AWS keys and roles",
            values: "a file path", default: Some("AWS_WEB_IDENTITY_TOKEN_FILE"),
            example: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
            doc: "A file holding the OIDC token (read at each refresh).",
        },
        User {
            name: "User", aliases: ["Username", "UID"], secret: false,
            group: "Identity provider (SSO)",
            values: "a user name", default: None, example: "alice@example.com",
            doc: "The identity provider (or Cognito) user.",
        },
        Password {
            name: "Password", aliases: ["PWD"], secret: true, group: "Identity provider (SSO)",
            values: "a password", default: None, example: "correct-horse",
            doc: "The password of User.",
        },
        SsoLoginUrl {
            name: "SSOLoginURL", aliases: [], secret: false, group: "Identity provider (SSO)",
            values: "an http(s) URL", default: None,
            example: "https://example.okta.com/home/amazon_aws/0oa1/272",
            doc: "The identity provider's login URL (ADFS server, Okta app embed link, PingFederate STS).",
        },
        SsoExchangeUrl {
            name: "SSOExchangeURL", aliases: [], secret: false, group: "Identity provider (SSO)",
            values: "a URI", default: None,
            example: "https://signin.aws.amazon.com/saml",
            doc: "PingFederate: the partner service identifier (usually the AWS SAML ACS URL).",
        },
        SsoProperties {
            name: "SSOProperties", aliases: [], secret: false, group: "Identity provider (SSO)",
            values: "a quoted Name=value; list (see SSOProperties below)", default: None,
            example: "'ApiToken=00abc;MFAType=OktaVerify;'",
            doc: "Settings of the identity provider, as a nested property list.",
        },
        OAuthClientId {
            name: "OAuthClientId", aliases: [], secret: false, group: "OAuth",
            values: "an application (client) ID", default: None,
            example: "3ea1c786-d527-4399-8c3b-2e3696ae4b48",
            doc: "AzureAD: the connector application's ID.",
        },
        OAuthClientSecret {
            name: "OAuthClientSecret", aliases: [], secret: true, group: "OAuth",
            values: "a client secret", default: None, example: "Qx8Q~abc",
            doc: "AzureAD: the connector application's client secret.",
        },
        CallbackUrl {
            name: "CallbackURL", aliases: ["RedirectURI"], secret: false, group: "OAuth",
            values: "an http(s) URL", default: None, example: "http://localhost:33333",
            doc: "AzureAD: the redirect URI of the connector application.",
        },
        InitiateOAuth {
            name: "InitiateOAuth", aliases: [], secret: false, group: "OAuth",
            values: "OFF, GETANDREFRESH or REFRESH", default: Some("OFF"),
            example: "GETANDREFRESH",
            doc: "Whether to get an OAuth token (GETANDREFRESH) or only refresh a stored one (REFRESH).",
        },
        OAuthSettingsLocation {
            name: "OAuthSettingsLocation", aliases: [], secret: false, group: "OAuth",
            values: "a file path", default: None, example: "/home/alice/.athena/oauth.json",
            doc: "Where OAuth tokens are stored between connections.",
        },
        AwsCredentialsFile {
            name: "AWSCredentialsFile", aliases: ["CredentialsFile"], secret: false,
            group: "Credentials file",
            values: "a file path", default: Some("AWS_SHARED_CREDENTIALS_FILE"),
            example: "/home/alice/.aws/credentials",
            doc: "An AWS credentials file, for AuthScheme=AwsCredentialsFile.",
        },
        AwsCredentialsFileProfile {
            name: "AWSCredentialsFileProfile", aliases: ["Profile", "ProfileName"],
            secret: false, group: "Credentials file",
            values: "a profile name", default: Some("AWS_PROFILE, then default"),
            example: "analytics",
            doc: "The profile to use from AWSCredentialsFile.",
        },
        AwsCognitoRegion {
            name: "AWSCognitoRegion", aliases: [], secret: false, group: "Cognito",
            values: "an AWS region code or a friendly name",
            default: Some("the region in AWSUserPoolId"), example: "eu-west-1",
            doc: "The region of the Cognito user pool.",
        },
        AwsUserPoolId {
            name: "AWSUserPoolId", aliases: [], secret: false, group: "Cognito",
            values: "a user pool ID", default: None, example: "eu-west-1_AbCdEf123",
            doc: "The Cognito user pool.",
        },
        AwsUserPoolClientAppId {
            name: "AWSUserPoolClientAppId", aliases: [], secret: false, group: "Cognito",
            values: "an app client ID", default: None, example: "1h57kf5cpq17m0eml12EXAMPLE",
            doc: "The app client of the user pool.",
        },
        AwsUserPoolClientAppSecret {
            name: "AWSUserPoolClientAppSecret", aliases: [], secret: true, group: "Cognito",
            values: "an app client secret", default: None, example: "1q2w3e...",
            doc: "The app client's secret, when it has one.",
        },
        AwsIdentityPoolId {
            name: "AWSIdentityPoolId", aliases: [], secret: false, group: "Cognito",
            values: "an identity pool ID", default: None,
            example: "eu-west-1:1a234567-8901-2345-6789-012345678901",
            doc: "The Cognito identity pool that turns the user into AWS credentials.",
        },
        DataZoneDomainId {
            name: "DataZoneDomainId", aliases: [], secret: false, group: "DataZone",
            values: "a DataZone domain ID", default: None, example: "dzd_4p9n6example",
            doc: "The DataZone domain.",
        },
        DataZoneEnvironmentId {
            name: "DataZoneEnvironmentId", aliases: [], secret: false, group: "DataZone",
            values: "a DataZone environment ID", default: None, example: "6f6mvexample",
            doc: "The DataZone environment whose credentials are used.",
        },
        DataZoneDomainUrl {
            name: "DataZoneDomainURL", aliases: [], secret: false, group: "DataZone",
            values: "an http(s) URL", default: None,
            example: "https://dzd_4p9n6example.datazone.eu-west-1.on.aws",
            doc: "The DataZone portal URL.",
        },
        DataZoneRegion {
            name: "DataZoneRegion", aliases: ["DataZoneDomainRegion"], secret: false,
            group: "DataZone",
            values: "an AWS region code or a friendly name", default: Some("AWSRegion"),
            example: "eu-west-1",
            doc: "The region of the DataZone domain.",
        },
        SsoStartUrl {
            name: "SSOStartURL", aliases: ["IdentityCenterIssuerUrl"], secret: false,
            group: "DataZone",
            values: "an http(s) URL", default: None,
            example: "https://d-1234567890.awsapps.com/start",
            doc: "The IAM Identity Center start URL.",
        },
        SsoRegion {
            name: "SSORegion", aliases: [], secret: false, group: "DataZone",
            values: "an AWS region code or a friendly name", default: Some("DataZoneRegion"),
            example: "eu-west-1",
            doc: "The IAM Identity Center region.",
        },
    }
}

property_table! {
    /// A property inside `SSOProperties='Name=value;...'`.
    pub enum SsoKey {
        ApiToken {
            name: "ApiToken", aliases: [], secret: true, group: "SSOProperties",
            values: "an Okta API token", default: None, example: "00abcDEF",
            doc: "Okta: the API token of a trusted application or proxy.",
        },
        MfaType {
            name: "MFAType", aliases: [], secret: false, group: "SSOProperties",
            values: "OktaVerify, Email or SMS", default: None, example: "OktaVerify",
            doc: "Okta: the MFA factor to use.",
        },
        MfaPassCode {
            name: "MFAPassCode", aliases: [], secret: true, group: "SSOProperties",
            values: "a one-time passcode", default: Some("empty: a passcode is sent, reconnect with it"),
            example: "123456",
            doc: "Okta: the MFA passcode.",
        },
        MfaRememberDevice {
            name: "MFARememberDevice", aliases: [], secret: false, group: "SSOProperties",
            values: "true or false", default: Some("true"), example: "false",
            doc: "Okta: whether to ask Okta to remember the device after MFA.",
        },
        Resource {
            name: "Resource", aliases: [], secret: false, group: "SSOProperties",
            values: "an application ID URI", default: None,
            example: "https://signin.aws.amazon.com/saml",
            doc: "AzureAD: the application ID URI of the AWS SSO application.",
        },
        AzureTenant {
            name: "AzureTenant", aliases: ["Tenant"], secret: false, group: "SSOProperties",
            values: "a tenant ID or domain", default: None,
            example: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            doc: "AzureAD: the tenant where the applications are registered.",
        },
        AuthScheme {
            name: "AuthScheme", aliases: [], secret: false, group: "SSOProperties",
            values: "Basic", default: None, example: "Basic",
            doc: "PingFederate: send User/Password as a Basic authorization header.",
        },
        SslClientCert {
            name: "SSLClientCert", aliases: [], secret: false, group: "SSOProperties",
            values: "a file path or PEM text", default: None, example: "/home/alice/client.pem",
            doc: "PingFederate: the client certificate for mutual TLS.",
        },
        SslClientCertType {
            name: "SSLClientCertType", aliases: [], secret: false, group: "SSOProperties",
            values: "PEMKEY_FILE, PEMKEY_BLOB, PFXFILE or PFXBLOB", default: Some("PEMKEY_FILE"),
            example: "PEMKEY_FILE",
            doc: "PingFederate: how SSLClientCert is given.",
        },
        SslClientCertPassword {
            name: "SSLClientCertPassword", aliases: [], secret: true, group: "SSOProperties",
            values: "a password", default: None, example: "changeit",
            doc: "PingFederate: the password of the client certificate's key.",
        },
        SslClientCertSubject {
            name: "SSLClientCertSubject", aliases: [], secret: false, group: "SSOProperties",
            values: "a subject, or *", default: Some("* (the first certificate)"),
            example: "CN=alice",
            doc: "PingFederate: which certificate of the store to use.",
        },
    }
}

impl FromStr for ConfigKey {
    type Err = Error;

    /// Parses a property name or alias, case-insensitively. An unknown name is an error naming
    /// the nearest known property.
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s).ok_or_else(|| Error::UnknownKey {
            key: s.trim().to_string(),
            suggestion: Self::nearest(s).map(|k| k.name().to_string()),
        })
    }
}

impl FromStr for SsoKey {
    type Err = Error;

    /// Parses a nested `SSOProperties` name, case-insensitively.
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s).ok_or_else(|| Error::UnknownKey {
            key: format!("SSOProperties.{}", s.trim()),
            suggestion: Self::nearest(s).map(|k| format!("SSOProperties.{}", k.name())),
        })
    }
}

/// Whether a name (top-level or nested, any alias) is a secret property.
pub(crate) fn is_secret_name(name: &str) -> bool {
    ConfigKey::from_name(name).is_some_and(ConfigKey::is_secret)
        || SsoKey::from_name(name).is_some_and(SsoKey::is_secret)
        || looks_secret(name)
}

/// Whether an unknown nested name looks like it holds a secret (its value is then redacted).
pub(crate) fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "secret", "token", "passcode", "key", "pwd"]
        .iter()
        .any(|w| n.contains(w))
}

/// The candidate closest to `name` (case-insensitive Levenshtein distance), if within a third
/// of the name's length (at least 2 edits allowed).
pub(crate) fn nearest<T: Copy>(
    name: &str,
    candidates: impl Iterator<Item = (T, &'static str)>,
) -> Option<T> {
    let name = name.trim().to_ascii_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .map(|(k, c)| (edit_distance(&name, &c.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over chars.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_and_aliases_are_unique_case_insensitively() {
        let mut seen = HashSet::new();
        for k in ConfigKey::ALL {
            for n in std::iter::once(k.name()).chain(k.aliases().iter().copied()) {
                assert!(seen.insert(n.to_ascii_lowercase()), "{n} is listed twice");
            }
        }
        let mut seen = HashSet::new();
        for k in SsoKey::ALL {
            for n in std::iter::once(k.name()).chain(k.aliases().iter().copied()) {
                assert!(seen.insert(n.to_ascii_lowercase()), "{n} is listed twice");
            }
        }
    }

    #[test]
    fn every_name_round_trips() {
        for k in ConfigKey::ALL {
            assert_eq!(k.name().parse::<ConfigKey>(), Ok(*k));
            assert_eq!(k.name().to_ascii_uppercase().parse::<ConfigKey>(), Ok(*k));
            for a in k.aliases() {
                assert_eq!(a.to_ascii_lowercase().parse::<ConfigKey>(), Ok(*k), "{a}");
            }
            assert!(!k.doc().is_empty() && !k.values().is_empty() && !k.example().is_empty());
        }
        for k in SsoKey::ALL {
            assert_eq!(format!(" {} ", k.name()).parse::<SsoKey>(), Ok(*k));
        }
    }

    #[test]
    fn jdbc_and_issue_names_are_accepted() {
        for (name, key) in [
            ("Catalog", ConfigKey::DataSource),
            ("Schema", ConfigKey::Database),
            ("Region", ConfigKey::AwsRegion),
            ("OutputLocation", ConfigKey::S3StagingDirectory),
            ("workgroup", ConfigKey::WorkGroup),
            ("Endpoint", ConfigKey::Endpoint),
            ("AthenaEndpoint", ConfigKey::AthenaEndpoint),
            ("GlueEndpoint", ConfigKey::GlueEndpoint),
            ("S3Endpoint", ConfigKey::S3Endpoint),
            ("STSEndpoint", ConfigKey::StsEndpoint),
            ("IMDSEndpoint", ConfigKey::ImdsEndpoint),
            ("CredentialsFile", ConfigKey::AwsCredentialsFile),
            ("Profile", ConfigKey::AwsCredentialsFileProfile),
            ("AWSRoleArn", ConfigKey::AwsRoleArn),
            ("OauthClientSecret", ConfigKey::OAuthClientSecret),
            ("SSOExchangeUrl", ConfigKey::SsoExchangeUrl),
        ] {
            assert_eq!(name.parse::<ConfigKey>(), Ok(key), "{name}");
        }
    }

    #[test]
    fn unknown_names_suggest_the_nearest() {
        assert_eq!(
            "AWSRegon".parse::<ConfigKey>(),
            Err(Error::UnknownKey {
                key: "AWSRegon".into(),
                suggestion: Some("AWSRegion".into())
            })
        );
        // Close enough to be a typo: one or two edits, or a third of the name.
        assert_eq!(
            ConfigKey::nearest("S3StagingDirectry"),
            Some(ConfigKey::S3StagingDirectory)
        );
        assert_eq!(ConfigKey::nearest("workgrp"), Some(ConfigKey::WorkGroup));
        // Too far to be a typo.
        assert_eq!(ConfigKey::nearest("s3stagingdir"), None);
        assert_eq!(
            "MFAPasCode".parse::<SsoKey>(),
            Err(Error::UnknownKey {
                key: "SSOProperties.MFAPasCode".into(),
                suggestion: Some("SSOProperties.MFAPassCode".into())
            })
        );
        assert_eq!(
            "Zzzzzzzzzz".parse::<ConfigKey>(),
            Err(Error::UnknownKey {
                key: "Zzzzzzzzzz".into(),
                suggestion: None
            })
        );
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn secrets_are_marked() {
        let secret: Vec<&str> = ConfigKey::ALL
            .iter()
            .filter(|k| k.is_secret())
            .map(|k| k.name())
            .collect();
        assert_eq!(
            secret,
            [
                "AWSAccessKey",
                "AWSSecretKey",
                "AWSSessionToken",
                "MFAToken",
                "AWSWebIdentityToken",
                "Password",
                "OAuthClientSecret",
                "AWSUserPoolClientAppSecret"
            ]
        );
        assert!(is_secret_name("apitoken") && is_secret_name("MyClientSecret"));
        assert!(!is_secret_name("AWSRegion"));
    }
}
