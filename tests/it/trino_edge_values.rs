//! Queries a user might write (filters, aggregates, joins with a local table, windows, sorts,
//! set operations, scalar functions) over a table of edge values (NaN, infinities, -0.0, NULL,
//! integer and decimal(38) limits, non-ASCII and empty text, trailing spaces, dates before 1970
//! and after 2100, timestamps with milliseconds), through `register_athena` with federation on
//! against the Trino-engine emulator, compared with DataFusion over the same Parquet file.
//!
//! Needs Trino as tests/it/trino_tpch.rs does.

use crate::tpch_support::compare::{same_rows, sorted_rows};
use crate::tpch_support::session::{athena_session, on_big_stacks};
use crate::tpch_support::trino::{check_known, sent_sql, trino_url};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use datafusion_athena_emulator::{Emulator, EmulatorHandle, Engine, dump_sql};

/// The edge values, as a DataFusion query (written to Parquet by `COPY`).
const EDGE_ROWS: &str = "SELECT column1 AS id, column2 AS d, column3 AS s, column4 AS dec, \
     column5 AS dt, column6 AS ts, column7 AS i, column8 AS big, column9 AS r FROM (VALUES \
     (1, CAST('NaN' AS DOUBLE), 'Straße', CAST('12345678901234567890.123456789012345678' AS DECIMAL(38,18)), DATE '1969-12-31', TIMESTAMP '1960-01-01 00:00:00.001', 2147483647, 9223372036854775807, CAST(1.5 AS REAL)), \
     (2, CAST('-0.0' AS DOUBLE), 'İstanbul', CAST('-0.000000000000000001' AS DECIMAL(38,18)), DATE '2150-06-30', TIMESTAMP '2200-12-31 23:59:59.999', -2147483648, -9223372036854775808, CAST('NaN' AS REAL)), \
     (3, CAST('Infinity' AS DOUBLE), 'ΣΊΣΥΦΟΣ', CAST('1.5' AS DECIMAL(38,18)), DATE '1900-03-01', TIMESTAMP '2024-02-29 12:00:00.5', 0, 0, CAST(-0.0 AS REAL)), \
     (4, 1.0E-10, 'trailing  ', NULL, NULL, NULL, NULL, NULL, NULL), \
     (5, 0.1, 'é 😀', CAST('2.5' AS DECIMAL(38,18)), DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', 7, 7, CAST(0.1 AS REAL)), \
     (6, NULL, '', CAST('-2.5' AS DECIMAL(38,18)), DATE '1970-01-01', TIMESTAMP '1970-01-01 00:00:00', -7, -7, NULL), \
     (7, CAST('-Infinity' AS DOUBLE), 'trailing', CAST('0.5' AS DECIMAL(38,18)), DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00.999', 7, 1, CAST(2.0 AS REAL)))";

