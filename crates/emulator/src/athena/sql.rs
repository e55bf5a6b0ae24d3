//! Athena SQL before DataFusion sees it: identifier case folding, UNLOAD, output labels, and
//! Athena's error categories for DataFusion's errors.

use datafusion::error::DataFusionError;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};
use regex::Regex;

use super::query::AthenaError;

/// Athena folds every identifier to lower case, quoted ones too; DataFusion keeps quoted
/// identifiers as written. Lower-cases double-quoted identifiers and drops trailing `;`.
///
/// Only the text of the quoted identifiers changes: everything else (string literals with
/// their `''` escapes, comments, whitespace) is copied from the input byte for byte, so no
/// token is ever re-printed (sqlparser's `Display` for tokens does not re-escape quotes).
pub(crate) fn normalize(sql: &str) -> String {
    let trimmed = sql.trim().trim_end_matches(';').trim_end();
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, trimmed).tokenize_with_location() else {
        return trimmed.to_owned();
    };
    let offsets = Offsets::new(trimmed);
    let mut out = String::with_capacity(trimmed.len());
    let mut copied = 0;
    for t in &tokens {
        let Token::Word(w) = &t.token else { continue };
        if w.quote_style != Some('"') {
            continue;
        }
        let (start, end) = offsets.range(t);
        // Tokens re-read from `/*! ... */` hint comments carry approximate spans: change
        // only text that is exactly this identifier as written.
        let written = format!("\"{}\"", w.value.replace('"', "\"\""));
        if start < copied || trimmed.get(start..end) != Some(written.as_str()) {
            continue;
        }
        out.push_str(&trimmed[copied..start]);
        out.push_str(&written.to_lowercase());
        copied = end;
    }
    out.push_str(&trimmed[copied..]);
    out
}

/// Points every `awsdatacatalog.` (quoted or not, any case) of a statement at the catalog
/// `to`; everything else is copied as written. A statement the tokenizer cannot read is
/// returned unchanged.
pub(crate) fn replace_catalog(sql: &str, to: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        return sql.to_owned();
    };
    let offsets = Offsets::new(sql);
    let mut out = String::with_capacity(sql.len() + 16);
    let mut copied = 0;
    for (i, t) in tokens.iter().enumerate() {
        let Token::Word(w) = &t.token else { continue };
        if !w.value.eq_ignore_ascii_case(crate::catalog::DF_CATALOG)
            || !matches!(w.quote_style, None | Some('"'))
        {
            continue;
        }
        let next = tokens[i + 1..]
            .iter()
            .find(|t| !matches!(t.token, Token::Whitespace(_)));
        if next.is_none_or(|n| n.token != Token::Period) {
            continue;
        }
        let (start, end) = offsets.range(t);
        if start < copied
            || !sql
                .get(start..end)
                .is_some_and(|s| s.trim_matches('"').eq_ignore_ascii_case(&w.value))
        {
            continue;
        }
        out.push_str(&sql[copied..start]);
        out.push('"');
        out.push_str(to);
        out.push('"');
        copied = end;
    }
    out.push_str(&sql[copied..]);
    out
}

/// Byte offsets of the tokenizer's 1-based (line, column-in-characters) locations.
struct Offsets<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, line_starts }
    }

    fn offset(&self, location: Location) -> usize {
        let line = usize::try_from(location.line).unwrap_or(usize::MAX);
        let column = usize::try_from(location.column).unwrap_or(usize::MAX);
        let Some(&start) = line.checked_sub(1).and_then(|l| self.line_starts.get(l)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        start
            + rest
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(rest.len(), |(i, _)| i)
    }

    /// The byte range a token covers in the text.
    fn range(&self, token: &TokenWithSpan) -> (usize, usize) {
        (self.offset(token.span.start), self.offset(token.span.end))
    }
}

