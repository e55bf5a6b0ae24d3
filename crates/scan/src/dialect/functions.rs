//! The DataFusion scalar functions that have a Trino function with the same answers.
//!
//! The list is explicit: a function that is not here, or whose arguments fall outside what is
//! checked here, stays in DataFusion. Left out on purpose, with the difference that keeps them
//! out:
//! - `sqrt`: DataFusion fails on a negative argument where Trino returns NaN.
//! - `round`: Trino rounds through Java's `Math.round`, which saturates at 2^63.
//! - `lpad` / `rpad`: Trino rejects an empty pad string and counts differently on overflow.
//! - `log(base, x)`, `signum`, `trunc`: argument order or result types differ.
//! - `date_part('dow' | 'second' | 'epoch' ...)`: Sunday-first days, fractional seconds.
//! - `regexp_like` patterns with `.`, `$`, `{` or a class shorthand (`\d`, `\w`, `\s`): Java
//!   regexes treat line terminators and Unicode digits differently from Rust's `regex`.
//! - `upper`/`lower` are pushed: Trino maps code points one to one (simple case mapping) where
//!   Rust uses full case mapping, which differs only for a handful of characters such as `ß`
//!   (upper) and `İ` (lower); see [`PUSHED_FUNCTIONS`].

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::sql::sqlparser::ast::{
    self, DateTimeField, ExtractSyntax, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, TrimWhereField,
};
use datafusion::sql::unparser::Unparser;

use crate::int_range::cannot_overflow;
use crate::type_class::{is_float, is_number, is_string};

/// The DataFusion function names pushed to Athena, with the Trino SQL each becomes.
pub const PUSHED_FUNCTIONS: &[(&str, &str)] = &[
    ("lower", "lower(s)"),
    ("upper", "upper(s)"),
    ("character_length", "length(s)"),
    (
        "substr",
        "substr(s, start[, len]) for literal start >= 1, len >= 0",
    ),
    ("btrim", "TRIM(BOTH ' ' FROM s) / TRIM(BOTH chars FROM s)"),
    ("ltrim", "TRIM(LEADING ...)"),
    ("rtrim", "TRIM(TRAILING ...)"),
    (
        "concat",
        "concat(coalesce(a, ''), ...) (DataFusion skips NULLs)",
    ),
    ("replace", "replace(s, from, to)"),
    ("starts_with", "starts_with(s, prefix)"),
    ("strpos", "strpos(s, sub)"),
    ("reverse", "reverse(s)"),
    ("abs", "abs(x)"),
    ("ceil", "ceil(x) on doubles"),
    ("floor", "floor(x) on doubles"),
    ("power", "power(x, y) on doubles"),
    ("ln", "ln(x)"),
    ("log10", "log10(x)"),
    ("exp", "exp(x)"),
    ("date_trunc", "date_trunc('unit', ts) for second..year"),
    (
        "date_part",
        "EXTRACT(field FROM x) for year, quarter, month, week, day, doy, hour, minute",
    ),
    ("coalesce", "coalesce(a, b, ...)"),
    ("nullif", "nullif(a, b)"),
    ("regexp_like", "regexp_like(s, pattern) for plain patterns"),
];

const DATE_TRUNC_UNITS: &[&str] = &[
    "second", "minute", "hour", "day", "week", "month", "quarter", "year",
];

