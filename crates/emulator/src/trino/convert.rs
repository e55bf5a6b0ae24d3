//! Trino's result columns and JSON rows as Arrow arrays of the types the DataFusion engine
//! produces for the same Athena types, so that the result CSV, GetQueryResults and UNLOAD
//! share one set of writers; and Trino's types as Athena reports them in `ColumnInfo`.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int8Builder, Int16Builder, Int32Builder, Int64Builder, ListArray, MapArray,
    StringBuilder, StructArray, TimestampMicrosecondBuilder, TimestampMillisecondBuilder,
    TimestampNanosecondBuilder,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::types::AthenaType;

/// A Trino type, read from a column's `typeSignature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TrinoType {
    Boolean,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Decimal(u8, i8),
    /// `varchar(n)`; `None` when unbounded.
    Varchar(Option<i64>),
    Char(i64),
    Varbinary,
    Date,
    /// `timestamp(p)`.
    Timestamp(u32),
    Json,
    Array(Box<TrinoType>),
    Map(Box<TrinoType>, Box<TrinoType>),
    Row(Vec<(String, TrinoType)>),
    /// Any other type (`time`, `timestamp with time zone`, intervals, `uuid`, ...): its values
    /// are kept as the text Trino sends; the name is Trino's.
    Text(String),
}

/// Reads a `typeSignature` (`{"rawType": "decimal", "arguments": [{"kind": "LONG", ...}]}`).
pub(crate) fn parse_signature(sig: &Value) -> Result<TrinoType, String> {
    let raw = sig["rawType"]
        .as_str()
        .ok_or_else(|| format!("type signature without rawType: {sig}"))?;
    let args = sig["arguments"].as_array().cloned().unwrap_or_default();
    let long = |i: usize| -> Result<i64, String> {
        args.get(i)
            .and_then(|a| a["value"].as_i64())
            .ok_or_else(|| format!("type {raw}: argument {i} is not a number: {sig}"))
    };
    let nested = |i: usize| -> Result<TrinoType, String> {
        args.get(i)
            .map(|a| parse_signature(&a["value"]))
            .unwrap_or_else(|| Err(format!("type {raw}: no argument {i}: {sig}")))
    };
    Ok(match raw {
        "boolean" => TrinoType::Boolean,
        "tinyint" => TrinoType::TinyInt,
        "smallint" => TrinoType::SmallInt,
        "integer" => TrinoType::Integer,
        "bigint" => TrinoType::BigInt,
        "real" => TrinoType::Real,
        "double" => TrinoType::Double,
        "decimal" => {
            let precision = u8::try_from(long(0)?).map_err(|e| e.to_string())?;
            let scale = i8::try_from(long(1)?).map_err(|e| e.to_string())?;
            TrinoType::Decimal(precision, scale)
        }
        "varchar" => match long(0) {
            Ok(n) if n < i64::from(i32::MAX) => TrinoType::Varchar(Some(n)),
            _ => TrinoType::Varchar(None),
        },
        "char" => TrinoType::Char(long(0)?),
        "varbinary" => TrinoType::Varbinary,
        "date" => TrinoType::Date,
        "timestamp" => TrinoType::Timestamp(u32::try_from(long(0).unwrap_or(3)).unwrap_or(3)),
        "json" => TrinoType::Json,
        "array" => TrinoType::Array(Box::new(nested(0)?)),
        "map" => TrinoType::Map(Box::new(nested(0)?), Box::new(nested(1)?)),
        "row" => {
            let mut fields = Vec::with_capacity(args.len());
            for (i, arg) in args.iter().enumerate() {
                let value = &arg["value"];
                let name = value["fieldName"]["name"]
                    .as_str()
                    .map_or_else(|| format!("field{i}"), str::to_owned);
                fields.push((name, parse_signature(&value["typeSignature"])?));
            }
            TrinoType::Row(fields)
        }
        other => TrinoType::Text(other.to_owned()),
    })
}

