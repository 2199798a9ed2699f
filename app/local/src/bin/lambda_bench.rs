//! The Lambda functions measured as Lambda runs them: each binary that
//! `cargo lambda` packages, started under a Runtime API emulator
//! (`local_stack::runtime_api`) against moto and fed realistic events. Prints
//! start-up, CPU per order (marginal: the difference between a small and a
//! large run over the orders between them, so start-up drops out), peak RSS
//! and package size as a table; with `--peer`, the Python peer beside them,
//! same moto, same events.
//!
//! `scripts/bench` builds the packages and runs this; see the README.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use local_stack::events::{queued, sqs_event, stream_events};
use local_stack::provision::provision;
use local_stack::runtime_api::{Measured, measure};
use local_stack::{Clients, Moto, Resources};
use pipeline::aws::Patience;
use pipeline::settings::{ResourceNames, env};
use serde_json::{Value, json};

struct Options {
    /// Where `cargo lambda build --profile lambda` leaves the binaries.
    binaries: PathBuf,
    /// Where it leaves the zipped packages.
    packages: PathBuf,
    /// The Python peer's directory and interpreter, if it runs too.
    peer: Option<(PathBuf, PathBuf)>,
    small: usize,
    large: usize,
    batch: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        binaries: PathBuf::from("target/x86_64-unknown-linux-gnu/lambda"),
        packages: PathBuf::from("target/packages"),
        peer: None,
        small: 10,
        large: 60,
        batch: 10,
    };
    let mut peer_dir = None;
    let mut peer_python = None;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let mut value = || {
            arguments
                .next()
                .with_context(|| format!("{argument} needs a value"))
        };
        match argument.as_str() {
            "--binaries" => options.binaries = value()?.into(),
            "--packages" => options.packages = value()?.into(),
            "--peer" => peer_dir = Some(PathBuf::from(value()?)),
            "--peer-python" => peer_python = Some(PathBuf::from(value()?)),
            "--small" => options.small = value()?.parse()?,
            "--large" => options.large = value()?.parse()?,
            "--batch" => options.batch = value()?.parse()?,
            other => bail!(
                "unknown argument {other}\n\nusage: lambda-bench [--binaries DIR] [--packages DIR] [--peer DIR --peer-python PYTHON] [--small N] [--large N] [--batch N]"
            ),
        }
    }
    if options.small >= options.large {
        bail!("--small must be below --large");
    }
    options.peer = match (peer_dir, peer_python) {
        (Some(dir), Some(python)) => Some((dir, python)),
        (None, None) => None,
        _ => bail!("--peer and --peer-python go together"),
    };
    Ok(options)
}

/// The AWS settings every function process gets, pointing at moto.
fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("RUST_LOG", "info".to_owned()),
        ("POWERTOOLS_LOG_LEVEL", "INFO".to_owned()),
    ]
}

/// `events` SQS events of `batch` orders each, as the order API queues them.
fn ingest_events(run: &str, events: usize, batch: usize) -> Vec<Value> {
    let bodies = domain::sample::orders(events * batch);
    let received = Utc::now().timestamp_millis();
    bodies
        .chunks(batch)
        .enumerate()
        .map(|(event, chunk)| {
            let messages = chunk
                .iter()
                .enumerate()
                .map(|(n, body)| {
                    let id = format!("{run}-{event:04}-{n:02}");
                    let mut message = queued(&id, &id, &body.to_string(), Some(received));
                    // The peer reads its order id from here.
                    message.message_attributes.insert(
                        "idempotencyKey".to_owned(),
                        message.message_attributes[pipeline::queue::attributes::ORDER_ID].clone(),
                    );
                    message
                })
                .collect();
            serde_json::to_value(sqs_event(messages)).expect("an event as JSON")
        })
        .collect()
}