/// Replaces each `?` placeholder, in order, with the next ExecutionParameters value (values
/// are SQL literals, as Athena takes them: `'text'`, `42`, `DATE '2020-01-01'`). The rest
/// of the query is copied as written.
pub(crate) fn bind_parameters(sql: &str, parameters: &[String]) -> Result<String, String> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| format!("the query cannot be tokenized to bind ExecutionParameters: {e}"))?;
    let offsets = Offsets::new(sql);
    let mut values = parameters.iter();
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut used = 0;
    for t in &tokens {
        if !matches!(&t.token, Token::Placeholder(p) if p == "?") {
            continue;
        }
        let value = values.next().ok_or_else(|| {
            format!(
                "the query has more ? placeholders than the {} ExecutionParameters given",
                parameters.len()
            )
        })?;
        let (start, end) = offsets.range(t);
        if start < copied || sql.get(start..end) != Some("?") {
            return Err("a ? placeholder of the query could not be located (is it inside a /*! */ hint comment?)".to_owned());
        }
        out.push_str(&sql[copied..start]);
        out.push_str(value);
        copied = end;
        used += 1;
    }
    out.push_str(&sql[copied..]);
    if used != parameters.len() {
        return Err(format!(
            "{} ExecutionParameters given for {used} ? placeholders",
            parameters.len()
        ));
    }
    Ok(out)
}

/// A parsed `UNLOAD (SELECT ...) TO 's3://...' WITH (...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unload {
    pub(crate) select: String,
    pub(crate) to: String,
    pub(crate) format: String,
    pub(crate) compression: Option<String>,
}

/// Recognises UNLOAD; `Ok(None)` for any other statement.
pub(crate) fn parse_unload(sql: &str) -> Result<Option<Unload>, AthenaError> {
    let head = Regex::new(r"(?is)^\s*unload\b").unwrap_or_else(|_| unreachable!());
    if !head.is_match(sql) {
        return Ok(None);
    }
    let re = Regex::new(r"(?is)^\s*unload\s*\((.*)\)\s*to\s*'([^']*)'\s*with\s*\((.*)\)\s*$")
        .unwrap_or_else(|_| unreachable!());
    let Some(caps) = re.captures(sql) else {
        return Err(AthenaError::syntax(
            "UNLOAD must read UNLOAD (SELECT ...) TO 's3://bucket/prefix/' WITH (format = '...')",
        ));
    };
    let select = caps[1].trim().to_owned();
    let to = caps[2].to_owned();
    let mut format = None;
    let mut compression = None;
    let prop =
        Regex::new(r"(?is)^\s*([a-z_]+)\s*=\s*'([^']*)'\s*$").unwrap_or_else(|_| unreachable!());
    for part in caps[3].split(',') {
        let Some(p) = prop.captures(part) else {
            return Err(AthenaError::syntax(format!(
                "UNLOAD property {:?} must read name = 'value'",
                part.trim()
            )));
        };
        match p[1].to_ascii_lowercase().as_str() {
            "format" => format = Some(p[2].to_ascii_uppercase()),
            "compression" => compression = Some(p[2].to_ascii_uppercase()),
            "partitioned_by" | "field_delimiter" => {
                return Err(AthenaError::not_supported(format!(
                    "the emulator's UNLOAD does not support the {} property",
                    &p[1]
                )));
            }
            other => {
                return Err(AthenaError::syntax(format!(
                    "unknown UNLOAD property {other}"
                )));
            }
        }
    }
    let Some(format) = format else {
        return Err(AthenaError::syntax(
            "UNLOAD needs WITH (format = 'PARQUET')",
        ));
    };
    Ok(Some(Unload {
        select,
        to,
        format,
        compression,
    }))
}

/// Per select item: `Some(true)` when Athena names it `_colN`, `Some(false)` when it keeps
/// its name, `None` for a wildcard.
pub(crate) fn projection_hints(statement: &DfStatement) -> Vec<Option<bool>> {
    let DfStatement::Statement(statement) = statement else {
        return Vec::new();
    };
    let Statement::Query(query) = statement.as_ref() else {
        return Vec::new();
    };
    hints_of(&query.body)
}