/// The queries; `l` is a local table of ids and labels.
const QUERIES: &[&str] = &[
    "SELECT * FROM t",
    "SELECT id FROM t WHERE d > 0",
    "SELECT id FROM t WHERE d = 0",
    "SELECT id FROM t WHERE d <> d OR d IS NULL",
    "SELECT id FROM t WHERE r < 1",
    "SELECT id FROM t WHERE NOT (r BETWEEN CAST(0 AS REAL) AND CAST(2.0 AS REAL))",
    "SELECT id FROM t WHERE s = 'trailing'",
    "SELECT id FROM t WHERE s LIKE 'trailing%'",
    "SELECT id FROM t WHERE s > 'S' AND s < 'é'",
    "SELECT id FROM t WHERE s = ''",
    "SELECT id FROM t WHERE length(s) > 5",
    "SELECT id, upper(s) AS u FROM t",
    "SELECT id, lower(s) AS l FROM t",
    "SELECT id FROM t WHERE upper(s) = 'STRASSE'",
    "SELECT id FROM t WHERE lower(s) = 'σίσυφος'",
    "SELECT id, upper(s) AS u, lower(s) AS l FROM t ORDER BY id",
    "SELECT id, substr(s, 2, 3) AS x, s || '|' AS c FROM t",
    "SELECT id FROM t WHERE dec > 1",
    "SELECT id FROM t WHERE dec BETWEEN -1 AND 1",
    "SELECT sum(dec) AS s, min(dec) AS mn, max(dec) AS mx, count(dec) AS n FROM t",
    "SELECT id, dec * 2 AS x FROM t WHERE id > 1",
    "SELECT id, round(dec, 1) AS x FROM t",
    "SELECT id FROM t WHERE dt < DATE '1970-01-01'",
    "SELECT id FROM t WHERE dt > DATE '2100-01-01'",
    "SELECT id FROM t WHERE ts >= TIMESTAMP '2024-01-01 00:00:00.500'",
    "SELECT id, extract(year FROM dt) AS y FROM t",
    "SELECT id FROM t WHERE i > 0",
    "SELECT id FROM t WHERE big < 0",
    "SELECT id, i + 1 AS x FROM t WHERE id > 2",
    "SELECT id, big / 2 AS h, big % 5 AS m FROM t",
    "SELECT count(*) AS n, count(d) AS nd, min(d) AS mn, max(d) AS mx FROM t",
    "SELECT min(r) AS mn, max(r) AS mx FROM t",
    "SELECT d, count(*) AS n FROM t GROUP BY d",
    "SELECT s, count(*) AS n FROM t GROUP BY s",
    "SELECT DISTINCT dt FROM t",
    "SELECT id, d FROM t ORDER BY d LIMIT 3",
    "SELECT id, d FROM t ORDER BY d DESC NULLS LAST LIMIT 3",
    "SELECT id, s FROM t ORDER BY s LIMIT 4",
    "SELECT id, rank() OVER (ORDER BY dec) AS r, row_number() OVER (PARTITION BY dt ORDER BY id) AS n FROM t",
    "SELECT id, sum(big) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS w FROM t WHERE id > 2",
    "SELECT id, lag(s) OVER (ORDER BY id) AS p, lead(dt, 1) OVER (ORDER BY id) AS n FROM t",
    "SELECT t.id, l.label FROM t JOIN l ON t.id = l.id",
    "SELECT t.s, count(*) AS n FROM t JOIN l ON t.id = l.id WHERE t.dec > 0 GROUP BY t.s",
    "SELECT id FROM t WHERE id IN (SELECT id FROM l)",
    "SELECT id FROM t WHERE dec > (SELECT avg(dec) FROM t)",
    "SELECT id FROM t WHERE id < 3 UNION SELECT id FROM t WHERE id > 5",
    "SELECT id, CAST(i AS double) / 3 AS x FROM t",
    "SELECT id, CAST(dec AS double) AS x FROM t",
    "SELECT id, coalesce(s, 'none') AS x, CASE WHEN d > 0 THEN 'pos' ELSE 'other' END AS c FROM t",
];

/// Queries whose answer through Trino differs from DataFusion's, and why. The test fails when
/// another query differs, and when one of these stops differing.
/// Each is a defect of the pushdown (crates/scan) to fix at its root. Fixed so far (kept above
/// as regression cases): `upper()`/`lower()` of non-ASCII text (Trino maps case code point by
/// code point: `upper('Straße')` is `STRAßE`, DataFusion's `STRASSE`; no final sigma;
/// `lower('İ')`), no longer pushed.
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[];

async fn register_local(ctx: &SessionContext) {
    ctx.sql("CREATE TABLE l AS SELECT column1 AS id, column2 AS label FROM (VALUES (1, 'one'), (3, 'three'), (5, 'five'), (9, 'nine'))")
        .await
        .expect("local table")
        .collect()
        .await
        .expect("create local table");
}

#[test]
fn user_queries_over_edge_values_answer_on_trino_as_in_datafusion() {
    on_big_stacks(edge_values);
}

/// The edge-value table written to Parquet, the Trino-engine emulator serving it, a session
/// over the emulator (federation on) and DataFusion's own session over the file; both sessions
/// also hold the local table `l`.
async fn setup(
    url: String,
) -> (
    tempfile::TempDir,
    EmulatorHandle,
    SessionContext,
    SessionContext,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("e/t/data.parquet");
    let writer = SessionContext::new();
    writer
        .sql(&format!(
            "COPY ({EDGE_ROWS}) TO '{}' STORED AS PARQUET",
            file.display()
        ))
        .await
        .expect("plan COPY")
        .collect()
        .await
        .expect("write the edge values");
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .database("e")
        .engine(Engine::Trino)
        .trino_url(url)
        .start()
        .await
        .expect("emulator with the Trino engine");
    let athena = athena_session(&emu, true).await;
    register_local(&athena).await;
    // Parquet statistics leave NaN out, while DataFusion's own order puts NaN above +Infinity:
    // answering min/max from them, or pruning row groups by them, gives answers DataFusion's
    // own evaluation does not (`max(d)` is Infinity, `NOT (r BETWEEN 0 AND 2)` skips the NaN
    // row). The reference evaluates every row.
    let mut config = SessionConfig::new().with_collect_statistics(false);
    config.options_mut().execution.parquet.pruning = false;
    config.options_mut().execution.parquet.enable_page_index = false;
    let local = SessionContext::new_with_config(config);
    local
        .register_parquet(
            "t",
            file.to_str().expect("utf-8 path"),
            ParquetReadOptions::default(),
        )
        .await
        .expect("register the file");
    register_local(&local).await;
    (dir, emu, athena, local)
}

