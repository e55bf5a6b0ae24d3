//! For the tests checked against Trino: the shared server, the statements the emulator
//! received, and the lists of known disagreements.

use datafusion_athena_emulator::{EmulatorHandle, shared_trino_url};

/// The shared Trino server's URL; `None` (the test says why and passes) when there is none,
/// except with `ATHENA_TEST_REQUIRE_PEERS` set (scripts/test and CI), when the test fails.
pub async fn trino_url(test: &str) -> Option<String> {
    match shared_trino_url().await {
        Ok(url) => Some(url),
        Err(reason) => {
            assert!(
                std::env::var_os("ATHENA_TEST_REQUIRE_PEERS").is_none(),
                "no Trino ({reason}), and ATHENA_TEST_REQUIRE_PEERS is set"
            );
            eprintln!("skipping {test}: {reason}");
            None
        }
    }
}

/// Every statement the emulator received (since its log was last cleared).
pub fn sent_sql(emu: &EmulatorHandle) -> Vec<String> {
    emu.request_log()
        .into_iter()
        .filter_map(|r| r.sql)
        .collect()
}

/// Fails unless the cases that differ are exactly the `known` ones: a new disagreement fails,
/// and so does a listed one that no longer differs (the list must shrink as fixes land).
pub fn check_known(differing: &[String], known: &[(&str, &str)], report: &[String]) {
    let unexpected: Vec<&String> = differing
        .iter()
        .filter(|d| !known.iter().any(|(k, _)| k == d))
        .collect();
    let agreeing: Vec<&str> = known
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| !differing.iter().any(|d| d == k))
        .collect();
    assert!(
        unexpected.is_empty() && agreeing.is_empty(),
        "differ on Trino and not listed: {unexpected:#?}\nlisted but agree now: {agreeing:?}\n{}",
        report.join("\n")
    );
}
