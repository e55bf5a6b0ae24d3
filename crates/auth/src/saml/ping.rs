//! PingFederate: a WS-Trust 1.3 Issue request (SOAP 1.2, UsernameToken) to the STS endpoint at
//! `SSOLoginURL` for the relying party `SSOExchangeURL`; the SAML assertion it returns is wrapped
//! in a Response and handed to the SAML core.
//!
//! Mutual TLS: `SSOProperties` `SSLClientCert` holds the client certificate and its key in PEM
//! (`SSLClientCertType=PEMKEY_FILE`, the default: a file path; `PEMKEY_BLOB`: the PEM text). The
//! server's certificate is checked against the system roots plus the PEM bundle named by
//! `AWS_CA_BUNDLE` (as the AWS CLI and SDKs do).

use async_trait::async_trait;
use datafusion_athena_config::{ConnectionOptions, Secret};

use crate::context::AuthContext;
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
    /// Whether a client certificate is configured (for the hint of TLS failures).
    has_cert: bool,
}

impl Ping {
    pub(crate) fn new(opts: &ConnectionOptions, ctx: &AuthContext) -> Result<Self> {
        let (user, password) = saml::user_password(SCHEME, opts)?;
        let mut http = saml::http_builder();
        let identity = client_identity(opts)?;
        let has_cert = identity.is_some();
        if let Some(identity) = identity {
            http = http.identity(identity);
        }
        http = saml::with_ca_bundle(SCHEME, ctx, http)?;
        let http = http.build().map_err(|e| {
            if has_cert {
                // rustls reads the key only now.
                Error::InvalidOption {
                    scheme: SCHEME,
                    option: "SSLClientCert",
                    message: format!("not a usable certificate and key: {e}"),
                }
            } else {
                Error::call(SCHEME, "build the HTTP client", e)
            }
        })?;
        Ok(Self {
            http,
            has_cert,
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

/// The client certificate and key of `SSOProperties` `SSLClientCert`, when set.
fn client_identity(opts: &ConnectionOptions) -> Result<Option<reqwest::Identity>> {
    let p = &opts.auth.sso_properties;
    let Some(cert) = p
        .ssl_client_cert
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    else {
        return Ok(None);
    };
    let kind = p
        .ssl_client_cert_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("PEMKEY_FILE")
        .to_ascii_uppercase();
    let invalid = |option: &'static str, message: String| Error::InvalidOption {
        scheme: SCHEME,
        option,
        message,
    };
    let pem = match kind.as_str() {
        "PEMKEY_FILE" => std::fs::read(cert.trim()).map_err(|e| {
            invalid(
                "SSLClientCert",
                format!("cannot read the PEM file '{}': {e}", cert.trim()),
            )
        })?,
        "PEMKEY_BLOB" => cert.as_bytes().to_vec(),
        "PFXFILE" | "PFXBLOB" => {
            return Err(invalid(
                "SSLClientCertType",
                format!(
                    "{kind} (PKCS#12) is not supported; convert it to PEM (openssl pkcs12 -in cert.pfx -out cert.pem -nodes) and use PEMKEY_FILE"
                ),
            ));
        }
        other => {
            return Err(invalid(
                "SSLClientCertType",
                format!("'{other}' is not PEMKEY_FILE, PEMKEY_BLOB, PFXFILE or PFXBLOB"),
            ));
        }
    };
    let text = String::from_utf8_lossy(&pem);
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(invalid(
            "SSLClientCert",
            format!("the {kind} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
        ));
    }
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err(invalid(
            "SSLClientCertPassword",
            "encrypted private keys are not supported; decrypt the key (openssl pkey -in key.pem -out plain.pem) and leave SSLClientCertPassword empty".into(),
        ));
    }
    if !text.contains("PRIVATE KEY-----") {
        return Err(invalid(
            "SSLClientCert",
            format!("the {kind} holds no private key; put the certificate and its key in one PEM"),
        ));
    }
    if p.ssl_client_cert_subject
        .as_deref()
        .is_some_and(|s| !matches!(s.trim(), "" | "*"))
    {
        tracing::warn!(
            scheme = SCHEME,
            "SSLClientCertSubject is ignored for PEM certificates: the first certificate is used"
        );
    }
    reqwest::Identity::from_pem(&pem).map(Some).map_err(|e| {
        invalid(
            "SSLClientCert",
            format!("not a usable certificate and key: {e}"),
        )
    })
}

impl Ping {
    /// Adds what to do to a TLS failure of the WS-Trust call (the cause stays in the message).
    fn tls_hint(&self, e: Error) -> Error {
        let Error::Call {
            scheme,
            step,
            message,
            source,
        } = e
        else {
            return e;
        };
        let hint = if message.contains("CertificateRequired") && !self.has_cert {
            Some("the server requires a client certificate: set SSOProperties SSLClientCert")
        } else if message.contains("fatal alert")
            && [
                "UnknownCA",
                "BadCertificate",
                "CertificateUnknown",
                "AccessDenied",
                "CertificateExpired",
                "CertificateRequired",
            ]
            .iter()
            .any(|a| message.contains(a))
        {
            Some(
                "the server refused the client certificate of SSOProperties SSLClientCert; is it issued by a CA the server trusts?",
            )
        } else if message.contains("invalid peer certificate") {
            Some(
                "the server's certificate is not trusted: add its CA to the PEM bundle named by AWS_CA_BUNDLE",
            )
        } else {
            None
        };
        let message = match hint {
            Some(h) => format!("{message} ({h})"),
            None => message,
        };
        Error::Call {
            scheme,
            step,
            message,
            source,
        }
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
        let (_, status, body) = saml::body(SCHEME, STEP, sent)
            .await
            .map_err(|e| self.tls_hint(e))?;
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