/// Checks that a call of DataFusion function `name` on `args` can be sent to Athena with the
/// same answers. Arguments themselves are checked by the caller.
pub(crate) fn check_function(name: &str, args: &[Expr], schema: &DFSchema) -> Result<(), String> {
    let types = args
        .iter()
        .map(|a| a.get_type(schema).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let all = |pred: fn(&DataType) -> bool| types.iter().all(pred);
    let arity = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{name} with {} arguments is not pushed",
                args.len()
            ))
        }
    };
    match name {
        "character_length" | "reverse" => {
            arity(args.len() == 1)?;
            require(all(is_string), name)
        }
        // Trino maps case one code point at a time (`ß` stays `ß`, no final sigma); DataFusion
        // uses Unicode's full mappings (`ß` -> `SS`). Only ASCII literals agree for sure.
        "lower" | "upper" => {
            arity(args.len() == 1)?;
            require(
                string_literal(&args[0]).is_some_and(|s| s.is_ascii()),
                "lower/upper of anything but an ASCII literal",
            )
        }
        "replace" => {
            arity(args.len() == 3)?;
            require(all(is_string), name)
        }
        "starts_with" | "strpos" => {
            arity(args.len() == 2)?;
            require(all(is_string), name)
        }
        "concat" => {
            arity(!args.is_empty())?;
            require(all(is_string), name)
        }
        "substr" => {
            arity(args.len() == 2 || args.len() == 3)?;
            require(is_string(&types[0]), name)?;
            require(
                int_literal(&args[1]).is_some_and(|v| v >= 1),
                "substr start",
            )?;
            if let Some(len) = args.get(2) {
                require(int_literal(len).is_some_and(|v| v >= 0), "substr length")?;
            }
            Ok(())
        }
        "btrim" | "ltrim" | "rtrim" => {
            arity(args.len() == 1 || args.len() == 2)?;
            require(is_string(&types[0]), name)?;
            if let Some(chars) = args.get(1) {
                require(string_literal(chars).is_some(), "trim characters")?;
            }
            Ok(())
        }
        // abs of the smallest integer overflows: Trino fails where DataFusion may not.
        "abs" => {
            arity(args.len() == 1)?;
            require(is_number(&types[0]), name)?;
            let call = Expr::ScalarFunction(ScalarFunction::new_udf(
                datafusion::functions::math::abs(),
                args.to_vec(),
            ));
            require(
                !types[0].is_integer() || cannot_overflow(&call, schema),
                "abs of an integer that may be the smallest of its type",
            )
        }
        "ceil" | "floor" | "ln" | "log10" | "exp" => {
            arity(args.len() == 1)?;
            require(all(is_float), name)
        }
        "power" => {
            arity(args.len() == 2)?;
            require(all(is_float), name)
        }
        "date_trunc" => {
            arity(args.len() == 2)?;
            let unit = string_literal(&args[0]).map(str::to_ascii_lowercase);
            require(
                unit.is_some_and(|u| DATE_TRUNC_UNITS.contains(&u.as_str())),
                "date_trunc unit",
            )?;
            require(
                matches!(types[1], DataType::Timestamp(_, None)),
                "date_trunc argument",
            )
        }
        "date_part" => {
            arity(args.len() == 2)?;
            require(
                string_literal(&args[0]).and_then(extract_field).is_some(),
                "date_part field",
            )?;
            require(
                matches!(types[1], DataType::Date32 | DataType::Timestamp(_, None)),
                "date_part argument",
            )
        }
        "coalesce" => {
            arity(!args.is_empty())?;
            Ok(())
        }
        "nullif" => {
            arity(args.len() == 2)?;
            // Equality on floats differs (NaN, -0.0): see the pushdown module.
            require(!types.iter().any(is_float), "nullif on floats")
        }
        "regexp_like" => {
            arity(args.len() == 2)?;
            require(is_string(&types[0]), name)?;
            require(
                string_literal(&args[1]).is_some_and(is_portable_regex),
                "regexp_like pattern",
            )
        }
        other => Err(format!("function {other} has no Athena mapping")),
    }
}

fn require(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{what} is not pushed"))
    }
}

