//! DataZoneIdC: IAM Identity Center sign-in with the OAuth authorization code flow and PKCE,
//! then DataZone environment credentials.
//!
//! 1. SSO OIDC `RegisterClient` (public client, `authorization_code` + `refresh_token` grants,
//!    `issuerUrl` = `SSOStartURL`, redirect URI = a loopback callback).
//! 2. The browser opens `/authorize` (S256 challenge, state); Identity Center redirects it to the
//!    callback with the code.
//! 3. SSO OIDC `CreateToken` with the code and the PKCE verifier: an access token (and a refresh
//!    token, used for later refreshes).
//! 4. DataZone `POST /sso/redeem-token` (`domainId`, `accessToken`): credentials of the domain's
//!    execution role. This call is not in the public SDK model (it is what the DataZone portal
//!    does); treat it as unverified against a real domain.
//! 5. DataZone `GetEnvironmentCredentials` (`GET /v2/domains/{d}/environments/{e}/credentials`,
//!    SigV4 with the step-4 credentials): the environment's credentials, which Athena gets.
//!
//! Options: `SSOStartURL` (alias `IdentityCenterIssuerUrl`), `DataZoneDomainId`,
//! `DataZoneEnvironmentId`, `DataZoneRegion` (default `AWSRegion`), `SSORegion` (default
//! `DataZoneRegion`), `CallbackURL` (default: a free port on 127.0.0.1). Endpoints follow the
//! SDKs' environment variables: `AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL_DATAZONE`, then
//! `AWS_ENDPOINT_URL`.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use datafusion_athena_config::{ConnectionOptions, Region, Secret};
use serde_json::{Value, json};

use crate::callback::{self, Callback};
use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::refresh::Fetch;

const SCHEME: &str = "DataZoneIdC";
const PROVIDER_NAME: &str = "datafusion-athena-datazone";
/// The scope asked of Identity Center. DataZone's scope is not documented; this is the one
/// the DataZone portal application uses, to be confirmed against a real domain.
pub(crate) const SCOPE: &str = "datazone:domain:access";
const STEP_REGISTER: &str = "SSO OIDC RegisterClient";
const STEP_TOKEN: &str = "SSO OIDC CreateToken (authorization code)";
const STEP_REFRESH: &str = "SSO OIDC CreateToken (refresh token)";
const STEP_REDEEM: &str = "DataZone redeem-token";
const STEP_ENV: &str = "DataZone GetEnvironmentCredentials";
/// An access token is used again while it stays valid this long.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// What one sign-in leaves: the registered client and its tokens.
struct Session {
    client_id: String,
    client_secret: Secret,
    access_token: Secret,
    access_expires: SystemTime,
    refresh_token: Option<Secret>,
}

/// IAM Identity Center + DataZone login.
pub(crate) struct DataZoneIdc {
    http: reqwest::Client,
    oidc: reqwest::Url,
    datazone: reqwest::Url,
    region: String,
    issuer_url: String,
    domain_id: String,
    environment_id: String,
    callback: Option<reqwest::Url>,
    ctx: AuthContext,
    session: tokio::sync::Mutex<Option<Session>>,
}

impl std::fmt::Debug for DataZoneIdc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataZoneIdc")
            .field("oidc", &self.oidc.as_str())
            .field("datazone", &self.datazone.as_str())
            .field("region", &self.region)
            .field("issuer_url", &self.issuer_url)
            .field("domain_id", &self.domain_id)
            .field("environment_id", &self.environment_id)
            .finish_non_exhaustive()
    }
}

fn required(value: &Option<String>, option: &'static str, hint: &'static str) -> Result<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or(Error::MissingOption {
            scheme: SCHEME,
            option,
            hint,
        })
}

fn region_code(option: &'static str, raw: &str) -> Result<String> {
    Region::parse(raw)
        .map(|r| r.code().to_string())
        .map_err(|e| Error::InvalidOption {
            scheme: SCHEME,
            option,
            message: e.to_string(),
        })
}