impl TrinoType {
    /// The Arrow type the DataFusion engine gives the same Athena type.
    pub(crate) fn arrow(&self) -> DataType {
        match self {
            Self::Boolean => DataType::Boolean,
            Self::TinyInt => DataType::Int8,
            Self::SmallInt => DataType::Int16,
            Self::Integer => DataType::Int32,
            Self::BigInt => DataType::Int64,
            Self::Real => DataType::Float32,
            Self::Double => DataType::Float64,
            Self::Decimal(p, s) => DataType::Decimal128(*p, *s),
            Self::Varchar(_) | Self::Char(_) | Self::Json | Self::Text(_) => DataType::Utf8,
            Self::Varbinary => DataType::Binary,
            Self::Date => DataType::Date32,
            Self::Timestamp(p) => DataType::Timestamp(time_unit(*p), None),
            Self::Array(item) => DataType::List(Arc::new(Field::new("item", item.arrow(), true))),
            Self::Map(k, v) => DataType::Map(map_entries(k, v), false),
            Self::Row(fields) => DataType::Struct(row_fields(fields)),
        }
    }

    /// The type as Athena reports it in `ColumnInfo` and `.metadata`.
    pub(crate) fn athena(&self) -> AthenaType {
        let (name, precision, scale): (Cow<'_, str>, i64, i64) = match self {
            Self::Boolean => ("boolean".into(), 0, 0),
            Self::TinyInt => ("tinyint".into(), 3, 0),
            Self::SmallInt => ("smallint".into(), 5, 0),
            Self::Integer => ("integer".into(), 10, 0),
            Self::BigInt => ("bigint".into(), 19, 0),
            Self::Real => ("float".into(), 17, 0),
            Self::Double => ("double".into(), 17, 0),
            Self::Decimal(p, s) => ("decimal".into(), i64::from(*p), i64::from(*s)),
            Self::Varchar(n) => ("varchar".into(), n.unwrap_or(2_147_483_647), 0),
            Self::Char(n) => ("char".into(), *n, 0),
            Self::Varbinary => ("varbinary".into(), 1_073_741_824, 0),
            Self::Date => ("date".into(), 0, 0),
            Self::Timestamp(_) => ("timestamp".into(), 3, 0),
            Self::Json => ("json".into(), 0, 0),
            Self::Array(_) => ("array".into(), 0, 0),
            Self::Map(..) => ("map".into(), 0, 0),
            Self::Row(_) => ("row".into(), 0, 0),
            Self::Text(name) if name.starts_with("time") => (name.as_str().into(), 3, 0),
            Self::Text(name) => (name.as_str().into(), 0, 0),
        };
        AthenaType {
            case_sensitive: matches!(self, Self::Varchar(_) | Self::Char(_)),
            name: name.into_owned(),
            precision,
            scale,
        }
    }
}

fn time_unit(precision: u32) -> TimeUnit {
    match precision {
        0..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    }
}

fn map_entries(k: &TrinoType, v: &TrinoType) -> Arc<Field> {
    Arc::new(Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", k.arrow(), false),
            Field::new("value", v.arrow(), true),
        ])),
        false,
    ))
}

fn row_fields(fields: &[(String, TrinoType)]) -> Fields {
    fields
        .iter()
        .map(|(name, ty)| Field::new(name, ty.arrow(), true))
        .collect()
}

/// One value of a row: JSON as Trino sent it, or the text of a map key (JSON objects key maps
/// by the key's text).
#[derive(Clone, Copy)]
pub(crate) enum Cell<'a> {
    Json(&'a RawValue),
    Key(&'a str),
}

impl<'a> Cell<'a> {
    /// The scalar's text (a JSON string unquoted); `None` for NULL.
    fn text(self) -> Result<Option<Cow<'a, str>>, String> {
        match self {
            Cell::Key(text) => Ok(Some(Cow::Borrowed(text))),
            Cell::Json(raw) => {
                let text = raw.get().trim();
                if text == "null" {
                    Ok(None)
                } else if text.starts_with('"') {
                    serde_json::from_str::<String>(text)
                        .map(|s| Some(Cow::Owned(s)))
                        .map_err(|e| format!("bad JSON string {text}: {e}"))
                } else {
                    Ok(Some(Cow::Borrowed(text)))
                }
            }
        }
    }

    fn is_null(self) -> bool {
        matches!(self, Cell::Json(raw) if raw.get().trim() == "null")
    }

    fn raw(self) -> Result<&'a RawValue, String> {
        match self {
            Cell::Json(raw) => Ok(raw),
            Cell::Key(text) => Err(format!("a nested value as a map key: {text}")),
        }
    }
}

