//! `datafusion-athena check`, run as a process: the seed's example connection strings are
//! accepted and printed as redacted JSON; malformed ones exit 2 with one line naming the
//! property, and never panic.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{BIN, text};

/// Runs the binary with a clean environment plus `env`, and the given arguments.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run datafusion-athena")
}

fn check(connection: &str) -> Output {
    run(&["--connection", connection, "check"], &[])
}

// The five example connection strings of the seed (the CData connector's documentation),
// copied verbatim, each with its secret values.
//
// In the ADFS and Okta examples the seed's text went through an e-mail obfuscator, which
// replaced `User=<address>` (`=` is legal in the local part of an address) by
// "[email protected]" (with a no-break space). [`restored`] puts a `User=` property back.
const CONNECT: &str = "AWSAccessKey='a123';AWSSecretKey='s123';AWSRegion='IRELAND';Database='sampledb';S3StagingDirectory='s3://bucket/staging/';";
const ADFS: &str = "AuthScheme=ADFS; AWSRegion=Ireland; Database=sampledb; [email\u{a0}protected]; Password=CH8WerW121235647iCa6; SSOLoginURL='https://adfs.domain.com'; AWSRoleArn=arn:aws:iam::1234:role/ADFS_SSO; AWSPrincipalArn=arn:aws:iam::1234:saml-provider/ADFSProvider; S3StagingDirectory=s3://athena/staging;";
const OKTA: &str = "AuthScheme=Okta; AWSRegion=Ireland; Database=sampledb; [email\u{a0}protected]; Password=CH8WerW121235647iCa6; SSOLoginURL='https://cdata-us.okta.com/home/amazon_aws/0oa35m8arsAL5f5NrE6NdA356/272'; SSOProperties='ApiToken=01230GGG2ceAnm_tPAf4MhiMELXZ0L0N1pAYrO1VR-hGQSf;'; AWSRoleArn=arn:aws:iam::1234:role/Okta_SSO; AWSPrincipalARN=arn:aws:iam::1234:saml-provider/OktaProvider; S3StagingDirectory=s3://athena/staging;";
const PING: &str = "authScheme=pingfederate;SSOLoginURL=https://mycustomserver.com:9033/idp/sts.wst;SSOExchangeUrl=https://us-east-1.signin.aws.amazon.com/platform/saml/acs/764ef411-xxxxxx;user=admin;password=PassValue;AWSPrincipalARN=arn:aws:iam::215338515180:saml-provider/pingFederate;AWSRoleArn=arn:aws:iam::215338515180:role/SSOTest2;AWSRegion=Ireland;S3StagingDirectory=s3://somedirectory/staging;Database=athenadatabase;";
const AZURE: &str = "AuthScheme=AzureAD;InitiateOAuth=GETANDREFRESH;OAuthClientId=3ea1c786-d527-4399-8c3b-2e3696ae4b48;OauthClientSecret=xxx;CallbackUrl=https://localhost:33333;SSOProperties='Resource=https://signin.aws.amazon.com/saml;AzureTenant=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';";

const SEED_EXAMPLES: &[(&str, &str)] = &[
    ("connect", CONNECT),
    ("ADFS", ADFS),
    ("Okta", OKTA),
    ("PingFederate", PING),
    ("AzureAD", AZURE),
];

/// The examples are the seed's own text, when the seed is where the workspace expects it
/// (beside the clone, as in CI and on the developers' machines).
#[test]
fn examples_are_verbatim_from_the_seed() {
    let seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seed/000_047295d96e7bb3b7.txt");
    let Ok(seed) = std::fs::read_to_string(&seed) else {
        eprintln!(
            "seed not found at {}: only the copies are checked",
            seed.display()
        );
        return;
    };
    for (name, connection) in SEED_EXAMPLES {
        assert!(
            seed.contains(connection),
            "the {name} example is not verbatim from the seed"
        );
    }
}

/// The placeholder the e-mail obfuscator left in the seed's ADFS and Okta examples.
const OBFUSCATED_USER: &str = "[email\u{a0}protected]";

/// The example as the connector's documentation wrote it: with a `User=` property where the
/// obfuscator left its placeholder.
fn restored(connection: &str) -> String {
    connection.replace(OBFUSCATED_USER, "User=alice@domain.com")
}

