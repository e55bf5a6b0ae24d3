//! ADFS, Okta and PingFederate against fixture IdPs on 127.0.0.1, then AssumeRoleWithSAML on
//! moto's STS; and their failure answers (wrong password, MFA rejected / timed out, no role).

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::{Error, credentials_provider};
use datafusion_athena_config::{AuthScheme, ConnectionOptions, Secret};

use crate::common;
use crate::common::idp::{self, OKTA_APP, PASSCODE, PASSWORD, ROLE_A, ROLE_B, USER};
use crate::common::{moto, opts};

fn idp_opts(
    scheme: AuthScheme,
    login_url: String,
    sts: Option<&str>,
    user: &str,
) -> ConnectionOptions {
    let mut o = opts(Some(scheme), sts);
    o.auth.sso_login_url = Some(login_url);
    o.auth.user = Some(user.to_string());
    o.auth.password = Some(Secret::new(PASSWORD));
    o.auth.sso_properties.mfa_remember_device = true;
    o
}

async fn assert_sts_credentials(o: &ConnectionOptions) {
    let creds = credentials_provider(o)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    assert!(creds.session_token().is_some());
    assert!(creds.expiry().is_some());
    let arn = common::caller_arn(o.endpoints.sts().unwrap(), creds).await;
    assert!(arn.contains(":assumed-role/AthenaAnalyst/"), "{arn}");
}

#[tokio::test]
async fn adfs_forms_login_with_cookies_then_assume_role_with_saml() {
    let Some(sts) = moto() else { return };
    let base = idp::start().await;
    // A bare host gets the IdP-initiated sign-on path.
    assert_sts_credentials(&idp_opts(AuthScheme::Adfs, base.clone(), Some(&sts), USER)).await;
    let mut o = idp_opts(
        AuthScheme::Adfs,
        format!("{base}/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices"),
        Some(&sts),
        USER,
    );
    o.auth.role_arn = Some(ROLE_A.into());
    assert_sts_credentials(&o).await;
}

#[tokio::test]
async fn adfs_wrong_password_is_refused() {
    let base = idp::start().await;
    let mut o = idp_opts(AuthScheme::Adfs, base, None, USER);
    o.auth.password = Some(Secret::new("wrong-password-xyz"));
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected {
                scheme: "ADFS",
                step: "submit the ADFS login form",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn adfs_role_not_in_assertion_lists_the_roles() {
    let base = idp::start().await;
    let mut o = idp_opts(AuthScheme::Adfs, base, Some("http://127.0.0.1:9"), USER);
    o.auth.role_arn = Some(ROLE_B.into());
    let err = credentials_provider(&o).await.unwrap_err().to_string();
    assert!(err.starts_with("ADFS: AWSRoleARN is invalid:"), "{err}");
    assert!(err.contains(&format!("roles on offer: {ROLE_A}")), "{err}");
}

#[tokio::test]
async fn okta_without_mfa_and_with_trusted_app_token() {
    let Some(sts) = moto() else { return };
    let base = idp::start().await;
    assert_sts_credentials(&idp_opts(
        AuthScheme::Okta,
        format!("{base}{OKTA_APP}"),
        Some(&sts),
        USER,
    ))
    .await;
    let mut o = idp_opts(
        AuthScheme::Okta,
        format!("{base}{OKTA_APP}"),
        Some(&sts),
        "trusted-app",
    );
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(err, Error::Rejected { scheme: "Okta", .. }),
        "{err}"
    );
    o.auth.sso_properties.api_token = Some(Secret::new("okta-api-token-123"));
    assert_sts_credentials(&o).await;
}

#[tokio::test]
async fn okta_push_is_polled_until_approved() {
    let Some(sts) = moto() else { return };
    let base = idp::start().await;
    let mut o = idp_opts(
        AuthScheme::Okta,
        format!("{base}{OKTA_APP}"),
        Some(&sts),
        "push-ok@corp",
    );
    o.auth.sso_properties.mfa_type = Some("OktaVerify".into());
    assert_sts_credentials(&o).await;
}

#[tokio::test]
async fn okta_push_rejected_or_timed_out_is_refused() {
    let base = idp::start().await;
    for (user, why) in [
        ("push-rejected@corp", "rejected"),
        ("push-timeout@corp", "timed out"),
    ] {
        let o = idp_opts(AuthScheme::Okta, format!("{base}{OKTA_APP}"), None, user);
        let err = credentials_provider(&o).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Rejected {
                    scheme: "Okta",
                    step: "verify MFA factor",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains(why), "{err}");
    }
}

#[tokio::test]
async fn okta_totp_passcode_right_and_wrong() {
    let Some(sts) = moto() else { return };
    let base = idp::start().await;
    let mut o = idp_opts(
        AuthScheme::Okta,
        format!("{base}{OKTA_APP}"),
        Some(&sts),
        "totp@corp",
    );
    o.auth.sso_properties.mfa_pass_code = Some(Secret::new(PASSCODE));
    assert_sts_credentials(&o).await;
    o.auth.sso_properties.mfa_pass_code = Some(Secret::new("000000"));
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("E0000068: Invalid Passcode/Answer"),
        "{err}"
    );
}

#[tokio::test]
async fn okta_sms_sends_the_code_then_asks_for_it() {
    let Some(sts) = moto() else { return };
    let base = idp::start().await;
    let mut o = idp_opts(
        AuthScheme::Okta,
        format!("{base}{OKTA_APP}"),
        Some(&sts),
        "sms@corp",
    );
    o.auth.sso_properties.mfa_type = Some("SMS".into());
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                option: "MFAPassCode",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("was sent"), "{err}");
    o.auth.sso_properties.mfa_pass_code = Some(Secret::new(PASSCODE));
    assert_sts_credentials(&o).await;
}

