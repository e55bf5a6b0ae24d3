//! Join key filters: what a DataFusion dynamic filter (the build side keys of a hash join) lets
//! through, written as an Athena condition.
//!
//! A `HashJoinExec` fills a `DynamicFilterPhysicalExpr` once its build side is loaded:
//! `k >= min AND k <= max AND k IN (keys...)` (the `IN` list only up to
//! `datafusion.optimizer.hash_join_inlist_pushdown_max_distinct_values` keys, a hash table
//! lookup above), possibly routed per partition with `CASE hash(k) % n WHEN ...`, and widened
//! with `k IS NULL OR ...` when the join needs NULL keys. The join still matches every row
//! itself, so the condition sent to Athena only has to keep every row the filter keeps: it may
//! keep more. [`key_filter_sql`] therefore writes the strongest condition it can express
//! exactly (checked by the same rules as pushed filters, [`crate::can_push`]) and drops what it
//! cannot: a hash table lookup, a `NOT`, an expression it does not know become "no condition",
//! an `AND` keeps its expressible half, an `OR` or `CASE` is kept only when every branch is.
//! NULLs in the key list are dropped (`k IN (1, NULL)` keeps the same rows as `k IN (1)`), and
//! duplicate keys are written once.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, Operator};
use datafusion::physical_expr::expressions::{
    self as pe, CaseExpr, CastExpr, DynamicFilterPhysicalExpr, InListExpr, IsNotNullExpr,
    IsNullExpr, Literal,
};
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};

use crate::pushdown::{can_push, filter_to_sql};
use crate::type_class::is_string;

/// Athena's limit on the length of one statement, in bytes (`StartQueryExecution` rejects
/// longer `QueryString`s).
pub const MAX_QUERY_BYTES: usize = 262_144;

/// The Athena condition implied by `filter` (a predicate over the columns of `schema`, usually
/// holding a `DynamicFilterPhysicalExpr`), at most `max_bytes` long; `None` when nothing useful
/// can be said (the filter is still `true`, or nothing of it is expressible, or even the range
/// form is too long).
///
/// When the key list is too long it falls back to the range of the keys
/// (`"k" >= min AND "k" <= max`), then to nothing.
pub(crate) fn key_filter_sql(
    filter: &Arc<dyn PhysicalExpr>,
    schema: &DFSchema,
    max_bytes: usize,
) -> Option<String> {
    for lists in [true, false] {
        match implied(filter, schema, lists) {
            Implied::All => return None,
            Implied::Cond(expr) => {
                if let Ok(sql) = filter_to_sql(&expr, schema)
                    && sql.len() <= max_bytes
                {
                    return Some(sql);
                }
            }
        }
    }
    None
}

/// A condition that keeps at least every row some predicate keeps.
#[derive(Debug, Clone)]
enum Implied {
    /// Every row: no condition.
    All,
    /// A pushable logical condition.
    Cond(Expr),
}

impl Implied {
    fn is_false(&self) -> bool {
        matches!(
            self,
            Implied::Cond(Expr::Literal(ScalarValue::Boolean(Some(false)), _))
        )
    }

    fn and(self, other: Self) -> Self {
        match (self, other) {
            (Implied::All, x) | (x, Implied::All) => x,
            (a, _) if a.is_false() => a,
            (_, b) if b.is_false() => b,
            // The bounds and the range of the key list are often the same condition.
            (Implied::Cond(a), Implied::Cond(b)) if a == b => Implied::Cond(a),
            (Implied::Cond(a), Implied::Cond(b)) => Implied::Cond(a.and(b)),
        }
    }

    fn or(self, other: Self) -> Self {
        match (self, other) {
            (Implied::All, _) | (_, Implied::All) => Implied::All,
            (a, b) if a.is_false() => b,
            (a, b) if b.is_false() => a,
            (Implied::Cond(a), Implied::Cond(b)) => Implied::Cond(a.or(b)),
        }
    }
}

