//! Integration tests of the catalog, one test binary: the providers over an in-memory metadata
//! source, and `register_athena` against the emulator and MiniStack.

mod column_statistics;
mod emulator;
mod join_keys;
mod ministack;
mod providers;
