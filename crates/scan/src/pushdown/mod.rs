//! Which DataFusion filters Athena evaluates with the same answers, and their Athena SQL.
//!
//! - `rules`: what is pushable (the allow-list walked by [`check_pushable`]);
//! - `float_bounds`: which doubles are *tame* (compare alike in both engines);
//! - `sql`: writing a checked filter as Athena SQL.
//!
//! A scan's whole statement is written beside its plan node (`statement.rs`).
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

mod float_bounds;
mod rules;
mod sql;
#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::sql::sqlparser::ast::visit_expressions_mut;
use datafusion::sql::unparser::Unparser;

use crate::dialect::AthenaDialect;
use rules::check;
use sql::{finish, prepare};

pub(crate) use float_bounds::{FLOAT_BOUNDS_KEY, FloatBounds};
pub(crate) use sql::exact_decimal_casts;

/// Why a filter stays in DataFusion instead of going to Athena.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPushable {
    reason: String,
}

impl NotPushable {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
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

pub(crate) type Check = Result<(), NotPushable>;

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

pub(super) fn not_pushed<T>(reason: impl Into<String>) -> Result<T, NotPushable> {
    Err(NotPushable::new(reason))
}

pub(super) fn type_of(expr: &Expr, schema: &DFSchema) -> Result<DataType, NotPushable> {
    expr.get_type(schema)
        .map_err(|e| NotPushable::new(format!("type of {expr}: {e}")))
}
