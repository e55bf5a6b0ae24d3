//! Glue column statistics: computed on request ([`crate::EmulatorHandle::compute_column_statistics`],
//! like a Glue column statistics task run), kept per table, and served by
//! `GetColumnStatisticsForTable` in Glue's JSON shapes.

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::Engine;
use chrono::Utc;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type,
};
use datafusion::common::TableReference;
use datafusion::functions::expr_fn::character_length;
use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, min, sum};
use datafusion::logical_expr::{cast, lit};
use datafusion::prelude::ident;
use serde_json::{Value, json};

use crate::catalog::DF_CATALOG;
use crate::error::{Error, Result};
use crate::state::Inner;
use crate::wire::epoch;

/// Statistics per `(database, table)`, each column's `ColumnStatistics` object.
#[derive(Debug, Default)]
pub(crate) struct ColumnStatsStore(Mutex<BTreeMap<(String, String), Vec<Value>>>);

impl ColumnStatsStore {
    /// The stored statistics of `columns` of a table, and the names that have none.
    pub(crate) fn get(
        &self,
        database: &str,
        table: &str,
        columns: &[String],
    ) -> (Vec<Value>, Vec<String>) {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let stored = map
            .get(&(database.to_owned(), table.to_owned()))
            .cloned()
            .unwrap_or_default();
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for c in columns {
            match stored.iter().find(|s| s["ColumnName"] == c.as_str()) {
                Some(s) => found.push(s.clone()),
                None => missing.push(c.clone()),
            }
        }
        (found, missing)
    }

    fn put(&self, database: &str, table: &str, stats: Vec<Value>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((database.to_owned(), table.to_owned()), stats);
    }
}

/// Computes and stores the statistics of every data column of `database.table` whose type
/// Glue keeps statistics for; returns how many columns got statistics.
pub(crate) async fn compute(inner: &Inner, database: &str, table: &str) -> Result<usize> {
    let meta = inner
        .catalog
        .table(database, table)
        .ok_or_else(|| Error::invalid("table", format!("{database}.{table}"), "no such table"))?;
    let df = inner
        .catalog
        .context()
        .table(TableReference::full(DF_CATALOG, database, table))
        .await
        .map_err(|e| Error::datafusion(format!("reading {database}.{table}"), e))?;
    let mut stats = Vec::new();
    for column in &meta.columns {
        let c = ident(&column.name);
        let data_type = df
            .schema()
            .field_with_unqualified_name(&column.name)
            .map(|f| f.data_type().clone())
            .map_err(|e| Error::datafusion(format!("column {}", column.name), e))?;
        let string = matches!(
            data_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        );
        let (low, high) = if string {
            let length = cast(character_length(c.clone()), DataType::Int64);
            (avg(length.clone()), max(length))
        } else if data_type == DataType::Boolean {
            // Trues and falses.
            (
                sum(cast(c.clone(), DataType::Int64)),
                sum(cast(!c.clone(), DataType::Int64)),
            )
        } else {
            (min(c.clone()), max(c.clone()))
        };
        let batches = df
            .clone()
            .aggregate(
                vec![],
                vec![
                    count(lit(1)).alias("rows"),
                    count(c.clone()).alias("values"),
                    count_distinct(c).alias("distinct"),
                    low.alias("low"),
                    high.alias("high"),
                ],
            )
            .map_err(|e| Error::datafusion(format!("statistics of {}", column.name), e))?
            .collect()
            .await
            .map_err(|e| Error::datafusion(format!("statistics of {}", column.name), e))?;
        let Some(batch) = batches.iter().find(|b| b.num_rows() == 1) else {
            continue;
        };
        let int = |i: usize| {
            batch
                .column(i)
                .as_primitive_opt::<Int64Type>()
                .map_or(0, |a| a.value(0))
        };
        let (rows, values, distinct) = (int(0), int(1), int(2));
        let nulls = rows - values;
        if let Some(data) = statistics_data(
            &data_type,
            nulls,
            distinct,
            batch.column(3),
            batch.column(4),
        ) {
            stats.push(json!({
                "ColumnName": column.name,
                "ColumnType": column.hive_type,
                "AnalyzedTime": epoch(Utc::now()),
                "StatisticsData": data,
            }));
        }
    }
    let n = stats.len();
    inner.column_stats.put(database, table, stats);
    Ok(n)
}

