//! What is pushable: the allow-list of expressions Athena evaluates with DataFusion's answers.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr::{InList, Like, ScalarFunction};
use datafusion::logical_expr::{Between, BinaryExpr, Case, Cast, Expr, Operator};

use super::float_bounds::FloatBounds;
use super::{Check, NotPushable, not_pushed, type_of};
use crate::dialect::{check_function, is_portable_regex, literal_to_sql, quote_identifier};
use crate::int_range::cannot_overflow;
use crate::type_class::{is_float, is_number, is_signed_int, is_string};

pub(super) fn check(expr: &Expr, schema: &DFSchema) -> Check {
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
            if t.is_integer() && !cannot_overflow(expr, schema) {
                return not_pushed(INTEGER_OVERFLOW);
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

/// Why integer `+ - *` and negation that could overflow stay local: on overflow DataFusion
/// wraps around where Trino fails the query (`NUMERIC_VALUE_OUT_OF_RANGE`), so pushing them
/// could turn an answer into an Athena error.
const INTEGER_OVERFLOW: &str =
    "integer arithmetic that may overflow (DataFusion wraps around, Trino fails the query)";

pub(super) fn check_binary(b: &BinaryExpr, schema: &DFSchema) -> Check {
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
            let whole = Expr::BinaryExpr(b.clone());
            if lt.is_integer() && rt.is_integer() && !cannot_overflow(&whole, schema) {
                return not_pushed(INTEGER_OVERFLOW);
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

pub(super) fn is_comparison(op: Operator) -> bool {
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

pub(super) fn check_like(like: &Like, schema: &DFSchema) -> Check {
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
pub(super) fn is_athena_column_type(t: &DataType) -> bool {
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

pub(super) fn is_plain_float_literal(e: &Expr) -> bool {
    match e {
        Expr::Literal(ScalarValue::Float64(Some(v)), _) => v.is_finite() && *v != 0.0,
        Expr::Literal(ScalarValue::Float32(Some(v)), _) => v.is_finite() && *v != 0.0,
        _ => false,
    }
}

pub(super) fn unit_rank(u: &TimeUnit) -> u8 {
    match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    }
}

/// Casts whose result is the same value in Arrow and in Trino.
pub(super) fn is_exact_cast(from: &DataType, to: &DataType) -> bool {
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

pub(super) fn string_value(e: &Expr) -> Option<&str> {
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
