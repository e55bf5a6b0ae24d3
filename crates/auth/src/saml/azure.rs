//! Azure AD / Entra ID: a user token (authorization code with PKCE through a local callback,
//! kept fresh with its refresh token in `OAuthSettingsLocation`; or `User` + `Password`), then
//! the on-behalf-of exchange for a SAML assertion of the AWS app (`SSOProperties` `Resource`,
//! `AzureTenant`), then the SAML core. `SSOLoginURL` overrides the authority
//! (default `https://login.microsoftonline.com`).

use std::path::PathBuf;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use datafusion_athena_config::{ConnectionOptions, Secret};
use serde_json::Value;

use crate::callback::Callback;
use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::saml::{self, SamlLogin};

const SCHEME: &str = "AzureAD";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
const STEP_CODE: &str = "redeem the authorization code";
const STEP_REFRESH: &str = "refresh the user token";
const STEP_OBO: &str = "on-behalf-of exchange for a SAML assertion";
const STEP_ROPC: &str = "password grant for a SAML assertion";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    GetAndRefresh,
    Refresh,
    Off,
}

#[derive(Debug)]
enum Grant {
    Password {
        user: String,
        password: Secret,
    },
    AuthCode {
        callback: reqwest::Url,
        mode: Mode,
        store: Option<PathBuf>,
    },
}

/// Entra ID login ending in a SAML assertion for AWS.
#[derive(Debug)]
pub(crate) struct AzureAd {
    http: reqwest::Client,
    tenant_url: reqwest::Url,
    client_id: String,
    client_secret: Option<Secret>,
    resource: String,
    grant: Grant,
    refresh_token: tokio::sync::Mutex<Option<Secret>>,
    ctx: AuthContext,
}

impl AzureAd {
    pub(crate) fn new(opts: &ConnectionOptions, ctx: &AuthContext) -> Result<Self> {
        let a = &opts.auth;
        let tenant = a
            .sso_properties
            .azure_tenant
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or(Error::MissingOption {
                scheme: SCHEME,
                option: "AzureTenant",
                hint: "set SSOProperties AzureTenant to the directory (tenant) id or domain",
            })?;
        let client_id = a
            .oauth_client_id
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or(Error::MissingOption {
                scheme: SCHEME,
                option: "OAuthClientId",
                hint: "set OAuthClientId to the application (client) id registered in Entra ID",
            })?;
        let authority = a
            .sso_login_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_AUTHORITY.into());
        let tenant_url = reqwest::Url::parse(&format!(
            "{}/{}/",
            authority.trim_end_matches('/'),
            tenant.trim()
        ))
        .map_err(|e| Error::InvalidOption {
            scheme: SCHEME,
            option: "SSOLoginURL",
            message: format!("'{authority}': {e}"),
        })?;
        let resource = a
            .sso_properties
            .resource
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| client_id.clone());
        let grant = match (&a.user, &a.password) {
            (Some(user), Some(password)) if a.initiate_oauth.is_none() => Grant::Password {
                user: user.clone(),
                password: password.clone(),
            },
            _ => {
                let mode = match a
                    .initiate_oauth
                    .as_deref()
                    .map(str::to_ascii_uppercase)
                    .as_deref()
                {
                    None | Some("GETANDREFRESH") => Mode::GetAndRefresh,
                    Some("REFRESH") => Mode::Refresh,
                    Some("OFF") => Mode::Off,
                    Some(other) => {
                        return Err(Error::InvalidOption {
                            scheme: SCHEME,
                            option: "InitiateOAuth",
                            message: format!("'{other}' is not OFF, GETANDREFRESH or REFRESH"),
                        });
                    }
                };
                let raw = a
                    .callback_url
                    .clone()
                    .unwrap_or_else(|| "http://localhost:33333".into());
                let callback = reqwest::Url::parse(&raw).map_err(|e| Error::InvalidOption {
                    scheme: SCHEME,
                    option: "CallbackURL",
                    message: format!("'{raw}' is not a URL: {e}"),
                })?;
                Grant::AuthCode {
                    callback,
                    mode,
                    store: a.oauth_settings_location.clone(),
                }
            }
        };
        let stored = match &grant {
            Grant::AuthCode {
                store: Some(path), ..
            } => read_refresh_token(path),
            _ => None,
        };
        Ok(Self {
            http: saml::http_client(SCHEME)?,
            tenant_url,
            client_id,
            client_secret: a.oauth_client_secret.clone().filter(|s| !s.is_empty()),
            resource,
            grant,
            refresh_token: tokio::sync::Mutex::new(stored),
            ctx: ctx.clone(),
        })
    }

    fn endpoint(&self, path: &str) -> Result<reqwest::Url> {
        self.tenant_url
            .join(path)
            .map_err(|e| Error::InvalidOption {
                scheme: SCHEME,
                option: "SSOLoginURL",
                message: e.to_string(),
            })
    }

    /// POSTs a token request; OAuth errors become `Rejected` with the error code and the
    /// description's first line.
    async fn token(
        &self,
        step: &'static str,
        path: &str,
        mut form: Vec<(&str, String)>,
    ) -> Result<Value> {
        form.push(("client_id", self.client_id.clone()));
        if let Some(s) = &self.client_secret {
            form.push(("client_secret", s.expose().to_string()));
        }
        let url = self.endpoint(path)?;
        let (_, status, text) =
            saml::body(SCHEME, step, self.http.post(url).form(&form).send().await).await?;
        let v: Value = serde_json::from_str(&text).map_err(|_| Error::Protocol {
            scheme: SCHEME,
            step,
            message: format!("HTTP {} with a body that is not JSON", status.as_u16()),
        })?;
        if !status.is_success() || v.get("error").is_some() {
            let code = v["error"].as_str().unwrap_or("error");
            let desc = v["error_description"]
                .as_str()
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default();
            return Err(Error::Rejected {
                scheme: SCHEME,
                step,
                message: format!("HTTP {} {code}: {desc}", status.as_u16()),
            });
        }
        Ok(v)
    }

    fn scope(&self) -> String {
        format!(
            "{}/user_impersonation offline_access",
            self.resource.trim_end_matches('/')
        )
    }

    /// Keeps the refresh token of a token answer, in memory and in OAuthSettingsLocation.
    async fn keep_refresh_token(&self, answer: &Value) -> Result<()> {
        let Some(rt) = answer["refresh_token"].as_str() else {
            return Ok(());
        };
        *self.refresh_token.lock().await = Some(Secret::new(rt));
        if let Grant::AuthCode {
            store: Some(path), ..
        } = &self.grant
        {
            let json = serde_json::json!({ "RefreshToken": rt }).to_string();
            crate::cache::write_private(json.as_bytes(), path).map_err(|(message, e)| {
                Error::Cache {
                    scheme: SCHEME,
                    path: path.clone(),
                    message: format!("OAuthSettingsLocation {message}"),
                    source: Some(e),
                }
            })?;
        }
        Ok(())
    }

    /// The user's access token: refreshed when a refresh token is held, else by signing in.
    async fn user_token(&self, callback: &reqwest::Url, mode: Mode) -> Result<String> {
        let held = self.refresh_token.lock().await.clone();
        if let Some(rt) = held.filter(|_| mode != Mode::Off) {
            let form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", rt.expose().to_string()),
                ("scope", self.scope()),
            ];
            match self.token(STEP_REFRESH, "oauth2/v2.0/token", form).await {
                Ok(answer) => {
                    self.keep_refresh_token(&answer).await?;
                    return access_token(STEP_REFRESH, &answer);
                }
                Err(e) if mode == Mode::Refresh => return Err(e),
                Err(e) => tracing::info!("refresh failed, signing in again: {e}"),
            }
        }
        match mode {
            Mode::GetAndRefresh => {
                let answer = self.sign_in(callback).await?;
                self.keep_refresh_token(&answer).await?;
                access_token(STEP_CODE, &answer)
            }
            Mode::Refresh => Err(Error::MissingOption {
                scheme: SCHEME,
                option: "OAuthSettingsLocation",
                hint: "InitiateOAuth=REFRESH needs a stored refresh token; sign in once with InitiateOAuth=GETANDREFRESH",
            }),
            Mode::Off => Err(Error::InvalidOption {
                scheme: SCHEME,
                option: "InitiateOAuth",
                message: "OFF cannot obtain a user token; use GETANDREFRESH (or User and Password)"
                    .into(),
            }),
        }
    }

    /// Authorization code with PKCE: show the sign-in URL, catch the code on CallbackURL.
    async fn sign_in(&self, callback: &reqwest::Url) -> Result<Value> {
        let listener = Callback::listen(SCHEME, Some(callback), "/").await?;
        let state = crate::callback::state();
        let (verifier, challenge) = crate::callback::pkce();
        let mut url = self.endpoint("oauth2/v2.0/authorize")?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", callback.as_str())
            .append_pair("response_mode", "query")
            .append_pair("scope", &self.scope())
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        self.ctx.open_browser(url.as_str());
        let code = listener.code(&state, crate::callback::TIMEOUT).await?;
        let form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code),
            ("redirect_uri", callback.to_string()),
            ("code_verifier", verifier.expose().to_string()),
            ("scope", self.scope()),
        ];
        self.token(STEP_CODE, "oauth2/v2.0/token", form).await
    }
}

