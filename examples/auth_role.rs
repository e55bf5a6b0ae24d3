//! Auth with an IAM role (`AuthScheme=AwsIAMRoles`): STS AssumeRole on top of access keys, then
//! every Athena and S3 request signed with the role's temporary credentials.
//!
//! Needs: nothing but this repository: the bundled emulator (on `examples/data`) plays Athena,
//! S3 and STS; its AssumeRole issues temporary credentials that its Athena and S3 accept.
//! Against AWS, the same properties (without `Endpoint`) assume a real role.
//!
//! Prints: the connection string with secrets as `***`, the requests the emulator saw in order
//! (AssumeRole signed with the base key, the Athena and S3 calls with the role's temporary
//! key), and the query's result.
//!
//! `cargo run --example auth_role`

use std::io::Write;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use datafusion_athena::ConnectionOptions;
use datafusion_athena_emulator::{ACCOUNT_ID, Emulator, Service};

type Error = Box<dyn std::error::Error + Send + Sync>;

const QUERY: &str = "SELECT region, count(*) AS orders FROM orders GROUP BY region ORDER BY region";

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(&mut std::io::stdout().lock()).await
}

/// Runs the example, writing what it shows to `out`.
pub(crate) async fn run(out: &mut dyn Write) -> Result<(), Error> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let emu = Emulator::builder().data_dir(data).start().await?;

    // `Endpoint` covers Athena, Glue, S3 and STS (each has its own override too:
    // `STSEndpoint=...`); `AWSExternalId` and `MFASerialNumber`/`MFAToken` would go along.
    let role = format!("arn:aws:iam::{ACCOUNT_ID}:role/athena-analyst");
    let conn = format!(
        "AuthScheme=AwsIAMRoles;AWSRoleARN={role};AWSAccessKey={};AWSSecretKey={};\
         TemporaryTokenDuration=900;\
         AWSRegion={};Endpoint={};S3StagingDirectory={};Database=sales;",
        emu.access_key(),
        emu.secret_key(),
        emu.region(),
        emu.endpoint(),
        emu.staging_dir()
    );
    let options: ConnectionOptions = conn.parse()?;
    writeln!(out, "connection: {options}")?;

    let ctx = SessionContext::new();
    datafusion_athena::register_athena(&ctx, &conn).await?;
    let batches = ctx.sql(QUERY).await?.collect().await?;

    writeln!(out, "requests the emulator accepted:")?;
    let mut shown: Vec<String> = Vec::new();
    for r in emu.request_log() {
        let Some(key) = r.access_key else { continue };
        let who = if key == emu.access_key() {
            format!("the base key {key}")
        } else {
            format!("the role's temporary key ****{}", tail(&key))
        };
        let line = match r.service {
            Service::Sts => format!("STS {} signed with {who}", r.operation),
            other => format!("{other:?} requests signed with {who}"),
        };
        if !shown.contains(&line) {
            writeln!(out, "  {line}")?;
            shown.push(line);
        }
    }
    writeln!(out, "{}", pretty_format_batches(&batches)?)?;
    emu.shutdown().await;
    Ok(())
}

/// The last 4 characters of an access key ID.
fn tail(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}
