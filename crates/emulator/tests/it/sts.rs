//! The emulator's STS through the real aws-sdk-sts client: issued credentials then work with
//! Athena and S3 until they expire.

use aws_credential_types::Credentials;
use aws_sdk_athena::config::Region;
use aws_sdk_athena::types::QueryExecutionState;
use aws_sdk_sts::error::ProvideErrorMetadata;
use base64::Engine as _;
use datafusion_athena_emulator::EmulatorHandle;
use object_store::ObjectStoreExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;

use crate::common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/analyst";
const IDP: &str = "arn:aws:iam::123456789012:saml-provider/corp";

fn sts_with(emu: &EmulatorHandle, creds: Credentials) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .endpoint_url(emu.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .behavior_version_latest()
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

fn sts(emu: &EmulatorHandle) -> aws_sdk_sts::Client {
    sts_with(emu, Credentials::new(AK, SK, None, None, "test"))
}

/// An STS client with no credentials at all (for the unsigned actions).
fn anonymous_sts(emu: &EmulatorHandle) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .endpoint_url(emu.endpoint())
        .region(Region::new("us-east-1"))
        .behavior_version_latest()
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

fn athena_session(
    emu: &EmulatorHandle,
    c: &aws_sdk_sts::types::Credentials,
) -> aws_sdk_athena::Client {
    athena_token(
        emu,
        c.access_key_id(),
        c.secret_access_key(),
        c.session_token(),
    )
}

fn athena_token(emu: &EmulatorHandle, ak: &str, sk: &str, token: &str) -> aws_sdk_athena::Client {
    let config = aws_sdk_athena::Config::builder()
        .endpoint_url(emu.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            ak,
            sk,
            Some(token.to_owned()),
            None,
            "sts",
        ))
        .behavior_version_latest()
        .build();
    aws_sdk_athena::Client::from_conf(config)
}

async fn query_succeeds(client: &aws_sdk_athena::Client) {
    let q = run(client, "SELECT count(*) FROM numbers").await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded, "{q:?}");
    let rows = all_rows(client, q.query_execution_id().unwrap(), 10).await;
    assert_eq!(rows[1], strings(&[Some("2500")]));
}

#[tokio::test]
async fn assumed_role_credentials_run_queries_until_they_expire() {
    let emu = emulator().await;
    let before = chrono::Utc::now();
    let out = sts(&emu)
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("etl-job")
        .external_id("ext-1234")
        .duration_seconds(900)
        .serial_number("arn:aws:iam::123456789012:mfa/user")
        .token_code("123456")
        .send()
        .await
        .expect("AssumeRole");
    let creds = out.credentials().expect("credentials");
    assert!(creds.access_key_id().starts_with("ASIA"), "{creds:?}");
    assert!(!creds.session_token().is_empty());
    let expires = creds.expiration().secs();
    let expected = before.timestamp() + 900;
    assert!(
        (expected - 5..=expected + 5).contains(&expires),
        "{expires} vs {expected}"
    );
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::123456789012:assumed-role/analyst/etl-job"
    );

    let client = athena_session(&emu, creds);
    query_succeeds(&client).await;
    let log = emu.request_log();
    assert!(
        log.iter().any(|r| r.operation == "StartQueryExecution"
            && r.access_key.as_deref() == Some(creds.access_key_id())),
        "{log:?}"
    );

    // S3 accepts them too (X-Amz-Security-Token).
    let s3 = AmazonS3Builder::new()
        .with_endpoint(emu.endpoint())
        .with_allow_http(true)
        .with_bucket_name("athena-results")
        .with_region("us-east-1")
        .with_access_key_id(creds.access_key_id())
        .with_secret_access_key(creds.secret_access_key())
        .with_token(creds.session_token())
        .build()
        .unwrap();
    s3.put(&Path::from("sts/x"), "hi".into())
        .await
        .expect("PutObject with session credentials");

    // GetCallerIdentity reports the assumed role.
    let sts_session = sts_with(
        &emu,
        Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
            None,
            "sts",
        ),
    );
    let me = sts_session
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/analyst/etl-job")
    );
    assert_eq!(me.account(), Some("123456789012"));

    // A wrong session token for the issued key: AWS's invalid-token error.
    let wrong = athena_token(
        &emu,
        creds.access_key_id(),
        creds.secret_access_key(),
        "forged",
    );
    let err = wrong
        .list_work_groups()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("UnrecognizedClientException"), "{err:?}");

    // Expired: Athena, S3 and STS all refuse them with their expired-token errors.
    emu.expire_credentials(creds.access_key_id());
    let err = client
        .list_work_groups()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ExpiredTokenException"), "{err:?}");
    let err = s3.get(&Path::from("sts/x")).await.unwrap_err();
    assert!(format!("{err:?}").contains("ExpiredToken"), "{err:?}");
    let err = sts_session
        .get_caller_identity()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ExpiredToken"), "{err:?}");
}

