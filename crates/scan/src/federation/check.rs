//! Which logical plans Athena runs as one query with exactly DataFusion's answers.
//!
//! A sub-plan is pushed only when every node is on the allow-list below, every expression
//! passes the filter rules of [`crate::check_pushable`] (evaluated against the node's input
//! columns), and every scan reads an [`AthenaTable`] of the same connection. Beyond the filter
//! rules, plans are refused for:
//! - aggregates other than `count`, `sum`, `avg`, `min`, `max`, with an `ORDER BY`, or whose
//!   result differs in Trino: `avg` of `real` (Trino answers `real`) and of decimals (Trino
//!   keeps the argument's scale and rounds), `min`/`max` of floats (NaN ordering);
//! - sort keys that are floats which may be NaN or -0.0, `DISTINCT ON`, null-aware anti joins other
//!   than one-key `NOT IN`, joins that match NULL keys, grouping sets;
//! - window functions other than the ranking ones (`row_number`, `rank`, `dense_rank`,
//!   `percent_rank`, `cume_dist`, `ntile`), `lag`/`lead`/`first_value`/`last_value`/`nth_value`
//!   with literal offsets (and for `lag`/`lead` a literal default DataFusion can cast to a
//!   boolean, integer, double, decimal, varchar or date value), without `IGNORE NULLS`, and
//!   the aggregates above; partition
//!   or order keys that are floats which may be NaN or -0.0; frames other than `ROWS` with constant bounds and `RANGE`
//!   from `UNBOUNDED PRECEDING` to `CURRENT ROW` or `UNBOUNDED FOLLOWING`;
//! - literals other than integers, strings, booleans, dates, decimals and finite doubles,
//!   `LIKE` patterns with `\` (DataFusion's implicit escape), regex operators and
//!   `IS [NOT] TRUE|FALSE|UNKNOWN` (spelled differently in the unparsed plan);
//! - names that cannot be quoted, or two tables whose names end alike;
//! - tables with filter pushdown turned off (they give the reference answers).
//!
//! An uncorrelated scalar subquery that Athena cannot answer exactly (or that reads another
//! connection) does not refuse the plan: it becomes a *parameter*, computed first (locally, or
//! partly in Athena), whose value is written into the statement as a typed literal. Its type
//! must be one whose literal means the same value in Trino: integers, decimals, strings,
//! booleans and dates.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, NullEquality, ScalarValue, TableReference};
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::expr::{
    AggregateFunction, AggregateFunctionParams, WindowFunctionDefinition, WindowFunctionParams,
};
use datafusion::logical_expr::{
    Aggregate, BinaryExpr, Distinct, Expr, FetchType, Join, JoinType, Limit, LogicalPlan, Operator,
    SkipType, Subquery, TableScan, WindowFrame, WindowFrameBound, WindowFrameUnits,
};

use crate::dialect::quote_identifier;
use crate::exec::QueryExecutor;
use crate::pushdown::{FLOAT_BOUNDS_KEY, FloatBounds, check_pushable};
use crate::statement::AthenaTableName;
use crate::table::AthenaTable;
use crate::type_class::{is_float, is_signed_int};

/// Why a plan stays in DataFusion.
pub(crate) type Refusal = String;

/// What a pushable plan reads: the connection and the tables by their DataFusion names.
#[derive(Debug, Default, Clone)]
pub(crate) struct Reads {
    /// The executor every scan shares.
    pub(crate) executor: Option<Arc<dyn QueryExecutor>>,
    /// DataFusion table reference and Athena name of every scanned table.
    pub(crate) tables: Vec<(TableReference, AthenaTableName)>,
    /// Athena name and schema of every scanned table.
    pub(crate) schemas: Vec<(AthenaTableName, SchemaRef)>,
    /// Whether the plan does relational work a single table scan cannot push (aggregate,
    /// join, sort, distinct, union) or has parameters.
    pub(crate) relational: bool,
    /// Uncorrelated scalar subqueries computed before the statement is sent, their values
    /// written into it (see the module documentation).
    pub(crate) parameters: Vec<Subquery>,
}