/// Parses stdout as one JSON object, checking there is nothing else and no secret anywhere.
fn accepted(name: &str, connection: &str, secrets: &[&str]) -> Value {
    let out = check(connection);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{name}: stderr: {stderr}");
    assert!(stderr.is_empty(), "{name}: unexpected stderr: {stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("stdout is one JSON value");
    assert!(json.is_object(), "{name}: not an object: {stdout}");
    // The Azure tenant of the example is a placeholder made of x's, so it contains the
    // example's client secret "xxx": take the non-secret values that legitimately hold a
    // secret as a substring out before looking for secrets.
    let mut visible = format!("{stdout}{stderr}");
    for placeholder in ["xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "764ef411-xxxxxx"] {
        visible = visible.replace(placeholder, "");
    }
    for secret in secrets {
        assert!(
            !visible.contains(secret),
            "{name}: secret {secret} printed: {stdout}"
        );
    }
    json
}

#[test]
fn seed_connect_example() {
    let json = accepted("connect", CONNECT, &["a123", "s123"]);
    assert_eq!(json["AWSRegion"], "eu-west-1");
    assert_eq!(json["Database"], "sampledb");
    assert_eq!(json["S3StagingDirectory"], "s3://bucket/staging/");
    assert_eq!(json["AuthScheme"], "AwsIAMKeys");
    assert_eq!(json["AWSAccessKey"], "***");
    assert_eq!(json["AWSSecretKey"], "***");
    assert_eq!(json["TemporaryTokenDuration"], 3600);
    assert_eq!(json["ResultFetcher"], "Auto");
}

#[test]
fn seed_adfs_example() {
    let json = accepted("ADFS", &restored(ADFS), &["CH8WerW121235647iCa6"]);
    assert_eq!(json["AuthScheme"], "ADFS");
    assert_eq!(json["AWSRegion"], "eu-west-1");
    assert_eq!(json["User"], "alice@domain.com");
    assert_eq!(json["Password"], "***");
    assert_eq!(json["SSOLoginURL"], "https://adfs.domain.com");
    assert_eq!(json["AWSRoleARN"], "arn:aws:iam::1234:role/ADFS_SSO");
    assert_eq!(
        json["AWSPrincipalARN"],
        "arn:aws:iam::1234:saml-provider/ADFSProvider"
    );
    assert_eq!(json["S3StagingDirectory"], "s3://athena/staging/");
}

#[test]
fn seed_okta_example() {
    let json = accepted(
        "Okta",
        &restored(OKTA),
        &[
            "CH8WerW121235647iCa6",
            "01230GGG2ceAnm_tPAf4MhiMELXZ0L0N1pAYrO1VR-hGQSf",
        ],
    );
    assert_eq!(json["AuthScheme"], "Okta");
    assert_eq!(json["Password"], "***");
    assert_eq!(
        json["SSOLoginURL"],
        "https://cdata-us.okta.com/home/amazon_aws/0oa35m8arsAL5f5NrE6NdA356/272"
    );
    assert_eq!(json["User"], "alice@domain.com");
    assert_eq!(json["SSOProperties"]["ApiToken"], "***");
    assert_eq!(json["SSOProperties"]["MFARememberDevice"], true);
    assert_eq!(
        json["AWSPrincipalARN"],
        "arn:aws:iam::1234:saml-provider/OktaProvider"
    );
}

#[test]
fn seed_pingfederate_example() {
    let json = accepted("PingFederate", PING, &["PassValue"]);
    assert_eq!(json["AuthScheme"], "PingFederate");
    assert_eq!(json["User"], "admin");
    assert_eq!(json["Password"], "***");
    assert_eq!(
        json["SSOLoginURL"],
        "https://mycustomserver.com:9033/idp/sts.wst"
    );
    assert_eq!(
        json["SSOExchangeURL"],
        "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/764ef411-xxxxxx"
    );
    assert_eq!(
        json["AWSRoleARN"],
        "arn:aws:iam::215338515180:role/SSOTest2"
    );
    assert_eq!(json["Database"], "athenadatabase");
    assert_eq!(json["S3StagingDirectory"], "s3://somedirectory/staging/");
}

#[test]
fn seed_azuread_example() {
    let json = accepted("AzureAD", AZURE, &["xxx"]);
    assert_eq!(json["AuthScheme"], "AzureAD");
    assert_eq!(json["InitiateOAuth"], "GETANDREFRESH");
    assert_eq!(
        json["OAuthClientId"],
        "3ea1c786-d527-4399-8c3b-2e3696ae4b48"
    );
    assert_eq!(json["OAuthClientSecret"], "***");
    assert_eq!(json["CallbackURL"], "https://localhost:33333");
    assert_eq!(
        json["SSOProperties"]["Resource"],
        "https://signin.aws.amazon.com/saml"
    );
    assert_eq!(
        json["SSOProperties"]["AzureTenant"],
        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    );
    assert!(
        json.get("AWSRegion").is_none(),
        "no region given, none in the environment"
    );
}

/// Verbatim, the obfuscated ADFS and Okta examples have a segment without `=`: a clear error
/// that shows the placeholder and no secret.
#[test]
fn seed_examples_with_the_obfuscated_user_are_reported_clearly() {
    for (name, connection, secrets) in [
        ("ADFS", ADFS, &["CH8WerW121235647iCa6"][..]),
        (
            "Okta",
            OKTA,
            &[
                "CH8WerW121235647iCa6",
                "01230GGG2ceAnm_tPAf4MhiMELXZ0L0N1pAYrO1VR-hGQSf",
            ][..],
        ),
    ] {
        let out = check(connection);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert_eq!(
            stderr,
            format!(
                "error: '{OBFUSCATED_USER}' (after property 'Database') is not Name=value: write properties as Name=value;Name=value, quoting values that contain ';'\n"
            )
        );
        for secret in secrets {
            assert!(!stderr.contains(secret));
        }
    }
}

/// (connection string, what stderr must contain, what it must not contain).
const MALFORMED: &[(&str, &[&str], &[&str])] = &[
    // unknown property, with and without a near name
    (
        "AWSRegon=IRELAND",
        &["'AWSRegon'", "did you mean 'AWSRegion'"],
        &[],
    ),
    (
        "Frobnicate=1;Database=x",
        &["'Frobnicate'"],
        &["did you mean"],
    ),
    // unterminated quotes
    (
        "AWSRegion='IRELAND;Database=x",
        &["'AWSRegion'", "never closed"],
        &[],
    ),
    (
        "AWSAccessKey=a;AWSSecretKey=\"SeCrEtVaLuE1",
        &["'AWSSecretKey'", "never closed"],
        &["SeCrEtVaLuE1"],
    ),
    // text after a closing quote
    (
        "Database='sampledb'x;",
        &["'Database'", "after its closing quote"],
        &[],
    ),
    // empty name
    (
        "AWSRegion=IRELAND;=sampledb",
        &["empty name", "'AWSRegion'"],
        &[],
    ),
    // no '='
    (
        "AWSRegion=IRELAND;Database",
        &["'Database'", "no value"],
        &[],
    ),
    // an unquoted ';' inside a secret: the rest is never shown
    (
        "AWSAccessKey=a;AWSSecretKey=SeCrEt1;SeCrEt2;",
        &["'AWSSecretKey'", "quotes"],
        &["SeCrEt2"],
    ),
    (
        "AWSAccessKey=a;Password=PaSsWoRd1;PaSsWoRd2=x;",
        &["'Password'", "quotes"],
        &["PaSsWoRd2"],
    ),
    // the same property twice with different values
    (
        "AWSRegion=IRELAND;Region=OHIO",
        &["'AWSRegion'", "twice", "Region"],
        &[],
    ),
    (
        "AWSAccessKey=a;AWSSecretKey=FiRsTsEcReT;SecretKey=SeCoNdSeCrEt",
        &["'AWSSecretKey'", "twice"],
        &["FiRsTsEcReT", "SeCoNdSeCrEt"],
    ),
    // bad region
    (
        "AWSRegion=ATLANTIS",
        &["'AWSRegion'", "'ATLANTIS' is not an AWS region"],
        &[],
    ),
    (
        "AWSRegion=IRLAND",
        &["'AWSRegion'", "did you mean 'IRELAND'"],
        &[],
    ),
    // bad numbers
    (
        "TemporaryTokenDuration=long",
        &["'TemporaryTokenDuration'", "not a number"],
        &[],
    ),
    ("QueryTimeout=5m", &["'QueryTimeout'", "not a number"], &[]),
    // bad boolean
    (
        "ResultReuseEnabled=maybe",
        &["'ResultReuseEnabled'", "true or false"],
        &[],
    ),
    // bad enum values list what is accepted
    (
        "ResultFetcher=Carrier",
        &["'ResultFetcher'", "Auto, S3, GetQueryResults, Unload"],
        &[],
    ),
    (
        "AuthScheme=Kerberos",
        &["'AuthScheme'", "Okta", "PingFederate"],
        &[],
    ),
    (
        "EncryptionOption=AES",
        &["'EncryptionOption'", "SSE_S3, SSE_KMS, CSE_KMS"],
        &[],
    ),
    (
        "InitiateOAuth=ALWAYS",
        &["'InitiateOAuth'", "GETANDREFRESH"],
        &[],
    ),
    // bad S3 URLs
    (
        "S3StagingDirectory=https://bucket/staging/",
        &["'S3StagingDirectory'", "s3://bucket/prefix/"],
        &[],
    ),
    (
        "S3StagingDirectory=s3://B/staging/",
        &["'S3StagingDirectory'", "bucket"],
        &[],
    ),
    // what the scheme needs
    (
        "AuthScheme=Okta;User=u",
        &["AuthScheme=Okta", "Password", "SSOLoginURL"],
        &[],
    ),
    (
        "AuthScheme=ADFS;User=u;Password=PwAdFs123",
        &["AuthScheme=ADFS", "SSOLoginURL"],
        &["PwAdFs123"],
    ),
    (
        "AuthScheme=PingFederate;User=u;Password=p;SSOLoginURL=https://ping:9033/idp/sts.wst",
        &["AuthScheme=PingFederate", "SSOExchangeURL"],
        &[],
    ),
    (
        "AuthScheme=AzureAD;OAuthClientId=id;OAuthClientSecret=s;CallbackURL=http://localhost:33333;SSOProperties='Resource=https://signin.aws.amazon.com/saml'",
        &["AuthScheme=AzureAD", "SSOProperties.AzureTenant"],
        &[],
    ),
    (
        "AuthScheme=AwsIAMRoles",
        &["AuthScheme=AwsIAMRoles", "AWSRoleARN"],
        &[],
    ),
    (
        "AuthScheme=AwsMFA;MFASerialNumber=arn:aws:iam::1:mfa/a",
        &["AuthScheme=AwsMFA", "MFAToken"],
        &[],
    ),
    (
        "AuthScheme=AwsWebIdentity",
        &[
            "AuthScheme=AwsWebIdentity",
            "AWSRoleARN",
            "AWSWebIdentityToken",
        ],
        &[],
    ),
    (
        "AuthScheme=AwsCredentialsFile",
        &["AuthScheme=AwsCredentialsFile", "AWSCredentialsFile"],
        &[],
    ),
    (
        "AuthScheme=AwsCognitoSrp;User=u;Password=p",
        &[
            "AuthScheme=AwsCognitoSrp",
            "AWSUserPoolId",
            "AWSIdentityPoolId",
        ],
        &[],
    ),
    (
        "AuthScheme=DataZoneIdC;DataZoneDomainId=dzd_1",
        &[
            "AuthScheme=DataZoneIdC",
            "DataZoneEnvironmentId",
            "SSOStartURL",
        ],
        &[],
    ),
    (
        "AuthScheme=AwsTempCredentials;AWSAccessKey=a;AWSSecretKey=TeMpSeCrEt",
        &["AWSSessionToken"],
        &["TeMpSeCrEt"],
    ),
    // properties that need each other
    (
        "AWSSecretKey=LoNeSeCrEt",
        &["'AWSSecretKey'", "AWSAccessKey"],
        &["LoNeSeCrEt"],
    ),
    (
        "AWSAccessKey=AKIAONLY",
        &["'AWSAccessKey'", "AWSSecretKey"],
        &["AKIAONLY"],
    ),
    (
        "KmsKey=arn:aws:kms:eu-west-1:1:key/k",
        &["'KmsKey'", "EncryptionOption"],
        &[],
    ),
    (
        "EncryptionOption=SSE_KMS",
        &["'EncryptionOption'", "KmsKey"],
        &[],
    ),
    (
        "AuthScheme=AwsRootKeys;AWSAccessKey=a;AWSSecretKey=s;AWSRoleARN=arn:aws:iam::1:role/r",
        &["'AWSRoleARN'", "AwsRootKeys"],
        &[],
    ),
    // out of range
    (
        "TemporaryTokenDuration=60",
        &["'TemporaryTokenDuration'", "900 to 129600"],
        &[],
    ),
    (
        "TemporaryTokenDuration=-5",
        &["'TemporaryTokenDuration'", "out of range"],
        &[],
    ),
    (
        "ResultReuseMaxAgeMinutes=20000",
        &["'ResultReuseMaxAgeMinutes'", "0 to 10080"],
        &[],
    ),
    ("QueryTimeout=0", &["'QueryTimeout'", "more than 0"], &[]),
    // bad URLs
    (
        "Endpoint=localhost:4566",
        &["'Endpoint'", "http(s) URL"],
        &[],
    ),
    (
        "AthenaEndpoint=https://",
        &["'AthenaEndpoint'", "no host"],
        &[],
    ),
    (
        "STSEndpoint=http://127.0.0.1:99999",
        &["'STSEndpoint'", "port"],
        &[],
    ),
    (
        "AuthScheme=ADFS;User=u;Password=p;SSOLoginURL=adfs.domain.com",
        &["'SSOLoginURL'", "http(s) URL"],
        &[],
    ),
    ("CallbackURL=localhost:33333", &["'CallbackURL'"], &[]),
    // nested SSOProperties
    (
        "SSOProperties='ApiTokn=abc'",
        &[
            "'SSOProperties.ApiTokn'",
            "did you mean 'SSOProperties.ApiToken'",
        ],
        &[],
    ),
    (
        "SSOProperties='MFARememberDevice=perhaps'",
        &["'SSOProperties.MFARememberDevice'", "true or false"],
        &[],
    ),
    (
        "SSOProperties='MFAType=Pigeon'",
        &["'SSOProperties.MFAType'", "OktaVerify, Email, SMS"],
        &[],
    ),
    (
        "SSOProperties='ApiToken=\"NeStEdSeCrEt'",
        &["'SSOProperties.ApiToken'", "never closed"],
        &["NeStEdSeCrEt"],
    ),
    (
        "SSOProperties='ApiToken=NeStEd1;ApiToken=NeStEd2'",
        &["'SSOProperties.ApiToken'", "twice"],
        &["NeStEd1", "NeStEd2"],
    ),
];

#[test]
fn malformed_connection_strings_exit_2_naming_the_property() {
    assert!(MALFORMED.len() >= 25);
    for (connection, expected, forbidden) in MALFORMED {
        let out = check(connection);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{connection}: stderr: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{connection}: stdout: {}",
            text(&out.stdout)
        );
        assert!(!stderr.contains("panicked"), "{connection}: {stderr}");
        assert!(stderr.starts_with("error: "), "{connection}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{connection}: not one line: {stderr}"
        );
        for e in *expected {
            assert!(
                stderr.contains(e),
                "{connection}: expected {e:?} in {stderr}"
            );
        }
        for f in *forbidden {
            assert!(
                !stderr.contains(f),
                "{connection}: {f:?} leaked in {stderr}"
            );
        }
    }
}

