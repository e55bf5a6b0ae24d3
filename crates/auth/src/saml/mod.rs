//! The SAML core every federated scheme shares: find the SAMLResponse, list the roles it
//! offers, pick one by `AWSRoleARN` (`AWSPrincipalARN` overrides the provider), and exchange the
//! assertion with STS AssumeRoleWithSAML (an unsigned call).
//!
//! The identity-provider logins that end in a SAMLResponse are its submodules: `adfs` (forms
//! login), `adfs_integrated` (Windows Integrated Authentication over `kerberos`; both behind the
//! cargo feature `kerberos`), `okta`, `ping` (PingFederate), `azure` (Azure AD), and `html`, the
//! page reading they share.

pub(crate) mod adfs;
#[cfg(feature = "kerberos")]
pub(crate) mod adfs_integrated;
pub(crate) mod azure;
pub(crate) mod html;
#[cfg(feature = "kerberos")]
pub(crate) mod kerberos;
pub(crate) mod okta;
pub(crate) mod ping;

use std::fmt;

use async_trait::async_trait;
use aws_credential_types::Credentials;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use datafusion_athena_config::ConnectionOptions;

use crate::context::AuthContext;
use crate::error::{Error, Result};
use crate::refresh::Fetch;
use crate::sts;

const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const STEP_STS: &str = "STS AssumeRoleWithSAML";
const PROVIDER_NAME: &str = "datafusion-athena-saml";

/// An identity provider login that ends in a base64 `samlp:Response`.
#[async_trait]
pub(crate) trait SamlLogin: Send + Sync + fmt::Debug {
    /// Logs in and returns the base64 SAMLResponse.
    async fn saml_response(&self) -> Result<String>;
}

/// A role the assertion offers and the SAML provider that vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleOffer {
    pub(crate) role_arn: String,
    pub(crate) principal_arn: String,
}

/// The base64 SAMLResponse of an IdP page (`<input name="SAMLResponse" value=...>`).
pub(crate) fn response_from_html(
    scheme: &'static str,
    step: &'static str,
    html: &str,
) -> Result<String> {
    html::input_value(html, "SAMLResponse")
        .map(|v| v.split_whitespace().collect::<String>())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::Protocol {
            scheme,
            step,
            message: "the page has no SAMLResponse form field".into(),
        })
}

/// The roles a base64 SAMLResponse offers, in document order.
pub(crate) fn roles(scheme: &'static str, response_b64: &str) -> Result<Vec<RoleOffer>> {
    const STEP: &str = "read the SAML assertion";
    let bytes = STANDARD
        .decode(response_b64.trim())
        .map_err(|e| Error::Protocol {
            scheme,
            step: STEP,
            message: format!("SAMLResponse is not base64: {e}"),
        })?;
    let xml = String::from_utf8(bytes).map_err(|_| Error::Protocol {
        scheme,
        step: STEP,
        message: "SAMLResponse is not UTF-8 XML".into(),
    })?;
    let doc = roxmltree::Document::parse(&xml).map_err(|e| Error::Protocol {
        scheme,
        step: STEP,
        message: format!("SAMLResponse is not XML: {e}"),
    })?;
    let mut offers = Vec::new();
    for attr in doc.descendants().filter(|n| {
        n.tag_name().name() == "Attribute" && n.attribute("Name") == Some(ROLE_ATTRIBUTE)
    }) {
        for value in attr
            .children()
            .filter(|n| n.tag_name().name() == "AttributeValue")
        {
            let text: String = value
                .descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect();
            let mut role = None;
            let mut principal = None;
            for part in text.split(',').map(str::trim) {
                if is_arn_of(part, ":role/") {
                    role = Some(part.to_string());
                } else if is_arn_of(part, ":saml-provider/") {
                    principal = Some(part.to_string());
                }
            }
            if let (Some(role_arn), Some(principal_arn)) = (role, principal) {
                offers.push(RoleOffer {
                    role_arn,
                    principal_arn,
                });
            }
        }
    }
    Ok(offers)
}

