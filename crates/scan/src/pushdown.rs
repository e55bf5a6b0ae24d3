//! Which DataFusion filters Athena evaluates with the same answers, and the SQL of a scan.
//!
//! A filter is pushed only when every node of it is on the allow-list checked by
//! [`check_pushable`]; anything else stays in DataFusion. The rules that are not obvious:
//! - Floats: DataFusion orders them totally (`NaN` is the largest value and equals itself,
//!   `-0.0 < 0.0`), Trino follows IEEE (`NaN` compares false, `-0.0 = 0.0`). So `<`, `>`,
//!   `BETWEEN`, `IS DISTINCT FROM` on floats are not pushed; `=`, `<>` and `IN` are, when the
//!   other side is a finite non-zero float literal. Comparisons are pushed when both sides are
//!   *tame* ([`FloatBounds`]): computed from integers, decimals and finite literals by `+`,
//!   `-`, `*` in a way that can give neither NaN, an infinity, nor `-0.0`.
//! - `LIKE`: DataFusion always treats `\` as the escape character. The pattern (a literal) is
//!   rewritten into an equivalent Trino pattern with an explicit `ESCAPE '\'` when needed.
//!   `ILIKE` and `SIMILAR TO` do not exist in Trino.
//! - Decimal `/` and `%`: result scales differ. Integer and float arithmetic are pushed.
//! - Casts: only the value-preserving ones (widening numbers, dates to timestamps, finer
//!   timestamp units, integers/booleans/dates to `VARCHAR`); Trino rounds where Arrow
//!   truncates (`CAST(2.7 AS INTEGER)`), and prints doubles and timestamps differently.
//!   Decimals to `DOUBLE` are pushed as Arrow computes them: the unscaled integer rounded to
//!   a double, divided by `10^scale` (see [`exact_decimal_casts`]).
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

use crate::dialect::{
    AthenaDialect, call, check_function, is_portable_regex, literal_to_sql, quote_identifier,
};

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
    let filter = exact_decimal_casts(filter, schema)
        .map_err(|e| NotPushable::new(format!("rewriting decimal casts: {e}")))?;
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
        return Err(NotPushable::new(format!(
            "internal: unknown placeholder {p}"
        )));
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
            let tame = [expr, low, high]
                .iter()
                .all(|e| FloatBounds::of(e, schema).is_some());
            if is_float(&type_of(expr, schema)?) && !tame {
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
        other => not_pushed(format!(
            "{} expressions are not pushed",
            other.variant_name()
        )),
    }
}