/// Writes the Trino form of a pushed function, or `None` to let the unparser write
/// `name(args)` unchanged.
pub(crate) fn function_to_sql(
    unparser: &Unparser<'_>,
    name: &str,
    args: &[Expr],
) -> datafusion::common::Result<Option<ast::Expr>> {
    let sql_args = || {
        args.iter()
            .map(|a| unparser.expr_to_sql(a))
            .collect::<datafusion::common::Result<Vec<_>>>()
    };
    let expr = match name {
        "character_length" => call("length", sql_args()?),
        "btrim" | "ltrim" | "rtrim" => {
            let mut sql = sql_args()?;
            let what = if sql.len() > 1 {
                sql.remove(1)
            } else {
                ast::Expr::value(ast::Value::SingleQuotedString(" ".to_string()))
            };
            let trim_where = match name {
                "ltrim" => TrimWhereField::Leading,
                "rtrim" => TrimWhereField::Trailing,
                _ => TrimWhereField::Both,
            };
            ast::Expr::Trim {
                trim_where: Some(trim_where),
                trim_what: Some(Box::new(what)),
                expr: Box::new(sql.remove(0)),
                trim_characters: None,
            }
        }
        "concat" => {
            let empty = || ast::Expr::value(ast::Value::SingleQuotedString(String::new()));
            let parts: Vec<ast::Expr> = sql_args()?
                .into_iter()
                .map(|a| call("coalesce", vec![a, empty()]))
                .collect();
            if parts.len() == 1 {
                parts.into_iter().next().unwrap_or_else(empty)
            } else {
                call("concat", parts)
            }
        }
        "date_trunc" => {
            let unit = args
                .first()
                .and_then(string_literal)
                .map(str::to_ascii_lowercase);
            let Some(unit) = unit else {
                return Ok(None);
            };
            let mut sql = sql_args()?;
            sql[0] = ast::Expr::value(ast::Value::SingleQuotedString(unit));
            call("date_trunc", sql)
        }
        "date_part" => {
            let Some(field) = args
                .first()
                .and_then(string_literal)
                .and_then(extract_field)
            else {
                return Ok(None);
            };
            let Some(arg) = args.get(1) else {
                return Ok(None);
            };
            let arg = unparser.expr_to_sql(arg)?;
            ast::Expr::Extract {
                field,
                syntax: ExtractSyntax::From,
                expr: Box::new(arg),
            }
        }
        "lower" | "upper" | "substr" | "replace" | "starts_with" | "strpos" | "reverse" | "abs"
        | "ceil" | "floor" | "power" | "ln" | "log10" | "exp" | "coalesce" | "nullif"
        | "regexp_like" => call(name, sql_args()?),
        _ => return Ok(None),
    };
    Ok(Some(expr))
}

fn extract_field(unit: &str) -> Option<DateTimeField> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "year" => DateTimeField::Year,
        "quarter" => DateTimeField::Quarter,
        "month" => DateTimeField::Month,
        "week" => DateTimeField::Week(None),
        "day" => DateTimeField::Day,
        "hour" => DateTimeField::Hour,
        "minute" => DateTimeField::Minute,
        "doy" => DateTimeField::Doy,
        _ => return None,
    })
}

/// A plain function call `name(args)`.
pub(crate) fn call(name: &str, args: Vec<ast::Expr>) -> ast::Expr {
    ast::Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// Regex patterns whose meaning is the same in Rust's `regex` and Trino's (Java-syntax)
/// engine: literal letters, digits and spaces, escaped ASCII punctuation, `^`, `|`, groups,
/// `*`, `+`, `?` and bracket classes without shorthands.
pub(crate) fn is_portable_regex(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) if next.is_ascii_punctuation() => {}
                _ => return false,
            },
            '^' | '|' | '(' | ')' | '*' | '+' | '?' | '[' | ']' | '-' | ' ' | '_' | ',' | ':'
            | '/' | '@' | '#' | '=' | '<' | '>' | '!' | '%' | '&' | '\'' | '"' | ';' | '~' => {}
            c if c.is_alphanumeric() => {}
            _ => return false,
        }
    }
    // `(?` starts a flag group or look-around, which Rust and Java spell differently.
    !pattern.contains("(?") && !pattern.contains("[[") && !pattern.contains("&&")
}

fn string_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Some(s),
        _ => None,
    }
}

fn int_literal(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Literal(v, _) if v.data_type().is_integer() && !v.is_null() => {
            match v.cast_to(&DataType::Int64).ok()? {
                ScalarValue::Int64(v) => v,
                _ => None,
            }
        }
        _ => None,
    }
}
