//! Which DataFusion filters Athena evaluates with the same answers, and the SQL of a scan.
//!
//! A filter is pushed only when every node of it is on the allow-list checked by
//! [`check_pushable`]; anything else stays in DataFusion. The rules that are not obvious:
//! - Floats: DataFusion orders them totally (`NaN` is the largest value and equals itself,
//!   `-0.0 < 0.0`), Trino follows IEEE (`NaN` compares false, `-0.0 = 0.0`). So `<`, `>`,
//!   `BETWEEN`, `IS DISTINCT FROM` on floats are not pushed; `=`, `<>` and `IN` are, when the
//!   other side is a finite non-zero float literal.
//! - `LIKE`: DataFusion always treats `\` as the escape character. The pattern (a literal) is
//!   rewritten into an equivalent Trino pattern with an explicit `ESCAPE '\'` when needed.
//!   `ILIKE` and `SIMILAR TO` do not exist in Trino.
//! - Decimal `/` and `%`: result scales differ. Integer and float arithmetic are pushed.
//! - Casts: only the value-preserving ones (widening numbers, dates to timestamps, finer
//!   timestamp units, integers/booleans/dates to `VARCHAR`); Trino rounds where Arrow
//!   truncates (`CAST(2.7 AS INTEGER)`), and prints doubles and timestamps differently.
//! - `IS [NOT] TRUE|FALSE|UNKNOWN` become `coalesce(...)` / `IS [NOT] NULL`.

use std::fmt;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::expr::{InList, Like, ScalarFunction};
use datafusion::logical_expr::{Between, BinaryExpr, Case, Cast, Expr, ExprSchemable, Operator};
use datafusion::sql::sqlparser::ast::{self, Ident, UnaryOperator, visit_expressions_mut};
use datafusion::sql::unparser::Unparser;

use crate::dialect::{AthenaDialect, call, check_function, literal_to_sql, quote_identifier};

/// Why a filter stays in DataFusion instead of going to Athena.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPushable {
    reason: String,
}

impl NotPushable {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// The reason, e.g. `function md5 has no Athena mapping`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for NotPushable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter not pushed to Athena: {}", self.reason)
    }
}

impl std::error::Error for NotPushable {}

type Check = Result<(), NotPushable>;

/// Whether Athena can evaluate `filter` over a table with `schema` with exactly DataFusion's
/// answers. Column qualifiers are ignored (a scan reads one table).
pub fn can_push(filter: &Expr, schema: &DFSchema) -> bool {
    check_pushable(filter, schema).is_ok()
}

/// Like [`can_push`], with the reason when the answer is no.
pub fn check_pushable(filter: &Expr, schema: &DFSchema) -> Result<(), NotPushable> {
    check(&unqualify(filter), schema)
}

