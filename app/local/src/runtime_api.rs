//! A Lambda Runtime API, to measure a function binary the way Lambda runs
//! it: the binary is started with `AWS_LAMBDA_RUNTIME_API` pointing here,
//! polls `/next` for events one at a time and posts each result back. We
//! hand it the events, time start-up (spawn to the first `/next`) and each
//! invocation, then read its peak RSS (`/proc`), stop it and read its CPU
//! time from the kernel (`wait4`), threads and all.
//!
//! The protocol: <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// What one run of a function showed.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From spawning the process to its first `/next`.
    pub start_up: Duration,
    /// Each invocation, from handing out the event to the response.
    pub invocations: Vec<Duration>,
    /// Error reports (`/error`, `/init/error`), as the function wrote them.
    pub errors: Vec<String>,
    /// User plus system CPU time of the whole process.
    pub cpu: Duration,
    /// The part of `cpu` spent in the kernel.
    pub system_cpu: Duration,
    /// Peak resident set size, in KiB.
    pub peak_rss_kib: u64,
}

/// How Lambda would run the function: what it is called, its memory and
/// its timeout (each event's deadline).
#[derive(Debug, Clone)]
pub struct Settings {
    pub function_name: String,
    pub memory_mb: u32,
    pub timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            function_name: "bench".to_owned(),
            memory_mb: 128,
            timeout: Duration::from_secs(300),
        }
    }
}

/// What a function answered to one event: its response, or the error it
/// reported (`/error`).
pub type Answer = Result<Value, String>;

#[derive(Default)]
struct Runtime {
    first_next: Option<Instant>,
    waiting: HashMap<String, (Instant, oneshot::Sender<Answer>)>,
    invocations: Vec<Duration>,
    errors: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    runtime: Arc<Mutex<Runtime>>,
    events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>>,
    /// Rung at the first `/next` or an `/init/error`.
    started: Arc<tokio::sync::Notify>,
    timeout: Duration,
    function_arn: String,
}

const PREFIX: &str = "/2018-06-01/runtime";

async fn next(State(shared): State<Shared>) -> Response {
    {
        let mut runtime = shared.runtime.lock().unwrap();
        if runtime.first_next.is_none() {
            runtime.first_next = Some(Instant::now());
            shared.started.notify_one();
        }
    }
    // Between events Lambda freezes the process; here it waits in `/next`.
    let Some((id, event)) = shared.events.lock().await.recv().await else {
        return std::future::pending::<Response>().await;
    };
    if let Some((at, _)) = shared.runtime.lock().unwrap().waiting.get_mut(&id) {
        *at = Instant::now();
    }
    let mut headers = HeaderMap::new();
    let deadline = (chrono::Utc::now()
        + chrono::Duration::from_std(shared.timeout).unwrap_or(chrono::Duration::minutes(5)))
    .timestamp_millis();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            shared.function_arn.clone(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000".to_owned(),
        ),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).expect("a header value"));
    }
    (headers, Json(event)).into_response()
}

fn finish(shared: &Shared, id: &str, answer: Answer) -> StatusCode {
    let mut runtime = shared.runtime.lock().unwrap();
    let Some((at, reply)) = runtime.waiting.remove(id) else {
        return StatusCode::BAD_REQUEST;
    };
    runtime.invocations.push(at.elapsed());
    if let Err(error) = &answer {
        runtime.errors.push(error.chars().take(300).collect());
    }
    let _ = reply.send(answer);
    StatusCode::ACCEPTED
}

async fn response(
    State(shared): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    finish(&shared, &id, Ok(value))
}

async fn error(
    State(shared): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    finish(&shared, &id, Err(body))
}

async fn init_error(State(shared): State<Shared>, body: String) -> StatusCode {
    shared.runtime.lock().unwrap().errors.push(format!(
        "init: {}",
        body.chars().take(300).collect::<String>()
    ));
    shared.started.notify_one();
    StatusCode::ACCEPTED
}

/// A function process under the Runtime API, taking one event at a time.
pub struct RunningFunction {
    shared: Shared,
    events: mpsc::UnboundedSender<(String, Value)>,
    child: Child,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    spawned: Instant,
    program: PathBuf,
    log: PathBuf,
    next_id: u64,
    /// Set once `stop` reaped the process.
    reaped: bool,
}

impl Drop for RunningFunction {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        self.server.abort();
    }
}