/// Map entries in the order Trino wrote them.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// Builds one Arrow array from a column's values.
pub(crate) enum ColumnBuilder {
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Decimal(Decimal128Builder, u8, i8),
    Utf8(StringBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
    TimestampMs(TimestampMillisecondBuilder),
    TimestampUs(TimestampMicrosecondBuilder),
    TimestampNs(TimestampNanosecondBuilder),
    List {
        item: Arc<Field>,
        offsets: Vec<i32>,
        valid: Vec<bool>,
        child: Box<ColumnBuilder>,
    },
    Map {
        entries: Arc<Field>,
        offsets: Vec<i32>,
        valid: Vec<bool>,
        keys: Box<ColumnBuilder>,
        values: Box<ColumnBuilder>,
    },
    Struct {
        fields: Fields,
        valid: Vec<bool>,
        children: Vec<ColumnBuilder>,
    },
}

impl ColumnBuilder {
    /// A builder for `ty`.
    pub(crate) fn new(ty: &TrinoType) -> Self {
        match ty {
            TrinoType::Boolean => Self::Boolean(BooleanBuilder::new()),
            TrinoType::TinyInt => Self::Int8(Int8Builder::new()),
            TrinoType::SmallInt => Self::Int16(Int16Builder::new()),
            TrinoType::Integer => Self::Int32(Int32Builder::new()),
            TrinoType::BigInt => Self::Int64(Int64Builder::new()),
            TrinoType::Real => Self::Float32(Float32Builder::new()),
            TrinoType::Double => Self::Float64(Float64Builder::new()),
            TrinoType::Decimal(p, s) => Self::Decimal(Decimal128Builder::new(), *p, *s),
            TrinoType::Varchar(_) | TrinoType::Char(_) | TrinoType::Json | TrinoType::Text(_) => {
                Self::Utf8(StringBuilder::new())
            }
            TrinoType::Varbinary => Self::Binary(BinaryBuilder::new()),
            TrinoType::Date => Self::Date(Date32Builder::new()),
            TrinoType::Timestamp(p) => match time_unit(*p) {
                TimeUnit::Millisecond => Self::TimestampMs(TimestampMillisecondBuilder::new()),
                TimeUnit::Microsecond => Self::TimestampUs(TimestampMicrosecondBuilder::new()),
                _ => Self::TimestampNs(TimestampNanosecondBuilder::new()),
            },
            TrinoType::Array(item) => Self::List {
                item: Arc::new(Field::new("item", item.arrow(), true)),
                offsets: vec![0],
                valid: Vec::new(),
                child: Box::new(Self::new(item)),
            },
            TrinoType::Map(k, v) => Self::Map {
                entries: map_entries(k, v),
                offsets: vec![0],
                valid: Vec::new(),
                keys: Box::new(Self::new(k)),
                values: Box::new(Self::new(v)),
            },
            TrinoType::Row(fields) => Self::Struct {
                fields: row_fields(fields),
                valid: Vec::new(),
                children: fields.iter().map(|(_, ty)| Self::new(ty)).collect(),
            },
        }
    }

    /// Appends one value (`ty` is the type the builder was made for).
    pub(crate) fn append(&mut self, ty: &TrinoType, cell: Cell<'_>) -> Result<(), String> {
        match (self, ty) {
            (
                Self::List {
                    offsets,
                    valid,
                    child,
                    ..
                },
                TrinoType::Array(item),
            ) => {
                if cell.is_null() {
                    valid.push(false);
                } else {
                    let values: Vec<&RawValue> = serde_json::from_str(cell.raw()?.get())
                        .map_err(|e| format!("bad array value: {e}"))?;
                    for v in &values {
                        child.append(item, Cell::Json(v))?;
                    }
                    valid.push(true);
                }
                offsets.push(i32::try_from(child.len()).map_err(|e| e.to_string())?);
                Ok(())
            }
            (
                Self::Map {
                    offsets,
                    valid,
                    keys,
                    values,
                    ..
                },
                TrinoType::Map(kt, vt),
            ) => {
                let mut n = 0usize;
                if cell.is_null() {
                    valid.push(false);
                } else {
                    let entries: Entries<'_> = serde_json::from_str(cell.raw()?.get())
                        .map_err(|e| format!("bad map value: {e}"))?;
                    for (k, v) in &entries.0 {
                        keys.append(kt, Cell::Key(k))?;
                        values.append(vt, Cell::Json(v))?;
                    }
                    n = entries.0.len();
                    valid.push(true);
                }
                let last = offsets.last().copied().unwrap_or(0);
                offsets.push(last + i32::try_from(n).map_err(|e| e.to_string())?);
                Ok(())
            }
            (
                Self::Struct {
                    valid, children, ..
                },
                TrinoType::Row(fields),
            ) => {
                if cell.is_null() {
                    valid.push(false);
                    for (child, (_, ty)) in children.iter_mut().zip(fields) {
                        child.append(ty, Cell::Json(null()))?;
                    }
                } else {
                    let values: Vec<&RawValue> = serde_json::from_str(cell.raw()?.get())
                        .map_err(|e| format!("bad row value: {e}"))?;
                    if values.len() != fields.len() {
                        return Err(format!(
                            "a row of {} fields has {} values",
                            fields.len(),
                            values.len()
                        ));
                    }
                    for ((child, (_, ty)), v) in children.iter_mut().zip(fields).zip(values) {
                        child.append(ty, Cell::Json(v))?;
                    }
                    valid.push(true);
                }
                Ok(())
            }
            (builder, _) => builder.append_scalar(cell),
        }
    }

