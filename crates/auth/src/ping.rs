//! PingFederate: a WS-Trust 1.3 Issue request (SOAP 1.2, UsernameToken) to the STS endpoint at
//! `SSOLoginURL` for the relying party `SSOExchangeURL`; the SAML assertion it returns is wrapped
//! in a Response and handed to the SAML core.

use async_trait::async_trait;
use datafusion_athena_config::{ConnectionOptions, Secret};

use crate::error::{Error, Result};
use crate::saml::{self, SamlLogin};

const SCHEME: &str = "PingFederate";
const STEP: &str = "WS-Trust Issue (POST SSOLoginURL)";
const DEFAULT_APPLIES_TO: &str = "urn:amazon:webservices";

/// WS-Trust login at PingFederate.
#[derive(Debug)]
pub(crate) struct Ping {
    http: reqwest::Client,
    url: reqwest::Url,
    applies_to: String,
    user: String,
    password: Secret,
}

impl Ping {
    pub(crate) fn new(opts: &ConnectionOptions) -> Result<Self> {
        if opts.auth.sso_properties.ssl_client_cert.is_some() {
            return Err(Error::Unsupported {
                scheme: SCHEME,
                message: "mutual TLS (SSOProperties SSLClientCert) is not implemented yet".into(),
            });
        }
        let (user, password) = saml::user_password(SCHEME, opts)?;
        Ok(Self {
            http: saml::http_client(SCHEME)?,
            url: saml::login_url(SCHEME, opts)?,
            applies_to: opts
                .auth
                .sso_exchange_url
                .clone()
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_APPLIES_TO.to_string()),
            user,
            password,
        })
    }

    fn envelope(&self) -> String {
        let now = chrono::Utc::now();
        let created = now.format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let expires = (now + chrono::Duration::minutes(5)).format("%Y-%m-%dT%H:%M:%S%.3fZ");
        format!(
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><s:Header><a:Action s:mustUnderstand="1">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue</a:Action><a:To s:mustUnderstand="1">{to}</a:To><o:Security s:mustUnderstand="1" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><u:Timestamp u:Id="_0"><u:Created>{created}</u:Created><u:Expires>{expires}</u:Expires></u:Timestamp><o:UsernameToken u:Id="uuid-1"><o:Username>{user}</o:Username><o:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">{password}</o:Password></o:UsernameToken></o:Security></s:Header><s:Body><trust:RequestSecurityToken xmlns:trust="http://docs.oasis-open.org/ws-sx/ws-trust/200512"><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><a:EndpointReference><a:Address>{applies}</a:Address></a:EndpointReference></wsp:AppliesTo><trust:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</trust:KeyType><trust:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</trust:RequestType><trust:TokenType>http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0</trust:TokenType></trust:RequestSecurityToken></s:Body></s:Envelope>"#,
            to = xml_escape(self.url.as_str()),
            user = xml_escape(&self.user),
            password = xml_escape(self.password.expose()),
            applies = xml_escape(&self.applies_to),
        )
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The `Reason/Text` (SOAP 1.2) or `faultstring` (SOAP 1.1) of a fault.
fn fault_reason(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| matches!(n.tag_name().name(), "Text" | "faultstring"))
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
}

#[async_trait]
impl SamlLogin for Ping {
    async fn saml_response(&self) -> Result<String> {
        let sent = self
            .http
            .post(self.url.clone())
            .header("content-type", "application/soap+xml; charset=utf-8")
            .body(self.envelope())
            .send()
            .await;
        let (_, status, body) = saml::body(SCHEME, STEP, sent).await?;
        if !status.is_success() {
            let reason = fault_reason(&body).unwrap_or_else(|| "no SOAP fault reason".into());
            return Err(Error::Rejected {
                scheme: SCHEME,
                step: STEP,
                message: format!("HTTP {}: {reason}", status.as_u16()),
            });
        }
        saml::wrap_assertion(SCHEME, STEP, &body)
    }
}
