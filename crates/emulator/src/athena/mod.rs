//! Athena's `awsJson1.1` operations (`X-Amz-Target: AmazonAthena.<Op>`).

pub(crate) mod json;
mod metadata;
pub(crate) mod query;
pub(crate) mod render;
mod result_csv;
pub(crate) mod sql;
mod unload;

use std::io::{BufReader, Seek, SeekFrom};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::catalog::{CATALOG_NAME, ColumnMeta, TableFormat, TableMeta};
use crate::error::ApiError;
use crate::state::{Inner, Workgroup};
use crate::wire::{
    decode_token, encode_token, epoch, max_results, name_pattern, opt_str, page, req_str,
};
use query::{QueryRecord, QueryState, ResultKind, StartRequest};

/// What a request did, for the request log.
#[derive(Debug, Default)]
pub(crate) struct OpNotes {
    pub(crate) sql: Option<String>,
    pub(crate) query_execution_id: Option<String>,
}

/// Runs one Athena operation.
pub(crate) async fn handle(
    inner: &Arc<Inner>,
    op: &str,
    body: &Value,
    notes: &mut OpNotes,
) -> Result<Value, ApiError> {
    if let Some(id) = body.get("QueryExecutionId").and_then(Value::as_str) {
        notes.query_execution_id = Some(id.to_owned());
    }
    match op {
        "StartQueryExecution" => start_query_execution(inner, body, notes),
        "GetQueryExecution" => {
            let id = req_str(body, "QueryExecutionId")?;
            let table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
            let q = table.by_id.get(id).ok_or_else(|| query::not_found(id))?;
            Ok(json!({ "QueryExecution": execution_json(q) }))
        }
        "BatchGetQueryExecution" => batch_get_query_execution(inner, body),
        "GetQueryResults" => get_query_results(inner, body).await,
        "StopQueryExecution" => {
            let id = req_str(body, "QueryExecutionId")?;
            query::stop(inner, id)?;
            Ok(json!({}))
        }
        "ListQueryExecutions" => {
            let max = max_results(body, 0, 50, 50)?;
            let workgroup = opt_str(body, "WorkGroup")?.unwrap_or("primary");
            find_workgroup(inner, workgroup)?;
            let ids: Vec<String> = {
                let table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
                table
                    .order
                    .iter()
                    .rev()
                    .filter(|id| {
                        table
                            .by_id
                            .get(*id)
                            .is_some_and(|q| q.workgroup == workgroup)
                    })
                    .cloned()
                    .collect()
            };
            let max = if max == 0 { 50 } else { max };
            let (items, next) = page(
                &ids,
                &format!("lqe-{workgroup}"),
                opt_str(body, "NextToken")?,
                max,
            )?;
            Ok(with_next(json!({ "QueryExecutionIds": items }), next))
        }
        "ListDataCatalogs" => {
            let max = max_results(body, 2, 50, 50)?;
            let catalogs = [json!({ "CatalogName": CATALOG_NAME, "Type": "GLUE" })];
            let (items, next) = page(&catalogs, "ldc", opt_str(body, "NextToken")?, max)?;
            Ok(with_next(json!({ "DataCatalogsSummary": items }), next))
        }
        "GetDataCatalog" => {
            let name = req_str(body, "Name")?;
            check_catalog(name)?;
            Ok(json!({ "DataCatalog": {
                "Name": CATALOG_NAME,
                "Description": "Local data served by the datafusion-athena emulator",
                "Type": "GLUE",
                "Parameters": { "catalog-id": inner.account_id },
            }}))
        }
        "ListDatabases" => {
            check_catalog(req_str(body, "CatalogName")?)?;
            let max = max_results(body, 1, 50, 50)?;
            let dbs: Vec<Value> = inner
                .catalog
                .databases()
                .iter()
                .map(|d| database_json(&d.name))
                .collect();
            let (items, next) = page(&dbs, "ldb", opt_str(body, "NextToken")?, max)?;
            Ok(with_next(json!({ "DatabaseList": items }), next))
        }
        "GetDatabase" => {
            check_catalog(req_str(body, "CatalogName")?)?;
            let name = req_str(body, "DatabaseName")?;
            let db = inner
                .catalog
                .database(name)
                .ok_or_else(|| metadata_error(format!("Database {name} not found.")))?;
            Ok(json!({ "Database": database_json(&db.name) }))
        }
        "ListTableMetadata" => {
            check_catalog(req_str(body, "CatalogName")?)?;
            let name = req_str(body, "DatabaseName")?;
            let max = max_results(body, 1, 50, 50)?;
            let db = inner
                .catalog
                .database(name)
                .ok_or_else(|| metadata_error(format!("Database {name} not found.")))?;
            let pattern = opt_str(body, "Expression")?.map(name_pattern).transpose()?;
            let tables: Vec<Value> = db
                .tables
                .values()
                .filter(|t| pattern.as_ref().is_none_or(|p| p.is_match(&t.name)))
                .map(table_metadata_json)
                .collect();
            let scope = format!("ltm-{name}-{}", opt_str(body, "Expression")?.unwrap_or(""));
            let (items, next) = page(&tables, &scope, opt_str(body, "NextToken")?, max)?;
            Ok(with_next(json!({ "TableMetadataList": items }), next))
        }
        "GetTableMetadata" => {
            check_catalog(req_str(body, "CatalogName")?)?;
            let db = req_str(body, "DatabaseName")?;
            let name = req_str(body, "TableName")?;
            if inner.catalog.database(db).is_none() {
                return Err(metadata_error(format!("Database {db} not found.")));
            }
            let table = inner.catalog.table(db, name).ok_or_else(|| {
                metadata_error(format!("Table {name} not found in database {db}."))
            })?;
            Ok(json!({ "TableMetadata": table_metadata_json(&table) }))
        }
        "GetWorkGroup" => {
            let name = req_str(body, "WorkGroup")?;
            let wg = find_workgroup(inner, name)?;
            Ok(json!({ "WorkGroup": workgroup_json(wg) }))
        }
        "ListWorkGroups" => {
            let max = max_results(body, 1, 50, 50)?;
            let all: Vec<Value> = inner
                .workgroups
                .iter()
                .map(|w| {
                    json!({
                        "Name": w.name,
                        "State": "ENABLED",
                        "Description": w.description,
                        "CreationTime": epoch(w.created),
                        "EngineVersion": engine_version(),
                    })
                })
                .collect();
            let (items, next) = page(&all, "lwg", opt_str(body, "NextToken")?, max)?;
            Ok(with_next(json!({ "WorkGroups": items }), next))
        }
        other => Err(ApiError::new(
            http::StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("The emulator does not implement AmazonAthena.{other}"),
        )),
    }
}