fn is_arn_of(s: &str, kind: &str) -> bool {
    s.starts_with("arn:aws")
        && s.contains(":iam::")
        && s.contains(kind)
        && !s.contains(char::is_whitespace)
}

/// The role to assume: `AWSRoleARN` when set (it must be on offer), else the only one offered.
/// `AWSPrincipalARN` replaces the provider named in the assertion.
pub(crate) fn pick_role(
    scheme: &'static str,
    offers: &[RoleOffer],
    role_arn: Option<&str>,
    principal_arn: Option<&str>,
) -> Result<RoleOffer> {
    let listed = || {
        if offers.is_empty() {
            "the assertion offers no AWS role (check the IdP's https://aws.amazon.com/SAML/Attributes/Role claim)".to_string()
        } else {
            let roles: Vec<&str> = offers.iter().map(|o| o.role_arn.as_str()).collect();
            format!("roles on offer: {}", roles.join(", "))
        }
    };
    let chosen = match role_arn {
        Some(wanted) => offers
            .iter()
            .find(|o| o.role_arn == wanted)
            .ok_or_else(|| Error::InvalidOption {
                scheme,
                option: "AWSRoleARN",
                message: format!("'{wanted}' is not in the SAML assertion; {}", listed()),
            })?,
        None => match offers {
            [one] => one,
            [] => {
                return Err(Error::Protocol {
                    scheme,
                    step: "pick the role",
                    message: listed(),
                });
            }
            _ => {
                return Err(Error::InvalidOption {
                    scheme,
                    option: "AWSRoleARN",
                    message: format!(
                        "not set, and the SAML assertion offers several roles: set it to one of them; {}",
                        listed()
                    ),
                });
            }
        },
    };
    let mut chosen = chosen.clone();
    if let Some(p) = principal_arn {
        chosen.principal_arn = p.to_string();
    }
    Ok(chosen)
}

/// Wraps a bare `saml:Assertion` (kept byte for byte: it is signed) in a `samlp:Response`, as
/// AssumeRoleWithSAML wants, and base64-encodes it. `xml` is the document holding the assertion
/// (a WS-Trust answer, an OBO token); namespace prefixes it inherits are declared on it again.
pub(crate) fn wrap_assertion(
    scheme: &'static str,
    step: &'static str,
    xml: &str,
) -> Result<String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| Error::Protocol {
        scheme,
        step,
        message: format!("the answer is not XML: {e}"),
    })?;
    let assertion = doc
        .descendants()
        .find(|n| {
            n.tag_name().name() == "Assertion"
                && n.tag_name().namespace() == Some("urn:oasis:names:tc:SAML:2.0:assertion")
        })
        .ok_or_else(|| Error::Protocol {
            scheme,
            step,
            message: "the answer holds no SAML 2.0 Assertion".into(),
        })?;
    let text = &xml[assertion.range()];
    let tag_end = text.find('>').unwrap_or(text.len());
    let start_tag = &text[..tag_end];
    let mut extra = String::new();
    for ns in assertion.namespaces() {
        let decl = match ns.name() {
            Some(prefix) => format!("xmlns:{prefix}="),
            None => "xmlns=".to_string(),
        };
        if !start_tag.contains(&decl) {
            extra.push_str(&format!(" {decl}\"{}\"", escape_attr(ns.uri())));
        }
    }
    let name_end = start_tag
        .find(char::is_whitespace)
        .unwrap_or(start_tag.len())
        .min(tag_end);
    let body = format!("{}{extra}{}", &text[..name_end], &text[name_end..]);
    let response = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"><samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>{body}</samlp:Response>"
    );
    Ok(STANDARD.encode(response))
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// Log in at the IdP, pick the role, AssumeRoleWithSAML. Every refresh logs in again.
#[derive(Debug)]
pub(crate) struct SamlScheme<L> {
    scheme: &'static str,
    login: L,
    sts: aws_sdk_sts::Client,
    role_arn: Option<String>,
    principal_arn: Option<String>,
    duration: i32,
}

