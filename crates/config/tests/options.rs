//! The public API of datafusion-athena-config: parsing, maps, environment, builder,
//! validation per AuthScheme, redaction.

use std::collections::HashMap;
use std::time::Duration;

use datafusion_athena_config::{
    AuthScheme, ConfigKey, ConnectionOptions, EncryptionOption, Error, Region, ResultFetcher,
    S3Location, SsoProperties,
};
use proptest::prelude::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(s: &str) -> Result<ConnectionOptions, Error> {
    ConnectionOptions::parse_with_env(s, no_env)
}

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn defaults() {
    let o = ConnectionOptions::default();
    assert_eq!(o.auth.temporary_token_duration, 3600);
    assert!(o.auth.sso_properties.mfa_remember_device);
    assert_eq!(o.result_reuse.max_age_minutes, 60);
    assert!(!o.result_reuse.enabled);
    assert_eq!(o.result_fetcher, ResultFetcher::Auto);
    assert_eq!(o.auth.effective_scheme(), AuthScheme::Default);
    assert_eq!(parse("").unwrap(), o);
    assert_eq!(o.to_string(), "");
}

#[test]
fn every_kind_of_value() {
    let o = parse(
        "region = 'Northern Virginia' ; catalog=AwsDataCatalog; schema=\"sales\"; OutputLocation=s3://results/athena ;\
         WorkGroup=analytics;EncryptionOption=sse-kms;KmsKey=arn:aws:kms:us-east-1:1:key/k;ResultReuseEnabled=TRUE;\
         ResultReuseMaxAgeMinutes=120;ResultFetcher=unload;QueryTimeout=300;Endpoint=http://127.0.0.1:4566;\
         GlueEndpoint=https://glue.example;IMDSEndpoint=http://127.0.0.1:1338;TemporaryTokenDuration=7200",
    )
    .unwrap();
    assert_eq!(o.region, Some(Region::parse("us-east-1").unwrap()));
    assert_eq!(o.data_source.as_deref(), Some("AwsDataCatalog"));
    assert_eq!(o.database.as_deref(), Some("sales"));
    assert_eq!(
        o.s3_staging_directory,
        Some(S3Location::parse("s3://results/athena/").unwrap())
    );
    assert_eq!(o.work_group.as_deref(), Some("analytics"));
    assert_eq!(o.encryption_option, Some(EncryptionOption::SseKms));
    assert!(o.result_reuse.enabled);
    assert_eq!(o.result_reuse.max_age_minutes, 120);
    assert_eq!(o.result_fetcher, ResultFetcher::Unload);
    assert_eq!(o.query_timeout, Some(Duration::from_secs(300)));
    assert_eq!(o.endpoints.athena(), Some("http://127.0.0.1:4566"));
    assert_eq!(o.endpoints.glue(), Some("https://glue.example"));
    assert_eq!(o.endpoints.imds.as_deref(), Some("http://127.0.0.1:1338"));
    assert_eq!(o.auth.temporary_token_duration, 7200);
    // Printed back, it parses to the same options.
    assert_eq!(parse(&o.to_string()).unwrap(), o);
}

#[test]
fn same_value_twice_is_fine_different_is_not() {
    assert!(parse("Database=a;Schema=a;DATABASE=a").is_ok());
    assert_eq!(
        parse("Database=a;Schema=b"),
        Err(Error::DuplicateKey {
            key: "Database".into(),
            first: "Database".into(),
            second: "Schema".into(),
            values: Some(("a".into(), "b".into())),
        })
    );
}

const SECRETS: &str = "AWSAccessKey=AKIAEXAMPLE;AWSSecretKey='s3cr3t;with;semicolons';AWSSessionToken=T0KEN==;\
    MFASerialNumber=arn:aws:iam::1:mfa/a;MFAToken=987654;Password=hunter2;User=bob;\
    OAuthClientSecret=0authS3cret;AWSWebIdentityToken=eyJwebid;AWSUserPoolClientAppSecret=p00lS3cret;\
    SSOProperties='ApiToken=ap1T0ken;MFAPassCode=112233;SSLClientCertPassword=c3rtPass;MFAType=SMS'";

