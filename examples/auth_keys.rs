//! Auth with access keys (`AuthScheme=AwsIAMKeys`, the IAM-user scheme; `AwsRootKeys` and
//! `AwsTempCredentials` with `AWSSessionToken` work the same way).
//!
//! Needs: nothing but this repository: the bundled emulator (on `examples/data`) plays Athena
//! and accepts requests signed with its key pair (`AKIDEMULATOR` / `emulator-secret`).
//!
//! Prints: the connection string with the secret as `***`, which key the
//! emulator saw on the Athena and S3 requests, the query's result, then the one-line error a
//! wrong secret key gives.
//!
//! `cargo run --example auth_keys`

use std::io::Write;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use datafusion_athena::ConnectionOptions;
use datafusion_athena_emulator::{Emulator, EmulatorHandle};

type Error = Box<dyn std::error::Error + Send + Sync>;

const QUERY: &str = "SELECT region, count(*) AS orders FROM orders GROUP BY region ORDER BY region";

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(&mut std::io::stdout().lock()).await
}

/// The connection string of `emu` with the given key pair.
fn connection(emu: &EmulatorHandle, access_key: &str, secret_key: &str) -> String {
    format!(
        "AuthScheme=AwsIAMKeys;AWSAccessKey={access_key};AWSSecretKey='{secret_key}';\
         AWSRegion={};Endpoint={};S3StagingDirectory={};Database=sales;",
        emu.region(),
        emu.endpoint(),
        emu.staging_dir()
    )
}

/// Runs the example, writing what it shows to `out`.
pub(crate) async fn run(out: &mut dyn Write) -> Result<(), Error> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let emu = Emulator::builder().data_dir(data).start().await?;

    let conn = connection(&emu, emu.access_key(), emu.secret_key());
    let options: ConnectionOptions = conn.parse()?;
    // Display prints the connection string with every secret as `***`.
    writeln!(out, "connection: {options}")?;

    let ctx = SessionContext::new();
    datafusion_athena::register_athena(&ctx, &conn).await?;
    let batches = ctx.sql(QUERY).await?.collect().await?;
    let mut signers: Vec<String> = emu
        .request_log()
        .into_iter()
        .filter_map(|r| {
            r.access_key
                .map(|k| format!("{:?} requests signed with {k}", r.service))
        })
        .collect();
    signers.sort();
    signers.dedup();
    writeln!(out, "requests the emulator accepted:")?;
    for s in signers {
        writeln!(out, "  {s}")?;
    }
    writeln!(out, "{}", pretty_format_batches(&batches)?)?;

    // The same key with a wrong secret: the signature does not match, and the error says so
    // (without printing the secret).
    let wrong = connection(&emu, emu.access_key(), "not-the-secret");
    match datafusion_athena::register_athena(&SessionContext::new(), &wrong).await {
        Ok(_) => writeln!(out, "a wrong secret key was accepted?!")?,
        Err(e) => writeln!(
            out,
            "with a wrong secret key: {}",
            shortened(&e.to_string())
        )?,
    }
    emu.shutdown().await;
    Ok(())
}

/// The error on one line, cut after its first 240 characters (the SDK's error carries the
/// whole HTTP response).
fn shortened(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(240) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}