impl<L: SamlLogin> SamlScheme<L> {
    pub(crate) fn new(
        scheme: &'static str,
        login: L,
        opts: &ConnectionOptions,
        ctx: &AuthContext,
    ) -> Result<Self> {
        let principal_arn = opts
            .auth
            .principal_arn
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if let Some(p) = principal_arn
            && !is_arn_of(p, ":saml-provider/")
        {
            {
                return Err(Error::InvalidOption {
                    scheme,
                    option: "AWSPrincipalARN",
                    message: format!(
                        "'{p}' is not a SAML provider ARN (arn:aws:iam::<account>:saml-provider/<name>)"
                    ),
                });
            }
        }
        Ok(Self {
            scheme,
            login,
            sts: sts::client(opts, ctx, None),
            role_arn: crate::assume_role::role_arn(scheme, opts)?,
            principal_arn: principal_arn.map(str::to_string),
            duration: sts::duration_seconds(scheme, opts)?,
        })
    }
}

#[async_trait]
impl<L: SamlLogin> Fetch for SamlScheme<L> {
    async fn fetch(&self) -> Result<Credentials> {
        let response = self.login.saml_response().await?;
        let offers = roles(self.scheme, &response)?;
        let pick = pick_role(
            self.scheme,
            &offers,
            self.role_arn.as_deref(),
            self.principal_arn.as_deref(),
        )?;
        let out = self
            .sts
            .assume_role_with_saml()
            .role_arn(&pick.role_arn)
            .principal_arn(&pick.principal_arn)
            .saml_assertion(response)
            .duration_seconds(self.duration)
            .send()
            .await
            .map_err(|e| Error::call(self.scheme, STEP_STS, e))?;
        sts::credentials(self.scheme, STEP_STS, out.credentials(), PROVIDER_NAME)
    }
}

/// The HTTP client of IdP logins: a cookie jar (ADFS and Okta set session cookies), redirects
/// followed, 30-second timeout.
pub(crate) fn http_client(scheme: &'static str) -> Result<reqwest::Client> {
    http_builder()
        .build()
        .map_err(|e| Error::call(scheme, "build the HTTP client", e))
}

/// The settings of [`http_client`], to add to.
pub(crate) fn http_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("datafusion-athena/", env!("CARGO_PKG_VERSION")))
}

