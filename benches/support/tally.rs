//! The order-independent checksum of the benchmarks' result table (`id`, `x`, `s`, `day`, `ts`,
//! `amount`): row count, sums, and NULL / empty-string counts, equal however the rows were
//! fetched or ordered. Shared by `result_paths` and `pyathena_compare` (each adds its own
//! serialisation); `benches/pyathena_compare.py` computes the same fields from PyAthena's rows.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int64Type, TimestampMillisecondType,
};

/// The checksum of the rows added so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) rows: u64,
    pub(crate) id_sum: i128,
    pub(crate) x_nulls: u64,
    /// Sum of `x * 4` (exact: every x is a multiple of 0.25).
    pub(crate) x4_sum: i128,
    pub(crate) s_nulls: u64,
    pub(crate) s_empty: u64,
    /// UTF-8 bytes of the non-NULL strings.
    pub(crate) s_bytes: u64,
    /// Days since 1970-01-01.
    pub(crate) day_sum: i64,
    /// Milliseconds since 1970-01-01 00:00.
    pub(crate) ts_sum: i128,
    /// Cents.
    pub(crate) amount_sum: i128,
}

impl Tally {
    /// Adds the rows of `b` (its six columns by position and type).
    pub(crate) fn add(
        &mut self,
        b: &RecordBatch,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if b.num_columns() != 6 {
            return Err(format!("expected 6 columns, got {}", b.num_columns()).into());
        }
        self.rows += b.num_rows() as u64;
        let id = b
            .column(0)
            .as_primitive_opt::<Int64Type>()
            .ok_or("id is not bigint")?;
        self.id_sum += id.iter().flatten().map(i128::from).sum::<i128>();
        let x = b
            .column(1)
            .as_primitive_opt::<Float64Type>()
            .ok_or("x is not double")?;
        self.x_nulls += x.null_count() as u64;
        self.x4_sum += x.iter().flatten().map(|v| (v * 4.0) as i128).sum::<i128>();
        let s = b.column(2);
        self.s_nulls += s.null_count() as u64;
        let values: Box<dyn Iterator<Item = Option<&str>>> = match s.data_type() {
            DataType::Utf8 => Box::new(s.as_string::<i32>().iter()),
            DataType::LargeUtf8 => Box::new(s.as_string::<i64>().iter()),
            DataType::Utf8View => Box::new(s.as_string_view().iter()),
            other => return Err(format!("s is {other}, not varchar").into()),
        };
        for v in values.flatten() {
            self.s_empty += u64::from(v.is_empty());
            self.s_bytes += v.len() as u64;
        }
        let day = b
            .column(3)
            .as_primitive_opt::<Date32Type>()
            .ok_or("day is not date")?;
        self.day_sum += day.iter().flatten().map(i64::from).sum::<i64>();
        let ts = b
            .column(4)
            .as_primitive_opt::<TimestampMillisecondType>()
            .ok_or("ts is not timestamp(ms)")?;
        self.ts_sum += ts.iter().flatten().map(i128::from).sum::<i128>();
        let amount = b
            .column(5)
            .as_primitive_opt::<Decimal128Type>()
            .ok_or("amount is not decimal")?;
        self.amount_sum += amount.iter().flatten().sum::<i128>();
        Ok(())
    }
}
