//! The connection-string reference (docs/connection-string.md), generated from the property
//! table so that it cannot drift from the code.

use std::fmt::Write;

use crate::keys::{ConfigKey, SsoKey};
use crate::validate::requirements;
use crate::{AuthScheme, REGIONS};

const INTRO: &str = r#"# Connection string reference

<!-- Generated from crates/config/src/keys.rs; do not edit by hand. Regenerate with
     DATAFUSION_ATHENA_BLESS=1 cargo test -p datafusion-athena-config reference -->

A connection string is a list of `Name=value` properties separated by `;`, as in the CData
Amazon Athena connector:

```text
AWSRegion=IRELAND;Database=sampledb;S3StagingDirectory='s3://bucket/staging/';
```

- Names are case-insensitive and may be written with any of their aliases (the Athena JDBC
  driver's `Catalog`, `Schema`, `Region`, `OutputLocation`, `WorkGroup` among them).
- A value is bare (up to the next `;`; it may contain `=`) or in single or double quotes. Inside
  quotes `;` is plain text and the quote character written twice is one literal quote:
  `Password='it''s;secret'`.
- Whitespace around names and values is ignored; a trailing `;` is optional; empty segments
  (`;;`) are ignored; an empty value leaves the property unset.
- The same property twice (under any of its names) is fine with the same value, an error with
  different values. Unknown names are an error that names the nearest known property.
- `SSOProperties` holds a nested list with the same syntax, quoted:
  `SSOProperties='ApiToken=abc;MFAType=OktaVerify;'`.
- Secret properties (marked 🔒) never appear in output, `Debug`, or errors: they print as `***`.
- Unset values fall back to the standard AWS environment variables and config files.

Check a connection string with `datafusion-athena --connection '...' check`: it prints the
resolved options as JSON (secrets as `"***"`) or one line saying what is wrong.
"#;

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The whole reference as Markdown.
pub fn connection_string_reference() -> String {
    let mut out = String::from(INTRO);
    let mut groups: Vec<&str> = Vec::new();
    for key in ConfigKey::ALL {
        if !groups.contains(&key.group()) {
            groups.push(key.group());
        }
    }
    for group in groups {
        let _ = write!(out, "\n## {group}\n\n");
        out.push_str("| Property | Aliases | Values | Default | Example | Meaning |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for key in ConfigKey::ALL.iter().filter(|k| k.group() == group) {
            row(
                &mut out,
                key.name(),
                key.aliases(),
                key.is_secret(),
                key.values(),
                key.default_value(),
                key.example(),
                key.doc(),
            );
        }
    }
    out.push_str("\n## SSOProperties\n\nNested inside `SSOProperties='Name=value;...'`; errors name them as `SSOProperties.<Name>`.\n\n");
    out.push_str("| Property | Aliases | Values | Default | Example | Meaning |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for key in SsoKey::ALL {
        row(
            &mut out,
            key.name(),
            key.aliases(),
            key.is_secret(),
            key.values(),
            key.default_value(),
            key.example(),
            key.doc(),
        );
    }
    out.push_str("\n## What each AuthScheme needs\n\n");
    out.push_str("Without `AuthScheme`, `AWSAccessKey` means `AwsIAMKeys`; without either, the standard AWS\ncredential chain (`Default`). `AWSSecretKey` needs `AWSAccessKey` and the other way round.\n\n");
    out.push_str("| AuthScheme | Also accepted | Needs |\n| --- | --- | --- |\n");
    for (scheme, name) in AuthScheme::ALL {
        let needs: Vec<String> = requirements(*scheme)
            .iter()
            .map(|alternatives| {
                alternatives
                    .iter()
                    .map(|s| format!("`{}`", s.describe()))
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect();
        let needs = if needs.is_empty() {
            "nothing".to_string()
        } else {
            needs.join(", ")
        };
        let aliases = scheme_aliases(*scheme);
        let _ = writeln!(
            out,
            "| `{name}` | {} | {needs} |",
            if aliases.is_empty() {
                "".to_string()
            } else {
                aliases
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    out.push_str("\n## Regions\n\n`AWSRegion` (and `AWSCognitoRegion`, `DataZoneRegion`, `SSORegion`) takes an AWS code such as\n`eu-west-1` or one of these names, case-insensitively (spaces, `-` and `_` are ignored, so\n`Northern Virginia` works). Codes of regions newer than this table are accepted as they are.\n\n");
    out.push_str("| Name | Code |\n| --- | --- |\n");
    for (name, code) in REGIONS {
        let _ = writeln!(out, "| `{name}` | `{code}` |");
    }
    out.push_str(ENV);
    out
}

const ENV: &str = r#"
## Environment

`ConnectionOptions::from_env()` and the CLI read `ATHENA_CONNECTION` (the CLI's
`--connection` takes precedence) and fill what the connection string leaves unset from:

| Variable | Fills |
| --- | --- |
| `AWS_REGION`, then `AWS_DEFAULT_REGION` | `AWSRegion` |
| `AWS_ENDPOINT_URL` | `Endpoint` |
| `AWS_ENDPOINT_URL_ATHENA`, `AWS_ENDPOINT_URL_GLUE`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_STS` | the per-service endpoints |
| `AWS_EC2_METADATA_SERVICE_ENDPOINT` | `IMDSEndpoint` |
| `AWS_SHARED_CREDENTIALS_FILE`, `AWS_PROFILE` (with `AuthScheme=AwsCredentialsFile`) | `AWSCredentialsFile`, `AWSCredentialsFileProfile` |
| `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE` (with `AuthScheme=AwsWebIdentity`) | `AWSRoleARN`, `AWSWebIdentityTokenFile` |

`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns the endpoint variables off. Credentials
themselves (`AWS_ACCESS_KEY_ID`, ...) are left to the standard AWS credential chain.
"#;

#[allow(clippy::too_many_arguments)]
fn row(
    out: &mut String,
    name: &str,
    aliases: &[&str],
    secret: bool,
    values: &str,
    default: Option<&str>,
    example: &str,
    doc: &str,
) {
    let lock = if secret { " 🔒" } else { "" };
    let aliases = aliases
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        out,
        "| `{name}`{lock} | {aliases} | {} | {} | `{}` | {} |",
        cell(values),
        cell(default.unwrap_or("")),
        cell(example),
        cell(doc)
    );
}

/// Other names accepted for a scheme (see [`AuthScheme::from_name`]).
fn scheme_aliases(scheme: AuthScheme) -> Vec<&'static str> {
    const CANDIDATES: &[&str] = &[
        "AwsKeys",
        "AwsIAMUser",
        "AwsAccessKeys",
        "EntraID",
        "AzureActiveDirectory",
        "Auto",
        "AwsDefault",
        "Ping",
        "AwsCognito",
        "DataZone",
    ];
    CANDIDATES
        .iter()
        .copied()
        .filter(|c| AuthScheme::from_name(c) == Some(scheme))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/connection-string.md")
    }

    /// docs/connection-string.md is exactly what the table generates. Regenerate with
    /// `DATAFUSION_ATHENA_BLESS=1 cargo test -p datafusion-athena-config reference`.
    #[test]
    fn reference_doc_is_up_to_date() {
        let generated = connection_string_reference();
        let path = doc_path();
        if std::env::var_os("DATAFUSION_ATHENA_BLESS").is_some() {
            std::fs::write(&path, &generated).expect("write docs/connection-string.md");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/connection-string.md is out of date: run DATAFUSION_ATHENA_BLESS=1 cargo test -p datafusion-athena-config reference"
        );
    }

    /// README.md carries the same reference between markers, its headings one level down.
    fn readme_section(generated: &str) -> String {
        let body = generated
            .split_once("-->\n")
            .map(|(_, rest)| rest)
            .unwrap_or(generated);
        let demoted: Vec<String> = body
            .lines()
            .map(|line| match line.strip_prefix("## ") {
                Some(heading) => format!("### {heading}"),
                None => line.to_string(),
            })
            .collect();
        format!(
            "{README_START}\n<!-- Generated with docs/connection-string.md; do not edit by hand. -->\n{}\n{README_END}",
            demoted.join("\n").trim()
        )
    }

    const README_START: &str = "<!-- reference:start -->";
    const README_END: &str = "<!-- reference:end -->";

    #[test]
    fn readme_reference_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
        let readme = std::fs::read_to_string(&path).expect("README.md at the workspace root");
        let (Some(start), Some(end)) = (readme.find(README_START), readme.find(README_END)) else {
            panic!("README.md lacks the {README_START} / {README_END} markers");
        };
        let current = &readme[start..end + README_END.len()];
        let wanted = readme_section(&connection_string_reference());
        if std::env::var_os("DATAFUSION_ATHENA_BLESS").is_some() && current != wanted {
            let updated = readme.replacen(current, &wanted, 1);
            std::fs::write(&path, updated).expect("write README.md");
            return;
        }
        assert!(
            current == wanted,
            "README.md's connection-string reference is out of date: run DATAFUSION_ATHENA_BLESS=1 cargo test -p datafusion-athena-config reference"
        );
    }

    #[test]
    fn reference_doc_lists_every_property_and_alias() {
        let doc = std::fs::read_to_string(doc_path()).unwrap_or_default();
        for key in ConfigKey::ALL {
            assert!(
                doc.contains(&format!("| `{}`", key.name())),
                "{key} missing"
            );
            for alias in key.aliases() {
                assert!(doc.contains(&format!("`{alias}`")), "alias {alias} missing");
            }
            if let Some(default) = key.default_value() {
                assert!(doc.contains(default), "default of {key} missing");
            }
        }
        for key in SsoKey::ALL {
            assert!(
                doc.contains(&format!("| `{}`", key.name())),
                "SSOProperties.{key} missing"
            );
        }
        for (_, name) in AuthScheme::ALL {
            assert!(
                doc.contains(&format!("| `{name}` |")),
                "AuthScheme {name} missing"
            );
        }
        for (name, code) in REGIONS {
            assert!(doc.contains(&format!("| `{name}` | `{code}` |")));
        }
    }
}
