//! The SQL of one Athena scan (`SELECT <columns> FROM <table> WHERE <filters> LIMIT n`) and
//! how a table is named in it, for the scan plan node ([`crate::AthenaExec`]).

use std::fmt;

use crate::dialect::quote_identifier;
use crate::error::{Error, Result};

/// An Athena table as SQL names it; every part is quoted exactly as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AthenaTableName {
    /// Data catalog, e.g. `AwsDataCatalog`; `None` uses the query's default catalog.
    pub catalog: Option<String>,
    /// Database (Glue database / schema).
    pub database: String,
    /// Table name.
    pub table: String,
}

impl AthenaTableName {
    /// A table in the query's default catalog.
    pub fn new(database: impl Into<String>, table: impl Into<String>) -> Self {
        Self {
            catalog: None,
            database: database.into(),
            table: table.into(),
        }
    }

    /// The same table in `catalog`.
    pub fn with_catalog(mut self, catalog: impl Into<String>) -> Self {
        self.catalog = Some(catalog.into());
        self
    }

    /// `"catalog"."database"."table"` (or without the catalog); [`Error::UnquotableName`]
    /// for a part that is empty or holds control characters.
    pub fn to_sql(&self) -> Result<String> {
        let parts = self
            .catalog
            .iter()
            .chain([&self.database, &self.table])
            .map(|p| quote(p, "table name part"))
            .collect::<Result<Vec<_>>>()?;
        Ok(parts.join("."))
    }
}

impl fmt::Display for AthenaTableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.catalog {
            write!(f, "{c}.")?;
        }
        write!(f, "{}.{}", self.database, self.table)
    }
}

/// What a scan reads: rows of some columns, or only how many rows there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanShape {
    /// `SELECT "a", "b" FROM ...`: one output row per matching row.
    Rows(Vec<String>),
    /// `SELECT count(*) FROM ...`: no column data at all; the scan turns the count back into
    /// that many zero-column rows (at most the limit).
    Count,
}

/// The Athena SQL of one scan.
///
/// An empty projection (`count(*)`, `EXISTS`) becomes `SELECT count(*) AS "row_count"`: Athena
/// reads no column and returns one row instead of one row per match. A limit is then applied
/// to the count locally, not sent.
pub fn scan_sql(
    table: &AthenaTableName,
    shape: &ScanShape,
    filters: &[String],
    limit: Option<usize>,
) -> Result<String> {
    let mut sql = String::from("SELECT ");
    match shape {
        ScanShape::Rows(columns) if !columns.is_empty() => {
            let columns = columns
                .iter()
                .map(|c| quote(c, "column"))
                .collect::<Result<Vec<_>>>()?;
            sql.push_str(&columns.join(", "));
        }
        _ => sql.push_str("count(*) AS \"row_count\""),
    }
    sql.push_str(" FROM ");
    sql.push_str(&table.to_sql()?);
    if !filters.is_empty() {
        sql.push_str(" WHERE ");
        if filters.len() == 1 {
            sql.push_str(&filters[0]);
        } else {
            let parts: Vec<String> = filters.iter().map(|f| parenthesise(f)).collect();
            sql.push_str(&parts.join(" AND "));
        }
    }
    if let (ScanShape::Rows(columns), Some(limit)) = (shape, limit)
        && !columns.is_empty()
    {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    Ok(sql)
}

/// Wraps `sql` in parentheses unless it already is one parenthesised group.
fn parenthesise(sql: &str) -> String {
    if sql.starts_with('(') && sql.ends_with(')') && closes_at_end(sql) {
        sql.to_string()
    } else {
        format!("({sql})")
    }
}

/// Whether the `(` at the start of `sql` is closed by the `)` at its end, skipping quoted text.
fn closes_at_end(sql: &str) -> bool {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let last = sql.char_indices().last().map(|(i, _)| i);
    for (i, c) in sql.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && Some(i) != last {
                        return false;
                    }
                }
                _ => {}
            },
        }
    }
    depth == 0
}

/// `name` as a quoted Athena identifier, or [`Error::UnquotableName`].
fn quote(name: &str, kind: &'static str) -> Result<String> {
    quote_identifier(name).ok_or_else(|| Error::UnquotableName {
        kind,
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_sql_shapes() {
        let t = AthenaTableName::new("Sales DB", "Orders\"2024").with_catalog("AwsDataCatalog");
        let rows = ScanShape::Rows(vec!["id".into(), "Name".into()]);
        assert_eq!(
            scan_sql(&t, &rows, &[], None).expect("sql"),
            "SELECT \"id\", \"Name\" FROM \"AwsDataCatalog\".\"Sales DB\".\"Orders\"\"2024\""
        );
        assert_eq!(
            scan_sql(
                &t,
                &rows,
                &["(\"id\" > 5)".into(), "\"Name\" IS NULL".into()],
                Some(10)
            )
            .expect("sql"),
            "SELECT \"id\", \"Name\" FROM \"AwsDataCatalog\".\"Sales DB\".\"Orders\"\"2024\" \
             WHERE (\"id\" > 5) AND (\"Name\" IS NULL) LIMIT 10"
        );
        assert_eq!(
            scan_sql(
                &AthenaTableName::new("db", "t"),
                &ScanShape::Count,
                &[],
                Some(3)
            )
            .expect("sql"),
            "SELECT count(*) AS \"row_count\" FROM \"db\".\"t\""
        );
        let bad = scan_sql(
            &AthenaTableName::new("db", "t"),
            &ScanShape::Rows(vec!["a\nb".into()]),
            &[],
            None,
        )
        .expect_err("control character");
        assert!(bad.to_string().contains("column"), "{bad}");
        assert!(AthenaTableName::new("", "t").to_sql().is_err());
    }

    #[test]
    fn parenthesise_only_when_needed() {
        assert_eq!(parenthesise("(a) OR (b)"), "((a) OR (b))");
        assert_eq!(parenthesise("(a OR b)"), "(a OR b)");
        assert_eq!(parenthesise("(')' = \"(\")"), "(')' = \"(\")");
        assert_eq!(parenthesise("x IS NULL"), "(x IS NULL)");
    }
}
