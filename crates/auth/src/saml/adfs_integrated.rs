//! ADFSIntegrated: ADFS's Windows Integrated Authentication with the logged-in user's Kerberos
//! ticket. The IdP-initiated sign-on page is opened with a browser user agent that ADFS offers
//! WIA to; its `401 Negotiate` is answered with a SPNEGO token for `HTTP@<ADFS host>`; the page
//! that follows holds the SAMLResponse for the SAML core. No User or Password.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use datafusion_athena_config::ConnectionOptions;

use crate::error::{Error, Result};
use crate::saml::{self, SamlLogin};

const SCHEME: &str = "ADFSIntegrated";
const OPEN: &str = "open the ADFS sign-in page";
const TICKET: &str = "get a Kerberos service ticket (SPNEGO)";
const NEGOTIATE: &str = "sign in with Negotiate (Windows Integrated Authentication)";
/// A user agent in ADFS's default `WIASupportedUserAgents`.
const WIA_USER_AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko";

/// Integrated (Kerberos) login at an ADFS server.
#[derive(Debug)]
pub(crate) struct AdfsIntegrated {
    http: reqwest::Client,
    url: reqwest::Url,
}

impl AdfsIntegrated {
    pub(crate) fn new(opts: &ConnectionOptions) -> Result<Self> {
        Ok(Self {
            http: saml::http_builder()
                .user_agent(WIA_USER_AGENT)
                .build()
                .map_err(|e| Error::call(SCHEME, "build the HTTP client", e))?,
            url: saml::adfs::sign_on_url(SCHEME, opts)?,
        })
    }
}

fn offers_negotiate(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.trim().eq_ignore_ascii_case("negotiate") || v.starts_with("Negotiate "))
}

#[async_trait]
impl SamlLogin for AdfsIntegrated {
    async fn saml_response(&self) -> Result<String> {
        let first = self
            .http
            .get(self.url.clone())
            .send()
            .await
            .map_err(|e| Error::call(SCHEME, OPEN, e.without_url()))?;
        let wia_url = first.url().clone();
        let page = if first.status() == reqwest::StatusCode::UNAUTHORIZED
            && offers_negotiate(&first)
        {
            let host = wia_url.host_str().unwrap_or_default().to_string();
            let service = format!("HTTP@{host}");
            let token = tokio::task::spawn_blocking(move || {
                saml::kerberos::negotiate_token(&service)
            })
            .await
            .map_err(|e| Error::call(SCHEME, TICKET, e))?
            .map_err(|cause| Error::Rejected {
                scheme: SCHEME,
                step: TICKET,
                message: format!(
                    "no ticket for HTTP/{host}: {cause} (sign in to Kerberos first, e.g. kinit; klist shows the tickets)"
                ),
            })?;
            let sent = self
                .http
                .get(wia_url)
                .header(
                    "authorization",
                    format!("Negotiate {}", STANDARD.encode(token)),
                )
                .send()
                .await;
            let (_, status, body) = saml::body(SCHEME, NEGOTIATE, sent).await?;
            if !status.is_success() {
                return Err(Error::Rejected {
                    scheme: SCHEME,
                    step: NEGOTIATE,
                    message: format!(
                        "ADFS refused the Kerberos ticket (HTTP {})",
                        status.as_u16()
                    ),
                });
            }
            body
        } else {
            let status = first.status();
            let body = first
                .text()
                .await
                .map_err(|e| Error::call(SCHEME, OPEN, e.without_url()))?;
            if !status.is_success() {
                return Err(Error::Rejected {
                    scheme: SCHEME,
                    step: OPEN,
                    message: format!("HTTP {} without a Negotiate challenge", status.as_u16()),
                });
            }
            body
        };
        if let Ok(r) = saml::response_from_html(SCHEME, NEGOTIATE, &page) {
            return Ok(r);
        }
        if saml::html::forms(&page)
            .iter()
            .any(|f| f.inputs.iter().any(|i| i.kind == "password"))
        {
            return Err(Error::Rejected {
                scheme: SCHEME,
                step: OPEN,
                message: "ADFS offered its forms login, not Windows Integrated Authentication (enable WIA for this relying party, or use AuthScheme=ADFS with User and Password)".into(),
            });
        }
        Err(Error::Protocol {
            scheme: SCHEME,
            step: NEGOTIATE,
            message: "the page has no SAMLResponse".into(),
        })
    }
}