#[test]
fn connection_comes_from_the_environment_too() {
    let out = run(&["check"], &[("ATHENA_CONNECTION", CONNECT)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["Database"], "sampledb");
    assert!(!text(&out.stdout).contains("s123"));

    // --connection wins over the variable; AWS_REGION fills the unset region.
    let out = run(
        &["--connection", "Database=other", "check"],
        &[("ATHENA_CONNECTION", CONNECT), ("AWS_REGION", "OREGON")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["Database"], "other");
    assert_eq!(json["AWSRegion"], "us-west-2");
    assert_eq!(json["AuthScheme"], "Default");
}

#[test]
fn a_bad_environment_region_is_an_error() {
    let out = run(&["check"], &[("AWS_REGION", "atlantis")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("'AWS_REGION'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn web_identity_from_the_environment() {
    let out = run(
        &["--connection", "AuthScheme=AwsWebIdentity", "check"],
        &[
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/pod"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["AWSRoleARN"], "arn:aws:iam::1:role/pod");
    assert_eq!(json["AWSWebIdentityTokenFile"], "/var/run/token");
}

#[test]
fn help_never_shows_the_connection_from_the_environment() {
    let out = run(&["--help"], &[("ATHENA_CONNECTION", CONNECT)]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("--connection"));
    assert!(stdout.contains("check"));
    assert!(!stdout.contains("s123"), "{stdout}");
}

#[test]
fn unknown_arguments_are_usage_errors() {
    let out = run(&["check", "--frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stderr).contains("panicked"));
}
