//! AWS regions, by code or by the friendly names the CData connector uses.

use std::fmt;

/// An AWS region code such as `eu-west-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Region(String);

/// Friendly names (as the CData connector spells them, compared case-insensitively) and codes.
pub const REGIONS: &[(&str, &str)] = &[
    ("NORTHERNVIRGINIA", "us-east-1"),
    ("VIRGINIA", "us-east-1"),
    ("OHIO", "us-east-2"),
    ("NORTHERNCALIFORNIA", "us-west-1"),
    ("OREGON", "us-west-2"),
    ("CAPETOWN", "af-south-1"),
    ("HONGKONG", "ap-east-1"),
    ("TAIPEI", "ap-east-2"),
    ("HYDERABAD", "ap-south-2"),
    ("JAKARTA", "ap-southeast-3"),
    ("MALAYSIA", "ap-southeast-5"),
    ("NEWZEALAND", "ap-southeast-6"),
    ("AUCKLAND", "ap-southeast-6"),
    ("THAILAND", "ap-southeast-7"),
    ("MELBOURNE", "ap-southeast-4"),
    ("MUMBAI", "ap-south-1"),
    ("OSAKA", "ap-northeast-3"),
    ("SEOUL", "ap-northeast-2"),
    ("SINGAPORE", "ap-southeast-1"),
    ("SYDNEY", "ap-southeast-2"),
    ("TOKYO", "ap-northeast-1"),
    ("CENTRAL", "ca-central-1"),
    ("CANADACENTRAL", "ca-central-1"),
    ("MONTREAL", "ca-central-1"),
    ("CALGARY", "ca-west-1"),
    ("BEIJING", "cn-north-1"),
    ("NINGXIA", "cn-northwest-1"),
    ("FRANKFURT", "eu-central-1"),
    ("ZURICH", "eu-central-2"),
    ("IRELAND", "eu-west-1"),
    ("LONDON", "eu-west-2"),
    ("PARIS", "eu-west-3"),
    ("MILAN", "eu-south-1"),
    ("SPAIN", "eu-south-2"),
    ("STOCKHOLM", "eu-north-1"),
    ("TELAVIV", "il-central-1"),
    ("BAHRAIN", "me-south-1"),
    ("UAE", "me-central-1"),
    ("SAUDIARABIA", "me-west-1"),
    ("MEXICO", "mx-central-1"),
    ("MEXICOCENTRAL", "mx-central-1"),
    ("SAOPAULO", "sa-east-1"),
    ("CHILE", "sa-west-1"),
    ("SANTIAGO", "sa-west-1"),
    ("EUROPEANSOVEREIGNCLOUD", "eusc-de-east-1"),
    ("BRANDENBURG", "eusc-de-east-1"),
    ("GOVCLOUDEAST", "us-gov-east-1"),
    ("GOVCLOUDWEST", "us-gov-west-1"),
];

impl Region {
    /// Parses a region code (`eu-west-1`) or a friendly name (`IRELAND`, `Northern Virginia`),
    /// case-insensitively. Unknown names are an error listing what is accepted.
    pub fn parse(value: &str) -> Result<Self, String> {
        let v = value.trim();
        let folded: String = v
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        if let Some((_, code)) = REGIONS.iter().find(|(name, _)| *name == folded) {
            return Ok(Self((*code).to_string()));
        }
        let lower = v.to_ascii_lowercase();
        if REGIONS.iter().any(|(_, code)| *code == lower) || looks_like_code(&lower) {
            return Ok(Self(lower));
        }
        Err(format!(
            "'{v}' is not an AWS region: use a code such as eu-west-1 or a name such as IRELAND, OREGON, FRANKFURT"
        ))
    }

    /// The region code.
    pub fn code(&self) -> &str {
        &self.0
    }
}

/// `xx-name-N`, `xx-gov-name-N` or `eusc-de-name-N`: regions newer than this table still parse.
fn looks_like_code(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    (3..=4).contains(&parts.len())
        && (2..=4).contains(&parts[0].len())
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_names_and_codes() {
        for (input, code) in [
            ("IRELAND", "eu-west-1"),
            ("Ireland", "eu-west-1"),
            ("Northern Virginia", "us-east-1"),
            ("northern_california", "us-west-1"),
            ("OHIO", "us-east-2"),
            ("OREGON", "us-west-2"),
            ("FRANKFURT", "eu-central-1"),
            ("LONDON", "eu-west-2"),
            ("PARIS", "eu-west-3"),
            ("STOCKHOLM", "eu-north-1"),
            ("MILAN", "eu-south-1"),
            ("SPAIN", "eu-south-2"),
            ("ZURICH", "eu-central-2"),
            ("TOKYO", "ap-northeast-1"),
            ("SEOUL", "ap-northeast-2"),
            ("OSAKA", "ap-northeast-3"),
            ("SINGAPORE", "ap-southeast-1"),
            ("SYDNEY", "ap-southeast-2"),
            ("MUMBAI", "ap-south-1"),
            ("Sao Paulo", "sa-east-1"),
            ("EU-WEST-1", "eu-west-1"),
            (" eu-west-1 ", "eu-west-1"),
            ("us-gov-west-1", "us-gov-west-1"),
            ("eusc-de-east-1", "eusc-de-east-1"),
            ("ap-southeast-9", "ap-southeast-9"),
        ] {
            assert_eq!(
                Region::parse(input).map(|r| r.code().to_string()),
                Ok(code.to_string()),
                "{input}"
            );
        }
    }

    #[test]
    fn every_current_region_has_a_name() {
        // The regions in the endpoint partitions of the AWS SDK (aws-sdk-athena 1.128),
        // commercial, China, GovCloud and the European Sovereign Cloud.
        for code in [
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "me-west-1",
            "mx-central-1",
            "sa-east-1",
            "sa-west-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "cn-north-1",
            "cn-northwest-1",
            "eusc-de-east-1",
            "us-gov-east-1",
            "us-gov-west-1",
        ] {
            assert!(
                REGIONS.iter().any(|(_, c)| *c == code),
                "{code} has no friendly name"
            );
        }
    }

    #[test]
    fn unknown_names_are_errors() {
        for bad in [
            "ATLANTIS",
            "",
            "eu-west",
            "e-west-1",
            "eu-west-x",
            "eu west 1x",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad}");
        }
    }
}
