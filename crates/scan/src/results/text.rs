//! Athena's text rendering of values (result CSV and GetQueryResults' `VarCharValue`) decoded
//! into Arrow arrays of the target schema.
//!
//! Renderings (measured): double as Java `Double.toString` (`1.0E20`, `NaN`, `Infinity`),
//! timestamp `2020-01-01 12:34:56.789`, timestamp with time zone `2020-01-01 12:34:56.789 UTC`
//! (or a zone id / offset), time `12:34:56.789`, varbinary lowercase hex bytes separated by
//! spaces (`01 02`), `interval year to month` as `1-2`, `interval day to second` as
//! `2 03:04:05.678`; nested values arrive as JSON text (the query casts them to JSON).
//!
//! (Over 800 lines with its tests: one parser per Athena type, each beside its siblings so the
//! renderings can be compared; the code itself is under 700 lines.)

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Decimal128Builder, Float32Builder, Float64Builder,
    Int8Builder, Int16Builder, Int32Builder, Int64Builder, IntervalDayTimeBuilder,
    LargeBinaryBuilder, LargeStringBuilder, NullArray, StringBuilder, StringViewBuilder,
    UInt64Builder, make_array,
};
use datafusion::arrow::datatypes::{
    DataType, Field, IntervalDayTime, IntervalUnit, Schema, SchemaRef, TimeUnit,
};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{Error, Result};

/// Collects rows of text values into record batches of a target schema.
#[derive(Debug)]
pub(crate) struct BatchDecoder {
    schema: SchemaRef,
    columns: Vec<ColumnDecoder>,
    rows: usize,
    /// Data rows decoded before the current batch (for error messages).
    rows_before: u64,
}

impl BatchDecoder {
    /// A decoder for `schema`; fails for column types that cannot be read from text.
    pub(crate) fn new(schema: SchemaRef, capacity: usize) -> Result<Self> {
        let columns = schema
            .fields()
            .iter()
            .map(|f| ColumnDecoder::new(f, capacity))
            .collect::<Result<_>>()?;
        Ok(Self {
            schema,
            columns,
            rows: 0,
            rows_before: 0,
        })
    }

    /// Number of columns.
    pub(crate) fn width(&self) -> usize {
        self.columns.len()
    }

    /// Rows in the current (unfinished) batch.
    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    /// Appends a value of column `col` in the current row (`None` = NULL).
    pub(crate) fn push(&mut self, col: usize, value: Option<&str>) -> Result<()> {
        let Some(column) = self.columns.get_mut(col) else {
            return Err(Error::Decode {
                column: format!("#{}", col + 1),
                row: self.rows_before + self.rows as u64 + 1,
                value: value.map(shorten).unwrap_or_default(),
                data_type: "-".into(),
                reason: format!(
                    "the row has more than the {} expected columns",
                    self.columns.len()
                ),
            });
        };
        column.push(value).map_err(|reason| {
            let field = self.schema.field(col);
            Error::Decode {
                column: field.name().clone(),
                row: self.rows_before + self.rows as u64 + 1,
                value: value.map(shorten).unwrap_or_default(),
                data_type: field.data_type().to_string(),
                reason,
            }
        })
    }

    /// Ends the current row.
    pub(crate) fn end_row(&mut self) {
        self.rows += 1;
    }

