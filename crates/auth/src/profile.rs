//! AwsCredentialsFile: a profile from an AWS credentials/config file (static keys, session
//! tokens, `role_arn` + `source_profile` chains, `credential_source`, web identity, processes),
//! resolved by aws-config with our STS endpoint, region and IMDS (with IMDSv1 fallback).

use async_trait::async_trait;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_runtime::env_config::file::{
    EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
};
use datafusion_athena_config::ConnectionOptions;

use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::refresh::{Fetch, SchemeProvider};

const SCHEME: &str = "AwsCredentialsFile";

/// The profile's credentials.
#[derive(Debug)]
pub(crate) struct ProfileFile {
    inner: ProfileFileCredentialsProvider,
    profile: String,
}

impl ProfileFile {
    pub(crate) fn new(opts: &ConnectionOptions, ctx: &AuthContext) -> Result<Self> {
        let profile = opts
            .auth
            .credentials_file_profile
            .clone()
            .filter(|p| !p.trim().is_empty())
            .or_else(|| ctx.var("AWS_PROFILE"))
            .unwrap_or_else(|| "default".to_string());
        let mut files = ProfileFiles::builder();
        match &opts.auth.credentials_file {
            Some(path) => {
                if !path.is_file() {
                    return Err(Error::InvalidOption {
                        scheme: SCHEME,
                        option: "AWSCredentialsFile",
                        message: format!("{} does not exist or is not a file", path.display()),
                    });
                }
                files = files.with_file(ProfileFileKind::Credentials, path);
            }
            None => {
                files = files
                    .include_default_credentials_file(true)
                    .include_default_config_file(true);
            }
        }
        if let Some(sts) = opts.endpoints.sts() {
            // Role chains call STS through aws-config; a `services` section is how a profile
            // names a service endpoint, so STSEndpoint is handed over as one.
            files = files.with_contents(
                ProfileFileKind::Config,
                format!(
                    "[profile {profile}]\nservices = datafusion-athena-endpoints\n\
                     [services datafusion-athena-endpoints]\nsts =\n  endpoint_url = {sts}\n"
                ),
            );
        }
        let conf = ProviderConfig::without_region()
            .with_region(Some(crate::sts::region(opts, ctx)))
            .with_time_source(ctx.time_source());
        let imds = SchemeProvider::new(SCHEME, crate::imds::Imds::new(opts, ctx)?, ctx.clone());
        let inner = ProfileFileCredentialsProvider::builder()
            .configure(&conf)
            .profile_files(files.build())
            .profile_name(&profile)
            .with_custom_provider("Ec2InstanceMetadata", imds)
            .build();
        Ok(Self { inner, profile })
    }
}

#[async_trait]
impl Fetch for ProfileFile {
    async fn fetch(&self) -> Result<Credentials> {
        self.inner
            .provide_credentials()
            .await
            .map_err(|e| Error::Call {
                scheme: SCHEME,
                step: "resolve the profile",
                message: format!(
                    "profile '{}': {}",
                    self.profile,
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                ),
                source: Box::new(e),
            })
    }
}
