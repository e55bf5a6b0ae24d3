//! PingFederate's WS-Trust endpoint behind mutual TLS (a rustls server on 127.0.0.1 requiring
//! a client certificate of a test CA made with rcgen): the certificate options, and the
//! failures (no certificate, a certificate of another CA, an untrusted server, unusable
//! certificate options), each naming the scheme, the step and the cause.

use datafusion_athena_auth::{AuthContext, Error, scheme_provider_with};
use datafusion_athena_config::{AuthScheme, ConnectionOptions, Secret};

use crate::common;
use crate::common::idp::{self, PASSWORD};
use crate::common::tls::{self, Pki};

const STEP: &str = "PingFederate: WS-Trust Issue (POST SSOLoginURL): ";

fn ping_opts(url: &str, cert: Option<&str>, kind: Option<&str>) -> ConnectionOptions {
    let mut o = common::opts(Some(AuthScheme::PingFederate), Some("http://127.0.0.1:9"));
    o.auth.sso_login_url = Some(format!("{url}/idp/sts.wst"));
    o.auth.user = Some("alice&co".into());
    o.auth.password = Some(Secret::new(PASSWORD));
    o.auth.sso_exchange_url = Some("urn:amazon:webservices".into());
    o.auth.sso_properties.ssl_client_cert = cert.map(str::to_string);
    o.auth.sso_properties.ssl_client_cert_type = kind.map(str::to_string);
    o
}

fn trusting(pki: &Pki) -> AuthContext {
    AuthContext::new().with_env([
        ("HOME", "/nonexistent"),
        ("AWS_CA_BUNDLE", pki.ca_pem.to_str().unwrap()),
    ])
}

/// The error of a login: the WS-Trust call is the first network step, so a TLS failure stops
/// there (before STS, whose endpoint here is a closed port).
async fn login_error(o: &ConnectionOptions, ctx: &AuthContext) -> String {
    let p = scheme_provider_with(o, ctx).await.unwrap();
    let err = p.credentials().await.unwrap_err();
    assert_eq!(err.scheme(), "PingFederate");
    err.to_string()
}

#[tokio::test]
async fn client_certificate_reaches_the_sts_as_file_or_blob() {
    let pki = Pki::new();
    let url = tls::serve(idp::ping_router(), &pki).await;
    // With the certificate the WS-Trust call succeeds; the login then fails only at STS (a
    // closed port here: the end-to-end test runs it against the emulator's STS).
    for o in [
        ping_opts(&url, Some(pki.client_pem.to_str().unwrap()), None),
        ping_opts(&url, Some(&pki.client_pem_text()), Some("PEMKEY_BLOB")),
    ] {
        let err = login_error(&o, &trusting(&pki)).await;
        assert!(
            err.starts_with("PingFederate: STS AssumeRoleWithSAML: "),
            "{err}"
        );
    }
}

#[tokio::test]
async fn no_client_certificate_is_refused_by_the_server() {
    let pki = Pki::new();
    let url = tls::serve(idp::ping_router(), &pki).await;
    let err = login_error(&ping_opts(&url, None, None), &trusting(&pki)).await;
    assert_eq!(
        err,
        format!(
            "{STEP}error sending request: client error (SendRequest): connection error: received fatal alert: CertificateRequired (the server requires a client certificate: set SSOProperties SSLClientCert)"
        )
    );
}

#[tokio::test]
async fn client_certificate_of_another_ca_is_refused() {
    let pki = Pki::new();
    let url = tls::serve(idp::ping_router(), &pki).await;
    let o = ping_opts(&url, Some(pki.rogue_client_pem.to_str().unwrap()), None);
    let err = login_error(&o, &trusting(&pki)).await;
    assert_eq!(
        err,
        format!(
            "{STEP}error sending request: client error (SendRequest): connection error: received fatal alert: UnknownCA (the server refused the client certificate of SSOProperties SSLClientCert; is it issued by a CA the server trusts?)"
        )
    );
}

#[tokio::test]
async fn server_of_an_untrusted_ca_is_refused() {
    let pki = Pki::new();
    let url = tls::serve(idp::ping_router(), &pki).await;
    let o = ping_opts(&url, Some(pki.client_pem.to_str().unwrap()), None);
    let ctx = AuthContext::new().with_env([("HOME", "/nonexistent")]);
    let err = login_error(&o, &ctx).await;
    assert_eq!(
        err,
        format!(
            "{STEP}error sending request: client error (Connect): invalid peer certificate: UnknownIssuer (the server's certificate is not trusted: add its CA to the PEM bundle named by AWS_CA_BUNDLE)"
        )
    );
}

#[tokio::test]
async fn unusable_certificate_options_are_named() {
    let pki = Pki::new();
    let ctx = trusting(&pki);
    let url = "https://127.0.0.1:9";
    let check = |o: ConnectionOptions, option: &'static str, contains: &'static str| {
        let ctx = ctx.clone();
        async move {
            let err = scheme_provider_with(&o, &ctx).await.unwrap_err();
            assert!(
                matches!(&err, Error::InvalidOption { option: got, .. } if *got == option),
                "{err}"
            );
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("PingFederate: {option} is invalid: ")),
                "{text}"
            );
            assert!(text.contains(contains), "{text}");
            text
        }
    };
    check(
        ping_opts(url, Some("/nonexistent/client.pem"), None),
        "SSLClientCert",
        "cannot read the PEM file '/nonexistent/client.pem'",
    )
    .await;
    check(
        ping_opts(url, Some("/tmp/x.pfx"), Some("PFXFILE")),
        "SSLClientCertType",
        "PFXFILE (PKCS#12) is not supported; convert it to PEM",
    )
    .await;
    check(
        ping_opts(url, Some("x"), Some("JKS")),
        "SSLClientCertType",
        "'JKS' is not PEMKEY_FILE, PEMKEY_BLOB, PFXFILE or PFXBLOB",
    )
    .await;
    let cert_only = std::fs::read_to_string(&pki.ca_pem).unwrap();
    check(
        ping_opts(url, Some(&cert_only), Some("pemkey_blob")),
        "SSLClientCert",
        "holds no private key",
    )
    .await;
    let encrypted = format!(
        "{cert_only}-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"
    );
    let mut o = ping_opts(url, Some(&encrypted), Some("PEMKEY_BLOB"));
    o.auth.sso_properties.ssl_client_cert_password = Some(Secret::new("cert-key-password"));
    let text = check(
        o,
        "SSLClientCertPassword",
        "encrypted private keys are not supported",
    )
    .await;
    assert!(!text.contains("cert-key-password"));
    let broken =
        format!("{cert_only}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    check(
        ping_opts(url, Some(&broken), Some("PEMKEY_BLOB")),
        "SSLClientCert",
        "not a usable certificate and key",
    )
    .await;
    let mut o = ping_opts(url, Some(pki.client_pem.to_str().unwrap()), None);
    let ctx2 = AuthContext::new().with_env([("AWS_CA_BUNDLE", "/nonexistent/ca.pem")]);
    o.auth.sso_properties.ssl_client_cert_type = None;
    let err = scheme_provider_with(&o, &ctx2)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "PingFederate: AWS_CA_BUNDLE is invalid: cannot read '/nonexistent/ca.pem'"
        ),
        "{err}"
    );
}
