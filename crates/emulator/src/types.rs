//! Athena's names for Arrow types: Hive spellings for the catalog, Trino spellings (with the
//! measured precision and scale) for `ColumnInfo` and `.metadata`.

use datafusion::arrow::datatypes::DataType;

/// A result column's type as Athena reports it in `ColumnInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AthenaType {
    pub(crate) name: String,
    pub(crate) precision: i64,
    pub(crate) scale: i64,
    pub(crate) case_sensitive: bool,
}

impl AthenaType {
    /// The type of a `CAST(x AS JSON)` column.
    pub(crate) fn json() -> Self {
        Self {
            name: "json".to_owned(),
            precision: 0,
            scale: 0,
            case_sensitive: false,
        }
    }
}

/// The DML (Trino) type name, precision and scale Athena reports for a result column.
pub(crate) fn athena_type(dt: &DataType) -> AthenaType {
    let (name, precision, scale) = match dt {
        DataType::Boolean => ("boolean", 0, 0),
        DataType::Int8 => ("tinyint", 3, 0),
        DataType::Int16 | DataType::UInt8 => ("smallint", 5, 0),
        DataType::Int32 | DataType::UInt16 => ("integer", 10, 0),
        DataType::Int64 | DataType::UInt32 => ("bigint", 19, 0),
        DataType::UInt64 => ("decimal", 20, 0),
        DataType::Float16 | DataType::Float32 => ("float", 17, 0),
        DataType::Float64 => ("double", 17, 0),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => ("decimal", i64::from(*p), i64::from(*s)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ("varchar", 2_147_483_647, 0),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => ("varbinary", 1_073_741_824, 0),
        DataType::Date32 | DataType::Date64 => ("date", 0, 0),
        DataType::Timestamp(_, None) => ("timestamp", 3, 0),
        DataType::Timestamp(_, Some(_)) => ("timestamp with time zone", 3, 0),
        DataType::Time32(_) | DataType::Time64(_) => ("time", 3, 0),
        DataType::Interval(_) | DataType::Duration(_) => ("interval day to second", 0, 0),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(_, _) => ("array", 0, 0),
        DataType::Struct(_) => ("row", 0, 0),
        DataType::Map(_, _) => ("map", 0, 0),
        DataType::Dictionary(_, value) => return athena_type(value),
        DataType::Null => ("unknown", 0, 0),
        _ => ("varchar", 2_147_483_647, 0),
    };
    AthenaType {
        name: name.to_owned(),
        precision,
        scale,
        case_sensitive: name == "varchar",
    }
}

/// The Hive (DDL / Glue) spelling of a column type: `int`, `string`, `decimal(10,2)`,
/// `array<string>`, `struct<a:int>`, `map<string,int>`.
pub(crate) fn hive_type(dt: &DataType) -> String {
    match dt {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "int".into(),
        DataType::Int64 | DataType::UInt32 => "bigint".into(),
        DataType::UInt64 => "decimal(20,0)".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => {
            format!("decimal({p},{s})")
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::Time32(_) | DataType::Time64(_) => "string".into(),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => {
            format!("array<{}>", hive_type(f.data_type()))
        }
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), hive_type(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!(
                    "map<{},{}>",
                    hive_type(kv[0].data_type()),
                    hive_type(kv[1].data_type())
                )
            }
            _ => "map<string,string>".into(),
        },
        DataType::Dictionary(_, value) => hive_type(value),
        _ => "string".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{Field, TimeUnit};

    use super::*;

    #[test]
    fn measured_precisions() {
        let cases = [
            (DataType::Int8, "tinyint", 3),
            (DataType::Int16, "smallint", 5),
            (DataType::Int32, "integer", 10),
            (DataType::Int64, "bigint", 19),
            (DataType::Float32, "float", 17),
            (DataType::Float64, "double", 17),
            (DataType::Utf8, "varchar", 2_147_483_647),
            (DataType::Binary, "varbinary", 1_073_741_824),
            (
                DataType::Timestamp(TimeUnit::Millisecond, None),
                "timestamp",
                3,
            ),
            (DataType::Boolean, "boolean", 0),
            (DataType::Date32, "date", 0),
        ];
        for (dt, name, precision) in cases {
            let t = athena_type(&dt);
            assert_eq!((t.name.as_str(), t.precision), (name, precision), "{dt}");
        }
        let d = athena_type(&DataType::Decimal128(10, 2));
        assert_eq!((d.name.as_str(), d.precision, d.scale), ("decimal", 10, 2));
    }

    #[test]
    fn hive_spellings() {
        assert_eq!(hive_type(&DataType::Int32), "int");
        assert_eq!(hive_type(&DataType::Utf8View), "string");
        assert_eq!(hive_type(&DataType::Decimal128(10, 2)), "decimal(10,2)");
        let list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        assert_eq!(hive_type(&list), "array<string>");
        let st = DataType::Struct(
            vec![
                Field::new("a", DataType::Int32, true),
                Field::new("b", DataType::Float64, true),
            ]
            .into(),
        );
        assert_eq!(hive_type(&st), "struct<a:int,b:double>");
        let map = DataType::Map(
            Arc::new(Field::new(
                "entries",
                DataType::Struct(
                    vec![
                        Field::new("key", DataType::Utf8, false),
                        Field::new("value", DataType::Int32, true),
                    ]
                    .into(),
                ),
                false,
            )),
            false,
        );
        assert_eq!(hive_type(&map), "map<string,int>");
    }
}
