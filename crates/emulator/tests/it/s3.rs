//! S3 operations through object_store's S3 client.

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::common::*;

#[tokio::test]
async fn put_get_head_range_list_delete() {
    let emu = emulator().await;
    let store = s3(&emu, "athena-results");
    let path = Path::from("dir/sub/file.txt");
    store
        .put(&path, PutPayload::from_static(b"hello world"))
        .await
        .unwrap();
    let got = store.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(&got[..], b"hello world");
    assert_eq!(&store.get_range(&path, 6..11).await.unwrap()[..], b"world");
    let head = store.head(&path).await.unwrap();
    assert_eq!(head.size, 11);
    assert!(head.e_tag.is_some());

    store
        .put(&Path::from("dir/a.txt"), PutPayload::from_static(b"a"))
        .await
        .unwrap();
    store
        .put(&Path::from("other.txt"), PutPayload::from_static(b"o"))
        .await
        .unwrap();
    let listed = store
        .list_with_delimiter(Some(&Path::from("dir")))
        .await
        .unwrap();
    let objects: Vec<String> = listed
        .objects
        .iter()
        .map(|o| o.location.to_string())
        .collect();
    let prefixes: Vec<String> = listed
        .common_prefixes
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(objects, ["dir/a.txt"]);
    assert_eq!(prefixes, ["dir/sub"]);

    store.delete(&path).await.unwrap();
    let err = store.get(&path).await.unwrap_err();
    assert!(matches!(err, object_store::Error::NotFound { .. }), "{err}");
    let err = store.head(&path).await.unwrap_err();
    assert!(matches!(err, object_store::Error::NotFound { .. }), "{err}");

    let missing = s3(&emu, "no-such-bucket");
    assert!(missing.get(&Path::from("x")).await.is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn list_paginates_with_continuation_tokens_and_bulk_delete() {
    let emu = emulator().await;
    let store = s3(&emu, "athena-results");
    for i in 0..1100 {
        store
            .put(
                &Path::from(format!("many/k{i:04}")),
                PutPayload::from(format!("{i}")),
            )
            .await
            .unwrap();
    }
    let all: Vec<_> = store
        .list(Some(&Path::from("many")))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 1100);
    let log = emu.request_log();
    let lists = log
        .iter()
        .filter(|r| r.operation == "ListObjectsV2")
        .count();
    assert_eq!(lists, 2, "1000 keys per page, then the rest");

    let locations = futures::stream::iter(all.into_iter().map(|m| Ok(m.location))).boxed();
    let deleted: Vec<_> = store.delete_stream(locations).try_collect().await.unwrap();
    assert_eq!(deleted.len(), 1100);
    assert!(
        emu.request_log()
            .iter()
            .any(|r| r.operation == "DeleteObjects")
    );
    let left: Vec<_> = store
        .list(Some(&Path::from("many")))
        .try_collect()
        .await
        .unwrap();
    assert!(left.is_empty());
    emu.shutdown().await;
}