    fn len(&self) -> usize {
        use datafusion::arrow::array::ArrayBuilder;
        match self {
            Self::Boolean(b) => b.len(),
            Self::Int8(b) => b.len(),
            Self::Int16(b) => b.len(),
            Self::Int32(b) => b.len(),
            Self::Int64(b) => b.len(),
            Self::Float32(b) => b.len(),
            Self::Float64(b) => b.len(),
            Self::Decimal(b, ..) => b.len(),
            Self::Utf8(b) => b.len(),
            Self::Binary(b) => b.len(),
            Self::Date(b) => b.len(),
            Self::TimestampMs(b) => b.len(),
            Self::TimestampUs(b) => b.len(),
            Self::TimestampNs(b) => b.len(),
            Self::List { valid, .. } | Self::Map { valid, .. } | Self::Struct { valid, .. } => {
                valid.len()
            }
        }
    }

    fn append_scalar(&mut self, cell: Cell<'_>) -> Result<(), String> {
        let text = cell.text()?;
        let Some(text) = text else {
            self.append_null();
            return Ok(());
        };
        let t = text.as_ref();
        let bad = |what: &str| format!("Trino sent {t:?} for a {what} value");
        match self {
            Self::Boolean(b) => b.append_value(t.parse().map_err(|_| bad("boolean"))?),
            Self::Int8(b) => b.append_value(t.parse().map_err(|_| bad("tinyint"))?),
            Self::Int16(b) => b.append_value(t.parse().map_err(|_| bad("smallint"))?),
            Self::Int32(b) => b.append_value(t.parse().map_err(|_| bad("integer"))?),
            Self::Int64(b) => b.append_value(t.parse().map_err(|_| bad("bigint"))?),
            Self::Float32(b) => b.append_value(t.parse().map_err(|_| bad("real"))?),
            Self::Float64(b) => b.append_value(t.parse().map_err(|_| bad("double"))?),
            Self::Decimal(b, _, scale) => {
                b.append_value(parse_decimal(t, *scale).ok_or_else(|| bad("decimal"))?)
            }
            Self::Utf8(b) => b.append_value(t),
            Self::Binary(b) => b.append_value(
                base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .map_err(|_| bad("varbinary"))?,
            ),
            Self::Date(b) => {
                let date = NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| bad("date"))?;
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                b.append_value(i32::try_from((date - epoch).num_days()).map_err(|_| bad("date"))?)
            }
            Self::TimestampMs(b) => b.append_value(timestamp(t)?.and_utc().timestamp_millis()),
            Self::TimestampUs(b) => b.append_value(timestamp(t)?.and_utc().timestamp_micros()),
            Self::TimestampNs(b) => b.append_value(
                timestamp(t)?
                    .and_utc()
                    .timestamp_nanos_opt()
                    .ok_or_else(|| bad("timestamp(9)"))?,
            ),
            Self::List { .. } | Self::Map { .. } | Self::Struct { .. } => {
                return Err(bad("nested"));
            }
        }
        Ok(())
    }