fn never() -> Implied {
    Implied::Cond(Expr::Literal(ScalarValue::Boolean(Some(false)), None))
}

/// `expr` when Athena evaluates it exactly, otherwise no condition.
fn leaf(expr: Expr, schema: &DFSchema) -> Implied {
    if can_push(&expr, schema) {
        Implied::Cond(expr)
    } else {
        Implied::All
    }
}

/// What `e` implies; with `lists` false, key lists become their range.
fn implied(e: &Arc<dyn PhysicalExpr>, schema: &DFSchema, lists: bool) -> Implied {
    if let Some(dynamic) = e.downcast_ref::<DynamicFilterPhysicalExpr>() {
        return match dynamic.current() {
            Ok(current) => implied(&current, schema, lists),
            Err(_) => Implied::All,
        };
    }
    if let Some(l) = e.downcast_ref::<Literal>() {
        return match l.value() {
            ScalarValue::Boolean(Some(true)) => Implied::All,
            ScalarValue::Boolean(_) => never(),
            _ => Implied::All,
        };
    }
    if let Some(b) = e.downcast_ref::<pe::BinaryExpr>() {
        return match b.op() {
            Operator::And => {
                implied(b.left(), schema, lists).and(implied(b.right(), schema, lists))
            }
            Operator::Or => implied(b.left(), schema, lists).or(implied(b.right(), schema, lists)),
            op @ (Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom) => {
                match (operand(b.left(), schema), operand(b.right(), schema)) {
                    (Some(l), Some(r)) => leaf(
                        Expr::BinaryExpr(BinaryExpr::new(Box::new(l), *op, Box::new(r))),
                        schema,
                    ),
                    _ => Implied::All,
                }
            }
            _ => Implied::All,
        };
    }
    if let Some(list) = e.downcast_ref::<InListExpr>() {
        return in_list(list, schema, lists);
    }
    if let Some(n) = e.downcast_ref::<IsNullExpr>() {
        return operand(n.arg(), schema).map_or(Implied::All, |o| leaf(o.is_null(), schema));
    }
    if let Some(n) = e.downcast_ref::<IsNotNullExpr>() {
        return operand(n.arg(), schema).map_or(Implied::All, |o| leaf(o.is_not_null(), schema));
    }
    if let Some(c) = e.downcast_ref::<CaseExpr>() {
        // The row is kept when the branch chosen is true: some branch is true. A missing ELSE
        // is NULL, which keeps nothing.
        let mut out = never();
        for (_, then) in c.when_then_expr() {
            out = out.or(implied(then, schema, lists));
        }
        if let Some(e) = c.else_expr() {
            out = out.or(implied(e, schema, lists));
        }
        return out;
    }
    Implied::All
}

/// `k IN (...)` without NULLs and duplicates, sorted; its range when `lists` is false.
fn in_list(list: &InListExpr, schema: &DFSchema, lists: bool) -> Implied {
    if list.negated() {
        return Implied::All;
    }
    if let Some(keys) = struct_keys(list.expr(), schema) {
        return composite_in_list(&keys, list, schema, lists);
    }
    let Some(key) = operand(list.expr(), schema) else {
        return Implied::All;
    };
    let mut seen = HashSet::new();
    let mut values = Vec::with_capacity(list.len());
    for item in list.list() {
        let Some(l) = item.downcast_ref::<Literal>() else {
            return Implied::All;
        };
        let v = l.value();
        if !v.is_null() && seen.insert(v.clone()) {
            values.push(v.clone());
        }
    }
    if values.is_empty() {
        return never();
    }
    let mut comparable = true;
    values.sort_by(|a, b| {
        a.partial_cmp(b).unwrap_or_else(|| {
            comparable = false;
            std::cmp::Ordering::Equal
        })
    });
    if lists {
        let items = values.into_iter().map(|v| Expr::Literal(v, None)).collect();
        return leaf(
            Expr::InList(InList::new(Box::new(key), items, false)),
            schema,
        );
    }
    match (comparable, values.first(), values.last()) {
        (true, Some(min), Some(max)) => leaf(
            key.clone()
                .gt_eq(Expr::Literal(min.clone(), None))
                .and(key.lt_eq(Expr::Literal(max.clone(), None))),
            schema,
        ),
        _ => Implied::All,
    }
}

