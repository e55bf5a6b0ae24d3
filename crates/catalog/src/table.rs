//! From a described table to a DataFusion `TableProvider`: the Arrow schema, and the opener
//! that builds the provider.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Statistics;
use datafusion::common::stats::{ColumnStatistics, Precision};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_athena_scan::{AthenaTable, AthenaTableName, QueryExecutor};

use crate::error::{Error, Result};
use crate::metadata::TableMetadata;

/// A table found in an Athena catalog, ready to become a `TableProvider`: the catalog's
/// [`TableMetadata`] resolved into Arrow types and statistics.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// The table as Athena SQL names it (data source as Athena spells it, e.g.
    /// `AwsDataCatalog`, then database and table).
    pub name: AthenaTableName,
    /// The Arrow schema: data columns, then partition keys, all nullable.
    pub schema: SchemaRef,
    /// Whether the table is a view.
    pub is_view: bool,
    /// Whether filters may be pushed to Athena (false when the user turned it off for this
    /// table).
    pub filter_pushdown: bool,
    /// The row count the catalog records ([`TableMetadata::row_count`]), given to DataFusion's
    /// optimizer as an estimate.
    pub row_count: Option<u64>,
    /// Column statistics (Glue's, by position in `schema`; unknown where there are none),
    /// given to DataFusion's optimizer as estimates.
    pub column_statistics: Vec<ColumnStatistics>,
}

/// Opens a described Athena table for reading: the `TableProvider` DataFusion queries. The
/// default ([`ScanTableOpener`]) queries Athena through the scan crate; tests open tables held
/// in memory instead.
pub trait TableOpener: fmt::Debug + Send + Sync {
    /// The provider for `spec`.
    fn open(&self, spec: TableSpec) -> datafusion::error::Result<Arc<dyn TableProvider>>;
}

/// The default [`TableOpener`]: an [`AthenaTable`] (projection, filter and limit pushdown)
/// that runs its SQL through `executor` (an `AthenaRunner`). Views are reported as views.
#[derive(Debug)]
pub struct ScanTableOpener {
    executor: Arc<dyn QueryExecutor>,
    filter_pushdown: bool,
}

impl ScanTableOpener {
    /// Tables read through `executor`, with filter pushdown on.
    pub fn new(executor: Arc<dyn QueryExecutor>) -> Self {
        Self {
            executor,
            filter_pushdown: true,
        }
    }

    /// Turns filter pushdown on or off.
    pub fn with_filter_pushdown(mut self, enabled: bool) -> Self {
        self.filter_pushdown = enabled;
        self
    }
}

impl TableOpener for ScanTableOpener {
    fn open(&self, spec: TableSpec) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        let mut table = AthenaTable::new(
            spec.name,
            Arc::clone(&spec.schema),
            Arc::clone(&self.executor),
        )
        .with_filter_pushdown(self.filter_pushdown && spec.filter_pushdown);
        let mut statistics = Statistics::new_unknown(&spec.schema);
        if let Some(rows) = spec.row_count.and_then(|r| usize::try_from(r).ok()) {
            statistics = statistics.with_num_rows(Precision::Inexact(rows));
        }
        if spec.column_statistics.len() == statistics.column_statistics.len() {
            statistics.column_statistics = spec.column_statistics.clone();
        }
        if statistics != Statistics::new_unknown(&spec.schema) {
            table = table.with_statistics(statistics);
        }
        let table: Arc<dyn TableProvider> = Arc::new(table);
        Ok(if spec.is_view {
            Arc::new(AthenaView(table))
        } else {
            table
        })
    }
}

/// An Athena view: read like a table (Athena expands the view), reported as a view.
#[derive(Debug)]
pub struct AthenaView(pub Arc<dyn TableProvider>);

#[async_trait]
impl TableProvider for AthenaView {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        self.0.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.0.statistics()
    }
}

/// The Arrow schema of a described table: its columns then its partition keys, every Athena/Hive
/// type string parsed by the scan crate. An unknown type is an error naming table, column and
/// type.
pub fn arrow_schema(data_source: &str, database: &str, table: &TableMetadata) -> Result<SchemaRef> {
    let fields = table
        .all_columns()
        .map(|c| {
            datafusion_athena_scan::athena_to_arrow(&c.type_name)
                .map(|dt| Field::new(&c.name, dt, true))
                .map_err(|e| Error::UnsupportedType {
                    table: format!("{data_source}.{database}.{}", table.name),
                    column: c.name.clone(),
                    type_name: c.type_name.clone(),
                    message: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Fields};

    use super::*;
    use crate::metadata::ColumnMetadata;

    fn col(name: &str, ty: &str) -> ColumnMetadata {
        ColumnMetadata {
            name: name.into(),
            type_name: ty.into(),
            comment: None,
        }
    }

    fn table(columns: Vec<ColumnMetadata>, partition_keys: Vec<ColumnMetadata>) -> TableMetadata {
        TableMetadata {
            name: "t".into(),
            table_type: Some("EXTERNAL_TABLE".into()),
            columns,
            partition_keys,
            row_count: None,
        }
    }

    #[test]
    fn columns_then_partition_keys_with_parsed_types() {
        let t = table(
            vec![
                col("id", "bigint"),
                col("price", "decimal(10, 2)"),
                col("tags", "array<string>"),
            ],
            vec![col("dt", "string")],
        );
        let schema = arrow_schema("AwsDataCatalog", "db", &t).expect("schema");
        let got: Vec<_> = schema
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type().clone()))
            .collect();
        assert_eq!(got[0], ("id", DataType::Int64));
        assert_eq!(got[1], ("price", DataType::Decimal128(10, 2)));
        assert!(matches!(&got[2].1, DataType::List(f) if f.data_type() == &DataType::Utf8));
        assert_eq!(got[3].0, "dt");
        assert_eq!(got.len(), 4);
        assert!(schema.fields().iter().all(|f| f.is_nullable()));
    }

    #[test]
    fn nested_structs_parse() {
        let t = table(vec![col("s", "array<struct<a:int,b:string>>")], vec![]);
        let schema = arrow_schema("c", "d", &t).expect("schema");
        let DataType::List(item) = schema.field(0).data_type() else {
            panic!("expected a list, got {:?}", schema.field(0).data_type())
        };
        let DataType::Struct(fields) = item.data_type() else {
            panic!("expected a struct, got {:?}", item.data_type())
        };
        let expected: Fields = vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
        ]
        .into();
        assert_eq!(
            fields.iter().map(|f| f.name().clone()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(fields[0].data_type(), expected[0].data_type());
    }

    #[test]
    fn unknown_types_name_table_column_and_type() {
        let t = table(
            vec![col("ok", "int"), col("weird", "hyperloglog_sketch<42>")],
            vec![],
        );
        let err = arrow_schema("AwsDataCatalog", "db", &t)
            .expect_err("unknown type")
            .to_string();
        assert!(err.contains("AwsDataCatalog.db.t"), "{err}");
        assert!(err.contains("weird"), "{err}");
        assert!(err.contains("hyperloglog_sketch<42>"), "{err}");
    }
}