    fn append_null(&mut self) {
        match self {
            Self::Boolean(b) => b.append_null(),
            Self::Int8(b) => b.append_null(),
            Self::Int16(b) => b.append_null(),
            Self::Int32(b) => b.append_null(),
            Self::Int64(b) => b.append_null(),
            Self::Float32(b) => b.append_null(),
            Self::Float64(b) => b.append_null(),
            Self::Decimal(b, ..) => b.append_null(),
            Self::Utf8(b) => b.append_null(),
            Self::Binary(b) => b.append_null(),
            Self::Date(b) => b.append_null(),
            Self::TimestampMs(b) => b.append_null(),
            Self::TimestampUs(b) => b.append_null(),
            Self::TimestampNs(b) => b.append_null(),
            Self::List { .. } | Self::Map { .. } | Self::Struct { .. } => {}
        }
    }

    /// The array of everything appended so far; the builder starts over.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef, String> {
        let err = |e: datafusion::arrow::error::ArrowError| e.to_string();
        Ok(match self {
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Int8(b) => Arc::new(b.finish()),
            Self::Int16(b) => Arc::new(b.finish()),
            Self::Int32(b) => Arc::new(b.finish()),
            Self::Int64(b) => Arc::new(b.finish()),
            Self::Float32(b) => Arc::new(b.finish()),
            Self::Float64(b) => Arc::new(b.finish()),
            Self::Decimal(b, p, s) => {
                Arc::new(b.finish().with_precision_and_scale(*p, *s).map_err(err)?)
            }
            Self::Utf8(b) => Arc::new(b.finish()),
            Self::Binary(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::TimestampMs(b) => Arc::new(b.finish()),
            Self::TimestampUs(b) => Arc::new(b.finish()),
            Self::TimestampNs(b) => Arc::new(b.finish()),
            Self::List {
                item,
                offsets,
                valid,
                child,
            } => {
                let values = child.finish()?;
                let offsets = std::mem::replace(offsets, vec![0]);
                let nulls = NullBuffer::from(std::mem::take(valid));
                Arc::new(
                    ListArray::try_new(
                        Arc::clone(item),
                        OffsetBuffer::new(offsets.into()),
                        values,
                        Some(nulls),
                    )
                    .map_err(err)?,
                )
            }
            Self::Map {
                entries,
                offsets,
                valid,
                keys,
                values,
            } => {
                let DataType::Struct(fields) = entries.data_type() else {
                    return Err("map entries are not a struct".into());
                };
                let struct_array = StructArray::try_new(
                    fields.clone(),
                    vec![keys.finish()?, values.finish()?],
                    None,
                )
                .map_err(err)?;
                let offsets = std::mem::replace(offsets, vec![0]);
                let nulls = NullBuffer::from(std::mem::take(valid));
                Arc::new(
                    MapArray::try_new(
                        Arc::clone(entries),
                        OffsetBuffer::new(offsets.into()),
                        struct_array,
                        Some(nulls),
                        false,
                    )
                    .map_err(err)?,
                )
            }
            Self::Struct {
                fields,
                valid,
                children,
            } => {
                let arrays = children
                    .iter_mut()
                    .map(ColumnBuilder::finish)
                    .collect::<Result<Vec<_>, _>>()?;
                let nulls = NullBuffer::from(std::mem::take(valid));
                Arc::new(StructArray::try_new(fields.clone(), arrays, Some(nulls)).map_err(err)?)
            }
        })
    }
}

fn null() -> &'static RawValue {
    static NULL: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    NULL.get_or_init(|| RawValue::from_string("null".to_owned()).unwrap_or_else(|_| unreachable!()))
}

/// `12.30` at scale 2 as 1230; `None` for text that is not a decimal number.
fn parse_decimal(text: &str, scale: i8) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let scale = usize::try_from(scale).ok()?;
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > scale
    {
        return None;
    }
    let mut all = String::with_capacity(int.len() + scale);
    all.push_str(int);
    all.push_str(frac);
    all.extend(std::iter::repeat_n('0', scale - frac.len()));
    let value: i128 = if all.is_empty() { 0 } else { all.parse().ok()? };
    Some(if negative { -value } else { value })
}

