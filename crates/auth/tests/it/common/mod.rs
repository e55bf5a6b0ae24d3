//! Shared test helpers: connection options, a moto STS server, a manual clock.

pub(crate) mod azure;
pub(crate) mod idc;
pub(crate) mod idp;
pub(crate) mod imds;
pub(crate) mod tls;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use datafusion_athena_config::{AuthScheme, ConnectionOptions, Region, Secret};

pub(crate) const ACCESS_KEY: &str = "AKIATESTBASEKEY00001";
pub(crate) const SECRET_KEY: &str = "base-secret-key-never-printed-0123456789";

/// Options with a region and, when given, an STS endpoint.
pub(crate) fn opts(scheme: Option<AuthScheme>, sts: Option<&str>) -> ConnectionOptions {
    let mut o = ConnectionOptions::default();
    o.region = Some(Region::parse("eu-west-1").expect("region"));
    o.auth.scheme = scheme;
    o.endpoints.sts = sts.map(str::to_string);
    o
}

/// Adds the base keys.
pub(crate) fn with_keys(mut o: ConnectionOptions) -> ConnectionOptions {
    o.auth.access_key = Some(ACCESS_KEY.into());
    o.auth.secret_key = Some(Secret::new(SECRET_KEY));
    o
}

/// The URL of a moto server for this test binary, or `None` (with the reason printed) when
/// moto is not available.
///
/// - `ATHENA_TEST_MOTO_URL`: use an already running moto server at this URL;
/// - else `MOTO_SERVER_BIN` (default: `moto_server` on `PATH`) is started on a free 127.0.0.1
///   port, once per test binary, and stopped when the test binary exits.
pub(crate) fn moto() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    let url = URL.get_or_init(start_moto).clone();
    if url.is_none() {
        skip("moto is not available (set MOTO_SERVER_BIN or ATHENA_TEST_MOTO_URL)");
    }
    url
}

/// Says why a test skips; with `ATHENA_TEST_REQUIRE_PEERS` set (scripts/test sets it, having
/// installed the peers) a missing peer fails the test instead.
pub(crate) fn skip(reason: &str) {
    if std::env::var_os("ATHENA_TEST_REQUIRE_PEERS").is_some() {
        panic!("{reason}, and ATHENA_TEST_REQUIRE_PEERS is set");
    }
    eprintln!("SKIPPED: {reason}");
}

fn start_moto() -> Option<String> {
    if let Ok(url) = std::env::var("ATHENA_TEST_MOTO_URL") {
        return Some(url.trim_end_matches('/').to_string());
    }
    let bin = std::env::var("MOTO_SERVER_BIN").unwrap_or_else(|_| "moto_server".to_string());
    start_server(&bin, |port| format!("\"$0\" -H 127.0.0.1 -p {port}"))
}

/// The URL of a MiniStack server (real Cognito SRP checks) for this test binary, or `None`
/// with the reason printed. `ATHENA_TEST_MINISTACK_URL` uses a running one; else
/// `MINISTACK_BIN` (default: `ministack` on `PATH`) is started on a free 127.0.0.1 port.
pub(crate) fn ministack() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    let url = URL
        .get_or_init(|| {
            if let Ok(url) = std::env::var("ATHENA_TEST_MINISTACK_URL") {
                return Some(url.trim_end_matches('/').to_string());
            }
            let bin = std::env::var("MINISTACK_BIN").unwrap_or_else(|_| "ministack".to_string());
            start_server(&bin, |port| {
                format!("BIND_HOST=127.0.0.1 GATEWAY_PORT={port} \"$0\"")
            })
        })
        .clone();
    if url.is_none() {
        skip("MiniStack is not available (set MINISTACK_BIN or ATHENA_TEST_MINISTACK_URL)");
    }
    url
}

/// Starts `bin` (command line from `command(port)`, `$0` being the binary) on a free port,
/// with a watchdog shell that stops it when this test process exits (the OnceLock holding
/// the URL is never dropped).
fn start_server(bin: &str, command: impl Fn(u16) -> String) -> Option<String> {
    if !on_path(bin) {
        eprintln!("{bin} not found");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let script = format!(
        "{} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $m",
        command(port),
        parent = std::process::id()
    );
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(bin)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("cannot start {bin}: {e}");
        return None;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(format!("http://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("{bin} did not listen on 127.0.0.1:{port} within 30 s");
    None
}

/// For a test that needs its process to itself (it sets environment variables, or installs the
/// global tracing subscriber): in the child process this starts, returns `true` and the test
/// goes on; otherwise runs the test alone in that child (the same test binary, filtered to
/// exactly this test), fails unless it passed there, and returns `false`.
///
/// `module` is the caller's `module_path!()`, `test` the name of its test function.
pub(crate) fn in_own_process(module: &str, test: &str) -> bool {
    const CHILD: &str = "ATHENA_TEST_OWN_PROCESS";
    // libtest names a test by its path below the crate root.
    let module = module.split_once("::").map_or("", |(_, m)| m);
    let name = format!("{module}::{test}");
    if std::env::var_os(CHILD).is_some_and(|v| v == name.as_str()) {
        return true;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([name.as_str(), "--exact", "--nocapture"])
        .env(CHILD, &name)
        .stdin(Stdio::null())
        .output()
        .expect("run the test binary again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{name} failed in its own process");
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} did not run in its own process"
    );
    false
}

/// A fresh temporary directory.
pub(crate) fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// `dir/name`.
pub(crate) fn path_in(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn on_path(bin: &str) -> bool {
    if bin.contains('/') {
        return std::path::Path::new(bin).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(bin).is_file()))
}

/// The ARN moto's STS reports for `creds` (GetCallerIdentity signed with them).
pub(crate) async fn caller_arn(sts: &str, creds: aws_credential_types::Credentials) -> String {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("eu-west-1"))
        .endpoint_url(sts)
        .credentials_provider(creds)
        .build();
    let out = aws_sdk_sts::Client::from_conf(conf)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    out.arn().unwrap_or_default().to_string()
}
