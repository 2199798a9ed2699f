//! The contract of `POST /orders` (infra/contract/order-api.json), run two
//! ways: through the deployed API as far as it can run here, and through the
//! local API. Both must give every case's status, body and queued message.
//!
//! Each case runs in its mode: signed callers (`OrderApiAuth: IAM`) or
//! browser mode (`NONE`, with the table's `browserOrigins`); the template is
//! read as CloudFormation would deploy it with those parameters
//! (`crate::cfn`).
//!
//! The deployed API is API Gateway, which cannot run here; it is played by
//! independent implementations of its parts:
//! - WAF's origin rule in browser mode: the pattern set's expressions as the
//!   template builds them, matched against `Origin`;
//! - the method's request validator: Jackson reads the body as API
//!   Gateway's validator does (`infra/emulator/ApiGatewayJson.java`: the
//!   first value, a repeated key's last, `2.0` a floating-point number), Ajv
//!   checks it (JSON Schema draft 4; patterns on code points, as Java's),
//!   `infra/emulator/validate.js`;
//! - the mapping templates: Apache Velocity 1.7 with `$input`, `$util` and
//!   `$context` as AWS documents them, `infra/emulator/ApiGatewayVtl.java`;
//! - the rest, as AWS documents it and modelled below: the method decides
//!   (POST, or the ANY mock, which passes any Content-Type through to 405);
//!   no Content-Type or exactly `application/json` selects the JSON template
//!   and model, any other gets UNSUPPORTED_MEDIA_TYPE (passthrough NEVER),
//!   and JSON with parameters or capitals, which AWS does not document, must
//!   come out the same either way; a body the validator refuses gets
//!   BAD_REQUEST_BODY; the integration response is chosen by matching SQS's
//!   status code against each `SelectionPattern`, its headers are its fixed
//!   ones and those its template sets through `$context.responseOverride`;
//!   gateway responses are sent as written (they run no VTL functions), their
//!   headers fixed or mapped from the request's; the MOCK methods (the
//!   preflight, any other method) answer through their one integration
//!   response.
//!
//! SQS's answers are the documented ones. What this leaves unverified (media
//! type matching, the header names API Gateway passes) is pinned by
//! `scripts/smoke` against a real deployment.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use local_stack::api::browser::AllowedOrigins;
use local_stack::api::signature::{CheckoutKey, sign_request};
use local_stack::api::{ErrorDetail, OrderApiAuth};
use local_stack::{LocalStack, StackOptions};
use pipeline::queue::attributes;
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;

use crate::cfn::Stack;
use crate::support::{self, ADMIN_PASSWORD, SESSION_SECRET};

use local_stack::emulator::{JACKSON, java_classpath, piped, workspace};

/// One row of the contract.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: String,
    pub expect: Value,
    pub queue_unavailable: bool,
    pub signing: Signing,
    pub mode: Mode,
}

/// Which `OrderApiAuth` a case runs under (`"mode"` in the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `IAM`, the default: signed callers only.
    Signed,
    /// `NONE`: browser mode, with the table's `browserOrigins`.
    Browser,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Signed, Mode::Browser];

    fn parse(value: &Value) -> Self {
        match value.as_str() {
            None | Some("iam") => Mode::Signed,
            Some("browser") => Mode::Browser,
            Some(other) => panic!("unknown mode {other:?} in the contract"),
        }
    }

    /// The template's parameters for this mode.
    fn parameters(self) -> Vec<(&'static str, String)> {
        match self {
            Mode::Signed => vec![("OrderApiAuth", "IAM".to_owned())],
            Mode::Browser => vec![
                ("OrderApiAuth", "NONE".to_owned()),
                ("OrderApiAllowedOrigins", browser_origins()),
            ],
        }
    }
}

/// How a case's request is signed (`"auth"` in the table; the checkout's
/// key when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    Checkout,
    Unsigned,
    OtherKey,
    WrongSecret,
    /// Signed six minutes before it is sent.
    Expired,
    /// Signed over another body than the one sent.
    TamperedBody,
}

impl Signing {
    /// Absent, a signed caller signs and a browser does not.
    fn parse(value: &Value, mode: Mode) -> Self {
        match value.as_str() {
            None if mode == Mode::Signed => Signing::Checkout,
            None => Signing::Unsigned,
            Some("checkout") => Signing::Checkout,
            Some("unsigned") => Signing::Unsigned,
            Some("otherKey") => Signing::OtherKey,
            Some("wrongSecret") => Signing::WrongSecret,
            Some("expired") => Signing::Expired,
            Some("tamperedBody") => Signing::TamperedBody,
            Some(other) => panic!("unknown auth {other:?} in the contract"),
        }
    }