fn with_next(mut value: Value, next: Option<String>) -> Value {
    if let (Some(next), Some(map)) = (next, value.as_object_mut()) {
        map.insert("NextToken".into(), Value::String(next));
    }
    value
}

fn metadata_error(message: String) -> ApiError {
    ApiError::new(http::StatusCode::BAD_REQUEST, "MetadataException", message)
}

fn check_catalog(name: &str) -> Result<(), ApiError> {
    if name.eq_ignore_ascii_case(CATALOG_NAME) {
        Ok(())
    } else {
        Err(ApiError::invalid_request(format!(
            "Catalog {name} was not found; the emulator serves {CATALOG_NAME}"
        )))
    }
}

fn find_workgroup<'a>(inner: &'a Inner, name: &str) -> Result<&'a Workgroup, ApiError> {
    inner
        .workgroups
        .iter()
        .find(|w| w.name == name)
        .ok_or_else(|| ApiError::invalid_request(format!("WorkGroup {name} is not found.")))
}

fn engine_version() -> Value {
    json!({ "SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3" })
}

fn workgroup_json(w: &Workgroup) -> Value {
    let mut config = json!({
        "EnforceWorkGroupConfiguration": false,
        "PublishCloudWatchMetricsEnabled": false,
        "RequesterPaysEnabled": false,
        "EngineVersion": engine_version(),
    });
    if let Some(map) = config.as_object_mut() {
        if let Some(location) = &w.output_location {
            map.insert(
                "ResultConfiguration".into(),
                json!({ "OutputLocation": location }),
            );
        }
        if w.managed {
            map.insert(
                "ManagedQueryResultsConfiguration".into(),
                json!({ "Enabled": true }),
            );
        }
    }
    json!({
        "Name": w.name,
        "State": "ENABLED",
        "Configuration": config,
        "Description": w.description,
        "CreationTime": epoch(w.created),
    })
}

fn database_json(name: &str) -> Value {
    json!({ "Name": name, "Description": "", "Parameters": {} })
}

fn columns_json(columns: &[ColumnMeta]) -> Vec<Value> {
    columns
        .iter()
        .map(|c| json!({ "Name": c.name, "Type": c.hive_type }))
        .collect()
}

fn classification(t: &TableMeta) -> &'static str {
    match t.format {
        TableFormat::Csv => "csv",
        TableFormat::Parquet | TableFormat::Memory => "parquet",
    }
}

