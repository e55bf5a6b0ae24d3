//! Glue operations through the real Glue SDK client.

use crate::common::*;

#[tokio::test]
async fn databases_and_tables_page() {
    let emu = emulator().await;
    for i in 0..120 {
        let (schema, batch) = numbers(1);
        emu.register_batches("wide", &format!("t{i:03}"), schema, vec![batch])
            .unwrap();
    }
    let client = glue(&emu);
    let dbs = client.get_databases().send().await.unwrap();
    let names: Vec<&str> = dbs.database_list().iter().map(|d| d.name()).collect();
    assert_eq!(names, ["default", "sales", "wide"]);
    let one = client.get_databases().max_results(1).send().await.unwrap();
    assert_eq!(one.database_list().len(), 1);
    assert!(one.next_token().is_some());

    let first = client
        .get_tables()
        .database_name("wide")
        .send()
        .await
        .unwrap();
    assert_eq!(first.table_list().len(), 100, "100 tables per page");
    let t = &first.table_list()[0];
    assert_eq!(t.name(), "t000");
    let sd = t.storage_descriptor().unwrap();
    let cols: Vec<(&str, Option<&str>)> = sd
        .columns()
        .iter()
        .map(|c| (c.name(), c.r#type()))
        .collect();
    assert_eq!(cols, [("n", Some("bigint")), ("label", Some("string"))]);
    assert_eq!(sd.location(), Some("s3://emulator-data/wide/t000/"));
    let second = client
        .get_tables()
        .database_name("wide")
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.table_list().len(), 20);
    assert!(second.next_token().is_none());
    let filtered = client
        .get_tables()
        .database_name("wide")
        .expression("t11*")
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.table_list().len(), 10);
    let err = client
        .get_tables()
        .database_name("wide")
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_input_exception());

    let table = client
        .get_table()
        .database_name("sales")
        .name("people")
        .send()
        .await
        .unwrap();
    assert_eq!(
        table
            .table()
            .unwrap()
            .storage_descriptor()
            .unwrap()
            .columns()
            .len(),
        8
    );
    let err = client
        .get_table()
        .database_name("sales")
        .name("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_entity_not_found_exception());
    let err = client.get_database().name("nope").send().await.unwrap_err();
    assert!(err.into_service_error().is_entity_not_found_exception());
    emu.shutdown().await;
}

#[tokio::test]
async fn tables_report_their_row_count_in_parameters() {
    let emu = emulator().await;
    let (schema, batch) = numbers(37);
    emu.register_batches("counted", "numbers", schema, vec![batch])
        .unwrap();
    let client = glue(&emu);
    let table = client
        .get_table()
        .database_name("counted")
        .name("numbers")
        .send()
        .await
        .unwrap();
    let params = table.table().unwrap().parameters().unwrap();
    assert_eq!(params.get("numRows").map(String::as_str), Some("37"));
    emu.shutdown().await;
}
