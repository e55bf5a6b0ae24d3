//! `AuthScheme`: how credentials are obtained.

/// The value of `AuthScheme` (case-insensitive, as in the CData connector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `AwsRootKeys`: the account root's access keys.
    AwsRootKeys,
    /// `AwsIAMKeys` / `AwsKeys`: an IAM user's access keys (optionally temporary, with a session token).
    AwsIamKeys,
    /// `AwsTempCredentials`: access keys with `AWSSessionToken`.
    AwsTempCredentials,
    /// `AwsMFA`: GetSessionToken with an MFA code.
    AwsMfa,
    /// `AwsIAMRoles`: AssumeRole on top of keys.
    AwsIamRoles,
    /// `AwsEC2Roles`: the EC2 instance's role (IMDSv2, IMDSv1 fallback).
    AwsEc2Roles,
    /// `AwsWebIdentity`: AssumeRoleWithWebIdentity.
    AwsWebIdentity,
    /// `AwsCredentialsFile`: a profile from an AWS credentials file.
    AwsCredentialsFile,
    /// `ADFS`: form login at an ADFS server, then SAML.
    Adfs,
    /// `ADFSIntegrated`: ADFS with the logged-in user's Kerberos ticket.
    AdfsIntegrated,
    /// `Okta`.
    Okta,
    /// `PingFederate`.
    PingFederate,
    /// `AzureAD` / `EntraID`.
    AzureAd,
    /// `AwsCognitoSrp`: a Cognito user pool with SRP.
    AwsCognitoSrp,
    /// `AwsCognitoBasic`: a Cognito user pool with a plain password.
    AwsCognitoBasic,
    /// `DataZoneIdC`: IAM Identity Center, then DataZone environment credentials.
    DataZoneIdc,
    /// `Auto` / `Default`: the standard AWS credential chain.
    Default,
}

impl AuthScheme {
    /// Every scheme with the name it is written as in connection strings.
    pub const ALL: &'static [(AuthScheme, &'static str)] = &[
        (Self::AwsRootKeys, "AwsRootKeys"),
        (Self::AwsIamKeys, "AwsIAMKeys"),
        (Self::AwsTempCredentials, "AwsTempCredentials"),
        (Self::AwsMfa, "AwsMFA"),
        (Self::AwsIamRoles, "AwsIAMRoles"),
        (Self::AwsEc2Roles, "AwsEC2Roles"),
        (Self::AwsWebIdentity, "AwsWebIdentity"),
        (Self::AwsCredentialsFile, "AwsCredentialsFile"),
        (Self::Adfs, "ADFS"),
        (Self::AdfsIntegrated, "ADFSIntegrated"),
        (Self::Okta, "Okta"),
        (Self::PingFederate, "PingFederate"),
        (Self::AzureAd, "AzureAD"),
        (Self::AwsCognitoSrp, "AwsCognitoSrp"),
        (Self::AwsCognitoBasic, "AwsCognitoBasic"),
        (Self::DataZoneIdc, "DataZoneIdC"),
        (Self::Default, "Default"),
    ];

    /// The canonical name.
    pub fn as_str(&self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| s == self)
            .map(|(_, n)| *n)
            .unwrap_or("Default")
    }

    /// Parses a name case-insensitively, with aliases (`AwsKeys`, `EntraID`, `Auto`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim().to_ascii_lowercase();
        let alias = match n.as_str() {
            "awskeys" | "awsiamuser" | "awsaccesskeys" => Some(Self::AwsIamKeys),
            "entraid" | "azuread" | "azureactivedirectory" => Some(Self::AzureAd),
            "auto" | "default" | "awsdefault" => Some(Self::Default),
            "adfsintegrated" | "adfs_integrated" => Some(Self::AdfsIntegrated),
            "ping" | "pingfederate" => Some(Self::PingFederate),
            "awscognito" | "awscognitosrp" => Some(Self::AwsCognitoSrp),
            "datazone" | "datazoneidc" => Some(Self::DataZoneIdc),
            _ => None,
        };
        alias.or_else(|| {
            Self::ALL
                .iter()
                .find(|(_, s)| s.eq_ignore_ascii_case(&n))
                .map(|(s, _)| *s)
        })
    }
}

impl std::fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
