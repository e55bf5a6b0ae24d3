//! What each Athena scan of a finished plan did: the SQL it sent, the query id, the bytes
//! Athena scanned and the rows fetched, for a one-line-per-query summary on stderr.

use std::sync::Arc;

use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion_athena_config::ConnectionOptions;
use datafusion_athena_scan::AthenaExec;

/// One Athena query of a plan.
#[derive(Debug, PartialEq)]
pub(crate) struct AthenaQuerySummary {
    pub(crate) sql: String,
    pub(crate) query_id: Option<String>,
    pub(crate) fetch_path: Option<String>,
    pub(crate) data_scanned_bytes: usize,
    pub(crate) rows_fetched: usize,
    /// What Athena bills for the bytes scanned, in US dollars (at `PricePerTB`).
    pub(crate) cost: f64,
}

/// The Athena scans of `plan` (depth first), with what their metrics recorded and what they
/// cost at the `PricePerTB` of `options`.
pub(crate) fn athena_queries(
    plan: &Arc<dyn ExecutionPlan>,
    options: &ConnectionOptions,
) -> Vec<AthenaQuerySummary> {
    let mut found = Vec::new();
    collect(plan, options, &mut found);
    found
}

fn collect(
    plan: &Arc<dyn ExecutionPlan>,
    options: &ConnectionOptions,
    found: &mut Vec<AthenaQuerySummary>,
) {
    if let Some(exec) = plan.downcast_ref::<AthenaExec>() {
        let metrics = exec.metrics().unwrap_or_default();
        let text = |wanted: &str| {
            metrics.iter().find_map(|m| match m.value() {
                MetricValue::Custom { name, value } if name == wanted => {
                    Some(value.to_string()).filter(|v| !v.is_empty())
                }
                _ => None,
            })
        };
        let count = |name: &str| metrics.sum_by_name(name).map_or(0, |v| v.as_usize());
        let data_scanned_bytes = count("data_scanned_bytes");
        found.push(AthenaQuerySummary {
            sql: exec.sql_sent(),
            query_id: text("query_id"),
            fetch_path: text("fetch_path"),
            data_scanned_bytes,
            rows_fetched: count("rows_fetched"),
            cost: options.query_cost(data_scanned_bytes as u64),
        });
    }
    for child in plan.children() {
        collect(child, options, found);
    }
}

impl std::fmt::Display for AthenaQuerySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "athena query {}: scanned {} bytes (cost ${}), fetched {} rows via {}\n  {}",
            self.query_id.as_deref().unwrap_or("(not started)"),
            self.data_scanned_bytes,
            dollars(self.cost),
            self.rows_fetched,
            self.fetch_path.as_deref().unwrap_or("-"),
            shortened(&self.sql, SQL_SHOWN)
        )
    }
}

/// `dollars` with two significant digits past the leading zeros (`0.000048`, `0.15`, `12.40`).
fn dollars(dollars: f64) -> String {
    if dollars >= 1.0 || dollars == 0.0 {
        return format!("{dollars:.2}");
    }
    let digits = (-dollars.log10()).floor() as usize + 2;
    format!("{dollars:.digits$}")
}

/// How much of a statement the summary shows (a join's key list can run to 250 KB; `explain`
/// prints statements whole).
const SQL_SHOWN: usize = 400;

/// `sql` cut after about `max` bytes (at a character boundary), saying how long it was.
fn shortened(sql: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if sql.len() <= max {
        return sql.into();
    }
    let mut end = max;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} ... ({} bytes in all)", &sql[..end], sql.len()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_show_two_significant_digits() {
        assert_eq!(dollars(0.0), "0.00");
        assert_eq!(dollars(12.4), "12.40");
        assert_eq!(dollars(0.15), "0.15");
        let ten_mb = ConnectionOptions::default().query_cost(18_900);
        assert_eq!(dollars(ten_mb), "0.000048");
    }

    #[test]
    fn long_statements_are_shortened_at_a_character_boundary() {
        assert_eq!(shortened("SELECT 1", 400), "SELECT 1");
        let long = format!("SELECT 'é{}'", "x".repeat(500));
        let short = shortened(&long, 8);
        assert_eq!(short, format!("SELECT ' ... ({} bytes in all)", long.len()));
        let short = shortened(&long, 9);
        assert_eq!(
            short,
            format!("SELECT ' ... ({} bytes in all)", long.len()),
            "é is 2 bytes"
        );
    }
}
