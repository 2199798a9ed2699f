//! A fault-injecting proxy between the AWS SDK and moto, for the tests:
//! AWS-shaped server errors and throttling (per service's protocol), added
//! latency, stalls past every timeout, dropped connections, a switch that
//! stalls everything, and holds that stop one call where a crash would.
//!
//! Written for the tests rather than taken from a tool like Toxiproxy,
//! which works on bytes: the faults here must look like AWS's own answers
//! (`ProvisionedThroughputExceededException`, SQS `RequestThrottled`, SNS
//! `Throttling`), per service and per operation. Seeded, so a run replays.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What can go wrong with one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// A 5xx in the service's own error format.
    ServerError,
    /// The service's throttling error.
    Throttle,
    /// The service refuses the request for good (`ValidationException`).
    Reject,
    /// The answer comes this much later.
    Latency(Duration),
    /// No answer for this long, then the connection drops: past every timeout.
    Stall(Duration),
    /// The connection drops without an answer.
    Drop,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::ServerError => "server error",
            Fault::Throttle => "throttling",
            Fault::Reject => "refusal",
            Fault::Latency(_) => "latency",
            Fault::Stall(_) => "stall",
            Fault::Drop => "dropped connection",
        }
    }
}

/// Injects `fault` into a share `rate` of the calls it matches.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `dynamodb`, `streams`, `sqs`, `sns`…; `None` for any.
    pub service: Option<&'static str>,
    /// `PutItem`, `Publish`…; `None` for any.
    pub operation: Option<&'static str>,
    pub fault: Fault,
    pub rate: f64,
}

impl Rule {
    pub fn any(fault: Fault, rate: f64) -> Self {
        Self {
            service: None,
            operation: None,
            fault,
            rate,
        }
    }

    pub fn on(service: &'static str, operation: &'static str, fault: Fault, rate: f64) -> Self {
        Self {
            service: Some(service),
            operation: Some(operation),
            fault,
            rate,
        }
    }

    fn matches(&self, call: &(String, String)) -> bool {
        self.service.is_none_or(|service| service == call.0)
            && self.operation.is_none_or(|operation| operation == call.1)
    }
}

/// Where a held call stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldPoint {
    /// Before it reaches the service: as if the caller died before calling.
    BeforeCall,
    /// After the service did it, before the caller hears: as if the caller
    /// died while the answer was on its way.
    AfterCall,
}

/// One call stopped in the proxy until released.
pub struct Hold {
    service: &'static str,
    operation: &'static str,
    point: HoldPoint,
    reached: Notify,
    release: Notify,
    taken: AtomicBool,
}

impl Hold {
    /// Waits until a matching call is being held.
    pub async fn reached(&self) {
        self.reached.notified().await
    }

    /// Lets the held call go on (a `BeforeCall` hold then drops it).
    pub fn release(&self) {
        self.release.notify_one();
    }
}

#[derive(Default)]
struct State {
    rules: Mutex<Vec<Rule>>,
    holds: Mutex<Vec<Arc<Hold>>>,
    stalled: AtomicBool,
    injected: Mutex<BTreeMap<(&'static str, String), usize>>,
}

pub struct FaultProxy {
    endpoint: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The service and operation of an SDK request: the service from the
/// signature's credential scope, the operation from `X-Amz-Target` (JSON
/// protocols) or the form's `Action` (query protocol).
fn call_of(headers: &hyper::HeaderMap, body: &[u8]) -> (String, String) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
    };
    let service = header("authorization")
        .split("Credential=")
        .nth(1)
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned();
    let target = header("x-amz-target");
    let service = if target.starts_with("DynamoDBStreams") {
        "streams".to_owned()
    } else {
        service
    };
    let operation = match target.split_once('.') {
        Some((_, operation)) => operation.to_owned(),
        None => serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()
            .and_then(|form| form.into_iter().find(|(key, _)| key == "Action"))
            .map(|(_, action)| action)
            .unwrap_or_default(),
    };
    (service, operation)
}