#[tokio::test]
async fn get_session_token_and_errors_have_aws_shapes() {
    let emu = emulator().await;
    let client = sts(&emu);
    let me = client.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:user/emulator"));

    let out = client
        .get_session_token()
        .serial_number("arn:aws:iam::123456789012:mfa/user")
        .token_code("654321")
        .duration_seconds(1800)
        .send()
        .await
        .expect("GetSessionToken");
    let creds = out.credentials().unwrap();
    query_succeeds(&athena_session(&emu, creds)).await;

    let err = client
        .get_session_token()
        .serial_number("arn:aws:iam::123456789012:mfa/user")
        .token_code("12")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    assert!(err.message().unwrap().contains("MultiFactorAuthentication"));

    let err = client
        .assume_role()
        .role_arn("not-an-arn")
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"), "{err:?}");
    assert!(err.message().unwrap().contains("not-an-arn"));

    let err = client
        .assume_role()
        .role_arn(ROLE)
        .role_session_name("s1")
        .duration_seconds(60)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"), "{err:?}");

    let unknown = sts_with(
        &emu,
        Credentials::new("ASIAUNKNOWN", SK, Some("t".into()), None, "x"),
    );
    let err = unknown
        .get_caller_identity()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidClientTokenId"), "{err:?}");
}

fn b64url(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn web_identity_tokens_are_exchanged_unsigned() {
    let emu = emulator().await;
    let exp = chrono::Utc::now().timestamp() + 600;
    let jwt = format!(
        "{}.{}.c2ln",
        b64url(r#"{"alg":"RS256"}"#),
        b64url(&format!(
            r#"{{"sub":"system:serviceaccount:etl","iss":"https://oidc.example","aud":"sts.amazonaws.com","exp":{exp}}}"#
        ))
    );
    let out = anonymous_sts(&emu)
        .assume_role_with_web_identity()
        .role_arn(ROLE)
        .role_session_name("pod")
        .web_identity_token(&jwt)
        .send()
        .await
        .expect("AssumeRoleWithWebIdentity");
    assert_eq!(
        out.subject_from_web_identity_token(),
        Some("system:serviceaccount:etl")
    );
    assert_eq!(out.provider(), Some("https://oidc.example"));
    query_succeeds(&athena_session(&emu, out.credentials().unwrap())).await;

    let stale = format!(
        "{}.{}.c2ln",
        b64url("{}"),
        b64url(r#"{"sub":"x","exp":1000}"#)
    );
    let err = anonymous_sts(&emu)
        .assume_role_with_web_identity()
        .role_arn(ROLE)
        .role_session_name("pod")
        .web_identity_token(stale)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ExpiredTokenException"), "{err:?}");
}

fn saml_response(roles: &[&str]) -> String {
    let values: String = roles
        .iter()
        .map(|r| format!("<saml:AttributeValue>{r}</saml:AttributeValue>"))
        .collect();
    let xml = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">
  <saml:Issuer>https://idp.example/</saml:Issuer>
  <saml:Assertion>
    <saml:Subject><saml:NameID>ann@example.com</saml:NameID></saml:Subject>
    <saml:Conditions NotOnOrAfter="2999-01-01T00:00:00Z"/>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">{values}</saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>ann@example.com</saml:AttributeValue></saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"#
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

#[tokio::test]
async fn saml_assertions_must_offer_the_requested_role() {
    let emu = emulator().await;
    let other = "arn:aws:iam::123456789012:role/other";
    // Either order of role and provider is accepted, as AWS does.
    let assertion = saml_response(&[&format!("{IDP},{ROLE}"), &format!("{other},{IDP}")]);
    let out = anonymous_sts(&emu)
        .assume_role_with_saml()
        .role_arn(ROLE)
        .principal_arn(IDP)
        .saml_assertion(&assertion)
        .send()
        .await
        .expect("AssumeRoleWithSAML");
    assert_eq!(out.subject(), Some("ann@example.com"));
    assert_eq!(out.issuer(), Some("https://idp.example/"));
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::123456789012:assumed-role/analyst/ann@example.com"
    );
    query_succeeds(&athena_session(&emu, out.credentials().unwrap())).await;

    let err = anonymous_sts(&emu)
        .assume_role_with_saml()
        .role_arn("arn:aws:iam::123456789012:role/admin")
        .principal_arn(IDP)
        .saml_assertion(&assertion)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
    assert!(err.message().unwrap().contains("role/other"), "{err:?}");

    let err = anonymous_sts(&emu)
        .assume_role_with_saml()
        .role_arn(ROLE)
        .principal_arn(IDP)
        .saml_assertion("not base64 !")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidIdentityToken"), "{err:?}");
}
