//! The command line: global options and the subcommands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use datafusion_athena_config::{
    CONNECTION_ENV, ConnectionOptions, ConnectionOptionsBuilder, Result, parse_properties,
};

use crate::commands::{check, emulator, explain, sql, whoami};

/// Query Amazon Athena with Apache DataFusion.
#[derive(Debug, Parser)]
#[command(name = "datafusion-athena", version, about)]
pub(crate) struct Cli {
    /// The connection string, e.g. "AWSRegion=IRELAND;Database=sampledb;" (see
    /// docs/connection-string.md). Unset values fall back to the standard AWS environment.
    /// With --emulator, these properties are applied on top of the emulator's connection.
    #[arg(long, global = true, env = CONNECTION_ENV, hide_env_values = true, value_name = "STR")]
    pub(crate) connection: Option<String>,

    /// Start the emulator in process on DIR (`DIR/<database>/<table>/` of Parquet or CSV files)
    /// and connect to it.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) emulator: Option<PathBuf>,

    /// The SQL engine of the --emulator: datafusion (in process) or trino (needs
    /// `scripts/trino install`, or ATHENA_TRINO_URL naming a running Trino server).
    #[arg(long, global = true, value_enum, default_value_t = EngineArg::Datafusion, value_name = "ENGINE")]
    pub(crate) emulator_engine: EngineArg,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The emulator's SQL engine, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EngineArg {
    /// DataFusion, in process.
    Datafusion,
    /// Trino, the engine Athena runs.
    Trino,
}

impl From<EngineArg> for datafusion_athena_emulator::Engine {
    fn from(engine: EngineArg) -> Self {
        match engine {
            EngineArg::Datafusion => Self::DataFusion,
            EngineArg::Trino => Self::Trino,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse and validate the connection, print the resolved options as JSON (secrets as "***").
    Check(check::Args),
    /// Serve a directory of Parquet/CSV tables as a local Athena + Glue + S3 service and print
    /// a connection string for it.
    Emulator(emulator::Args),
    /// Run one SQL statement with DataFusion over the Athena catalogs (and local files named by
    /// a quoted path, e.g. 'data/x.parquet') and print its result.
    Sql(sql::Args),
    /// Print the plan of one SQL statement (the Athena SQL each scan sends is on the AthenaExec
    /// lines).
    Explain(explain::Args),
    /// Resolve the credentials and print the account, ARN, scheme and expiry as JSON (never the
    /// secret).
    Whoami(whoami::Args),
}

impl Cli {
    /// The connection options: `--connection` (or `ATHENA_CONNECTION`) plus the standard AWS
    /// environment variables, validated.
    pub(crate) fn connection_options(&self) -> Result<ConnectionOptions> {
        ConnectionOptions::from_env_with(|name| {
            if name == CONNECTION_ENV {
                self.connection.clone()
            } else {
                std::env::var(name).ok()
            }
        })
    }

    /// The connection options of `base` (a connection string, e.g. the emulator's) with the
    /// properties of `--connection` applied on top: a property the user gives wins.
    pub(crate) fn connection_options_over(&self, base: &str) -> Result<ConnectionOptions> {
        let user = ConnectionOptions::parse_unvalidated(self.connection.as_deref().unwrap_or(""))?;
        let mut builder = ConnectionOptionsBuilder::from_options(user.clone());
        for (key, value) in parse_properties(base)? {
            if !user.is_set(key) {
                builder = builder.with_config(key, value);
            }
        }
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(connection: Option<&str>) -> Cli {
        Cli {
            connection: connection.map(str::to_string),
            emulator: None,
            emulator_engine: EngineArg::Datafusion,
            command: Command::Check(check::Args {}),
        }
    }

    const BASE: &str = "AWSRegion=us-east-1;AWSAccessKey=AKIDEMU;AWSSecretKey=s;S3StagingDirectory=s3://bucket/staging/;Endpoint=http://127.0.0.1:1;Database=sales;";

    #[test]
    fn user_properties_win_over_the_base() {
        let opts = cli(Some("ResultFetcher=Unload;Database=other"))
            .connection_options_over(BASE)
            .unwrap();
        let json = opts.to_redacted_json();
        assert_eq!(json["ResultFetcher"], "Unload");
        assert_eq!(json["Database"], "other");
        assert_eq!(json["AWSRegion"], "us-east-1");
        assert_eq!(opts.endpoints.athena(), Some("http://127.0.0.1:1"));
    }

    #[test]
    fn base_alone_is_used_without_connection() {
        let opts = cli(None).connection_options_over(BASE).unwrap();
        assert_eq!(opts.database.as_deref(), Some("sales"));
    }

    #[test]
    fn quoted_base_values_keep_their_separators() {
        let base = format!(
            "{BASE}WorkGroup='team;reports';SSOProperties='ApiToken=t0k;MFAType=OktaVerify;';"
        );
        let opts = cli(Some("Database=other"))
            .connection_options_over(&base)
            .unwrap();
        assert_eq!(opts.work_group.as_deref(), Some("team;reports"));
        assert_eq!(
            opts.auth.sso_properties.mfa_type.as_deref(),
            Some("OktaVerify")
        );
        let token = opts
            .auth
            .sso_properties
            .api_token
            .as_ref()
            .map(|t| t.expose());
        assert_eq!(token, Some("t0k"));
        assert_eq!(opts.database.as_deref(), Some("other"));
        assert_eq!(opts.region.as_ref().map(|r| r.code()), Some("us-east-1"));
    }

    #[test]
    fn the_emulator_engine_is_chosen_on_the_command_line() {
        let parsed = Cli::try_parse_from([
            "datafusion-athena",
            "--emulator",
            "data",
            "--emulator-engine",
            "trino",
            "check",
        ])
        .unwrap();
        assert_eq!(parsed.emulator_engine, EngineArg::Trino);
        assert_eq!(
            datafusion_athena_emulator::Engine::from(parsed.emulator_engine),
            datafusion_athena_emulator::Engine::Trino
        );
        let default = Cli::try_parse_from(["datafusion-athena", "check"]).unwrap();
        assert_eq!(default.emulator_engine, EngineArg::Datafusion);
        let err =
            Cli::try_parse_from(["datafusion-athena", "--emulator-engine", "presto", "check"])
                .unwrap_err()
                .to_string();
        assert!(err.contains("presto") && err.contains("trino"), "{err}");
    }

    #[test]
    fn bad_user_value_is_an_error_naming_the_property() {
        let err = cli(Some("ResultFetcher=Sideways"))
            .connection_options_over(BASE)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ResultFetcher"), "{err}");
    }
}