    /// The rows collected so far as a batch (none when empty).
    pub(crate) fn flush(&mut self) -> Result<Option<RecordBatch>> {
        if self.rows == 0 {
            return Ok(None);
        }
        let arrays = self
            .columns
            .iter_mut()
            .zip(self.schema.fields())
            .map(|(c, f)| {
                c.finish(f).map_err(|reason| Error::Decode {
                    column: f.name().clone(),
                    row: 0,
                    value: String::new(),
                    data_type: f.data_type().to_string(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        let batch = RecordBatch::try_new_with_options(Arc::clone(&self.schema), arrays, &options)?;
        self.rows_before += self.rows as u64;
        self.rows = 0;
        Ok(Some(batch))
    }
}

fn shorten(s: &str) -> String {
    if s.len() <= 80 {
        s.to_string()
    } else {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    }
}

type VResult<T> = std::result::Result<T, String>;

/// One column's builder.
#[derive(Debug)]
enum ColumnDecoder {
    Null(usize),
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    /// Ranks and row numbers of federated window functions (Athena's `bigint`).
    UInt64(UInt64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Decimal128(Decimal128Builder, u8, i8),
    Utf8(StringBuilder),
    LargeUtf8(LargeStringBuilder),
    Utf8View(StringViewBuilder),
    Binary(BinaryBuilder),
    LargeBinary(LargeBinaryBuilder),
    /// i32-backed types: Date32, Time32, Interval(YearMonth); values are parsed by `kind`.
    I32(Int32Builder, I32Kind),
    /// i64-backed types: timestamps, Time64, Date64.
    I64(Int64Builder, I64Kind),
    IntervalDayTime(IntervalDayTimeBuilder),
    /// Nested values as JSON text, one JSON document per line (`{"v":...}`).
    Json(Vec<u8>, usize),
}

#[derive(Debug, Clone, Copy)]
enum I32Kind {
    Date,
    Time32(TimeUnit),
    YearMonth,
}

#[derive(Debug, Clone, Copy)]
enum I64Kind {
    Timestamp(TimeUnit, bool),
    Time64(TimeUnit),
    Date64,
}

impl ColumnDecoder {
    fn new(field: &Field, n: usize) -> Result<Self> {
        Ok(match field.data_type() {
            DataType::Null => Self::Null(0),
            DataType::Boolean => Self::Boolean(BooleanBuilder::with_capacity(n)),
            DataType::Int8 => Self::Int8(Int8Builder::with_capacity(n)),
            DataType::Int16 => Self::Int16(Int16Builder::with_capacity(n)),
            DataType::Int32 => Self::Int32(Int32Builder::with_capacity(n)),
            DataType::Int64 => Self::Int64(Int64Builder::with_capacity(n)),
            DataType::UInt64 => Self::UInt64(UInt64Builder::with_capacity(n)),
            DataType::Float32 => Self::Float32(Float32Builder::with_capacity(n)),
            DataType::Float64 => Self::Float64(Float64Builder::with_capacity(n)),
            DataType::Decimal128(p, s) => Self::Decimal128(
                Decimal128Builder::with_capacity(n).with_data_type(DataType::Decimal128(*p, *s)),
                *p,
                *s,
            ),
            DataType::Utf8 => Self::Utf8(StringBuilder::with_capacity(n, n * 16)),
            DataType::LargeUtf8 => Self::LargeUtf8(LargeStringBuilder::with_capacity(n, n * 16)),
            DataType::Utf8View => Self::Utf8View(StringViewBuilder::with_capacity(n)),
            DataType::Binary => Self::Binary(BinaryBuilder::with_capacity(n, n * 8)),
            DataType::LargeBinary => Self::LargeBinary(LargeBinaryBuilder::with_capacity(n, n * 8)),
            DataType::Date32 => Self::I32(Int32Builder::with_capacity(n), I32Kind::Date),
            DataType::Time32(u @ (TimeUnit::Second | TimeUnit::Millisecond)) => {
                Self::I32(Int32Builder::with_capacity(n), I32Kind::Time32(*u))
            }
            DataType::Interval(IntervalUnit::YearMonth) => {
                Self::I32(Int32Builder::with_capacity(n), I32Kind::YearMonth)
            }
            DataType::Interval(IntervalUnit::DayTime) => {
                Self::IntervalDayTime(IntervalDayTimeBuilder::with_capacity(n))
            }
            DataType::Timestamp(u, tz) => Self::I64(
                Int64Builder::with_capacity(n),
                I64Kind::Timestamp(*u, tz.is_some()),
            ),
            DataType::Time64(u @ (TimeUnit::Microsecond | TimeUnit::Nanosecond)) => {
                Self::I64(Int64Builder::with_capacity(n), I64Kind::Time64(*u))
            }
            DataType::Date64 => Self::I64(Int64Builder::with_capacity(n), I64Kind::Date64),
            DataType::List(_)
            | DataType::LargeList(_)
            | DataType::Map(..)
            | DataType::Struct(_) => Self::Json(Vec::with_capacity(n * 16), 0),
            other => {
                return Err(Error::Decode {
                    column: field.name().clone(),
                    row: 0,
                    value: String::new(),
                    data_type: other.to_string(),
                    reason: "this Arrow type cannot be read from Athena results; declare the column as one of the types athena_to_arrow produces".into(),
                });
            }
        })
    }

    fn push(&mut self, value: Option<&str>) -> VResult<()> {
        let Some(v) = value else {
            self.push_null();
            return Ok(());
        };
        match self {
            Self::Null(n) => *n += 1,
            Self::Boolean(b) => b.append_value(parse_bool(v)?),
            Self::Int8(b) => b.append_value(parse_int(v)?),
            Self::Int16(b) => b.append_value(parse_int(v)?),
            Self::Int32(b) => b.append_value(parse_int(v)?),
            Self::Int64(b) => b.append_value(parse_int(v)?),
            Self::UInt64(b) => b.append_value(parse_int(v)?),
            Self::Float32(b) => b.append_value(parse_float32(v)?),
            Self::Float64(b) => b.append_value(parse_float(v)?),
            Self::Decimal128(b, p, s) => b.append_value(parse_decimal(v, *p, *s)?),
            Self::Utf8(b) => b.append_value(v),
            Self::LargeUtf8(b) => b.append_value(v),
            Self::Utf8View(b) => b.append_value(v),
            Self::Binary(b) => b.append_value(parse_hex(v)?),
            Self::LargeBinary(b) => b.append_value(parse_hex(v)?),
            Self::I32(b, kind) => b.append_value(match kind {
                I32Kind::Date => parse_date(v)?,
                I32Kind::Time32(u) => i32::try_from(parse_time(v, *u)?)
                    .map_err(|_| "time out of range".to_string())?,
                I32Kind::YearMonth => parse_year_month(v)?,
            }),
            Self::I64(b, kind) => b.append_value(match kind {
                I64Kind::Timestamp(u, tz) => parse_timestamp(v, *u, *tz)?,
                I64Kind::Time64(u) => parse_time(v, *u)?,
                I64Kind::Date64 => i64::from(parse_date(v)?) * 86_400_000,
            }),
            Self::IntervalDayTime(b) => b.append_value(parse_day_time(v)?),
            Self::Json(buf, n) => {
                buf.extend_from_slice(b"{\"v\":");
                buf.extend_from_slice(v.as_bytes());
                buf.extend_from_slice(b"}\n");
                *n += 1;
            }
        }
        Ok(())
    }

    fn push_null(&mut self) {
        match self {
            Self::Null(n) => *n += 1,
            Self::Boolean(b) => b.append_null(),
            Self::Int8(b) => b.append_null(),
            Self::Int16(b) => b.append_null(),
            Self::Int32(b) => b.append_null(),
            Self::Int64(b) => b.append_null(),
            Self::UInt64(b) => b.append_null(),
            Self::Float32(b) => b.append_null(),
            Self::Float64(b) => b.append_null(),
            Self::Decimal128(b, ..) => b.append_null(),
            Self::Utf8(b) => b.append_null(),
            Self::LargeUtf8(b) => b.append_null(),
            Self::Utf8View(b) => b.append_null(),
            Self::Binary(b) => b.append_null(),
            Self::LargeBinary(b) => b.append_null(),
            Self::I32(b, _) => b.append_null(),
            Self::I64(b, _) => b.append_null(),
            Self::IntervalDayTime(b) => b.append_null(),
            Self::Json(buf, n) => {
                buf.extend_from_slice(b"{\"v\":null}\n");
                *n += 1;
            }
        }
    }

    fn finish(&mut self, field: &Field) -> VResult<ArrayRef> {
        let retype = |a: ArrayRef| -> VResult<ArrayRef> {
            let data = a
                .to_data()
                .into_builder()
                .data_type(field.data_type().clone())
                .build()
                .map_err(|e| e.to_string())?;
            Ok(make_array(data))
        };
        Ok(match self {
            Self::Null(n) => {
                let a = Arc::new(NullArray::new(*n)) as ArrayRef;
                *n = 0;
                a
            }
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Int8(b) => Arc::new(b.finish()),
            Self::Int16(b) => Arc::new(b.finish()),
            Self::Int32(b) => Arc::new(b.finish()),
            Self::Int64(b) => Arc::new(b.finish()),
            Self::UInt64(b) => Arc::new(b.finish()),
            Self::Float32(b) => Arc::new(b.finish()),
            Self::Float64(b) => Arc::new(b.finish()),
            Self::Decimal128(b, ..) => Arc::new(b.finish()),
            Self::Utf8(b) => Arc::new(b.finish()),
            Self::LargeUtf8(b) => Arc::new(b.finish()),
            Self::Utf8View(b) => Arc::new(b.finish()),
            Self::Binary(b) => Arc::new(b.finish()),
            Self::LargeBinary(b) => Arc::new(b.finish()),
            Self::I32(b, _) => retype(Arc::new(b.finish()))?,
            Self::I64(b, _) => retype(Arc::new(b.finish()))?,
            Self::IntervalDayTime(b) => Arc::new(b.finish()),
            Self::Json(buf, n) => {
                let a = decode_json_column(buf, *n, field)?;
                buf.clear();
                *n = 0;
                a
            }
        })
    }
}

/// Decodes `{"v":<json>}` lines into one array of `field`'s type with arrow-json.
fn decode_json_column(buf: &[u8], rows: usize, field: &Field) -> VResult<ArrayRef> {
    use datafusion::arrow::json::ReaderBuilder;
    let schema = Arc::new(Schema::new(vec![Field::new(
        "v",
        field.data_type().clone(),
        true,
    )]));
    let mut decoder = ReaderBuilder::new(schema)
        .with_batch_size(rows.max(1))
        .build_decoder()
        .map_err(|e| e.to_string())?;
    let mut offset = 0;
    while offset < buf.len() {
        let read = decoder
            .decode(&buf[offset..])
            .map_err(|e| format!("invalid JSON value: {e}"))?;
        if read == 0 {
            break;
        }
        offset += read;
    }
    let batch = decoder
        .flush()
        .map_err(|e| format!("invalid JSON value: {e}"))?
        .ok_or_else(|| "no JSON values decoded".to_string())?;
    if batch.num_rows() != rows {
        return Err(format!(
            "decoded {} JSON values, expected {rows}",
            batch.num_rows()
        ));
    }
    Ok(Arc::clone(batch.column(0)))
}

// ---- value parsers ----------------------------------------------------------------------------

pub(crate) fn parse_bool(v: &str) -> VResult<bool> {
    match v {
        "true" | "TRUE" | "True" => Ok(true),
        "false" | "FALSE" | "False" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn parse_int<T: std::str::FromStr>(v: &str) -> VResult<T>
where
    T::Err: std::fmt::Display,
{
    v.parse::<T>().map_err(|e| e.to_string())
}

/// Java's `Double.toString`: `1.0E20`, `-1.5E-4`, `NaN`, `Infinity`, `-Infinity`.
pub(crate) fn parse_float(v: &str) -> VResult<f64> {
    match v {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => v.parse::<f64>().map_err(|e| e.to_string()),
    }
}

/// Java's `Float.toString`, parsed as `f32` directly (no double rounding through `f64`).
pub(crate) fn parse_float32(v: &str) -> VResult<f32> {
    match v {
        "NaN" => Ok(f32::NAN),
        "Infinity" => Ok(f32::INFINITY),
        "-Infinity" => Ok(f32::NEG_INFINITY),
        _ => v.parse::<f32>().map_err(|e| e.to_string()),
    }
}

/// A decimal's text (`-123.45`) as its unscaled value at `scale`, exactly.
pub(crate) fn parse_decimal(v: &str, precision: u8, scale: i8) -> VResult<i128> {
    let (neg, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err("not a decimal number".into());
    }
    let scale = scale.max(0) as usize;
    let (kept, dropped) = if frac_part.len() > scale {
        frac_part.split_at(scale)
    } else {
        (frac_part, "")
    };
    if dropped.bytes().any(|b| b != b'0') {
        return Err(format!("has more than {scale} fractional digits"));
    }
    let mut value: i128 = 0;
    let mut digits_used = 0usize;
    for b in int_part
        .bytes()
        .chain(kept.bytes())
        .chain(std::iter::repeat_n(b'0', scale - kept.len()))
    {
        if value != 0 || b != b'0' {
            digits_used += 1;
        }
        value = value
            .checked_mul(10)
            .and_then(|x| x.checked_add(i128::from(b - b'0')))
            .ok_or_else(|| "too many digits".to_string())?;
    }
    if digits_used > precision as usize {
        return Err(format!("does not fit precision {precision}"));
    }
    Ok(if neg { -value } else { value })
}

/// `2020-01-01` as days since the epoch.
pub(crate) fn parse_date(v: &str) -> VResult<i32> {
    let d = match fast_date(v.as_bytes()) {
        Some(d) => d,
        None => NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|e| e.to_string())?,
    };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from(d.signed_duration_since(epoch).num_days()).map_err(|e| e.to_string())
}

/// The digits of `b` as a number, when `b` holds only ASCII digits.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// The common `YYYY-MM-DD` spelling without chrono's format interpreter (which costs more
/// than the rest of a row); anything else is left to the general parser.
fn fast_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// `YYYY-MM-DD HH:MM:SS[.f{1,9}]` (or with `T`), the way Athena prints timestamps, without
/// chrono's format interpreter; anything else is left to the general parser.
fn fast_naive(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() < 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = fast_date(&b[..10])?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            digits(frac)? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        nanos,
    )?;
    Some(date.and_time(time))
}

fn parse_naive(v: &str) -> VResult<NaiveDateTime> {
    if let Some(t) = fast_naive(v.as_bytes()) {
        return Ok(t);
    }
    let fmt = if v.as_bytes().get(10) == Some(&b'T') {
        "%Y-%m-%dT%H:%M:%S%.f"
    } else {
        "%Y-%m-%d %H:%M:%S%.f"
    };
    NaiveDateTime::parse_from_str(v, fmt)
        .or_else(|_| {
            // `2020-01-01 12:34` (no seconds) and bare dates are accepted too.
            NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M").or_else(|_| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
            })
        })
        .map_err(|e| format!("not a timestamp ({e})"))
}

fn to_unit(secs: i64, nanos: u32, unit: TimeUnit) -> VResult<i64> {
    let r = match unit {
        TimeUnit::Second => Some(secs),
        TimeUnit::Millisecond => secs
            .checked_mul(1_000)
            .and_then(|s| s.checked_add(i64::from(nanos / 1_000_000))),
        TimeUnit::Microsecond => secs
            .checked_mul(1_000_000)
            .and_then(|s| s.checked_add(i64::from(nanos / 1_000))),
        TimeUnit::Nanosecond => secs
            .checked_mul(1_000_000_000)
            .and_then(|s| s.checked_add(i64::from(nanos))),
    };
    r.ok_or_else(|| "out of range for the timestamp unit".to_string())
}

/// `2020-01-01 12:34:56.789` (no zone), or with `with_zone` `... UTC`, `... Europe/Berlin`,
/// `... +01:00`: the instant in `unit` since the epoch (UTC).
pub(crate) fn parse_timestamp(v: &str, unit: TimeUnit, with_zone: bool) -> VResult<i64> {
    let (naive, zone) = if with_zone {
        match v.rsplit_once(' ') {
            Some((dt, zone))
                if zone.contains(|c: char| c.is_ascii_alphabetic() || c == '+' || c == '-')
                    && dt.len() >= 10 =>
            {
                (parse_naive(dt)?, Some(zone))
            }
            _ => (parse_naive(v)?, None),
        }
    } else {
        (parse_naive(v)?, None)
    };
    let utc = match zone {
        None | Some("UTC" | "Z" | "Etc/UTC" | "GMT") => naive.and_utc(),
        Some(zone) => {
            let tz: Tz = zone
                .parse()
                .map_err(|e| format!("unknown time zone '{zone}': {e}"))?;
            tz.from_local_datetime(&naive)
                .earliest()
                .ok_or_else(|| format!("{naive} does not exist in time zone {zone}"))?
                .with_timezone(&chrono::Utc)
        }
    };
    to_unit(utc.timestamp(), utc.timestamp_subsec_nanos(), unit)
}

/// `12:34:56.789` as `unit`s since midnight.
pub(crate) fn parse_time(v: &str, unit: TimeUnit) -> VResult<i64> {
    let t = NaiveTime::parse_from_str(v, "%H:%M:%S%.f").map_err(|e| format!("not a time ({e})"))?;
    use chrono::Timelike;
    to_unit(
        i64::from(t.num_seconds_from_midnight()),
        t.nanosecond(),
        unit,
    )
}

/// Lowercase hex bytes separated by spaces (`01 ab ff`); plain hex (`01abff`) is accepted too.
pub(crate) fn parse_hex(v: &str) -> VResult<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(v.len() / 3 + 1);
    let mut it = v.bytes().filter(|b| *b != b' ');
    while let Some(h) = it.next() {
        let l = it.next().ok_or("odd number of hex digits")?;
        match (nibble(h), nibble(l)) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => return Err("not hex bytes".into()),
        }
    }
    Ok(out)
}

/// `interval year to month` rendered `Y-M` (`-1-2` for minus 14 months) as months.
pub(crate) fn parse_year_month(v: &str) -> VResult<i32> {
    let (neg, rest) = v.strip_prefix('-').map_or((false, v), |r| (true, r));
    let (y, m) = rest
        .split_once('-')
        .ok_or("expected years-months such as 1-2")?;
    let y: i32 = y.parse().map_err(|_| "bad years")?;
    let m: i32 = m.parse().map_err(|_| "bad months")?;
    let months = y
        .checked_mul(12)
        .and_then(|y| y.checked_add(m))
        .ok_or("out of range")?;
    Ok(if neg { -months } else { months })
}

/// `interval day to second` rendered `D HH:MM:SS.fff` (optionally negative).
pub(crate) fn parse_day_time(v: &str) -> VResult<IntervalDayTime> {
    let (neg, rest) = v.strip_prefix('-').map_or((false, v), |r| (true, r));
    let (d, t) = rest
        .split_once(' ')
        .ok_or("expected days and time such as 2 03:04:05.678")?;
    let days: i32 = d.parse().map_err(|_| "bad days")?;
    let mut parts = t.splitn(3, ':');
    let h: i64 = parts
        .next()
        .unwrap_or("")
        .parse()
        .map_err(|_| "bad hours")?;
    let m: i64 = parts
        .next()
        .unwrap_or("")
        .parse()
        .map_err(|_| "bad minutes")?;
    let s = parts.next().ok_or("missing seconds")?;
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().map_err(|_| "bad seconds")?;
    let mut ms_frac = 0i64;
    for (i, c) in frac.bytes().take(3).enumerate() {
        if !c.is_ascii_digit() {
            return Err("bad fraction".into());
        }
        ms_frac += i64::from(c - b'0') * 10i64.pow(2 - i as u32);
    }
    let ms = ((h * 60 + m) * 60 + secs) * 1000 + ms_frac;
    let ms = i32::try_from(ms).map_err(|_| "out of range")?;
    Ok(if neg {
        IntervalDayTime::new(-days, -ms)
    } else {
        IntervalDayTime::new(days, ms)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Int32Type, TimestampMillisecondType};

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("123.45", 10, 2).unwrap(), 12345);
        assert_eq!(parse_decimal("-0.05", 10, 2).unwrap(), -5);
        assert_eq!(parse_decimal("7", 10, 2).unwrap(), 700);
        assert_eq!(parse_decimal("1.50", 10, 1).unwrap(), 15);
        assert_eq!(
            parse_decimal("99999999999999999999999999999999999999", 38, 0).unwrap(),
            99_999_999_999_999_999_999_999_999_999_999_999_999
        );
        assert_eq!(
            parse_decimal("0.12345678901234567890123456789012345678", 38, 38).unwrap(),
            12_345_678_901_234_567_890_123_456_789_012_345_678
        );
        assert!(
            parse_decimal("1.234", 10, 2)
                .unwrap_err()
                .contains("fractional digits")
        );
        assert!(
            parse_decimal("123456", 5, 0)
                .unwrap_err()
                .contains("precision 5")
        );
        assert!(parse_decimal("1e5", 10, 0).is_err());
        assert!(parse_decimal("", 10, 0).is_err());
        assert!(parse_decimal("-", 10, 0).is_err());
    }

    #[test]
    fn java_doubles() {
        assert_eq!(parse_float("1.0E20").unwrap(), 1e20);
        assert_eq!(parse_float("1.0E-4").unwrap(), 1e-4);
        assert_eq!(parse_float("-0.5").unwrap(), -0.5);
        assert!(parse_float("NaN").unwrap().is_nan());
        assert_eq!(parse_float("Infinity").unwrap(), f64::INFINITY);
        assert_eq!(parse_float("-Infinity").unwrap(), f64::NEG_INFINITY);
        assert_eq!(parse_float("4.9E-324").unwrap(), f64::from_bits(1));
        assert_eq!(parse_float("1.7976931348623157E308").unwrap(), f64::MAX);
        assert!(parse_float("abc").is_err());
        assert_eq!(parse_float32("3.4028235E38").unwrap(), f32::MAX);
        assert_eq!(parse_float32("1.4E-45").unwrap(), f32::from_bits(1));
        assert_eq!(parse_float32("0.1").unwrap(), 0.1f32);
    }

    #[test]
    fn temporal_values() {
        assert_eq!(parse_date("1970-01-02").unwrap(), 1);
        assert_eq!(parse_date("1969-12-31").unwrap(), -1);
        let ms = parse_timestamp("2020-01-01 12:34:56.789", TimeUnit::Millisecond, false).unwrap();
        assert_eq!(ms, 1_577_882_096_789);
        assert_eq!(
            parse_timestamp("2020-01-01 12:34:56", TimeUnit::Millisecond, false).unwrap(),
            1_577_882_096_000
        );
        assert_eq!(
            parse_timestamp("2020-01-01T12:34:56.789", TimeUnit::Microsecond, false).unwrap(),
            1_577_882_096_789_000
        );
        assert_eq!(
            parse_timestamp("2020-01-01 12:34:56.789 UTC", TimeUnit::Millisecond, true).unwrap(),
            ms
        );
        assert_eq!(
            parse_timestamp(
                "2020-01-01 13:34:56.789 Europe/Berlin",
                TimeUnit::Millisecond,
                true
            )
            .unwrap(),
            ms
        );
        assert_eq!(
            parse_timestamp(
                "2020-01-01 14:34:56.789 +02:00",
                TimeUnit::Millisecond,
                true
            )
            .unwrap(),
            ms
        );
        assert!(
            parse_timestamp(
                "2020-01-01 12:34:56.789 Mars/Base",
                TimeUnit::Millisecond,
                true
            )
            .unwrap_err()
            .contains("Mars/Base")
        );
        assert!(parse_timestamp("yesterday", TimeUnit::Millisecond, false).is_err());
        assert_eq!(
            parse_time("12:34:56.789", TimeUnit::Millisecond).unwrap(),
            45_296_789
        );
        assert_eq!(
            parse_time("00:00:01", TimeUnit::Microsecond).unwrap(),
            1_000_000
        );
    }

    /// The hand-written fast paths agree with chrono's parser on every spelling, and refuse
    /// (leaving it to chrono) what they do not know.
    #[test]
    fn fast_temporal_parsers_agree_with_chrono() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..5_000 {
            let date = format!("{:04}-{:02}-{:02}", next(10_000), next(13), next(32));
            let chrono_date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok();
            assert_eq!(fast_date(date.as_bytes()), chrono_date, "{date}");
            let frac_len = next(10) as usize;
            let frac: String = (0..frac_len)
                .map(|_| char::from(b'0' + next(10) as u8))
                .collect();
            let sep = if next(2) == 0 { ' ' } else { 'T' };
            let ts = format!(
                "{date}{sep}{:02}:{:02}:{:02}{}{frac}",
                next(25),
                next(61),
                next(61),
                if frac_len > 0 { "." } else { "" }
            );
            let fmt = format!("%Y-%m-%d{sep}%H:%M:%S%.f");
            let chrono_ts = NaiveDateTime::parse_from_str(&ts, &fmt).ok();
            match fast_naive(ts.as_bytes()) {
                Some(fast) => assert_eq!(Some(fast), chrono_ts, "{ts}"),
                // Refusing is always safe (chrono parses it), but only leap seconds should be.
                None => assert!(
                    chrono_ts.is_none() || &ts[17..19] == "60",
                    "{ts} refused by the fast path"
                ),
            }
        }
        for odd in [
            "2020-1-01",
            "+2020-01-01",
            "2020-01-01 1:00:00",
            "2020-01-01 10:00:00.",
            "2020-01-01 10:00:00.1234567890",
        ] {
            assert_eq!(fast_naive(odd.as_bytes()), None, "{odd}");
        }
    }

