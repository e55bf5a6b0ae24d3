//! Integration tests: the emulator driven over HTTP by real AWS SDK clients and object_store.

mod athena_metadata;
mod athena_queries;
mod common;
mod data_dir;
mod faults;
mod glue;
mod s3;
mod sigv4;
mod sts;
mod trino;
