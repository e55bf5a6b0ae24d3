//! Athena type names and Arrow types, both ways.
//!
//! Athena spells types three ways: Hive DDL in Glue (`int`, `string`, `struct<a:int>`), Iceberg
//! DDL with spaces (`decimal(10, 2)`, `struct<a: int>`), and Trino in DML and query results
//! (`integer`, `varchar(10)`, `row(a integer)`, `timestamp(3) with time zone`). [`AthenaType`]
//! parses all of them; [`athena_to_arrow`] maps to Arrow, [`arrow_to_trino`] and
//! [`arrow_to_hive`] map back (for `CAST` and DDL).
//!
//! (Over 800 lines with its tests: one grammar and its two mappings, which read best side by
//! side; the code itself is under 700 lines.)

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, IntervalUnit, TimeUnit};

use crate::error::{Error, Result};

/// The time zone given to Arrow timestamps read from `timestamp with time zone` values: Athena
/// renders each value with its own zone; the instant is kept, in UTC.
pub(crate) const TIMESTAMP_TZ: &str = "UTC";

/// A parsed Athena type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AthenaType {
    /// `boolean`
    Boolean,
    /// `tinyint`
    TinyInt,
    /// `smallint`
    SmallInt,
    /// `int` / `integer`
    Integer,
    /// `bigint`
    BigInt,
    /// `float` / `real`
    Real,
    /// `double` / `double precision`
    Double,
    /// `decimal(p, s)` (`decimal` alone is `decimal(10, 0)` as in Hive)
    Decimal(u8, i8),
    /// `string` / `varchar` / `varchar(n)`
    Varchar(Option<u32>),
    /// `char(n)`
    Char(Option<u32>),
    /// `binary` / `varbinary`
    Varbinary,
    /// `date`
    Date,
    /// `timestamp` / `timestamp(p)` (default precision 3)
    Timestamp(u8),
    /// `timestamp(p) with time zone`
    TimestampTz(u8),
    /// `time` / `time(p)` (default precision 3)
    Time(u8),
    /// `json`
    Json,
    /// `uuid`
    Uuid,
    /// `ipaddress`
    IpAddress,
    /// `ipprefix`
    IpPrefix,
    /// `interval year to month`
    IntervalYearToMonth,
    /// `interval day to second`
    IntervalDayToSecond,
    /// `unknown`: the type of a bare `NULL`.
    Unknown,
    /// `array<T>` / `array(T)`
    Array(Box<AthenaType>),
    /// `map<K,V>` / `map(K, V)`
    Map(Box<AthenaType>, Box<AthenaType>),
    /// `struct<a:T,..>` / `row(a T, ..)`
    Row(Vec<(String, AthenaType)>),
}

impl AthenaType {
    /// Parses any Athena / Hive / Iceberg / Trino spelling, case-insensitively.
    pub fn parse(type_name: &str) -> Result<Self> {
        let err = |reason: String| Error::UnsupportedAthenaType {
            type_name: type_name.to_string(),
            reason,
        };
        let tokens = tokenize(type_name).map_err(&err)?;
        let mut parser = Parser {
            tokens: &tokens,
            pos: 0,
        };
        let ty = parser.parse_type().map_err(&err)?;
        if parser.pos != tokens.len() {
            return Err(err(format!(
                "unexpected '{}' after the type",
                tokens[parser.pos]
            )));
        }
        Ok(ty)
    }

    /// Whether values of this type are nested (array, map, row) and so must be read as JSON
    /// text (`CAST(x AS JSON)`) on the text result paths.
    pub fn is_nested(&self) -> bool {
        matches!(self, Self::Array(_) | Self::Map(..) | Self::Row(_))
    }

