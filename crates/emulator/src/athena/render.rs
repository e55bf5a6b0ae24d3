//! Values rendered as Athena renders them in CSV results and `VarCharValue`s.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// The text of `array[row]`, or `None` for NULL.
pub(crate) fn render(array: &dyn Array, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let mut out = String::new();
    render_into(array, row, &mut out);
    Some(out)
}

/// Writes a boolean or integer value the way both the text and the JSON renderings spell it
/// (`true`, `-42`); returns false, writing nothing, for any other type.
pub(crate) fn push_bool_or_integer(array: &dyn Array, row: usize, out: &mut String) -> bool {
    match array.data_type() {
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8 => push_display(out, array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => push_display(out, array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => push_display(out, array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => push_display(out, array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => push_display(out, array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => push_display(out, array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => push_display(out, array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => push_display(out, array.as_primitive::<UInt64Type>().value(row)),
        _ => return false,
    }
    true
}

/// Writes a non-NULL value; NULLs nested in arrays, maps and rows print as `null`.
fn render_into(array: &dyn Array, row: usize, out: &mut String) {
    if array.is_null(row) {
        out.push_str("null");
        return;
    }
    if push_bool_or_integer(array, row, out) {
        return;
    }
    match array.data_type() {
        DataType::Float16 => out.push_str(&java_float(
            array.as_primitive::<Float16Type>().value(row).to_f32(),
        )),
        DataType::Float32 => {
            out.push_str(&java_float(array.as_primitive::<Float32Type>().value(row)))
        }
        DataType::Float64 => {
            out.push_str(&java_double(array.as_primitive::<Float64Type>().value(row)))
        }
        DataType::Utf8 => out.push_str(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => out.push_str(array.as_string::<i64>().value(row)),
        DataType::Utf8View => out.push_str(array.as_string_view().value(row)),
        DataType::Binary => push_hex(out, array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => push_hex(out, array.as_binary::<i64>().value(row)),
        DataType::BinaryView => push_hex(out, array.as_binary_view().value(row)),
        DataType::FixedSizeBinary(_) => push_hex(out, array.as_fixed_size_binary().value(row)),
        DataType::Date32 => match array.as_primitive::<Date32Type>().value_as_date(row) {
            Some(d) => out.push_str(&d.format("%Y-%m-%d").to_string()),
            None => fallback(array, row, out),
        },
        DataType::Date64 => match array.as_primitive::<Date64Type>().value_as_date(row) {
            Some(d) => out.push_str(&d.format("%Y-%m-%d").to_string()),
            None => fallback(array, row, out),
        },
        DataType::Timestamp(unit, tz) => {
            let dt = match unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .value_as_datetime(row),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .value_as_datetime(row),
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .value_as_datetime(row),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .value_as_datetime(row),
            };
            match dt {
                Some(dt) => {
                    out.push_str(&dt.format("%Y-%m-%d %H:%M:%S%.3f").to_string());
                    if let Some(tz) = tz {
                        out.push(' ');
                        out.push_str(if tz.as_ref() == "+00:00" { "UTC" } else { tz });
                    }
                }
                None => fallback(array, row, out),
            }
        }
        DataType::Time32(TimeUnit::Second) => push_time(
            out,
            array.as_primitive::<Time32SecondType>().value_as_time(row),
        ),
        DataType::Time32(_) => push_time(
            out,
            array
                .as_primitive::<Time32MillisecondType>()
                .value_as_time(row),
        ),
        DataType::Time64(TimeUnit::Microsecond) => push_time(
            out,
            array
                .as_primitive::<Time64MicrosecondType>()
                .value_as_time(row),
        ),
        DataType::Time64(_) => push_time(
            out,
            array
                .as_primitive::<Time64NanosecondType>()
                .value_as_time(row),
        ),
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            push_list(out, list.value(row).as_ref());
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            push_list(out, list.value(row).as_ref());
        }
        DataType::FixedSizeList(_, _) => {
            push_list(out, array.as_fixed_size_list().value(row).as_ref())
        }
        DataType::Struct(fields) => {
            let st = array.as_struct();
            out.push('{');
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(field.name());
                out.push('=');
                render_into(st.column(i).as_ref(), row, out);
            }
            out.push('}');
        }
        DataType::Map(_, _) => {
            let map = array.as_map();
            let entries = map.value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_into(keys.as_ref(), i, out);
                out.push('=');
                render_into(values.as_ref(), i, out);
            }
            out.push('}');
        }
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            render_into(dict.values().as_ref(), key, out);
        }
        _ => fallback(array, row, out),
    }
}

fn push_display(out: &mut String, value: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = write!(out, "{value}");
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_display(out, format_args!("{b:02x}"));
    }
}

fn push_time(out: &mut String, time: Option<chrono::NaiveTime>) {
    if let Some(t) = time {
        out.push_str(&t.format("%H:%M:%S%.3f").to_string());
    }
}

fn push_list(out: &mut String, values: &dyn Array) {
    out.push('[');
    for i in 0..values.len() {
        if i > 0 {
            out.push_str(", ");
        }
        render_into(values, i, out);
    }
    out.push(']');
}

fn fallback(array: &dyn Array, row: usize, out: &mut String) {
    match ArrayFormatter::try_new(array, &FormatOptions::default()) {
        Ok(formatter) => push_display(out, formatter.value(row)),
        Err(_) => out.push_str("null"),
    }
}

/// `Double.toString` from Java: decimal between 10^-3 and 10^7, otherwise `d.dddE±n`;
/// always at least one digit after the point.
pub(crate) fn java_double(value: f64) -> String {
    java_style(
        value.is_nan(),
        value.is_infinite(),
        value == 0.0,
        value.abs(),
        value.is_sign_negative(),
        || (format!("{value}"), format!("{value:e}")),
    )
}

/// `Float.toString` from Java (Athena's `real`).
pub(crate) fn java_float(value: f32) -> String {
    java_style(
        value.is_nan(),
        value.is_infinite(),
        value == 0.0,
        f64::from(value.abs()),
        value.is_sign_negative(),
        || (format!("{value}"), format!("{value:e}")),
    )
}

fn java_style(
    nan: bool,
    infinite: bool,
    zero: bool,
    magnitude: f64,
    negative: bool,
    texts: impl FnOnce() -> (String, String),
) -> String {
    if nan {
        return "NaN".into();
    }
    if infinite {
        return if negative { "-Infinity" } else { "Infinity" }.into();
    }
    if zero {
        return if negative { "-0.0" } else { "0.0" }.into();
    }
    let (plain, scientific) = texts();
    if (1e-3..1e7).contains(&magnitude) {
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        BinaryArray, Decimal128Array, Float64Array, Int32Array, ListArray, StringArray,
        StructArray, TimestampMillisecondArray,
    };
    use datafusion::arrow::datatypes::{Field, Int32Type};

    use super::*;

    #[test]
    fn doubles_as_java_prints_them() {
        assert_eq!(java_double(1e20), "1.0E20");
        assert_eq!(java_double(1e-4), "1.0E-4");
        assert_eq!(java_double(1.5), "1.5");
        assert_eq!(java_double(100.0), "100.0");
        assert_eq!(java_double(1234567.0), "1234567.0");
        assert_eq!(java_double(12345678.0), "1.2345678E7");
        assert_eq!(java_double(-2.5e-7), "-2.5E-7");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(f64::NAN), "NaN");
        assert_eq!(java_double(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(java_float(0.1), "0.1");
        assert_eq!(java_float(3.0e10), "3.0E10");
    }

    #[test]
    fn scalars() {
        let ts = TimestampMillisecondArray::from(vec![Some(1_577_882_096_789), None]);
        assert_eq!(render(&ts, 0).as_deref(), Some("2020-01-01 12:34:56.789"));
        assert_eq!(render(&ts, 1), None);
        let bin = BinaryArray::from(vec![&[1u8, 2, 0xab][..]]);
        assert_eq!(render(&bin, 0).as_deref(), Some("01 02 ab"));
        let dec = Decimal128Array::from(vec![1230])
            .with_precision_and_scale(10, 2)
            .unwrap();
        assert_eq!(render(&dec, 0).as_deref(), Some("12.30"));
        let f = Float64Array::from(vec![1e20]);
        assert_eq!(render(&f, 0).as_deref(), Some("1.0E20"));
        let s = StringArray::from(vec![Some(""), None]);
        assert_eq!(render(&s, 0).as_deref(), Some(""));
        assert_eq!(render(&s, 1), None);
    }

    #[test]
    fn nested() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![
            Some(1),
            None,
            Some(2),
        ])]);
        assert_eq!(render(&list, 0).as_deref(), Some("[1, null, 2]"));
        let st = StructArray::from(vec![
            (
                Arc::new(Field::new("id", DataType::Int32, true)),
                Arc::new(Int32Array::from(vec![1])) as _,
            ),
            (
                Arc::new(Field::new("name", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec!["x"])) as _,
            ),
        ]);
        assert_eq!(render(&st, 0).as_deref(), Some("{id=1, name=x}"));
    }
}
