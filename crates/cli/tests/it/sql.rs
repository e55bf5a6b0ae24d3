//! `datafusion-athena sql` / `explain` / `whoami` run as a process against the in-process
//! emulator (`--emulator DIR`): an Athena table joined with a local Parquet file, every output
//! format, the plan showing the Athena SQL, errors as one line with exit codes, and
//! `--connection` applied on top of the emulator's connection.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use datafusion::arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion_athena_emulator::{DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
use serde_json::Value;

use crate::common::{BIN, text};

/// A data directory `sales/orders/` (CSV) for the emulator, and a local Parquet file of colors
/// outside it.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let orders = dir.path().join("data/sales/orders");
        std::fs::create_dir_all(&orders).expect("mkdir");
        std::fs::write(
            orders.join("part-0.csv"),
            "id,name,amount\n1,apple,2.5\n2,pear,4.0\n3,fig,1.25\n4,plum,3.0\n",
        )
        .expect("write csv");
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("color", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(vec![1, 3, 4, 9])),
                Arc::new(StringArray::from(vec!["red", "green", "purple", "none"])),
            ],
        )
        .expect("batch");
        let file = File::create(dir.path().join("colors.parquet")).expect("create parquet");
        let mut w = ArrowWriter::try_new(file, schema, None).expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
        Self { dir }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the binary with `--emulator DATA` and `args`, in the fixture directory, with a
    /// clean environment.
    fn run(&self, args: &[&str]) -> Output {
        let data = self.data();
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .current_dir(self.dir.path())
            .arg("--emulator")
            .arg(&data)
            .args(args);
        cmd.output().expect("run datafusion-athena")
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

const JOIN: &str = "SELECT o.id, o.name, c.color FROM sales.orders o \
    JOIN 'colors.parquet' c ON o.id = c.id WHERE o.amount > 1.5 ORDER BY o.id";

#[test]
fn joins_an_athena_table_with_a_local_parquet_file() {
    let f = Fixture::new();
    let out = ok(&f.run(&["sql", JOIN]));
    let rows: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["id", "name", "color"],
            vec!["1", "apple", "red"],
            vec!["4", "plum", "purple"],
        ],
        "{out}"
    );
}

#[test]
fn stderr_summarises_each_athena_query_unless_quiet() {
    let f = Fixture::new();
    let join = "SELECT o.id, o.name, c.color FROM sales.orders o \
        JOIN 'colors.parquet' c ON o.id = c.id WHERE o.id > 1 ORDER BY o.id";
    let out = f.run(&["sql", join, "--format", "csv"]);
    ok(&out);
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("athena query "), "{err}");
    // The join's keys (ids 3, 4 and 9 of colors.parquet) went to Athena with the query, so
    // only the two matching orders came back.
    assert!(lines[0].contains("fetched 2 rows via S3"), "{err}");
    let scanned: u64 = lines[0]
        .split("scanned ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a byte count");
    assert!(scanned > 0, "{err}");
    // Under 10 MB scanned is billed as 10 MB: $0.000048 at the default $5 per TB.
    assert!(lines[0].contains(" bytes (cost $0.000048), "), "{err}");
    assert_eq!(
        lines[1].trim(),
        r#"SELECT "id", "name" FROM "AwsDataCatalog"."sales"."orders" WHERE ("id" > 1) AND ((("id" >= 3) AND ("id" <= 9)) AND ("id" IN (3, 4, 9)))"#
    );

    let quiet = f.run(&["sql", join, "--format", "csv", "--quiet"]);
    assert_eq!(ok(&quiet), ok(&out));
    assert_eq!(text(&quiet.stderr), "");
}

#[test]
fn piped_stderr_gets_no_progress_line() {
    let f = Fixture::new();
    let out = f.run(&["sql", "SELECT id, name FROM orders", "--format", "csv"]);
    ok(&out);
    let err = text(&out.stderr);
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    assert!(
        err.lines()
            .all(|l| l.starts_with("athena query ") || l.starts_with("  SELECT")),
        "{err}"
    );
}