/// The service's own error answer.
fn error_answer(service: &str, fault: Fault) -> Response<Body> {
    let throttled = fault == Fault::Throttle;
    let status = if fault == Fault::ServerError {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    let (content_type, body) = match service {
        "sns" => {
            let code = if throttled {
                "Throttling"
            } else {
                "InternalError"
            };
            (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>injected by the fault proxy</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
                ),
            )
        }
        "sqs" => {
            let code = if throttled {
                "RequestThrottled"
            } else {
                "InternalFailure"
            };
            (
                "application/x-amz-json-1.0",
                format!(
                    r#"{{"__type":"com.amazonaws.sqs#{code}","message":"injected by the fault proxy"}}"#
                ),
            )
        }
        _ => {
            let code = match fault {
                Fault::Throttle => "ProvisionedThroughputExceededException",
                Fault::Reject => "ValidationException",
                _ => "InternalServerError",
            };
            (
                "application/x-amz-json-1.0",
                format!(
                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"injected by the fault proxy"}}"#
                ),
            )
        }
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("a response")
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (moto's endpoint) on a free port.
    pub async fn start(upstream: &str, seed: u64) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State::default());
        let upstream: hyper::Uri = upstream.parse()?;
        let client: Client<HttpConnector, Body> =
            Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed)));
        let task_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&task_state);
                let client = client.clone();
                let upstream = upstream.clone();
                let rng = Arc::clone(&rng);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        proxy(
                            request,
                            Arc::clone(&state),
                            client.clone(),
                            upstream.clone(),
                            Arc::clone(&rng),
                        )
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            endpoint,
            state,
            task,
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn set_rules(&self, rules: Vec<Rule>) {
        *self.state.rules.lock().expect("rules") = rules;
    }

    /// Stalls every call while on (they wait, then go through when it ends).
    pub fn stall(&self, on: bool) {
        self.state.stalled.store(on, Ordering::SeqCst);
    }

    /// Stops the next call to `service`'s `operation` at `point`.
    pub fn hold(
        &self,
        service: &'static str,
        operation: &'static str,
        point: HoldPoint,
    ) -> Arc<Hold> {
        let hold = Arc::new(Hold {
            service,
            operation,
            point,
            reached: Notify::new(),
            release: Notify::new(),
            taken: AtomicBool::new(false),
        });
        self.state
            .holds
            .lock()
            .expect("holds")
            .push(Arc::clone(&hold));
        hold
    }

    /// How many faults of each kind were injected, per `service:operation`.
    pub fn injected(&self) -> BTreeMap<(&'static str, String), usize> {
        self.state.injected.lock().expect("counts").clone()
    }
}

type Answer = Result<Response<Body>, std::io::Error>;

async fn proxy(
    request: Request<Incoming>,
    state: Arc<State>,
    client: Client<HttpConnector, Body>,
    upstream: hyper::Uri,
    rng: Arc<Mutex<StdRng>>,
) -> Answer {
    let (mut parts, body) = request.into_parts();
    let body: Bytes = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let call = call_of(&parts.headers, &body);
    while state.stalled.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fault = {
        let rules = state.rules.lock().expect("rules");
        let mut rng = rng.lock().expect("rng");
        rules
            .iter()
            .filter(|rule| rule.matches(&call))
            .find(|rule| rng.random_bool(rule.rate.clamp(0.0, 1.0)))
            .map(|rule| rule.fault)
    };
    if let Some(fault) = fault {
        *state
            .injected
            .lock()
            .expect("counts")
            .entry((fault.name(), format!("{}:{}", call.0, call.1)))
            .or_default() += 1;
        match fault {
            Fault::ServerError | Fault::Throttle | Fault::Reject => {
                return Ok(error_answer(&call.0, fault));
            }
            Fault::Latency(delay) => tokio::time::sleep(delay).await,
            Fault::Stall(delay) => {
                tokio::time::sleep(delay).await;
                return Err(std::io::Error::other(
                    "stalled, then dropped by the fault proxy",
                ));
            }
            Fault::Drop => return Err(std::io::Error::other("dropped by the fault proxy")),
        }
    }
    let hold = {
        let holds = state.holds.lock().expect("holds");
        holds
            .iter()
            .find(|hold| {
                hold.service == call.0
                    && hold.operation == call.1
                    && !hold.taken.swap(true, Ordering::SeqCst)
            })
            .cloned()
    };
    if let Some(hold) = &hold
        && hold.point == HoldPoint::BeforeCall
    {
        hold.reached.notify_one();
        hold.release.notified().await;
        return Err(std::io::Error::other(
            "held before the call; the caller is gone",
        ));
    }
    let mut uri = parts.uri.clone().into_parts();
    uri.scheme = upstream.scheme().cloned();
    uri.authority = upstream.authority().cloned();
    parts.uri = hyper::Uri::from_parts(uri).map_err(std::io::Error::other)?;
    let answer = client
        .request(Request::from_parts(parts, Body::from(body)))
        .await
        .map_err(std::io::Error::other)?;
    let (parts, body) = answer.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    if let Some(hold) = hold {
        hold.reached.notify_one();
        hold.release.notified().await;
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}
