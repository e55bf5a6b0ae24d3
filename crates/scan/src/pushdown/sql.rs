//! Writing a checked filter as Athena SQL: columns and literals become placeholders, the
//! expression is unparsed in the Athena dialect, then the placeholders are spelled out.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr::{InList, Like, ScalarFunction};
use datafusion::logical_expr::{Between, BinaryExpr, Case, Cast, Expr, ExprSchemable, Operator};
use datafusion::sql::sqlparser::ast::{self, Ident, UnaryOperator};

use super::rules::string_value;
use crate::dialect::{call, literal_to_sql, quote_identifier};

/// Decimal digits below which a decimal's unscaled value is exact as a double (`< 2^53`).
pub(super) const EXACT_DOUBLE_DIGITS: u8 = 15;

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

/// Placeholder ids start with this; nothing else in the unparsed SQL comes from user data.
pub(super) const PLACEHOLDER: &str = "$athena_";

/// Replaces every column and literal with a placeholder whose final text is in `values`, and
/// rewrites LIKE patterns into Trino form. `expr` must have passed [`check`].
pub(super) fn prepare(expr: &Expr, values: &mut Vec<String>) -> Expr {
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
pub(super) fn trino_like_pattern(pattern: &str) -> (String, bool) {
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
pub(super) fn finish(e: &mut ast::Expr, values: &[String]) -> Result<(), String> {
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

pub(super) fn take(b: &mut ast::Expr) -> ast::Expr {
    std::mem::replace(b, bool_value(false))
}

pub(super) fn bool_value(b: bool) -> ast::Expr {
    ast::Expr::value(ast::Value::Boolean(b))
}

pub(super) fn not(e: ast::Expr) -> ast::Expr {
    ast::Expr::UnaryOp {
        op: UnaryOperator::Not,
        expr: Box::new(group(e)),
    }
}

/// Operands that print as one unit in any position.
pub(super) fn is_atomic(e: &ast::Expr) -> bool {
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

pub(super) fn group(e: ast::Expr) -> ast::Expr {
    if is_atomic(&e) {
        e
    } else {
        ast::Expr::Nested(Box::new(e))
    }
}

pub(super) fn wrap(e: &mut ast::Expr) {
    if !is_atomic(e) {
        let inner = std::mem::replace(e, bool_value(false));
        *e = ast::Expr::Nested(Box::new(inner));
    }
}
