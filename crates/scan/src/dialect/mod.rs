//! The Athena (engine v3, Trino) dialect for DataFusion's SQL unparser.
//!
//! DataFusion ships no Trino dialect, and its `CustomDialectBuilder` cannot reach the function
//! hooks, so [`AthenaDialect`] implements the unparser's `Dialect` trait itself. It decides
//! quoting, CAST type names and function spellings. Literal values and identifiers are spelled
//! by [`literal_to_sql`] and [`quote_identifier`], which the pushdown path uses for every value
//! it sends (see the [`literal`] module for why sqlparser's printer is not trusted with them).

mod functions;
mod literal;

pub use functions::PUSHED_FUNCTIONS;
pub(crate) use functions::{call, check_function, is_portable_regex};
pub use literal::{literal_to_sql, quote_identifier, quote_string};

use std::sync::Arc;

use datafusion::arrow::datatypes::TimeUnit;
use datafusion::logical_expr::Expr;
use datafusion::sql::sqlparser::ast::{self, ExactNumberInfo, Ident, TimezoneInfo};
use datafusion::sql::unparser::Unparser;
use datafusion::sql::unparser::dialect::{
    CharacterLengthStyle, DateFieldExtractStyle, Dialect, DistinctFromStyle, IntervalStyle,
};

/// Unparser dialect for Amazon Athena engine v3 (Trino).
///
/// - identifiers: always double-quoted (Athena folds unquoted names to lower case);
/// - CAST types: `VARCHAR`, `TINYINT`, `SMALLINT`, `INTEGER`, `BIGINT`, `REAL`, `DOUBLE`,
///   `DECIMAL(p,s)`, `DATE`, `TIMESTAMP(p)` (the precision of the Arrow unit), `BOOLEAN`;
/// - `IS [NOT] DISTINCT FROM`, `EXTRACT(field FROM x)`, `length(s)`;
/// - scalar functions: the Trino spellings listed in [`PUSHED_FUNCTIONS`];
/// - string literals: quotes doubled, control characters as `chr(n)` ([`quote_string`]).
///
/// ```
/// use datafusion::logical_expr::{col, lit};
/// use datafusion::sql::unparser::Unparser;
/// use datafusion_athena_scan::AthenaDialect;
///
/// let sql = Unparser::new(&AthenaDialect).expr_to_sql(&col("a").eq(lit("x"))).unwrap();
/// assert_eq!(sql.to_string(), "(\"a\" = 'x')");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AthenaDialect;

impl Dialect for AthenaDialect {
    fn identifier_quote_style(&self, _identifier: &str) -> Option<char> {
        Some('"')
    }

    fn use_array_keyword_for_array_literals(&self) -> bool {
        true
    }

    fn use_timestamp_for_date64(&self) -> bool {
        true
    }

    fn interval_style(&self) -> IntervalStyle {
        IntervalStyle::SQLStandard
    }

    fn float64_ast_dtype(&self) -> ast::DataType {
        ast::DataType::Double(ExactNumberInfo::None)
    }

    fn utf8_cast_dtype(&self) -> ast::DataType {
        ast::DataType::Varchar(None)
    }

    fn large_utf8_cast_dtype(&self) -> ast::DataType {
        ast::DataType::Varchar(None)
    }

    fn date_field_extract_style(&self) -> DateFieldExtractStyle {
        DateFieldExtractStyle::Extract
    }

    fn distinct_from_style(&self) -> DistinctFromStyle {
        DistinctFromStyle::FullText
    }

    fn character_length_style(&self) -> CharacterLengthStyle {
        CharacterLengthStyle::Length
    }

    fn int64_cast_dtype(&self) -> ast::DataType {
        ast::DataType::BigInt(None)
    }

    fn int8_cast_dtype(&self) -> ast::DataType {
        ast::DataType::TinyInt(None)
    }

    fn int32_cast_dtype(&self) -> ast::DataType {
        ast::DataType::Integer(None)
    }

    fn timestamp_cast_dtype(&self, unit: &TimeUnit, tz: &Option<Arc<str>>) -> ast::DataType {
        let precision = match unit {
            TimeUnit::Second => 0,
            TimeUnit::Millisecond => 3,
            TimeUnit::Microsecond => 6,
            TimeUnit::Nanosecond => 9,
        };
        let tz = if tz.is_some() {
            TimezoneInfo::WithTimeZone
        } else {
            TimezoneInfo::None
        };
        ast::DataType::Timestamp(Some(precision), tz)
    }

    fn date32_cast_dtype(&self) -> ast::DataType {
        ast::DataType::Date
    }

    fn supports_column_alias_in_table_alias(&self) -> bool {
        true
    }

    fn requires_derived_table_alias(&self) -> bool {
        true
    }

    fn scalar_function_to_sql_overrides(
        &self,
        unparser: &Unparser<'_>,
        func_name: &str,
        args: &[Expr],
    ) -> datafusion::common::Result<Option<ast::Expr>> {
        functions::function_to_sql(unparser, func_name, args)
    }

    fn supports_qualify(&self) -> bool {
        false
    }

    fn supports_empty_select_list(&self) -> bool {
        false
    }

    fn string_literal_to_sql(&self, s: &str) -> Option<ast::Expr> {
        // An unquoted identifier prints its text verbatim: the text is a complete, correctly
        // escaped literal, which sqlparser's own printer would not guarantee.
        Some(ast::Expr::Identifier(Ident::new(quote_string(s))))
    }
}