fn timestamp(text: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map_err(|_| format!("Trino sent {text:?} for a timestamp value"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::athena::render::render;

    fn column(sig: Value, values: &[&str]) -> (TrinoType, ArrayRef) {
        let ty = parse_signature(&sig).unwrap();
        let mut b = ColumnBuilder::new(&ty);
        for v in values {
            let raw = RawValue::from_string((*v).to_owned()).unwrap();
            b.append(&ty, Cell::Json(&raw)).unwrap();
        }
        let array = b.finish().unwrap();
        assert_eq!(array.data_type(), &ty.arrow());
        (ty, array)
    }

    fn texts(array: &ArrayRef) -> Vec<Option<String>> {
        (0..array.len())
            .map(|i| render(array.as_ref(), i))
            .collect()
    }

    fn simple(raw: &str) -> Value {
        serde_json::json!({"rawType": raw, "arguments": []})
    }

    #[test]
    fn scalars_render_as_athena_prints_them() {
        let (_, a) = column(
            simple("double"),
            &["1.0E10", "1.5", "\"NaN\"", "\"-Infinity\"", "null"],
        );
        assert_eq!(
            texts(&a),
            [
                Some("1.0E10".into()),
                Some("1.5".into()),
                Some("NaN".into()),
                Some("-Infinity".into()),
                None
            ]
        );
        let dec = serde_json::json!({"rawType": "decimal", "arguments": [
            {"kind": "LONG", "value": 38}, {"kind": "LONG", "value": 2}]});
        let (ty, a) = column(
            dec,
            &[
                "\"12.30\"",
                "\"-0.05\"",
                "\"99999999999999999999999999999999999.99\"",
            ],
        );
        assert_eq!(ty.athena().name, "decimal");
        assert_eq!(
            texts(&a),
            [
                Some("12.30".into()),
                Some("-0.05".into()),
                Some("99999999999999999999999999999999999.99".into())
            ]
        );
        let ts = serde_json::json!({"rawType": "timestamp", "arguments": [{"kind": "LONG", "value": 3}]});
        let (_, a) = column(
            ts,
            &["\"2020-01-01 12:34:56.789\"", "\"1969-12-31 23:59:59.001\""],
        );
        assert_eq!(
            texts(&a),
            [
                Some("2020-01-01 12:34:56.789".into()),
                Some("1969-12-31 23:59:59.001".into())
            ]
        );
        let (_, a) = column(simple("date"), &["\"1900-02-28\""]);
        assert_eq!(texts(&a), [Some("1900-02-28".into())]);
        let (_, a) = column(simple("varbinary"), &["\"AQKr\""]);
        assert_eq!(texts(&a), [Some("01 02 ab".into())]);
        let (ty, a) = column(simple("real"), &["1.5", "3.0E10"]);
        assert_eq!(ty.athena().name, "float");
        assert_eq!(texts(&a), [Some("1.5".into()), Some("3.0E10".into())]);
    }

    #[test]
    fn nested_values() {
        let sig = serde_json::json!({"rawType": "row", "arguments": [
            {"kind": "NAMED_TYPE", "value": {"fieldName": {"name": "id"}, "typeSignature": simple("integer")}},
            {"kind": "NAMED_TYPE", "value": {"fieldName": {"name": "tags"}, "typeSignature":
                {"rawType": "array", "arguments": [{"kind": "TYPE", "value": simple("varchar")}]}}},
            {"kind": "NAMED_TYPE", "value": {"fieldName": {"name": "m"}, "typeSignature":
                {"rawType": "map", "arguments": [{"kind": "TYPE", "value": simple("varchar")},
                                                  {"kind": "TYPE", "value": simple("bigint")}]}}}]});
        let (_, a) = column(
            sig,
            &[
                r#"[1, ["a", null], {"k": 1, "j": 2}]"#,
                "null",
                r#"[null, null, null]"#,
            ],
        );
        assert_eq!(
            texts(&a),
            [
                Some("{id=1, tags=[a, null], m={k=1, j=2}}".into()),
                None,
                Some("{id=null, tags=null, m=null}".into())
            ]
        );
    }

    #[test]
    fn bad_values_are_errors() {
        let ty = TrinoType::Integer;
        let mut b = ColumnBuilder::new(&ty);
        let raw = RawValue::from_string("\"x\"".to_owned()).unwrap();
        assert!(b.append(&ty, Cell::Json(&raw)).is_err());
        assert_eq!(parse_decimal("1.234", 2), None);
        assert_eq!(parse_decimal("-1.2", 2), Some(-120));
        assert_eq!(parse_decimal("abc", 2), None);
    }
}