fn endpoint(ctx: &AuthContext, var: &str, default: String) -> Result<reqwest::Url> {
    let (raw, option) = match ctx.var(var) {
        Some(v) => (v, var.to_string()),
        None => match ctx.var("AWS_ENDPOINT_URL") {
            Some(v) => (v, "AWS_ENDPOINT_URL".to_string()),
            None => (default, String::new()),
        },
    };
    let mut url = reqwest::Url::parse(raw.trim()).map_err(|e| Error::InvalidOption {
        scheme: SCHEME,
        option: "endpoint",
        message: format!("{option} '{raw}' is not a URL: {e}"),
    })?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl DataZoneIdc {
    pub(crate) fn new(opts: &ConnectionOptions, ctx: &AuthContext) -> Result<Self> {
        let dz = &opts.auth.datazone;
        let issuer_url = required(
            &dz.sso_start_url,
            "SSOStartURL",
            "set SSOStartURL (IdentityCenterIssuerUrl) to the Identity Center issuer / start URL",
        )?;
        let domain_id = required(
            &dz.domain_id,
            "DataZoneDomainId",
            "set DataZoneDomainId to the domain id (dzd_...)",
        )?;
        let environment_id = required(
            &dz.environment_id,
            "DataZoneEnvironmentId",
            "set DataZoneEnvironmentId to the environment whose credentials Athena uses",
        )?;
        let region = match dz.region.as_deref().filter(|r| !r.trim().is_empty()) {
            Some(r) => region_code("DataZoneRegion", r)?,
            None => opts.region.as_ref().map(|r| r.code().to_string()).ok_or(
                Error::MissingOption {
                    scheme: SCHEME,
                    option: "DataZoneRegion",
                    hint: "set DataZoneRegion (or AWSRegion) to the region of the DataZone domain",
                },
            )?,
        };
        let sso_region = match dz.sso_region.as_deref().filter(|r| !r.trim().is_empty()) {
            Some(r) => region_code("SSORegion", r)?,
            None => region.clone(),
        };
        let callback = match opts.auth.callback_url.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => {
                Some(reqwest::Url::parse(raw).map_err(|e| Error::InvalidOption {
                    scheme: SCHEME,
                    option: "CallbackURL",
                    message: format!("'{raw}' is not a URL: {e}"),
                })?)
            }
            _ => None,
        };
        Ok(Self {
            http: crate::saml::http_client(SCHEME)?,
            oidc: endpoint(
                ctx,
                "AWS_ENDPOINT_URL_SSO_OIDC",
                format!("https://oidc.{sso_region}.amazonaws.com"),
            )?,
            datazone: endpoint(
                ctx,
                "AWS_ENDPOINT_URL_DATAZONE",
                format!("https://datazone.{region}.api.aws"),
            )?,
            region,
            issuer_url,
            domain_id,
            environment_id,
            callback,
            ctx: ctx.clone(),
            session: tokio::sync::Mutex::new(None),
        })
    }

    fn url(&self, base: &reqwest::Url, path: &str) -> Result<reqwest::Url> {
        base.join(path.trim_start_matches('/'))
            .map_err(|e| Error::Protocol {
                scheme: SCHEME,
                step: "build the request URL",
                message: e.to_string(),
            })
    }

    /// POSTs JSON to the SSO OIDC service; AWS JSON errors become `Rejected`.
    async fn oidc_post(&self, step: &'static str, path: &str, body: &Value) -> Result<Value> {
        let url = self.url(&self.oidc, path)?;
        let sent = self.http.post(url).json(body).send().await;
        json_answer(step, sent).await
    }

    /// The access token: the one held while valid, else refreshed, else a new sign-in.
    async fn access_token(&self) -> Result<Secret> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref()
            && s.access_expires > self.ctx.now() + TOKEN_MARGIN
        {
            return Ok(s.access_token.clone());
        }
        if let Some(s) = session.as_mut()
            && let Some(rt) = s.refresh_token.clone()
        {
            let body = json!({
                "clientId": s.client_id,
                "clientSecret": s.client_secret.expose(),
                "grantType": "refresh_token",
                "refreshToken": rt.expose(),
            });
            match self.oidc_post(STEP_REFRESH, "token", &body).await {
                Ok(answer) => {
                    let (token, expires, refresh) = self.tokens(STEP_REFRESH, &answer)?;
                    s.access_token = token.clone();
                    s.access_expires = expires;
                    s.refresh_token = refresh.or(Some(rt));
                    return Ok(token);
                }
                Err(e) => tracing::info!("{e}; signing in again"),
            }
        }
        let fresh = self.sign_in().await?;
        let token = fresh.access_token.clone();
        *session = Some(fresh);
        Ok(token)
    }

    fn tokens(
        &self,
        step: &'static str,
        answer: &Value,
    ) -> Result<(Secret, SystemTime, Option<Secret>)> {
        let token = answer["accessToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or(Error::Protocol {
                scheme: SCHEME,
                step,
                message: "the answer has no accessToken".into(),
            })?;
        let expires_in = answer["expiresIn"].as_u64().unwrap_or(3600);
        let refresh = answer["refreshToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        Ok((
            Secret::new(token),
            self.ctx.now() + Duration::from_secs(expires_in),
            refresh,
        ))
    }

    /// Steps 1 to 3: register a client, authorize in the browser, redeem the code.
    async fn sign_in(&self) -> Result<Session> {
        let listener = Callback::listen(SCHEME, self.callback.as_ref(), "/oauth/callback").await?;
        let redirect_uri = listener.redirect_uri().to_string();
        let registered = self
            .oidc_post(
                STEP_REGISTER,
                "client/register",
                &json!({
                    "clientName": "datafusion-athena",
                    "clientType": "public",
                    "scopes": [SCOPE],
                    "grantTypes": ["authorization_code", "refresh_token"],
                    "redirectUris": [redirect_uri],
                    "issuerUrl": self.issuer_url,
                }),
            )
            .await?;
        let field = |name: &str| {
            registered[name]
                .as_str()
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| Error::Protocol {
                    scheme: SCHEME,
                    step: STEP_REGISTER,
                    message: format!("the answer has no {name}"),
                })
        };
        let client_id = field("clientId")?;
        let client_secret = Secret::new(field("clientSecret")?);
        let authorize = match registered["authorizationEndpoint"].as_str() {
            Some(a) if !a.is_empty() => reqwest::Url::parse(a).map_err(|e| Error::Protocol {
                scheme: SCHEME,
                step: STEP_REGISTER,
                message: format!("authorizationEndpoint '{a}' is not a URL: {e}"),
            })?,
            _ => self.url(&self.oidc, "authorize")?,
        };
        let state = callback::state();
        let (verifier, challenge) = callback::pkce();
        let mut url = authorize;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("state", &state)
            .append_pair("code_challenge_method", "S256")
            .append_pair("scopes", SCOPE)
            .append_pair("code_challenge", &challenge);
        self.ctx.open_browser(url.as_str());
        let code = Secret::new(listener.code(&state, callback::TIMEOUT).await?);
        let answer = self
            .oidc_post(
                STEP_TOKEN,
                "token",
                &json!({
                    "clientId": client_id,
                    "clientSecret": client_secret.expose(),
                    "grantType": "authorization_code",
                    "code": code.expose(),
                    "codeVerifier": verifier.expose(),
                    "redirectUri": redirect_uri,
                }),
            )
            .await?;
        let (access_token, access_expires, refresh_token) = self.tokens(STEP_TOKEN, &answer)?;
        Ok(Session {
            client_id,
            client_secret,
            access_token,
            access_expires,
            refresh_token,
        })
    }

    /// Step 4: the domain execution role's credentials for the access token.
    async fn redeem(&self, token: &Secret) -> Result<Credentials> {
        let url = self.url(&self.datazone, "sso/redeem-token")?;
        let sent = self
            .http
            .post(url)
            .json(&json!({ "domainId": self.domain_id, "accessToken": token.expose() }))
            .send()
            .await;
        let answer = json_answer(STEP_REDEEM, sent).await?;
        credentials(STEP_REDEEM, &answer["credentials"])
    }

    /// Step 5: the environment's credentials, signed with the domain credentials.
    async fn environment_credentials(&self, signer: Credentials) -> Result<Credentials> {
        let url = self.url(
            &self.datazone,
            &format!(
                "v2/domains/{}/environments/{}/credentials",
                path_segment(&self.domain_id),
                path_segment(&self.environment_id)
            ),
        )?;
        let headers = sign_get(&url, &self.region, signer, self.ctx.now())?;
        let mut req = self.http.get(url);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let answer = json_answer(STEP_ENV, req.send().await).await?;
        credentials(STEP_ENV, &answer)
    }
}

