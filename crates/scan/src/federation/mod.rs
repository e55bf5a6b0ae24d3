//! Federation: the largest parts of a logical plan that read only Athena tables of one
//! connection run inside Athena as one SQL query.
//!
//! [`AthenaFederation`] is a DataFusion optimizer rule. Walking the plan from the top, it
//! replaces the first sub-plan that Athena can run with exactly DataFusion's answers (see the
//! rules in `check`) by a scan of an [`AthenaSubquery`] holding the unparsed SQL, under a
//! projection that restores the sub-plan's column names, qualifiers and types. `EXPLAIN` then
//! shows `AthenaExec: sql=<the statement>` where the sub-plan was.
//!
//! Only sub-plans with relational work (an aggregate, join, sort, `DISTINCT` or `UNION`) are
//! replaced: a lone table scan already pushes its projection, filters and limit.
//!
//! The steps, one module each:
//! - `check`: every node and expression is on an allow-list and passes the filter rules of
//!   [`crate::check_pushable`]; all scans share one executor (connection);
//! - `unparse`: the plan is normalised for DataFusion's unparser (semi/anti joins as
//!   `[NOT] EXISTS`, null-aware anti joins as `NOT IN`, pruning projections dropped, explicit
//!   column names) and unparsed with [`crate::AthenaDialect`]; Athena table names, `OFFSET`
//!   before `LIMIT`, and positional output names `c0, c1, ...` are fixed in the syntax tree;
//! - `verify`: DataFusion plans the generated SQL against the tables' schemas and must get the
//!   sub-plan's column types in order; otherwise the sub-plan stays local;
//! - `avg`: `avg` of decimals (which Trino rounds at the argument's scale) is split into `sum`
//!   and `count` run in Athena, divided locally by [`DecimalAvg`] as DataFusion would;
//! - `source`: [`AthenaSubquery`], the table that stands in for the sub-plan.
//!
//! Two refinements widen what is pushed without changing an answer:
//! - *parameters*: an uncorrelated scalar subquery that Athena cannot answer exactly (or that
//!   reads another connection) is federated on its own and computed when the stream starts;
//!   its value replaces a marker in the statement as `CAST(<literal> AS <type>)` (see
//!   [`crate::Parameter`]). The [`crate::AthenaExec`] has the subquery plans as children;
//! - *tame doubles*: `check` annotates each column with what is known of its values
//!   ([`crate::check_pushable`]'s float bounds), so a comparison of doubles computed from
//!   integers, decimals and finite literals (never NaN, infinite or `-0.0`) is pushed. Double
//!   literals are spelled `5E-1` (a bare `0.5` is a decimal in Trino), and wide decimals become
//!   doubles the way Arrow converts them.

mod avg;
mod check;
mod rule;
mod source;
mod unparse;
mod verify;

pub use avg::DecimalAvg;
pub use rule::{AthenaFederation, FEDERATED_TABLE, FEDERATION_RULE_NAME};
pub use source::AthenaSubquery;

#[cfg(test)]
mod tests;