const SECRET_VALUES: &[&str] = &[
    "AKIAEXAMPLE",
    "s3cr3t",
    "semicolons",
    "T0KEN",
    "987654",
    "hunter2",
    "0authS3cret",
    "eyJwebid",
    "p00lS3cret",
    "ap1T0ken",
    "112233",
    "c3rtPass",
];

#[test]
fn secrets_never_print() {
    let o = parse(SECRETS).unwrap();
    assert_eq!(
        o.auth.secret_key.as_ref().unwrap().expose(),
        "s3cr3t;with;semicolons"
    );
    assert_eq!(
        o.auth.sso_properties.api_token.as_ref().unwrap().expose(),
        "ap1T0ken"
    );
    let printed = [
        format!("{o:?}"),
        format!("{o:#?}"),
        o.to_string(),
        o.to_redacted_json().to_string(),
        o.auth.sso_properties.to_string(),
    ];
    for text in &printed {
        for secret in SECRET_VALUES {
            assert!(!text.contains(secret), "{secret} printed in {text}");
        }
    }
    let json = o.to_redacted_json();
    for key in [
        "AWSAccessKey",
        "AWSSecretKey",
        "AWSSessionToken",
        "MFAToken",
        "Password",
        "OAuthClientSecret",
        "AWSWebIdentityToken",
        "AWSUserPoolClientAppSecret",
    ] {
        assert_eq!(json[key], "***", "{key}");
    }
    assert_eq!(json["SSOProperties"]["ApiToken"], "***");
    assert_eq!(json["SSOProperties"]["MFAType"], "SMS");
    assert_eq!(json["User"], "bob");
    assert_eq!(json["AuthScheme"], "AwsIAMKeys");
    assert!(o.to_string().contains("AWSSecretKey=***;"));
}

#[test]
fn other_nested_properties_are_redacted_when_they_look_secret() {
    let mut sso = SsoProperties::default();
    sso.other.push(("ClientPassword".into(), "n0tsh0wn".into()));
    sso.other.push(("Domain".into(), "corp".into()));
    let debug = format!("{sso:?}");
    assert!(
        !debug.contains("n0tsh0wn") && debug.contains("corp"),
        "{debug}"
    );
    assert!(!sso.to_string().contains("n0tsh0wn"));
}

