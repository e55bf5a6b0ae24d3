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

use datafusion::arrow::datatypes::Field;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, DataFusionError, ScalarValue, Spans, TableReference};
use datafusion::logical_expr::expr::{Exists, InSubquery, Placeholder};
use datafusion::logical_expr::{
    Expr, FetchType, JoinType, LogicalPlan, LogicalPlanBuilder, Projection, SkipType, Subquery,
    SubqueryAlias, Window,
};
use datafusion::sql::sqlparser::ast::{
    self, Ident, LimitClause, ObjectName, ObjectNamePart, Offset, OffsetRows, Query, TableAlias,
    TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::unparser::Unparser;

use super::check::Refusal;
use super::rule::FEDERATED_TABLE;
use crate::dialect::{AthenaDialect, literal_to_sql};
use crate::pushdown::exact_decimal_casts;
use crate::statement::AthenaTableName;

/// The marker standing for parameter `i` in a statement until its value is known.
pub(crate) fn parameter_marker(i: usize) -> String {
    format!("$athena_param_{i}_")
}

/// The Athena SQL of `plan`, whose scans read `tables` (DataFusion name, Athena name). Each
/// of `parameters` is written as its marker ([`parameter_marker`]) wherever it is used, and
/// nowhere else.
pub(crate) fn plan_to_athena_sql(
    plan: &LogicalPlan,
    tables: &[(TableReference, AthenaTableName)],
    parameters: &[Subquery],
) -> Result<String, Refusal> {
    let mut floats = Vec::new();
    let mut uses = vec![0; parameters.len()];
    let plan = with_markers(plan.clone(), parameters, &mut uses)
        .and_then(prepare)
        .and_then(|p| with_float_placeholders(p, &mut floats))
        .map_err(|e| format!("preparing the plan: {e}"))?;
    let mut statement = Unparser::new(&AthenaDialect)
        .plan_to_sql(&plan)
        .map_err(|e| format!("unparser: {e}"))?;
    let mut fixer = Fixer {
        tables,
        floats: &floats,
    };
    if let ControlFlow::Break(reason) = statement.visit(&mut fixer) {
        return Err(reason);
    }
    // Rows are read by position: short names keep the result file's header small.
    let names: Vec<String> = (0..plan.schema().fields().len())
        .map(|i| format!("\"c{i}\""))
        .collect();
    let names = names.join(", ");
    let sql = format!("SELECT {names} FROM ({statement}) AS \"{FEDERATED_TABLE}\" ({names})");
    for (i, used) in uses.into_iter().enumerate() {
        // A string literal holding the marker's text would be replaced too.
        if used == 0 || sql.matches(&parameter_marker(i)).count() != used {
            return Err(format!("parameter {i} is not marked where it is used"));
        }
    }
    Ok(sql)
}

/// The prefix of the placeholders standing for float literals until the unparsed statement
/// gets their Athena spelling.
const FLOAT_PLACEHOLDER: &str = "$athena_float_";

/// `plan` with each scalar subquery of `parameters` replaced by its marker; `uses` counts the
/// replacements of each.
fn with_markers(
    plan: LogicalPlan,
    parameters: &[Subquery],
    uses: &mut [usize],
) -> datafusion::error::Result<LogicalPlan> {
    if parameters.is_empty() {
        return Ok(plan);
    }
    plan.transform_down_with_subqueries(|p| {
        p.map_expressions(|e| {
            e.transform(|x| match x {
                Expr::ScalarSubquery(sq) => match parameters.iter().position(|p| p == &sq) {
                    Some(i) => {
                        uses[i] += 1;
                        let field = Arc::clone(sq.subquery.schema().field(0));
                        Ok(Transformed::yes(Expr::Placeholder(
                            Placeholder::new_with_field(parameter_marker(i), Some(field)),
                        )))
                    }
                    None => Ok(Transformed::no(Expr::ScalarSubquery(sq))),
                },
                other => Ok(Transformed::no(other)),
            })
        })
    })
    .map(|t| t.data)
}

/// `plan` with each float literal replaced by a placeholder whose Athena spelling (`5.0E-1`,
/// a `double`; the unparser's `0.5` would be a `decimal` in Trino) is pushed onto `floats`.
fn with_float_placeholders(
    plan: LogicalPlan,
    floats: &mut Vec<String>,
) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|p| {
        p.map_expressions(|e| {
            e.transform(|x| match x {
                Expr::Literal(
                    v @ (ScalarValue::Float64(Some(_)) | ScalarValue::Float32(Some(_))),
                    _,
                ) => {
                    let Some(text) = literal_to_sql(&v) else {
                        return Err(DataFusionError::Plan(format!(
                            "the literal {v} has no Athena spelling"
                        )));
                    };
                    let field = Arc::new(Field::new("", v.data_type(), false));
                    let id = format!("{FLOAT_PLACEHOLDER}{}", floats.len());
                    floats.push(text);
                    Ok(Transformed::yes(Expr::Placeholder(
                        Placeholder::new_with_field(id, Some(field)),
                    )))
                }
                other => Ok(Transformed::no(other)),
            })
        })
    })
    .map(|t| t.data)
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
    let plan = exact_casts(plan)?;
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