    /// The Arrow type values of this type are read as.
    pub fn to_arrow(&self) -> DataType {
        match self {
            Self::Boolean => DataType::Boolean,
            Self::TinyInt => DataType::Int8,
            Self::SmallInt => DataType::Int16,
            Self::Integer => DataType::Int32,
            Self::BigInt => DataType::Int64,
            Self::Real => DataType::Float32,
            Self::Double => DataType::Float64,
            Self::Decimal(p, s) => DataType::Decimal128(*p, *s),
            Self::Varchar(_)
            | Self::Char(_)
            | Self::Json
            | Self::Uuid
            | Self::IpAddress
            | Self::IpPrefix => DataType::Utf8,
            Self::Varbinary => DataType::Binary,
            Self::Date => DataType::Date32,
            Self::Timestamp(p) => DataType::Timestamp(time_unit(*p), None),
            Self::TimestampTz(p) => DataType::Timestamp(time_unit(*p), Some(TIMESTAMP_TZ.into())),
            Self::Time(p) => match time_unit(*p) {
                TimeUnit::Millisecond => DataType::Time32(TimeUnit::Millisecond),
                unit => DataType::Time64(unit),
            },
            Self::IntervalYearToMonth => DataType::Interval(IntervalUnit::YearMonth),
            Self::IntervalDayToSecond => DataType::Interval(IntervalUnit::DayTime),
            Self::Unknown => DataType::Null,
            Self::Array(item) => {
                DataType::List(Arc::new(Field::new("item", item.to_arrow(), true)))
            }
            Self::Map(k, v) => DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k.to_arrow(), false),
                        Field::new("value", v.to_arrow(), true),
                    ])),
                    false,
                )),
                false,
            ),
            Self::Row(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(name, ty)| Field::new(name, ty.to_arrow(), true))
                    .collect(),
            ),
        }
    }
}

fn time_unit(precision: u8) -> TimeUnit {
    match precision {
        0..=3 => TimeUnit::Millisecond,
        4..=6 => TimeUnit::Microsecond,
        _ => TimeUnit::Nanosecond,
    }
}

/// Prints the Trino (DML) spelling, e.g. `row("a" integer, "b" array(varchar))`.
impl fmt::Display for AthenaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Boolean => f.write_str("boolean"),
            Self::TinyInt => f.write_str("tinyint"),
            Self::SmallInt => f.write_str("smallint"),
            Self::Integer => f.write_str("integer"),
            Self::BigInt => f.write_str("bigint"),
            Self::Real => f.write_str("real"),
            Self::Double => f.write_str("double"),
            Self::Decimal(p, s) => write!(f, "decimal({p}, {s})"),
            Self::Varchar(None) => f.write_str("varchar"),
            Self::Varchar(Some(n)) => write!(f, "varchar({n})"),
            Self::Char(None) => f.write_str("char"),
            Self::Char(Some(n)) => write!(f, "char({n})"),
            Self::Varbinary => f.write_str("varbinary"),
            Self::Date => f.write_str("date"),
            Self::Timestamp(3) => f.write_str("timestamp"),
            Self::Timestamp(p) => write!(f, "timestamp({p})"),
            Self::TimestampTz(p) => write!(f, "timestamp({p}) with time zone"),
            Self::Time(3) => f.write_str("time"),
            Self::Time(p) => write!(f, "time({p})"),
            Self::Json => f.write_str("json"),
            Self::Uuid => f.write_str("uuid"),
            Self::IpAddress => f.write_str("ipaddress"),
            Self::IpPrefix => f.write_str("ipprefix"),
            Self::IntervalYearToMonth => f.write_str("interval year to month"),
            Self::IntervalDayToSecond => f.write_str("interval day to second"),
            Self::Unknown => f.write_str("unknown"),
            Self::Array(item) => write!(f, "array({item})"),
            Self::Map(k, v) => write!(f, "map({k}, {v})"),
            Self::Row(fields) => {
                f.write_str("row(")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "\"{}\" {ty}", name.replace('"', "\"\""))?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Parses an Athena type name (any spelling) into the Arrow type its values are read as.
///
/// `decimal(p,s)` becomes `Decimal128(p, s)`, `timestamp` `Timestamp(Millisecond)`,
/// `timestamp with time zone` `Timestamp(Millisecond, "UTC")`, `time` `Time32(Millisecond)`,
/// `array` `List`, `map` `Map`, `struct`/`row` `Struct`; text-like types (`json`, `uuid`,
/// `ipaddress`) become `Utf8`. Unknown names are an error naming the type.
pub fn athena_to_arrow(type_name: &str) -> Result<DataType> {
    AthenaType::parse(type_name).map(|t| t.to_arrow())
}

