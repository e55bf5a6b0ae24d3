//! The default AWS chain, in a process of its own whose environment the test controls.

use aws_credential_types::provider::ProvideCredentials;
use datafusion_athena_auth::credentials_provider;
use datafusion_athena_config::ConnectionOptions;

use crate::common;

#[tokio::test]
async fn default_chain_reads_the_environment() {
    if !common::in_own_process(module_path!(), "default_chain_reads_the_environment") {
        return;
    }
    // SAFETY: this process runs this one test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret-from-environment");
        std::env::set_var("AWS_SESSION_TOKEN", "token-from-environment");
        std::env::set_var("AWS_REGION", "eu-central-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let opts = ConnectionOptions::default();
    let creds = credentials_provider(&opts)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(creds.access_key_id(), "AKIAFROMENVIRONMENT1");
    assert_eq!(creds.secret_access_key(), "secret-from-environment");
    assert_eq!(creds.session_token(), Some("token-from-environment"));
}
