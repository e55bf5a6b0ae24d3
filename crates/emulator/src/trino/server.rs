//! Finding an installed Trino server and running one single-node server on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The Trino release `scripts/trino install` fetches (the last one whose server tarball and
/// plugin zips are on Maven Central).
pub const TRINO_VERSION: &str = "476";

/// Where the JDK that runs Trino is expected when neither `TRINO_JAVA_HOME` nor a suitable
/// `JAVA_HOME` names one.
const DEFAULT_JDK: &str = "/usr/lib/jvm/temurin-25-jdk-amd64";

/// How long a starting server may take before it is given up.
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// The Trino installation to run: `TRINO_HOME`, else `<cache>/476` where the cache is
/// `TRINO_CACHE_DIR` or `$HOME/.cache/datafusion-athena-trino` (where `scripts/trino install`
/// puts it).
pub(crate) fn trino_home() -> Result<PathBuf> {
    let home = match std::env::var_os("TRINO_HOME") {
        Some(home) => PathBuf::from(home),
        None => {
            let cache = match std::env::var_os("TRINO_CACHE_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => {
                    let home = std::env::var_os("HOME").ok_or_else(|| {
                        Error::trino("HOME is not set: set TRINO_HOME to a Trino installation")
                    })?;
                    Path::new(&home).join(".cache/datafusion-athena-trino")
                }
            };
            cache.join(TRINO_VERSION)
        }
    };
    if !home.join("lib").is_dir() || !home.join("plugin/hive").is_dir() {
        return Err(Error::trino(format!(
            "Trino {TRINO_VERSION} with its Hive plugin is not installed in {}: run `scripts/trino install` \
             (or set TRINO_HOME to an installation, or ATHENA_TRINO_URL to a running server)",
            home.display()
        )));
    }
    Ok(home)
}

/// The `java` of a JDK 24 or later: `TRINO_JAVA_HOME`, Temurin 25 at its Debian path, then
/// `JAVA_HOME`.
pub(crate) fn java() -> Result<PathBuf> {
    let candidates = [
        std::env::var_os("TRINO_JAVA_HOME").map(PathBuf::from),
        Some(PathBuf::from(DEFAULT_JDK)),
        std::env::var_os("JAVA_HOME").map(PathBuf::from),
    ];
    for jdk in candidates.into_iter().flatten() {
        let java = jdk.join("bin/java");
        if java.is_file() && java_major(&java).is_some_and(|v| v >= 24) {
            return Ok(java);
        }
    }
    Err(Error::trino(format!(
        "Trino {TRINO_VERSION} needs Java 24 or later and none was found (Temurin 25 is expected at \
         {DEFAULT_JDK}: apt-get install temurin-25-jdk, or set TRINO_JAVA_HOME to a JDK)"
    )))
}

