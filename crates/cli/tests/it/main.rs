//! Integration tests of the command-line tool, one test binary: `datafusion-athena` run as a
//! process.

mod check;
mod common;
mod sql;