/// Glue's `ColumnStatisticsData` for a column of `data_type`; `None` for types Glue keeps no
/// statistics for (timestamps, nested types).
fn statistics_data(
    data_type: &DataType,
    nulls: i64,
    distinct: i64,
    low: &ArrayRef,
    high: &ArrayRef,
) -> Option<Value> {
    let long = |a: &ArrayRef| -> Option<i64> {
        if a.is_null(0) {
            return None;
        }
        Some(match a.data_type() {
            DataType::Int8 => i64::from(a.as_primitive::<Int8Type>().value(0)),
            DataType::Int16 => i64::from(a.as_primitive::<Int16Type>().value(0)),
            DataType::Int32 => i64::from(a.as_primitive::<Int32Type>().value(0)),
            DataType::Int64 => a.as_primitive::<Int64Type>().value(0),
            _ => return None,
        })
    };
    let double = |a: &ArrayRef| -> Option<f64> {
        if a.is_null(0) {
            return None;
        }
        match a.data_type() {
            DataType::Float32 => Some(f64::from(a.as_primitive::<Float32Type>().value(0))),
            DataType::Float64 => Some(a.as_primitive::<Float64Type>().value(0)),
            _ => None,
        }
    };
    // `{"Type": kind, key: {counts, least, greatest}}`; bounds left out when all are NULL.
    let ranged = |kind: &str, key: &str, low: Option<Value>, high: Option<Value>| {
        let mut data = json!({ "NumberOfNulls": nulls, "NumberOfDistinctValues": distinct });
        if let Some(v) = low {
            data["MinimumValue"] = v;
        }
        if let Some(v) = high {
            data["MaximumValue"] = v;
        }
        json!({ "Type": kind, key: data })
    };
    let day = |a: &ArrayRef| {
        (!a.is_null(0)).then(|| json!(i64::from(a.as_primitive::<Date32Type>().value(0)) * 86_400))
    };
    let number = |a: &ArrayRef, scale: i8| {
        (!a.is_null(0)).then(|| {
            let v = a.as_primitive::<Decimal128Type>().value(0);
            json!({
                "UnscaledValue": base64::engine::general_purpose::STANDARD.encode(v.to_be_bytes()),
                "Scale": scale,
            })
        })
    };
    Some(match data_type {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => ranged(
            "LONG",
            "LongColumnStatisticsData",
            long(low).map(|v| json!(v)),
            long(high).map(|v| json!(v)),
        ),
        DataType::Float32 | DataType::Float64 => ranged(
            "DOUBLE",
            "DoubleColumnStatisticsData",
            double(low).map(|v| json!(v)),
            double(high).map(|v| json!(v)),
        ),
        DataType::Date32 => ranged("DATE", "DateColumnStatisticsData", day(low), day(high)),
        DataType::Decimal128(_, scale) => ranged(
            "DECIMAL",
            "DecimalColumnStatisticsData",
            number(low, *scale),
            number(high, *scale),
        ),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => json!({
            "Type": "STRING",
            "StringColumnStatisticsData": {
                "MaximumLength": long(high).unwrap_or(0),
                "AverageLength": double(low).unwrap_or(0.0),
                "NumberOfNulls": nulls,
                "NumberOfDistinctValues": distinct,
            }
        }),
        DataType::Boolean => json!({
            "Type": "BOOLEAN",
            "BooleanColumnStatisticsData": {
                "NumberOfTrues": long(low).unwrap_or(0),
                "NumberOfFalses": long(high).unwrap_or(0),
                "NumberOfNulls": nulls,
            }
        }),
        _ => return None,
    })
}
