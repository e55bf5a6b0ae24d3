//! TPC-H for the federation tests: data generated with `tpchgen` as Parquet, the 22 queries,
//! and helpers to compare answers and size them.
#![allow(unreachable_pub)]

pub mod compare;
pub mod data;
pub mod queries;
pub mod session;
pub mod trino;