    #[test]
    fn varbinary_and_intervals() {
        assert_eq!(parse_hex("01 02 ff").unwrap(), vec![1, 2, 255]);
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
        assert_eq!(parse_hex("0aFF").unwrap(), vec![10, 255]);
        assert!(parse_hex("0").is_err());
        assert!(parse_hex("zz").is_err());
        assert_eq!(parse_year_month("1-2").unwrap(), 14);
        assert_eq!(parse_year_month("-1-2").unwrap(), -14);
        assert_eq!(
            parse_day_time("2 03:04:05.678").unwrap(),
            IntervalDayTime::new(2, 11_045_678)
        );
        assert_eq!(
            parse_day_time("-0 00:00:01.5").unwrap(),
            IntervalDayTime::new(0, -1_500)
        );
        assert!(parse_bool("yes").is_err());
    }

    #[test]
    fn batch_decoder_builds_typed_columns_and_names_bad_values() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("t", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new("d", DataType::Date32, true),
            Field::new("n", DataType::Null, true),
        ]));
        let mut dec = BatchDecoder::new(Arc::clone(&schema), 4).unwrap();
        for (i, s, t, d) in [
            (
                Some("1"),
                Some(""),
                Some("2020-01-01 00:00:00.001"),
                Some("1970-01-11"),
            ),
            (None, None, None, None),
        ] {
            dec.push(0, i).unwrap();
            dec.push(1, s).unwrap();
            dec.push(2, t).unwrap();
            dec.push(3, d).unwrap();
            dec.push(4, None).unwrap();
            dec.end_row();
        }
        let b = dec.flush().unwrap().unwrap();
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.schema(), schema);
        assert_eq!(b.column(0).as_primitive::<Int32Type>().value(0), 1);
        assert!(b.column(0).is_null(1));
        let s = b.column(1).as_string::<i32>();
        assert!(s.is_valid(0) && s.value(0).is_empty());
        assert!(s.is_null(1));
        assert_eq!(
            b.column(2)
                .as_primitive::<TimestampMillisecondType>()
                .value(0),
            1_577_836_800_001
        );
        assert_eq!(
            b.column(3)
                .as_primitive::<datafusion::arrow::datatypes::Date32Type>()
                .value(0),
            10
        );
        assert!(dec.flush().unwrap().is_none());

        let err = dec.push(0, Some("x1")).unwrap_err().to_string();
        assert!(
            err.contains("column 'i'") && err.contains("row 3") && err.contains("'x1'"),
            "{err}"
        );
        let err = dec.push(7, Some("x")).unwrap_err().to_string();
        assert!(err.contains("more than the 5 expected columns"), "{err}");
    }

    #[test]
    fn nested_values_come_from_json_text() {
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int64, true)));
        let st = DataType::Struct(
            vec![
                Field::new("a", DataType::Int32, true),
                Field::new("b", DataType::Utf8, true),
            ]
            .into(),
        );
        let map = crate::types::athena_to_arrow("map<varchar,double>").unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("l", list, true),
            Field::new("s", st, true),
            Field::new("m", map, true),
        ]));
        let mut dec = BatchDecoder::new(schema, 2).unwrap();
        dec.push(0, Some("[1,null,3]")).unwrap();
        dec.push(1, Some(r#"{"a":1,"b":"x, y"}"#)).unwrap();
        dec.push(2, Some(r#"{"k":1.5}"#)).unwrap();
        dec.end_row();
        dec.push(0, None).unwrap();
        dec.push(1, None).unwrap();
        dec.push(2, Some("{}")).unwrap();
        dec.end_row();
        let b = dec.flush().unwrap().unwrap();
        let l = b.column(0).as_list::<i32>();
        assert_eq!(l.value_length(0), 3);
        assert!(l.value(0).is_null(1));
        assert!(l.is_null(1));
        let s = b.column(1).as_struct();
        assert_eq!(s.column(1).as_string::<i32>().value(0), "x, y");
        assert!(s.is_null(1));
        let m = b.column(2).as_map();
        assert_eq!(m.value_length(0), 1);
        assert_eq!(m.value_length(1), 0);
        assert!(m.is_valid(1));
    }
}
