//! Fault injection knobs and the request log.

use std::time::Duration;

use aws_sdk_athena::types::QueryExecutionState;
use datafusion_athena_emulator::{QueryState, Service, ThrottleKind};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

use crate::common::*;

#[tokio::test]
async fn throttling_and_server_errors() {
    let emu = emulator().await;
    let client = athena_with(&emu, AK, SK, 3);
    emu.faults().throttle(1.0, ThrottleKind::Throttling);
    let err = client
        .list_work_groups()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        format!("{err:?}").contains("ThrottlingException"),
        "{err:?}"
    );
    let attempts = emu
        .request_log()
        .iter()
        .filter(|r| r.operation == "ListWorkGroups")
        .count();
    assert_eq!(attempts, 3, "the SDK retried the throttled call");

    emu.faults().throttle(1.0, ThrottleKind::TooManyRequests);
    emu.faults().throttle_only(&["StartQueryExecution"]);
    let err = client
        .start_query_execution()
        .query_string("SELECT 1")
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert!(err.is_too_many_requests_exception(), "{err:?}");
    client
        .list_work_groups()
        .send()
        .await
        .expect("other operations are not throttled");

    emu.faults().clear();
    emu.faults().http_500(1.0);
    let err = athena(&emu)
        .list_work_groups()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        format!("{err:?}").contains("InternalServerException"),
        "{err:?}"
    );
    emu.faults().clear();

    // A seeded share throttles the same calls on every run.
    let pattern = |seed| {
        let emu = emu.clone();
        let client = athena(&emu);
        async move {
            emu.faults().set_seed(seed);
            emu.faults().throttle(0.5, ThrottleKind::Throttling);
            let mut hits = Vec::new();
            for _ in 0..20 {
                hits.push(client.list_work_groups().send().await.is_err());
            }
            emu.faults().clear();
            hits
        }
    };
    let a = pattern(42).await;
    let b = pattern(42).await;
    assert_eq!(a, b);
    assert!(a.iter().any(|h| *h) && a.iter().any(|h| !*h), "{a:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn s3_get_failures_and_cut_bodies() {
    let emu = emulator().await;
    let store = s3(&emu, "athena-results");
    let path = Path::from("f.bin");
    let data = vec![7u8; 300_000];
    store
        .put(&path, PutPayload::from(data.clone()))
        .await
        .unwrap();

    emu.faults().s3_get_failures(1.0);
    assert!(store.get(&path).await.is_err());
    emu.faults().clear();

    emu.faults().s3_truncated_bodies(1.0);
    let result = match store.get(&path).await {
        Ok(r) => r.bytes().await.map(|b| b.len()),
        Err(e) => Err(e),
    };
    assert!(
        result.is_err(),
        "a cut body must not look complete: {result:?}"
    );
    emu.faults().clear();
    assert_eq!(
        store.get(&path).await.unwrap().bytes().await.unwrap().len(),
        data.len()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn slow_queries_and_the_request_log() {
    let emu = emulator().await;
    let client = athena(&emu);
    emu.faults().slow_queries(Duration::from_millis(500));
    let id = start(&client, "SELECT 42 AS answer").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(emu.query_state(&id), Some(QueryState::Running));
    let q = wait(&client, &id).await;
    assert_eq!(state(&q), QueryExecutionState::Succeeded);
    assert!(
        q.statistics()
            .unwrap()
            .engine_execution_time_in_millis()
            .unwrap()
            >= 450
    );

    let log = emu.request_log();
    let start_record = log
        .iter()
        .find(|r| r.operation == "StartQueryExecution")
        .unwrap();
    assert_eq!(start_record.service, Service::Athena);
    assert_eq!(start_record.sql.as_deref(), Some("SELECT 42 AS answer"));
    assert_eq!(
        start_record.query_execution_id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(start_record.status, 200);
    assert_eq!(start_record.access_key.as_deref(), Some(AK));
    assert!(log.iter().any(|r| r.operation == "GetQueryExecution"
        && r.query_execution_id.as_deref() == Some(id.as_str())));
    emu.clear_request_log();
    assert!(emu.request_log().is_empty());
    emu.shutdown().await;
}