/// Checks that Athena can run all of `plan` with DataFusion's answers; returns what it reads.
pub(crate) fn check_plan(plan: &LogicalPlan) -> Result<Reads, Refusal> {
    let mut reads = Reads::default();
    walk(plan, &mut reads)?;
    if reads.executor.is_none() {
        return Err("the plan reads no Athena table".into());
    }
    Ok(reads)
}

fn walk(plan: &LogicalPlan, reads: &mut Reads) -> Result<(), Refusal> {
    check_names(plan.schema())?;
    // Inputs first: a scalar subquery over another connection is then known to be one.
    plan.inputs().into_iter().try_for_each(|p| walk(p, reads))?;
    match plan {
        LogicalPlan::TableScan(scan) => return scan_leaf(scan, reads),
        LogicalPlan::Projection(p) => {
            let input = annotated(&p.input);
            for e in &p.expr {
                check_with_subqueries(e, &input, reads)?;
            }
        }
        LogicalPlan::Filter(f) => check_with_subqueries(&f.predicate, &annotated(&f.input), reads)?,
        LogicalPlan::Aggregate(a) => {
            check_aggregate(a)?;
            reads.relational = true;
        }
        LogicalPlan::Join(j) => {
            check_join(j)?;
            reads.relational = true;
        }
        LogicalPlan::Sort(s) => {
            let schema = &annotated(&s.input);
            for sort in &s.expr {
                if is_wild_float(&sort.expr, schema)? {
                    return Err("sorting by a float that may be NaN or -0.0".into());
                }
                check_expr(&sort.expr, schema)?;
            }
            reads.relational = true;
        }
        LogicalPlan::Limit(l) => check_limit(l)?,
        LogicalPlan::Window(w) => {
            let input = annotated(&w.input);
            for e in &w.window_expr {
                check_window(e, &input)?;
            }
            reads.relational = true;
        }
        LogicalPlan::Distinct(Distinct::All(_)) | LogicalPlan::Union(_) => {
            reads.relational = true;
        }
        LogicalPlan::SubqueryAlias(a) => check_reference(&a.alias)?,
        other => {
            return Err(format!(
                "{} nodes stay in DataFusion",
                other
                    .display()
                    .to_string()
                    .split(':')
                    .next()
                    .unwrap_or("these")
            ));
        }
    }
    Ok(())
}

fn scan_leaf(scan: &TableScan, reads: &mut Reads) -> Result<(), Refusal> {
    let provider = source_as_provider(&scan.source).map_err(|e| e.to_string())?;
    let Some(table) = provider.downcast_ref::<AthenaTable>() else {
        return Err(format!("{} is not an Athena table", scan.table_name));
    };
    if !table.filter_pushdown() {
        return Err(format!(
            "{} has filter pushdown off, so DataFusion computes its answers",
            scan.table_name
        ));
    }
    check_reference(&scan.table_name)?;
    let executor = table.executor();
    match &reads.executor {
        Some(e) if !same_executor(e, executor) => {
            return Err("the scans read different Athena connections".into());
        }
        Some(_) => {}
        None => reads.executor = Some(Arc::clone(executor)),
    }
    let table_schema =
        DFSchema::try_from(TableProvider::schema(table)).map_err(|e| e.to_string())?;
    for filter in &scan.filters {
        check_shapes(filter)?;
        check_pushable(filter, &table_schema).map_err(|e| e.reason().to_string())?;
    }
    let name = table.name().clone();
    for (other, other_name) in &reads.tables {
        if other == &scan.table_name && other_name != &name {
            return Err(format!("{} names two Athena tables", scan.table_name));
        }
        if other != &scan.table_name && other.table() == scan.table_name.table() {
            return Err(format!(
                "tables {other} and {} end in the same name",
                scan.table_name
            ));
        }
    }
    reads
        .schemas
        .push((name.clone(), TableProvider::schema(table)));
    reads.tables.push((scan.table_name.clone(), name));
    Ok(())
}