/// The Athena type whose values read back as `data_type` (the inverse of [`athena_to_arrow`]
/// where one exists; unsigned and large types widen).
pub fn arrow_to_athena(data_type: &DataType) -> Result<AthenaType> {
    let unsupported = || Error::UnsupportedArrowType {
        data_type: data_type.to_string(),
        context: String::new(),
    };
    Ok(match data_type {
        DataType::Null => AthenaType::Unknown,
        DataType::Boolean => AthenaType::Boolean,
        DataType::Int8 => AthenaType::TinyInt,
        DataType::Int16 | DataType::UInt8 => AthenaType::SmallInt,
        DataType::Int32 | DataType::UInt16 => AthenaType::Integer,
        DataType::Int64 | DataType::UInt32 => AthenaType::BigInt,
        DataType::UInt64 => AthenaType::Decimal(20, 0),
        DataType::Float16 | DataType::Float32 => AthenaType::Real,
        DataType::Float64 => AthenaType::Double,
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => {
            if *p > 38 || *s < 0 {
                return Err(Error::UnsupportedArrowType {
                    data_type: data_type.to_string(),
                    context: ": Athena decimals have precision <= 38 and scale >= 0".into(),
                });
            }
            AthenaType::Decimal(*p, *s)
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => AthenaType::Varchar(None),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => AthenaType::Varbinary,
        DataType::Date32 | DataType::Date64 => AthenaType::Date,
        DataType::Timestamp(unit, tz) => {
            let p = unit_precision(unit);
            if tz.is_some() {
                AthenaType::TimestampTz(p)
            } else {
                AthenaType::Timestamp(p)
            }
        }
        DataType::Time32(unit) | DataType::Time64(unit) => AthenaType::Time(unit_precision(unit)),
        DataType::Interval(IntervalUnit::YearMonth) => AthenaType::IntervalYearToMonth,
        DataType::Interval(IntervalUnit::DayTime) | DataType::Duration(_) => {
            AthenaType::IntervalDayToSecond
        }
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => {
            AthenaType::Array(Box::new(arrow_to_athena(f.data_type())?))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => AthenaType::Map(
                Box::new(arrow_to_athena(kv[0].data_type())?),
                Box::new(arrow_to_athena(kv[1].data_type())?),
            ),
            _ => return Err(unsupported()),
        },
        DataType::Struct(fields) => AthenaType::Row(
            fields
                .iter()
                .map(|f| Ok((f.name().clone(), arrow_to_athena(f.data_type())?)))
                .collect::<Result<_>>()?,
        ),
        DataType::Dictionary(_, value) => arrow_to_athena(value)?,
        _ => return Err(unsupported()),
    })
}

fn unit_precision(unit: &TimeUnit) -> u8 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

/// The Trino (DML) type name for `CAST(x AS <name>)`, e.g. `integer`, `varchar`,
/// `decimal(10, 2)`, `row("a" integer)`.
pub fn arrow_to_trino(data_type: &DataType) -> Result<String> {
    arrow_to_athena(data_type).map(|t| t.to_string())
}

/// The Hive DDL type name (`int`, `string`, `struct<a:int>`), for `CREATE TABLE`. Types Hive
/// tables cannot hold (time, timestamp with time zone, intervals) are an error.
pub fn arrow_to_hive(data_type: &DataType) -> Result<String> {
    let t = arrow_to_athena(data_type)?;
    hive_name(&t).ok_or_else(|| Error::UnsupportedArrowType {
        data_type: data_type.to_string(),
        context: format!(": Athena type {t} cannot be a column of a Hive table"),
    })
}

fn hive_name(t: &AthenaType) -> Option<String> {
    Some(match t {
        AthenaType::Boolean => "boolean".into(),
        AthenaType::TinyInt => "tinyint".into(),
        AthenaType::SmallInt => "smallint".into(),
        AthenaType::Integer => "int".into(),
        AthenaType::BigInt => "bigint".into(),
        AthenaType::Real => "float".into(),
        AthenaType::Double => "double".into(),
        AthenaType::Decimal(p, s) => format!("decimal({p},{s})"),
        AthenaType::Varchar(None) | AthenaType::Json | AthenaType::Uuid => "string".into(),
        AthenaType::Varchar(Some(n)) => format!("varchar({n})"),
        AthenaType::Char(n) => format!("char({})", n.unwrap_or(1)),
        AthenaType::Varbinary => "binary".into(),
        AthenaType::Date => "date".into(),
        AthenaType::Timestamp(_) => "timestamp".into(),
        AthenaType::Array(item) => format!("array<{}>", hive_name(item)?),
        AthenaType::Map(k, v) => format!("map<{},{}>", hive_name(k)?, hive_name(v)?),
        AthenaType::Row(fields) => {
            let parts: Option<Vec<String>> = fields
                .iter()
                .map(|(n, t)| Some(format!("{n}:{}", hive_name(t)?)))
                .collect();
            format!("struct<{}>", parts?.join(","))
        }
        _ => return None,
    })
}

/// Whether UNLOAD can write a column of this Arrow type (UNLOAD rejects `time` and
/// `timestamp with time zone`, at any depth).
pub(crate) fn unloadable(data_type: &DataType) -> bool {
    match data_type {
        DataType::Time32(_) | DataType::Time64(_) => false,
        DataType::Timestamp(_, Some(_)) => false,
        DataType::Interval(_) | DataType::Duration(_) | DataType::Null => false,
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            unloadable(f.data_type())
        }
        DataType::Map(f, _) => unloadable(f.data_type()),
        DataType::Struct(fields) => fields.iter().all(|f| unloadable(f.data_type())),
        _ => true,
    }
}