/// Runs `sql` through Athena and in DataFusion; returns how the answers differ (if they do)
/// and the statements Athena received. A query DataFusion cannot answer is no disagreement.
async fn compare(
    emu: &EmulatorHandle,
    athena: &SessionContext,
    local: &SessionContext,
    sql: &str,
) -> (Option<String>, Vec<String>) {
    let expected = async { local.sql(sql).await?.collect().await }.await;
    emu.clear_request_log();
    let answer = async { athena.sql(sql).await?.collect().await }.await;
    let sent = sent_sql(emu);
    let problem = match (answer, expected) {
        (Err(_), Err(local)) => {
            println!("{sql}: fails with and without Athena ({local})");
            None
        }
        (Ok(_), Err(local)) => {
            println!("{sql}: fails in DataFusion ({local}) and not through Athena");
            None
        }
        (Err(e), Ok(_)) => Some(format!("failed: {e}")),
        (Ok(batches), Ok(expected)) => {
            let (got, want) = (sorted_rows(&batches), sorted_rows(&expected));
            (!same_rows(&got, &want)).then(|| format!("Trino: {got:?}\n  DataFusion: {want:?}"))
        }
    };
    (problem, sent)
}

async fn edge_values() {
    let Some(url) = trino_url("the Trino edge-value test").await else {
        return;
    };
    let (_dir, emu, athena, local) = setup(url).await;
    let mut report = Vec::new();
    let mut differing = Vec::new();
    let mut all_sent = Vec::new();
    for sql in QUERIES {
        let (problem, sent) = compare(&emu, &athena, &local, sql).await;
        if let Some(problem) = problem {
            report.push(format!("{sql}\n  {problem}\n  sent: {sent:?}"));
            differing.push((*sql).to_owned());
        }
        all_sent.extend(sent);
    }
    dump_sql(&all_sent).expect("ATHENA_SQL_DUMP");
    emu.shutdown().await;
    println!("{}", report.join("\n"));
    check_known(&differing, KNOWN_DISAGREEMENTS, &report);
}

/// A small seeded generator (xorshift) of filters over the edge-value table.
struct Generator(u64);

impl Generator {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A column and a literal of its type.
    fn operand(&mut self) -> (&'static str, &'static str) {
        const COLUMNS: &[(&str, &[&str])] = &[
            ("i", &["0", "7", "-7", "2147483647", "-2147483648"]),
            (
                "big",
                &[
                    "0",
                    "1",
                    "-7",
                    "9223372036854775807",
                    "-9223372036854775808",
                ],
            ),
            ("d", &["0.0", "0.1", "1e-10", "1.5", "-1.5"]),
            (
                "r",
                &["CAST(0.1 AS REAL)", "CAST(2.0 AS REAL)", "CAST(0 AS REAL)"],
            ),
            (
                "dec",
                &[
                    "0",
                    "1",
                    "-2.5",
                    "CAST('1.5' AS DECIMAL(38,18))",
                    "CAST('0.5' AS DECIMAL(10,1))",
                ],
            ),
            (
                "s",
                &[
                    "'trailing'",
                    "'trailing  '",
                    "''",
                    "'Straße'",
                    "'S'",
                    "'é 😀'",
                    "'İstanbul'",
                ],
            ),
            (
                "dt",
                &[
                    "DATE '1970-01-01'",
                    "DATE '2024-01-01'",
                    "DATE '1900-03-01'",
                    "DATE '2150-06-30'",
                ],
            ),
            (
                "ts",
                &[
                    "TIMESTAMP '2024-01-01 00:00:00.500'",
                    "TIMESTAMP '1970-01-01 00:00:00'",
                    "TIMESTAMP '2200-12-31 23:59:59.999'",
                ],
            ),
        ];
        let (column, literals) = COLUMNS[self.below(COLUMNS.len())];
        (column, literals[self.below(literals.len())])
    }