/// Whether two executors are the same connection (the same object).
pub(crate) fn same_executor(a: &Arc<dyn QueryExecutor>, b: &Arc<dyn QueryExecutor>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

fn check_reference(r: &TableReference) -> Result<(), Refusal> {
    for part in r.to_vec() {
        if quote_identifier(&part).is_none() {
            return Err(format!("the name {part:?} cannot be quoted"));
        }
    }
    Ok(())
}

/// Every output column and qualifier can be quoted, and the types decode from Athena's text.
fn check_names(schema: &DFSchema) -> Result<(), Refusal> {
    for (qualifier, field) in schema.iter() {
        if let Some(q) = qualifier {
            check_reference(q)?;
        }
        if quote_identifier(field.name()).is_none() {
            return Err(format!(
                "the column name {:?} cannot be quoted",
                field.name()
            ));
        }
        if !is_result_type(field.data_type()) {
            return Err(format!(
                "column {} has type {}, which is not read back from Athena",
                field.name(),
                field.data_type()
            ));
        }
    }
    Ok(())
}

fn is_result_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Date32
            | DataType::Timestamp(_, None)
    ) || matches!(t, DataType::Decimal128(p, s) if *p <= 38 && *s >= 0)
}

/// Whether `e` (over `schema`) is a float that is not tame (see [`FloatBounds`]): one that
/// may be NaN or -0.0, which Trino orders and groups differently.
fn is_wild_float(e: &Expr, schema: &DFSchema) -> Result<bool, Refusal> {
    if !is_float(&type_of(e, schema)?) {
        return Ok(false);
    }
    let (renamed, flat) = positional(e, schema)?;
    Ok(FloatBounds::of(&renamed, &flat).is_none())
}

fn type_of(e: &Expr, schema: &DFSchema) -> Result<DataType, Refusal> {
    use datafusion::logical_expr::ExprSchemable;
    e.get_type(schema)
        .map_err(|err| format!("type of {e}: {err}"))
}

/// [`check_expr`], where uncorrelated scalar subqueries are allowed when Athena can run
/// them: each is checked as a plan and stands in the filter rules as a column of its type.
fn check_with_subqueries(e: &Expr, schema: &DFSchema, reads: &mut Reads) -> Result<(), Refusal> {
    let mut refusal = None;
    let mut extra = Vec::new();
    let replaced = e
        .clone()
        .transform(|x| match x {
            Expr::ScalarSubquery(sq) => {
                if !sq.outer_ref_columns.is_empty() {
                    refusal.get_or_insert_with(|| "correlated scalar subqueries".to_string());
                } else {
                    // Inline when Athena can run it too, else compute it first.
                    let mut inner = reads.clone();
                    match walk(&sq.subquery, &mut inner) {
                        Ok(()) => *reads = inner,
                        Err(r) => match parameter_refusal(&sq) {
                            None => {
                                if !reads.parameters.contains(&sq) {
                                    reads.parameters.push(sq.clone());
                                }
                                reads.relational = true;
                            }
                            Some(p) => {
                                refusal.get_or_insert(format!("{r}; as a parameter: {p}"));
                            }
                        },
                    }
                }
                let name = format!("__athena_subquery_{}", extra.len());
                let field = sq.subquery.schema().field(0);
                extra.push(Field::new(&name, field.data_type().clone(), true));
                Ok(Transformed::yes(Expr::Column(Column::new_unqualified(
                    name,
                ))))
            }
            other => Ok(Transformed::no(other)),
        })
        .map_err(|err| err.to_string())?
        .data;
    if let Some(r) = refusal {
        return Err(r);
    }
    if extra.is_empty() {
        return check_expr(e, schema);
    }
    let extra = DFSchema::try_from(Schema::new(extra)).map_err(|err| err.to_string())?;
    let schema = schema.join(&extra).map_err(|err| err.to_string())?;
    check_expr(&replaced, &schema)
}