/// Percent-encodes an id for a URL path segment.
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The SigV4 headers (`host`, `x-amz-date`, `x-amz-security-token`, `authorization`) of a GET
/// to DataZone.
fn sign_get(
    url: &reqwest::Url,
    region: &str,
    creds: Credentials,
    now: SystemTime,
) -> Result<Vec<(String, String)>> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let sign_err = |e: &dyn std::fmt::Display| Error::Protocol {
        scheme: SCHEME,
        step: STEP_ENV,
        message: format!("cannot sign the request: {e}"),
    };
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let identity = aws_smithy_runtime_api::client::identity::Identity::from(creds);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("datazone")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| sign_err(&e))?
        .into();
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        [("host", host.as_str())].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| sign_err(&e))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| sign_err(&e))?
        .into_parts();
    let (headers, _) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|h| (h.name().to_string(), h.value().to_string()))
        .collect())
}

/// The JSON of an answer; AWS JSON errors (`x-amzn-errortype` / `__type` / `error`, with
/// `message` / `error_description`) become `Rejected` for 4xx and `Protocol` otherwise.
async fn json_answer(
    step: &'static str,
    sent: reqwest::Result<reqwest::Response>,
) -> Result<Value> {
    let resp = sent.map_err(|e| Error::call(SCHEME, step, e.without_url()))?;
    let status = resp.status();
    let error_type = resp
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or_default().to_string());
    let text = resp
        .text()
        .await
        .map_err(|e| Error::call(SCHEME, step, e.without_url()))?;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_success() {
        if v.is_object() {
            return Ok(v);
        }
        return Err(Error::Protocol {
            scheme: SCHEME,
            step,
            message: format!(
                "HTTP {} with a body that is not a JSON object",
                status.as_u16()
            ),
        });
    }
    let code = error_type
        .filter(|c| !c.is_empty())
        .or_else(|| {
            v["__type"]
                .as_str()
                .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
        })
        .or_else(|| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| "error".to_string());
    let message = ["error_description", "message", "Message"]
        .iter()
        .find_map(|k| v[*k].as_str())
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let message = format!("HTTP {} {code}: {message}", status.as_u16());
    Err(if status.is_client_error() {
        Error::Rejected {
            scheme: SCHEME,
            step,
            message,
        }
    } else {
        Error::Protocol {
            scheme: SCHEME,
            step,
            message,
        }
    })
}