/// The major version `java -version` reports (`openjdk version "25.0.3" ...`).
fn java_major(java: &Path) -> Option<u32> {
    let out = Command::new(java).arg("-version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let quoted = text.split('"').nth(1)?;
    quoted.split(['.', '-', '+']).next()?.parse().ok()
}

/// A single-node Trino server this process started; stopped (by PID) when dropped.
///
/// The server runs under a small shell that kills it when this process's end of its stdin
/// closes, so a server started by a process that exits without dropping it (a test binary's
/// shared server) stops too.
pub struct TrinoServer {
    url: String,
    pid: u32,
    guard: Child,
    stdin: Option<ChildStdin>,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for TrinoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrinoServer")
            .field("url", &self.url)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl TrinoServer {
    /// Starts Trino from its installation (see `scripts/trino install`) on a free port of
    /// 127.0.0.1 with a 2 GiB heap, and waits until it accepts queries. Catalogs are created
    /// at run time (`catalog.management=dynamic`), one per emulator.
    pub async fn start() -> Result<Self> {
        let home = trino_home()?;
        let java = java()?;
        let started = Instant::now();
        let mut server = tokio::task::spawn_blocking(move || Self::spawn(&home, &java))
            .await
            .map_err(|e| Error::trino(format!("starting Trino: {e}")))??;
        server.wait_ready(started).await?;
        Ok(server)
    }

    fn spawn(home: &Path, java: &Path) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("athena-emulator-trino-")
            .tempdir()
            .map_err(|e| Error::io("creating Trino's directory", e))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Error::io("finding a free port for Trino", e))?
            .port();
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(&etc).map_err(|e| Error::io("creating Trino's etc", e))?;
        let config = format!(
            "node.environment=emulator\nnode.id=emulator-{port}\nnode.bind-ip=127.0.0.1\n\
             node.internal-address=127.0.0.1\ncoordinator=true\n\
             node-scheduler.include-coordinator=true\nhttp-server.http.port={port}\n\
             discovery.uri=http://127.0.0.1:{port}\nquery.max-memory=1GB\n\
             query.max-memory-per-node=1GB\nmemory.heap-headroom-per-node=512MB\n\
             plugin.dir={}\ncatalog.management=dynamic\ncatalog.store=memory\n",
            home.join("plugin").display()
        );
        let write = |name: &str, text: &str| {
            std::fs::write(etc.join(name), text)
                .map_err(|e| Error::io(format!("writing Trino's {name}"), e))
        };
        write("config.properties", &config)?;
        write("log.properties", "io.trino=WARN\n")?;
        let log = std::fs::File::create(dir.path().join("server.log"))
            .map_err(|e| Error::io("creating Trino's log", e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::io("creating Trino's log", e))?;
        // The shell prints Trino's PID, then waits on its stdin: when it closes (the handle is
        // dropped or this process ends), it stops Trino.
        let script = "ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null; \
                      \"$@\" </dev/null & pid=$!; echo \"$pid\" >&3; read -r _; kill \"$pid\"; wait \"$pid\"";
        let pid_file = dir.path().join("pid");
        let pid_out = std::fs::File::create(&pid_file)
            .map_err(|e| Error::io("creating Trino's PID file", e))?;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("exec 3>\"$0\"; {script}"))
            .arg(&pid_file)
            .arg(java)
            .arg("-cp")
            .arg(format!("{}/*", home.join("lib").display()))
            .args([
                "-Xmx2G",
                "-XX:+UseG1GC",
                "-XX:+ExitOnOutOfMemoryError",
                "-XX:ReservedCodeCacheSize=256M",
                "-Djdk.attach.allowAttachSelf=true",
                "-Dfile.encoding=UTF-8",
                "-Duser.timezone=UTC",
                "--add-modules=jdk.incubator.vector",
            ])
            .arg(format!(
                "-Dconfig={}",
                etc.join("config.properties").display()
            ))
            .arg(format!(
                "-Dlog.levels-file={}",
                etc.join("log.properties").display()
            ))
            .arg("io.trino.server.TrinoServer")
            // Trino keeps its working files (var/) in its current directory.
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(log_err);
        drop(pid_out);
        let mut guard = command
            .spawn()
            .map_err(|e| Error::io(format!("running {}", java.display()), e))?;
        let stdin = guard.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = loop {
            let text = std::fs::read_to_string(&pid_file).unwrap_or_default();
            if let Ok(pid) = text.trim().parse::<u32>() {
                break pid;
            }
            if Instant::now() > deadline || matches!(guard.try_wait(), Ok(Some(_))) {
                let _ = guard.kill();
                let _ = guard.wait();
                return Err(Error::trino("the shell that starts Trino did not start it"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            pid,
            guard,
            stdin,
            dir,
        })
    }

    async fn wait_ready(&mut self, started: Instant) -> Result<()> {
        let http = reqwest::Client::new();
        loop {
            if let Ok(response) = http.get(format!("{}/v1/info", self.url)).send().await
                && let Ok(info) = response.json::<serde_json::Value>().await
                && info["starting"] == serde_json::Value::Bool(false)
            {
                tracing::info!(url = %self.url, seconds = started.elapsed().as_secs_f64(), "Trino started");
                return Ok(());
            }
            if matches!(self.guard.try_wait(), Ok(Some(_))) || started.elapsed() > START_TIMEOUT {
                let tail = self.log_tail();
                self.stop();
                return Err(Error::trino(format!(
                    "Trino did not start (waited {} s); the end of its log:\n{tail}",
                    started.elapsed().as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn log_tail(&self) -> String {
        let Ok(file) = std::fs::File::open(self.dir.path().join("server.log")) else {
            return String::new();
        };
        let lines: Vec<String> = BufReader::new(file).lines().map_while(|l| l.ok()).collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The process id of the Trino (Java) process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Stops the server (SIGTERM by PID, then SIGKILL after 20 s) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.guard.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() > deadline => {
                    let _ = Command::new("kill")
                        .args(["-9", &self.pid.to_string()])
                        .status();
                    let _ = self.guard.kill();
                    let _ = self.guard.wait();
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for TrinoServer {
    fn drop(&mut self) {
        self.stop();
    }
}