/// Applies [`exact_decimal_casts`] and [`lag_default_casts`] to the expressions of every node,
/// each against the schema its expressions see; output names stay as they were (projections,
/// aggregates and windows alias the rewritten expression with the old name).
fn exact_casts(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|p| {
        let schema = match &p {
            LogicalPlan::TableScan(scan) => {
                DFSchema::try_from_qualified_schema(scan.table_name.clone(), &scan.source.schema())?
            }
            other => {
                let mut merged = DFSchema::empty();
                for input in other.inputs() {
                    merged.merge(input.schema());
                }
                merged
            }
        };
        let keeps_names = matches!(
            p,
            LogicalPlan::Projection(_) | LogicalPlan::Aggregate(_) | LogicalPlan::Window(_)
        );
        let rewritten = p.map_expressions(|e| {
            let name = e.schema_name().to_string();
            let new = lag_default_casts(exact_decimal_casts(e.clone(), &schema)?, &schema)?;
            if new == e {
                return Ok(Transformed::no(e));
            }
            Ok(Transformed::yes(match new {
                Expr::Alias(_) => new,
                other if keeps_names => other.alias(name),
                other => other,
            }))
        })?;
        Ok(Transformed::yes(rewritten.data))
    })
    .map(|t| t.data)
}

/// `e` with the default of every `lag`/`lead` in it written as DataFusion uses it: the
/// literal cast to the value's type here, sent as `CAST(<cast literal> AS <type>)` (Trino wants
/// the default of the value's type, and would otherwise pick its own common type).
fn lag_default_casts(e: Expr, schema: &DFSchema) -> datafusion::error::Result<Expr> {
    use datafusion::logical_expr::{Cast, ExprSchemable};
    e.transform_up(|e| {
        let Expr::WindowFunction(f) = &e else {
            return Ok(Transformed::no(e));
        };
        let [value, _, Expr::Literal(default, _)] = f.params.args.as_slice() else {
            return Ok(Transformed::no(e));
        };
        if !matches!(f.fun.name(), "lag" | "lead") {
            return Ok(Transformed::no(e));
        }
        let t = value.get_type(schema)?;
        let cast = if default.is_null() {
            ScalarValue::try_from(&t)?
        } else {
            default.cast_to(&t)?
        };
        let mut f = f.as_ref().clone();
        f.params.args[2] = Expr::Cast(Cast::new(Box::new(Expr::Literal(cast, None)), t));
        Ok(Transformed::yes(Expr::WindowFunction(Box::new(f))))
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
        LogicalPlan::Join(_)
        | LogicalPlan::Aggregate(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::Window(_) => {
            let inputs = p.inputs().into_iter().map(strip).collect();
            let p = p.with_new_exprs(p.expressions(), inputs)?;
            // Stacked windows (one per OVER clause) become one: the unparser would put each
            // under a derived table but keep qualifying columns by the tables inside.
            if let LogicalPlan::Window(upper) = &p
                && let LogicalPlan::Window(lower) = upper.input.as_ref()
            {
                let mut exprs = lower.window_expr.clone();
                exprs.extend(upper.window_expr.iter().cloned());
                let merged = Window::try_new(exprs, Arc::clone(&lower.input))?;
                return Ok(Transformed::yes(LogicalPlan::Window(merged)));
            }
            Ok(Transformed::yes(p))
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
    /// The Athena spelling of each float literal, by placeholder number.
    floats: &'a [String],
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
        if let ast::Expr::Value(v) = expr
            && let ast::Value::Placeholder(id) = &v.value
            && let Some(i) = id.strip_prefix(FLOAT_PLACEHOLDER)
        {
            match i.parse::<usize>().ok().and_then(|i| self.floats.get(i)) {
                Some(text) => *expr = ast::Expr::Identifier(Ident::new(text.clone())),
                None => return ControlFlow::Break(format!("unknown float placeholder {id}")),
            }
        }
        // Ranking functions and lag/lead ignore frames in DataFusion; Trino may refuse one.
        if let ast::Expr::Function(f) = expr
            && let Some(ast::WindowType::WindowSpec(spec)) = &mut f.over
            && matches!(
                f.name.to_string().to_ascii_lowercase().as_str(),
                "row_number"
                    | "rank"
                    | "dense_rank"
                    | "percent_rank"
                    | "cume_dist"
                    | "ntile"
                    | "lag"
                    | "lead"
            )
        {
            spec.window_frame = None;
        }
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