impl RunningFunction {
    /// Starts `program` with `env` beside Lambda's own variables (which
    /// `settings` fills in) and waits until it asks for its first event;
    /// fails, with its log, if it reports an init error or exits instead.
    /// Its standard error goes to `log`.
    pub async fn start(
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        working_dir: Option<&Path>,
        settings: &Settings,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Shared {
            runtime: Arc::default(),
            events: Arc::new(tokio::sync::Mutex::new(receiver)),
            started: Arc::default(),
            timeout: settings.timeout,
            function_arn: format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                settings.function_name
            ),
        };
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let mut command = Command::new(program);
        command
            .args(args)
            .env("AWS_LAMBDA_FUNCTION_NAME", &settings.function_name)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                settings.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &settings.function_name)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &settings.function_name)
            .envs(env.iter().copied())
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(log)
                    .with_context(|| format!("creating {}", log.display()))?,
            );
        if let Some(dir) = working_dir {
            command.current_dir(dir);
        }
        let spawned = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut function = Self {
            shared,
            events: sender,
            child,
            server,
            spawned,
            program: program.to_owned(),
            log: log.to_owned(),
            next_id: 0,
            reaped: false,
        };
        function.wait_until_started().await?;
        Ok(function)
    }

    async fn wait_until_started(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let init_error = {
                let runtime = self.shared.runtime.lock().unwrap();
                if runtime.first_next.is_some() {
                    return Ok(());
                }
                runtime.errors.first().cloned()
            };
            if let Some(error) = init_error {
                bail!(
                    "{} could not start: {error}{}",
                    self.program.display(),
                    self.log_tail()
                );
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited at start ({status}){}",
                    self.program.display(),
                    self.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not ask for an event within 30 s{}",
                    self.program.display(),
                    self.log_tail()
                );
            }
            let _ =
                tokio::time::timeout(Duration::from_millis(100), self.shared.started.notified())
                    .await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "; the end of its log ({}):\n{}",
            self.log.display(),
            lines[lines.len().saturating_sub(20)..].join("\n")
        )
    }

    /// Hands the function `event` and waits for its answer, at most its
    /// timeout (then fails, as Lambda would stop it).
    pub async fn invoke(&mut self, event: Value) -> anyhow::Result<Answer> {
        self.next_id += 1;
        let id = format!("request-{:08}", self.next_id);
        let (reply, answer) = oneshot::channel();
        self.shared
            .runtime
            .lock()
            .unwrap()
            .waiting
            .insert(id.clone(), (Instant::now(), reply));
        self.events
            .send((id, event))
            .map_err(|_| anyhow::anyhow!("the Runtime API stopped"))?;
        match tokio::time::timeout(self.shared.timeout, answer).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => bail!("the Runtime API stopped{}", self.log_tail()),
            Err(_) => bail!(
                "{} did not answer within its timeout of {} s (Lambda would stop it){}",
                self.program.display(),
                self.shared.timeout.as_secs(),
                self.log_tail()
            ),
        }
    }

    /// Stops the process and reports what the run showed.
    pub async fn stop(mut self) -> anyhow::Result<Measured> {
        let peak_rss_kib = peak_rss_kib(self.child.id());
        let _ = self.child.kill();
        let pid = self.child.id();
        let (_status, usage) = tokio::task::spawn_blocking(move || wait_with_usage(pid)).await??;
        self.reaped = true;
        let runtime = self.shared.runtime.lock().unwrap();
        Ok(Measured {
            start_up: runtime
                .first_next
                .map(|first| first - self.spawned)
                .unwrap_or_default(),
            invocations: runtime.invocations.clone(),
            errors: runtime.errors.clone(),
            cpu: usage.cpu,
            system_cpu: usage.system_cpu,
            peak_rss_kib: peak_rss_kib
                .with_context(|| format!("reading the peak RSS of {}", self.program.display()))?,
        })
    }
}

/// Runs `program` with `env` (beside Lambda's own variables) on `events`,
/// one after the other; the process's standard error goes to `log`.
pub async fn measure(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    working_dir: Option<&Path>,
    events: Vec<Value>,
    log: &Path,
) -> anyhow::Result<Measured> {
    let mut function =
        RunningFunction::start(program, args, env, working_dir, &Settings::default(), log).await?;
    for event in events {
        // An error answer is kept in `Measured::errors`.
        let _answer = function.invoke(event).await?;
    }
    function.stop().await
}

struct Usage {
    cpu: Duration,
    system_cpu: Duration,
}

/// The process's peak resident set size since it started its program
/// (`VmHWM`). Not `wait4`'s `ru_maxrss`: a child started with `posix_spawn`
/// shares our memory until it execs, and Linux counts our resident set as
/// its peak, so that figure would grow with the events we hold.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/<pid>/status")
}

/// Reaps the child and reads its resource usage: std's `Child::wait` does
/// not return it, and `/proc` loses it once the process is gone.
fn wait_with_usage(pid: u32) -> anyhow::Result<(i32, Usage)> {
    let mut status = 0;
    // SAFETY: `rusage` is plain old data, valid when zeroed; `wait4` writes
    // it and `status` for our own child, which nothing else reaps.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    if reaped < 0 {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let time = |value: libc::timeval| {
        Duration::from_secs(value.tv_sec as u64) + Duration::from_micros(value.tv_usec as u64)
    };
    Ok((
        status,
        Usage {
            cpu: time(usage.ru_utime) + time(usage.ru_stime),
            system_cpu: time(usage.ru_stime),
        },
    ))
}
