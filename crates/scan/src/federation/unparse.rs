//! A checked logical plan as one Athena SQL statement.
//!
//! DataFusion's unparser with [`AthenaDialect`] writes the statement; a pass over the syntax
//! tree then fixes what Trino spells differently:
//! - every table gets its Athena name (`"catalog"."database"."table"`), aliased by the last
//!   part of its DataFusion name, which is how the unparser qualifies its columns;
//! - `LIMIT m OFFSET n` becomes `OFFSET n LIMIT m` (Trino wants the offset first);
//! - `CAST(x AS BOOL)` / `CAST(x AS FLOAT)` become `BOOLEAN` / `REAL`;
//! - the statement is wrapped as `SELECT "c0", ... FROM (...) AS "athena_query" ("c0", ...)`:
//!   rows are read by position, and short names keep the result file's header small.
//!
//! Before unparsing, every aggregate gets a projection of its own columns on top (the
//! unparser lists a bare aggregate's columns in another order, and rows are read by position),
//! and
//! a sort's own fetch under a limit is folded into the limit (the unparser would let the
//! sort's fetch replace the limit's).

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Spans, TableReference};
use datafusion::logical_expr::expr::{Exists, InSubquery};
use datafusion::logical_expr::{
    Expr, FetchType, JoinType, LogicalPlan, LogicalPlanBuilder, Projection, SkipType, Subquery,
    SubqueryAlias,
};
use datafusion::sql::sqlparser::ast::{
    self, Ident, LimitClause, ObjectName, ObjectNamePart, Offset, OffsetRows, Query, TableAlias,
    TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::unparser::Unparser;

use super::check::Refusal;
use super::rule::FEDERATED_TABLE;
use crate::dialect::AthenaDialect;
use crate::pushdown::AthenaTableName;

/// The Athena SQL of `plan`, whose scans read `tables` (DataFusion name, Athena name).
pub(crate) fn plan_to_athena_sql(
    plan: &LogicalPlan,
    tables: &[(TableReference, AthenaTableName)],
) -> Result<String, Refusal> {
    let plan = prepare(plan.clone()).map_err(|e| format!("preparing the plan: {e}"))?;
    let mut statement = Unparser::new(&AthenaDialect)
        .plan_to_sql(&plan)
        .map_err(|e| format!("unparser: {e}"))?;
    let mut fixer = Fixer { tables };
    if let ControlFlow::Break(reason) = statement.visit(&mut fixer) {
        return Err(reason);
    }
    // Rows are read by position: short names keep the result file's header small.
    let names: Vec<String> = (0..plan.schema().fields().len())
        .map(|i| format!("\"c{i}\""))
        .collect();
    let names = names.join(", ");
    Ok(format!(
        "SELECT {names} FROM ({statement}) AS \"{FEDERATED_TABLE}\" ({names})"
    ))
}

/// `plan` with aggregates under projections, sort fetches folded into limits above them, and
/// every projected column named explicitly (`expr AS "name"`): columns are referenced by
/// DataFusion's names (`"min(partsupp.ps_supplycost)"`), which Trino would not give them.
fn prepare(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    let plan = plan
        .transform_up_with_subqueries(|p| match p {
            LogicalPlan::Limit(limit) => match limit.input.as_ref() {
                LogicalPlan::Sort(sort) if sort.fetch.is_some() => {
                    let skip = match limit.get_skip_type()? {
                        SkipType::Literal(s) => s,
                        SkipType::UnsupportedExpr => {
                            return Ok(Transformed::no(LogicalPlan::Limit(limit)));
                        }
                    };
                    let fetch = match limit.get_fetch_type()? {
                        FetchType::Literal(f) => f,
                        FetchType::UnsupportedExpr => {
                            return Ok(Transformed::no(LogicalPlan::Limit(limit)));
                        }
                    };
                    let sort_rows = sort.fetch.unwrap_or(usize::MAX).saturating_sub(skip);
                    let fetch = fetch.map_or(sort_rows, |f| f.min(sort_rows));
                    let mut unlimited = sort.clone();
                    unlimited.fetch = None;
                    let plan = LogicalPlanBuilder::from(LogicalPlan::Sort(unlimited))
                        .limit(skip, Some(fetch))?
                        .build()?;
                    Ok(Transformed::yes(plan))
                }
                _ => Ok(Transformed::no(LogicalPlan::Limit(limit))),
            },
            other => Ok(Transformed::no(other)),
        })?
        .data;
    let original = plan.schema().columns();
    let plan = semi_joins_as_exists(plan)?;
    let plan = unwrap_join_projections(plan)?;
    let plan = if plan.schema().columns() == original {
        plan
    } else {
        let columns: Vec<Expr> = original.into_iter().map(Expr::Column).collect();
        LogicalPlanBuilder::from(plan).project(columns)?.build()?
    };
    let plan = project_aggregates(plan, false)?;
    plan.transform_up_with_subqueries(|p| match p {
        LogicalPlan::Projection(p) => {
            let exprs = p
                .expr
                .iter()
                .zip(p.schema.iter())
                .map(|(e, (qualifier, field))| match e {
                    Expr::Alias(_) => e.clone(),
                    _ => e.clone().alias_qualified(qualifier.cloned(), field.name()),
                });
            let named = Projection::try_new_with_schema(
                exprs.collect(),
                Arc::clone(&p.input),
                Arc::clone(&p.schema),
            )?;
            Ok(Transformed::yes(LogicalPlan::Projection(named)))
        }
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
}

/// Rewrites left semi and anti joins as `WHERE [NOT] EXISTS (correlated subquery)`, and
/// null-aware anti joins as `WHERE l NOT IN (SELECT r ...)`: the unparser's own rewrite
/// drops the filters of the right side.
fn semi_joins_as_exists(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|p| match p {
        LogicalPlan::Join(j) if j.null_aware => {
            // `l NOT IN (SELECT r ...)`: NULLs make it unknown, in DataFusion and in Trino.
            let [(l, r)] = j.on.as_slice() else {
                return Ok(Transformed::no(LogicalPlan::Join(j)));
            };
            let inner = LogicalPlanBuilder::from(Arc::unwrap_or_clone(Arc::clone(&j.right)))
                .project([r.clone()])?
                .build()?;
            let not_in = Expr::InSubquery(InSubquery::new(
                Box::new(l.clone()),
                Subquery {
                    subquery: Arc::new(inner),
                    outer_ref_columns: vec![],
                    spans: Spans::new(),
                },
                true,
            ));
            let plan = LogicalPlanBuilder::from(Arc::unwrap_or_clone(j.left))
                .filter(not_in)?
                .build()?;
            Ok(Transformed::yes(plan))
        }
        LogicalPlan::Join(j) if matches!(j.join_type, JoinType::LeftSemi | JoinType::LeftAnti) => {
            let left = Arc::clone(j.left.schema());
            let mut predicate =
                j.on.iter()
                    .map(|(l, r)| l.clone().eq(r.clone()))
                    .collect::<Vec<_>>();
            predicate.extend(j.filter.clone());
            let Some(predicate) = predicate.into_iter().reduce(Expr::and) else {
                return Ok(Transformed::no(LogicalPlan::Join(j)));
            };
            let mut outer = Vec::new();
            let predicate = predicate
                .transform(|e| match e {
                    Expr::Column(c) if left.has_column(&c) => {
                        let field = Arc::clone(left.qualified_field_from_column(&c)?.1);
                        let reference = Expr::OuterReferenceColumn(field, c);
                        outer.push(reference.clone());
                        Ok(Transformed::yes(reference))
                    }
                    other => Ok(Transformed::no(other)),
                })?
                .data;
            let inner = LogicalPlanBuilder::from(Arc::unwrap_or_clone(j.right))
                .filter(predicate)?
                .build()?;
            let exists = Expr::Exists(Exists::new(
                Subquery {
                    subquery: Arc::new(inner),
                    outer_ref_columns: outer,
                    spans: Spans::new(),
                },
                j.join_type == JoinType::LeftAnti,
            ));
            let plan = LogicalPlanBuilder::from(Arc::unwrap_or_clone(j.left))
                .filter(exists)?
                .build()?;
            Ok(Transformed::yes(plan))
        }
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
}

/// Drops projections that only pick columns from under joins, aggregates and filters (the
/// optimizer adds them to prune columns): the unparser turns them into derived tables named
/// `derived_projection` but keeps qualifying their columns by the tables inside. Nodes above
/// get their schemas recomputed; they see more columns, under the same names. Also merges
/// directly nested aliases (`a` over `b`), whose filters the unparser would qualify by `b`.
fn unwrap_join_projections(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    let strip = |p: &LogicalPlan| match p {
        LogicalPlan::Projection(pr) if pr.expr.iter().all(|e| matches!(e, Expr::Column(_))) => {
            Arc::unwrap_or_clone(Arc::clone(&pr.input))
        }
        other => other.clone(),
    };
    plan.transform_up_with_subqueries(|p| match p {
        LogicalPlan::Join(_) | LogicalPlan::Aggregate(_) | LogicalPlan::Filter(_) => {
            let inputs = p.inputs().into_iter().map(strip).collect();
            Ok(Transformed::yes(p.with_new_exprs(p.expressions(), inputs)?))
        }
        LogicalPlan::SubqueryAlias(a) => match a.input.as_ref() {
            LogicalPlan::SubqueryAlias(inner) => Ok(Transformed::yes(LogicalPlan::SubqueryAlias(
                SubqueryAlias::try_new(Arc::clone(&inner.input), a.alias)?,
            ))),
            _ => Ok(Transformed::yes(
                LogicalPlan::SubqueryAlias(a).recompute_schema()?,
            )),
        },
        other => Ok(Transformed::yes(other.recompute_schema()?)),
    })
    .map(|t| t.data)
}

/// Puts a projection of its own columns above every aggregate not already under one: the
/// unparser lists a bare aggregate's columns aggregates first, and at the top of the
/// statement or in a `UNION` the columns are matched by position.
fn project_aggregates(
    plan: LogicalPlan,
    parent_is_projection: bool,
) -> datafusion::error::Result<LogicalPlan> {
    // A filter between a projection and an aggregate is the aggregate's HAVING.
    let is_projection = matches!(plan, LogicalPlan::Projection(_))
        || (parent_is_projection && matches!(plan, LogicalPlan::Filter(_)));
    let plan = plan
        .map_children(|c| project_aggregates(c, is_projection).map(Transformed::yes))?
        .data;
    if !matches!(plan, LogicalPlan::Aggregate(_)) || parent_is_projection {
        return Ok(plan);
    }
    let columns: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    LogicalPlanBuilder::from(plan).project(columns)?.build()
}

struct Fixer<'a> {
    tables: &'a [(TableReference, AthenaTableName)],
}

impl Fixer<'_> {
    fn athena_name(&self, name: &ObjectName) -> Option<(&TableReference, &AthenaTableName)> {
        let parts: Vec<&str> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
                ObjectNamePart::Function(_) => None,
            })
            .collect::<Option<_>>()?;
        self.tables
            .iter()
            .find(|(r, _)| {
                r.to_vec()
                    .iter()
                    .map(String::as_str)
                    .eq(parts.iter().copied())
            })
            .map(|(r, a)| (r, a))
    }
}

