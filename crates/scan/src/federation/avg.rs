//! `avg` of decimals, split so that Athena can run the aggregation.
//!
//! Trino's `avg(decimal(p,s))` keeps scale `s` and rounds; DataFusion's answers with scale
//! `s+4`, truncated. Both engines compute `sum` and `count` of decimals exactly, so an
//! aggregate with `avg(x)` over Athena tables becomes `sum(x)` and `count(x)` (which Athena
//! runs) under a projection that divides them locally with [`DecimalAvg`], the same way
//! DataFusion's average does.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Decimal128Builder};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, DecimalType, Int64Type};
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DataFusionError};
use datafusion::error::Result;
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::expr::{AggregateFunction, AggregateFunctionParams};
use datafusion::logical_expr::{
    Aggregate, ColumnarValue, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::check::check_plan;

/// Splits the decimal `avg`s of `plan`, an aggregate over Athena tables of one connection.
pub(crate) fn split_decimal_avg(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Aggregate(agg) = &plan else {
        return Ok(Transformed::no(plan));
    };
    let input_schema = agg.input.schema();
    let avg_of = |e: &Expr| -> Option<(Expr, DataType)> {
        let inner = match e {
            Expr::Alias(a) => a.expr.as_ref(),
            other => other,
        };
        match inner {
            Expr::AggregateFunction(AggregateFunction {
                func,
                params:
                    AggregateFunctionParams {
                        args,
                        distinct: false,
                        filter: None,
                        order_by,
                        null_treatment: None,
                    },
            }) if func.name() == "avg" && order_by.is_empty() && args.len() == 1 => {
                let t = args[0].get_type(input_schema).ok()?;
                matches!(t, DataType::Decimal128(..)).then(|| (args[0].clone(), t))
            }
            _ => None,
        }
    };
    if !agg.aggr_expr.iter().any(|e| avg_of(e).is_some()) || check_plan(&agg.input).is_err() {
        return Ok(Transformed::no(plan));
    }
    let group_count = agg.group_expr.len();
    let mut aggr = Vec::new();
    // Per original aggregate: the new aggregate's column(s) it is computed from.
    let mut sources = Vec::new();
    for (i, e) in agg.aggr_expr.iter().enumerate() {
        match avg_of(e) {
            Some((arg, _)) => {
                aggr.push(sum(arg.clone()).alias(format!("__athena_avg_sum_{i}")));
                aggr.push(count(arg).alias(format!("__athena_avg_count_{i}")));
                sources.push((aggr.len() - 2, true));
            }
            None => {
                aggr.push(e.clone());
                sources.push((aggr.len() - 1, false));
            }
        }
    }
    let split = Aggregate::try_new(Arc::clone(&agg.input), agg.group_expr.clone(), aggr)?;
    let split_schema = Arc::clone(&split.schema);
    let column =
        |i: usize| Expr::Column(Column::from(split_schema.qualified_field(group_count + i)));
    let mut exprs: Vec<Expr> = (0..group_count)
        .map(|i| Expr::Column(Column::from(split_schema.qualified_field(i))))
        .collect();
    for (i, (source, is_avg)) in sources.into_iter().enumerate() {
        let (qualifier, field) = agg.schema.qualified_field(group_count + i);
        let value = if is_avg {
            let udf = ScalarUDF::new_from_impl(DecimalAvg::new(field.data_type().clone()));
            udf.call(vec![column(source), column(source + 1)])
        } else {
            column(source)
        };
        exprs.push(value.alias_qualified(qualifier.cloned(), field.name()));
    }
    let plan = LogicalPlanBuilder::from(LogicalPlan::Aggregate(split))
        .project(exprs)?
        .build()?;
    Ok(Transformed::yes(plan))
}

/// `sum / count` of a decimal sum, as DataFusion's `avg` computes it: the sum scaled up to the
/// result's scale, divided by the count (truncating), NULL for no rows.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DecimalAvg {
    signature: Signature,
    result: DataType,
}

impl DecimalAvg {
    /// Averages with the decimal result type `result` (DataFusion's `avg` type).
    pub fn new(result: DataType) -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
            result,
        }
    }
}

impl ScalarUDFImpl for DecimalAvg {
    fn name(&self) -> &str {
        "athena_decimal_avg"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.result.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (DataType::Decimal128(_, sum_scale), DataType::Decimal128(precision, scale)) =
            (arrays[0].data_type(), &self.result)
        else {
            return Err(DataFusionError::Internal(format!(
                "athena_decimal_avg of {} into {}",
                arrays[0].data_type(),
                self.result
            )));
        };
        let sums = arrays[0].as_primitive::<Decimal128Type>();
        let counts = arrays[1].as_primitive_opt::<Int64Type>().ok_or_else(|| {
            DataFusionError::Internal("athena_decimal_avg count is not bigint".into())
        })?;
        let factor = 10_i128.pow(u32::try_from(scale - sum_scale).unwrap_or(0));
        let mut out = Decimal128Builder::with_capacity(sums.len())
            .with_data_type(DataType::Decimal128(*precision, *scale));
        for i in 0..sums.len() {
            if sums.is_null(i) || counts.is_null(i) || counts.value(i) == 0 {
                out.append_null();
                continue;
            }
            let value = sums
                .value(i)
                .checked_mul(factor)
                .map(|v| v / i128::from(counts.value(i)))
                .filter(|v| {
                    Decimal128Type::validate_decimal_precision(*v, *precision, *scale).is_ok()
                })
                .ok_or_else(|| {
                    DataFusionError::Execution("Arithmetic Overflow in AvgAccumulator".into())
                })?;
            out.append_value(value);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
