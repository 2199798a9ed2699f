//! A Lambda Runtime API, to measure a function binary the way Lambda runs
//! it: the binary is started with `AWS_LAMBDA_RUNTIME_API` pointing here,
//! polls `/next` for events one at a time and posts each result back. We
//! hand it the events, time start-up (spawn to the first `/next`) and each
//! invocation, then read its peak RSS (`/proc`), stop it and read its CPU
//! time from the kernel (`wait4`), threads and all.
//!
//! The protocol: <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>.

use std::collections::VecDeque;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use tokio::sync::Notify;

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

#[derive(Default)]
struct Runtime {
    events: VecDeque<Value>,
    spawned: Option<Instant>,
    first_next: Option<Instant>,
    handed_out: Vec<(String, Instant)>,
    invocations: Vec<Duration>,
    errors: Vec<String>,
    next_id: u64,
}

#[derive(Clone)]
struct Shared {
    runtime: Arc<Mutex<Runtime>>,
    /// Rung when every event was answered and the function asks for more.
    drained: Arc<Notify>,
}

const PREFIX: &str = "/2018-06-01/runtime";

async fn next(State(shared): State<Shared>) -> Response {
    let event = {
        let mut runtime = shared.runtime.lock().unwrap();
        runtime.first_next.get_or_insert_with(Instant::now);
        match runtime.events.pop_front() {
            Some(event) => {
                runtime.next_id += 1;
                let id = format!("request-{:08}", runtime.next_id);
                runtime.handed_out.push((id.clone(), Instant::now()));
                Some((id, event))
            }
            None => None,
        }
    };
    let Some((id, event)) = event else {
        // Lambda would freeze the process here; we stop it instead.
        shared.drained.notify_one();
        return std::future::pending::<Response>().await;
    };
    let mut headers = HeaderMap::new();
    let deadline = (chrono::Utc::now() + chrono::Duration::minutes(5)).timestamp_millis();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned(),
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

fn finish(shared: &Shared, id: &str, error: Option<String>) -> StatusCode {
    let mut runtime = shared.runtime.lock().unwrap();
    let Some(index) = runtime
        .handed_out
        .iter()
        .position(|(handed, _)| handed == id)
    else {
        return StatusCode::BAD_REQUEST;
    };
    let (_, at) = runtime.handed_out.swap_remove(index);
    runtime.invocations.push(at.elapsed());
    if let Some(error) = error {
        runtime.errors.push(error);
    }
    StatusCode::ACCEPTED
}

async fn response(State(shared): State<Shared>, UrlPath(id): UrlPath<String>) -> StatusCode {
    finish(&shared, &id, None)
}

async fn error(
    State(shared): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    finish(&shared, &id, Some(body.chars().take(300).collect()))
}

async fn init_error(State(shared): State<Shared>, body: String) -> StatusCode {
    let mut runtime = shared.runtime.lock().unwrap();
    runtime.errors.push(format!(
        "init: {}",
        body.chars().take(300).collect::<String>()
    ));
    StatusCode::ACCEPTED
}

/// Runs `program` with `env` (beside Lambda's own variables) on `events`;
/// the process's standard error goes to `log`.
pub async fn measure(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    working_dir: Option<&Path>,
    events: Vec<Value>,
    log: &Path,
) -> anyhow::Result<Measured> {
    let count = events.len();
    let shared = Shared {
        runtime: Arc::new(Mutex::new(Runtime {
            events: events.into(),
            ..Runtime::default()
        })),
        drained: Arc::new(Notify::new()),
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
        .envs(env.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?);
    if let Some(dir) = working_dir {
        command.current_dir(dir);
    }
    shared.runtime.lock().unwrap().spawned = Some(Instant::now());
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let drained = tokio::time::timeout(Duration::from_secs(600), shared.drained.notified()).await;
    let peak_rss_kib = peak_rss_kib(child.id());
    let _ = child.kill();
    let (status, usage) =
        tokio::task::spawn_blocking(move || wait_with_usage(child.id())).await??;
    server.abort();
    let runtime = shared.runtime.lock().unwrap();
    if drained.is_err() || runtime.invocations.len() < count {
        bail!(
            "{} answered {} of {count} events (exit {status}); its log: {}",
            program.display(),
            runtime.invocations.len(),
            log.display()
        );
    }
    Ok(Measured {
        start_up: runtime
            .first_next
            .zip(runtime.spawned)
            .map(|(first, spawned)| first - spawned)
            .unwrap_or_default(),
        invocations: runtime.invocations.clone(),
        errors: runtime.errors.clone(),
        cpu: usage.cpu,
        system_cpu: usage.system_cpu,
        peak_rss_kib: peak_rss_kib
            .with_context(|| format!("reading the peak RSS of {}", program.display()))?,
    })
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
