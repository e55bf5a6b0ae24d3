//! Every example's main logic run against the embedded emulator, asserting what it prints.
//! The example files are compiled in as modules; each has `run(out, ...)` that `main` calls
//! with stdout. `register_catalog` (which prints to stdout itself) and `make_sample_data` (which
//! rewrites the sample data) are not run here; tests/quickstart.rs covers what register_catalog
//! does.

#[allow(dead_code)]
#[path = "../../examples/auth_keys.rs"]
mod auth_keys;
#[allow(dead_code)]
#[path = "../../examples/auth_role.rs"]
mod auth_role;
#[allow(dead_code)]
#[path = "../../examples/auth_sso_adfs.rs"]
mod auth_sso_adfs;
#[allow(dead_code)]
#[path = "../../examples/federated_join.rs"]
mod federated_join;
#[allow(dead_code)]
#[path = "../../examples/pushed_sql.rs"]
mod pushed_sql;

#[allow(dead_code)]
#[path = "../../examples/stream_to_parquet.rs"]
mod stream_to_parquet;

/// The sample table's region counts (2,000 orders per region, see make_sample_data).
const REGION_COUNTS: &str = "| amer   | 2000   |\n| apac   | 2000   |\n| emea   | 2000   |";

fn text(out: Vec<u8>) -> String {
    String::from_utf8(out).expect("the examples print UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_sql_shows_the_filters_sent_and_the_one_kept() {
    let mut out = Vec::new();
    pushed_sql::run(&mut out).await.expect("example runs");
    let out = text(out);
    let sent = out
        .lines()
        .skip_while(|l| !l.starts_with("SQL sent to Athena:"))
        .nth(1)
        .expect("a SQL line")
        .trim()
        .to_string();
    assert!(
        sent.starts_with("SELECT \"order_id\", \"amount\" FROM"),
        "{out}"
    );
    assert!(sent.contains("\"region\" = 'emea'"), "{out}");
    assert!(sent.contains("DATE '2026-03-01'"), "{out}");
    assert!(sent.contains("\"amount\" > "), "{out}");
    assert!(!sent.contains("round"), "round stays local: {out}");
    let local = out
        .lines()
        .skip_while(|l| !l.starts_with("filters DataFusion applies itself:"))
        .nth(1)
        .expect("a FilterExec line");
    assert!(
        local.contains("FilterExec") && local.contains("round"),
        "{out}"
    );
    assert!(out.contains("athena query "), "{out}");
    // The result: 5 rows, every amount above 2000.
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("| ") && !l.contains("order_id"))
        .collect();
    assert_eq!(rows.len(), 5, "{out}");
    for row in rows {
        let amount: f64 = row.split('|').nth(2).unwrap().trim().parse().unwrap();
        assert!(amount > 2000.0 && amount.round() % 2.0 == 0.0, "{row}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_join_prints_the_athena_sql_and_the_segments() {
    if std::env::var_os("ATHENA_CONNECTION").is_some() {
        eprintln!("SKIPPED: ATHENA_CONNECTION is set; the example would use it");
        return;
    }
    let mut out = Vec::new();
    federated_join::run(&mut out).await.expect("example runs");
    let out = text(out);
    assert!(out.contains("ran inside Athena:"), "{out}");
    assert!(out.contains("\"region\" = 'emea'"), "{out}");
    assert!(out.contains("DATE '2026-07-01'"), "{out}");
    // The same figures as the quickstart (README), which tests/quickstart.rs checks against
    // DataFusion reading the files locally.
    for segment in [
        "| consumer       | 216    | 259608.16 |",
        "| enterprise     | 234    | 299091.64 |",
        "| public sector  | 269    | 322120.39 |",
        "| small business | 292    | 366028.83 |",
    ] {
        assert!(out.contains(segment), "{segment} in {out}");
    }
    let returned: usize = out
        .split("returned ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("rows returned");
    assert_eq!(returned, 1011, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_keys_signs_with_the_keys_and_reports_a_wrong_secret() {
    let mut out = Vec::new();
    auth_keys::run(&mut out).await.expect("example runs");
    let out = text(out);
    assert!(out.contains("AuthScheme=AwsIAMKeys;"), "{out}");
    assert!(out.contains("AWSSecretKey=***;"), "{out}");
    assert!(
        !out.contains("emulator-secret"),
        "the secret never prints: {out}"
    );
    assert!(
        out.contains("Athena requests signed with AKIDEMULATOR"),
        "{out}"
    );
    assert!(
        out.contains("S3 requests signed with AKIDEMULATOR"),
        "{out}"
    );
    assert!(out.contains(REGION_COUNTS), "{out}");
    let err = out
        .lines()
        .find(|l| l.starts_with("with a wrong secret key: "))
        .expect("the wrong-secret line");
    assert!(err.contains("InvalidSignatureException"), "{err}");
    assert!(!err.contains("not-the-secret"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_role_assumes_the_role_and_queries_with_its_key() {
    let mut out = Vec::new();
    auth_role::run(&mut out).await.expect("example runs");
    let out = text(out);
    assert!(out.contains("AuthScheme=AwsIAMRoles;"), "{out}");
    assert!(!out.contains("emulator-secret"), "{out}");
    let requests: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("requests the emulator accepted:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(
        requests.first().map(|l| l.trim()),
        Some("STS AssumeRole signed with the base key AKIDEMULATOR"),
        "{out}"
    );
    assert!(
        requests[1..]
            .iter()
            .all(|l| l.contains("signed with the role's temporary key ****")),
        "{out}"
    );
    assert!(requests.iter().any(|l| l.contains("Athena")), "{out}");
    assert!(requests.iter().any(|l| l.contains("S3")), "{out}");
    assert!(out.contains(REGION_COUNTS), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_sso_adfs_logs_in_assumes_the_role_with_saml_and_queries() {
    let mut out = Vec::new();
    auth_sso_adfs::run(&mut out).await.expect("example runs");
    let out = text(out);
    assert!(out.contains("AuthScheme=ADFS;"), "{out}");
    assert!(out.contains("Password=***;"), "{out}");
    assert!(
        !out.contains("correct horse"),
        "the password never prints: {out}"
    );
    assert!(
        out.contains("GET /adfs/ls/IdpInitiatedSignOn.aspx -> login form"),
        "{out}"
    );
    assert!(
        out.contains(
            "POST /adfs/ls/IdpInitiatedSignOn.aspx UserName=alice@corp.example -> SAMLResponse"
        ),
        "{out}"
    );
    assert!(out.contains("STS AssumeRoleWithSAML"), "{out}");
    assert!(
        out.contains("Athena requests signed with the temporary key ****"),
        "{out}"
    );
    assert!(out.contains(REGION_COUNTS), "{out}");
    let err = out
        .lines()
        .find(|l| l.starts_with("with a wrong password: "))
        .expect("the wrong-password line");
    assert!(
        err.contains("ADFS") && err.contains("did not accept User and Password"),
        "{err}"
    );
    // The password given ("wrong password") is not echoed in the error.
    let message = &err["with a wrong password: ".len()..];
    assert!(!message.contains("wrong password"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_to_parquet_writes_every_row() {
    const ROWS: usize = 150_000;
    let work = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let summary = stream_to_parquet::run(&mut out, ROWS, work.path(), work.path())
        .await
        .expect("example runs");
    let out = text(out);
    assert_eq!(summary.rows_written, ROWS as u64, "{out}");
    assert_eq!(summary.rows_in_file, ROWS as i64, "{out}");
    assert!(out.contains(&format!("wrote {ROWS} rows to ")), "{out}");
    if cfg!(target_os = "linux") {
        assert!(summary.peak_rss > 0, "{out}");
        assert!(out.contains("peak RSS during the copy: "), "{out}");
    }
    // The file holds the generated rows: ids 0..ROWS once each.
    let ctx = datafusion::prelude::SessionContext::new();
    let df = ctx
        .read_parquet(
            summary.output.to_str().unwrap(),
            datafusion::prelude::ParquetReadOptions::default(),
        )
        .await
        .unwrap()
        .aggregate(
            vec![],
            vec![
                datafusion::functions_aggregate::expr_fn::count_distinct(datafusion::prelude::col(
                    "id",
                )),
                datafusion::functions_aggregate::expr_fn::max(datafusion::prelude::col("id")),
            ],
        )
        .unwrap();
    let batches = df.collect().await.unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(text.contains(&format!("| {ROWS} ")), "{text}");
    assert!(text.contains(&format!("| {} ", ROWS - 1)), "{text}");
}
