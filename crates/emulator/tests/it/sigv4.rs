//! Requests signed with the wrong key or secret get AWS's error, not a result.

use object_store::ObjectStoreExt;
use object_store::path::Path;

use crate::common::*;

#[tokio::test]
async fn wrong_credentials_are_rejected() {
    let emu = emulator().await;

    let wrong_secret = athena_with(&emu, AK, "wrong", 1);
    let err = wrong_secret.list_work_groups().send().await.unwrap_err();
    let text = format!("{:?}", err.into_service_error());
    assert!(text.contains("InvalidSignatureException"), "{text}");

    let wrong_key = athena_with(&emu, "AKIDUNKNOWN", SK, 1);
    let err = wrong_key
        .start_query_execution()
        .query_string("SELECT 1")
        .send()
        .await
        .unwrap_err();
    let text = format!("{:?}", err.into_service_error());
    assert!(text.contains("UnrecognizedClientException"), "{text}");

    let bad_s3 = s3_with(&emu, "athena-results", AK, "wrong");
    let err = bad_s3.get(&Path::from("x")).await.unwrap_err();
    assert!(
        err.to_string().contains("SignatureDoesNotMatch") || format!("{err:?}").contains("403"),
        "{err:?}"
    );
    let unknown_s3 = s3_with(&emu, "athena-results", "AKIDUNKNOWN", SK);
    let err = unknown_s3.head(&Path::from("x")).await.unwrap_err();
    assert!(format!("{err:?}").contains("403"), "{err:?}");

    let log = emu.request_log();
    assert_eq!(log.iter().filter(|r| r.status == 403).count(), 4, "{log:?}");
    assert!(
        log.iter()
            .any(|r| r.error_code.as_deref() == Some("InvalidSignatureException"))
    );
    assert!(
        log.iter()
            .any(|r| r.error_code.as_deref() == Some("UnrecognizedClientException"))
    );
    // Nothing was started by the rejected StartQueryExecution.
    assert!(
        athena(&emu)
            .list_query_executions()
            .send()
            .await
            .unwrap()
            .query_execution_ids()
            .is_empty()
    );

    // Unsigned requests are refused too.
    let http = reqwest_free_post(&emu).await;
    assert!(
        http.starts_with("HTTP/1.1 400") || http.starts_with("HTTP/1.1 403"),
        "{http}"
    );
    assert!(http.contains("MissingAuthenticationToken"), "{http}");

    // Extra credentials (as STS would issue) work with their session token only.
    emu.add_credentials("ASIATEMP", "temp-secret", Some("token-1"));
    let config = aws_sdk_athena::Config::builder()
        .endpoint_url(emu.endpoint())
        .region(aws_sdk_athena::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "ASIATEMP",
            "temp-secret",
            Some("token-1".into()),
            None,
            "t",
        ))
        .behavior_version_latest()
        .build();
    aws_sdk_athena::Client::from_conf(config)
        .list_work_groups()
        .send()
        .await
        .unwrap();
    let config = aws_sdk_athena::Config::builder()
        .endpoint_url(emu.endpoint())
        .region(aws_sdk_athena::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "ASIATEMP",
            "temp-secret",
            Some("token-2".into()),
            None,
            "t",
        ))
        .behavior_version_latest()
        .build();
    assert!(
        aws_sdk_athena::Client::from_conf(config)
            .list_work_groups()
            .send()
            .await
            .is_err()
    );
    emu.shutdown().await;
}

/// A raw unsigned awsJson POST over a TCP socket.
async fn reqwest_free_post(emu: &datafusion_athena_emulator::EmulatorHandle) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    let body = "{}";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: AmazonAthena.ListWorkGroups\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        emu.addr(),
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    response
}