fn access_token(step: &'static str, answer: &Value) -> Result<String> {
    answer["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or(Error::Protocol {
            scheme: SCHEME,
            step,
            message: "the token answer has no access_token".into(),
        })
}

fn read_refresh_token(path: &std::path::Path) -> Option<Secret> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["RefreshToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(Secret::new)
}

#[async_trait]
impl SamlLogin for AzureAd {
    async fn saml_response(&self) -> Result<String> {
        let (step, answer) = match &self.grant {
            Grant::Password { user, password } => {
                let form = vec![
                    ("grant_type", "password".to_string()),
                    ("username", user.clone()),
                    ("password", password.expose().to_string()),
                    ("resource", self.resource.clone()),
                    ("requested_token_type", SAML2.to_string()),
                ];
                (
                    STEP_ROPC,
                    self.token(STEP_ROPC, "oauth2/token", form).await?,
                )
            }
            Grant::AuthCode { callback, mode, .. } => {
                let user_token = self.user_token(callback, *mode).await?;
                let form = vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".to_string(),
                    ),
                    ("assertion", user_token),
                    ("resource", self.resource.clone()),
                    ("requested_token_use", "on_behalf_of".to_string()),
                    ("requested_token_type", SAML2.to_string()),
                ];
                (STEP_OBO, self.token(STEP_OBO, "oauth2/token", form).await?)
            }
        };
        let token = access_token(step, &answer)?;
        let xml = URL_SAFE_NO_PAD
            .decode(token.trim().trim_end_matches('='))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(Error::Protocol {
                scheme: SCHEME,
                step,
                message: "the SAML token is not base64url XML".into(),
            })?;
        saml::wrap_assertion(SCHEME, step, &xml)
    }
}
