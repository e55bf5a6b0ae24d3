//! Parameters of a federated statement: scalar subqueries computed before the statement is
//! sent, their values written into it as typed literals.
//!
//! The statement holds a marker per parameter (`$athena_param_0_`, wherever it is used). When the
//! stream starts, each parameter's plan runs to completion; its single value (NULL for no
//! rows, an error for more than one, as DataFusion's scalar subqueries do) replaces the marker
//! as `CAST(<literal> AS <type>)`, so Trino sees the value with DataFusion's type.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, DataFusionError, ScalarValue};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Cast, Expr};
use datafusion::physical_plan::{ExecutionPlan, collect};

use crate::pushdown::filter_to_sql;

/// One parameter of a statement: its marker and the plan computing its value.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// The text standing for the value in the statement.
    pub marker: String,
    /// The plan whose single value the parameter is (one column).
    pub plan: Arc<dyn ExecutionPlan>,
}

/// `value` as Athena SQL of its own type: `CAST(<literal> AS <type>)`.
pub(crate) fn parameter_sql(value: &ScalarValue) -> Result<String> {
    let cast = Expr::Cast(Cast::new(
        Box::new(Expr::Literal(value.clone(), None)),
        value.data_type(),
    ));
    filter_to_sql(&cast, &DFSchema::empty()).map_err(|e| {
        DataFusionError::Execution(format!(
            "the subquery value {value} cannot be sent to Athena: {}",
            e.reason()
        ))
    })
}

/// The single value of a scalar subquery's answer of type `data_type`.
fn scalar_of(batches: &[RecordBatch], data_type: &DataType) -> Result<ScalarValue> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    match rows {
        0 => ScalarValue::try_from(data_type),
        1 => {
            let batch = batches
                .iter()
                .find(|b| b.num_rows() == 1)
                .ok_or_else(|| DataFusionError::Internal("lost the subquery's row".into()))?;
            let column = batch.columns().first().ok_or_else(|| {
                DataFusionError::Execution("the scalar subquery answered no column".into())
            })?;
            ScalarValue::try_from_array(column, 0)
        }
        n => Err(DataFusionError::Execution(format!(
            "Scalar subquery returned more than one row ({n} rows)"
        ))),
    }
}

/// `sql` with every parameter's marker replaced by its computed value.
pub(crate) async fn fill(
    sql: &str,
    parameters: &[Parameter],
    context: Arc<TaskContext>,
) -> Result<String> {
    let mut filled = sql.to_string();
    for p in parameters {
        let schema = p.plan.schema();
        let data_type = schema
            .fields()
            .first()
            .map(|f| f.data_type().clone())
            .ok_or_else(|| DataFusionError::Internal("a parameter plan has no column".into()))?;
        let batches = collect(Arc::clone(&p.plan), Arc::clone(&context)).await?;
        let value = scalar_of(&batches, &data_type)?;
        filled = filled.replace(&p.marker, &parameter_sql(&value)?);
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Decimal128Array, Int64Array};
    use datafusion::arrow::datatypes::{Field, Schema};

    #[test]
    fn values_keep_their_type_in_athena() {
        let cases = [
            (
                ScalarValue::Decimal128(Some(1_234_567), 19, 6),
                "CAST(DECIMAL '1.234567' AS DECIMAL(19,6))",
            ),
            (ScalarValue::Int64(Some(5)), "CAST(5 AS BIGINT)"),
            (ScalarValue::Int64(None), "CAST(NULL AS BIGINT)"),
            (
                ScalarValue::Utf8(Some("it's".into())),
                "CAST('it''s' AS VARCHAR)",
            ),
        ];
        for (value, sql) in cases {
            assert_eq!(parameter_sql(&value).expect("sql"), sql, "{value:?}");
        }
    }

    #[test]
    fn no_rows_is_null_and_two_rows_are_an_error() {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, true)]));
        let batch = |values: Vec<i64>| {
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![Arc::new(Int64Array::from(values))],
            )
            .expect("batch")
        };
        assert_eq!(
            scalar_of(&[batch(vec![])], &DataType::Int64).expect("null"),
            ScalarValue::Int64(None)
        );
        assert_eq!(
            scalar_of(&[batch(vec![]), batch(vec![7])], &DataType::Int64).expect("one"),
            ScalarValue::Int64(Some(7))
        );
        let err = scalar_of(&[batch(vec![1, 2])], &DataType::Int64).expect_err("two rows");
        assert!(err.to_string().contains("more than one row"), "{err}");
        let decimals = Decimal128Array::from(vec![Some(10)])
            .with_precision_and_scale(5, 1)
            .expect("decimal");
        let schema = Arc::new(Schema::new(vec![Field::new(
            "d",
            DataType::Decimal128(5, 1),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(decimals)]).expect("batch");
        assert_eq!(
            scalar_of(&[batch], &DataType::Decimal128(5, 1)).expect("one"),
            ScalarValue::Decimal128(Some(10), 5, 1)
        );
    }
}