struct Function {
    name: &'static str,
    program: PathBuf,
    args: Vec<&'static str>,
    working_dir: Option<PathBuf>,
    env: Vec<(&'static str, String)>,
}

impl Function {
    async fn run(&self, run: &str, events: Vec<Value>) -> anyhow::Result<Measured> {
        let log = std::env::temp_dir().join(format!("lambda-bench-{}-{run}.log", self.name));
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let measured = measure(
            &self.program,
            &self.args,
            &env,
            self.working_dir.as_deref(),
            events,
            &log,
        )
        .await
        .with_context(|| format!("{} {run}", self.name))?;
        if !measured.errors.is_empty() {
            bail!(
                "{} {run} reported errors: {:?} (log: {})",
                self.name,
                &measured.errors[..1],
                log.display()
            );
        }
        println!(
            "{:<22} {run:<6} {:>5} events  start-up {:>7.1} ms  CPU {:>8.1} ms ({:>5.1} ms in the kernel)  peak RSS {:>6.1} MB",
            self.name,
            measured.invocations.len(),
            ms(measured.start_up),
            ms(measured.cpu),
            ms(measured.system_cpu),
            measured.peak_rss_kib as f64 / 1024.0
        );
        Ok(measured)
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// One function's figures for the table.
struct Figures {
    start_up_ms: f64,
    cpu_per_order_ms: Option<f64>,
    peak_rss_mb: f64,
    package_kib: Option<u64>,
}

impl Figures {
    fn of(small: &Measured, large: &Measured, orders_between: usize, package: Option<u64>) -> Self {
        Self {
            start_up_ms: ms(small.start_up).min(ms(large.start_up)),
            cpu_per_order_ms: Some((ms(large.cpu) - ms(small.cpu)) / orders_between as f64),
            peak_rss_mb: small.peak_rss_kib.max(large.peak_rss_kib) as f64 / 1024.0,
            package_kib: package,
        }
    }
}

fn package_kib(options: &Options, function: &str) -> Option<u64> {
    std::fs::metadata(options.packages.join(function).join("bootstrap.zip"))
        .ok()
        .map(|metadata| metadata.len() / 1024)
}

/// What reading every order back found.
struct Checked {
    stored: usize,
    /// Distinct SNS messages that covered the orders (own emails and digests).
    emails: usize,
}

/// Counts the orders stored, those notified and the emails that covered
/// them, by reading each back.
async fn check_orders(
    clients: &Clients,
    table: &str,
    expect_notified: bool,
) -> anyhow::Result<Checked> {
    let mut stored = 0;
    let mut notified = 0;
    let mut messages = std::collections::HashSet::new();
    let mut pages = clients
        .dynamodb
        .scan()
        .table_name(table)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let item = item?;
        let is_order = item
            .get("sk")
            .and_then(|sk| sk.as_s().ok())
            .is_some_and(|sk| sk.starts_with("ORDER"));
        if is_order {
            stored += 1;
            if item.contains_key("notifiedAt") {
                notified += 1;
            }
            if let Some(message) = item.get("snsMessageId").and_then(|id| id.as_s().ok()) {
                messages.insert(message.clone());
            }
        }
    }
    if expect_notified && notified != stored {
        bail!("{table}: {notified} of {stored} orders notified");
    }
    Ok(Checked {
        stored,
        emails: messages.len(),
    })
}

async fn stack(clients: &Clients, name: &str) -> anyhow::Result<Resources> {
    provision(
        clients,
        ResourceNames::with_prefix(&format!("bench-{}-{name}", std::process::id())),
    )
    .await
}

/// ingest then notify, small run and large run, on fresh tables.
async fn pipeline_pair(
    clients: &Clients,
    options: &Options,
    ingest: impl Fn(&Resources) -> Function,
    notify: impl Fn(&Resources) -> Function,
    label: &str,
) -> anyhow::Result<(Figures, Figures)> {
    let mut runs = Vec::new();
    for (run, events) in [("small", options.small), ("large", options.large)] {
        let resources = stack(clients, &format!("{label}-{run}")).await?;
        let measured_ingest = ingest(&resources)
            .run(
                run,
                ingest_events(&format!("{label}{run}"), events, options.batch),
            )
            .await?;
        let stored = check_orders(clients, &resources.names.table, false)
            .await?
            .stored;
        if stored != events * options.batch {
            bail!(
                "{label} ingest {run}: stored {stored} of {} orders",
                events * options.batch
            );
        }
        let stream = stream_events(&clients.streams, &resources.stream_arn, options.batch).await?;
        let stream: Vec<Value> = stream
            .into_iter()
            .map(|event| serde_json::to_value(event).expect("JSON"))
            .collect();
        let measured_notify = notify(&resources).run(run, stream).await?;
        let checked = check_orders(clients, &resources.names.table, true).await?;
        println!(
            "{label} notify {run}: {} emails for {} orders in batches of {} ({:.0} per 1,000 orders)",
            checked.emails,
            checked.stored,
            options.batch,
            checked.emails as f64 * 1000.0 / checked.stored.max(1) as f64
        );
        runs.push((measured_ingest, measured_notify));
    }
    let between = (options.large - options.small) * options.batch;
    let (small, large) = (&runs[0], &runs[1]);
    Ok((
        Figures::of(&small.0, &large.0, between, package_kib(options, "ingest")),
        Figures::of(&small.1, &large.1, between, package_kib(options, "notify")),
    ))
}

async fn dashboard(
    clients: &Clients,
    options: &Options,
    endpoint: &str,
) -> anyhow::Result<Figures> {
    let resources = stack(clients, "dashboard").await?;
    let secret = |name: &str, value: &str| {
        clients
            .secrets
            .create_secret()
            .name(format!("bench-{}-{name}", std::process::id()))
            .secret_string(value)
            .send()
    };
    let session = secret("session", &"s".repeat(48)).await?;
    let password = secret("admin", "benchmark-admin-password").await?;
    let mut variables = aws_env(endpoint);
    variables.extend([
        (env::ORDERS_TABLE, resources.names.table.clone()),
        (env::ORDER_QUEUE_URL, resources.queue_url.clone()),
        (
            env::DEAD_LETTER_QUEUE_URL,
            resources.dead_letter_queue_url.clone(),
        ),
        (env::ORDER_TOPIC_ARN, resources.topic_arn.clone()),
        (
            env::SESSION_SECRET_ARN,
            session.arn().unwrap_or_default().to_owned(),
        ),
        (env::ADMIN_EMAIL, "admin@example.com".to_owned()),
        (
            env::ADMIN_PASSWORD_SECRET_ARN,
            password.arn().unwrap_or_default().to_owned(),
        ),
    ]);
    let function = Function {
        name: "dashboard",
        program: options.binaries.join("dashboard"),
        args: Vec::new(),
        working_dir: None,
        env: variables,
    };
    let login = |n: usize| {
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/login", "rawQueryString": "",
            "headers": {"host": "bench.lambda-url.us-east-1.on.aws", "accept": "text/html", "x-forwarded-proto": "https"},
            "requestContext": {
                "accountId": "anonymous", "apiId": "bench", "domainName": "bench.lambda-url.us-east-1.on.aws",
                "domainPrefix": "bench", "requestId": format!("request-{n}"), "routeKey": "$default", "stage": "$default",
                "time": "25/Nov/2026:00:00:00 +0000", "timeEpoch": 1_795_651_200_000_i64,
                "http": {"method": "GET", "path": "/login", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "bench"}
            },
            "isBase64Encoded": false
        })
    };
    // The first start creates the admin (hashing the password); later ones read it.
    let first = function.run("first", (0..5).map(login).collect()).await?;
    let later = function.run("later", (0..5).map(login).collect()).await?;
    println!(
        "{:<22} first start, creating the admin: {:.1} ms",
        "dashboard",
        ms(first.start_up)
    );
    Ok(Figures {
        start_up_ms: ms(later.start_up),
        cpu_per_order_ms: None,
        peak_rss_mb: first.peak_rss_kib.max(later.peak_rss_kib) as f64 / 1024.0,
        package_kib: package_kib(options, "dashboard"),
    })
}

