//! Credentials for datafusion-athena: every AuthScheme of the CData Athena connector turned into
//! one [`SharedCredentialsProvider`](aws_credential_types::provider::SharedCredentialsProvider)
//! that the Athena, Glue and S3 clients share.
//!
//! Entry points: [`credentials_provider`] and [`sdk_config`] (and their `_with` forms taking an
//! [`AuthContext`] with an injected clock, environment and sign-in URL opener).
//!
//! | AuthScheme | What happens | Main options |
//! | --- | --- | --- |
//! | none, `Default` | the standard AWS chain (env, profile, web identity, container, IMDS) | `IMDSEndpoint` |
//! | `AwsIAMKeys`, `AwsRootKeys`, `AwsTempCredentials` (or keys without a scheme) | static keys | `AWSAccessKey`, `AWSSecretKey`, `AWSSessionToken` |
//! | `AwsMFA` | STS GetSessionToken, cached in `CredentialsLocation` (0600) until expiry | `MFASerialNumber`, `MFAToken`, `TemporaryTokenDuration` |
//! | `AwsIAMRoles` | STS AssumeRole on top of the keys (or the default chain), optional MFA | `AWSRoleARN`, `AWSExternalId` |
//! | `AwsEC2Roles` | IMDSv2, IMDSv1 fallback on 403/404/405, optional AssumeRole | `IMDSEndpoint`, `AWSRoleARN` |
//! | `AwsWebIdentity` | STS AssumeRoleWithWebIdentity | `AWSRoleARN` + `AWSWebIdentityToken`, or `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` |
//! | `AwsCredentialsFile` | a profile, role chains included (aws-config) | `AWSCredentialsFile`, `AWSCredentialsFileProfile` |
//! | `ADFS`, `Okta`, `PingFederate`, `AzureAD` | IdP login, SAML role pick, STS AssumeRoleWithSAML | `SSOLoginURL`, `User`, `Password`, `AWSRoleARN`, `AWSPrincipalARN`, `SSOProperties` (PingFederate mutual TLS: `SSLClientCert`, `SSLClientCertType`; a private server CA through `AWS_CA_BUNDLE`) |
//! | `ADFSIntegrated` | ADFS Windows Integrated Authentication: SPNEGO with the logged-in user's Kerberos ticket (cargo feature `kerberos`, needs libgssapi_krb5; without it an `Unsupported` error says so) | `SSOLoginURL`, `AWSRoleARN` |
//! | `DataZoneIdC` | Identity Center authorization code + PKCE (local callback), DataZone environment credentials | `SSOStartURL`, `DataZoneDomainId`, `DataZoneEnvironmentId`, `DataZoneRegion`, `SSORegion`, `CallbackURL` |
//! | `AwsCognitoBasic`, `AwsCognitoSrp` | user pool sign-in (password or SRP), identity pool credentials | `AWSUserPoolId`, `AWSUserPoolClientAppId`, `AWSIdentityPoolId` |
//!
//! STS calls go to `STSEndpoint` (else `Endpoint`). Credentials that expire are fetched again
//! [`DEFAULT_REFRESH_BEFORE_EXPIRY`] before they do, by the context's clock.
mod assume_role;
mod cache;
mod callback;
mod cognito;
mod context;
mod datazone;
mod error;
mod imds;
mod keys;
mod mfa;
mod profile;
mod refresh;
mod resolve;
mod saml;
mod schemes;
mod srp;
mod sts;
mod web_identity;

pub use context::{AuthContext, DEFAULT_REFRESH_BEFORE_EXPIRY, ManualClock, OpenBrowser};
pub use error::{BoxError, Error, Result};
pub use refresh::SchemeProvider;
pub use resolve::{
    credentials_provider, credentials_provider_with, region_of, scheme_name, scheme_provider_with,
    sdk_config, sdk_config_with,
};
