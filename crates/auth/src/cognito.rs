//! AwsCognitoBasic / AwsCognitoSrp: a Cognito user pool sign-in (USER_PASSWORD_AUTH, or
//! USER_SRP_AUTH + PASSWORD_VERIFIER so the password never leaves the machine), then the
//! identity pool's credentials for the id token (GetId, GetCredentialsForIdentity). All calls
//! are unsigned JSON calls; `Endpoint` overrides both services' URLs (local emulators).

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use datafusion_athena_config::{ConnectionOptions, Secret};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::refresh::Fetch;

const BASIC: &str = "AwsCognitoBasic";
const SRP: &str = "AwsCognitoSrp";
const PROVIDER_NAME: &str = "datafusion-athena-cognito";

/// User pool + identity pool login.
#[derive(Debug)]
pub(crate) struct Cognito {
    http: reqwest::Client,
    idp_url: String,
    identity_url: String,
    region: String,
    pool_id: String,
    client_id: String,
    client_secret: Option<Secret>,
    identity_pool_id: String,
    user: String,
    password: Secret,
    scheme: &'static str,
    ctx: crate::context::AuthContext,
}

fn required(
    scheme: &'static str,
    value: &Option<String>,
    option: &'static str,
    hint: &'static str,
) -> Result<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or(Error::MissingOption {
            scheme,
            option,
            hint,
        })
}

impl Cognito {
    pub(crate) fn new(
        srp: bool,
        opts: &ConnectionOptions,
        ctx: &crate::context::AuthContext,
    ) -> Result<Self> {
        let scheme = if srp { SRP } else { BASIC };
        let c = &opts.auth.cognito;
        let pool_id = required(
            scheme,
            &c.user_pool_id,
            "AWSUserPoolId",
            "set AWSUserPoolId to the user pool id (region_id)",
        )?;
        let client_id = required(
            scheme,
            &c.user_pool_client_app_id,
            "AWSUserPoolClientAppId",
            "set AWSUserPoolClientAppId to the app client id of the user pool",
        )?;
        let identity_pool_id = required(
            scheme,
            &c.identity_pool_id,
            "AWSIdentityPoolId",
            "set AWSIdentityPoolId to the identity pool that issues AWS credentials",
        )?;
        let region = c
            .region
            .clone()
            .filter(|r| !r.trim().is_empty())
            .or_else(|| pool_id.split_once('_').map(|(r, _)| r.to_string()))
            .or_else(|| opts.region.as_ref().map(|r| r.code().to_string()))
            .ok_or(Error::MissingOption {
                scheme,
                option: "AWSCognitoRegion",
                hint: "set AWSCognitoRegion to the user pool's region",
            })?;
        let (user, password) = crate::saml::user_password(scheme, opts)?;
        let endpoint = opts.endpoints.all.clone();
        Ok(Self {
            http: crate::saml::http_client(scheme)?,
            idp_url: endpoint
                .clone()
                .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com/")),
            identity_url: endpoint
                .unwrap_or_else(|| format!("https://cognito-identity.{region}.amazonaws.com/")),
            region,
            pool_id,
            client_id,
            client_secret: c
                .user_pool_client_app_secret
                .clone()
                .filter(|s| !s.is_empty()),
            identity_pool_id,
            user,
            password,
            scheme,
            ctx: ctx.clone(),
        })
    }

    /// `SECRET_HASH = base64(HMAC-SHA256(client secret, user name + client id))`.
    fn secret_hash(&self, secret: &Secret, user: &str) -> Result<String> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).map_err(|e| {
            Error::InvalidOption {
                scheme: self.scheme,
                option: "AWSUserPoolClientAppSecret",
                message: e.to_string(),
            }
        })?;
        mac.update(user.as_bytes());
        mac.update(self.client_id.as_bytes());
        Ok(STANDARD.encode(mac.finalize().into_bytes()))
    }

    async fn call(
        &self,
        step: &'static str,
        url: &str,
        target: &str,
        body: Value,
    ) -> Result<Value> {
        let sent = self
            .http
            .post(url)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(body.to_string())
            .send()
            .await;
        let (_, status, text) = crate::saml::body(self.scheme, step, sent).await?;
        let v: Value = serde_json::from_str(&text).map_err(|_| Error::Protocol {
            scheme: self.scheme,
            step,
            message: format!("HTTP {} with a body that is not JSON", status.as_u16()),
        })?;
        if !status.is_success() {
            let kind = v["__type"].as_str().unwrap_or("error");
            let kind = kind.rsplit('#').next().unwrap_or(kind);
            let message = v["message"]
                .as_str()
                .or(v["Message"].as_str())
                .unwrap_or_default();
            return Err(Error::Rejected {
                scheme: self.scheme,
                step,
                message: format!("{kind}: {message}"),
            });
        }
        Ok(v)
    }
}