/// Translates `filter` into an Athena boolean expression, or says why it cannot be.
///
/// ```
/// use datafusion::arrow::datatypes::{DataType, Field, Schema};
/// use datafusion::common::DFSchema;
/// use datafusion::logical_expr::{ident, lit};
/// use datafusion_athena_scan::filter_to_sql;
///
/// let schema = Schema::new(vec![Field::new("Name", DataType::Utf8, true)]);
/// let schema = DFSchema::try_from(schema).unwrap();
/// let sql = filter_to_sql(&ident("Name").eq(lit("O'Brien")), &schema).unwrap();
/// assert_eq!(sql, "(\"Name\" = 'O''Brien')");
/// ```
pub fn filter_to_sql(filter: &Expr, schema: &DFSchema) -> Result<String, NotPushable> {
    let filter = unqualify(filter);
    check(&filter, schema)?;
    let mut values = Vec::new();
    let prepared = prepare(&filter, &mut values);
    let mut sql = Unparser::new(&AthenaDialect)
        .expr_to_sql(&prepared)
        .map_err(|e| NotPushable::new(format!("unparser: {e}")))?;
    let mut missing = None;
    let _ = visit_expressions_mut(&mut sql, |e| {
        if let Err(p) = finish(e, &values) {
            missing = Some(p);
            return ControlFlow::Break(());
        }
        ControlFlow::<()>::Continue(())
    });
    if let Some(p) = missing {
        return Err(NotPushable::new(format!("internal: unknown placeholder {p}")));
    }
    Ok(sql.to_string())
}

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

    /// `"catalog"."database"."table"` (or without the catalog).
    pub fn to_sql(&self) -> Result<String, NotPushable> {
        let parts = self
            .catalog
            .iter()
            .chain([&self.database, &self.table])
            .map(|p| {
                quote_identifier(p).ok_or_else(|| {
                    NotPushable::new(format!("the name {p:?} cannot be written as an Athena identifier (empty or with control characters)"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
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
) -> Result<String, NotPushable> {
    let mut sql = String::from("SELECT ");
    match shape {
        ScanShape::Rows(columns) if !columns.is_empty() => {
            let columns = columns
                .iter()
                .map(|c| {
                    quote_identifier(c).ok_or_else(|| {
                        NotPushable::new(format!("column {c:?} cannot be written as an Athena identifier (empty or with control characters)"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
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
    if let (ScanShape::Rows(columns), Some(limit)) = (shape, limit) {
        if !columns.is_empty() {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
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

/// Drops table qualifiers from columns: the scan's SQL reads one table.
fn unqualify(expr: &Expr) -> Expr {
    expr.clone()
        .transform(|e| match e {
            Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(
                Column::new_unqualified(c.name),
            ))),
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| expr.clone())
}

fn not_pushed<T>(reason: impl Into<String>) -> Result<T, NotPushable> {
    Err(NotPushable::new(reason))
}

fn type_of(expr: &Expr, schema: &DFSchema) -> Result<DataType, NotPushable> {
    expr.get_type(schema)
        .map_err(|e| NotPushable::new(format!("type of {expr}: {e}")))
}

fn check(expr: &Expr, schema: &DFSchema) -> Check {
    match expr {
        Expr::Column(c) => {
            let field = schema
                .field_with_unqualified_name(&c.name)
                .map_err(|_| NotPushable::new(format!("column {} is not in the table", c.name)))?;
            if quote_identifier(&c.name).is_none() {
                return not_pushed(format!("column name {:?} cannot be quoted", c.name));
            }
            if !is_athena_column_type(field.data_type()) {
                return not_pushed(format!(
                    "column {} has type {}, which is not compared in Athena",
                    c.name,
                    field.data_type()
                ));
            }
            Ok(())
        }
        Expr::Literal(v, _) => match literal_to_sql(v) {
            Some(_) => Ok(()),
            None => not_pushed(format!("literal {v} has no Athena spelling")),
        },
        Expr::Alias(a) => check(&a.expr, schema),
        Expr::BinaryExpr(b) => check_binary(b, schema),
        Expr::Not(e)
        | Expr::IsNull(e)
        | Expr::IsNotNull(e)
        | Expr::IsTrue(e)
        | Expr::IsFalse(e)
        | Expr::IsNotTrue(e)
        | Expr::IsNotFalse(e)
        | Expr::IsUnknown(e)
        | Expr::IsNotUnknown(e) => check(e, schema),
        Expr::Negative(e) => {
            let t = type_of(e, schema)?;
            if !is_number(&t) {
                return not_pushed(format!("negation of {t}"));
            }
            check(e, schema)
        }
        Expr::Between(Between {
            expr, low, high, ..
        }) => {
            if is_float(&type_of(expr, schema)?) {
                return not_pushed("BETWEEN on floats (NaN ordering differs)");
            }
            check(expr, schema)?;
            check(low, schema)?;
            check(high, schema)
        }
        Expr::InList(InList { expr, list, .. }) => {
            if is_float(&type_of(expr, schema)?) && !list.iter().all(is_plain_float_literal) {
                return not_pushed("IN on floats with values other than finite non-zero literals");
            }
            check(expr, schema)?;
            list.iter().try_for_each(|e| check(e, schema))
        }
        Expr::Like(like) => check_like(like, schema),
        Expr::Case(Case {
            expr: operand,
            when_then_expr,
            else_expr,
        }) => {
            if let Some(operand) = operand {
                if is_float(&type_of(operand, schema)?) {
                    return not_pushed("CASE on a float operand");
                }
                check(operand, schema)?;
            }
            for (when, then) in when_then_expr {
                check(when, schema)?;
                check(then, schema)?;
            }
            if let Some(e) = else_expr {
                check(e, schema)?;
            }
            Ok(())
        }
        Expr::Cast(Cast { expr: inner, field }) => {
            let from = type_of(inner, schema)?;
            if !is_exact_cast(&from, field.data_type()) {
                return not_pushed(format!("CAST from {from} to {}", field.data_type()));
            }
            check(inner, schema)
        }
        Expr::ScalarFunction(ScalarFunction { func, args }) => {
            check_function(func.name(), args, schema).map_err(NotPushable::new)?;
            args.iter().try_for_each(|a| check(a, schema))
        }
        other => not_pushed(format!("{} expressions are not pushed", other.variant_name())),
    }
}

fn check_binary(b: &BinaryExpr, schema: &DFSchema) -> Check {
    let BinaryExpr { left, op, right } = b;
    let lt = type_of(left, schema)?;
    let rt = type_of(right, schema)?;
    match op {
        Operator::And | Operator::Or => {}
        Operator::Eq | Operator::NotEq => {
            if (is_float(&lt) || is_float(&rt))
                && !(is_plain_float_literal(left) || is_plain_float_literal(right))
            {
                return not_pushed("float equality against anything but a finite non-zero literal");
            }
        }
        Operator::Lt
        | Operator::LtEq
        | Operator::Gt
        | Operator::GtEq
        | Operator::IsDistinctFrom
        | Operator::IsNotDistinctFrom => {
            if is_float(&lt) || is_float(&rt) {
                return not_pushed(format!("{op} on floats (NaN and -0.0 compare differently)"));
            }
        }
        Operator::Plus | Operator::Minus | Operator::Multiply => {
            if !(is_number(&lt) && is_number(&rt)) {
                return not_pushed(format!("{op} on {lt} and {rt}"));
            }
        }
        Operator::Divide | Operator::Modulo => {
            let decimal = |t: &DataType| matches!(t, DataType::Decimal128(..));
            if !(is_number(&lt) && is_number(&rt)) || decimal(&lt) || decimal(&rt) {
                return not_pushed(format!("{op} on {lt} and {rt}"));
            }
        }
        Operator::StringConcat => {
            if !(is_string(&lt) && is_string(&rt)) {
                return not_pushed(format!("|| on {lt} and {rt}"));
            }
        }
        other => return not_pushed(format!("operator {other}")),
    }
    check(left, schema)?;
    check(right, schema)
}

fn check_like(like: &Like, schema: &DFSchema) -> Check {
    if like.case_insensitive {
        return not_pushed("ILIKE does not exist in Athena");
    }
    if like.escape_char.is_some_and(|c| c != '\\') {
        return not_pushed("LIKE with an escape character other than \\");
    }
    if !is_string(&type_of(&like.expr, schema)?) {
        return not_pushed("LIKE on a non-string value");
    }
    if string_value(&like.pattern).is_none() {
        return not_pushed("LIKE with a pattern that is not a string literal");
    }
    check(&like.expr, schema)
}

/// Column types Athena stores and compares the way DataFusion does.
fn is_athena_column_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::Date32
            | DataType::Timestamp(_, _)
    ) || matches!(t, DataType::Decimal128(p, s) if *p <= 38 && *s >= 0)
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float32 | DataType::Float64 | DataType::Float16)
}

fn is_signed_int(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    )
}

fn is_number(t: &DataType) -> bool {
    is_signed_int(t) || is_float(t) || matches!(t, DataType::Decimal128(..))
}

fn is_plain_float_literal(e: &Expr) -> bool {
    match e {
        Expr::Literal(ScalarValue::Float64(Some(v)), _) => v.is_finite() && *v != 0.0,
        Expr::Literal(ScalarValue::Float32(Some(v)), _) => v.is_finite() && *v != 0.0,
        _ => false,
    }
}

fn unit_rank(u: &TimeUnit) -> u8 {
    match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    }
}

/// Casts whose result is the same value in Arrow and in Trino.
fn is_exact_cast(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    if from == to {
        return true;
    }
    match (from, to) {
        (a, b) if is_signed_int(a) && is_signed_int(b) => true,
        (a, Float32 | Float64) if is_signed_int(a) => true,
        (Float32, Float64) => true,
        (a, Decimal128(p, s)) if is_signed_int(a) => *p <= 38 && *s >= 0,
        (Decimal128(_, s1), Decimal128(p2, s2)) => *p2 <= 38 && s2 >= s1,
        (Decimal128(p, s), Float64) => *p <= 15 && *s >= 0,
        (Date32, Timestamp(_, None)) => true,
        (Timestamp(a, None), Timestamp(b, None)) => unit_rank(b) >= unit_rank(a),
        (Timestamp(_, None), Date32) => true,
        (a, Utf8 | LargeUtf8 | Utf8View) if is_signed_int(a) => true,
        (Boolean | Date32, Utf8 | LargeUtf8 | Utf8View) => true,
        (a, b) if is_string(a) && is_string(b) => true,
        _ => false,
    }
}

fn string_value(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Some(s),
        _ => None,
    }
}

/// Placeholder ids start with this; nothing else in the unparsed SQL comes from user data.
const PLACEHOLDER: &str = "$athena_";

/// Replaces every column and literal with a placeholder whose final text is in `values`, and
/// rewrites LIKE patterns into Trino form. `expr` must have passed [`check`].
fn prepare(expr: &Expr, values: &mut Vec<String>) -> Expr {
    let slot = |text: String, values: &mut Vec<String>| {
        values.push(text);
        Expr::Placeholder(datafusion::logical_expr::expr::Placeholder::new_with_field(
            format!("{PLACEHOLDER}{}", values.len() - 1),
            None,
        ))
    };
    match expr {
        Expr::Column(c) => slot(quote_identifier(&c.name).unwrap_or_default(), values),
        Expr::Literal(v, _) => slot(literal_to_sql(v).unwrap_or_default(), values),
        Expr::Alias(a) => prepare(&a.expr, values),
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => Expr::BinaryExpr(BinaryExpr::new(
            Box::new(prepare(left, values)),
            *op,
            Box::new(prepare(right, values)),
        )),
        Expr::Not(e) => Expr::Not(Box::new(prepare(e, values))),
        Expr::IsNull(e) => Expr::IsNull(Box::new(prepare(e, values))),
        Expr::IsNotNull(e) => Expr::IsNotNull(Box::new(prepare(e, values))),
        Expr::IsTrue(e) => Expr::IsTrue(Box::new(prepare(e, values))),
        Expr::IsFalse(e) => Expr::IsFalse(Box::new(prepare(e, values))),
        Expr::IsNotTrue(e) => Expr::IsNotTrue(Box::new(prepare(e, values))),
        Expr::IsNotFalse(e) => Expr::IsNotFalse(Box::new(prepare(e, values))),
        Expr::IsUnknown(e) => Expr::IsUnknown(Box::new(prepare(e, values))),
        Expr::IsNotUnknown(e) => Expr::IsNotUnknown(Box::new(prepare(e, values))),
        Expr::Negative(e) => Expr::Negative(Box::new(prepare(e, values))),
        Expr::Between(b) => Expr::Between(Between::new(
            Box::new(prepare(&b.expr, values)),
            b.negated,
            Box::new(prepare(&b.low, values)),
            Box::new(prepare(&b.high, values)),
        )),
        Expr::InList(l) => Expr::InList(InList::new(
            Box::new(prepare(&l.expr, values)),
            l.list.iter().map(|e| prepare(e, values)).collect(),
            l.negated,
        )),
        Expr::Like(like) => {
            let pattern = string_value(&like.pattern).unwrap_or_default();
            let (pattern, escaped) = trino_like_pattern(pattern);
            let pattern = slot(crate::dialect::quote_string(&pattern), values);
            Expr::Like(Like::new(
                like.negated,
                Box::new(prepare(&like.expr, values)),
                Box::new(pattern),
                escaped.then_some('\\'),
                false,
            ))
        }
        Expr::Case(c) => Expr::Case(Case::new(
            c.expr.as_ref().map(|e| Box::new(prepare(e, values))),
            c.when_then_expr
                .iter()
                .map(|(w, t)| (Box::new(prepare(w, values)), Box::new(prepare(t, values))))
                .collect(),
            c.else_expr.as_ref().map(|e| Box::new(prepare(e, values))),
        )),
        Expr::Cast(c) => Expr::Cast(Cast::new_from_field(
            Box::new(prepare(&c.expr, values)),
            std::sync::Arc::clone(&c.field),
        )),
        Expr::ScalarFunction(ScalarFunction { func, args }) => {
            // The unit of date_trunc / date_part is read by the dialect; it is a checked word.
            let keep_first = matches!(func.name(), "date_trunc" | "date_part");
            let args = args
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if keep_first && i == 0 {
                        a.clone()
                    } else {
                        prepare(a, values)
                    }
                })
                .collect();
            Expr::ScalarFunction(ScalarFunction::new_udf(std::sync::Arc::clone(func), args))
        }
        other => other.clone(),
    }
}

/// Rewrites a DataFusion LIKE pattern (where `\` escapes the next character, and a trailing
/// `\` is a literal backslash) into a Trino pattern; the flag says whether it needs
/// `ESCAPE '\'`.
fn trino_like_pattern(pattern: &str) -> (String, bool) {
    let mut out = String::with_capacity(pattern.len());
    let mut escaped = false;
    let mut literal = |c: char, out: &mut String| {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
            escaped = true;
        }
        out.push(c);
    };
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => literal(next, &mut out),
                None => literal('\\', &mut out),
            },
            '%' | '_' => out.push(c),
            c => literal(c, &mut out),
        }
    }
    (out, escaped)
}

/// Post-pass over the unparsed SQL: puts the spelled values in place of placeholders, spells
/// what Trino lacks, and parenthesises operands so no operator binds differently.
fn finish(e: &mut ast::Expr, values: &[String]) -> Result<(), String> {
    match e {
        ast::Expr::Value(v) => {
            if let ast::Value::Placeholder(p) = &v.value {
                let text = p
                    .strip_prefix(PLACEHOLDER)
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| values.get(i))
                    .ok_or_else(|| p.clone())?;
                *e = ast::Expr::Identifier(Ident::new(text.clone()));
            }
        }
        ast::Expr::IsTrue(inner) => *e = call("coalesce", vec![take(inner), bool_value(false)]),
        ast::Expr::IsNotTrue(inner) => {
            *e = not(call("coalesce", vec![take(inner), bool_value(false)]))
        }
        ast::Expr::IsFalse(inner) => *e = not(call("coalesce", vec![take(inner), bool_value(true)])),
        ast::Expr::IsNotFalse(inner) => {
            *e = call("coalesce", vec![take(inner), bool_value(true)])
        }
        ast::Expr::IsUnknown(inner) => *e = ast::Expr::IsNull(Box::new(group(take(inner)))),
        ast::Expr::IsNotUnknown(inner) => {
            *e = ast::Expr::IsNotNull(Box::new(group(take(inner))))
        }
        ast::Expr::UnaryOp { expr, .. } => wrap(expr),
        ast::Expr::IsNull(expr) | ast::Expr::IsNotNull(expr) => wrap(expr),
        ast::Expr::Like { expr, pattern, .. } => {
            wrap(expr);
            wrap(pattern);
        }
        ast::Expr::InList { expr, list, .. } => {
            wrap(expr);
            list.iter_mut().for_each(wrap);
        }
        ast::Expr::Between {
            expr, low, high, ..
        } => {
            wrap(expr);
            wrap(low);
            wrap(high);
        }
        ast::Expr::BinaryOp { left, right, .. }
        | ast::Expr::IsDistinctFrom(left, right)
        | ast::Expr::IsNotDistinctFrom(left, right) => {
            wrap(left);
            wrap(right);
        }
        ast::Expr::Cast { data_type, .. } => {
            let fixed = match data_type {
                ast::DataType::Bool => Some(ast::DataType::Boolean),
                ast::DataType::Float(_) => Some(ast::DataType::Real),
                _ => None,
            };
            if let Some(fixed) = fixed {
                *data_type = fixed;
            }
        }
        _ => {}
    }
    Ok(())
}

fn take(b: &mut ast::Expr) -> ast::Expr {
    std::mem::replace(b, bool_value(false))
}

fn bool_value(b: bool) -> ast::Expr {
    ast::Expr::value(ast::Value::Boolean(b))
}

fn not(e: ast::Expr) -> ast::Expr {
    ast::Expr::UnaryOp {
        op: UnaryOperator::Not,
        expr: Box::new(group(e)),
    }
}

/// Operands that print as one unit in any position.
fn is_atomic(e: &ast::Expr) -> bool {
    matches!(
        e,
        ast::Expr::Identifier(_)
            | ast::Expr::CompoundIdentifier(_)
            | ast::Expr::Value(_)
            | ast::Expr::Nested(_)
            | ast::Expr::Function(_)
            | ast::Expr::Cast { .. }
            | ast::Expr::Extract { .. }
            | ast::Expr::Trim { .. }
            | ast::Expr::Case { .. }
    )
}

fn group(e: ast::Expr) -> ast::Expr {
    if is_atomic(&e) {
        e
    } else {
        ast::Expr::Nested(Box::new(e))
    }
}

fn wrap(e: &mut ast::Expr) {
    if !is_atomic(e) {
        let inner = std::mem::replace(e, bool_value(false));
        *e = ast::Expr::Nested(Box::new(inner));
    }
}