    /// What API Gateway answers a signed-callers method (its gateway
    /// responses in the template; an unknown key gets AWS's own answer,
    /// documented by AWS re:Post, through DEFAULT_4XX).
    fn deployed_refusal(self, api: &Deployed) -> Option<GatewayResponse> {
        match self {
            Signing::Checkout => None,
            Signing::Unsigned => Some(api.gateway_response("NotFoundResponse")),
            Signing::OtherKey => Some(GatewayResponse {
                status: 403,
                body: json!({ "message": local_stack::api::signature::UNKNOWN_KEY }).to_string(),
                ..api.gateway_response("OtherRefusalResponse")
            }),
            Signing::WrongSecret | Signing::Expired | Signing::TamperedBody => {
                Some(api.gateway_response("InvalidSignatureResponse"))
            }
        }
    }
}

/// Expands `$repeat` inside a `$json` body.
fn expand(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("$repeat") => {
            let times = map["$repeat"].as_u64().expect("a count") as usize;
            if let Some(text) = map.get("$string") {
                Value::String(text.as_str().expect("a string").repeat(times))
            } else {
                Value::Array(vec![expand(&map["$item"]); times])
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), expand(value)))
                .collect(),
        ),
        Value::Array(list) => Value::Array(list.iter().map(expand).collect()),
        other => other.clone(),
    }
}

fn body_of(spec: Option<&Value>) -> String {
    let Some(spec) = spec else {
        return String::new();
    };
    if let Some(text) = spec.as_str() {
        return text.to_owned();
    }
    if let Some(raw) = spec.get("$raw") {
        return raw.as_str().expect("raw text").to_owned();
    }
    let mut body = serde_json::to_string(&expand(&spec["$json"])).expect("JSON");
    if let Some(size) = spec.get("$padTo").and_then(Value::as_u64) {
        while body.len() < size as usize {
            body.push(' ');
        }
    }
    body
}

fn table() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(workspace("infra/contract/order-api.json")).expect("the contract"),
    )
    .expect("the contract is JSON")
}

/// The origins browser-mode cases are deployed with.
pub fn browser_origins() -> String {
    table()["browserOrigins"]
        .as_str()
        .expect("browserOrigins")
        .to_owned()
}