#[test]
fn from_map_matches_parse() {
    let map: HashMap<String, String> = [
        ("awsregion", "IRELAND"),
        ("Database", "sampledb"),
        ("S3StagingDirectory", "s3://bucket/staging/"),
        ("AuthScheme", "Okta"),
        ("User", "alice"),
        ("Password", "pw"),
        ("SSOLoginURL", "https://okta.example/app"),
        ("SSOProperties", "ApiToken=abc;MFARememberDevice=false"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let from_map = ConnectionOptions::from_map_with_env(map, no_env).unwrap();
    let parsed = parse(
        "AWSRegion=IRELAND;Database=sampledb;S3StagingDirectory=s3://bucket/staging/;AuthScheme=Okta;\
         User=alice;Password=pw;SSOLoginURL=https://okta.example/app;\
         SSOProperties='ApiToken=abc;MFARememberDevice=false'",
    )
    .unwrap();
    assert_eq!(from_map, parsed);
    assert!(!from_map.auth.sso_properties.mfa_remember_device);

    let aliases: HashMap<String, String> = [
        ("Region".to_string(), "OHIO".to_string()),
        ("AWSRegion".to_string(), "OREGON".to_string()),
    ]
    .into();
    assert!(matches!(
        ConnectionOptions::from_map_with_env(aliases, no_env),
        Err(Error::DuplicateKey { .. })
    ));
}

#[test]
fn from_env_fills_what_the_string_leaves_unset() {
    let env = env_of(&[
        (
            "ATHENA_CONNECTION",
            "Database=sampledb;GlueEndpoint=https://glue.local",
        ),
        ("AWS_REGION", "eu-west-3"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ("AWS_ENDPOINT_URL_GLUE", "http://ignored"),
    ]);
    let o = ConnectionOptions::from_env_with(env).unwrap();
    assert_eq!(o.database.as_deref(), Some("sampledb"));
    assert_eq!(o.region.as_ref().map(Region::code), Some("eu-west-3"));
    assert_eq!(o.endpoints.athena(), Some("http://127.0.0.1:4566"));
    assert_eq!(o.endpoints.glue(), Some("https://glue.local"));

    let env = env_of(&[
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", "http://x:1"),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
    ]);
    let o = ConnectionOptions::from_env_with(env).unwrap();
    assert_eq!(o.region.as_ref().map(Region::code), Some("us-east-1"));
    assert_eq!(o.endpoints.athena(), None);

    // The connection string wins over the environment.
    let env = env_of(&[
        ("ATHENA_CONNECTION", "AWSRegion=TOKYO"),
        ("AWS_REGION", "eu-west-1"),
    ]);
    let o = ConnectionOptions::from_env_with(env).unwrap();
    assert_eq!(o.region.as_ref().map(Region::code), Some("ap-northeast-1"));

    let env = env_of(&[
        ("ATHENA_CONNECTION", "AuthScheme=AwsCredentialsFile"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/tmp/creds"),
        ("AWS_PROFILE", "dev"),
    ]);
    let o = ConnectionOptions::from_env_with(env).unwrap();
    assert_eq!(
        o.auth.credentials_file.as_deref(),
        Some(std::path::Path::new("/tmp/creds"))
    );
    assert_eq!(o.auth.credentials_file_profile.as_deref(), Some("dev"));

    let err = ConnectionOptions::from_env_with(env_of(&[("AWS_REGION", "mars")])).unwrap_err();
    assert!(err.to_string().contains("'AWS_REGION'"), "{err}");
}

#[test]
fn builder_typed_and_by_key() {
    let o = ConnectionOptions::builder()
        .with_region(Region::parse("FRANKFURT").unwrap())
        .with_s3_staging_directory(S3Location::parse("s3://bkt/p/").unwrap())
        .with_auth_scheme(AuthScheme::AwsIamRoles)
        .with_access_key("AKIA")
        .with_secret_key("secret")
        .with_role_arn("arn:aws:iam::1:role/r")
        .with_temporary_token_duration(900)
        .with_query_timeout(Duration::from_secs(60))
        .with_config(ConfigKey::WorkGroup, "wg")
        .with_config("Schema".parse::<ConfigKey>().unwrap(), "db")
        .build_with_env(no_env)
        .unwrap();
    assert_eq!(o.work_group.as_deref(), Some("wg"));
    assert_eq!(o.database.as_deref(), Some("db"));
    assert_eq!(o.auth.temporary_token_duration, 900);
    assert_eq!(
        o.to_string(),
        "AWSRegion=eu-central-1;Database=db;S3StagingDirectory=s3://bkt/p/;WorkGroup=wg;QueryTimeout=60;\
         AuthScheme=AwsIAMRoles;AWSAccessKey=***;AWSSecretKey=***;AWSRoleARN=arn:aws:iam::1:role/r;\
         TemporaryTokenDuration=900;"
    );

    // A bad value given by key is reported at build, the first one wins.
    let err = ConnectionOptions::builder()
        .with_config(ConfigKey::AwsRegion, "atlantis")
        .with_config(ConfigKey::QueryTimeout, "soon")
        .build_with_env(no_env)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRegion { .. }), "{err}");

    // Typed values are range-checked at build.
    let err = ConnectionOptions::builder()
        .with_temporary_token_duration(10)
        .build_with_env(no_env)
        .unwrap_err();
    assert!(matches!(err, Error::OutOfRange { ref key, .. } if key == "TemporaryTokenDuration"));
    let err = ConnectionOptions::builder()
        .with_endpoint("localhost")
        .build_with_env(no_env)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { ref key, .. } if key == "Endpoint"));
}

