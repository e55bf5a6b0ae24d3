//! Okta: the authn API (optionally as a trusted app with an API token), MFA (Okta Verify push
//! or TOTP, SMS, email) with `MFAPassCode` / `MFARememberDevice`, then the AWS app's embed link
//! with the one-time session token, then the SAML core.

use std::time::Duration;

use async_trait::async_trait;
use datafusion_athena_config::{ConnectionOptions, Secret};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::saml::{self, SamlLogin};

const SCHEME: &str = "Okta";
const AUTHN: &str = "Okta authn (POST /api/v1/authn)";
const VERIFY: &str = "verify MFA factor";
const APP: &str = "open the Okta AWS app";
const PUSH_POLL: Duration = Duration::from_secs(2);
const PUSH_MAX_POLLS: u32 = 60;

/// Okta login for the AWS app at `SSOLoginURL` (its embed link).
#[derive(Debug)]
pub(crate) struct Okta {
    http: reqwest::Client,
    app_url: reqwest::Url,
    authn_url: reqwest::Url,
    user: String,
    password: Secret,
    api_token: Option<Secret>,
    mfa_type: Option<String>,
    pass_code: Option<Secret>,
    remember_device: bool,
}

impl Okta {
    pub(crate) fn new(opts: &ConnectionOptions) -> Result<Self> {
        let app_url = saml::login_url(SCHEME, opts)?;
        let authn_url = app_url
            .join("/api/v1/authn")
            .map_err(|e| Error::InvalidOption {
                scheme: SCHEME,
                option: "SSOLoginURL",
                message: e.to_string(),
            })?;
        let (user, password) = saml::user_password(SCHEME, opts)?;
        let p = &opts.auth.sso_properties;
        Ok(Self {
            http: saml::http_client(SCHEME)?,
            app_url,
            authn_url,
            user,
            password,
            api_token: p.api_token.clone().filter(|t| !t.is_empty()),
            mfa_type: p.mfa_type.clone().filter(|t| !t.trim().is_empty()),
            pass_code: p.mfa_pass_code.clone().filter(|c| !c.is_empty()),
            remember_device: p.mfa_remember_device,
        })
    }

    async fn post(&self, step: &'static str, url: &str, body: &Value) -> Result<Value> {
        let mut req = self
            .http
            .post(url)
            .header("accept", "application/json")
            .json(body);
        if let Some(t) = &self.api_token {
            req = req.header("authorization", format!("SSWS {}", t.expose()));
        }
        let (_, status, text) = saml::body(SCHEME, step, req.send().await).await?;
        let v: Value = serde_json::from_str(&text).map_err(|_| Error::Protocol {
            scheme: SCHEME,
            step,
            message: format!("HTTP {} with a body that is not JSON", status.as_u16()),
        })?;
        if !status.is_success() {
            let summary = v["errorSummary"].as_str().unwrap_or("no errorSummary");
            let code = v["errorCode"].as_str().unwrap_or("-");
            return Err(Error::Rejected {
                scheme: SCHEME,
                step,
                message: format!("HTTP {} {code}: {summary}", status.as_u16()),
            });
        }
        Ok(v)
    }

