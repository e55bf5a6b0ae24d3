//! AwsEC2Roles: the instance role's credentials from the EC2 instance metadata service.
//! IMDSv2 (session token) first; when the token call is refused with 403, 404 or 405, or times
//! out, IMDSv1 (no token), unless `AWS_EC2_METADATA_V1_DISABLED=true`. aws-config's own IMDS
//! provider has no IMDSv1 fallback, hence this one.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use chrono::DateTime;
use datafusion_athena_config::ConnectionOptions;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::refresh::Fetch;

const SCHEME: &str = "AwsEC2Roles";
const PROVIDER_NAME: &str = "datafusion-athena-imds";
const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// aws-config's IMDS client pointed at `IMDSEndpoint` (used by the default chain).
pub(crate) fn aws_client(scheme: &'static str, endpoint: &str) -> Result<aws_config::imds::Client> {
    aws_config::imds::Client::builder()
        .endpoint(endpoint)
        .map(|b| b.build())
        .map_err(|e| Error::InvalidOption {
            scheme,
            option: "IMDSEndpoint",
            message: format!("'{endpoint}' is not a usable URL: {e}"),
        })
}

/// The instance role's credentials, IMDSv2 with IMDSv1 fallback.
#[derive(Debug)]
pub(crate) struct Imds {
    http: reqwest::Client,
    endpoint: String,
    allow_v1: bool,
}

/// The credentials document IMDS serves.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImdsCredentials {
    code: String,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
}

impl Imds {
    pub(crate) fn new(opts: &ConnectionOptions, ctx: &AuthContext) -> Result<Self> {
        let endpoint = opts
            .endpoints
            .imds
            .clone()
            .or_else(|| ctx.var("AWS_EC2_METADATA_SERVICE_ENDPOINT"))
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let endpoint = endpoint.trim_end_matches('/').to_string();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(Error::InvalidOption {
                scheme: SCHEME,
                option: "IMDSEndpoint",
                message: format!("'{endpoint}' is not an http:// URL"),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| Error::call(SCHEME, "build the HTTP client", e))?;
        let allow_v1 = !ctx
            .var("AWS_EC2_METADATA_V1_DISABLED")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Ok(Self {
            http,
            endpoint,
            allow_v1,
        })
    }

    /// An IMDSv2 session token, or `None` to continue with IMDSv1.
    async fn token(&self) -> Result<Option<String>> {
        const STEP: &str = "IMDSv2 token (PUT /latest/api/token)";
        let sent = self
            .http
            .put(format!("{}/latest/api/token", self.endpoint))
            .header(TOKEN_TTL_HEADER, "21600")
            .send()
            .await;
        let fallback = |why: String| -> Result<Option<String>> {
            if self.allow_v1 {
                tracing::debug!("IMDSv2 unavailable ({why}); falling back to IMDSv1");
                Ok(None)
            } else {
                Err(Error::Rejected {
                    scheme: SCHEME,
                    step: STEP,
                    message: format!("{why}, and AWS_EC2_METADATA_V1_DISABLED=true forbids IMDSv1"),
                })
            }
        };
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return fallback("the token call timed out".into()),
            Err(e) => return Err(Error::call(SCHEME, STEP, e)),
        };
        match resp.status() {
            StatusCode::OK => {
                let token = resp
                    .text()
                    .await
                    .map_err(|e| Error::call(SCHEME, STEP, e))?;
                Ok(Some(token.trim().to_string()))
            }
            s
            @ (StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED) => {
                fallback(format!(
                    "the token call was refused with HTTP {}",
                    s.as_u16()
                ))
            }
            s => Err(Error::Rejected {
                scheme: SCHEME,
                step: STEP,
                message: format!("HTTP {}", s.as_u16()),
            }),
        }
    }

    async fn get(&self, step: &'static str, path: &str, token: Option<&str>) -> Result<String> {
        let mut req = self.http.get(format!("{}{path}", self.endpoint));
        if let Some(t) = token {
            req = req.header(TOKEN_HEADER, t);
        }
        let resp = req.send().await.map_err(|e| Error::call(SCHEME, step, e))?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND {
            return Err(Error::Rejected {
                scheme: SCHEME,
                step,
                message: "HTTP 404: the instance has no IAM role (attach an instance profile)"
                    .into(),
            });
        }
        if !status.is_success() {
            return Err(Error::Rejected {
                scheme: SCHEME,
                step,
                message: format!("HTTP {}", status.as_u16()),
            });
        }
        resp.text().await.map_err(|e| Error::call(SCHEME, step, e))
    }
}

#[async_trait]
impl Fetch for Imds {
    async fn fetch(&self) -> Result<Credentials> {
        const ROLE_STEP: &str = "IMDS role name (GET iam/security-credentials/)";
        const CREDS_STEP: &str = "IMDS role credentials (GET iam/security-credentials/<role>)";
        let token = self.token().await?;
        let roles = self
            .get(ROLE_STEP, CREDENTIALS_PATH, token.as_deref())
            .await?;
        let role = roles
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .ok_or(Error::Rejected {
                scheme: SCHEME,
                step: ROLE_STEP,
                message: "no role is attached to this instance".into(),
            })?;
        let body = self
            .get(
                CREDS_STEP,
                &format!("{CREDENTIALS_PATH}{role}"),
                token.as_deref(),
            )
            .await?;
        let doc: ImdsCredentials = serde_json::from_str(&body).map_err(|e| Error::Protocol {
            scheme: SCHEME,
            step: CREDS_STEP,
            message: format!("the credentials document is not the expected JSON: {e}"),
        })?;
        if doc.code != "Success" {
            return Err(Error::Rejected {
                scheme: SCHEME,
                step: CREDS_STEP,
                message: format!("Code {}", doc.code),
            });
        }
        let missing = |field: &str| Error::Protocol {
            scheme: SCHEME,
            step: CREDS_STEP,
            message: format!("the credentials document has no {field}"),
        };
        let expiration = doc.expiration.ok_or_else(|| missing("Expiration"))?;
        let expiry = DateTime::parse_from_rfc3339(&expiration).map_err(|e| Error::Protocol {
            scheme: SCHEME,
            step: CREDS_STEP,
            message: format!("Expiration '{expiration}' is not RFC 3339: {e}"),
        })?;
        Ok(Credentials::new(
            doc.access_key_id.ok_or_else(|| missing("AccessKeyId"))?,
            doc.secret_access_key
                .ok_or_else(|| missing("SecretAccessKey"))?,
            doc.token,
            Some(SystemTime::from(expiry)),
            PROVIDER_NAME,
        ))
    }
}