/// Why the value of `sq` cannot be written into a statement as a literal, if it cannot.
fn parameter_refusal(sq: &Subquery) -> Option<Refusal> {
    let fields = sq.subquery.schema().fields();
    let [field] = fields.as_ref() else {
        return Some(format!("the subquery answers {} columns", fields.len()));
    };
    let ok = match field.data_type() {
        t if is_signed_int(t) => true,
        DataType::Boolean
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Date32 => true,
        DataType::Decimal128(p, s) => *p <= 38 && *s >= 0,
        _ => false,
    };
    (!ok).then(|| {
        format!(
            "values of type {} are not sent as literals",
            field.data_type()
        )
    })
}

/// Checks `e` (over `schema`, the node's input) with the filter rules, columns by position.
pub(crate) fn check_expr(e: &Expr, schema: &DFSchema) -> Result<(), Refusal> {
    check_shapes(e)?;
    let (renamed, flat) = positional(e, schema)?;
    check_pushable(&renamed, &flat).map_err(|n| n.reason().to_string())
}

/// `e` with every column renamed to `c<index>` in `schema`, and that flat schema: the filter
/// rules look columns up by unqualified name, which a join's two `n_name`s would confuse.
fn positional(e: &Expr, schema: &DFSchema) -> Result<(Expr, DFSchema), Refusal> {
    let renamed = e
        .clone()
        .transform(|x| match x {
            Expr::Column(c) => {
                let i = schema.index_of_column(&c)?;
                Ok(Transformed::yes(Expr::Column(Column::new_unqualified(
                    format!("c{i}"),
                ))))
            }
            other => Ok(Transformed::no(other)),
        })
        .map_err(|err| err.to_string())?
        .data;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Field::new(format!("c{i}"), f.data_type().clone(), f.is_nullable())
                .with_metadata(f.metadata().clone())
        })
        .collect();
    let flat = DFSchema::try_from(Schema::new(fields)).map_err(|err| err.to_string())?;
    Ok((renamed, flat))
}

/// `plan`'s output schema, with the [`FloatBounds`] of its tame float columns in their
/// metadata: comparisons of such columns are pushed (see [`crate::check_pushable`]).
fn annotated(plan: &LogicalPlan) -> DFSchema {
    let schema = plan.schema();
    let bounds = column_bounds(plan);
    if bounds.len() != schema.fields().len() || bounds.iter().all(Option::is_none) {
        return schema.as_ref().clone();
    }
    let fields = schema
        .iter()
        .zip(bounds)
        .map(|((qualifier, field), b)| {
            let mut field = field.as_ref().clone();
            let mut metadata = field.metadata().clone();
            metadata.remove(FLOAT_BOUNDS_KEY);
            if let Some(b) = b {
                metadata.insert(FLOAT_BOUNDS_KEY.to_string(), b.to_text());
            }
            field = field.with_metadata(metadata);
            (qualifier.cloned(), Arc::new(field))
        })
        .collect();
    DFSchema::new_with_metadata(fields, schema.metadata().clone())
        .unwrap_or_else(|_| schema.as_ref().clone())
}

