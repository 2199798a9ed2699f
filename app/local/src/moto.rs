//! moto, the AWS emulator, installed into a project-local virtualenv on first
//! use and run as a child process on a free loopback port.
//!
//! moto exits by itself when the process that started it goes away (it
//! watches its standard input, which closes then), so neither a Ctrl-C nor a
//! test binary that never drops its shared instance leaves one behind.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The pinned moto release: bump here and every checkout reinstalls.
pub const MOTO_VERSION: &str = "5.2.5";

/// The pinned WSGI server moto's app runs in. moto's own server
/// (werkzeug's development server) closes the connection after every
/// answer; waitress keeps it open as AWS's endpoints do, so the local stack,
/// the tests and the benchmark reuse connections as the functions do on AWS.
pub const WAITRESS_VERSION: &str = "3.0.2";

/// Serves moto's app (the one `moto.server.main` builds) with waitress and
/// exits when standard input closes.
///
/// DynamoDB applies the operations on one item one at a time, which
/// conditional writes and `ADD` counters rely on; moto runs requests in
/// parallel threads without that guarantee, so DynamoDB requests are
/// serialised here. Threads are plenty because a DynamoDB request waiting
/// for its turn, or a long-polling `ReceiveMessage`, holds one.
const LAUNCHER: &str = r#"
import os, sys, threading
def watch_parent():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
from waitress import serve
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
if len(sys.argv) > 3:
    exec(sys.argv[3])
dynamodb = threading.Lock()
def serialise_dynamodb(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        with dynamodb:
            return list(app(environ, start_response))
    return app(environ, start_response)
serve(serialise_dynamodb, host=host, port=port, threads=64, connection_limit=1000, _quiet=True)
"#;

pub struct Moto {
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl Moto {
    /// Installs moto if needed and starts it; returns once it answers.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_patched("")
    }

    /// As [`Moto::start`], running `patch` (Python, with moto imported)
    /// before it serves: for a private moto whose known bugs a caller works
    /// around, each patch named and explained where it is written.
    pub fn start_patched(patch: &str) -> anyhow::Result<Self> {
        let python = ensure_installed()?;
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!("moto-{port}.log"));
        let log_file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(&python)
            .args(["-c", LAUNCHER, "127.0.0.1", &port.to_string(), patch])
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting moto with {}", python.display()))?;
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log: log.clone(),
        };
        moto.wait_until_ready(port, &log)?;
        Ok(moto)
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn wait_until_ready(&mut self, port: u16, log: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                let output = std::fs::read_to_string(log).unwrap_or_default();
                bail!("moto exited at start ({status}); its output:\n{output}");
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "moto did not answer on port {port} within a minute; see {}",
            log.display()
        )
    }
}

impl Moto {
    /// Waits until moto's process ends (it should not, while the stack runs).
    pub async fn exited(&mut self) -> std::process::ExitStatus {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) => tokio::time::sleep(Duration::from_millis(250)).await,
                Err(_) => return std::process::ExitStatus::default(),
            }
        }
    }

    /// Where moto writes its output.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Moto's process id (for tests that kill it).
    pub fn process_id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// `<workspace>/.venv/moto-<version>-waitress-<version>`; git ignores `.venv`.
fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("this crate lives at app/local in the workspace")
        .join(".venv")
        .join(format!("moto-{MOTO_VERSION}-waitress-{WAITRESS_VERSION}"))
}

/// The virtualenv's Python, after installing moto into it if it is not there.
pub fn ensure_installed() -> anyhow::Result<PathBuf> {
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    if python.exists() {
        return Ok(python);
    }
    let parent = venv.parent().expect("venv has a parent");
    std::fs::create_dir_all(parent)?;
    // Build aside and rename into place, so a concurrent or interrupted
    // install never leaves a half-made virtualenv where we look for one.
    let mut staging = venv.clone().into_os_string();
    staging.push(format!(".installing-{}", std::process::id()));
    let staging = PathBuf::from(staging);
    eprintln!(
        "Installing moto {MOTO_VERSION} and waitress {WAITRESS_VERSION} into {} (first run only)…",
        venv.display()
    );
    let base_python = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(
        Command::new(&base_python)
            .args(["-m", "venv"])
            .arg(&staging),
        &format!(
            "creating a virtualenv with {base_python} (Python 3.9 or newer is needed; set MOTO_PYTHON to use another)"
        ),
    )?;
    run(
        Command::new(staging.join("bin").join("python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("moto[server]=={MOTO_VERSION}"),
            &format!("waitress=={WAITRESS_VERSION}"),
        ]),
        "installing moto and waitress from PyPI (needs network access to PyPI)",
    )?;
    match std::fs::rename(&staging, &venv) {
        Ok(()) => {}
        // Another process finished first: use theirs.
        Err(_) if python.exists() => {
            let _ = std::fs::remove_dir_all(&staging);
        }
        Err(error) => return Err(error).context("moving the new virtualenv into place"),
    }
    Ok(python)
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{what}: could not start"))?;
    if !output.status.success() {
        bail!(
            "{what}: failed ({})\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
