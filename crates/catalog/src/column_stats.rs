//! Column statistics from Glue (`GetColumnStatisticsForTable`), as DataFusion's optimizer
//! reads them: null counts, distinct counts, least and greatest values, all estimates (Glue's
//! statistics are as old as the last time someone computed them).

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::ScalarValue;
use datafusion::common::stats::{ColumnStatistics, Precision};

/// What Glue records about one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    /// The column name.
    pub name: String,
    /// NULL values.
    pub null_count: Option<u64>,
    /// Distinct non-NULL values.
    pub distinct_count: Option<u64>,
    /// The least value.
    pub min: Option<StatValue>,
    /// The greatest value.
    pub max: Option<StatValue>,
}

/// A least or greatest value as Glue records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatValue {
    /// `LONG` statistics (tinyint to bigint columns).
    Integer(i64),
    /// `DOUBLE` statistics (real and double columns).
    Float(f64),
    /// `DATE` statistics: days since 1970-01-01.
    Date(i32),
    /// `DECIMAL` statistics: the unscaled value and its scale.
    Decimal {
        /// The value times `10^scale`.
        unscaled: i128,
        /// Digits after the point.
        scale: i32,
    },
}

/// The statistics of one Glue column, when Glue has usable ones.
pub(crate) fn from_glue(c: &aws_sdk_glue::types::ColumnStatistics) -> Option<ColumnStats> {
    let data = c.statistics_data()?;
    let count = |n: i64| u64::try_from(n).ok();
    let mut stats = ColumnStats {
        name: c.column_name().to_string(),
        null_count: None,
        distinct_count: None,
        min: None,
        max: None,
    };
    if let Some(d) = data.long_column_statistics_data() {
        stats.null_count = count(d.number_of_nulls());
        stats.distinct_count = count(d.number_of_distinct_values());
        stats.min = Some(StatValue::Integer(d.minimum_value()));
        stats.max = Some(StatValue::Integer(d.maximum_value()));
    } else if let Some(d) = data.double_column_statistics_data() {
        stats.null_count = count(d.number_of_nulls());
        stats.distinct_count = count(d.number_of_distinct_values());
        stats.min = Some(StatValue::Float(d.minimum_value()));
        stats.max = Some(StatValue::Float(d.maximum_value()));
    } else if let Some(d) = data.date_column_statistics_data() {
        stats.null_count = count(d.number_of_nulls());
        stats.distinct_count = count(d.number_of_distinct_values());
        let day = |t: &aws_sdk_glue::primitives::DateTime| {
            i32::try_from(t.secs().div_euclid(86_400)).ok()
        };
        stats.min = d.minimum_value().and_then(day).map(StatValue::Date);
        stats.max = d.maximum_value().and_then(day).map(StatValue::Date);
    } else if let Some(d) = data.decimal_column_statistics_data() {
        stats.null_count = count(d.number_of_nulls());
        stats.distinct_count = count(d.number_of_distinct_values());
        let value = |n: &aws_sdk_glue::types::DecimalNumber| {
            Some(StatValue::Decimal {
                unscaled: big_endian_i128(n.unscaled_value().as_ref())?,
                scale: n.scale(),
            })
        };
        stats.min = d.minimum_value().and_then(value);
        stats.max = d.maximum_value().and_then(value);
    } else if let Some(d) = data.string_column_statistics_data() {
        stats.null_count = count(d.number_of_nulls());
        stats.distinct_count = count(d.number_of_distinct_values());
    } else if let Some(d) = data.boolean_column_statistics_data() {
        stats.null_count = count(d.number_of_nulls());
        stats.distinct_count =
            Some(u64::from(d.number_of_trues() > 0) + u64::from(d.number_of_falses() > 0));
    } else if let Some(d) = data.binary_column_statistics_data() {
        stats.null_count = count(d.number_of_nulls());
    } else {
        return None;
    }
    if stats.distinct_count == Some(0) {
        // Only NULLs: Glue's zero bounds are not values.
        stats.min = None;
        stats.max = None;
    }
    Some(stats)
}

/// A two's-complement big-endian integer of at most 16 bytes.
fn big_endian_i128(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut full = [fill; 16];
    full[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(full))
}

/// A value of `data_type` for `v`, when it is exactly representable.
fn scalar(v: StatValue, data_type: &DataType) -> Option<ScalarValue> {
    let value = match (v, data_type) {
        (StatValue::Integer(i), _) => ScalarValue::Int64(Some(i)),
        (StatValue::Float(f), _) if f.is_finite() => ScalarValue::Float64(Some(f)),
        (StatValue::Date(d), DataType::Date32) => ScalarValue::Date32(Some(d)),
        (StatValue::Decimal { unscaled, scale }, DataType::Decimal128(p, s)) => {
            let shift = i32::from(*s) - scale;
            let unscaled = if shift >= 0 {
                unscaled.checked_mul(10_i128.checked_pow(u32::try_from(shift).ok()?)?)?
            } else {
                // A coarser column scale would round: no exact value.
                return None;
            };
            return Some(ScalarValue::Decimal128(Some(unscaled), *p, *s));
        }
        _ => return None,
    };
    let cast = value.cast_to(data_type).ok()?;
    // Casts that change the value (out of range, rounding) give no statistic.
    (cast.cast_to(&value.data_type()).ok()? == value).then_some(cast)
}