/// The keys of a multi-column join, which DataFusion lists as `struct(k1, k2, ...)`.
fn struct_keys(e: &Arc<dyn PhysicalExpr>, schema: &DFSchema) -> Option<Vec<Expr>> {
    let f = e.downcast_ref::<ScalarFunctionExpr>()?;
    if f.name() != "struct" {
        return None;
    }
    f.args().iter().map(|a| operand(a, schema)).collect()
}

/// `struct(k1, k2) IN (...)` as `(k1 = a AND k2 = b) OR ...`: tuples holding a NULL never
/// match and are dropped, duplicates are written once. Without `lists`, each key's range.
fn composite_in_list(keys: &[Expr], list: &InListExpr, schema: &DFSchema, lists: bool) -> Implied {
    let mut seen = HashSet::new();
    let mut tuples: Vec<Vec<ScalarValue>> = Vec::with_capacity(list.len());
    for item in list.list() {
        let Some(ScalarValue::Struct(values)) = item.downcast_ref::<Literal>().map(Literal::value)
        else {
            return Implied::All;
        };
        if values.num_columns() != keys.len() || values.len() != 1 {
            return Implied::All;
        }
        let Ok(tuple) = values
            .columns()
            .iter()
            .map(|c| ScalarValue::try_from_array(c.as_ref(), 0))
            .collect::<Result<Vec<_>, _>>()
        else {
            return Implied::All;
        };
        if !values.is_null(0) && tuple.iter().all(|v| !v.is_null()) && seen.insert(tuple.clone()) {
            tuples.push(tuple);
        }
    }
    if tuples.is_empty() {
        return never();
    }
    if lists {
        let mut rows = Vec::with_capacity(tuples.len());
        for tuple in tuples {
            let mut row = Implied::All;
            for (key, value) in keys.iter().zip(tuple) {
                row = row.and(leaf(key.clone().eq(Expr::Literal(value, None)), schema));
            }
            rows.push(row);
        }
        return balanced_or(rows);
    }
    let mut out = Implied::All;
    for (i, key) in keys.iter().enumerate() {
        let mut column: Vec<&ScalarValue> = tuples.iter().map(|t| &t[i]).collect();
        let mut comparable = true;
        column.sort_by(|a, b| {
            a.partial_cmp(b).unwrap_or_else(|| {
                comparable = false;
                std::cmp::Ordering::Equal
            })
        });
        if let (true, Some(min), Some(max)) = (comparable, column.first(), column.last()) {
            out = out.and(leaf(
                key.clone()
                    .gt_eq(Expr::Literal((*min).clone(), None))
                    .and(key.clone().lt_eq(Expr::Literal((*max).clone(), None))),
                schema,
            ));
        }
    }
    out
}

/// The `OR` of `items` as a balanced tree: a thousand tuples nest ten levels deep, not a
/// thousand (the SQL parenthesises every `OR`).
fn balanced_or(mut items: Vec<Implied>) -> Implied {
    if items.is_empty() {
        return never();
    }
    while items.len() > 1 {
        let mut next = Vec::with_capacity(items.len().div_ceil(2));
        let mut it = items.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => a.or(b),
                None => a,
            });
        }
        items = next;
    }
    items.pop().unwrap_or_else(never)
}