/// On a terminal (a pty from util-linux `script`), the progress line is drawn, redrawn in
/// place and erased before the summary.
#[test]
fn terminal_stderr_shows_the_progress_line_and_clears_it() {
    let has_script = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("SKIPPED: util-linux `script` is not available to provide a terminal");
        return;
    }
    let f = Fixture::new();
    let command = format!(
        "'{BIN}' --emulator '{}' sql 'SELECT id, name FROM orders' --format csv --output out.csv",
        f.data().display()
    );
    let out = Command::new("script")
        .env_clear()
        .env("TERM", "xterm")
        .current_dir(f.dir.path())
        .args(["-qefc", &command, "/dev/null"])
        .output()
        .expect("run script");
    let tty = text(&out.stdout);
    if !out.status.success() && text(&out.stderr).contains("pseudo-terminal") {
        eprintln!("SKIPPED: no pseudo-terminal here: {}", text(&out.stderr));
        return;
    }
    assert!(out.status.success(), "{tty}");
    let frame = tty.find("\r\x1b[2Kathena ").expect("a progress frame");
    let summary = tty.find("athena query ").expect("the summary");
    assert!(frame < summary, "{tty:?}");
    // The last frame is erased before the summary line starts.
    assert!(tty[..summary].ends_with("\r\x1b[2K"), "{tty:?}");
    assert_eq!(
        std::fs::read_to_string(f.path("out.csv"))
            .unwrap()
            .lines()
            .count(),
        5
    );
}

#[test]
fn absolute_local_path_and_one_part_name_resolve() {
    let f = Fixture::new();
    let path = f.path("colors.parquet");
    let sql = format!(
        "SELECT name FROM orders JOIN '{}' c USING (id) WHERE color = 'green'",
        path.display()
    );
    let out = ok(&f.run(&["sql", &sql, "--format", "csv"]));
    assert_eq!(out, "name\nfig\n");
}

#[test]
fn csv_has_a_header_row() {
    let f = Fixture::new();
    let out = ok(&f.run(&["sql", JOIN, "--format", "csv"]));
    assert_eq!(out, "id,name,color\n1,apple,red\n4,plum,purple\n");
}

#[test]
fn json_is_one_array() {
    let f = Fixture::new();
    let out = ok(&f.run(&["sql", JOIN, "--format", "json"]));
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        v,
        serde_json::json!([
            {"id": 1, "name": "apple", "color": "red"},
            {"id": 4, "name": "plum", "color": "purple"}
        ])
    );
}

#[test]
fn json_of_no_rows_is_an_empty_array() {
    let f = Fixture::new();
    let out = ok(&f.run(&[
        "sql",
        "SELECT * FROM orders WHERE id > 100",
        "--format",
        "json",
    ]));
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("json"),
        serde_json::json!([])
    );
}

#[test]
fn ndjson_is_one_object_per_line() {
    let f = Fixture::new();
    let out = ok(&f.run(&["sql", JOIN, "--format", "ndjson"]));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[1]["name"], "plum");
    assert_eq!(lines[1]["color"], "purple");
}

#[test]
fn parquet_goes_to_the_output_file() {
    let f = Fixture::new();
    let target = f.path("result.parquet");
    let out = f.run(&[
        "sql",
        JOIN,
        "--format",
        "parquet",
        "--output",
        target.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(ok(&out), "");
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&target).expect("open"))
        .expect("parquet")
        .build()
        .expect("reader");
    let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
    let names: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let col = b
                .column_by_name("name")
                .expect("name column")
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("utf8")
                .clone();
            (0..col.len()).map(move |i| col.value(i).to_string())
        })
        .collect();
    assert_eq!(names, vec!["apple", "plum"]);
}

