//! Sessions for the TPC-H tests: DataFusion's own answers, a session over the emulator, and
//! the big stacks planning the larger queries needs.

use std::future::Future;

use datafusion::prelude::SessionContext;
use datafusion_athena::ConnectionOptions;
use datafusion_athena::catalog::AthenaCatalogBuilder;
use datafusion_athena_emulator::EmulatorHandle;

use super::compare::{Cell, sorted_rows};

/// DataFusion's own answer to `sql` over the Parquet files, rows sorted.
pub async fn datafusion_answer(local: &SessionContext, sql: &str) -> Vec<Vec<Cell>> {
    let batches = local
        .sql(sql)
        .await
        .expect("local")
        .collect()
        .await
        .expect("local run");
    sorted_rows(&batches)
}

/// A session with the emulator's Athena catalogs registered, federation on or off.
pub async fn athena_session(emu: &EmulatorHandle, federation: bool) -> SessionContext {
    let ctx = SessionContext::new();
    let opts: ConnectionOptions = emu.connection_string().parse().expect("options");
    AthenaCatalogBuilder::new(opts)
        .with_federation(federation)
        .register(&ctx)
        .await
        .expect("register_athena");
    ctx
}

/// Runs `test` on a runtime whose threads have the stack that planning the larger queries in a
/// debug build needs (more than a test thread has).
pub fn on_big_stacks<F: Future<Output = ()> + 'static>(test: fn() -> F) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(32 << 20)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(test())
        })
        .expect("spawn")
        .join()
        .expect("test thread");
}