// ---- tokenizer and parser -------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Number(u64),
    Punct(char),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => f.write_str(w),
            Token::Quoted(w) => write!(f, "\"{w}\""),
            Token::Number(n) => write!(f, "{n}"),
            Token::Punct(c) => write!(f, "{c}"),
        }
    }
}

fn tokenize(s: &str) -> std::result::Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if matches!(c, '<' | '>' | '(' | ')' | ',' | ':') {
            out.push(Token::Punct(c));
        } else if c == '"' || c == '`' {
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some((_, q)) if q == c => {
                        if chars.peek().map(|(_, n)| *n) == Some(c) {
                            chars.next();
                            name.push(c);
                        } else {
                            break;
                        }
                    }
                    Some((_, other)) => name.push(other),
                    None => return Err(format!("unterminated quoted name starting at {i}")),
                }
            }
            out.push(Token::Quoted(name));
        } else if c.is_ascii_digit() {
            let mut end = i + c.len_utf8();
            while let Some((j, d)) = chars.peek() {
                if d.is_ascii_digit() {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let n = s[i..end]
                .parse()
                .map_err(|_| format!("number '{}' is too large", &s[i..end]))?;
            out.push(Token::Number(n));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let mut end = i + c.len_utf8();
            while let Some((j, d)) = chars.peek() {
                if d.is_alphanumeric() || *d == '_' || *d == '$' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Token::Word(s[i..end].to_string()));
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    if out.is_empty() {
        return Err("the type name is empty".into());
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
}

type PResult<T> = std::result::Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, c: char) -> PResult<()> {
        match self.next() {
            Some(Token::Punct(p)) if *p == c => Ok(()),
            Some(t) => Err(format!("expected '{c}' but found '{t}'")),
            None => Err(format!("expected '{c}' but the type ended")),
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        match self.peek() {
            Some(Token::Word(x)) if x.eq_ignore_ascii_case(w) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn expect_word(&mut self, w: &str) -> PResult<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(match self.peek() {
                Some(t) => format!("expected '{w}' but found '{t}'"),
                None => format!("expected '{w}' but the type ended"),
            })
        }
    }

    fn number(&mut self) -> PResult<u64> {
        match self.next() {
            Some(Token::Number(n)) => Ok(*n),
            Some(t) => Err(format!("expected a number but found '{t}'")),
            None => Err("expected a number but the type ended".into()),
        }
    }

    /// `( n )` when present.
    fn opt_len(&mut self) -> PResult<Option<u64>> {
        if self.eat_punct('(') {
            let n = self.number()?;
            self.expect_punct(')')?;
            Ok(Some(n))
        } else {
            Ok(None)
        }
    }

    fn precision(&mut self, name: &str) -> PResult<u8> {
        match self.opt_len()? {
            None => Ok(3),
            Some(p) if p <= 12 => Ok(p as u8),
            Some(p) => Err(format!("{name} precision {p} is out of range 0..=12")),
        }
    }

    fn field_name(&mut self) -> PResult<String> {
        match self.next() {
            Some(Token::Word(w)) => Ok(w.clone()),
            Some(Token::Quoted(w)) => Ok(w.clone()),
            // Field names may look like numbers in Hive (`struct<1:int>` is rare but legal).
            Some(Token::Number(n)) => Ok(n.to_string()),
            Some(t) => Err(format!("expected a field name but found '{t}'")),
            None => Err("expected a field name but the type ended".into()),
        }
    }

    fn parse_type(&mut self) -> PResult<AthenaType> {
        let word = match self.next() {
            Some(Token::Word(w)) => w.to_ascii_lowercase(),
            Some(t) => return Err(format!("expected a type name but found '{t}'")),
            None => return Err("expected a type name but the type ended".into()),
        };
        Ok(match word.as_str() {
            "boolean" | "bool" => AthenaType::Boolean,
            "tinyint" => AthenaType::TinyInt,
            "smallint" => AthenaType::SmallInt,
            "int" | "integer" => AthenaType::Integer,
            "bigint" => AthenaType::BigInt,
            "float" | "real" => AthenaType::Real,
            "double" => {
                self.eat_word("precision");
                AthenaType::Double
            }
            "decimal" | "numeric" => {
                if self.eat_punct('(') {
                    let p = self.number()?;
                    let s = if self.eat_punct(',') {
                        self.number()?
                    } else {
                        0
                    };
                    self.expect_punct(')')?;
                    if !(1..=38).contains(&p) {
                        return Err(format!("decimal precision {p} is out of range 1..=38"));
                    }
                    if s > p {
                        return Err(format!("decimal scale {s} is larger than precision {p}"));
                    }
                    AthenaType::Decimal(p as u8, s as i8)
                } else {
                    AthenaType::Decimal(10, 0)
                }
            }
            "string" => AthenaType::Varchar(None),
            "varchar" => AthenaType::Varchar(self.opt_len()?.map(|n| n as u32)),
            "char" => AthenaType::Char(self.opt_len()?.map(|n| n as u32)),
            "binary" | "varbinary" => AthenaType::Varbinary,
            "date" => AthenaType::Date,
            "timestamp" | "time" => {
                let p = self.precision(&word)?;
                let tz = if self.eat_word("with") {
                    self.expect_word("time")?;
                    self.expect_word("zone")?;
                    true
                } else {
                    if self.eat_word("without") {
                        self.expect_word("time")?;
                        self.expect_word("zone")?;
                    }
                    false
                };
                match (word.as_str(), tz) {
                    ("timestamp", false) => AthenaType::Timestamp(p),
                    ("timestamp", true) => AthenaType::TimestampTz(p),
                    ("time", false) => AthenaType::Time(p),
                    _ => {
                        return Err(
                            "time with time zone is not supported; cast it to varchar".into()
                        );
                    }
                }
            }
            "json" => AthenaType::Json,
            "uuid" => AthenaType::Uuid,
            "ipaddress" => AthenaType::IpAddress,
            "ipprefix" => AthenaType::IpPrefix,
            "unknown" => AthenaType::Unknown,
            "interval" => {
                if self.eat_word("year") {
                    self.expect_word("to")?;
                    self.expect_word("month")?;
                    AthenaType::IntervalYearToMonth
                } else if self.eat_word("day") {
                    self.expect_word("to")?;
                    self.expect_word("second")?;
                    AthenaType::IntervalDayToSecond
                } else {
                    return Err(
                        "expected 'interval year to month' or 'interval day to second'".into(),
                    );
                }
            }
            "array" => {
                let close = self.open()?;
                let item = self.parse_type()?;
                self.expect_punct(close)?;
                AthenaType::Array(Box::new(item))
            }
            "map" => {
                let close = self.open()?;
                let k = self.parse_type()?;
                self.expect_punct(',')?;
                let v = self.parse_type()?;
                self.expect_punct(close)?;
                AthenaType::Map(Box::new(k), Box::new(v))
            }
            "struct" | "row" => {
                let close = self.open()?;
                let mut fields = Vec::new();
                if !self.eat_punct(close) {
                    loop {
                        let start = self.pos;
                        // Hive: `a:int`; Trino: `a integer`; Trino also allows anonymous
                        // fields (`row(integer, varchar)`), named `field0`, `field1`, ...
                        let named = self.field_name().and_then(|name| {
                            self.eat_punct(':');
                            let ty = self.parse_type()?;
                            match self.peek() {
                                Some(Token::Punct(c)) if *c == ',' || *c == close => Ok((name, ty)),
                                _ => Err("not a named field".to_string()),
                            }
                        });
                        let (name, ty) = match named {
                            Ok(field) => field,
                            Err(named_err) if word == "row" => {
                                self.pos = start;
                                let ty = self.parse_type().map_err(|_| named_err)?;
                                (format!("field{}", fields.len()), ty)
                            }
                            Err(e) => return Err(e),
                        };
                        fields.push((name, ty));
                        if self.eat_punct(close) {
                            break;
                        }
                        self.expect_punct(',')?;
                    }
                }
                AthenaType::Row(fields)
            }
            other => return Err(format!("'{other}' is not a known Athena type")),
        })
    }

    /// `<` or `(`; returns the matching closer.
    fn open(&mut self) -> PResult<char> {
        if self.eat_punct('<') {
            Ok('>')
        } else if self.eat_punct('(') {
            Ok(')')
        } else {
            Err(match self.peek() {
                Some(t) => format!("expected '<' or '(' but found '{t}'"),
                None => "expected '<' or '(' but the type ended".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrow(s: &str) -> DataType {
        athena_to_arrow(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn scalar_types_in_every_spelling() {
        let cases: &[(&str, DataType)] = &[
            ("boolean", DataType::Boolean),
            ("tinyint", DataType::Int8),
            ("smallint", DataType::Int16),
            ("int", DataType::Int32),
            ("INTEGER", DataType::Int32),
            ("bigint", DataType::Int64),
            ("float", DataType::Float32),
            ("real", DataType::Float32),
            ("double", DataType::Float64),
            ("double precision", DataType::Float64),
            ("decimal(10,2)", DataType::Decimal128(10, 2)),
            ("decimal(10, 2)", DataType::Decimal128(10, 2)),
            ("decimal(38,38)", DataType::Decimal128(38, 38)),
            ("decimal", DataType::Decimal128(10, 0)),
            ("string", DataType::Utf8),
            ("varchar", DataType::Utf8),
            ("varchar(10)", DataType::Utf8),
            ("char(3)", DataType::Utf8),
            ("binary", DataType::Binary),
            ("varbinary", DataType::Binary),
            ("date", DataType::Date32),
            (
                "timestamp",
                DataType::Timestamp(TimeUnit::Millisecond, None),
            ),
            (
                "timestamp(3)",
                DataType::Timestamp(TimeUnit::Millisecond, None),
            ),
            (
                "timestamp(6)",
                DataType::Timestamp(TimeUnit::Microsecond, None),
            ),
            (
                "timestamp with time zone",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            ),
            (
                "timestamp(3) with time zone",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            ),
            ("time", DataType::Time32(TimeUnit::Millisecond)),
            ("time(6)", DataType::Time64(TimeUnit::Microsecond)),
            ("json", DataType::Utf8),
            ("uuid", DataType::Utf8),
            ("ipaddress", DataType::Utf8),
            (
                "interval year to month",
                DataType::Interval(IntervalUnit::YearMonth),
            ),
            (
                "interval day to second",
                DataType::Interval(IntervalUnit::DayTime),
            ),
            ("unknown", DataType::Null),
        ];
        for (name, expected) in cases {
            assert_eq!(&arrow(name), expected, "{name}");
        }
    }

    #[test]
    fn nested_types_hive_trino_and_iceberg_spellings() {
        let list_int = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
        assert_eq!(arrow("array<int>"), list_int);
        assert_eq!(arrow("array(integer)"), list_int);
        let s = DataType::Struct(Fields::from(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        assert_eq!(arrow("struct<a:int,b:string>"), s);
        assert_eq!(arrow("struct<a: int, b: string>"), s);
        assert_eq!(arrow("row(a integer, b varchar)"), s);
        assert_eq!(arrow("row(\"a\" integer, \"b\" varchar(3))"), s);
        assert_eq!(
            arrow("row(integer, varchar(3))"),
            DataType::Struct(Fields::from(vec![
                Field::new("field0", DataType::Int32, true),
                Field::new("field1", DataType::Utf8, true),
            ]))
        );
        assert_eq!(
            arrow("row(timestamp with time zone)"),
            DataType::Struct(Fields::from(vec![Field::new(
                "field0",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true
            )]))
        );
        assert_eq!(
            arrow("row(a timestamp with time zone, b double precision)"),
            DataType::Struct(Fields::from(vec![
                Field::new(
                    "a",
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    true
                ),
                Field::new("b", DataType::Float64, true),
            ]))
        );
        let m = arrow("map<string,int>");
        match &m {
            DataType::Map(entries, false) => match entries.data_type() {
                DataType::Struct(kv) => {
                    assert_eq!(kv[0].data_type(), &DataType::Utf8);
                    assert!(!kv[0].is_nullable());
                    assert_eq!(kv[1].data_type(), &DataType::Int32);
                }
                other => panic!("{other}"),
            },
            other => panic!("{other}"),
        }
        assert_eq!(arrow("map(varchar, integer)"), m);
        // Deep nesting.
        let deep = arrow("array<map<string,struct<x:array<decimal(10, 2)>,y:row(z timestamp)>>>");
        let DataType::List(item) = deep else { panic!() };
        let DataType::Map(entries, _) = item.data_type() else {
            panic!()
        };
        let DataType::Struct(kv) = entries.data_type() else {
            panic!()
        };
        let DataType::Struct(xy) = kv[1].data_type() else {
            panic!()
        };
        assert_eq!(
            xy[0].data_type(),
            &DataType::List(Arc::new(Field::new(
                "item",
                DataType::Decimal128(10, 2),
                true
            )))
        );
        let DataType::Struct(z) = xy[1].data_type() else {
            panic!()
        };
        assert_eq!(
            z[0].data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, None)
        );
    }

    #[test]
    fn unknown_or_broken_types_name_the_type() {
        for bad in [
            "hyperloglog",
            "decimal(39,2)",
            "decimal(5,6)",
            "array<int",
            "map<int>",
            "",
            "int int",
            "struct<a:>",
        ] {
            let err = athena_to_arrow(bad).expect_err(bad).to_string();
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
        }
        let err = athena_to_arrow("geometry").unwrap_err().to_string();
        assert!(
            err.contains("'geometry' is not a known Athena type"),
            "{err}"
        );
    }

    #[test]
    fn arrow_back_to_trino_and_hive() {
        let cases = [
            "boolean",
            "tinyint",
            "smallint",
            "integer",
            "bigint",
            "real",
            "double",
            "decimal(10, 2)",
            "varchar",
            "varbinary",
            "date",
            "timestamp",
            "timestamp(6)",
            "timestamp(3) with time zone",
            "time",
            "interval year to month",
            "interval day to second",
            "array(map(varchar, row(\"a\" integer, \"b c\" array(double))))",
        ];
        for c in cases {
            let dt = arrow(c);
            assert_eq!(arrow_to_trino(&dt).unwrap(), c, "{c}");
            // and the Trino name parses back to the same Arrow type
            assert_eq!(arrow(&arrow_to_trino(&dt).unwrap()), dt, "{c}");
        }
        assert_eq!(
            arrow_to_hive(&arrow("struct<a:int,b:array<string>>")).unwrap(),
            "struct<a:int,b:array<string>>"
        );
        assert_eq!(
            arrow_to_hive(&arrow("map<string,decimal(10,2)>")).unwrap(),
            "map<string,decimal(10,2)>"
        );
        assert_eq!(arrow_to_hive(&DataType::Float32).unwrap(), "float");
        let err = arrow_to_hive(&arrow("time")).unwrap_err().to_string();
        assert!(err.contains("cannot be a column of a Hive table"), "{err}");
        let err = arrow_to_trino(&DataType::Decimal128(38, -2))
            .unwrap_err()
            .to_string();
        assert!(err.contains("scale >= 0"), "{err}");
        assert_eq!(arrow_to_trino(&DataType::UInt64).unwrap(), "decimal(20, 0)");
    }

    #[test]
    fn unload_rejects_time_and_zoned_timestamps_at_any_depth() {
        assert!(unloadable(&arrow("array<struct<a:int,b:timestamp>>")));
        assert!(!unloadable(&arrow("time")));
        assert!(!unloadable(&arrow("timestamp with time zone")));
        assert!(!unloadable(&arrow(
            "array(row(a timestamp(3) with time zone))"
        )));
    }
}
