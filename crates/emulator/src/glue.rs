//! Glue's `awsJson1.1` operations (`X-Amz-Target: AWSGlue.<Op>`) over the same catalog.

use serde_json::{Value, json};

use crate::catalog::{ColumnMeta, DatabaseMeta, PartitionMeta, TableFormat, TableMeta};
use crate::error::ApiError;
use crate::state::Inner;
use crate::wire::{epoch, max_results, name_pattern, opt_str, page, req_str};

/// Runs one Glue operation.
pub(crate) fn handle(inner: &Inner, op: &str, body: &Value) -> Result<Value, ApiError> {
    let result = dispatch(inner, op, body);
    // Glue calls its validation error InvalidInputException.
    result.map_err(|mut e| {
        if e.code == "InvalidRequestException" {
            e.code = "InvalidInputException";
            e.extra.clear();
        }
        e
    })
}

fn dispatch(inner: &Inner, op: &str, body: &Value) -> Result<Value, ApiError> {
    check_catalog_id(inner, body)?;
    match op {
        "GetDatabases" => {
            let max = max_results(body, 1, 100, 100)?;
            let dbs: Vec<Value> = inner
                .catalog
                .databases()
                .iter()
                .map(|d| database_json(inner, d))
                .collect();
            let (items, next) = page(&dbs, "gdb", opt_str(body, "NextToken")?, max)?;
            Ok(with_next(json!({ "DatabaseList": items }), next))
        }
        "GetDatabase" => {
            let name = req_str(body, "Name")?;
            let db = database(inner, name)?;
            Ok(json!({ "Database": database_json(inner, &db) }))
        }
        "GetTables" => {
            let name = req_str(body, "DatabaseName")?;
            let db = database(inner, name)?;
            let max = max_results(body, 1, 100, 100)?;
            let expression = opt_str(body, "Expression")?;
            let pattern = expression.map(name_pattern).transpose()?;
            let tables: Vec<Value> = db
                .tables
                .values()
                .filter(|t| pattern.as_ref().is_none_or(|p| p.is_match(&t.name)))
                .map(|t| table_json(inner, t))
                .collect();
            let scope = format!("gt-{name}-{}", expression.unwrap_or(""));
            let (items, next) = page(&tables, &scope, opt_str(body, "NextToken")?, max)?;
            Ok(with_next(json!({ "TableList": items }), next))
        }
        "GetTable" => {
            let table = table(
                inner,
                req_str(body, "DatabaseName")?,
                req_str(body, "Name")?,
            )?;
            Ok(json!({ "Table": table_json(inner, &table) }))
        }
        "GetPartitions" => {
            let db = req_str(body, "DatabaseName")?;
            let name = req_str(body, "TableName")?;
            let t = table(inner, db, name)?;
            // An Expression only narrows the list: every partition is returned and the caller
            // (Trino checks each partition's values against its predicate) filters.
            opt_str(body, "Expression")?;
            let max = max_results(body, 1, 1000, 1000)?;
            let partitions: Vec<Value> = t
                .partitions
                .iter()
                .map(|p| partition_json(inner, &t, p))
                .collect();
            let (items, next) = page(
                &partitions,
                &format!("gp-{db}-{name}"),
                opt_str(body, "NextToken")?,
                max,
            )?;
            Ok(with_next(json!({ "Partitions": items }), next))
        }
        "BatchGetPartition" => {
            let db = req_str(body, "DatabaseName")?;
            let name = req_str(body, "TableName")?;
            let t = table(inner, db, name)?;
            let wanted = body["PartitionsToGet"]
                .as_array()
                .ok_or_else(|| ApiError::missing("PartitionsToGet"))?;
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for key in wanted {
                let values: Vec<&str> = key["Values"]
                    .as_array()
                    .map(|v| v.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                match t.partitions.iter().find(|p| p.values == values) {
                    Some(p) => found.push(partition_json(inner, &t, p)),
                    None => missing.push(key.clone()),
                }
            }
            Ok(json!({ "Partitions": found, "UnprocessedKeys": missing }))
        }
        "GetColumnStatisticsForTable" => {
            check_catalog_id(inner, body)?;
            let db = req_str(body, "DatabaseName")?;
            let name = req_str(body, "TableName")?;
            let t = table(inner, db, name)?;
            let columns: Vec<String> = body["ColumnNames"]
                .as_array()
                .ok_or_else(|| ApiError::missing("ColumnNames"))?
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect();
            let (found, missing) = inner.column_stats.get(db, &t.name, &columns);
            let errors: Vec<Value> = missing
                .iter()
                .map(|c| {
                    json!({
                        "ColumnName": c,
                        "Error": {
                            "ErrorCode": "EntityNotFoundException",
                            "ErrorMessage": format!("no statistics for column {c}"),
                        },
                    })
                })
                .collect();
            Ok(json!({ "ColumnStatisticsList": found, "Errors": errors }))
        }
        other => Err(ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("The emulator does not implement AWSGlue.{other}"),
        )),
    }
}