fn table_metadata_json(t: &TableMeta) -> Value {
    json!({
        "Name": t.name,
        "CreateTime": epoch(t.created),
        "LastAccessTime": epoch(t.created),
        "TableType": "EXTERNAL_TABLE",
        "Columns": columns_json(&t.columns),
        "PartitionKeys": columns_json(&t.partition_keys),
        "Parameters": {
            "classification": classification(t),
            "location": t.location,
            "EXTERNAL": "TRUE",
        },
    })
}

fn start_query_execution(
    inner: &Arc<Inner>,
    body: &Value,
    notes: &mut OpNotes,
) -> Result<Value, ApiError> {
    let sql = req_str(body, "QueryString")?;
    notes.sql = Some(sql.to_owned());
    if sql.is_empty() || sql.len() > 262_144 {
        return Err(ApiError::validation(
            "queryString",
            format!("<{} bytes>", sql.len()),
            "Member must have length between 1 and 262144",
        ));
    }
    let token = opt_str(body, "ClientRequestToken")?;
    if let Some(t) = token
        && !(32..=128).contains(&t.chars().count())
    {
        return Err(ApiError::validation(
            "clientRequestToken",
            t,
            "Member must have length between 32 and 128",
        ));
    }
    let parameters = match body.get("ExecutionParameters") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::invalid_request("ExecutionParameters must be a list of strings")
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid_request(
                "ExecutionParameters must be a list of strings",
            ));
        }
    };
    let exec_sql = if parameters.is_empty() {
        sql.to_owned()
    } else {
        sql::bind_parameters(sql, &parameters).map_err(ApiError::invalid_request)?
    };
    let context = body
        .get("QueryExecutionContext")
        .cloned()
        .unwrap_or(Value::Null);
    let result_config = body
        .get("ResultConfiguration")
        .cloned()
        .unwrap_or(Value::Null);
    let id = query::start(
        inner,
        StartRequest {
            sql: sql.to_owned(),
            exec_sql,
            database: opt_str(&context, "Database")?.map(str::to_owned),
            catalog: opt_str(&context, "Catalog")?.map(str::to_owned),
            workgroup: opt_str(body, "WorkGroup")?.map(str::to_owned),
            output_location: opt_str(&result_config, "OutputLocation")?.map(str::to_owned),
            client_token: token.map(str::to_owned),
        },
    )?;
    notes.query_execution_id = Some(id.clone());
    Ok(json!({ "QueryExecutionId": id }))
}

fn millis(a: chrono::DateTime<chrono::Utc>, b: chrono::DateTime<chrono::Utc>) -> i64 {
    (b - a).num_milliseconds().max(0)
}

fn execution_json(q: &QueryRecord) -> Value {
    let mut status = Map::new();
    status.insert("State".into(), q.state.as_str().into());
    status.insert("SubmissionDateTime".into(), epoch(q.submitted));
    if let Some(reason) = &q.reason {
        status.insert("StateChangeReason".into(), reason.clone().into());
    }
    if let Some(done) = q.completed {
        status.insert("CompletionDateTime".into(), epoch(done));
    }
    if let Some(e) = &q.error {
        status.insert(
            "AthenaError".into(),
            json!({
                "ErrorCategory": e.category,
                "ErrorType": e.error_type,
                "Retryable": e.retryable,
                "ErrorMessage": e.message,
            }),
        );
    }
    let now = chrono::Utc::now();
    let running_since = q.running_since;
    let end = q.completed.unwrap_or(now);
    let queue_ms = millis(q.submitted, running_since.unwrap_or(end));
    let engine_ms = running_since.map(|r| millis(r, end)).unwrap_or(0);
    let mut stats = json!({
        "EngineExecutionTimeInMillis": engine_ms,
        "DataScannedInBytes": q.bytes_scanned,
        "TotalExecutionTimeInMillis": millis(q.submitted, end),
        "QueryQueueTimeInMillis": queue_ms,
        "ServicePreProcessingTimeInMillis": 0,
        "QueryPlanningTimeInMillis": 0,
        "ServiceProcessingTimeInMillis": 0,
        "ResultReuseInformation": { "ReusedPreviousResult": false },
    });
    if let (Some(m), Some(map)) = (&q.manifest_location, stats.as_object_mut()) {
        map.insert("DataManifestLocation".into(), m.clone().into());
    }
    let mut context = Map::new();
    if let Some(db) = &q.database {
        context.insert("Database".into(), db.clone().into());
    }
    context.insert(
        "Catalog".into(),
        q.catalog
            .clone()
            .unwrap_or_else(|| CATALOG_NAME.to_owned())
            .into(),
    );
    let mut out = json!({
        "QueryExecutionId": q.id,
        "Query": q.sql,
        "StatementType": "DML",
        "SubstatementType": q.substatement,
        "QueryExecutionContext": context,
        "Status": status,
        "Statistics": stats,
        "WorkGroup": q.workgroup,
        "EngineVersion": engine_version(),
        "ResultReuseConfiguration": { "ResultReuseByAgeConfiguration": { "Enabled": false } },
    });
    if let (Some(location), Some(map)) = (&q.output_location, out.as_object_mut()) {
        map.insert(
            "ResultConfiguration".into(),
            json!({ "OutputLocation": location }),
        );
    }
    out
}

