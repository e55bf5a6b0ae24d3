//! ADFS: IdP-initiated sign-on with a forms login (cookies kept), then the SAML core.

use async_trait::async_trait;
use datafusion_athena_config::{ConnectionOptions, Secret};

use crate::error::{Error, Result};
use crate::saml::html;
use crate::saml::{self, SamlLogin};

const SCHEME: &str = "ADFS";
const IDP_INITIATED: &str = "/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices";

/// Forms login at an ADFS server.
#[derive(Debug)]
pub(crate) struct Adfs {
    http: reqwest::Client,
    url: reqwest::Url,
    user: String,
    password: Secret,
}

impl Adfs {
    /// `SSOLoginURL` is the IdP-initiated sign-on URL; a bare host gets ADFS's standard path
    /// for the AWS relying party.
    pub(crate) fn new(opts: &ConnectionOptions) -> Result<Self> {
        let url = sign_on_url(SCHEME, opts)?;
        let (user, password) = saml::user_password(SCHEME, opts)?;
        Ok(Self {
            http: saml::http_client(SCHEME)?,
            url,
            user,
            password,
        })
    }
}

/// `SSOLoginURL`, with ADFS's IdP-initiated sign-on path for the AWS relying party when it is
/// a bare host.
pub(crate) fn sign_on_url(scheme: &'static str, opts: &ConnectionOptions) -> Result<reqwest::Url> {
    let mut url = saml::login_url(scheme, opts)?;
    if url.path() == "/" && url.query().is_none() {
        url = url.join(IDP_INITIATED).map_err(|e| Error::InvalidOption {
            scheme,
            option: "SSOLoginURL",
            message: e.to_string(),
        })?;
    }
    Ok(url)
}

#[async_trait]
impl SamlLogin for Adfs {
    async fn saml_response(&self) -> Result<String> {
        const OPEN: &str = "open the ADFS sign-in page";
        const SUBMIT: &str = "submit the ADFS login form";
        let (page_url, status, page) =
            saml::body(SCHEME, OPEN, self.http.get(self.url.clone()).send().await).await?;
        if !status.is_success() {
            return Err(Error::Rejected {
                scheme: SCHEME,
                step: OPEN,
                message: format!("HTTP {}", status.as_u16()),
            });
        }
        if let Ok(r) = saml::response_from_html(SCHEME, OPEN, &page) {
            return Ok(r);
        }
        let forms = html::forms(&page);
        let form = forms
            .iter()
            .find(|f| f.inputs.iter().any(|i| i.kind == "password"))
            .ok_or_else(|| Error::Protocol {
                scheme: SCHEME,
                step: OPEN,
                message: "the page has no login form with a password field".into(),
            })?;
        let mut fields: Vec<(String, String)> = Vec::new();
        for input in form.inputs.iter().filter(|i| !i.name.is_empty()) {
            let name = input.name.to_ascii_lowercase();
            let value = if input.kind == "password" || name.contains("pass") {
                self.password.expose().to_string()
            } else if name.contains("user") || name.contains("email") {
                self.user.clone()
            } else if input.kind == "submit" || input.kind == "button" || name == "kmsi" {
                continue;
            } else {
                input.value.clone()
            };
            fields.push((input.name.clone(), value));
        }
        let action = match form.action.as_deref().filter(|a| !a.is_empty()) {
            Some(a) => page_url.join(a).map_err(|e| Error::Protocol {
                scheme: SCHEME,
                step: OPEN,
                message: format!("form action '{a}' is not a URL: {e}"),
            })?,
            None => page_url.clone(),
        };
        let (_, status, answer) = saml::body(
            SCHEME,
            SUBMIT,
            self.http.post(action).form(&fields).send().await,
        )
        .await?;
        if let Ok(r) = saml::response_from_html(SCHEME, SUBMIT, &answer) {
            return Ok(r);
        }
        if html::forms(&answer)
            .iter()
            .any(|f| f.inputs.iter().any(|i| i.kind == "password"))
        {
            return Err(Error::Rejected {
                scheme: SCHEME,
                step: SUBMIT,
                message: "ADFS did not accept User and Password (the login form came back)".into(),
            });
        }
        Err(Error::Protocol {
            scheme: SCHEME,
            step: SUBMIT,
            message: format!("HTTP {} without a SAMLResponse", status.as_u16()),
        })
    }
}
