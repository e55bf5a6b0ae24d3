//! The scan crate's integration tests, one binary: the filter corpus (with a local stand-in for
//! Athena and against the emulator), the SQL of scans, quoting properties, join key pushdown,
//! and the query lifecycle with every result path.

mod common;
mod join_keys;
mod pushdown_corpus;
mod pushdown_emulator;
mod quoting_props;
mod runner_emulator;
mod scan_sql;