impl Cognito {
    fn id_token(&self, step: &'static str, auth: &Value) -> Result<String> {
        if let Some(challenge) = auth["ChallengeName"].as_str() {
            return Err(Error::Rejected {
                scheme: self.scheme,
                step,
                message: format!(
                    "the user pool asks for {challenge}, which a connection cannot answer (complete it in the app first)"
                ),
            });
        }
        auth["AuthenticationResult"]["IdToken"]
            .as_str()
            .map(str::to_string)
            .ok_or(Error::Protocol {
                scheme: self.scheme,
                step,
                message: "no AuthenticationResult.IdToken".into(),
            })
    }

    async fn sign_in_password(&self) -> Result<String> {
        const STEP: &str = "user pool InitiateAuth (USER_PASSWORD_AUTH)";
        let mut params = json!({ "USERNAME": self.user, "PASSWORD": self.password.expose() });
        if let Some(secret) = &self.client_secret {
            params["SECRET_HASH"] = Value::String(self.secret_hash(secret, &self.user)?);
        }
        let body = json!({ "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": self.client_id, "AuthParameters": params });
        let target = "AWSCognitoIdentityProviderService.InitiateAuth";
        let auth = self.call(STEP, &self.idp_url, target, body).await?;
        self.id_token(STEP, &auth)
    }

    async fn sign_in_srp(&self) -> Result<String> {
        const START: &str = "user pool InitiateAuth (USER_SRP_AUTH)";
        const VERIFY: &str = "user pool RespondToAuthChallenge (PASSWORD_VERIFIER)";
        let srp = crate::srp::SrpClient::random();
        let mut params = json!({ "USERNAME": self.user, "SRP_A": srp.srp_a() });
        if let Some(secret) = &self.client_secret {
            params["SECRET_HASH"] = Value::String(self.secret_hash(secret, &self.user)?);
        }
        let body = json!({ "AuthFlow": "USER_SRP_AUTH", "ClientId": self.client_id, "AuthParameters": params });
        let target = "AWSCognitoIdentityProviderService.InitiateAuth";
        let challenge = self.call(START, &self.idp_url, target, body).await?;
        if challenge["ChallengeName"] != "PASSWORD_VERIFIER" {
            return Err(Error::Protocol {
                scheme: self.scheme,
                step: START,
                message: format!(
                    "expected the PASSWORD_VERIFIER challenge, got {}",
                    challenge["ChallengeName"]
                ),
            });
        }
        let p = &challenge["ChallengeParameters"];
        let field = |name: &str| {
            p[name].as_str().map(str::to_string).ok_or(Error::Protocol {
                scheme: self.scheme,
                step: START,
                message: format!("ChallengeParameters.{name} is missing"),
            })
        };
        let (user_id, salt, srp_b, block_b64) = (
            field("USER_ID_FOR_SRP")?,
            field("SALT")?,
            field("SRP_B")?,
            field("SECRET_BLOCK")?,
        );
        let username = field("USERNAME").unwrap_or_else(|_| self.user.clone());
        let pool_name = self
            .pool_id
            .split_once('_')
            .map_or(self.pool_id.as_str(), |(_, n)| n);
        let key = srp
            .key(pool_name, &user_id, self.password.expose(), &srp_b, &salt)
            .ok_or(Error::Protocol {
                scheme: self.scheme,
                step: START,
                message: "the server's SRP_B is unusable".into(),
            })?;
        let block = STANDARD
            .decode(block_b64.trim())
            .map_err(|e| Error::Protocol {
                scheme: self.scheme,
                step: START,
                message: format!("SECRET_BLOCK is not base64: {e}"),
            })?;
        let timestamp = crate::srp::timestamp(self.ctx.now());
        let mut answers = json!({
            "USERNAME": username,
            "TIMESTAMP": timestamp,
            "PASSWORD_CLAIM_SECRET_BLOCK": block_b64,
            "PASSWORD_CLAIM_SIGNATURE": crate::srp::signature(&key, pool_name, &user_id, &block, &timestamp),
        });
        if let Some(secret) = &self.client_secret {
            answers["SECRET_HASH"] = Value::String(self.secret_hash(secret, &username)?);
        }
        let mut body = json!({ "ChallengeName": "PASSWORD_VERIFIER", "ClientId": self.client_id, "ChallengeResponses": answers });
        if let Some(session) = challenge["Session"].as_str() {
            body["Session"] = Value::String(session.to_string());
        }
        let target = "AWSCognitoIdentityProviderService.RespondToAuthChallenge";
        let auth = self.call(VERIFY, &self.idp_url, target, body).await?;
        self.id_token(VERIFY, &auth)
    }
}