fn hints_of(body: &SetExpr) -> Vec<Option<bool>> {
    match body {
        SetExpr::Select(select) => select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::UnnamedExpr(Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => {
                    Some(false)
                }
                SelectItem::UnnamedExpr(_) => Some(true),
                SelectItem::ExprWithAlias { .. } | SelectItem::ExprWithAliases { .. } => {
                    Some(false)
                }
                SelectItem::QualifiedWildcard(..) | SelectItem::Wildcard(..) => None,
            })
            .collect(),
        SetExpr::Query(q) => hints_of(&q.body),
        SetExpr::SetOperation { left, .. } => hints_of(left),
        SetExpr::Values(v) => v
            .rows
            .first()
            .map(|r| vec![Some(true); r.len()])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Output labels: the field names, with `_colN` for unnamed expressions.
pub(crate) fn labels(hints: &[Option<bool>], names: &[String]) -> Vec<String> {
    let n = names.len();
    let mut unnamed = vec![false; n];
    match hints.iter().position(Option::is_none) {
        None if hints.len() == n => {
            for (i, h) in hints.iter().enumerate() {
                unnamed[i] = *h == Some(true);
            }
        }
        Some(w) if hints.iter().filter(|h| h.is_none()).count() == 1 => {
            for (i, h) in hints[..w].iter().enumerate() {
                unnamed[i] = *h == Some(true);
            }
            let after = &hints[w + 1..];
            if after.len() <= n {
                for (j, h) in after.iter().enumerate() {
                    unnamed[n - after.len() + j] = *h == Some(true);
                }
            }
        }
        _ => {}
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if unnamed[i] {
                format!("_col{i}")
            } else {
                name.clone()
            }
        })
        .collect()
}