/// Email (chosen by MFAType among SMS and email): an empty passcode sends the code, a wrong
/// one is refused and a new code is sent, the right one signs in. `+forget` users check that
/// MFARememberDevice=false reaches Okta as rememberDevice=false.
#[tokio::test]
async fn okta_email_factor_and_remember_device_off() {
    use std::sync::atomic::Ordering;
    let Some(sts) = moto() else { return };
    let base = idp::start().await;
    for (user, remember) in [("email@corp", true), ("email+forget@corp", false)] {
        let mut o = idp_opts(
            AuthScheme::Okta,
            format!("{base}{OKTA_APP}"),
            Some(&sts),
            user,
        );
        o.auth.sso_properties.mfa_type = Some("Email".into());
        o.auth.sso_properties.mfa_remember_device = remember;
        let sent = idp::OTP_SENT.load(Ordering::SeqCst);
        let err = credentials_provider(&o).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::MissingOption {
                    option: "MFAPassCode",
                    ..
                }
            ),
            "{err}"
        );
        assert!(idp::OTP_SENT.load(Ordering::SeqCst) > sent);

        o.auth.sso_properties.mfa_pass_code = Some(Secret::new("999999"));
        let sent = idp::OTP_SENT.load(Ordering::SeqCst);
        let err = credentials_provider(&o).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "Okta: verify MFA factor: refused: MFAPassCode was not accepted (HTTP 403 E0000068: Invalid Passcode/Answer); a new one-time code was sent: set SSOProperties MFAPassCode to it and connect again"
        );
        assert!(!err.to_string().contains("999999"));
        assert!(idp::OTP_SENT.load(Ordering::SeqCst) > sent);

        o.auth.sso_properties.mfa_pass_code = Some(Secret::new(PASSCODE));
        assert_sts_credentials(&o).await;
    }
    // With the wrong remember-device setting the fixture refuses the verification.
    let mut o = idp_opts(
        AuthScheme::Okta,
        format!("{base}{OKTA_APP}"),
        Some(&sts),
        "email+forget@corp",
    );
    o.auth.sso_properties.mfa_type = Some("Email".into());
    o.auth.sso_properties.mfa_pass_code = Some(Secret::new(PASSCODE));
    o.auth.sso_properties.mfa_remember_device = true;
    let err = credentials_provider(&o).await.unwrap_err().to_string();
    assert!(err.contains("bad state token or rememberDevice"), "{err}");
}

#[cfg(not(feature = "kerberos"))]
#[tokio::test]
async fn adfs_integrated_without_the_feature_says_to_rebuild() {
    let mut o = opts(Some(AuthScheme::AdfsIntegrated), None);
    o.auth.sso_login_url = Some("https://adfs.corp.example".into());
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                scheme: "ADFSIntegrated",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("rebuild with the cargo feature `kerberos`"),
        "{err}"
    );
}

#[tokio::test]
async fn okta_wrong_password_and_ambiguous_roles() {
    let base = idp::start().await;
    let mut o = idp_opts(AuthScheme::Okta, format!("{base}{OKTA_APP}"), None, USER);
    o.auth.password = Some(Secret::new("nope"));
    let err = credentials_provider(&o).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Okta: Okta authn (POST /api/v1/authn): refused: HTTP 401 E0000004: Authentication failed"
    );
    let o = idp_opts(
        AuthScheme::Okta,
        format!("{base}{OKTA_APP}?roles=two"),
        None,
        USER,
    );
    let err = credentials_provider(&o).await.unwrap_err().to_string();
    assert!(
        err.contains("offers several roles") && err.contains(ROLE_A) && err.contains(ROLE_B),
        "{err}"
    );
    let o = idp_opts(
        AuthScheme::Okta,
        format!("{base}{OKTA_APP}?roles=none"),
        None,
        USER,
    );
    let err = credentials_provider(&o).await.unwrap_err().to_string();
    assert!(err.contains("offers no AWS role"), "{err}");
}

#[tokio::test]
async fn ping_ws_trust_assertion_is_wrapped_and_exchanged() {
    let Some(sts) = moto() else { return };
    let base = idp::start().await;
    let mut o = idp_opts(
        AuthScheme::PingFederate,
        format!("{base}/idp/sts.wst"),
        Some(&sts),
        "alice&co",
    );
    o.auth.sso_exchange_url = Some("urn:amazon:webservices".into());
    assert_sts_credentials(&o).await;
}

#[tokio::test]
async fn ping_fault_reason_is_reported() {
    let base = idp::start().await;
    let mut o = idp_opts(
        AuthScheme::PingFederate,
        format!("{base}/idp/sts.wst"),
        None,
        "alice&co",
    );
    o.auth.password = Some(Secret::new("bad"));
    let err = credentials_provider(&o).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "PingFederate: WS-Trust Issue (POST SSOLoginURL): refused: HTTP 500: Authentication failed for the username token"
    );
}

#[tokio::test]
async fn saml_schemes_need_login_url_and_user() {
    let mut o = opts(Some(AuthScheme::Okta), None);
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingOption {
                scheme: "Okta",
                option: "SSOLoginURL",
                ..
            }
        ),
        "{err}"
    );
    o.auth.sso_login_url = Some("http://127.0.0.1:9/app".into());
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(err, Error::MissingOption { option: "User", .. }),
        "{err}"
    );
    o.auth.scheme = Some(AuthScheme::Adfs);
    o.auth.user = Some(USER.into());
    o.auth.password = Some(Secret::new(PASSWORD));
    o.auth.principal_arn = Some("CorpIdP".into());
    let err = credentials_provider(&o).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                option: "AWSPrincipalARN",
                ..
            }
        ),
        "{err}"
    );
}