fn quoted(s: &str) -> Ident {
    Ident::with_quote('"', s)
}

impl VisitorMut for Fixer<'_> {
    type Break = Refusal;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Refusal> {
        let TableFactor::Table { name, alias, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let Some((reference, athena)) = self.athena_name(name) else {
            return ControlFlow::Break(format!("unparser wrote an unknown table {name}"));
        };
        let parts = athena
            .catalog
            .iter()
            .chain([&athena.database, &athena.table])
            .map(|p| ObjectNamePart::Identifier(quoted(p)))
            .collect();
        if alias.is_none() {
            *alias = Some(TableAlias {
                explicit: true,
                name: quoted(reference.table()),
                columns: vec![],
                at: None,
            });
        }
        *name = ObjectName(parts);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<Refusal> {
        if let Some(LimitClause::LimitOffset {
            limit: Some(limit),
            offset: Some(offset),
            limit_by,
        }) = &query.limit_clause
            && limit_by.is_empty()
        {
            // sqlparser prints `LIMIT m OFFSET n`; Trino only accepts `OFFSET n LIMIT m`. The
            // offset's text carries the limit (both are integers the plan checked).
            let text = format!("{} LIMIT {limit}", offset.value);
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: None,
                offset: Some(Offset {
                    value: ast::Expr::Identifier(Ident::new(text)),
                    rows: OffsetRows::None,
                }),
                limit_by: vec![],
            });
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut ast::Expr) -> ControlFlow<Refusal> {
        if let ast::Expr::Cast { data_type, .. } = expr {
            match data_type {
                ast::DataType::Bool => *data_type = ast::DataType::Boolean,
                ast::DataType::Float(_) => *data_type = ast::DataType::Real,
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }
}