/// The bounds of each output column of `plan` that is a tame float (see [`FloatBounds`]).
fn column_bounds(plan: &LogicalPlan) -> Vec<Option<FloatBounds>> {
    let of = |e: &Expr, input: &DFSchema| {
        positional(e, input)
            .ok()
            .and_then(|(e, flat)| FloatBounds::of(&e, &flat))
    };
    let none = || vec![None; plan.schema().fields().len()];
    match plan {
        LogicalPlan::Projection(p) => {
            let input = annotated(&p.input);
            p.expr.iter().map(|e| of(e, &input)).collect()
        }
        LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::Distinct(Distinct::All(_))
        | LogicalPlan::SubqueryAlias(_) => match plan.inputs().as_slice() {
            [input] => column_bounds(input),
            _ => none(),
        },
        LogicalPlan::Join(j) => match j.join_type {
            JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
                let mut b = column_bounds(&j.left);
                b.extend(column_bounds(&j.right));
                b
            }
            JoinType::LeftSemi | JoinType::LeftAnti => column_bounds(&j.left),
            JoinType::RightSemi | JoinType::RightAnti => column_bounds(&j.right),
            _ => none(),
        },
        LogicalPlan::Aggregate(a) => {
            let input = annotated(&a.input);
            let mut b: Vec<_> = a.group_expr.iter().map(|g| of(g, &input)).collect();
            for e in &a.aggr_expr {
                let inner = match e {
                    Expr::Alias(alias) => alias.expr.as_ref(),
                    other => other,
                };
                // The least and greatest values are values of the argument.
                b.push(match inner {
                    Expr::AggregateFunction(AggregateFunction { func, params })
                        if matches!(func.name(), "min" | "max") && params.args.len() == 1 =>
                    {
                        of(&params.args[0], &input)
                    }
                    _ => None,
                });
            }
            b
        }
        _ => none(),
    }
}

/// Refuses what the filter rules accept but the unparsed plan would spell differently.
fn check_shapes(e: &Expr) -> Result<(), Refusal> {
    let mut refusal = None;
    let _ = e.apply(|x| {
        let bad = match x {
            Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_) => Some("IS [NOT] TRUE/FALSE/UNKNOWN".to_string()),
            Expr::BinaryExpr(BinaryExpr {
                op:
                    Operator::RegexMatch
                    | Operator::RegexNotMatch
                    | Operator::RegexIMatch
                    | Operator::RegexNotIMatch,
                ..
            }) => Some("regex operators".to_string()),
            Expr::Like(like) => match like.pattern.as_ref() {
                Expr::Literal(
                    ScalarValue::Utf8(Some(p))
                    | ScalarValue::LargeUtf8(Some(p))
                    | ScalarValue::Utf8View(Some(p)),
                    _,
                ) if !p.contains('\\') && like.escape_char.is_none() => None,
                _ => Some("LIKE with an escape or a pattern that is not a plain literal".into()),
            },
            Expr::Literal(v, _) if !is_plain_literal(v) => {
                Some(format!("the literal {v} (type {})", v.data_type()))
            }
            _ => None,
        };
        match bad {
            Some(b) => {
                refusal = Some(b);
                Ok(TreeNodeRecursion::Stop)
            }
            None => Ok(TreeNodeRecursion::Continue),
        }
    });
    match refusal {
        Some(r) => Err(format!("{r} stays in DataFusion")),
        None => Ok(()),
    }
}

/// Literals whose unparsed spelling means the same value in Trino.
fn is_plain_literal(v: &ScalarValue) -> bool {
    match v {
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::UInt64(_)
        | ScalarValue::Boolean(_)
        | ScalarValue::Utf8(_)
        | ScalarValue::LargeUtf8(_)
        | ScalarValue::Utf8View(_)
        | ScalarValue::Date32(_) => true,
        ScalarValue::Decimal128(_, p, s) => *p <= 38 && *s >= 0,
        ScalarValue::Float64(Some(f)) => f.is_finite(),
        _ => false,
    }
}