    fn atom(&mut self) -> String {
        let op = self.pick(&["=", "<>", "<", "<=", ">", ">="]);
        let (c, lit) = self.operand();
        let numeric = matches!(c, "i" | "big" | "d" | "r" | "dec");
        match self.below(9) {
            0 => format!("{c} {op} {lit}"),
            1 => format!("{c} IS {}NULL", self.pick(&["", "NOT "])),
            2 => {
                let (_, other) = (c, self.operand_of(c));
                format!("{c} {}IN ({lit}, {other})", self.pick(&["", "NOT "]))
            }
            3 => {
                let other = self.operand_of(c);
                format!("{c} BETWEEN {lit} AND {other}")
            }
            4 if numeric => {
                let f = self.pick(&[
                    "{c} + 1", "{c} - 1", "{c} * 2", "-{c}", "abs({c})", "{c} / 2",
                ]);
                format!("{} {op} {lit}", f.replace("{c}", c))
            }
            5 if c == "s" => {
                let f = self.pick(&[
                    "upper({c})",
                    "lower({c})",
                    "trim({c})",
                    "substr({c}, 1, 3)",
                    "{c} || 'x'",
                    "reverse({c})",
                ]);
                format!("{} {op} {lit}", f.replace("{c}", c))
            }
            5 | 6 if c == "s" => format!(
                "{c} LIKE '{}'",
                self.pick(&["tr%", "%ß%", "_", "%  ", "İ%", "%😀"])
            ),
            6 if numeric => format!(
                "CAST({c} AS VARCHAR) {op} '{}'",
                self.pick(&["0", "7", "0.1", "1.5"])
            ),
            7 => format!("coalesce({c}, {lit}) {op} {lit}"),
            8 => format!("CASE WHEN {c} {op} {lit} THEN 1 ELSE 0 END = 1"),
            _ => format!("{c} {op} {lit}"),
        }
    }

    /// A literal for column `c`.
    fn operand_of(&mut self, c: &str) -> &'static str {
        loop {
            let (column, lit) = self.operand();
            if column == c {
                return lit;
            }
        }
    }

    fn filter(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.atom();
        }
        match self.below(5) {
            0 => format!(
                "({}) AND ({})",
                self.filter(depth - 1),
                self.filter(depth - 1)
            ),
            1 => format!(
                "({}) OR ({})",
                self.filter(depth - 1),
                self.filter(depth - 1)
            ),
            2 => format!("NOT ({})", self.filter(depth - 1)),
            _ => self.atom(),
        }
    }
}

/// Classes of disagreement found and not yet fixed in the pushdown, each recognised by the
/// filter or by the error: (name, does this case belong to it).
/// Whether a case (its filter, how it differs) belongs to a class.
type Classifier = fn(&str, &str) -> bool;

/// None today. Found and fixed in the pushdown (the classifiers they had): `upper()`/`lower()`
/// of non-ASCII text (`filter.contains("upper(") || filter.contains("lower(")`), integer
/// arithmetic that overflows, an Athena error in Trino where DataFusion wraps
/// (`problem.contains("NUMERIC_VALUE_OUT_OF_RANGE")`).
const KNOWN_CLASSES: &[(&str, Classifier)] = &[];

#[test]
fn generated_filters_over_edge_values_answer_on_trino_as_in_datafusion() {
    on_big_stacks(generated);
}

/// `TRINO_GENERATED_CASES` (default 150) filters from seed `TRINO_GENERATOR_SEED` (default
/// 15): `SELECT id FROM t WHERE <filter>` through Athena versus DataFusion.
async fn generated() {
    let Some(url) = trino_url("the Trino generated-filter test").await else {
        return;
    };
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let cases = env("TRINO_GENERATED_CASES", 150);
    let seed = env("TRINO_GENERATOR_SEED", 15);
    let (_dir, emu, athena, local) = setup(url).await;
    let mut generator = Generator(seed.max(1));
    let mut classes = vec![0usize; KNOWN_CLASSES.len()];
    let mut unexplained = Vec::new();
    let mut all_sent = Vec::new();
    for _ in 0..cases {
        let filter = generator.filter(2);
        let sql = format!("SELECT id FROM t WHERE {filter}");
        let (problem, sent) = compare(&emu, &athena, &local, &sql).await;
        if let Some(problem) = problem {
            match KNOWN_CLASSES
                .iter()
                .position(|(_, is)| is(&filter, &problem))
            {
                Some(class) => classes[class] += 1,
                None => unexplained.push(format!("{sql}\n  {problem}\n  sent: {sent:?}")),
            }
        }
        all_sent.extend(sent);
    }
    dump_sql(&all_sent).expect("ATHENA_SQL_DUMP");
    emu.shutdown().await;
    println!("{cases} generated cases (seed {seed}); disagreements by known class:");
    for ((name, _), n) in KNOWN_CLASSES.iter().zip(&classes) {
        println!("  {n:>5}  {name}");
    }
    assert!(
        unexplained.is_empty(),
        "{} disagreements of no known class:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}
