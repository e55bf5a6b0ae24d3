//! Property tests: arbitrary strings used as identifiers and literals come back unchanged when
//! the generated SQL is parsed, and the SQL engine behind the table returns exactly the rows
//! that match them.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{ident, lit};
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr,
    Statement, Value,
};
use datafusion::sql::sqlparser::dialect::{AnsiDialect, Dialect, GenericDialect};
use datafusion::sql::sqlparser::parser::Parser;
use datafusion_athena_scan::{filter_to_sql, quote_identifier, quote_string};
use proptest::prelude::*;

use crate::common::{LocalAthena, client};

fn parse_one(dialect: &dyn Dialect, sql: &str) -> Statement {
    let mut statements =
        Parser::parse_sql(dialect, sql).unwrap_or_else(|e| panic!("{sql} does not parse: {e}"));
    assert_eq!(statements.len(), 1, "{sql} is not one statement");
    statements.remove(0)
}

fn select_items(statement: &Statement) -> (&[SelectItem], Option<&Expr>) {
    let Statement::Query(query) = statement else {
        panic!("not a query: {statement}");
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        panic!("not a select: {statement}");
    };
    (&select.projection, select.selection.as_ref())
}

/// Evaluates a string expression made of literals, `||` and `chr(n)` (how control characters
/// are written) back into the string.
fn fold_string(e: &Expr) -> String {
    match e {
        Expr::Nested(inner) => fold_string(inner),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => s.clone(),
            other => panic!("unexpected value {other:?}"),
        },
        Expr::BinaryOp {
            left,
            op: BinaryOperator::StringConcat,
            right,
        } => fold_string(left) + &fold_string(right),
        Expr::Function(f) if f.name.to_string() == "chr" => {
            let FunctionArguments::List(list) = &f.args else {
                panic!("chr without arguments");
            };
            let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] =
                list.args.as_slice()
            else {
                panic!("chr with unexpected arguments: {e}");
            };
            let Value::Number(n, _) = &v.value else {
                panic!("chr of a non-number: {e}");
            };
            let code: u32 = n.parse().expect("code point");
            char::from_u32(code).expect("valid char").to_string()
        }
        other => panic!("not a string expression: {other:?}"),
    }
}

fn identifier_value(e: &Expr) -> String {
    match e {
        Expr::Identifier(i) => {
            assert_eq!(
                i.quote_style,
                Some('"'),
                "identifier not double-quoted: {e}"
            );
            i.value.clone()
        }
        other => panic!("not an identifier: {other:?}"),
    }
}

fn any_identifier() -> impl Strategy<Value = String> {
    // Every printable character, quotes and backslashes included.
    "[^\\p{Cc}\u{2028}\u{2029}]{1,24}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn identifiers_round_trip(name in any_identifier()) {
        let quoted = quote_identifier(&name).expect("quotable");
        for dialect in [&GenericDialect {} as &dyn Dialect, &AnsiDialect {}] {
            let statement = parse_one(dialect, &format!("SELECT {quoted} FROM t"));
            let (items, _) = select_items(&statement);
            let [SelectItem::UnnamedExpr(e)] = items else {
                panic!("one column expected: {statement}");
            };
            prop_assert_eq!(identifier_value(e), name.clone());
        }
    }

    #[test]
    fn identifiers_with_control_characters_are_refused(
        head in "[a-z]{0,4}", c in "\\p{Cc}", tail in "[a-z]{0,4}"
    ) {
        let name = format!("{head}{c}{tail}");
        prop_assert!(quote_identifier(&name).is_none());
    }

    #[test]
    fn string_literals_round_trip(value in any::<String>()) {
        let sql = format!("SELECT {} FROM t", quote_string(&value));
        prop_assert!(!sql.contains('\n') && !sql.contains('\r'));
        for dialect in [&GenericDialect {} as &dyn Dialect, &AnsiDialect {}] {
            let statement = parse_one(dialect, &sql);
            let (items, _) = select_items(&statement);
            let [SelectItem::UnnamedExpr(e)] = items else {
                panic!("one item expected: {statement}");
            };
            prop_assert_eq!(fold_string(e), value.clone());
        }
    }

    #[test]
    fn filters_keep_column_and_value(name in any_identifier(), value in any::<String>()) {
        let schema = Schema::new(vec![Field::new(&name, DataType::Utf8, true)]);
        let schema = DFSchema::try_from(schema).expect("schema");
        let sql = filter_to_sql(&ident(&name).eq(lit(value.clone())), &schema)
            .expect("string equality is pushed");
        let statement = parse_one(&GenericDialect {}, &format!("SELECT 1 FROM t WHERE {sql}"));
        let (_, selection) = select_items(&statement);
        let mut e = selection.expect("a WHERE clause");
        while let Expr::Nested(inner) = e {
            e = inner;
        }
        let Expr::BinaryOp { left, op: BinaryOperator::Eq, right } = e else {
            panic!("not an equality: {sql}");
        };
        prop_assert_eq!(identifier_value(left), name);
        prop_assert_eq!(fold_string(right), value);
    }
}

fn engine_batch(values: &[String]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("s", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(
                (0..values.len() as i64).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(values.to_vec())),
        ],
    )
    .expect("batch")
}

/// Strings the stand-in engine (DataFusion) can hold in SQL: it rejects `chr(0)`.
fn engine_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\u{0}]{0,12}",
        "[ '\"\\\\%_;\\-\n\r\t]{0,8}",
        Just("' OR 1=1 --".to_string()),
        Just("\\' OR ''='".to_string()),
        Just("'); DROP TABLE t; --".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn engine_returns_exactly_the_matching_rows(
        values in proptest::collection::vec(engine_string(), 1..6),
        pick in any::<prop::sample::Index>(),
        probe in engine_string(),
        use_probe in any::<bool>(),
    ) {
        let needle = if use_probe { probe } else { values[pick.index(values.len())].clone() };
        let expected: Vec<i64> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v == needle)
            .map(|(i, _)| i as i64)
            .collect();
        let batch = engine_batch(&values);
        let schema = batch.schema();
        let athena = LocalAthena::new(batch);
        let ctx = client(Arc::clone(&athena), schema, true);
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let ids: Vec<i64> = runtime.block_on(async {
            let df = ctx
                .table("t")
                .await
                .expect("table")
                .filter(ident("s").eq(lit(needle.clone())))
                .expect("filter")
                .select_columns(&["id"])
                .expect("select");
            let batches = df.collect().await.expect("query");
            let mut ids: Vec<i64> = batches
                .iter()
                .flat_map(|b| {
                    b.column(0)
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .expect("ids")
                        .values()
                        .to_vec()
                })
                .collect();
            ids.sort_unstable();
            ids
        });
        prop_assert_eq!(ids, expected);
        // Exactly one statement ran, a single SELECT with the filter in it.
        let sent = athena.take_statements();
        prop_assert_eq!(sent.len(), 1);
        let statement = parse_one(&GenericDialect {}, &sent[0]);
        prop_assert!(matches!(statement, Statement::Query(_)));
        let (_, selection) = select_items(&statement);
        prop_assert!(selection.is_some(), "filter not pushed: {}", sent[0]);
    }
}