/// DataFusion's column statistics for `schema`, from `stats` (matched by column name,
/// case-insensitively); unknown where Glue has none.
pub(crate) fn column_statistics(stats: &[ColumnStats], schema: &Schema) -> Vec<ColumnStatistics> {
    schema
        .fields()
        .iter()
        .map(|field| {
            let Some(s) = stats
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(field.name()))
            else {
                return ColumnStatistics::new_unknown();
            };
            let estimate = |n: Option<u64>| {
                n.and_then(|n| usize::try_from(n).ok())
                    .map_or(Precision::Absent, Precision::Inexact)
            };
            let value = |v: Option<StatValue>| {
                v.and_then(|v| scalar(v, field.data_type()))
                    .map_or(Precision::Absent, Precision::Inexact)
            };
            ColumnStatistics {
                null_count: estimate(s.null_count),
                distinct_count: estimate(s.distinct_count),
                min_value: value(s.min),
                max_value: value(s.max),
                ..ColumnStatistics::new_unknown()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Field;

    fn stats(name: &str, min: StatValue, max: StatValue) -> ColumnStats {
        ColumnStats {
            name: name.into(),
            null_count: Some(3),
            distinct_count: Some(40),
            min: Some(min),
            max: Some(max),
        }
    }

    #[test]
    fn glue_values_become_values_of_the_column_type() {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("Price", DataType::Decimal128(12, 2), true),
            Field::new("day", DataType::Date32, true),
            Field::new("x", DataType::Float64, true),
            Field::new("none", DataType::Utf8, true),
        ]);
        let glue = [
            stats("ID", StatValue::Integer(-5), StatValue::Integer(70_000)),
            stats(
                "price",
                StatValue::Decimal {
                    unscaled: 15,
                    scale: 1,
                },
                StatValue::Decimal {
                    unscaled: 99_999,
                    scale: 2,
                },
            ),
            stats("day", StatValue::Date(0), StatValue::Date(19_000)),
            stats("x", StatValue::Float(-1.5), StatValue::Float(f64::INFINITY)),
        ];
        let got = column_statistics(&glue, &schema);
        assert_eq!(
            got[0].min_value,
            Precision::Inexact(ScalarValue::Int32(Some(-5)))
        );
        assert_eq!(
            got[0].max_value,
            Precision::Inexact(ScalarValue::Int32(Some(70_000)))
        );
        assert_eq!(got[0].null_count, Precision::Inexact(3));
        assert_eq!(got[0].distinct_count, Precision::Inexact(40));
        assert_eq!(
            got[1].min_value,
            Precision::Inexact(ScalarValue::Decimal128(Some(150), 12, 2))
        );
        assert_eq!(
            got[1].max_value,
            Precision::Inexact(ScalarValue::Decimal128(Some(99_999), 12, 2))
        );
        assert_eq!(
            got[2].max_value,
            Precision::Inexact(ScalarValue::Date32(Some(19_000)))
        );
        assert_eq!(
            got[3].min_value,
            Precision::Inexact(ScalarValue::Float64(Some(-1.5)))
        );
        // An infinite bound says nothing; a column without statistics is unknown.
        assert_eq!(got[3].max_value, Precision::Absent);
        assert_eq!(got[4], ColumnStatistics::new_unknown());
    }

    #[test]
    fn values_that_do_not_fit_the_column_give_no_statistic() {
        let schema = Schema::new(vec![
            Field::new("small", DataType::Int8, true),
            Field::new("coarse", DataType::Decimal128(10, 1), true),
        ]);
        let glue = [
            stats("small", StatValue::Integer(-1), StatValue::Integer(300)),
            stats(
                "coarse",
                StatValue::Decimal {
                    unscaled: 125,
                    scale: 2,
                },
                StatValue::Decimal {
                    unscaled: 10,
                    scale: 0,
                },
            ),
        ];
        let got = column_statistics(&glue, &schema);
        assert_eq!(
            got[0].min_value,
            Precision::Inexact(ScalarValue::Int8(Some(-1)))
        );
        assert_eq!(got[0].max_value, Precision::Absent);
        assert_eq!(got[1].min_value, Precision::Absent);
        assert_eq!(
            got[1].max_value,
            Precision::Inexact(ScalarValue::Decimal128(Some(100), 10, 1))
        );
    }

    #[test]
    fn unscaled_values_are_twos_complement_big_endian() {
        assert_eq!(big_endian_i128(&[0x01, 0x00]), Some(256));
        assert_eq!(big_endian_i128(&[0xff]), Some(-1));
        assert_eq!(big_endian_i128(&[0xfe, 0x0c]), Some(-500));
        assert_eq!(big_endian_i128(&[]), None);
        assert_eq!(big_endian_i128(&[0; 17]), None);
    }
}