fn check_binary(b: &BinaryExpr, schema: &DFSchema) -> Check {
    let BinaryExpr { left, op, right } = b;
    let lt = type_of(left, schema)?;
    let rt = type_of(right, schema)?;
    match op {
        Operator::And | Operator::Or => {}
        _ if (is_float(&lt) || is_float(&rt))
            && is_comparison(*op)
            && FloatBounds::of(left, schema).is_some()
            && FloatBounds::of(right, schema).is_some() => {}
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
        Operator::RegexMatch | Operator::RegexNotMatch => {
            if !is_string(&lt) || !string_value(right).is_some_and(is_portable_regex) {
                return not_pushed("regex match with a pattern that is not a plain literal");
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

fn is_comparison(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

/// Field metadata key holding a float column's [`FloatBounds`] (set by federation for columns
/// computed from exact numbers).
pub(crate) const FLOAT_BOUNDS_KEY: &str = "datafusion_athena.float_bounds";

/// What is known of a *tame* double: never NaN, infinite or `-0.0`, and computed bit for bit
/// alike by Arrow and Trino (IEEE `+ - *` of values converted exactly). Two tame doubles
/// compare alike in both engines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FloatBounds {
    /// No value's magnitude is larger.
    max: f64,
    /// No non-zero value's magnitude is smaller.
    min_nonzero: f64,
    /// Whether a value can be negative.
    negative: bool,
    /// Whether a value can be zero (always `+0.0`).
    zero: bool,
}

impl FloatBounds {
    /// Magnitudes kept away from overflow and underflow.
    const LIMIT: f64 = 1e300;

    fn checked(self) -> Option<Self> {
        (self.max <= Self::LIMIT && self.min_nonzero >= 1.0 / Self::LIMIT).then_some(self)
    }

    /// The bounds of `e`, a float expression over `schema`, when it is tame.
    pub(crate) fn of(e: &Expr, schema: &DFSchema) -> Option<Self> {
        match e {
            Expr::Alias(a) => Self::of(&a.expr, schema),
            Expr::Column(c) => schema
                .field_with_unqualified_name(&c.name)
                .ok()?
                .metadata()
                .get(FLOAT_BOUNDS_KEY)
                .and_then(|text| Self::parse(text)),
            Expr::Literal(ScalarValue::Float64(Some(v)), _) => {
                if !v.is_finite() || (*v == 0.0 && v.is_sign_negative()) {
                    return None;
                }
                Self {
                    max: v.abs(),
                    min_nonzero: if *v == 0.0 { f64::MAX } else { v.abs() },
                    negative: *v < 0.0,
                    zero: *v == 0.0,
                }
                .checked()
            }
            Expr::Cast(Cast { expr: inner, field }) if field.data_type() == &DataType::Float64 => {
                match inner.get_type(schema).ok()? {
                    t if is_signed_int(&t) => Some(Self {
                        max: 9.3e18,
                        min_nonzero: 1.0,
                        negative: true,
                        zero: true,
                    }),
                    // Exact in both engines (see `exact_decimal_casts`).
                    DataType::Decimal128(p, s) if (0..=18).contains(&s) => Self {
                        max: 10_f64.powi(i32::from(p) - i32::from(s)),
                        min_nonzero: 10_f64.powi(-i32::from(s)),
                        negative: true,
                        zero: true,
                    }
                    .checked(),
                    _ => None,
                }
            }
            Expr::Negative(inner) => {
                let b = Self::of(inner, schema)?;
                // -(+0.0) is -0.0.
                (!b.zero).then_some(Self {
                    negative: true,
                    ..b
                })
            }
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (a, b) = (Self::of(left, schema)?, Self::of(right, schema)?);
                match op {
                    // IEEE sums are -0.0 only from -0.0 operands; a non-zero exact sum of
                    // two doubles is at least half the smaller operand's ulp.
                    Operator::Plus | Operator::Minus => Self {
                        max: a.max + b.max,
                        min_nonzero: a.min_nonzero.min(b.min_nonzero) * f64::EPSILON / 2.0,
                        negative: *op == Operator::Minus || a.negative || b.negative,
                        zero: true,
                    }
                    .checked(),
                    // A product is -0.0 when one factor is zero and the other negative.
                    Operator::Multiply if !((a.zero && b.negative) || (b.zero && a.negative)) => {
                        Self {
                            max: a.max * b.max,
                            min_nonzero: a.min_nonzero * b.min_nonzero,
                            negative: a.negative || b.negative,
                            zero: a.zero || b.zero,
                        }
                        .checked()
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The metadata text of these bounds.
    pub(crate) fn to_text(self) -> String {
        format!(
            "{:e},{:e},{},{}",
            self.max, self.min_nonzero, self.negative, self.zero
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(',');
        let b = Self {
            max: parts.next()?.parse().ok()?,
            min_nonzero: parts.next()?.parse().ok()?,
            negative: parts.next()?.parse().ok()?,
            zero: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(b).and_then(Self::checked)
    }
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
            // Ranks of federated window functions (Athena's `bigint`).
            | DataType::UInt64
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

pub(crate) fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float32 | DataType::Float64 | DataType::Float16)
}

pub(crate) fn is_signed_int(t: &DataType) -> bool {
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

/// Decimal digits below which a decimal's unscaled value is exact as a double (`< 2^53`).
const EXACT_DOUBLE_DIGITS: u8 = 15;

/// `e` with every `CAST(d AS DOUBLE)` of a decimal wider than 15 digits written the way Arrow
/// computes it, `CAST(CAST(d * 10^s AS DECIMAL(38,0)) AS DOUBLE) / 10^s`: Arrow rounds the
/// unscaled integer to a double and divides by `10^s` (two roundings), where Trino rounds a
/// wide decimal to the nearest double once. Both round an integer to the nearest double
/// alike, and divide alike. (Narrower decimals are exact as doubles, so both agree already.)
pub(crate) fn exact_decimal_casts(e: Expr, schema: &DFSchema) -> datafusion::error::Result<Expr> {
    e.transform_up(|x| {
        let Expr::Cast(Cast { expr: inner, field }) = &x else {
            return Ok(Transformed::no(x));
        };
        let (DataType::Float64, DataType::Decimal128(p, s)) =
            (field.data_type(), inner.get_type(schema)?)
        else {
            return Ok(Transformed::no(x));
        };
        let Ok(s) = u32::try_from(s) else {
            return Ok(Transformed::no(x));
        };
        if p <= EXACT_DOUBLE_DIGITS || s > 18 {
            return Ok(Transformed::no(x));
        }
        let scale_up = Expr::Literal(ScalarValue::Int64(Some(10_i64.pow(s))), None);
        let unscaled = Expr::Cast(Cast::new(
            Box::new(inner.as_ref().clone() * scale_up),
            DataType::Decimal128(38, 0),
        ));
        let double = Expr::Cast(Cast::new(Box::new(unscaled), DataType::Float64));
        let divisor = Expr::Literal(
            ScalarValue::Float64(Some(10_f64.powi(s.cast_signed()))),
            None,
        );
        Ok(Transformed::yes(double / divisor))
    })
    .map(|t| t.data)
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
        // Wider ones are rewritten by `exact_decimal_casts`; `10^s` is exact up to 10^18.
        (Decimal128(_, s), Float64) => (0..=18).contains(s),
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
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: op @ (Operator::RegexMatch | Operator::RegexNotMatch),
            right,
        }) => {
            // `s ~ 'p'` (DataFusion also simplifies regexp_like to it) is regexp_like in Trino.
            let call = Expr::ScalarFunction(ScalarFunction::new_udf(
                datafusion::functions::regex::regexp_like(),
                vec![prepare(left, values), prepare(right, values)],
            ));
            if *op == Operator::RegexNotMatch {
                Expr::Not(Box::new(call))
            } else {
                call
            }
        }
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
        ast::Expr::IsFalse(inner) => {
            *e = not(call("coalesce", vec![take(inner), bool_value(true)]))
        }
        ast::Expr::IsNotFalse(inner) => *e = call("coalesce", vec![take(inner), bool_value(true)]),
        ast::Expr::IsUnknown(inner) => *e = ast::Expr::IsNull(Box::new(group(take(inner)))),
        ast::Expr::IsNotUnknown(inner) => *e = ast::Expr::IsNotNull(Box::new(group(take(inner)))),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::functions::expr_fn as f;
    use datafusion::logical_expr::{case, cast, ident, lit, not};

    use super::*;

    fn schema() -> DFSchema {
        let schema = Schema::new(vec![
            Field::new("i", DataType::Int32, true),
            Field::new("b", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("Mixed Case", DataType::Utf8, true),
            Field::new("q\"uote", DataType::Utf8, true),
            Field::new("f", DataType::Float64, true),
            Field::new("r", DataType::Float32, true),
            Field::new("p", DataType::Decimal128(10, 2), true),
            Field::new("ok", DataType::Boolean, true),
            Field::new("d", DataType::Date32, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new("bin", DataType::Binary, true),
            Field::new(
                "l",
                DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
                true,
            ),
            Field::new("w", DataType::Decimal128(30, 4), true),
        ]);
        DFSchema::try_from(schema).expect("schema")
    }

    fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
        Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
    }

    fn sql(e: Expr) -> String {
        filter_to_sql(&e, &schema()).unwrap_or_else(|err| panic!("{e}: {err}"))
    }

    fn refused(e: Expr) -> String {
        match filter_to_sql(&e, &schema()) {
            Ok(sql) => panic!("{e} should not be pushed, got {sql}"),
            Err(err) => {
                assert!(!can_push(&e, &schema()));
                err.reason().to_string()
            }
        }
    }

    #[test]
    fn comparisons_and_boolean_logic() {
        assert_eq!(sql(ident("i").gt(lit(5))), "(\"i\" > 5)");
        assert_eq!(sql(ident("i").lt_eq(lit(-5))), "(\"i\" <= (-5))");
        assert_eq!(
            sql(ident("s")
                .eq(lit("a"))
                .and(ident("i").not_eq(lit(1)).or(ident("ok")))),
            "((\"s\" = 'a') AND ((\"i\" <> 1) OR \"ok\"))"
        );
        assert_eq!(sql(not(ident("ok"))), "NOT \"ok\"");
        assert_eq!(sql(not(ident("i").eq(lit(1)))), "NOT (\"i\" = 1)");
        assert_eq!(
            sql(ident("Mixed Case").eq(lit("X"))),
            "(\"Mixed Case\" = 'X')"
        );
        assert_eq!(
            sql(ident("q\"uote").eq(lit("it's"))),
            "(\"q\"\"uote\" = 'it''s')"
        );
        assert_eq!(
            sql(Expr::Column(Column::new(Some("db.tbl"), "i")).eq(lit(1))),
            "(\"i\" = 1)"
        );
    }

    #[test]
    fn null_tests_distinct_from_and_truth_tests() {
        assert_eq!(sql(ident("s").is_null()), "\"s\" IS NULL");
        assert_eq!(sql(ident("s").is_not_null()), "\"s\" IS NOT NULL");
        assert_eq!(
            sql(binary(ident("i"), Operator::IsDistinctFrom, lit(1))),
            "(\"i\" IS DISTINCT FROM 1)"
        );
        assert_eq!(
            sql(binary(
                ident("i"),
                Operator::IsNotDistinctFrom,
                lit(ScalarValue::Int32(None))
            )),
            "(\"i\" IS NOT DISTINCT FROM NULL)"
        );
        assert_eq!(sql(ident("ok").is_true()), "coalesce(\"ok\", false)");
        assert_eq!(
            sql(ident("ok").is_not_true()),
            "NOT coalesce(\"ok\", false)"
        );
        assert_eq!(sql(ident("ok").is_false()), "NOT coalesce(\"ok\", true)");
        assert_eq!(sql(ident("ok").is_not_false()), "coalesce(\"ok\", true)");
        assert_eq!(sql(ident("ok").is_unknown()), "\"ok\" IS NULL");
        assert_eq!(sql(ident("i").gt(lit(1)).is_null()), "(\"i\" > 1) IS NULL");
    }

    #[test]
    fn in_between_case_and_arithmetic() {
        assert_eq!(
            sql(ident("i").in_list(vec![lit(1), lit(2)], false)),
            "\"i\" IN (1, 2)"
        );
        assert_eq!(
            sql(ident("s").in_list(vec![lit("a"), lit("b'")], true)),
            "\"s\" NOT IN ('a', 'b''')"
        );
        assert_eq!(
            sql(ident("i").between(lit(1), lit(10))),
            "(\"i\" BETWEEN 1 AND 10)"
        );
        assert_eq!(
            sql(ident("d").not_between(
                lit(ScalarValue::Date32(Some(0))),
                lit(ScalarValue::Date32(Some(366)))
            )),
            "(\"d\" NOT BETWEEN DATE '1970-01-01' AND DATE '1971-01-02')"
        );
        let c = case(ident("i"))
            .when(lit(1), lit("one"))
            .otherwise(lit("other"))
            .expect("case");
        assert_eq!(
            sql(c.eq(lit("one"))),
            "(CASE \"i\" WHEN 1 THEN 'one' ELSE 'other' END = 'one')"
        );
        assert_eq!(
            sql((ident("b") + lit(1i64)) * lit(2i64)).replace(' ', ""),
            "((\"b\"+1)*2)"
        );
        assert_eq!(sql(ident("b") % lit(2i64)), "(\"b\" % 2)");
        assert_eq!(sql((-ident("b")).gt(lit(0i64))), "((-\"b\") > 0)");
        assert_eq!(sql((-(-ident("b"))).gt(lit(0i64))), "((-(-\"b\")) > 0)");
        assert_eq!(sql(ident("b") - lit(-1i64)), "(\"b\" - (-1))");
        assert_eq!(
            sql(ident("p") * lit(ScalarValue::Decimal128(Some(250), 10, 2))),
            "(\"p\" * DECIMAL '2.50')"
        );
    }

    #[test]
    fn casts_use_trino_type_names() {
        assert_eq!(
            sql(cast(ident("i"), DataType::Int64).gt(lit(1i64))),
            "(CAST(\"i\" AS BIGINT) > 1)"
        );
        assert_eq!(
            sql(cast(ident("i"), DataType::Utf8).eq(lit("1"))),
            "(CAST(\"i\" AS VARCHAR) = '1')"
        );
        assert_eq!(
            sql(cast(ident("i"), DataType::Float64).eq(lit(1.5))),
            "(CAST(\"i\" AS DOUBLE) = 1.5E0)"
        );
        assert_eq!(
            sql(cast(ident("i"), DataType::Float32).eq(lit(1.5f32))),
            "(CAST(\"i\" AS REAL) = REAL '1.5E0')"
        );
        assert_eq!(
            sql(cast(ident("i"), DataType::Int16).eq(lit(1i16))),
            "(CAST(\"i\" AS SMALLINT) = 1)"
        );
        assert_eq!(
            sql(cast(ident("i"), DataType::Int8).eq(lit(1i8))),
            "(CAST(\"i\" AS TINYINT) = 1)"
        );
        assert_eq!(
            sql(
                cast(ident("i"), DataType::Decimal128(12, 2)).eq(lit(ScalarValue::Decimal128(
                    Some(100),
                    12,
                    2
                )))
            ),
            "(CAST(\"i\" AS DECIMAL(12,2)) = DECIMAL '1.00')"
        );
        assert_eq!(
            sql(
                cast(ident("d"), DataType::Timestamp(TimeUnit::Nanosecond, None))
                    .lt(lit(ScalarValue::TimestampNanosecond(Some(0), None)))
            ),
            "(CAST(\"d\" AS TIMESTAMP(9)) < TIMESTAMP '1970-01-01 00:00:00.000000000')"
        );
        assert_eq!(
            sql(cast(ident("ts"), DataType::Date32).eq(lit(ScalarValue::Date32(Some(0))))),
            "(CAST(\"ts\" AS DATE) = DATE '1970-01-01')"
        );
        assert_eq!(
            sql(cast(ident("ok"), DataType::Utf8).eq(lit("true"))),
            "(CAST(\"ok\" AS VARCHAR) = 'true')"
        );
        refused(cast(ident("f"), DataType::Int32).eq(lit(2)));
        refused(cast(ident("s"), DataType::Int32).eq(lit(2)));
        refused(cast(ident("f"), DataType::Utf8).eq(lit("2")));
        refused(
            cast(ident("ts"), DataType::Timestamp(TimeUnit::Second, None))
                .eq(lit(ScalarValue::TimestampSecond(Some(0), None))),
        );
    }

    #[test]
    fn like_patterns_follow_datafusion_escapes() {
        assert_eq!(sql(ident("s").like(lit("a%"))), "\"s\" LIKE 'a%'");
        assert_eq!(sql(ident("s").not_like(lit("_b"))), "\"s\" NOT LIKE '_b'");
        // DataFusion: `\%` is a literal percent sign.
        assert_eq!(
            sql(ident("s").like(lit("100\\%"))),
            "\"s\" LIKE '100\\%' ESCAPE '\\'"
        );
        // `\x` is a plain x; a trailing backslash is a literal backslash.
        assert_eq!(sql(ident("s").like(lit("a\\b"))), "\"s\" LIKE 'ab'");
        assert_eq!(
            sql(ident("s").like(lit("a\\"))),
            "\"s\" LIKE 'a\\\\' ESCAPE '\\'"
        );
        assert_eq!(sql(ident("s").like(lit("it's%"))), "\"s\" LIKE 'it''s%'");
        assert!(refused(ident("s").ilike(lit("a%"))).contains("ILIKE"));
        assert!(refused(ident("s").like(ident("Mixed Case"))).contains("pattern"));
    }

    #[test]
    fn literals_of_every_type() {
        assert_eq!(sql(ident("ok").eq(lit(true))), "(\"ok\" = TRUE)");
        assert_eq!(
            sql(ident("ts").gt(lit(ScalarValue::TimestampMillisecond(Some(1), None)))),
            "(\"ts\" > TIMESTAMP '1970-01-01 00:00:00.001')"
        );
        assert_eq!(
            sql(ident("bin").eq(lit(ScalarValue::Binary(Some(vec![0, 255]))))),
            "(\"bin\" = X'00FF')"
        );
        assert_eq!(
            sql(ident("s").eq(lit("line\nbreak"))),
            "(\"s\" = ('line' || chr(10) || 'break'))"
        );
        assert_eq!(
            sql(ident("s").eq(lit("back\\slash 'q' \"dq\" ü"))),
            "(\"s\" = 'back\\slash ''q'' \"dq\" ü')"
        );
    }

    #[test]
    fn functions_map_to_trino() {
        let s = || ident("s");
        assert_eq!(sql(f::lower(s()).eq(lit("a"))), "(lower(\"s\") = 'a')");
        assert_eq!(sql(f::upper(s()).eq(lit("A"))), "(upper(\"s\") = 'A')");
        assert_eq!(
            sql(f::character_length(s()).eq(lit(1))),
            "(length(\"s\") = 1)"
        );
        assert_eq!(
            sql(f::substr(s(), lit(2i64)).eq(lit("b"))),
            "(substr(\"s\", 2) = 'b')"
        );
        assert_eq!(
            sql(f::substring(s(), lit(1i64), lit(3i64)).eq(lit("abc"))),
            "(substr(\"s\", 1, 3) = 'abc')"
        );
        assert_eq!(
            sql(f::btrim(vec![s()]).eq(lit("a"))),
            "(TRIM(BOTH ' ' FROM \"s\") = 'a')"
        );
        assert_eq!(
            sql(f::ltrim(vec![s(), lit("x'")]).eq(lit("a"))),
            "(TRIM(LEADING 'x''' FROM \"s\") = 'a')"
        );
        assert_eq!(
            sql(f::rtrim(vec![s()]).eq(lit("a"))),
            "(TRIM(TRAILING ' ' FROM \"s\") = 'a')"
        );
        assert_eq!(
            sql(f::concat(vec![s(), ident("Mixed Case")]).eq(lit("ab"))),
            "(concat(coalesce(\"s\", ''), coalesce(\"Mixed Case\", '')) = 'ab')"
        );
        assert_eq!(
            sql(f::replace(s(), lit("a"), lit("b")).eq(lit("b"))),
            "(replace(\"s\", 'a', 'b') = 'b')"
        );
        assert_eq!(
            sql(f::starts_with(s(), lit("a"))),
            "starts_with(\"s\", 'a')"
        );
        assert_eq!(
            sql(f::strpos(s(), lit("a")).eq(lit(1))),
            "(strpos(\"s\", 'a') = 1)"
        );
        assert_eq!(sql(f::reverse(s()).eq(lit("a"))), "(reverse(\"s\") = 'a')");
        assert_eq!(sql(f::abs(ident("b")).eq(lit(1i64))), "(abs(\"b\") = 1)");
        assert_eq!(sql(f::ceil(ident("f")).eq(lit(2.0))), "(ceil(\"f\") = 2E0)");
        assert_eq!(
            sql(f::power(ident("f"), lit(2.0)).eq(lit(4.0))),
            "(power(\"f\", 2E0) = 4E0)"
        );
        assert_eq!(sql(f::ln(ident("f")).eq(lit(1.0))), "(ln(\"f\") = 1E0)");
        assert_eq!(
            sql(f::date_trunc(lit("MONTH"), ident("ts"))
                .eq(lit(ScalarValue::TimestampMillisecond(Some(0), None)))),
            "(date_trunc('month', \"ts\") = TIMESTAMP '1970-01-01 00:00:00.000')"
        );
        assert_eq!(
            sql(f::date_part(lit("year"), ident("d")).eq(lit(2020))),
            "(EXTRACT(YEAR FROM \"d\") = 2020)"
        );
        assert_eq!(
            sql(f::date_part(lit("doy"), ident("ts")).eq(lit(1))),
            "(EXTRACT(DOY FROM \"ts\") = 1)"
        );
        assert_eq!(
            sql(f::coalesce(vec![s(), lit("x")]).eq(lit("x"))),
            "(coalesce(\"s\", 'x') = 'x')"
        );
        assert_eq!(
            sql(f::nullif(ident("i"), lit(0)).is_null()),
            "nullif(\"i\", 0) IS NULL"
        );
        assert_eq!(
            sql(f::regexp_like(s(), lit("^a(b|c)+"), None)),
            "regexp_like(\"s\", '^a(b|c)+')"
        );
        assert_eq!(
            sql(binary(s(), Operator::RegexMatch, lit("a|b"))),
            "regexp_like(\"s\", 'a|b')"
        );
        assert_eq!(
            sql(binary(s(), Operator::RegexNotMatch, lit("a"))),
            "NOT regexp_like(\"s\", 'a')"
        );
    }

    #[test]
    fn semantics_that_differ_are_not_pushed() {
        // floats: NaN and -0.0 order differently
        assert!(refused(ident("f").gt(lit(1.0))).contains("floats"));
        refused(ident("f").between(lit(1.0), lit(2.0)));
        refused(ident("f").eq(lit(0.0)));
        refused(ident("f").eq(ident("f")));
        refused(ident("f").eq(lit(f64::NAN)));
        assert_eq!(sql(ident("f").eq(lit(2.5))), "(\"f\" = 2.5E0)");
        assert_eq!(
            sql(ident("f").in_list(vec![lit(1.5), lit(-2.0)], false)),
            "\"f\" IN (1.5E0, (-2E0))"
        );
        // decimal division scales differ
        refused(ident("p") / lit(ScalarValue::Decimal128(Some(200), 10, 2)));
        // functions with different semantics or no mapping
        assert!(refused(f::substr(ident("s"), lit(0i64)).eq(lit("a"))).contains("substr"));
        refused(f::substr(ident("s"), ident("i")).eq(lit("a")));
        refused(f::round(vec![ident("f")]).eq(lit(1.0)));
        refused(f::sqrt(ident("f")).eq(lit(1.0)));
        refused(f::date_part(lit("dow"), ident("d")).eq(lit(1)));
        refused(f::date_trunc(lit("millisecond"), ident("ts")).is_null());
        refused(f::regexp_like(ident("s"), lit("\\d+"), None));
        refused(f::regexp_like(ident("s"), lit("a$"), None));
        refused(f::regexp_like(ident("s"), lit("a"), Some(lit("i"))));
        refused(binary(ident("s"), Operator::RegexIMatch, lit("a")));
        refused(binary(ident("s"), Operator::RegexMatch, lit("a.b")));
        assert!(refused(f::initcap(ident("s")).eq(lit("A"))).contains("no Athena mapping"));
        // values Athena cannot spell, columns it cannot compare
        refused(ident("b").eq(lit(ScalarValue::UInt64(Some(u64::MAX)))));
        refused(ident("l").is_null());
        refused(ident("missing").eq(lit(1)));
        refused(Expr::SimilarTo(Like::new(
            false,
            Box::new(ident("s")),
            Box::new(lit("a")),
            None,
            false,
        )));
        refused(ident("i").gt(Expr::ScalarVariable(
            Arc::new(Field::new("v", DataType::Int32, true)),
            vec!["@v".into()],
        )));
    }

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
        assert!(bad.reason().contains("column"), "{bad}");
        assert!(AthenaTableName::new("", "t").to_sql().is_err());
    }

    #[test]
    fn parenthesise_only_when_needed() {
        assert_eq!(parenthesise("(a) OR (b)"), "((a) OR (b))");
        assert_eq!(parenthesise("(a OR b)"), "(a OR b)");
        assert_eq!(parenthesise("(')' = \"(\")"), "(')' = \"(\")");
        assert_eq!(parenthesise("x IS NULL"), "(x IS NULL)");
    }

    #[test]
    fn tame_doubles_compare_in_athena() {
        let i = || cast(ident("i"), DataType::Float64);
        let half_p = || lit(0.5) * cast(ident("p"), DataType::Float64);
        // Integers and decimals as doubles, scaled by finite literals: never NaN nor -0.0.
        assert_eq!(sql(i().gt(lit(1.5))), "(CAST(\"i\" AS DOUBLE) > 1.5E0)");
        assert_eq!(
            sql(i().lt_eq(half_p() + i())),
            "(CAST(\"i\" AS DOUBLE) <= ((5E-1 * CAST(\"p\" AS DOUBLE)) + CAST(\"i\" AS DOUBLE)))"
        );
        assert!(sql(i().between(lit(1.0), half_p())).contains("BETWEEN"));
        assert!(sql(i().eq(half_p())).contains(" = "));
        // A float column can hold NaN.
        assert!(refused(ident("f").gt(i())).contains("floats"));
        assert!(refused(ident("f").between(lit(1.0), lit(2.0))).contains("floats"));
        // -0.5 * 0.0 is -0.0, which DataFusion orders below 0.0 and Trino does not.
        assert!(refused(i().gt(lit(-0.5) * i())).contains("floats"));
        assert!(refused(i().gt(Expr::Negative(Box::new(i())))).contains("floats"));
        // Divisions make infinities; REAL values are not followed.
        assert!(refused(i().gt(i() / lit(3.0))).contains("floats"));
        assert!(refused(i().gt(cast(ident("r"), DataType::Float64))).contains("floats"));
        // Products that could overflow to infinity are not tame.
        let big = || lit(1e200) * i();
        assert!(refused(big().gt(big() * big())).contains("floats"));
    }

    #[test]
    fn wide_decimals_become_doubles_as_arrow_computes_them() {
        assert_eq!(
            sql(cast(ident("w"), DataType::Float64).gt(lit(1.5))),
            "((CAST(CAST((\"w\" * 10000) AS DECIMAL(38,0)) AS DOUBLE) / 1E4) > 1.5E0)"
        );
        // Ten digits are exact as a double already.
        assert_eq!(
            sql(cast(ident("p"), DataType::Float64).gt(lit(1.5))),
            "(CAST(\"p\" AS DOUBLE) > 1.5E0)"
        );
    }

    /// The rewritten cast, run by DataFusion (as the emulator does), is bit for bit Arrow's
    /// cast, also where the unscaled value is beyond 2^53 and Arrow rounds twice.
    #[tokio::test]
    async fn the_rewritten_decimal_cast_equals_arrows() {
        use datafusion::arrow::array::{AsArray, Decimal128Array, RecordBatch};
        use datafusion::arrow::datatypes::Float64Type;
        use datafusion::prelude::SessionContext;

        let unscaled = [
            0_i128,
            1,
            -1,
            12_345_678_901_234_567_890_123_456_789,
            -98_765_432_109_876_543_210_987,
            (1 << 53) + 1,
            (1 << 60) + 12_345,
            999_999_999_999_999_999_999_999_999_999,
        ];
        let values = Decimal128Array::from(unscaled.to_vec())
            .with_precision_and_scale(30, 4)
            .expect("decimal");
        let table = Schema::new(vec![Field::new("w", DataType::Decimal128(30, 4), true)]);
        let batch = RecordBatch::try_new(Arc::new(table), vec![Arc::new(values)]).expect("batch");
        let ctx = SessionContext::new();
        ctx.register_batch("t", batch).expect("register");
        let rewritten = filter_to_sql(&cast(ident("w"), DataType::Float64).gt(lit(1.5)), &schema())
            .expect("sql");
        let rewritten = rewritten
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(" > 1.5E0)"))
            .unwrap_or_else(|| panic!("{rewritten}"));
        let query = format!("SELECT CAST(\"w\" AS DOUBLE), {rewritten} FROM t");
        let batches = ctx
            .sql(&query)
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        let mut compared = 0;
        for b in &batches {
            let (direct, pushed) = (
                b.column(0).as_primitive::<Float64Type>(),
                b.column(1).as_primitive::<Float64Type>(),
            );
            for row in 0..b.num_rows() {
                assert_eq!(
                    direct.value(row).to_bits(),
                    pushed.value(row).to_bits(),
                    "{query}: row {row}"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, unscaled.len());
    }
}