impl AthenaError {
    /// Athena's category and type for a DataFusion planning or execution error.
    pub(crate) fn from_datafusion(error: &DataFusionError) -> Self {
        let root = error.find_root();
        let message = root.to_string();
        match root {
            DataFusionError::SQL(..) => Self::syntax(message),
            DataFusionError::Plan(m)
                if m.contains("not found") && (m.contains("table") || m.contains("schema")) =>
            {
                Self::user(1110, format!("TABLE_NOT_FOUND: {message}"))
            }
            DataFusionError::SchemaError(..) => {
                Self::user(1006, format!("COLUMN_NOT_FOUND: {message}"))
            }
            DataFusionError::Plan(_) => Self::syntax(message),
            DataFusionError::NotImplemented(_) => Self::not_supported(message),
            DataFusionError::ResourcesExhausted(_) => Self {
                category: 1,
                error_type: 1002,
                retryable: false,
                message: format!("EXCEEDED_MEMORY_LIMIT: {message}"),
            },
            DataFusionError::Execution(_) | DataFusionError::ArrowError(..) => {
                Self::user(1100, format!("GENERIC_USER_ERROR: {message}"))
            }
            _ => Self {
                category: 1,
                error_type: 1000,
                retryable: false,
                message: format!("GENERIC_INTERNAL_ERROR: {message}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_identifiers_fold_to_lower_case() {
        assert_eq!(
            normalize(r#"SELECT "Col" FROM "AwsDataCatalog"."DB"."T" WHERE x = 'KeepMe';"#),
            r#"SELECT "col" FROM "awsdatacatalog"."db"."t" WHERE x = 'KeepMe'"#
        );
        assert_eq!(normalize("select 1 ; "), "select 1");
    }

    #[test]
    fn normalize_copies_every_other_token_as_written() {
        let sql = "SELECT 'O''Brien', N'n''x', X'0A', E'e' , \"Mixed\"\"Q\" -- It's\n\
                   FROM \"AwsDataCatalog\".\"Db\".\"T\" /* \"Keep\" 'x */ WHERE s = 'é''\u{1F600}'";
        let expected = "SELECT 'O''Brien', N'n''x', X'0A', E'e' , \"mixed\"\"q\" -- It's\n\
                        FROM \"awsdatacatalog\".\"db\".\"t\" /* \"Keep\" 'x */ WHERE s = 'é''\u{1F600}'";
        assert_eq!(normalize(sql), expected);
        // Multi-line input: locations after a newline map to the right bytes.
        assert_eq!(
            normalize("SELECT\n  'a''b'\n, \"ÄB\"\r\nFROM t;"),
            "SELECT\n  'a''b'\n, \"äb\"\r\nFROM t"
        );
    }

    #[test]
    fn parameters_keep_the_query_text() {
        let params = ["'x'".to_owned()];
        assert_eq!(
            bind_parameters("SELECT 'O''Brien' -- why?\n, ?", &params).unwrap(),
            "SELECT 'O''Brien' -- why?\n, 'x'"
        );
    }

    mod properties {
        use datafusion::sql::sqlparser::ast::{Expr, SelectItem, SetExpr, Statement, Value};
        use datafusion::sql::sqlparser::dialect::GenericDialect;
        use datafusion::sql::sqlparser::parser::Parser;
        use proptest::prelude::*;

        use super::super::normalize;

        fn literal(s: &str) -> String {
            format!("'{}'", s.replace('\'', "''"))
        }

        fn ident(s: &str) -> String {
            format!("\"{}\"", s.replace('"', "\"\""))
        }

        /// The first select item's string value and alias.
        fn first_item(sql: &str) -> (String, String, String) {
            let statements = Parser::parse_sql(&GenericDialect {}, sql).expect("parses");
            let Statement::Query(query) = &statements[0] else {
                panic!("not a query: {sql}");
            };
            let SetExpr::Select(select) = query.body.as_ref() else {
                panic!("not a select: {sql}");
            };
            let SelectItem::ExprWithAlias {
                expr: Expr::Value(v),
                alias,
            } = &select.projection[0]
            else {
                panic!("unexpected projection: {sql}");
            };
            let Value::SingleQuotedString(value) = &v.value else {
                panic!("not a string literal: {sql}");
            };
            (
                value.clone(),
                alias.value.clone(),
                statements[0].to_string(),
            )
        }

        proptest! {
            #[test]
            fn literals_and_identifiers_keep_their_meaning(
                text in "[\\PC\n\r\t]{0,24}",
                id in "[\\PC]{1,12}",
                table in "[A-Za-z][A-Za-z0-9_]{0,8}",
            ) {
                let sql = format!(
                    "SELECT {} AS {} FROM \"AwsDataCatalog\".{} /* {} */ WHERE c = {};",
                    literal(&text),
                    ident(&id),
                    ident(&table),
                    text.replace('*', ""),
                    literal(&text),
                );
                let normalized = normalize(&sql);
                let (value, alias, rendered) = first_item(&normalized);
                prop_assert_eq!(&value, &text);
                prop_assert_eq!(&alias, &id.to_lowercase());
                let expected = format!(
                    "SELECT {} AS {} FROM \"awsdatacatalog\".{} WHERE c = {}",
                    literal(&text),
                    ident(&id.to_lowercase()),
                    ident(&table.to_lowercase()),
                    literal(&text),
                );
                prop_assert_eq!(rendered, first_item(&expected).2);
            }
        }
    }

    #[test]
    fn parameters_bind_in_order() {
        let params = ["'a?b'".to_owned(), "2".to_owned()];
        assert_eq!(
            bind_parameters("SELECT * FROM t WHERE s = ? AND n > ?", &params).unwrap(),
            "SELECT * FROM t WHERE s = 'a?b' AND n > 2"
        );
        assert_eq!(
            bind_parameters("SELECT '?' , ?", &params[..1]).unwrap(),
            "SELECT '?' , 'a?b'"
        );
        assert!(bind_parameters("SELECT ?", &params).is_err());
        assert!(bind_parameters("SELECT ?, ?, ?", &params).is_err());
    }

    #[test]
    fn catalog_references_are_replaced() {
        assert_eq!(
            replace_catalog(
                r#"SELECT 'awsdatacatalog.x', awsdatacatalog FROM "AwsDataCatalog"."db"."t" JOIN awsdatacatalog . db.u"#,
                "emu_1"
            ),
            r#"SELECT 'awsdatacatalog.x', awsdatacatalog FROM "emu_1"."db"."t" JOIN "emu_1" . db.u"#
        );
        assert_eq!(
            replace_catalog("SELECT 'unterminated", "e"),
            "SELECT 'unterminated"
        );
    }

    #[test]
    fn unload_is_recognised() {
        let u = parse_unload("UNLOAD (SELECT a FROM t WHERE (b > 1)) TO 's3://b/p/' WITH (format = 'PARQUET', compression='snappy')")
            .unwrap()
            .unwrap();
        assert_eq!(u.select, "SELECT a FROM t WHERE (b > 1)");
        assert_eq!(u.to, "s3://b/p/");
        assert_eq!(u.format, "PARQUET");
        assert_eq!(u.compression.as_deref(), Some("SNAPPY"));
        assert!(parse_unload("SELECT 1").unwrap().is_none());
        assert!(parse_unload("UNLOAD (SELECT 1) TO 's3://b/p/'").is_err());
    }

    #[test]
    fn unnamed_columns_get_positional_labels() {
        let names: Vec<String> = ["a", "count(*)", "b", "Int64(1)"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            labels(&[Some(false), Some(true), Some(false), Some(true)], &names),
            ["a", "_col1", "b", "_col3"]
        );
        // A wildcard in the middle: items after it are counted from the end.
        assert_eq!(
            labels(&[Some(true), None, Some(true)], &names),
            ["_col0", "count(*)", "b", "_col3"]
        );
    }
}
