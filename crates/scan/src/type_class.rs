//! What kind of value a type holds, decided in one place for the whole crate (Arrow's own
//! predicates where it has them).

use datafusion::arrow::datatypes::DataType;

/// `varchar` in Athena: every Arrow string layout.
pub(crate) fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// A binary floating-point number (`real`, `double`; Float16 too, though Athena has none).
pub(crate) fn is_float(t: &DataType) -> bool {
    t.is_floating()
}

/// A signed integer: Athena's `tinyint`, `smallint`, `integer`, `bigint`. Unsigned integers
/// are not: Athena has none, and their arithmetic wraps or fails where Athena's does not.
pub(crate) fn is_signed_int(t: &DataType) -> bool {
    t.is_signed_integer()
}

/// A number Athena computes with: signed integers, floats and 128-bit decimals.
pub(crate) fn is_number(t: &DataType) -> bool {
    is_signed_int(t) || is_float(t) || matches!(t, DataType::Decimal128(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_falls_in_its_classes() {
        assert!(is_string(&DataType::Utf8View) && !is_string(&DataType::Binary));
        assert!(is_float(&DataType::Float16) && is_float(&DataType::Float64));
        assert!(!is_float(&DataType::Decimal128(10, 2)));
        assert!(is_signed_int(&DataType::Int8) && !is_signed_int(&DataType::UInt64));
        assert!(is_number(&DataType::Decimal128(38, 10)) && is_number(&DataType::Float32));
        assert!(!is_number(&DataType::UInt32) && !is_number(&DataType::Decimal256(40, 2)));
    }
}
