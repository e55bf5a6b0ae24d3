//! [`AthenaFederation`]: the optimizer rule that sends whole sub-plans to Athena.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::provider_as_source;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, SortExpr};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::avg::split_decimal_avg;
use super::check::check_plan;
use super::source::AthenaSubquery;
use super::unparse::{parameter_marker, plan_to_athena_sql};
use super::verify::verify;
use crate::parameters::parameter_sql;

/// The name the rule is registered under (see `SessionState::optimizers`).
pub const FEDERATION_RULE_NAME: &str = "athena_federation";

/// The table name of a federated scan in logical plans (`TableScan: athena_query`).
pub const FEDERATED_TABLE: &str = "athena_query";

/// Optimizer rule: runs the largest sub-plans that read only [`crate::AthenaTable`]s of one
/// connection inside Athena as one query.
///
/// Add it once per session (`SessionContext::add_optimizer_rule`); it runs last in every
/// optimizer pass, on plans whose subqueries are already decorrelated into joins, and leaves
/// plans it already rewrote alone. A sub-plan with any node or expression that Athena would
/// not answer exactly like DataFusion stays local, and its children are tried instead.
///
/// When the pushed sub-plan ends in a sort, the rows are sorted (and limited) in Athena and
/// sorted again locally: a one-partition scan keeps its order, but DataFusion does not know it.
#[derive(Debug, Default, Clone, Copy)]
pub struct AthenaFederation;

impl AthenaFederation {
    /// The rule.
    pub fn new() -> Self {
        Self
    }
}

impl OptimizerRule for AthenaFederation {
    fn name(&self) -> &str {
        FEDERATION_RULE_NAME
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        federate(plan)
    }
}

/// Replaces the largest pushable sub-plans of `plan`, top down.
fn federate(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    if let Some(replacement) = replacement(&plan)? {
        return Ok(Transformed::yes(replacement));
    }
    let split = split_decimal_avg(plan)?;
    if split.transformed {
        // A projection dividing sums by counts, over an aggregate Athena can run.
        return Ok(Transformed::yes(federate(split.data)?.data));
    }
    split.data.map_children(federate)
}

/// The federated scan standing in for `plan`, when all of it can run in Athena.
fn replacement(plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    let reads = match check_plan(plan) {
        Ok(reads) => reads,
        Err(reason) => {
            tracing::trace!(%reason, "sub-plan stays in DataFusion");
            return Ok(None);
        }
    };
    let Some(executor) = reads.executor.filter(|_| reads.relational) else {
        return Ok(None);
    };
    let Some(local_sort) = local_sort(plan) else {
        return Ok(None);
    };
    let sql = match plan_to_athena_sql(plan, &reads.tables, &reads.parameters) {
        Ok(sql) => sql,
        Err(reason) => {
            tracing::debug!(%reason, "sub-plan could not be written as Athena SQL");
            return Ok(None);
        }
    };
    // Verified with each parameter a NULL of its type; computed (and federated) on their own.
    let mut with_nulls = sql.clone();
    let mut parameters = Vec::with_capacity(reads.parameters.len());
    for (i, sq) in reads.parameters.iter().enumerate() {
        let marker = parameter_marker(i);
        let null = ScalarValue::try_from(sq.subquery.schema().field(0).data_type())?;
        with_nulls = with_nulls.replace(&marker, &parameter_sql(&null)?);
        let computed = federate(Arc::unwrap_or_clone(Arc::clone(&sq.subquery)))?.data;
        parameters.push((marker, computed));
    }
    if let Err(reason) = verify(&with_nulls, &reads.schemas, plan.schema()) {
        tracing::debug!(%reason, %sql, "generated SQL failed verification");
        return Ok(None);
    }
    let schema = plan.schema();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| Field::new(format!("c{i}"), f.data_type().clone(), f.is_nullable()))
        .collect();
    let table = AthenaSubquery::new(sql, Arc::new(Schema::new(fields)), executor)
        .with_parameters(parameters);
    let columns = schema.iter().enumerate().map(|(i, (qualifier, field))| {
        Expr::Column(Column::new(Some(FEDERATED_TABLE), format!("c{i}")))
            .alias_qualified(qualifier.cloned(), field.name())
    });
    let mut builder =
        LogicalPlanBuilder::scan(FEDERATED_TABLE, provider_as_source(Arc::new(table)), None)?
            .project(columns)?;
    if !local_sort.is_empty() {
        builder = builder.sort(local_sort)?;
    }
    Ok(Some(builder.build()?))
}

/// How the rows of a pushed `plan` are put back in order locally: `Some(vec![])` when its
/// order does not matter, `Some(keys)` when it ends in a sort (under at most a limit), `None`
/// when an order would be lost (a sort under a projection, say: push the sort alone then).
fn local_sort(plan: &LogicalPlan) -> Option<Vec<SortExpr>> {
    match plan {
        LogicalPlan::Sort(s) => Some(s.expr.clone()),
        LogicalPlan::Limit(l) => match l.input.as_ref() {
            LogicalPlan::Sort(s) => Some(s.expr.clone()),
            other => (!ends_in_sort(other)).then(Vec::new),
        },
        other => (!ends_in_sort(other)).then(Vec::new),
    }
}

/// Whether the rows of `plan` come out of a sort through order-keeping nodes.
fn ends_in_sort(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Sort(_) => true,
        LogicalPlan::Projection(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::Limit(_) => plan.inputs().into_iter().any(ends_in_sort),
        _ => false,
    }
}
