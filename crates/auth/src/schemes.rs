//! Which [`SchemeProvider`] each AuthScheme gets.

use aws_credential_types::provider::SharedCredentialsProvider;
use datafusion_athena_config::{AuthScheme, ConnectionOptions};

use crate::assume_role::AssumeRole;
use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::refresh::SchemeProvider;
use crate::saml::SamlScheme;

/// The provider of a scheme that logs in or calls STS.
pub(crate) async fn provider_for(
    scheme: AuthScheme,
    opts: &ConnectionOptions,
    ctx: &AuthContext,
) -> Result<SchemeProvider> {
    let name = scheme.as_str();
    let ctx2 = ctx.clone();
    Ok(match scheme {
        AuthScheme::AwsMfa => {
            SchemeProvider::new(name, crate::mfa::SessionToken::new(opts, ctx)?, ctx2)
        }
        AuthScheme::AwsIamRoles => {
            let (base, base_name) = if crate::keys::has_keys(opts) {
                let keys = crate::keys::static_credentials(name, opts, false)?;
                let id = keys.access_key_id().to_string();
                (SharedCredentialsProvider::new(keys), id)
            } else {
                (
                    crate::resolve::default_chain(opts, ctx).await?,
                    "default-chain".to_string(),
                )
            };
            SchemeProvider::new(
                name,
                AssumeRole::new(name, opts, ctx, base, &base_name)?,
                ctx2,
            )
        }
        AuthScheme::AwsWebIdentity => SchemeProvider::new(
            name,
            crate::web_identity::WebIdentity::new(opts, ctx)?,
            ctx2,
        ),
        AuthScheme::AwsCredentialsFile => {
            SchemeProvider::new(name, crate::profile::ProfileFile::new(opts, ctx)?, ctx2)
        }
        AuthScheme::AwsEc2Roles => {
            let imds = SchemeProvider::new(name, crate::imds::Imds::new(opts, ctx)?, ctx.clone());
            if crate::assume_role::role_arn(name, opts)?.is_some() {
                let base = SharedCredentialsProvider::new(imds);
                SchemeProvider::new(
                    name,
                    AssumeRole::new(name, opts, ctx, base, "ec2-instance-role")?,
                    ctx2,
                )
            } else {
                imds
            }
        }
        AuthScheme::Adfs => {
            let login = crate::saml::adfs::Adfs::new(opts)?;
            SchemeProvider::new(name, SamlScheme::new(name, login, opts, ctx)?, ctx2)
        }
        AuthScheme::Okta => {
            let login = crate::saml::okta::Okta::new(opts)?;
            SchemeProvider::new(name, SamlScheme::new(name, login, opts, ctx)?, ctx2)
        }
        AuthScheme::PingFederate => {
            let login = crate::saml::ping::Ping::new(opts, ctx)?;
            SchemeProvider::new(name, SamlScheme::new(name, login, opts, ctx)?, ctx2)
        }
        AuthScheme::AzureAd => {
            let login = crate::saml::azure::AzureAd::new(opts, ctx)?;
            SchemeProvider::new(name, SamlScheme::new(name, login, opts, ctx)?, ctx2)
        }
        AuthScheme::AwsCognitoBasic | AuthScheme::AwsCognitoSrp => {
            let srp = scheme == AuthScheme::AwsCognitoSrp;
            SchemeProvider::new(name, crate::cognito::Cognito::new(srp, opts, ctx)?, ctx2)
        }
        AuthScheme::DataZoneIdc => {
            SchemeProvider::new(name, crate::datazone::DataZoneIdc::new(opts, ctx)?, ctx2)
        }
        #[cfg(feature = "kerberos")]
        AuthScheme::AdfsIntegrated => {
            let login = crate::saml::adfs_integrated::AdfsIntegrated::new(opts)?;
            SchemeProvider::new(name, SamlScheme::new(name, login, opts, ctx)?, ctx2)
        }
        #[cfg(not(feature = "kerberos"))]
        AuthScheme::AdfsIntegrated => {
            return Err(Error::Unsupported {
                scheme: name,
                message: "this build has no Kerberos support: rebuild with the cargo feature `kerberos` (needs the system's libgssapi_krb5, e.g. Debian's libkrb5-dev), or use AuthScheme=ADFS with User and Password".into(),
            });
        }
        _ => {
            return Err(Error::Unsupported {
                scheme: name,
                message: "this scheme is not implemented yet; implemented: access keys, AwsMFA, AwsIAMRoles, AwsEC2Roles, AwsWebIdentity, AwsCredentialsFile, ADFS, Okta, PingFederate, AzureAD, AwsCognitoBasic, AwsCognitoSrp, DataZoneIdC and the default chain".into(),
            });
        }
    })
}