/// Trusts the certificates of the PEM bundle named by `AWS_CA_BUNDLE` too (a private CA of
/// the identity provider's server).
pub(crate) fn with_ca_bundle(
    scheme: &'static str,
    ctx: &AuthContext,
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder> {
    let Some(path) = ctx.var("AWS_CA_BUNDLE") else {
        return Ok(builder);
    };
    let invalid = |message: String| Error::InvalidOption {
        scheme,
        option: "AWS_CA_BUNDLE",
        message,
    };
    let pem = std::fs::read(&path).map_err(|e| invalid(format!("cannot read '{path}': {e}")))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| invalid(format!("'{path}' is not a PEM bundle: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(format!("'{path}' holds no PEM certificate")));
    }
    Ok(certs
        .into_iter()
        .fold(builder, reqwest::ClientBuilder::add_root_certificate))
}

/// `SSOLoginURL`, parsed.
pub(crate) fn login_url(scheme: &'static str, opts: &ConnectionOptions) -> Result<reqwest::Url> {
    let raw = opts
        .auth
        .sso_login_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or(Error::MissingOption {
            scheme,
            option: "SSOLoginURL",
            hint: "set SSOLoginURL to the identity provider's sign-in URL",
        })?;
    reqwest::Url::parse(raw).map_err(|e| Error::InvalidOption {
        scheme,
        option: "SSOLoginURL",
        message: format!("'{raw}' is not a URL: {e}"),
    })
}

/// `User` and `Password`.
pub(crate) fn user_password(
    scheme: &'static str,
    opts: &ConnectionOptions,
) -> Result<(String, datafusion_athena_config::Secret)> {
    let user = opts
        .auth
        .user
        .clone()
        .filter(|u| !u.trim().is_empty())
        .ok_or(Error::MissingOption {
            scheme,
            option: "User",
            hint: "set User to the identity provider user name",
        })?;
    let password =
        opts.auth
            .password
            .clone()
            .filter(|p| !p.is_empty())
            .ok_or(Error::MissingOption {
                scheme,
                option: "Password",
                hint: "set Password to the identity provider password",
            })?;
    Ok((user, password))
}

/// Reads a response body, turning non-success statuses into `Rejected` (4xx) or `Call` errors.
pub(crate) async fn body(
    scheme: &'static str,
    step: &'static str,
    sent: reqwest::Result<reqwest::Response>,
) -> Result<(reqwest::Url, reqwest::StatusCode, String)> {
    // URLs can carry one-time tokens (Okta's onetimetoken): errors leave them out.
    let resp = sent.map_err(|e| Error::call(scheme, step, e.without_url()))?;
    let url = resp.url().clone();
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| Error::call(scheme, step, e.without_url()))?;
    Ok((url, status, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(values: &[&str]) -> String {
        let vals: String = values
            .iter()
            .map(|v| format!("<saml:AttributeValue>{v}</saml:AttributeValue>"))
            .collect();
        STANDARD.encode(format!(
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"><saml:Assertion><saml:AttributeStatement><saml:Attribute Name=\"{ROLE_ATTRIBUTE}\">{vals}</saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"
        ))
    }

    const R1: &str = "arn:aws:iam::111122223333:role/Analyst";
    const R2: &str = "arn:aws:iam::111122223333:role/Admin";
    const P: &str = "arn:aws:iam::111122223333:saml-provider/Corp";

    #[test]
    fn roles_in_either_order() {
        let offers = roles(
            "ADFS",
            &response(&[&format!("{R1},{P}"), &format!(" {P} , {R2} ")]),
        )
        .unwrap();
        assert_eq!(offers.len(), 2);
        assert_eq!(
            offers[0],
            RoleOffer {
                role_arn: R1.into(),
                principal_arn: P.into()
            }
        );
        assert_eq!(offers[1].role_arn, R2);
        assert_eq!(offers[1].principal_arn, P);
        assert_eq!(offers.iter().filter(|o| o.role_arn == R1).count(), 1);
    }

    #[test]
    fn picks_by_role_arn_or_lists_the_offer() {
        let offers = roles(
            "Okta",
            &response(&[&format!("{R1},{P}"), &format!("{R2},{P}")]),
        )
        .unwrap();
        assert_eq!(
            pick_role("Okta", &offers, Some(R2), None).unwrap().role_arn,
            R2
        );
        let other = "arn:aws:iam::111122223333:saml-provider/Other";
        assert_eq!(
            pick_role("Okta", &offers, Some(R1), Some(other))
                .unwrap()
                .principal_arn,
            other
        );
        let err = pick_role("Okta", &offers, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "Okta: AWSRoleARN is invalid: not set, and the SAML assertion offers several roles"
            ),
            "{err}"
        );
        assert!(err.contains(R1) && err.contains(R2), "{err}");
        let err = pick_role("Okta", &offers, Some("arn:aws:iam::1:role/X"), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'arn:aws:iam::1:role/X' is not in the SAML assertion; roles on offer:"),
            "{err}"
        );
        let err = pick_role("Okta", &[], None, None).unwrap_err().to_string();
        assert!(err.contains("offers no AWS role"), "{err}");
        let single = &offers[..1];
        assert_eq!(pick_role("Okta", single, None, None).unwrap().role_arn, R1);
    }

    #[test]
    fn bare_assertion_is_wrapped_verbatim_with_inherited_namespaces() {
        let xml = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"><s:Body><saml:Assertion ID=\"_a1\" Version=\"2.0\"><saml:Issuer>idp</saml:Issuer></saml:Assertion></s:Body></s:Envelope>";
        let b64 = wrap_assertion("PingFederate", "read", xml).unwrap();
        let out = String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap();
        assert!(out.starts_with("<samlp:Response xmlns:samlp="), "{out}");
        assert!(out.contains("<saml:Assertion xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a1\" Version=\"2.0\"><saml:Issuer>idp</saml:Issuer></saml:Assertion></samlp:Response>"), "{out}");
        roxmltree::Document::parse(&out).unwrap();
    }
}