#[async_trait]
impl Fetch for Cognito {
    async fn fetch(&self) -> Result<Credentials> {
        const GET_ID: &str = "identity pool GetId";
        const GET_CREDS: &str = "identity pool GetCredentialsForIdentity";
        let id_token = if self.scheme == SRP {
            self.sign_in_srp().await?
        } else {
            self.sign_in_password().await?
        };
        let id_token = id_token.as_str();
        let provider = format!("cognito-idp.{}.amazonaws.com/{}", self.region, self.pool_id);
        let logins = json!({ provider: id_token });
        let id = self
            .call(
                GET_ID,
                &self.identity_url,
                "AWSCognitoIdentityService.GetId",
                json!({ "IdentityPoolId": self.identity_pool_id, "Logins": logins }),
            )
            .await?;
        let identity_id = id["IdentityId"].as_str().ok_or(Error::Protocol {
            scheme: self.scheme,
            step: GET_ID,
            message: "no IdentityId".into(),
        })?;
        let out = self
            .call(
                GET_CREDS,
                &self.identity_url,
                "AWSCognitoIdentityService.GetCredentialsForIdentity",
                json!({ "IdentityId": identity_id, "Logins": logins }),
            )
            .await?;
        let c = &out["Credentials"];
        let field = |name: &str| {
            c[name].as_str().map(str::to_string).ok_or(Error::Protocol {
                scheme: self.scheme,
                step: GET_CREDS,
                message: format!("Credentials.{name} is missing"),
            })
        };
        let expiration = c["Expiration"].as_f64().ok_or(Error::Protocol {
            scheme: self.scheme,
            step: GET_CREDS,
            message: "Credentials.Expiration is missing".into(),
        })?;
        let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(expiration.max(0.0));
        Ok(Credentials::new(
            field("AccessKeyId")?,
            field("SecretKey")?,
            Some(field("SessionToken")?),
            Some(expiry),
            PROVIDER_NAME,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_cognitos_definition() {
        let mut o = ConnectionOptions::default();
        o.auth.user = Some("alice".into());
        o.auth.password = Some(Secret::new("pw"));
        o.auth.cognito.user_pool_id = Some("eu-west-1_abc".into());
        o.auth.cognito.user_pool_client_app_id = Some("client-id-1".into());
        o.auth.cognito.identity_pool_id = Some("eu-west-1:pool".into());
        let c = Cognito::new(false, &o, &crate::context::AuthContext::new()).unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.idp_url, "https://cognito-idp.eu-west-1.amazonaws.com/");
        // Known answer computed with Python's hmac module.
        assert_eq!(
            c.secret_hash(&Secret::new("client-secret"), "alice")
                .unwrap(),
            "zHPdbez41pLeyBzFyYnFVxywCN6QHjTmy3uir9xBcZk="
        );
    }
}
