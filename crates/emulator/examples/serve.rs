//! Runs the emulator until Ctrl-C / SIGTERM and prints its connection string on stdout.
//!
//! `cargo run -p datafusion-athena-emulator --example serve -- [--data DIR] [--port N] [--storage DIR] [--database NAME]`

use std::process::ExitCode;

use datafusion_athena_emulator::Emulator;

#[tokio::main]
async fn main() -> ExitCode {
    let mut builder = Emulator::builder();
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--data", Some(v)) => builder = builder.data_dir(v),
            ("--storage", Some(v)) => builder = builder.storage_dir(v),
            ("--database", Some(v)) => builder = builder.database(v),
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => {
                    eprintln!("--port {v:?} is not a port number (0..65535)");
                    return ExitCode::from(2);
                }
            },
            (other, _) => {
                eprintln!(
                    "unknown or incomplete argument {other:?}; use --data DIR --port N --storage DIR --database NAME"
                );
                return ExitCode::from(2);
            }
        }
    }
    let emu = match builder.bind(format!("127.0.0.1:{port}")).start().await {
        Ok(emu) => emu,
        Err(e) => {
            eprintln!("the emulator did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", emu.connection_string());
    wait_for_stop().await;
    emu.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