    /// Picks the factor `MFAType` asks for (Okta Verify: push, or TOTP when a passcode is given).
    fn pick_factor<'a>(&self, factors: &'a [Value]) -> Result<&'a Value> {
        let wanted = self
            .mfa_type
            .as_deref()
            .unwrap_or("OktaVerify")
            .to_ascii_lowercase();
        let kinds: &[&str] = match wanted.as_str() {
            "oktaverify" | "okta" | "push" if self.pass_code.is_some() => {
                &["token:software:totp", "push"]
            }
            "oktaverify" | "okta" | "push" => &["push", "token:software:totp"],
            "totp" | "googleauthenticator" | "google" => &["token:software:totp"],
            "sms" => &["sms"],
            "email" => &["email"],
            other => {
                return Err(Error::InvalidOption {
                    scheme: SCHEME,
                    option: "MFAType",
                    message: format!("'{other}' is not OktaVerify, SMS or Email"),
                });
            }
        };
        kinds
            .iter()
            .find_map(|k| factors.iter().find(|f| f["factorType"] == *k))
            .ok_or_else(|| {
                let offered: Vec<&str> = factors
                    .iter()
                    .filter_map(|f| f["factorType"].as_str())
                    .collect();
                Error::Rejected {
                    scheme: SCHEME,
                    step: VERIFY,
                    message: format!(
                        "no {} factor is enrolled; factors on offer: {}",
                        kinds.join(" or "),
                        offered.join(", ")
                    ),
                }
            })
    }

    async fn verify(&self, state_token: &str, factor: &Value) -> Result<Value> {
        let href = factor["_links"]["verify"]["href"]
            .as_str()
            .ok_or_else(|| Error::Protocol {
                scheme: SCHEME,
                step: VERIFY,
                message: "the factor has no verify link".into(),
            })?;
        let url = format!("{href}?rememberDevice={}", self.remember_device);
        let kind = factor["factorType"].as_str().unwrap_or_default();
        match kind {
            "push" => {
                let mut answer = self
                    .post(VERIFY, &url, &json!({ "stateToken": state_token }))
                    .await?;
                for _ in 0..PUSH_MAX_POLLS {
                    if answer["status"] == "SUCCESS" {
                        return Ok(answer);
                    }
                    match answer["factorResult"].as_str() {
                        Some("WAITING") => {}
                        Some("REJECTED") => {
                            return Err(rejected(
                                "the Okta Verify push was rejected on the device",
                            ));
                        }
                        Some("TIMEOUT") => {
                            return Err(rejected(
                                "the Okta Verify push timed out before it was approved",
                            ));
                        }
                        other => {
                            return Err(rejected(&format!("unexpected factorResult {other:?}")));
                        }
                    }
                    tokio::time::sleep(PUSH_POLL).await;
                    let next = answer["_links"]["next"]["href"]
                        .as_str()
                        .unwrap_or(&url)
                        .to_string();
                    answer = self
                        .post(VERIFY, &next, &json!({ "stateToken": state_token }))
                        .await?;
                }
                Err(rejected("the Okta Verify push was not approved in time"))
            }
            _ => {
                let Some(code) = &self.pass_code else {
                    if kind == "sms" || kind == "email" {
                        // Sends the code; the user then connects again with MFAPassCode.
                        self.post(VERIFY, &url, &json!({ "stateToken": state_token }))
                            .await?;
                        return Err(Error::MissingOption {
                            scheme: SCHEME,
                            option: "MFAPassCode",
                            hint: "a one-time code was sent; set SSOProperties MFAPassCode to it and connect again",
                        });
                    }
                    return Err(Error::MissingOption {
                        scheme: SCHEME,
                        option: "MFAPassCode",
                        hint: "set SSOProperties MFAPassCode to the current code of the authenticator",
                    });
                };
                let answer = self
                    .post(
                        VERIFY,
                        &url,
                        &json!({ "stateToken": state_token, "passCode": code.expose() }),
                    )
                    .await;
                match answer {
                    // A wrong SMS / email code: a new one is sent for the next connection.
                    Err(Error::Rejected { message, .. })
                        if (kind == "sms" || kind == "email") && message.contains("E0000068") =>
                    {
                        self.post(VERIFY, &url, &json!({ "stateToken": state_token }))
                            .await?;
                        Err(rejected(&format!(
                            "MFAPassCode was not accepted ({message}); a new one-time code was sent: set SSOProperties MFAPassCode to it and connect again"
                        )))
                    }
                    other => other,
                }
            }
        }
    }
}

fn rejected(message: &str) -> Error {
    Error::Rejected {
        scheme: SCHEME,
        step: VERIFY,
        message: message.to_string(),
    }
}

#[async_trait]
impl SamlLogin for Okta {
    async fn saml_response(&self) -> Result<String> {
        let body = json!({ "username": self.user, "password": self.password.expose() });
        let mut answer = self.post(AUTHN, self.authn_url.as_str(), &body).await?;
        if answer["status"] == "MFA_REQUIRED" {
            let state = answer["stateToken"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let factors = answer["_embedded"]["factors"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let factor = self.pick_factor(&factors)?.clone();
            answer = self.verify(&state, &factor).await?;
        }
        match answer["status"].as_str() {
            Some("SUCCESS") => {}
            Some("LOCKED_OUT") => {
                return Err(Error::Rejected {
                    scheme: SCHEME,
                    step: AUTHN,
                    message: "the user is locked out".into(),
                });
            }
            Some("PASSWORD_EXPIRED") => {
                return Err(Error::Rejected {
                    scheme: SCHEME,
                    step: AUTHN,
                    message: "the password has expired; change it in Okta".into(),
                });
            }
            other => {
                return Err(Error::Protocol {
                    scheme: SCHEME,
                    step: AUTHN,
                    message: format!("unexpected status {other:?}"),
                });
            }
        }
        let session = answer["sessionToken"]
            .as_str()
            .ok_or_else(|| Error::Protocol {
                scheme: SCHEME,
                step: AUTHN,
                message: "SUCCESS without a sessionToken".into(),
            })?;
        let mut app = self.app_url.clone();
        app.query_pairs_mut().append_pair("onetimetoken", session);
        let (_, status, page) = saml::body(SCHEME, APP, self.http.get(app).send().await).await?;
        if !status.is_success() {
            return Err(Error::Rejected {
                scheme: SCHEME,
                step: APP,
                message: format!("HTTP {}", status.as_u16()),
            });
        }
        saml::response_from_html(SCHEME, APP, &page)
    }
}
