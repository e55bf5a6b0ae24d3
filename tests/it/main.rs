//! The facade's integration tests, one binary: the examples and the quickstart as a user runs
//! them, TPC-H and the window queries through the whole stack, and the Trino-checked suite
//! (TPC-H, the pushdown corpus and edge values run by Trino behind the emulator, compared with
//! DataFusion over the same files).

mod examples;
mod quickstart;
// The scan crate's filter corpus and its emulator set-up; this binary uses only that part.
#[allow(dead_code)]
#[path = "../../crates/scan/tests/it/common.rs"]
mod scan_common;
mod tpch;
mod tpch_support;
mod trino_edge_values;
mod trino_pushdown_corpus;
mod trino_tpch;