/// Credentials from `{accessKeyId, secretAccessKey, sessionToken, expiration}`; `expiration`
/// is epoch seconds (AWS JSON's default) or an RFC 3339 string.
fn credentials(step: &'static str, v: &Value) -> Result<Credentials> {
    let field = |name: &str| {
        v[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Protocol {
                scheme: SCHEME,
                step,
                message: format!("the answer's credentials have no {name}"),
            })
    };
    let expiry = match &v["expiration"] {
        Value::Number(n) => n
            .as_f64()
            .filter(|s| *s >= 0.0)
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s)),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| SystemTime::from(d.with_timezone(&chrono::Utc))),
        _ => None,
    }
    .ok_or_else(|| Error::Protocol {
        scheme: SCHEME,
        step,
        message: "the answer's credentials have no usable expiration".into(),
    })?;
    Ok(Credentials::new(
        field("accessKeyId")?,
        field("secretAccessKey")?,
        Some(field("sessionToken")?.to_string()),
        Some(expiry),
        PROVIDER_NAME,
    ))
}

#[async_trait]
impl Fetch for DataZoneIdc {
    async fn fetch(&self) -> Result<Credentials> {
        let token = self.access_token().await?;
        let domain = self.redeem(&token).await?;
        tracing::debug!(
            scheme = SCHEME,
            domain = %self.domain_id,
            environment = %self.environment_id,
            "redeemed the Identity Center token for domain credentials"
        );
        self.environment_credentials(domain).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_take_epoch_seconds_or_rfc3339() {
        let c = credentials(
            STEP_ENV,
            &json!({"accessKeyId": "ASIA1", "secretAccessKey": "s", "sessionToken": "t", "expiration": 1_800_000_000.5}),
        )
        .unwrap();
        assert_eq!(
            c.expiry().unwrap(),
            SystemTime::UNIX_EPOCH + Duration::from_millis(1_800_000_000_500)
        );
        let c = credentials(
            STEP_ENV,
            &json!({"accessKeyId": "ASIA1", "secretAccessKey": "s", "sessionToken": "t", "expiration": "2027-01-15T08:00:00Z"}),
        )
        .unwrap();
        assert_eq!(
            c.expiry().unwrap(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
        );
        let err = credentials(STEP_ENV, &json!({"accessKeyId": "ASIA1"}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "DataZoneIdC: DataZone GetEnvironmentCredentials: unexpected answer: the answer's credentials have no usable expiration"
        );
    }

    #[test]
    fn ids_are_escaped_in_paths() {
        assert_eq!(path_segment("dzd_4p9n6example"), "dzd_4p9n6example");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }
}
