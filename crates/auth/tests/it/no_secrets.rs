//! No secret (key, password, token, MFA code) appears in any error's Display or Debug, nor in
//! the Debug output of providers: every failure path here is fed secrets and grepped.

use datafusion_athena_auth::{
    AuthContext, credentials_provider, credentials_provider_with, scheme_provider_with,
};
use datafusion_athena_config::{AuthScheme, ConnectionOptions, Secret};

use crate::common::idp::{self, OKTA_APP, USER};
use crate::common::{opts, path_in, tempdir};

const SECRETS: &[&str] = &[
    "SECRETKEY-wJalrXUtnFEMI-K7MDENG",
    "SESSIONTOKEN-FwoGZXIvYXdzEJr",
    "MFACODE-913572",
    "PASSWORD-Tr0ub4dor&3",
    "WEBIDTOKEN-eyJhbGciOiJSUzI1NiJ9",
    "APITOKEN-00aBcD",
    "PASSCODE-777111",
    "CLIENTSECRET-zyx",
];

fn secret_opts(scheme: AuthScheme, login_url: Option<String>) -> ConnectionOptions {
    let mut o = opts(Some(scheme), Some("http://127.0.0.1:9"));
    o.endpoints.imds = Some("http://127.0.0.1:9".into());
    o.auth.access_key = Some("AKIANOTSECRET0000001".into());
    o.auth.secret_key = Some(Secret::new(SECRETS[0]));
    o.auth.session_token = Some(Secret::new(SECRETS[1]));
    o.auth.mfa_serial_number = Some("arn:aws:iam::123456789012:mfa/alice".into());
    o.auth.mfa_token = Some(Secret::new(SECRETS[2]));
    o.auth.user = Some(USER.into());
    o.auth.password = Some(Secret::new(SECRETS[3]));
    o.auth.web_identity_token = Some(Secret::new(SECRETS[4]));
    o.auth.sso_properties.api_token = Some(Secret::new(SECRETS[5]));
    o.auth.sso_properties.mfa_pass_code = Some(Secret::new(SECRETS[6]));
    o.auth.oauth_client_secret = Some(Secret::new(SECRETS[7]));
    o.auth.role_arn = Some("arn:aws:iam::123456789012:role/r".into());
    o.auth.sso_login_url = login_url;
    o
}

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} leaks a secret: {text}");
        // Secrets are also checked without their label prefix.
        let bare = s.split_once('-').map_or(*s, |(_, v)| v);
        assert!(!text.contains(bare), "{what} leaks a secret value: {text}");
    }
}

#[tokio::test]
async fn errors_and_debug_output_hold_no_secret() {
    let base = idp::start().await;
    let dir = tempdir();
    let mut cases: Vec<ConnectionOptions> = vec![];
    for scheme in [
        AuthScheme::AwsMfa,
        AuthScheme::AwsIamRoles,
        AuthScheme::AwsWebIdentity,
        AuthScheme::AwsEc2Roles,
        AuthScheme::AzureAd,
        AuthScheme::AwsCognitoSrp,
    ] {
        cases.push(secret_opts(scheme, None));
    }
    // The MFA path with a cache location that cannot be a file.
    let mut mfa = secret_opts(AuthScheme::AwsMfa, None);
    mfa.auth.credentials_location = Some(dir.path().to_path_buf());
    cases.push(mfa);
    // IdPs that refuse: ADFS (wrong password), Okta (wrong password, then wrong passcode), Ping.
    cases.push(secret_opts(AuthScheme::Adfs, Some(base.clone())));
    cases.push(secret_opts(
        AuthScheme::Okta,
        Some(format!("{base}{OKTA_APP}")),
    ));
    let mut okta = secret_opts(AuthScheme::Okta, Some(format!("{base}{OKTA_APP}")));
    okta.auth.user = Some("totp@corp".into());
    okta.auth.password = Some(Secret::new(idp::PASSWORD));
    cases.push(okta);
    cases.push(secret_opts(
        AuthScheme::PingFederate,
        Some(format!("{base}/idp/sts.wst")),
    ));
    // A credentials file whose profile is broken.
    let file = path_in(&dir, "credentials");
    std::fs::write(
        &file,
        format!(
            "[p]\naws_access_key_id = AKIA1\naws_secret_access_key = {}\nrole_arn = x\n",
            SECRETS[0]
        ),
    )
    .unwrap();
    let mut cf = secret_opts(AuthScheme::AwsCredentialsFile, None);
    cf.auth.credentials_file = Some(file);
    cf.auth.credentials_file_profile = Some("p".into());
    cases.push(cf);

    let ctx = AuthContext::new().with_env([("HOME", "/nonexistent")]);
    let mut checked = 0;
    for o in &cases {
        if let Ok(p) = scheme_provider_with(o, &ctx).await {
            assert_clean("SchemeProvider Debug", &format!("{p:?}"));
        }
        let Err(err) = credentials_provider_with(o, &ctx).await else {
            panic!("{:?} should fail", o.auth.scheme);
        };
        assert_clean("error Display", &err.to_string());
        assert_clean("error Debug", &format!("{err:?}"));
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            assert_clean("error source", &format!("{s} {s:?}"));
            source = s.source();
        }
        checked += 1;
    }
    assert_eq!(checked, cases.len());
}

#[tokio::test]
async fn static_providers_do_not_print_keys() {
    let mut o = secret_opts(AuthScheme::AwsTempCredentials, None);
    o.auth.scheme = None;
    let p = credentials_provider(&o).await.unwrap();
    assert_clean("SharedCredentialsProvider Debug", &format!("{p:?}"));
}