#[test]
fn each_scheme_accepts_what_it_needs() {
    for ok in [
        "AWSAccessKey=a;AWSSecretKey=s",
        "AuthScheme=AwsRootKeys;AWSAccessKey=a;AWSSecretKey=s",
        "AuthScheme=AwsTempCredentials;AWSAccessKey=a;AWSSecretKey=s;AWSSessionToken=t",
        "AuthScheme=AwsMFA;MFASerialNumber=arn:aws:iam::1:mfa/a;MFAToken=123456",
        "AuthScheme=AwsIAMRoles;AWSRoleARN=arn:aws:iam::1:role/r;AWSExternalId=x",
        "AuthScheme=AwsEC2Roles",
        "AuthScheme=AwsWebIdentity;AWSRoleARN=arn:aws:iam::1:role/r;AWSWebIdentityToken=eyJ",
        "AuthScheme=AwsCredentialsFile;CredentialsFile=/home/a/.aws/credentials;Profile=dev",
        "AuthScheme=ADFSIntegrated;SSOLoginURL=https://adfs.example",
        "AuthScheme=EntraID;OAuthClientId=i;OAuthClientSecret=s;CallbackURL=http://localhost:1;SSOProperties='Resource=r;Tenant=t'",
        "AuthScheme=AwsCognitoBasic;User=u;Password=p;AWSUserPoolId=eu-west-1_x;AWSUserPoolClientAppId=c;AWSIdentityPoolId=eu-west-1:1;AWSCognitoRegion=IRELAND",
        "AuthScheme=DataZoneIdC;DataZoneDomainId=d;DataZoneEnvironmentId=e;SSOStartURL=https://d-1.awsapps.com/start;DataZoneRegion=OREGON;SSORegion=us-east-1",
        "AuthScheme=PingFederate;User=u;Password=p;SSOLoginURL=https://ping:9031/idp/sts.wst;SSOExchangeURL=urn:amazon:webservices;SSOProperties='AuthScheme=Basic;SSLClientCert=/c.pem;SSLClientCertType=PEMKEY_FILE'",
    ] {
        assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok));
    }
    let o = parse("AuthScheme=DataZone;DataZoneDomainId=d;DataZoneEnvironmentId=e;SSOStartURL=https://s;DataZoneRegion=OREGON").unwrap();
    assert_eq!(o.auth.datazone.region.as_deref(), Some("us-west-2"));
    // The environment may provide what AwsWebIdentity needs.
    let env = env_of(&[
        ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
    ]);
    assert!(ConnectionOptions::parse_with_env("AuthScheme=AwsWebIdentity", env).is_ok());
    assert_eq!(
        parse("AuthScheme=AwsWebIdentity;AWSRoleARN=arn:aws:iam::1:role/r"),
        Err(Error::MissingForScheme {
            scheme: "AwsWebIdentity".into(),
            missing: vec![
                "AWSWebIdentityToken (or AWSWebIdentityTokenFile or env AWS_WEB_IDENTITY_TOKEN_FILE)"
                    .into()
            ],
        })
    );
}

#[test]
fn error_names_the_property() {
    for (input, property) in [
        ("AWSRegion=nowhere", "AWSRegion"),
        ("Password='abc", "Password"),
        ("SSOProperties='MFAType=Fax'", "SSOProperties.MFAType"),
        ("AuthScheme=Okta", "AuthScheme"),
        ("AWSRegion=OHIO;Database", "Database"),
    ] {
        assert_eq!(
            parse(input).unwrap_err().property(),
            Some(property),
            "{input}"
        );
    }
}