fn check_aggregate(a: &Aggregate) -> Result<(), Refusal> {
    let schema = &annotated(&a.input);
    for g in &a.group_expr {
        if matches!(g, Expr::GroupingSet(_)) {
            return Err("grouping sets".into());
        }
        check_expr(g, schema)?;
    }
    for e in &a.aggr_expr {
        let inner = match e {
            Expr::Alias(alias) => alias.expr.as_ref(),
            other => other,
        };
        let Expr::AggregateFunction(AggregateFunction { func, params }) = inner else {
            return Err(format!("aggregate expression {e}"));
        };
        let AggregateFunctionParams {
            args,
            distinct: _,
            filter,
            order_by,
            null_treatment,
        } = params;
        if !order_by.is_empty() || null_treatment.is_some() {
            return Err(format!("{} with ORDER BY or NULL treatment", func.name()));
        }
        if let Some(f) = filter {
            check_expr(f, schema)?;
        }
        let [arg] = args.as_slice() else {
            return Err(format!("{} with {} arguments", func.name(), args.len()));
        };
        check_expr(arg, schema)?;
        let t = type_of(arg, schema)?;
        let ok = match func.name() {
            "count" => true,
            "sum" => is_signed_int(&t) || matches!(t, DataType::Float64 | DataType::Decimal128(..)),
            "avg" => is_signed_int(&t) || t == DataType::Float64,
            "min" | "max" => !is_float(&t) && t != DataType::Boolean,
            _ => false,
        };
        if !ok {
            return Err(format!("aggregate {}({t})", func.name()));
        }
    }
    Ok(())
}

/// Whether Athena computes the window function `e` (over `schema`) exactly as DataFusion.
fn check_window(e: &Expr, schema: &DFSchema) -> Result<(), Refusal> {
    let inner = match e {
        Expr::Alias(alias) => alias.expr.as_ref(),
        other => other,
    };
    let Expr::WindowFunction(w) = inner else {
        return Err(format!("window expression {e}"));
    };
    let WindowFunctionParams {
        args,
        partition_by,
        order_by,
        window_frame,
        filter,
        null_treatment,
        distinct,
    } = &w.params;
    if filter.is_some() || null_treatment.is_some() || *distinct {
        return Err(format!(
            "{e}: FILTER, DISTINCT or NULL treatment in a window"
        ));
    }
    for p in partition_by {
        if is_wild_float(p, schema)? {
            return Err("partitioning a window by a float that may be NaN or -0.0".into());
        }
        check_expr(p, schema)?;
    }
    for o in order_by {
        if is_wild_float(&o.expr, schema)? {
            return Err("ordering a window by a float that may be NaN or -0.0".into());
        }
        check_expr(&o.expr, schema)?;
    }
    check_frame(window_frame)?;
    let name = w.fun.name();
    // A lag/lead default is sent as the value DataFusion casts it to: see `lag_default_fits`.
    let shift_default = matches!(name, "lag" | "lead") && args.len() == 3;
    let sent_as_is = if shift_default { &args[..2] } else { &args[..] };
    sent_as_is.iter().try_for_each(|a| check_expr(a, schema))?;
    let literal_count = |a: Option<&Expr>| matches!(a, Some(Expr::Literal(v, _)) if !v.is_null() && matches!(v, ScalarValue::Int64(Some(n)) if *n > 0));
    let ok = match (&w.fun, name) {
        (WindowFunctionDefinition::AggregateUDF(_), _) => {
            let [arg] = args.as_slice() else {
                return Err(format!("window {name} with {} arguments", args.len()));
            };
            let t = type_of(arg, schema)?;
            match name {
                "count" => true,
                "sum" => {
                    is_signed_int(&t) || matches!(t, DataType::Float64 | DataType::Decimal128(..))
                }
                "avg" => is_signed_int(&t) || t == DataType::Float64,
                "min" | "max" => !is_float(&t) && t != DataType::Boolean,
                _ => false,
            }
        }
        (
            WindowFunctionDefinition::WindowUDF(_),
            "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist",
        ) => args.is_empty(),
        (WindowFunctionDefinition::WindowUDF(_), "ntile") => {
            args.len() == 1 && literal_count(args.first())
        }
        (WindowFunctionDefinition::WindowUDF(_), "lag" | "lead") => match args.as_slice() {
            [_] => true,
            [_, offset] => literal_count(Some(offset)),
            [value, offset, default] => {
                literal_count(Some(offset)) && lag_default_fits(value, default, schema)?
            }
            _ => false,
        },
        (WindowFunctionDefinition::WindowUDF(_), "first_value" | "last_value") => args.len() == 1,
        (WindowFunctionDefinition::WindowUDF(_), "nth_value") => {
            args.len() == 2 && literal_count(args.get(1))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("window function {e}"))
    }
}

