//! Athena's catalog and workgroup operations.

use crate::common::*;

#[tokio::test]
async fn catalogs_databases_and_tables() {
    let emu = emulator().await;
    for i in 0..3 {
        let (schema, batch) = numbers(1);
        emu.register_batches("wide", &format!("t{i}"), schema, vec![batch])
            .unwrap();
    }
    let client = athena(&emu);

    let catalogs = client.list_data_catalogs().send().await.unwrap();
    let summary = catalogs.data_catalogs_summary();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].catalog_name(), Some("AwsDataCatalog"));
    assert_eq!(summary[0].r#type().map(|t| t.as_str()), Some("GLUE"));
    let err = client
        .list_data_catalogs()
        .max_results(1)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error().is_invalid_request_exception(),
        "MaxResults must be >= 2"
    );
    let catalog = client
        .get_data_catalog()
        .name("AwsDataCatalog")
        .send()
        .await
        .unwrap();
    assert_eq!(catalog.data_catalog().unwrap().r#type().as_str(), "GLUE");
    assert!(
        client
            .get_data_catalog()
            .name("other")
            .send()
            .await
            .is_err()
    );

    // ListDatabases pages one at a time.
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_databases()
            .catalog_name("AwsDataCatalog")
            .max_results(1)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.database_list().len(), 1);
        names.extend(page.database_list().iter().map(|d| d.name().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, ["default", "sales", "wide"]);
    let err = client
        .list_databases()
        .catalog_name("AwsDataCatalog")
        .max_results(51)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_request_exception());

    let db = client
        .get_database()
        .catalog_name("AwsDataCatalog")
        .database_name("sales")
        .send()
        .await
        .unwrap();
    assert_eq!(db.database().unwrap().name(), "sales");
    let err = client
        .get_database()
        .catalog_name("AwsDataCatalog")
        .database_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_metadata_exception(), "{err:?}");

    // ListTableMetadata with paging and an Expression.
    let first = client
        .list_table_metadata()
        .catalog_name("AwsDataCatalog")
        .database_name("wide")
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.table_metadata_list().len(), 2);
    let second = client
        .list_table_metadata()
        .catalog_name("AwsDataCatalog")
        .database_name("wide")
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.table_metadata_list()[0].name(), "t2");
    assert!(second.next_token().is_none());
    let filtered = client
        .list_table_metadata()
        .catalog_name("AwsDataCatalog")
        .database_name("wide")
        .expression("t1|t2")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = filtered
        .table_metadata_list()
        .iter()
        .map(|t| t.name())
        .collect();
    assert_eq!(names, ["t1", "t2"]);
    let err = client
        .list_table_metadata()
        .catalog_name("AwsDataCatalog")
        .database_name("wide")
        .max_results(100)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_request_exception());

    let table = client
        .get_table_metadata()
        .catalog_name("AwsDataCatalog")
        .database_name("sales")
        .table_name("people")
        .send()
        .await
        .unwrap();
    let columns: Vec<(String, String)> = table
        .table_metadata()
        .unwrap()
        .columns()
        .iter()
        .map(|c| (c.name().to_owned(), c.r#type().unwrap_or("").to_owned()))
        .collect();
    let expected = [
        ("id", "int"),
        ("name", "string"),
        ("score", "double"),
        ("active", "boolean"),
        ("born", "date"),
        ("seen", "timestamp"),
        ("raw", "binary"),
        ("amount", "decimal(10,2)"),
    ];
    assert_eq!(columns, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    let err = client
        .get_table_metadata()
        .catalog_name("AwsDataCatalog")
        .database_name("sales")
        .table_name("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_metadata_exception(), "{err:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn workgroups() {
    let emu = emulator().await;
    let client = athena(&emu);
    let primary = client
        .get_work_group()
        .work_group("primary")
        .send()
        .await
        .unwrap();
    let wg = primary.work_group().unwrap();
    assert_eq!(wg.name(), "primary");
    let location = wg
        .configuration()
        .and_then(|c| c.result_configuration())
        .and_then(|r| r.output_location());
    assert_eq!(location, Some(emu.staging_dir().as_str()));
    let managed = client
        .get_work_group()
        .work_group("managed")
        .send()
        .await
        .unwrap();
    assert!(
        managed
            .work_group()
            .unwrap()
            .configuration()
            .and_then(|c| c.result_configuration())
            .is_none()
    );
    let err = client
        .get_work_group()
        .work_group("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_request_exception());

    let page = client
        .list_work_groups()
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.work_groups().len(), 1);
    let rest = client
        .list_work_groups()
        .max_results(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    let names: Vec<_> = page
        .work_groups()
        .iter()
        .chain(rest.work_groups())
        .filter_map(|w| w.name())
        .collect();
    assert_eq!(names, ["primary", "managed"]);
    emu.shutdown().await;
}