/// A column, a literal or a cast of one, as a logical expression. Casts between string types
/// (a `varchar` key compared with the `Utf8View` keys of a local Parquet file) change no value
/// and are dropped.
fn operand(e: &Arc<dyn PhysicalExpr>, schema: &DFSchema) -> Option<Expr> {
    if let Some(c) = e.downcast_ref::<pe::Column>() {
        return Some(Expr::Column(Column::new_unqualified(c.name())));
    }
    if let Some(l) = e.downcast_ref::<Literal>() {
        return Some(Expr::Literal(l.value().clone(), None));
    }
    if let Some(c) = e.downcast_ref::<CastExpr>() {
        let inner = operand(c.expr(), schema)?;
        let from = inner.get_type(schema).ok()?;
        if is_string(&from) && is_string(c.cast_type()) {
            return Some(inner);
        }
        return Some(Expr::Cast(Cast::new(
            Box::new(inner),
            c.cast_type().clone(),
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, StringViewArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_expr::expressions::{col, lit};

    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("Name", DataType::Utf8, true),
            Field::new("f", DataType::Float64, true),
        ])
    }

    fn df_schema() -> DFSchema {
        DFSchema::try_from(schema()).expect("schema")
    }

    fn k() -> Arc<dyn PhysicalExpr> {
        col("k", &schema()).expect("k")
    }

    fn bin(
        l: Arc<dyn PhysicalExpr>,
        op: Operator,
        r: Arc<dyn PhysicalExpr>,
    ) -> Arc<dyn PhysicalExpr> {
        Arc::new(pe::BinaryExpr::new(l, op, r))
    }

    fn keys(values: Vec<Option<i64>>) -> Arc<dyn PhysicalExpr> {
        let array: ArrayRef = Arc::new(Int64Array::from(values));
        Arc::new(InListExpr::try_new_from_array(k(), array, false, &schema()).expect("in list"))
    }

    fn bounds(min: i64, max: i64) -> Arc<dyn PhysicalExpr> {
        bin(
            bin(k(), Operator::GtEq, lit(min)),
            Operator::And,
            bin(k(), Operator::LtEq, lit(max)),
        )
    }

    fn sql(e: &Arc<dyn PhysicalExpr>) -> Option<String> {
        key_filter_sql(e, &df_schema(), MAX_QUERY_BYTES)
    }

    #[test]
    fn bounds_and_key_list_without_nulls_and_duplicates() {
        let filter = bin(
            bounds(1, 9),
            Operator::And,
            keys(vec![Some(9), Some(1), None, Some(9), Some(5)]),
        );
        assert_eq!(
            sql(&filter).as_deref(),
            Some("(((\"k\" >= 1) AND (\"k\" <= 9)) AND (\"k\" IN (1, 5, 9)))")
        );
    }

    #[test]
    fn a_dynamic_filter_is_read_at_its_current_value() {
        let dynamic = Arc::new(DynamicFilterPhysicalExpr::new(vec![k()], lit(true)));
        let as_expr: Arc<dyn PhysicalExpr> = Arc::clone(&dynamic) as _;
        assert_eq!(sql(&as_expr), None, "still `true`: no condition");
        dynamic.update(keys(vec![Some(3)])).expect("update");
        assert_eq!(sql(&as_expr).as_deref(), Some("\"k\" IN (3)"));
    }

    #[test]
    fn too_long_lists_fall_back_to_the_range_then_nothing() {
        let many: Vec<Option<i64>> = (0..1000).map(|i| Some(i * 7)).collect();
        let filter = keys(many);
        let full = sql(&filter).expect("list");
        assert!(full.starts_with("\"k\" IN (0, 7, 14, "), "{full}");
        let range = key_filter_sql(&filter, &df_schema(), 100).expect("range");
        assert_eq!(range, "((\"k\" >= 0) AND (\"k\" <= 6993))");
        assert_eq!(key_filter_sql(&filter, &df_schema(), 10), None);
    }

    #[test]
    fn untranslatable_parts_are_weakened_never_strengthened() {
        // NOT, hash lookups and friends: no condition; AND keeps its expressible half.
        let not: Arc<dyn PhysicalExpr> = Arc::new(pe::NotExpr::new(keys(vec![Some(1)])));
        assert_eq!(sql(&not), None);
        assert_eq!(
            sql(&bin(Arc::clone(&not), Operator::And, bounds(1, 2))).as_deref(),
            Some("((\"k\" >= 1) AND (\"k\" <= 2))")
        );
        assert_eq!(sql(&bin(not, Operator::Or, bounds(1, 2))), None);
        // Float ranges are not pushed (NaN ordering); an empty key list keeps nothing.
        let f = col("f", &schema()).expect("f");
        assert_eq!(sql(&bin(f, Operator::GtEq, lit(1.5))), None);
        assert_eq!(sql(&keys(vec![None])).as_deref(), Some("FALSE"));
    }

    #[test]
    fn null_keys_and_partition_routing() {
        // A null-aware join widens the filter with `k IS NULL OR ...`.
        let widened = bin(
            Arc::new(IsNullExpr::new(k())),
            Operator::Or,
            keys(vec![Some(2)]),
        );
        assert_eq!(
            sql(&widened).as_deref(),
            Some("((\"k\" IS NULL) OR (\"k\" IN (2)))")
        );
        // Partitioned joins route by hash: any branch may apply.
        let routed: Arc<dyn PhysicalExpr> = Arc::new(
            CaseExpr::try_new(
                Some(lit(ScalarValue::UInt64(Some(0)))),
                vec![
                    (lit(ScalarValue::UInt64(Some(0))), keys(vec![Some(1)])),
                    (lit(ScalarValue::UInt64(Some(1))), lit(false)),
                    (lit(ScalarValue::UInt64(Some(2))), keys(vec![Some(7)])),
                ],
                Some(lit(false)),
            )
            .expect("case"),
        );
        assert_eq!(
            sql(&routed).as_deref(),
            Some("((\"k\" IN (1)) OR (\"k\" IN (7)))")
        );
    }

    #[test]
    fn widened_keys_keep_their_cast() {
        // An int key joined with bigint keys: the join compares CAST(k AS BIGINT).
        let narrow = Schema::new(vec![Field::new("k", DataType::Int32, true)]);
        let key: Arc<dyn PhysicalExpr> = Arc::new(CastExpr::new(
            col("k", &narrow).expect("k"),
            DataType::Int64,
            None,
        ));
        let array: ArrayRef = Arc::new(Int64Array::from(vec![Some(3), Some(1)]));
        let filter: Arc<dyn PhysicalExpr> =
            Arc::new(InListExpr::try_new_from_array(key, array, false, &narrow).expect("in list"));
        let schema = DFSchema::try_from(narrow).expect("schema");
        assert_eq!(
            key_filter_sql(&filter, &schema, MAX_QUERY_BYTES).as_deref(),
            Some("CAST(\"k\" AS BIGINT) IN (1, 3)")
        );
    }

    #[test]
    fn string_keys_from_parquet_lose_their_view_cast() {
        let name: Arc<dyn PhysicalExpr> = Arc::new(CastExpr::new(
            col("Name", &schema()).expect("Name"),
            DataType::Utf8View,
            None,
        ));
        let array: ArrayRef = Arc::new(StringViewArray::from(vec![Some("b"), Some("a")]));
        let filter: Arc<dyn PhysicalExpr> = Arc::new(
            InListExpr::try_new_from_array(name, array, false, &schema()).expect("in list"),
        );
        assert_eq!(sql(&filter).as_deref(), Some("\"Name\" IN ('a', 'b')"));
    }

    #[test]
    fn string_keys_are_quoted() {
        let name = col("Name", &schema()).expect("Name");
        let array: ArrayRef = Arc::new(StringArray::from(vec![Some("O'Brien"), Some("a")]));
        let filter: Arc<dyn PhysicalExpr> = Arc::new(
            InListExpr::try_new_from_array(name, array, false, &schema()).expect("in list"),
        );
        assert_eq!(
            sql(&filter).as_deref(),
            Some("\"Name\" IN ('O''Brien', 'a')")
        );
    }
}