/// Known names (with aliases and odd case), for generated connection strings.
fn any_key() -> impl Strategy<Value = String> {
    let names: Vec<String> = ConfigKey::ALL
        .iter()
        .flat_map(|k| std::iter::once(k.name()).chain(k.aliases().iter().copied()))
        .map(str::to_string)
        .collect();
    (proptest::sample::select(names), any::<bool>())
        .prop_map(|(n, upper)| if upper { n.to_ascii_uppercase() } else { n })
}

proptest! {
    #[test]
    fn parse_never_panics(input in any::<String>()) {
        let _ = parse(&input);
        let _ = SsoProperties::parse(&input);
    }

    #[test]
    fn parse_never_panics_on_known_keys_with_any_values(
        items in proptest::collection::vec((any_key(), "[ -~\u{e9}\u{a0}\u{1F600}]{0,24}"), 0..8)
    ) {
        let s: String = items.iter().map(|(k, v)| format!("{k}={v};")).collect();
        if let Ok(o) = parse(&s) {
            // Whatever parses prints back to something that parses to the same options,
            // unless a secret had to be printed as ***.
            let has_secret = ConfigKey::ALL.iter().any(|k| k.is_secret() && o.is_set(*k))
                || o.auth.sso_properties.to_string().contains("***");
            if !has_secret {
                prop_assert_eq!(parse(&o.to_string()), Ok(o));
            }
        }
    }

    #[test]
    fn errors_never_show_a_secret_value(
        secret_key in proptest::sample::select(vec!["AWSSecretKey", "Password", "MFAToken", "AWSSessionToken", "OAuthClientSecret", "AWSWebIdentityToken"]),
        before in "[ -~]{0,12}",
        after in "[ -~]{0,12}",
        quote in proptest::sample::select(vec!["", "'", "\""]),
    ) {
        let secret = "Zq9SeCrEtVaL";
        let s = format!("{before};{secret_key}={quote}{secret}{after}");
        if let Err(e) = parse(&s) {
            prop_assert!(!e.to_string().contains(secret), "{} -> {}", s, e);
            prop_assert!(!format!("{e:?}").contains(secret), "{} -> {:?}", s, e);
        }
    }
}

#[test]
fn nested_lists_quote_inside_quotes() {
    let o = parse("SSOProperties=\"ApiToken='a;b''c';MFAType=sms;MFARememberDevice=no\"").unwrap();
    let sso = &o.auth.sso_properties;
    assert_eq!(sso.api_token.as_ref().map(|t| t.expose()), Some("a;b'c"));
    assert_eq!(sso.mfa_type.as_deref(), Some("SMS"));
    assert!(!sso.mfa_remember_device);
    let o = parse("SSOProperties='Resource=https://signin.aws.amazon.com/saml;AzureTenant=t;SSLClientCertSubject=''CN=a;b'''").unwrap();
    assert_eq!(
        o.auth.sso_properties.ssl_client_cert_subject.as_deref(),
        Some("CN=a;b")
    );
    // No secrets: printed back, it parses to the same options.
    assert_eq!(parse(&o.to_string()).unwrap(), o);
}

#[test]
fn auto_unload_min_rows_defaults_to_a_million_and_zero_turns_it_off() {
    let o = parse("AWSRegion=eu-west-1").unwrap();
    assert_eq!(o.auto_unload_min_rows, None);
    assert_eq!(o.auto_unload_threshold(), Some(1_000_000));
    let o = parse("AWSRegion=eu-west-1;AutoUnloadMinRows=5000").unwrap();
    assert_eq!(o.auto_unload_threshold(), Some(5_000));
    assert!(
        o.to_redacted_json()
            .to_string()
            .contains("\"AutoUnloadMinRows\":5000")
    );
    let o = parse("AWSRegion=eu-west-1;AutoUnloadMinRows=0").unwrap();
    assert_eq!(o.auto_unload_threshold(), None);
    let err = parse("AWSRegion=eu-west-1;AutoUnloadMinRows=many")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("AutoUnloadMinRows") && err.contains("many"),
        "{err}"
    );
}