fn batch_get_query_execution(inner: &Inner, body: &Value) -> Result<Value, ApiError> {
    let ids = body
        .get("QueryExecutionIds")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::missing("queryExecutionIds"))?;
    if ids.is_empty() || ids.len() > 50 {
        return Err(ApiError::validation(
            "queryExecutionIds",
            format!("<{} ids>", ids.len()),
            "Member must have length between 1 and 50",
        ));
    }
    let table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        let id = id.as_str().unwrap_or_default();
        match table.by_id.get(id) {
            Some(q) => found.push(execution_json(q)),
            None => missing.push(json!({
                "QueryExecutionId": id,
                "ErrorCode": "INVALID_INPUT",
                "ErrorMessage": format!("QueryExecution {id} was not found"),
            })),
        }
    }
    Ok(json!({ "QueryExecutions": found, "UnprocessedQueryExecutionIds": missing }))
}

async fn get_query_results(inner: &Arc<Inner>, body: &Value) -> Result<Value, ApiError> {
    let id = req_str(body, "QueryExecutionId")?.to_owned();
    let max = max_results(body, 1, 1000, 1000)?;
    let token = opt_str(body, "NextToken")?;
    let (path, columns, kind) = {
        let table = inner.queries.lock().unwrap_or_else(|e| e.into_inner());
        let q = table.by_id.get(&id).ok_or_else(|| query::not_found(&id))?;
        match q.state {
            QueryState::Succeeded => {}
            QueryState::Queued | QueryState::Running => {
                return Err(ApiError::invalid_request(format!(
                    "Query has not yet finished. Current state: {}",
                    q.state.as_str()
                )));
            }
            QueryState::Failed | QueryState::Cancelled => {
                return Err(ApiError::invalid_request(format!(
                    "Query did not finish successfully. Final query state: {}{}",
                    q.state.as_str(),
                    q.reason
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )));
            }
        }
        (q.result_path.clone(), q.columns.clone(), q.result_kind)
    };
    let column_info: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": c.name,
                "Label": c.label,
                "Type": c.athena_type.name,
                "Precision": c.athena_type.precision,
                "Scale": c.athena_type.scale,
                "Nullable": "UNKNOWN",
                "CaseSensitive": c.athena_type.case_sensitive,
            })
        })
        .collect();
    let offset = match token {
        Some(t) => decode_token(&id, t)?,
        None => 0,
    };
    let (rows, next_offset) = if kind == ResultKind::Empty {
        (Vec::new(), None)
    } else {
        let read_id = id.clone();
        tokio::task::spawn_blocking(move || read_page(&path, offset, max))
            .await
            .map_err(|e| {
                ApiError::new(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerException",
                    e.to_string(),
                )
            })?
            .map_err(|e| {
                ApiError::invalid_request(format!(
                    "the results of query {read_id} cannot be read: {e}"
                ))
            })?
    };
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|fields| {
            let data: Vec<Value> = fields
                .into_iter()
                .map(|f| match f {
                    Some(v) => json!({ "VarCharValue": v }),
                    None => json!({}),
                })
                .collect();
            json!({ "Data": data })
        })
        .collect();
    let mut out = json!({
        "UpdateCount": 0,
        "ResultSet": { "Rows": rows, "ResultSetMetadata": { "ColumnInfo": column_info } },
    });
    if let (Some(next), Some(map)) = (next_offset, out.as_object_mut()) {
        map.insert("NextToken".into(), encode_token(&id, next).into());
    }
    Ok(out)
}

type Page = (Vec<Vec<Option<String>>>, Option<u64>);

/// Reads up to `max` rows of the result CSV from byte `offset`; returns the offset of the next
/// page when rows remain.
fn read_page(path: &std::path::Path, offset: u64, max: usize) -> std::io::Result<Page> {
    use std::io::BufRead;
    let mut file = std::fs::File::open(path)?;
    if offset > file.metadata()?.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "NextToken past the end",
        ));
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut rows = Vec::new();
    let mut position = offset;
    while rows.len() < max {
        match result_csv::read_row(&mut reader)? {
            Some((row, n)) => {
                position += n;
                rows.push(row);
            }
            None => return Ok((rows, None)),
        }
    }
    let more = !reader.fill_buf()?.is_empty();
    Ok((rows, more.then_some(position)))
}