#[test]
fn parquet_without_output_is_a_usage_error() {
    let f = Fixture::new();
    let out = f.run(&["sql", "SELECT 1", "--format", "parquet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--output"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn output_writes_csv_to_a_file() {
    let f = Fixture::new();
    let target = f.path("out.csv");
    let out = f.run(&[
        "sql",
        "SELECT id FROM orders WHERE name = 'pear'",
        "--format",
        "csv",
        "--output",
        target.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(ok(&out), "");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "id\n2\n");
}

#[test]
fn explain_shows_the_athena_sql() {
    let f = Fixture::new();
    let out = ok(&f.run(&["explain", "SELECT name FROM orders WHERE id = 2"]));
    let line = out
        .lines()
        .find(|l| l.contains("AthenaExec"))
        .unwrap_or_else(|| panic!("no AthenaExec line in:\n{out}"));
    assert!(
        line.contains(r#"SELECT "name" FROM "AwsDataCatalog"."sales"."orders" WHERE ("id" = 2)"#),
        "{line}"
    );
}

fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "{needle} in {stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn bad_sql_exits_2_with_one_line() {
    let f = Fixture::new();
    assert_one_line_error(&f.run(&["sql", "SELEC id FROM orders"]), 2, "SELEC");
}

#[test]
fn unknown_table_exits_2_naming_it() {
    let f = Fixture::new();
    assert_one_line_error(&f.run(&["sql", "SELECT * FROM nosuch"]), 2, "nosuch");
}

#[test]
fn failing_query_exits_1_with_one_line() {
    let f = Fixture::new();
    // A value that does not cast fails while running, not as a planning error.
    let out = f.run(&["sql", "SELECT CAST(name AS INT) FROM orders"]);
    assert_one_line_error(&out, 1, "Cast");
}

#[test]
fn missing_emulator_dir_is_a_usage_error() {
    let out = Command::new(BIN)
        .env_clear()
        .args(["--emulator", "/nonexistent/dir", "sql", "SELECT 1"])
        .output()
        .expect("run");
    assert_one_line_error(&out, 2, "--emulator /nonexistent/dir");
}

#[test]
fn connection_properties_apply_on_top_of_the_emulator() {
    let f = Fixture::new();
    for fetcher in ["GetQueryResults", "Unload", "Auto"] {
        let conn = format!("ResultFetcher={fetcher}");
        let out = ok(&f.run(&[
            "--connection",
            &conn,
            "sql",
            "SELECT name, amount FROM orders WHERE id <= 2 ORDER BY id",
            "--format",
            "csv",
        ]));
        assert_eq!(out, "name,amount\napple,2.5\npear,4.0\n", "{fetcher}");
    }
    // The user's value wins over the emulator's: another database is not there.
    let out = f.run(&[
        "--connection",
        "Database=elsewhere",
        "sql",
        "SELECT * FROM orders",
    ]);
    assert!(!out.status.success());
    // A bad property value is the user's error, named.
    assert_one_line_error(
        &f.run(&["--connection", "ResultFetcher=Sideways", "sql", "SELECT 1"]),
        2,
        "ResultFetcher",
    );
}

#[test]
fn whoami_prints_identity_without_the_secret() {
    let f = Fixture::new();
    let out = ok(&f.run(&["whoami"]));
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["scheme"], "AwsIAMKeys");
    let key = v["access_key_id"].as_str().expect("access key");
    assert!(key.starts_with("****") && key.len() == 8, "{key}");
    // Either STS answered, or the output says why not.
    assert!(
        v["arn"].as_str().is_some_and(|a| a.starts_with("arn:aws:")) || v["sts_error"].is_string(),
        "{out}"
    );
    assert!(!out.contains(DEFAULT_SECRET_KEY), "{out}");
    assert!(!out.contains(DEFAULT_ACCESS_KEY), "{out}");
    assert_eq!(
        key,
        format!(
            "****{}",
            &DEFAULT_ACCESS_KEY[DEFAULT_ACCESS_KEY.len() - 4..]
        )
    );
}
