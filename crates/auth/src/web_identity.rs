//! AwsWebIdentity: STS AssumeRoleWithWebIdentity (unsigned) with an OIDC token given inline
//! (`AWSWebIdentityToken`) or read from `AWS_WEB_IDENTITY_TOKEN_FILE` on every refresh (the
//! file is rotated by Kubernetes and similar).

use std::path::PathBuf;

use async_trait::async_trait;
use aws_credential_types::Credentials;
use datafusion_athena_config::{ConnectionOptions, Secret};

use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::refresh::Fetch;
use crate::sts;

const SCHEME: &str = "AwsWebIdentity";
const STEP: &str = "STS AssumeRoleWithWebIdentity";
const PROVIDER_NAME: &str = "datafusion-athena-web-identity";

#[derive(Debug)]
enum Token {
    Inline(Secret),
    File(PathBuf),
}

/// AssumeRoleWithWebIdentity for `AWSRoleARN` / `AWS_ROLE_ARN`.
#[derive(Debug)]
pub(crate) struct WebIdentity {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    session_name: Option<String>,
    token: Token,
    duration: i32,
    ctx: AuthContext,
}

impl WebIdentity {
    pub(crate) fn new(opts: &ConnectionOptions, ctx: &AuthContext) -> Result<Self> {
        let role_arn = match crate::assume_role::role_arn(SCHEME, opts)? {
            Some(arn) => arn,
            None => ctx.var("AWS_ROLE_ARN").ok_or(Error::MissingOption {
                scheme: SCHEME,
                option: "AWSRoleARN",
                hint: "set AWSRoleARN (with AWSWebIdentityToken), or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE in the environment",
            })?,
        };
        let token = match opts.auth.web_identity_token.as_ref().filter(|t| !t.is_empty()) {
            Some(t) => Token::Inline(t.clone()),
            None => Token::File(ctx.var("AWS_WEB_IDENTITY_TOKEN_FILE").map(PathBuf::from).ok_or(
                Error::MissingOption {
                    scheme: SCHEME,
                    option: "AWSWebIdentityToken",
                    hint: "set AWSWebIdentityToken to the OIDC token, or AWS_WEB_IDENTITY_TOKEN_FILE to a file holding it",
                },
            )?),
        };
        Ok(Self {
            sts: sts::client(opts, ctx, None),
            role_arn,
            session_name: ctx.var("AWS_ROLE_SESSION_NAME"),
            token,
            duration: sts::duration_seconds(SCHEME, opts)?,
            ctx: ctx.clone(),
        })
    }

    async fn token(&self) -> Result<String> {
        match &self.token {
            Token::Inline(t) => Ok(t.expose().to_string()),
            Token::File(path) => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| Error::Call {
                        scheme: SCHEME,
                        step: "read AWS_WEB_IDENTITY_TOKEN_FILE",
                        message: format!("cannot read {}: {e}", path.display()),
                        source: Box::new(e),
                    })?;
                let token = text.trim();
                if token.is_empty() {
                    return Err(Error::InvalidOption {
                        scheme: SCHEME,
                        option: "AWS_WEB_IDENTITY_TOKEN_FILE",
                        message: format!("{} is empty", path.display()),
                    });
                }
                Ok(token.to_string())
            }
        }
    }
}

#[async_trait]
impl Fetch for WebIdentity {
    async fn fetch(&self) -> Result<Credentials> {
        let token = self.token().await?;
        let out = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(&self.role_arn)
            .role_session_name(
                self.session_name
                    .clone()
                    .unwrap_or_else(|| sts::session_name(&self.ctx)),
            )
            .web_identity_token(token)
            .duration_seconds(self.duration)
            .send()
            .await
            .map_err(|e| Error::call(SCHEME, STEP, e))?;
        sts::credentials(SCHEME, STEP, out.credentials(), PROVIDER_NAME)
    }
}