pub fn cases() -> Vec<Case> {
    table()["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| (case, Mode::parse(&case["mode"])))
        .map(|(case, mode)| Case {
            name: case["name"].as_str().expect("a name").to_owned(),
            method: case["method"].as_str().unwrap_or("POST").to_owned(),
            headers: case["headers"]
                .as_object()
                .map(|map| {
                    map.iter()
                        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            query: case["query"]
                .as_object()
                .map(|map| {
                    map.iter()
                        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            body: body_of(case.get("body")),
            expect: case["expect"].clone(),
            queue_unavailable: case["queue"] == "unavailable",
            signing: Signing::parse(&case["auth"], mode),
            mode,
        })
        .collect()
}

/// What a client got, and what SQS got.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
    pub allow: Option<String>,
    /// The `Access-Control-*` headers, names in lower case.
    pub cors: BTreeMap<String, String>,
    pub queued: Option<Queued>,
}

impl Answer {
    /// From what came back: a status, the headers (any case) and the body
    /// text (none, or JSON).
    fn new(status: u16, headers: &[(String, String)], body: &str, queued: Option<Queued>) -> Self {
        let mut answer = Answer {
            status,
            body: if body.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(body)
                    .unwrap_or_else(|error| panic!("the answer {body:?} is not JSON: {error}"))
            },
            queued,
            ..Answer::default()
        };
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            match name.as_str() {
                "retry-after" => answer.retry_after = Some(value.clone()),
                "allow" => answer.allow = Some(value.clone()),
                cors if cors.starts_with("access-control-") => {
                    answer.cors.insert(name, value.clone());
                }
                _ => {}
            }
        }
        answer
    }
}

#[derive(Debug, Clone)]
pub struct Queued {
    pub body: String,
    pub order_id: String,
    pub received_at: Option<String>,
}

/// Checks an answer against the case; `request_id` is what `$requestId` means.
fn check(case: &Case, answer: &Answer, how: &str, field_level: bool) {
    let what = format!("{how}: {}", case.name);
    let expect = &case.expect;
    assert_eq!(
        answer.status,
        expect["status"].as_u64().unwrap() as u16,
        "{what}: status; got {answer:?}"
    );
    let request_id = answer
        .queued
        .as_ref()
        .map(|queued| queued.order_id.clone())
        .or_else(|| answer.body["orderId"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let expected_body = serde_json::to_string(&expect["body"])
        .unwrap()
        .replace("$requestId", &request_id);
    let expected_body: Value = serde_json::from_str(&expected_body).unwrap();
    match (&expect["fields"], field_level) {
        (Value::Array(fields), true) => {
            let mut got: Vec<&str> = answer.body["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: field errors; got {answer:?}"))
                .iter()
                .map(|error| error["field"].as_str().unwrap())
                .collect();
            got.sort();
            let want: Vec<&str> = fields.iter().map(|field| field.as_str().unwrap()).collect();
            assert_eq!(got, want, "{what}: the fields at fault");
        }
        _ => assert_eq!(answer.body, expected_body, "{what}: body"),
    }
    if let Some(order_id) = expect["queued"]["orderId"].as_str() {
        let queued = answer
            .queued
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: nothing was queued"));
        assert_eq!(
            queued.body, case.body,
            "{what}: SQS gets the body byte for byte"
        );
        if order_id == "$requestId" {
            assert!(
                uuid_like(&queued.order_id),
                "{what}: the order id is the request id: {}",
                queued.order_id
            );
        } else {
            assert_eq!(queued.order_id, order_id, "{what}: the order id");
        }
        assert!(
            queued
                .received_at
                .as_deref()
                .is_some_and(|at| at.parse::<i64>().is_ok()),
            "{what}: receivedAt"
        );
    } else {
        assert!(
            answer.queued.is_none(),
            "{what}: a refused request queues nothing"
        );
    }
    if expect["retryAfter"] == true {
        assert_eq!(
            answer.retry_after.as_deref(),
            Some("1"),
            "{what}: Retry-After"
        );
    }
    if let Some(allow) = expect["allow"].as_str() {
        assert_eq!(answer.allow.as_deref(), Some(allow), "{what}: Allow");
    }
    let cors: BTreeMap<String, String> = expect["cors"]
        .as_object()
        .map(|headers| {
            headers
                .iter()
                .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(answer.cors, cors, "{what}: the CORS headers");
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

// ------------------------------------------------------------ deployed

fn template() -> Yaml {
    serde_yaml::from_str(&std::fs::read_to_string(workspace("infra/template.yaml")).unwrap())
        .unwrap()
}

/// Each body as API Gateway's validator reads it (Jackson): None when it
/// reads no JSON value, else the value as JSON text.
fn jackson(bodies: &[String]) -> Vec<Option<String>> {
    let input: String = bodies
        .iter()
        .map(|body| format!("{}\n", STANDARD.encode(body)))
        .collect();
    let classpath = java_classpath(&JACKSON);
    let output = piped(
        Command::new("java").args([
            "-cp",
            &classpath,
            &workspace("infra/emulator/ApiGatewayJson.java"),
        ]),
        input,
        "Jackson",
    );
    String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|line| (line != "-").then(|| line.to_owned()))
        .collect()
}

/// The validator's verdict on each body: None when it is not JSON, else
/// valid or not (Jackson reads it, Ajv checks it).
pub fn validator(bodies: &[String]) -> Vec<Option<bool>> {
    let values = jackson(bodies);
    assert_eq!(values.len(), bodies.len(), "Jackson read every body");
    let input = json!({"schema": workspace("infra/schemas/order-request.json"), "values": values});
    let output = piped(
        Command::new("node")
            .arg(workspace("infra/emulator/validate.js"))
            .env("NODE_PATH", "/usr/share/nodejs")
            .stderr(Stdio::null()),
        input.to_string(),
        "node with Ajv",
    );
    let verdicts: Vec<Value> = serde_json::from_slice(&output).unwrap();
    verdicts
        .into_iter()
        .map(|verdict| (verdict["json"] == true).then(|| verdict["valid"] == true))
        .collect()
}

/// One template to render, with what `$input` and `$context` hold.
pub struct Render {
    pub template: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub request_id: String,
}

/// What a template gave: the status and headers it set through
/// `$context.responseOverride`, and its text.
pub struct Rendered {
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

/// Renders with Apache Velocity.
pub fn velocity(renders: &[Render]) -> Vec<Rendered> {
    let classpath = java_classpath(
        &[
            [
                "velocity.jar",
                "commons-collections3.jar",
                "commons-lang.jar",
            ]
            .as_slice(),
            &JACKSON,
        ]
        .concat(),
    );
    let lines = |pairs: &[(String, String)], separator: &str| {
        pairs
            .iter()
            .map(|(name, value)| format!("{name}{separator}{value}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut input = String::new();
    for render in renders {
        let fields = [
            render.template.clone(),
            render.body.clone(),
            lines(&render.headers, ": "),
            lines(&render.query, "="),
            render.request_id.clone(),
            "1795000000123".to_owned(),
            "POST".to_owned(),
        ];
        let encoded: Vec<String> = fields.iter().map(|field| STANDARD.encode(field)).collect();
        input.push_str(&encoded.join("\t"));
        input.push('\n');
    }
    let output = piped(
        Command::new("java").args([
            "-cp",
            &classpath,
            &workspace("infra/emulator/ApiGatewayVtl.java"),
        ]),
        input,
        "Java with Velocity",
    );
    let decode = |field: &str| String::from_utf8(STANDARD.decode(field).unwrap()).unwrap();
    String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            Rendered {
                status: fields[0].parse().ok(),
                headers: decode(fields[1])
                    .lines()
                    .map(|header| {
                        let (name, value) = header.split_once(": ").unwrap();
                        (name.to_owned(), value.to_owned())
                    })
                    .collect(),
                text: decode(fields[2]),
            }
        })
        .collect()
}

/// A gateway response as the template writes it: fixed text, and headers
/// that are fixed (`'…'`) or a request header (`method.request.header.…`).
#[derive(Clone)]
struct GatewayResponse {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
}

impl GatewayResponse {
    fn answer(&self, case: &Case) -> Answer {
        let headers = merged_headers(&self.headers, &[], case);
        Answer::new(self.status, &headers, &self.body, None)
    }
}

/// A parameter mapping's value for this request: a fixed `'value'`, or a
/// request header, none when the request has no such header.
fn mapped(source: &str, case: &Case) -> Option<String> {
    if let Some(header) = source.strip_prefix("method.request.header.") {
        return case
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(header))
            .map(|(_, value)| value.clone());
    }
    let fixed = source
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("a mapping the tests do not evaluate: {source}"));
    Some(fixed.to_owned())
}

/// (name, source) of each `prefix<name>` in a mapping of response parameters.
fn response_headers(stack: &Stack, parameters: &Yaml, prefix: &str) -> Vec<(String, String)> {
    stack
        .resolve(parameters)
        .and_then(|parameters| parameters.as_mapping().cloned())
        .unwrap_or_default()
        .iter()
        .map(|(name, source)| {
            let name = name.as_str().unwrap();
            (
                name.strip_prefix(prefix)
                    .unwrap_or_else(|| panic!("{name} is not a {prefix}…"))
                    .to_owned(),
                source.as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// An integration response as the template writes it: its status, its
/// template and its fixed headers. A MOCK method (a preflight, or any other
/// method) has one.
struct Reply {
    status: u16,
    template: String,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn read(stack: &Stack, response: &Yaml) -> Self {
        Self {
            status: stack.text(&response["StatusCode"]).parse().unwrap(),
            template: stack.text(&response["ResponseTemplates"]["application/json"]),
            headers: response_headers(
                stack,
                &response["ResponseParameters"],
                "method.response.header.",
            ),
        }
    }
}

/// An integration response of the order method, chosen by SQS's status.
struct IntegrationResponse {
    pattern: regex::Regex,
    reply: Reply,
}

/// The parts of the deployed API the contract goes through, as deployed
/// in one mode.
struct Deployed {
    mode: Mode,
    stack: Stack,
    template: Yaml,
    request_template: String,
    integration_responses: Vec<IntegrationResponse>,
    preflight: Reply,
    other_methods: Reply,
    /// WAF's expressions for the listed origins (browser mode).
    origins: Option<regex::RegexSet>,
}

impl Deployed {
    fn new(mode: Mode) -> Self {
        let template = template();
        let parameters = mode.parameters();
        let parameters: Vec<(&str, &str)> = parameters
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let stack = Stack::new(&template, &parameters);
        let resource = |name: &str| &template["Resources"][name];
        let mock = |name: &str| {
            Reply::read(
                &stack,
                &resource(name)["Properties"]["Integration"]["IntegrationResponses"][0],
            )
        };
        let post = &resource("PostOrderMethod")["Properties"]["Integration"];
        let integration_responses = post["IntegrationResponses"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|response| IntegrationResponse {
                pattern: regex::Regex::new(&format!(
                    "^(?:{})$",
                    stack.text(&response["SelectionPattern"])
                ))
                .unwrap(),
                reply: Reply::read(&stack, response),
            })
            .collect();
        let origins = (mode == Mode::Browser).then(|| {
            let expressions = stack
                .resolve(&resource("CheckoutOrigins")["Properties"]["RegularExpressionList"])
                .unwrap();
            let expressions: Vec<String> = expressions
                .as_sequence()
                .unwrap()
                .iter()
                .map(|expression| stack.text(expression))
                .collect();
            regex::RegexSet::new(expressions).unwrap()
        });
        Self {
            mode,
            request_template: stack.text(&post["RequestTemplates"]["application/json"]),
            integration_responses,
            preflight: mock("OrderPreflight"),
            other_methods: mock("OtherOrderMethods"),
            origins,
            stack,
            template,
        }
    }

    fn gateway_response(&self, resource: &str) -> GatewayResponse {
        let properties = &self.template["Resources"][resource]["Properties"];
        let body = self
            .stack
            .text(&properties["ResponseTemplates"]["application/json"]);
        // Without a StatusCode (DEFAULT_4XX) the refusal keeps its own.
        let status = match &properties["StatusCode"] {
            Yaml::Null => 0,
            status => self.stack.text(status).parse().unwrap(),
        };
        GatewayResponse {
            status,
            body,
            headers: response_headers(
                &self.stack,
                &properties["ResponseParameters"],
                "gatewayresponse.header.",
            ),
        }
    }

    /// A fixed gateway response: it runs no VTL.
    fn static_gateway_response(&self, resource: &str) -> GatewayResponse {
        let response = self.gateway_response(resource);
        assert!(
            !response.body.contains('$'),
            "{resource}: gateway responses run no VTL"
        );
        response
    }

    /// The reply of the MOCK method that answers a case's method.
    fn mock_for(&self, case: &Case) -> &Reply {
        if case.method == "OPTIONS" {
            &self.preflight
        } else {
            &self.other_methods
        }
    }

    /// WAF's rule: a request with an Origin must carry a listed one.
    fn blocked_by_waf(&self, case: &Case) -> bool {
        let Some(origins) = &self.origins else {
            return false;
        };
        let origin = mapped("method.request.header.Origin", case);
        origin.is_some_and(|origin| !origin.is_empty() && !origins.is_match(&origin))
    }
}

/// Whether the request template sends each body to SQS (a JSON request,
/// no key), rather than refusing it: what the deployed API does with a body
/// its validator let through.
pub fn request_template_sends(bodies: &[String]) -> Vec<bool> {
    let template = Deployed::new(Mode::Signed).request_template;
    let renders: Vec<Render> = bodies
        .iter()
        .map(|body| Render {
            template: template.clone(),
            body: body.clone(),
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            query: Vec::new(),
            request_id: "8f7c3b2a-1d4e-4f5a-9b6c-000000000000".to_owned(),
        })
        .collect();
    velocity(&renders)
        .into_iter()
        .map(|rendered| rendered.text.starts_with("Action=SendMessage&"))
        .collect()
}

/// SQS's documented answer to what the request template asked for.
fn sqs_answer(form: &[(String, String)], unavailable: Option<u16>) -> (u16, String) {
    let action = form
        .iter()
        .find(|(name, _)| name == "Action")
        .map(|(_, value)| value.as_str());
    match (action, unavailable) {
        (_, Some(500)) => (500, r#"{"Error":{"Code":"InternalFailure","Message":"We encountered an internal error."}}"#.to_owned()),
        (_, Some(_)) => (400, r#"{"Error":{"Code":"RequestThrottled","Message":"Rate exceeded"}}"#.to_owned()),
        (Some("SendMessage"), None) => (200, r#"{"SendMessageResponse":{"SendMessageResult":{"MD5OfMessageBody":"x","MessageId":"5fea7756-0ea4-451a-a703-a558b933e274"},"ResponseMetadata":{"RequestId":"27daac76-34dd-47df-bd01-1f6e873584a0"}}}"#.to_owned()),
        (Some("GetQueueAttributes"), None) => {
            let name = form
                .iter()
                .find(|(name, _)| name == "AttributeName.1")
                .map(|(_, value)| value.as_str())
                .expect("the attribute asked for");
            let value = match name {
                "QueueArn" => "arn:aws:sqs:us-east-1:123456789012:orders",
                "CreatedTimestamp" => "1795000000",
                other => panic!("the request template asked SQS for the attribute {other:?}"),
            };
            (200, json!({"GetQueueAttributesResponse": {"GetQueueAttributesResult": {"Attributes": [{"Name": name, "Value": value}]}, "ResponseMetadata": {"RequestId": "b5293cef-b0e5-4b9c-9f4c-3c6ab1ca8e8f"}}}).to_string())
        }
        (other, None) => panic!("the request template asked SQS for {other:?}"),
    }
}

/// How API Gateway may take a request's Content-Type, choosing the mapping
/// template (and the model) by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    /// None (API Gateway takes it as `application/json`), or exactly that.
    Json,
    /// JSON with parameters or capitals: AWS does not document whether it
    /// matches the `application/json` template, so the contract must hold
    /// both ways.
    Undocumented,
    Other,
}

fn media_type(case: &Case) -> MediaType {
    let header = case
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    match header {
        None => MediaType::Json,
        Some((_, value)) if value == "application/json" => MediaType::Json,
        Some((_, value))
            if value
                .split(';')
                .next()
                .unwrap()
                .trim()
                .eq_ignore_ascii_case("application/json") =>
        {
            MediaType::Undocumented
        }
        Some(_) => MediaType::Other,
    }
}

/// A response's own headers (fixed or mapped from the request's) and
/// those its template set.
fn merged_headers<'a>(
    fixed: &'a [(String, String)],
    rendered: &'a [(String, String)],
    case: &Case,
) -> Vec<(String, String)> {
    fixed
        .iter()
        .filter_map(|(name, source)| Some((name.clone(), mapped(source, case)?)))
        .chain(rendered.iter().cloned())
        .collect()
}

fn request_id(index: usize) -> String {
    format!("8f7c3b2a-1d4e-4f5a-9b6c-{index:012}")
}

fn render_for(template: &str, body: &str, case: &Case, index: usize) -> Render {
    Render {
        template: template.to_owned(),
        body: body.to_owned(),
        headers: case.headers.clone(),
        query: case.query.clone(),
        request_id: request_id(index),
    }
}

/// Runs every case of one mode through the deployed API's parts, in the
/// order AWS takes them (WAF, the method, authorization, media type, the
/// validator, the templates); `sqs_failure` is the status SQS answers a
/// case whose queue is unavailable with.
fn deployed_answers(cases: &[&Case], mode: Mode, sqs_failure: u16) -> Vec<Answer> {
    let api = Deployed::new(mode);
    let verdicts = validator(
        &cases
            .iter()
            .map(|case| case.body.clone())
            .collect::<Vec<_>>(),
    );
    let mut answers: Vec<Option<Answer>> = vec![None; cases.len()];
    let mut mocks = Vec::new();
    let mut requests = Vec::new();
    let mut undocumented = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let refusal = if api.blocked_by_waf(case) {
            api.static_gateway_response("BlockedResponse")
        } else if case.method != "POST" {
            mocks.push(index);
            continue;
        } else if let Some(refusal) = (api.mode == Mode::Signed)
            .then(|| case.signing.deployed_refusal(&api))
            .flatten()
        {
            refusal
        } else if media_type(case) == MediaType::Other {
            api.static_gateway_response("UnsupportedMediaTypeResponse")
        } else if media_type(case) == MediaType::Undocumented && verdicts[index] != Some(true) {
            panic!(
                "{}: with this Content-Type the answer hangs on what AWS does not document \
                 (taken for JSON, the validator answers first; not taken, 415): give it a valid body",
                case.name
            )
        } else if verdicts[index] != Some(true) {
            api.static_gateway_response("InvalidBodyResponse")
        } else {
            if media_type(case) == MediaType::Undocumented {
                undocumented.push(index);
            }
            requests.push(index);
            continue;
        };
        answers[index] = Some(refusal.answer(case));
    }

    // The MOCK methods: the request template names status 200, the one
    // integration response answers.
    let rendered = velocity(
        &mocks
            .iter()
            .map(|&index| {
                render_for(
                    &api.mock_for(cases[index]).template,
                    "",
                    cases[index],
                    index,
                )
            })
            .collect::<Vec<_>>(),
    );
    for (&index, rendered) in mocks.iter().zip(rendered) {
        let case = cases[index];
        let mock = api.mock_for(case);
        let headers = merged_headers(&mock.headers, &rendered.headers, case);
        answers[index] = Some(Answer::new(
            rendered.status.unwrap_or(mock.status),
            &headers,
            &rendered.text,
            None,
        ));
    }

    let rendered = velocity(
        &requests
            .iter()
            .map(|&index| {
                render_for(
                    &api.request_template,
                    &cases[index].body,
                    cases[index],
                    index,
                )
            })
            .collect::<Vec<_>>(),
    );
    let mut responses = Vec::new();
    for (&index, rendered) in requests.iter().zip(&rendered) {
        let form: Vec<(String, String)> = serde_urlencoded::from_str(&rendered.text)
            .unwrap_or_else(|error| {
                panic!(
                    "{}: the request template's output {:?}: {error}",
                    cases[index].name, rendered.text
                )
            });
        let value = |name: &str| {
            form.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let unavailable = cases[index].queue_unavailable.then_some(sqs_failure);
        let (sqs_status, sqs_body) = sqs_answer(&form, unavailable);
        let queued = (value("Action").as_deref() == Some("SendMessage") && unavailable.is_none())
            .then(|| {
                let attribute = |name: &str| {
                    (1..=10).find_map(|n| {
                        (value(&format!("MessageAttribute.{n}.Name")).as_deref() == Some(name))
                            .then(|| value(&format!("MessageAttribute.{n}.Value.StringValue")))
                            .flatten()
                    })
                };
                Queued {
                    body: value("MessageBody").unwrap_or_default(),
                    order_id: attribute(attributes::ORDER_ID).unwrap_or_default(),
                    received_at: attribute(attributes::RECEIVED_AT),
                }
            });
        let response = api
            .integration_responses
            .iter()
            .find(|response| response.pattern.is_match(&sqs_status.to_string()))
            .unwrap_or_else(|| panic!("no integration response for SQS's {sqs_status}"));
        responses.push((index, response, sqs_body, queued));
    }
    let rendered = velocity(
        &responses
            .iter()
            .map(|(index, response, sqs_body, _)| {
                render_for(&response.reply.template, sqs_body, cases[*index], *index)
            })
            .collect::<Vec<_>>(),
    );
    for ((index, response, _, queued), rendered) in responses.into_iter().zip(rendered) {
        let case = cases[index];
        let headers = merged_headers(&response.reply.headers, &rendered.headers, case);
        answers[index] = Some(Answer::new(
            rendered.status.unwrap_or(response.reply.status),
            &headers,
            &rendered.text,
            queued,
        ));
    }
    for index in undocumented {
        let answer = answers[index].as_ref().unwrap();
        let refusal = api
            .static_gateway_response("UnsupportedMediaTypeResponse")
            .answer(cases[index]);
        assert!(
            answer.status == refusal.status
                && answer.body == refusal.body
                && answer.cors == refusal.cors
                && answer.queued.is_none(),
            "{}: API Gateway may or may not take this Content-Type for application/json (AWS does not say); \
             the templates must answer as UNSUPPORTED_MEDIA_TYPE does either way, not {answer:?}",
            cases[index].name
        );
    }
    answers.into_iter().map(Option::unwrap).collect()
}

#[test]
fn the_deployed_api_answers_every_case_of_the_contract() {
    let cases = cases();
    assert!(cases.len() >= 30);
    for mode in Mode::ALL {
        let of_mode: Vec<&Case> = cases.iter().filter(|case| case.mode == mode).collect();
        assert!(of_mode.len() >= 10, "{mode:?}: too few cases");
        for sqs_failure in [500, 400] {
            for (case, answer) in of_mode
                .iter()
                .zip(deployed_answers(&of_mode, mode, sqs_failure))
            {
                check(
                    case,
                    &answer,
                    &format!("deployed {mode:?} (SQS failing with {sqs_failure})"),
                    false,
                );
            }
        }
    }
}

// ------------------------------------------------------------ local

async fn local_stack(detail: ErrorDetail, mode: Mode) -> LocalStack {
    LocalStack::start(
        support::moto_endpoint(),
        StackOptions {
            prefix: support::unique_prefix(),
            listen: std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
            notification_email: None,
            print_emails: false,
            run_pipeline: false,
            admin_password: ADMIN_PASSWORD.to_owned(),
            session_secret: SESSION_SECRET.to_owned(),
            api_errors: detail,
            redeliver_after: None,
            shop_time_zone: chrono_tz::Tz::UTC,
            email_rate: pipeline::email_rate::EmailRate::DEFAULT,
            check_prices: false,
            order_api_auth: match mode {
                Mode::Signed => OrderApiAuth::Signed(CheckoutKey::generate()),
                Mode::Browser => OrderApiAuth::Browser(
                    AllowedOrigins::parse(&browser_origins()).expect("the contract's origins"),
                ),
            },
        },
    )
    .await
    .expect("stack starts")
}

/// Sends a case to the local API; returns what came back and what was queued.
pub async fn local_answer(stack: &LocalStack, case: &Case) -> Answer {
    let query = serde_urlencoded::to_string(&case.query).unwrap();
    let url = if query.is_empty() {
        format!("{}/orders", stack.api_url)
    } else {
        format!("{}/orders?{query}", stack.api_url)
    };
    let client = reqwest::Client::new();
    let build = |body: &str| {
        let mut request = client
            .request(case.method.parse().unwrap(), &url)
            .body(body.to_owned());
        for (name, value) in &case.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request.build().unwrap()
    };
    let mut request = build(&case.body);
    // Browser mode checks no signature; a case there may still sign.
    let browser_key = CheckoutKey::generate();
    let key = stack.checkout_key().unwrap_or(&browser_key);
    let now = std::time::SystemTime::now();
    match case.signing {
        Signing::Checkout => sign_request(&mut request, key, now),
        Signing::Unsigned => {}
        Signing::OtherKey => sign_request(&mut request, &CheckoutKey::generate(), now),
        Signing::WrongSecret => sign_request(
            &mut request,
            &CheckoutKey::new(key.access_key_id.clone(), "not the checkout's secret"),
            now,
        ),
        Signing::Expired => {
            sign_request(&mut request, key, now - std::time::Duration::from_secs(360))
        }
        Signing::TamperedBody => {
            let mut signed = build(&format!("{} ", case.body));
            sign_request(&mut signed, key, now);
            for name in ["authorization", "x-amz-date"] {
                let value = signed.headers()[name].clone();
                request.headers_mut().insert(name, value);
            }
        }
    }
    let response = client
        .execute(request)
        .await
        .expect("the local API answers");
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    let body = response.text().await.unwrap_or_default();
    let received = stack
        .clients
        .sqs
        .receive_message()
        .queue_url(&stack.resources.queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await;
    let mut messages = received
        .map(|output| output.messages.unwrap_or_default())
        .unwrap_or_default();
    assert!(messages.len() <= 1, "{}: at most one message", case.name);
    let queued = messages.pop().map(|message| {
        if let Some(receipt) = message.receipt_handle() {
            let sqs = stack.clients.sqs.clone();
            let url = stack.resources.queue_url.clone();
            let receipt = receipt.to_owned();
            tokio::spawn(async move {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(receipt)
                    .send()
                    .await
            });
        }
        let attribute = |name: &str| {
            message
                .message_attributes()
                .and_then(|attributes| attributes.get(name))
                .and_then(|value| value.string_value())
                .map(str::to_owned)
        };
        Queued {
            body: message.body().unwrap_or_default().to_owned(),
            order_id: attribute(attributes::ORDER_ID).unwrap_or_default(),
            received_at: attribute(attributes::RECEIVED_AT),
        }
    });
    Answer::new(status, &headers, &body, queued)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_api_answers_every_case_of_the_contract() {
    let cases = cases();
    for (mode, detail, field_level) in [
        (Mode::Signed, ErrorDetail::AsDeployed, false),
        (Mode::Signed, ErrorDetail::FieldLevel, true),
        (Mode::Browser, ErrorDetail::AsDeployed, false),
        (Mode::Browser, ErrorDetail::FieldLevel, true),
    ] {
        let stack = local_stack(detail, mode).await;
        let broken = local_stack(detail, mode).await;
        broken
            .clients
            .sqs
            .delete_queue()
            .queue_url(&broken.resources.queue_url)
            .send()
            .await
            .unwrap();
        for case in cases.iter().filter(|case| case.mode == mode) {
            let target = if case.queue_unavailable {
                &broken
            } else {
                &stack
            };
            let answer = local_answer(target, case).await;
            check(
                case,
                &answer,
                &format!("local {mode:?} ({detail:?})"),
                field_level,
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smoke_test_passes_against_the_local_stack() {
    let stack = support::stack(true).await;
    let output = tokio::process::Command::new("python3")
        .arg(workspace("scripts/smoke"))
        .arg(format!("{}/orders", stack.api_url))
        .arg(format!("{}/", stack.api_url))
        .env("SMOKE_EMAIL", dashboard::auth::FIRST_ADMIN)
        .env("SMOKE_PASSWORD", ADMIN_PASSWORD)
        .env("SMOKE_WAIT_SECONDS", "60")
        .env(
            local_stack::api::signature::ACCESS_KEY_ID_VAR,
            &stack.checkout_key().unwrap().access_key_id,
        )
        .env(
            local_stack::api::signature::SECRET_ACCESS_KEY_VAR,
            stack.checkout_key().unwrap().secret_access_key(),
        )
        .output()
        .await
        .expect("python3 runs scripts/smoke");
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(
        output.status.success(),
        "scripts/smoke failed:\n{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        report.contains("PASS  the order is stored and its email published"),
        "{report}"
    );
}

/// Two `Idempotency-Key` headers would name two orders; the local API
/// refuses them and queues nothing. (API Gateway's templates see one value
/// of a repeated header, and AWS does not say which: see infra/README.md.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_idempotency_keys_are_refused_and_nothing_is_queued() {
    let stack = local_stack(ErrorDetail::FieldLevel, Mode::Signed).await;
    let client = reqwest::Client::new();
    let request = client
        .post(format!("{}/orders", stack.api_url))
        .header("Idempotency-Key", "checkout-first-01")
        .header("idempotency-key", "checkout-second-02")
        .json(&support::order_body());
    let response = support::send_signed(&client, &stack, request)
        .await
        .expect("the API answers");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key", "{body}");
    assert_eq!(
        support::queue_depth(&stack, &stack.resources.queue_url).await,
        0
    );
}
