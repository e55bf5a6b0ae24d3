//! The last check before a sub-plan is sent: DataFusion plans the generated SQL against the
//! scanned tables' schemas, and the answer must have the sub-plan's columns, in order, with
//! its types. This catches unparser output that names a column out of scope or lists
//! columns in another order, which would otherwise fail in Athena or be read wrongly.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DFSchema, DataFusionError, TableReference};
use datafusion::datasource::empty::EmptyTable;
use datafusion::datasource::provider_as_source;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::planner::{ContextProvider, ExprPlanner, TypePlanner};
use datafusion::logical_expr::{AggregateUDF, HigherOrderUDF, ScalarUDF, TableSource, WindowUDF};
use datafusion::sql::parser::DFParser;
use datafusion::sql::planner::SqlToRel;
use datafusion::sql::sqlparser::dialect::GenericDialect;

use super::check::Refusal;
use crate::statement::AthenaTableName;

/// DataFusion's built-in functions and planners.
static FUNCTIONS: LazyLock<SessionState> =
    LazyLock::new(|| SessionStateBuilder::new().with_default_features().build());

/// Checks that `sql`, reading `tables` (Athena name, schema), answers with `expected`'s types.
pub(crate) fn verify(
    sql: &str,
    tables: &[(AthenaTableName, SchemaRef)],
    expected: &DFSchema,
) -> Result<(), Refusal> {
    let provider = Tables {
        tables: tables
            .iter()
            .map(|(name, schema)| (reference(name), Arc::clone(schema)))
            .collect(),
        state: &FUNCTIONS,
    };
    let mut statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})
        .map_err(|e| format!("generated SQL does not parse: {e}"))?;
    let statement = match (statements.pop_front(), statements.is_empty()) {
        (Some(s), true) => s,
        _ => return Err("generated SQL is not one statement".into()),
    };
    let planned = SqlToRel::new(&provider)
        .statement_to_plan(statement)
        .map_err(|e| format!("generated SQL does not plan: {e}"))?;
    let got: Vec<&DataType> = planned
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type())
        .collect();
    let want: Vec<&DataType> = expected.fields().iter().map(|f| f.data_type()).collect();
    if got != want {
        return Err(format!(
            "generated SQL answers with types {got:?} instead of {want:?}"
        ));
    }
    Ok(())
}

fn reference(name: &AthenaTableName) -> TableReference {
    match &name.catalog {
        Some(c) => TableReference::full(c.as_str(), name.database.as_str(), name.table.as_str()),
        None => TableReference::partial(name.database.as_str(), name.table.as_str()),
    }
}

/// The scanned tables (empty, with their schemas) and DataFusion's functions.
struct Tables<'a> {
    tables: HashMap<TableReference, SchemaRef>,
    state: &'a SessionState,
}

impl ContextProvider for Tables<'_> {
    fn get_table_source(&self, name: TableReference) -> Result<Arc<dyn TableSource>> {
        let schema = self.tables.get(&name).ok_or_else(|| {
            DataFusionError::Plan(format!("table {name} is not read by the sub-plan"))
        })?;
        Ok(provider_as_source(Arc::new(EmptyTable::new(Arc::clone(
            schema,
        )))))
    }

    fn get_expr_planners(&self) -> &[Arc<dyn ExprPlanner>] {
        self.state.expr_planners()
    }

    fn get_type_planner(&self) -> Option<Arc<dyn TypePlanner>> {
        None
    }

    fn get_function_meta(&self, name: &str) -> Option<Arc<ScalarUDF>> {
        self.state.scalar_functions().get(name).cloned()
    }

    fn get_higher_order_meta(&self, name: &str) -> Option<Arc<HigherOrderUDF>> {
        self.state.higher_order_functions().get(name).cloned()
    }

    fn get_aggregate_meta(&self, name: &str) -> Option<Arc<AggregateUDF>> {
        self.state.aggregate_functions().get(name).cloned()
    }

    fn get_window_meta(&self, name: &str) -> Option<Arc<WindowUDF>> {
        self.state.window_functions().get(name).cloned()
    }

    fn get_variable_type(&self, _variable_names: &[String]) -> Option<DataType> {
        None
    }

    fn options(&self) -> &ConfigOptions {
        self.state.config_options()
    }

    fn udf_names(&self) -> Vec<String> {
        self.state.scalar_functions().keys().cloned().collect()
    }

    fn higher_order_function_names(&self) -> Vec<String> {
        self.state
            .higher_order_functions()
            .keys()
            .cloned()
            .collect()
    }

    fn udaf_names(&self) -> Vec<String> {
        self.state.aggregate_functions().keys().cloned().collect()
    }

    fn udwf_names(&self) -> Vec<String> {
        self.state.window_functions().keys().cloned().collect()
    }
}
