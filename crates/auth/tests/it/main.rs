//! Integration tests of the credential providers, one test binary: every AuthScheme against
//! fixtures, moto, MiniStack and the emulator on 127.0.0.1.

#[cfg(feature = "kerberos")]
mod adfs_integrated;
mod azure_ad;
mod cognito;
mod common;
mod datazone_idc;
mod default_chain;
mod ec2_roles;
mod end_to_end;
mod keys;
mod no_secrets;
mod no_secrets_in_logs;
mod ping_mtls;
mod profile_file;
mod saml_idps;
mod sts_schemes;
