//! `CAST(x AS JSON)`: DataFusion has no JSON type, so the cast is rewritten into a call of a
//! UDF that writes the value as Trino's JSON text (`[1,2]`, `{"a":1}`, rows as objects with
//! their field names). NULL stays NULL.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Float16Type, Float32Type, Float64Type,
};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, Value, visit_expressions_mut,
};

use super::render::{java_double, java_float, push_bool_or_integer, render};

/// The UDF's name; not one a query would use.
pub(crate) const UDF_NAME: &str = "__emulator_cast_to_json";

/// Field metadata key marking a column whose Athena type is `json` (its value: `json`).
pub(crate) const ATHENA_TYPE_KEY: &str = "athena.emulator.type";

/// The UDF that serialises any value to JSON text.
pub(crate) fn udf() -> ScalarUDF {
    ScalarUDF::from(ToJson {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

/// Rewrites every `CAST(e AS JSON)` (and `e::json`) of the statement into the UDF's call.
pub(crate) fn rewrite_casts(statement: &mut DfStatement) {
    let DfStatement::Statement(statement) = statement else {
        return;
    };
    let _ = visit_expressions_mut(statement.as_mut(), |expr| {
        if let Expr::Cast {
            kind: CastKind::Cast | CastKind::DoubleColon,
            expr: inner,
            data_type: SqlType::JSON,
            format: None,
            array: false,
        } = expr
        {
            let arg = std::mem::replace(inner.as_mut(), Expr::value(Value::Null));
            *expr = Expr::Function(Function {
                name: ObjectName::from(vec![Ident::new(UDF_NAME)]),
                uses_odbc_syntax: false,
                parameters: FunctionArguments::None,
                args: FunctionArguments::List(FunctionArgumentList {
                    duplicate_treatment: None,
                    args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))],
                    clauses: Vec::new(),
                }),
                filter: None,
                null_treatment: None,
                over: None,
                within_group: Vec::new(),
            });
        }
        ControlFlow::<()>::Continue(())
    });
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJson {
    signature: Signature,
}

impl ScalarUDFImpl for ToJson {
    fn name(&self) -> &str {
        UDF_NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    /// Utf8, marked so the result's ColumnInfo says `json` as Athena's does.
    fn return_field_from_args(&self, _args: ReturnFieldArgs<'_>) -> Result<FieldRef> {
        let metadata = HashMap::from([(ATHENA_TYPE_KEY.to_owned(), "json".to_owned())]);
        Ok(Arc::new(
            Field::new(self.name(), DataType::Utf8, true).with_metadata(metadata),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(array) = arrays.first() else {
            return Ok(ColumnarValue::Array(Arc::new(
                StringBuilder::new().finish(),
            )));
        };
        Ok(ColumnarValue::Array(to_json_array(array.as_ref())))
    }
}

/// One JSON text per row; NULL rows stay NULL.
pub(crate) fn to_json_array(array: &dyn Array) -> ArrayRef {
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 8);
    let mut text = String::new();
    for row in 0..array.len() {
        if array.is_null(row) {
            out.append_null();
        } else {
            text.clear();
            write_json(array, row, &mut text);
            out.append_value(&text);
        }
    }
    Arc::new(out.finish())
}

fn write_json(array: &dyn Array, row: usize, out: &mut String) {
    if array.is_null(row) {
        out.push_str("null");
        return;
    }
    if push_bool_or_integer(array, row, out) {
        return;
    }
    match array.data_type() {
        DataType::Float16 => float(
            out,
            f64::from(array.as_primitive::<Float16Type>().value(row).to_f32()),
            |v| java_float(v as f32),
        ),
        DataType::Float32 => float(
            out,
            f64::from(array.as_primitive::<Float32Type>().value(row)),
            |v| java_float(v as f32),
        ),
        DataType::Float64 => float(
            out,
            array.as_primitive::<Float64Type>().value(row),
            java_double,
        ),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => out.push_str(&render(array, row).unwrap_or_default()),
        DataType::List(_) => list(out, array.as_list::<i32>().value(row).as_ref()),
        DataType::LargeList(_) => list(out, array.as_list::<i64>().value(row).as_ref()),
        DataType::FixedSizeList(..) => list(out, array.as_fixed_size_list().value(row).as_ref()),
        DataType::Struct(fields) => {
            let st = array.as_struct();
            out.push('{');
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, field.name());
                out.push(':');
                write_json(st.column(i).as_ref(), row, out);
            }
            out.push('}');
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push(',');
                }
                string(out, &render(keys.as_ref(), i).unwrap_or_default());
                out.push(':');
                write_json(values.as_ref(), i, out);
            }
            out.push('}');
        }
        DataType::Dictionary(..) => {
            let dict = array.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            write_json(dict.values().as_ref(), key, out);
        }
        // Text, dates, times, binary: a JSON string of Athena's text for the value.
        _ => string(out, &render(array, row).unwrap_or_default()),
    }
}

/// Finite numbers as Java prints them (Jackson does the same); NaN and infinities as strings.
fn float(out: &mut String, value: f64, text: impl Fn(f64) -> String) {
    if value.is_finite() {
        out.push_str(&text(value));
    } else {
        string(out, &text(value));
    }
}

fn list(out: &mut String, values: &dyn Array) {
    out.push('[');
    for i in 0..values.len() {
        if i > 0 {
            out.push(',');
        }
        write_json(values, i, out);
    }
    out.push(']');
}

fn string(out: &mut String, value: &str) {
    out.push_str(&serde_json::Value::from(value).to_string());
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{
        Float64Array, Int32Array, Int64Builder, ListArray, MapBuilder, StringArray,
        StringBuilder as SB, StructArray,
    };
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    fn texts(array: &dyn Array) -> Vec<Option<String>> {
        let out = to_json_array(array);
        let s = out.as_string::<i32>();
        (0..s.len())
            .map(|i| (!s.is_null(i)).then(|| s.value(i).to_owned()))
            .collect()
    }

    #[test]
    fn lists_structs_and_maps_become_json_text() {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
            Some(vec![None]),
        ]);
        assert_eq!(
            texts(&list),
            [Some("[1,2]".to_owned()), None, Some("[null]".to_owned())]
        );

        let st = StructArray::from(vec![
            (
                Arc::new(Field::new("a", DataType::Int32, true)),
                Arc::new(Int32Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("s", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec![Some("x\"y"), Some("é")])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("f", DataType::Float64, true)),
                Arc::new(Float64Array::from(vec![1e20, f64::NAN])) as ArrayRef,
            ),
        ]);
        assert_eq!(
            texts(&st),
            [
                Some(r#"{"a":1,"s":"x\"y","f":1.0E20}"#.to_owned()),
                Some(r#"{"a":null,"s":"é","f":"NaN"}"#.to_owned())
            ]
        );

        let mut map = MapBuilder::new(None, SB::new(), Int64Builder::new());
        map.keys().append_value("k");
        map.values().append_value(7);
        map.append(true).unwrap();
        map.append(false).unwrap();
        assert_eq!(texts(&map.finish()), [Some(r#"{"k":7}"#.to_owned()), None]);
    }
}