fn table(columns: &[(&str, &Figures)]) -> String {
    let mut out = String::from("|");
    for (name, _) in columns {
        out.push_str(&format!(" | {name}"));
    }
    out.push_str(" |\n|---");
    out.push_str(&"|---:".repeat(columns.len()));
    out.push_str("|\n");
    type Cell = fn(&Figures) -> String;
    let rows: [(&str, Cell); 4] = [
        ("start to first event (ms)", |f| {
            format!("{:.1}", f.start_up_ms)
        }),
        ("CPU per order, marginal (ms)", |f| {
            f.cpu_per_order_ms
                .map_or("–".to_owned(), |v| format!("{v:.3}"))
        }),
        ("peak RSS (MB)", |f| format!("{:.1}", f.peak_rss_mb)),
        ("package, zipped (KiB)", |f| {
            f.package_kib.map_or("–".to_owned(), |v| v.to_string())
        }),
    ];
    for (label, cell) in rows {
        out.push_str(&format!("| {label}"));
        for (_, figures) in columns {
            out.push_str(&format!(" | {}", cell(figures)));
        }
        out.push_str(" |\n");
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    for function in ["ingest", "notify", "dashboard"] {
        let binary = options.binaries.join(function);
        if !binary.is_file() {
            bail!(
                "{} is missing: build the packages first (scripts/bench does)",
                binary.display()
            );
        }
    }
    let moto = Moto::start()?;
    let endpoint = moto.endpoint().to_owned();
    let clients = Clients::for_endpoint(&endpoint, Patience::DASHBOARD);
    println!(
        "{} and {} events of {} orders; CPU per order is (CPU(large) - CPU(small)) / {} orders\n",
        options.small,
        options.large,
        options.batch,
        (options.large - options.small) * options.batch
    );

    let rust_env = |variables: [(&'static str, String); 2]| {
        let mut all = aws_env(&endpoint);
        all.extend(variables);
        all
    };
    let (ingest, notify) = pipeline_pair(
        &clients,
        &options,
        |resources| Function {
            name: "ingest",
            program: options.binaries.join("ingest"),
            args: Vec::new(),
            working_dir: None,
            env: rust_env([
                (env::ORDERS_TABLE, resources.names.table.clone()),
                (
                    env::DEAD_LETTER_QUEUE_URL,
                    resources.dead_letter_queue_url.clone(),
                ),
            ]),
        },
        |resources| Function {
            name: "notify",
            program: options.binaries.join("notify"),
            args: Vec::new(),
            working_dir: None,
            env: rust_env([
                (env::ORDERS_TABLE, resources.names.table.clone()),
                (env::ORDER_TOPIC_ARN, resources.topic_arn.clone()),
            ]),
        },
        "rust",
    )
    .await?;
    let dashboard = dashboard(&clients, &options, &endpoint).await?;

    let peer = match &options.peer {
        None => None,
        Some((dir, python)) => {
            let peer_function =
                |name: &'static str,
                 handler: &'static str,
                 variables: Vec<(&'static str, String)>| {
                    let mut all = aws_env(&endpoint);
                    all.extend(variables);
                    all.push(("_HANDLER", handler.to_owned()));
                    Function {
                        name,
                        program: python.clone(),
                        args: vec!["-m", "awslambdaric", handler],
                        working_dir: Some(dir.clone()),
                        env: all,
                    }
                };
            Some(
                pipeline_pair(
                    &clients,
                    &options,
                    |resources| {
                        peer_function(
                            "ingest (Python peer)",
                            "ingest.handler",
                            vec![("ORDERS_TABLE", resources.names.table.clone())],
                        )
                    },
                    |resources| {
                        peer_function(
                            "notify (Python peer)",
                            "notify.handler",
                            vec![
                                ("ORDERS_TABLE", resources.names.table.clone()),
                                ("ORDERS_TOPIC_ARN", resources.topic_arn.clone()),
                            ],
                        )
                    },
                    "peer",
                )
                .await
                .map(|(mut ingest, mut notify)| {
                    // The peer is not packaged here.
                    (ingest.package_kib, notify.package_kib) = (None, None);
                    (ingest, notify)
                })?,
            )
        }
    };

    let mut columns: Vec<(&str, &Figures)> = vec![("ingest", &ingest)];
    if let Some((peer_ingest, _)) = &peer {
        columns.push(("ingest (Python peer)", peer_ingest));
    }
    columns.push(("notify", &notify));
    if let Some((_, peer_notify)) = &peer {
        columns.push(("notify (Python peer)", peer_notify));
    }
    columns.push(("dashboard", &dashboard));
    println!("\n{}", table(&columns));
    if let Some((peer_ingest, peer_notify)) = &peer {
        let ratio = |peer: &Figures, ours: &Figures| {
            peer.cpu_per_order_ms.unwrap_or_default() / ours.cpu_per_order_ms.unwrap_or(f64::NAN)
        };
        println!(
            "CPU per order, peer / ours: ingest {:.1}x, notify {:.1}x",
            ratio(peer_ingest, &ingest),
            ratio(peer_notify, &notify)
        );
    }
    Ok(())
}
