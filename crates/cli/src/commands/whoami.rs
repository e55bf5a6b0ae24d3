//! `datafusion-athena whoami`: resolve the credentials and say whose they are.

use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use datafusion_athena_auth::{credentials_provider, scheme_name};
use serde_json::{Value, json};

use crate::cli::Cli;
use crate::commands::connect::{one_line, options};
use crate::commands::{CommandError, runtime};

/// Arguments of `whoami` (none yet).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Prints one JSON object: `scheme`, `access_key_id` (its last 4 characters only), `expiry`,
/// and from STS GetCallerIdentity `account` and `arn` (or `sts_error` when the call
/// is unavailable). Never the secret key or session token.
pub(crate) fn run(cli: &Cli, _args: &Args) -> Result<(), CommandError> {
    let runtime = runtime()?;
    let json = runtime.block_on(async {
        let (opts, emulator) = options(cli).await?;
        let result = identity(&opts).await;
        if let Some(emu) = emulator {
            emu.shutdown().await;
        }
        result
    })?;
    let text = serde_json::to_string_pretty(&json).map_err(CommandError::failure)?;
    println!("{text}");
    Ok(())
}

async fn identity(
    opts: &datafusion_athena_config::ConnectionOptions,
) -> Result<Value, CommandError> {
    let scheme = scheme_name(opts);
    let provider = credentials_provider(opts)
        .await
        .map_err(|e| CommandError::failure(one_line(&e.to_string())))?;
    let creds = provider.provide_credentials().await.map_err(|e| {
        CommandError::failure(format!(
            "{scheme}: cannot resolve credentials: {}",
            one_line(&aws_smithy_types::error::display::DisplayErrorContext(&e).to_string())
        ))
    })?;
    let mut out = json!({
        "scheme": scheme,
        "access_key_id": redact(creds.access_key_id()),
        "expiry": creds.expiry().map(|t| DateTime::from(t).fmt(Format::DateTime).unwrap_or_default()),
        "region": opts.region.as_ref().map(|r| r.code().to_string()),
    });
    // The provider that just logged in signs GetCallerIdentity: a second login would open
    // the browser again (AzureAD, DataZoneIdC) or reuse a one-time MFA code.
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .credentials_provider(provider.clone());
    if let Some(region) = &opts.region {
        loader = loader.region(aws_config::Region::new(region.code().to_string()));
    }
    let config = loader.load().await;
    let mut sts = aws_sdk_sts::config::Builder::from(&config);
    if let Some(url) = opts.endpoints.sts() {
        sts = sts.endpoint_url(url);
    }
    let client = aws_sdk_sts::Client::from_conf(sts.build());
    match client.get_caller_identity().send().await {
        Ok(id) => {
            out["account"] = json!(id.account());
            out["arn"] = json!(id.arn());
        }
        Err(e) => {
            let text = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
            out["sts_error"] = json!(format!(
                "STS GetCallerIdentity unavailable: {}",
                one_line(&text)
            ));
        }
    }
    Ok(out)
}

/// `****` plus the last 4 characters of an access key ID.
fn redact(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_keeps_only_the_last_four() {
        assert_eq!(redact("AKIAABCDEFGH1234"), "****1234");
        assert_eq!(redact("ab"), "****ab");
    }
}