/// Whether the default of `lag`/`lead` over `value` can be sent: a literal that DataFusion
/// casts to the value's type (it always does), of a type whose `CAST` Athena reads the same.
/// The unparser then sends the cast value itself (see `lag_defaults` in the unparser), so
/// both engines use the same default.
fn lag_default_fits(value: &Expr, default: &Expr, schema: &DFSchema) -> Result<bool, Refusal> {
    let t = type_of(value, schema)?;
    let sendable = matches!(
        t,
        DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float64
            | DataType::Decimal128(..)
            | DataType::Utf8
            | DataType::Date32
    );
    Ok(sendable && matches!(default, Expr::Literal(v, _) if v.is_null() || v.cast_to(&t).is_ok()))
}

/// Frames that mean the same rows in Trino: `ROWS` with constant bounds, `RANGE` from the
/// start of the partition to the current row's peers or to its end.
fn check_frame(frame: &WindowFrame) -> Result<(), Refusal> {
    let constant = |b: &WindowFrameBound| match b {
        WindowFrameBound::CurrentRow => true,
        WindowFrameBound::Preceding(v) | WindowFrameBound::Following(v) => {
            matches!(v, ScalarValue::UInt64(_))
        }
    };
    let unbounded = |b: &WindowFrameBound| match b {
        WindowFrameBound::Preceding(v) | WindowFrameBound::Following(v) => v.is_null(),
        WindowFrameBound::CurrentRow => false,
    };
    let ok = match frame.units {
        WindowFrameUnits::Rows => constant(&frame.start_bound) && constant(&frame.end_bound),
        WindowFrameUnits::Range => {
            matches!(frame.start_bound, WindowFrameBound::Preceding(_))
                && unbounded(&frame.start_bound)
                && (matches!(frame.end_bound, WindowFrameBound::CurrentRow)
                    || (matches!(frame.end_bound, WindowFrameBound::Following(_))
                        && unbounded(&frame.end_bound)))
        }
        WindowFrameUnits::Groups => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("window frame {frame}"))
    }
}

fn check_join(j: &Join) -> Result<(), Refusal> {
    match j.join_type {
        JoinType::Inner
        | JoinType::Left
        | JoinType::Right
        | JoinType::Full
        | JoinType::LeftSemi
        | JoinType::LeftAnti => {}
        other => return Err(format!("{other} joins")),
    }
    if j.null_aware && (j.join_type != JoinType::LeftAnti || j.on.len() != 1 || j.filter.is_some())
    {
        return Err("null-aware joins other than one-key NOT IN".into());
    }
    if j.null_equality != NullEquality::NullEqualsNothing {
        return Err("joins where NULL keys match".into());
    }
    let both = annotated(&j.left)
        .join(&annotated(&j.right))
        .map_err(|e| e.to_string())?;
    for (l, r) in &j.on {
        check_expr(&l.clone().eq(r.clone()), &both)?;
    }
    if let Some(f) = &j.filter {
        check_expr(f, &both)?;
    }
    Ok(())
}

fn check_limit(l: &Limit) -> Result<(), Refusal> {
    let skip = matches!(l.get_skip_type(), Ok(SkipType::Literal(_)));
    let fetch = matches!(l.get_fetch_type(), Ok(FetchType::Literal(_)));
    if skip && fetch {
        Ok(())
    } else {
        Err("LIMIT or OFFSET that is not a constant".into())
    }
}
