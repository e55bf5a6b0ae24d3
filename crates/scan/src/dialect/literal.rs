//! Athena (Trino) spellings of identifiers and literal values.
//!
//! These functions write SQL text directly instead of going through sqlparser's `Display`:
//! sqlparser leaves an already doubled quote (`''`, `""`) or a backslash-escaped quote alone
//! when it prints a quoted string, so the value `\' OR 1=1 --` would leave the literal early.
//! Here every quote is doubled, always.

use chrono::{Datelike, NaiveDateTime};
use datafusion::arrow::datatypes::{
    Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, DecimalType, TimeUnit,
};
use datafusion::arrow::temporal_conversions::{
    date32_to_datetime, timestamp_ms_to_datetime, timestamp_ns_to_datetime,
    timestamp_s_to_datetime, timestamp_us_to_datetime,
};
use datafusion::common::ScalarValue;

/// Largest precision of an Athena `DECIMAL`.
const MAX_DECIMAL_PRECISION: u8 = 38;

/// Days from 1970-01-01 to 0001-01-01 and to 9999-12-31: the dates a `DATE '...'` literal spells.
const MIN_DATE32: i32 = -719_162;
const MAX_DATE32: i32 = 2_932_896;

/// Quotes `name` as an Athena identifier: always in double quotes, inner `"` doubled.
///
/// Returns `None` for names Athena cannot spell: the empty name and names holding control
/// characters (line breaks, NUL, ...). Athena folds unquoted names to lower case, so quoting
/// every name is what keeps `"Name"` and `name` apart.
///
/// ```
/// use datafusion_athena_scan::quote_identifier;
/// assert_eq!(quote_identifier("Order \"Id\"").as_deref(), Some("\"Order \"\"Id\"\"\""));
/// assert_eq!(quote_identifier(""), None);
/// ```
pub fn quote_identifier(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().any(is_unsafe_char) {
        return None;
    }
    Some(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// Spells `value` as an Athena `varchar` expression.
///
/// Text goes in single quotes with inner `'` doubled; a backslash is an ordinary character in
/// Trino. Control characters (and U+2028/U+2029) are written as `chr(n)` joined with `||`, so
/// the SQL text stays on one line and no byte of the value can end the literal early.
///
/// ```
/// use datafusion_athena_scan::quote_string;
/// assert_eq!(quote_string("it's"), "'it''s'");
/// assert_eq!(quote_string("a\nb"), "('a' || chr(10) || 'b')");
/// ```
pub fn quote_string(value: &str) -> String {
    if !value.chars().any(is_unsafe_char) {
        return quote_plain(value);
    }
    let mut parts: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in value.chars() {
        if is_unsafe_char(c) {
            if !run.is_empty() {
                parts.push(quote_plain(&run));
                run.clear();
            }
            parts.push(format!("chr({})", u32::from(c)));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        parts.push(quote_plain(&run));
    }
    format!("({})", parts.join(" || "))
}

/// Characters that are never written raw into SQL text.
fn is_unsafe_char(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

fn quote_plain(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Spells a DataFusion literal as Athena (Trino) SQL with the same type family and value.
///
/// Returns `None` when Athena has no literal with exactly this value, and the expression
/// holding it must then be evaluated by DataFusion: NaN and infinite floats, unsigned values
/// above `BIGINT`, decimals with more than 38 digits or a negative scale, dates outside years
/// 1..=9999, times, intervals, durations and nested values.
///
/// | DataFusion value | Athena SQL |
/// | --- | --- |
/// | `Int64(5)`, `Int64(-5)` | `5`, `(-5)` (`integer` or `bigint` by size, like Athena) |
/// | `Float64(1.5)` | `1.5E0` (a bare `1.5` is a `decimal` in Trino) |
/// | `Float32(1.5)` | `REAL '1.5E0'` |
/// | `Decimal128(1230, 10, 2)` | `DECIMAL '12.30'` |
/// | `Utf8("it's")` | `'it''s'` (see [`quote_string`]) |
/// | `Binary([1, 2])` | `X'0102'` |
/// | `Date32` | `DATE '2020-01-31'` |
/// | `TimestampMillisecond(.., None)` | `TIMESTAMP '2020-01-31 12:34:56.789'` |
/// | `TimestampMicrosecond(.., Some(tz))` | `TIMESTAMP '2020-01-31 12:34:56.789000 UTC'` |
///
/// Timestamps keep the fractional digits of their unit (0, 3, 6 or 9), which gives the literal
/// that precision in Trino, so no digit is rounded away.
pub fn literal_to_sql(value: &ScalarValue) -> Option<String> {
    if value.is_null() {
        return match value {
            // Typed NULLs of types Athena lacks stay local like their non-NULL values.
            ScalarValue::Null
            | ScalarValue::Boolean(_)
            | ScalarValue::Int8(_)
            | ScalarValue::Int16(_)
            | ScalarValue::Int32(_)
            | ScalarValue::Int64(_)
            | ScalarValue::UInt8(_)
            | ScalarValue::UInt16(_)
            | ScalarValue::UInt32(_)
            | ScalarValue::UInt64(_)
            | ScalarValue::Float32(_)
            | ScalarValue::Float64(_)
            | ScalarValue::Decimal32(..)
            | ScalarValue::Decimal64(..)
            | ScalarValue::Decimal128(..)
            | ScalarValue::Decimal256(..)
            | ScalarValue::Utf8(_)
            | ScalarValue::LargeUtf8(_)
            | ScalarValue::Utf8View(_)
            | ScalarValue::Binary(_)
            | ScalarValue::LargeBinary(_)
            | ScalarValue::BinaryView(_)
            | ScalarValue::FixedSizeBinary(..)
            | ScalarValue::Date32(_)
            | ScalarValue::TimestampSecond(..)
            | ScalarValue::TimestampMillisecond(..)
            | ScalarValue::TimestampMicrosecond(..)
            | ScalarValue::TimestampNanosecond(..) => Some("NULL".to_string()),
            _ => None,
        };
    }
    match value {
        ScalarValue::Boolean(Some(b)) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        ScalarValue::Int8(Some(v)) => Some(integer(i64::from(*v))),
        ScalarValue::Int16(Some(v)) => Some(integer(i64::from(*v))),
        ScalarValue::Int32(Some(v)) => Some(integer(i64::from(*v))),
        ScalarValue::Int64(Some(v)) => Some(integer(*v)),
        ScalarValue::UInt8(Some(v)) => Some(integer(i64::from(*v))),
        ScalarValue::UInt16(Some(v)) => Some(integer(i64::from(*v))),
        ScalarValue::UInt32(Some(v)) => Some(integer(i64::from(*v))),
        ScalarValue::UInt64(Some(v)) => i64::try_from(*v).ok().map(integer),
        ScalarValue::Float64(Some(v)) => double(*v),
        ScalarValue::Float32(Some(v)) => v
            .is_finite()
            .then(|| format!("REAL '{}'", exponent_form(format!("{v:e}")))),
        ScalarValue::Decimal32(Some(v), p, s) => {
            decimal(*p, *s, || Decimal32Type::format_decimal(*v, *p, *s))
        }
        ScalarValue::Decimal64(Some(v), p, s) => {
            decimal(*p, *s, || Decimal64Type::format_decimal(*v, *p, *s))
        }
        ScalarValue::Decimal128(Some(v), p, s) => {
            decimal(*p, *s, || Decimal128Type::format_decimal(*v, *p, *s))
        }
        ScalarValue::Decimal256(Some(v), p, s) => {
            decimal(*p, *s, || Decimal256Type::format_decimal(*v, *p, *s))
        }
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(quote_string(s)),
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b))
        | ScalarValue::FixedSizeBinary(_, Some(b)) => {
            let hex: String = b.iter().map(|byte| format!("{byte:02X}")).collect();
            Some(format!("X'{hex}'"))
        }
        ScalarValue::Date32(Some(days)) => {
            if !(MIN_DATE32..=MAX_DATE32).contains(days) {
                return None;
            }
            let date = date32_to_datetime(*days)?;
            Some(format!("DATE '{}'", date.format("%Y-%m-%d")))
        }
        ScalarValue::TimestampSecond(Some(v), tz) => {
            timestamp(timestamp_s_to_datetime(*v), TimeUnit::Second, tz.as_deref())
        }
        ScalarValue::TimestampMillisecond(Some(v), tz) => timestamp(
            timestamp_ms_to_datetime(*v),
            TimeUnit::Millisecond,
            tz.as_deref(),
        ),
        ScalarValue::TimestampMicrosecond(Some(v), tz) => timestamp(
            timestamp_us_to_datetime(*v),
            TimeUnit::Microsecond,
            tz.as_deref(),
        ),
        ScalarValue::TimestampNanosecond(Some(v), tz) => timestamp(
            timestamp_ns_to_datetime(*v),
            TimeUnit::Nanosecond,
            tz.as_deref(),
        ),
        _ => None,
    }
}

/// Integers are bare digits; negative ones are parenthesised so that `x - -1` can never
/// print as the comment `x --1`. `i64::MIN` has no positive counterpart, so it is spelled as
/// a typed literal.
fn integer(v: i64) -> String {
    if v == i64::MIN {
        "BIGINT '-9223372036854775808'".to_string()
    } else if v < 0 {
        format!("({v})")
    } else {
        v.to_string()
    }
}

/// A finite double in exponent form (`1.5E0`), which Trino reads as `double`.
fn double(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    // Rust prints the shortest text that reads back as the same f64.
    let text = exponent_form(format!("{v:e}"));
    Some(if text.starts_with('-') {
        format!("({text})")
    } else {
        text
    })
}

fn exponent_form(text: String) -> String {
    text.replace('e', "E")
}

fn decimal(precision: u8, scale: i8, format: impl FnOnce() -> String) -> Option<String> {
    if precision > MAX_DECIMAL_PRECISION || scale < 0 {
        return None;
    }
    Some(format!("DECIMAL '{}'", format()))
}

fn timestamp(value: Option<NaiveDateTime>, unit: TimeUnit, tz: Option<&str>) -> Option<String> {
    let value = value?;
    // Four-digit years only: Trino reads no other form.
    if !(1..=9999).contains(&value.year()) {
        return None;
    }
    let text = value.format(match unit {
        TimeUnit::Second => "%Y-%m-%d %H:%M:%S",
        TimeUnit::Millisecond => "%Y-%m-%d %H:%M:%S%.3f",
        TimeUnit::Microsecond => "%Y-%m-%d %H:%M:%S%.6f",
        TimeUnit::Nanosecond => "%Y-%m-%d %H:%M:%S%.9f",
    });
    match tz {
        // DataFusion keeps the instant in UTC; the zone only changes how it is shown.
        Some(_) => Some(format!("TIMESTAMP '{text} UTC'")),
        None => Some(format!("TIMESTAMP '{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn sql(v: ScalarValue) -> Option<String> {
        literal_to_sql(&v)
    }

    #[test]
    fn identifiers_are_always_quoted_with_quotes_doubled() {
        assert_eq!(quote_identifier("a").as_deref(), Some("\"a\""));
        assert_eq!(
            quote_identifier("Upper Case").as_deref(),
            Some("\"Upper Case\"")
        );
        assert_eq!(quote_identifier("a\"b").as_deref(), Some("\"a\"\"b\""));
        assert_eq!(
            quote_identifier("a\"\"b").as_deref(),
            Some("\"a\"\"\"\"b\"")
        );
        assert_eq!(quote_identifier("ünï 😀").as_deref(), Some("\"ünï 😀\""));
        assert_eq!(quote_identifier(""), None);
        assert_eq!(quote_identifier("a\nb"), None);
    }

    #[test]
    fn strings_double_quotes_and_keep_backslashes() {
        assert_eq!(quote_string(""), "''");
        assert_eq!(quote_string("it's"), "'it''s'");
        assert_eq!(quote_string("''"), "''''''");
        assert_eq!(quote_string("\\' OR 1=1 --"), "'\\'' OR 1=1 --'");
        assert_eq!(quote_string("a\\b"), "'a\\b'");
        assert_eq!(quote_string("日本語 😀"), "'日本語 😀'");
        assert_eq!(quote_string("\n"), "(chr(10))");
        assert_eq!(
            quote_string("a\r\nb'\u{0}"),
            "('a' || chr(13) || chr(10) || 'b''' || chr(0))"
        );
        assert_eq!(quote_string("x\u{2028}"), "('x' || chr(8232))");
    }

    #[test]
    fn numbers() {
        assert_eq!(sql(ScalarValue::Int32(Some(5))).as_deref(), Some("5"));
        assert_eq!(sql(ScalarValue::Int64(Some(-5))).as_deref(), Some("(-5)"));
        assert_eq!(
            sql(ScalarValue::Int64(Some(i64::MIN))).as_deref(),
            Some("BIGINT '-9223372036854775808'")
        );
        assert_eq!(sql(ScalarValue::UInt64(Some(u64::MAX))), None);
        assert_eq!(
            sql(ScalarValue::Float64(Some(1.5))).as_deref(),
            Some("1.5E0")
        );
        assert_eq!(sql(ScalarValue::Float64(Some(1.0))).as_deref(), Some("1E0"));
        assert_eq!(
            sql(ScalarValue::Float64(Some(1e300))).as_deref(),
            Some("1E300")
        );
        assert_eq!(
            sql(ScalarValue::Float64(Some(-2.5e-7))).as_deref(),
            Some("(-2.5E-7)")
        );
        assert_eq!(
            sql(ScalarValue::Float64(Some(0.1))).as_deref(),
            Some("1E-1")
        );
        assert_eq!(sql(ScalarValue::Float64(Some(f64::NAN))), None);
        assert_eq!(sql(ScalarValue::Float64(Some(f64::INFINITY))), None);
        assert_eq!(
            sql(ScalarValue::Float32(Some(1.5))).as_deref(),
            Some("REAL '1.5E0'")
        );
        assert_eq!(
            sql(ScalarValue::Decimal128(Some(1230), 10, 2)).as_deref(),
            Some("DECIMAL '12.30'")
        );
        assert_eq!(
            sql(ScalarValue::Decimal128(Some(-5), 10, 3)).as_deref(),
            Some("DECIMAL '-0.005'")
        );
        assert_eq!(sql(ScalarValue::Decimal128(Some(5), 10, -2)), None);
    }

    #[test]
    fn doubles_read_back_to_the_same_value() {
        for v in [0.1, 1.0 / 3.0, 123456.789, 5e-324, f64::MAX, -1.0e-10] {
            let text = sql(ScalarValue::Float64(Some(v))).expect("finite");
            let bare = text.trim_start_matches('(').trim_end_matches(')');
            assert!(bare.contains('E'), "{text}");
            assert_eq!(bare.parse::<f64>().ok(), Some(v), "{text}");
        }
    }

    #[test]
    fn other_types() {
        assert_eq!(
            sql(ScalarValue::Boolean(Some(true))).as_deref(),
            Some("TRUE")
        );
        assert_eq!(sql(ScalarValue::Utf8(None)).as_deref(), Some("NULL"));
        assert_eq!(
            sql(ScalarValue::Binary(Some(vec![1, 0xab]))).as_deref(),
            Some("X'01AB'")
        );
        assert_eq!(
            sql(ScalarValue::Binary(Some(vec![]))).as_deref(),
            Some("X''")
        );
        assert_eq!(
            sql(ScalarValue::Date32(Some(18262))).as_deref(),
            Some("DATE '2020-01-01'")
        );
        assert_eq!(
            sql(ScalarValue::Date32(Some(-1))).as_deref(),
            Some("DATE '1969-12-31'")
        );
        assert_eq!(sql(ScalarValue::Date32(Some(MAX_DATE32 + 1))), None);
        assert_eq!(
            sql(ScalarValue::TimestampMillisecond(
                Some(1_577_836_800_123),
                None
            ))
            .as_deref(),
            Some("TIMESTAMP '2020-01-01 00:00:00.123'")
        );
        assert_eq!(
            sql(ScalarValue::TimestampSecond(Some(0), None)).as_deref(),
            Some("TIMESTAMP '1970-01-01 00:00:00'")
        );
        assert_eq!(
            sql(ScalarValue::TimestampNanosecond(Some(-1), None)).as_deref(),
            Some("TIMESTAMP '1969-12-31 23:59:59.999999999'")
        );
        assert_eq!(
            sql(ScalarValue::TimestampMicrosecond(
                Some(1_577_836_800_000_001),
                Some(Arc::from("+02:00"))
            ))
            .as_deref(),
            Some("TIMESTAMP '2020-01-01 00:00:00.000001 UTC'")
        );
        assert_eq!(sql(ScalarValue::Time64Nanosecond(Some(1))), None);
    }
}