fn partition_json(inner: &Inner, t: &TableMeta, p: &PartitionMeta) -> Value {
    json!({
        "Values": p.values,
        "DatabaseName": t.database,
        "TableName": t.name,
        "CatalogId": inner.account_id,
        "CreationTime": epoch(t.created),
        "StorageDescriptor": storage_descriptor(t, &t.columns, &p.location),
    })
}

fn check_catalog_id(inner: &Inner, body: &Value) -> Result<(), ApiError> {
    match opt_str(body, "CatalogId")? {
        Some(id) if id != inner.account_id => Err(not_found(format!("Catalog {id} not found"))),
        _ => Ok(()),
    }
}

fn not_found(message: String) -> ApiError {
    ApiError::new(
        http::StatusCode::BAD_REQUEST,
        "EntityNotFoundException",
        message,
    )
}

fn database(inner: &Inner, name: &str) -> Result<DatabaseMeta, ApiError> {
    inner
        .catalog
        .database(name)
        .ok_or_else(|| not_found(format!("Database {name} not found.")))
}

fn table(inner: &Inner, db: &str, name: &str) -> Result<TableMeta, ApiError> {
    database(inner, db)?;
    inner
        .catalog
        .table(db, name)
        .ok_or_else(|| not_found(format!("Table {name} not found.")))
}

fn with_next(mut value: Value, next: Option<String>) -> Value {
    if let (Some(next), Some(map)) = (next, value.as_object_mut()) {
        map.insert("NextToken".into(), Value::String(next));
    }
    value
}

fn database_json(inner: &Inner, d: &DatabaseMeta) -> Value {
    json!({
        "Name": d.name,
        "Description": "",
        "LocationUri": format!("s3://{}/{}/", crate::catalog::DATA_BUCKET, d.name),
        "Parameters": {},
        "CreateTime": epoch(d.created),
        "CatalogId": inner.account_id,
    })
}

fn columns_json(columns: &[ColumnMeta]) -> Vec<Value> {
    columns
        .iter()
        .map(|c| json!({ "Name": c.name, "Type": c.hive_type }))
        .collect()
}

fn storage_descriptor(t: &TableMeta, columns: &[ColumnMeta], location: &str) -> Value {
    // CSV tables are delimited text with typed columns (LazySimpleSerDe, Athena's default for
    // CSV): Trino reads an OpenCSVSerde table as all-varchar columns instead.
    let (input, output, serde, serde_parameters) = match t.format {
        TableFormat::Csv => (
            "org.apache.hadoop.mapred.TextInputFormat",
            "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            json!({ "field.delim": ",", "serialization.format": "," }),
        ),
        TableFormat::Parquet | TableFormat::Memory => (
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            json!({ "serialization.format": "1" }),
        ),
    };
    json!({
        "Columns": columns_json(columns),
        "Location": location,
        "InputFormat": input,
        "OutputFormat": output,
        "Compressed": false,
        "NumberOfBuckets": -1,
        "SerdeInfo": { "SerializationLibrary": serde, "Parameters": serde_parameters },
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": {},
        "StoredAsSubDirectories": false,
    })
}

/// A table's Parameters: its classification and, where known, `numRows` (as Hive's and
/// Athena's statistics record it) and `totalSize` (bytes of its files).
fn table_parameters(t: &TableMeta) -> Value {
    let mut params = json!({
        "classification": match t.format { TableFormat::Csv => "csv", _ => "parquet" },
        "EXTERNAL": "TRUE",
    });
    if let Some(map) = params.as_object_mut() {
        if let Some(rows) = t.rows {
            map.insert("numRows".into(), Value::String(rows.to_string()));
        }
        if t.format == TableFormat::Csv {
            // The files start with a header row (DataFusion reads them so).
            map.insert("skip.header.line.count".into(), Value::String("1".into()));
        }
        if t.format != TableFormat::Memory {
            map.insert("totalSize".into(), Value::String(t.bytes.to_string()));
        }
    }
    params
}

fn table_json(inner: &Inner, t: &TableMeta) -> Value {
    json!({
        "Name": t.name,
        "DatabaseName": t.database,
        "CreateTime": epoch(t.created),
        "UpdateTime": epoch(t.created),
        "Retention": 0,
        "StorageDescriptor": storage_descriptor(t, &t.columns, &t.location),
        "PartitionKeys": columns_json(&t.partition_keys),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": table_parameters(t),
        "CatalogId": inner.account_id,
        "IsRegisteredWithLakeFormation": false,
    })
}
