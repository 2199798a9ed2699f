//! Every resource of the transformed template: created and checked through
//! its own service's API for what the code depends on, or listed as not
//! modelled by moto (what only a real deploy checks), or not in this stack
//! (its condition is false for these parameters). None silently: a created
//! resource of a type this file has no check for is a problem.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aws_sdk_sqs::types::QueueAttributeName;
use pipeline::settings::{self, env};
use pipeline::store::orders::schema;
use serde_json::{Value, json};

use super::{Aws, Stack, package_of, shims};

pub enum State {
    Created,
    NotModelled,
    /// Its condition is false for the rehearsal's parameters.
    NotInStack(String),
}

pub struct Row {
    pub name: String,
    pub kind: String,
    pub state: State,
    /// What was read back and matched.
    pub checked: Vec<String>,
    /// What the template sets that moto keeps no trace of.
    pub not_modelled: Vec<String>,
    /// What the code needs and the stack lacks.
    pub problems: Vec<String>,
}

impl Row {
    fn new(name: &str, kind: &str, state: State) -> Self {
        Self {
            name: name.to_owned(),
            kind: kind.to_owned(),
            state,
            checked: Vec::new(),
            not_modelled: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Records `what` as checked if `actual` is `expected`, else a problem.
    fn expect<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, actual: T, expected: T) {
        if actual == expected {
            self.checked.push(what.to_owned());
        } else {
            self.problems
                .push(format!("{what} is {actual:?}, the code needs {expected:?}"));
        }
    }
}

/// What each function reads from its environment (pipeline::settings::env).
fn variables_of(function: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    match function {
        "IngestFunction" => (env::INGEST.to_vec(), env::INGEST_OPTIONAL.to_vec()),
        "NotifyFunction" => (env::NOTIFY.to_vec(), env::NOTIFY_OPTIONAL.to_vec()),
        "DashboardFunction" => (
            [env::DASHBOARD.as_slice(), &env::DASHBOARD_AUTH].concat(),
            env::DASHBOARD_OPTIONAL.to_vec(),
        ),
        other => panic!("no function {other} in the code: add what it reads here"),
    }
}

/// The stack resource a variable must point at, if it names one.
fn resource_behind(variable: &str) -> Option<&'static str> {
    Some(match variable {
        env::ORDERS_TABLE => "OrdersTable",
        env::ORDER_QUEUE_URL => "OrderQueue",
        env::DEAD_LETTER_QUEUE_URL => "DeadLetterQueue",
        env::ORDER_TOPIC_ARN => "OrderTopic",
        env::SESSION_SECRET_ARN => "SessionSecret",
        env::ADMIN_PASSWORD_SECRET_ARN => "AdminPasswordSecret",
        _ => return None,
    })
}

pub async fn check(aws: &Aws, stack: &Stack, packages: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for (name, resource) in &stack.resources {
        let condition = stack.template["Resources"][name]["Condition"].as_str();
        let state = match (&resource.physical_id, condition) {
            (Some(_), _) => State::Created,
            (None, Some(condition)) if !stack.conditions.holds(condition) => {
                State::NotInStack(condition.to_owned())
            }
            (None, _) => State::NotModelled,
        };
        let mut row = Row::new(name, &resource.kind, state);
        if matches!(row.state, State::Created) {
            check_resource(aws, stack, packages, &mut row).await;
        } else if matches!(row.state, State::NotModelled) {
            not_modelled(&mut row);
        }
        rows.push(row);
    }
    rows
}

/// What the rehearsal does where moto made nothing.
fn not_modelled(row: &mut Row) {
    let instead = match row.kind.as_str() {
        "AWS::SecretsManager::Secret" => {
            "the rehearsal creates it through Secrets Manager, as CloudFormation would"
        }
        "AWS::Lambda::Url" => "the rehearsal calls the function with function-URL events",
        "AWS::ApiGateway::Model"
        | "AWS::ApiGateway::RequestValidator"
        | "AWS::ApiGateway::GatewayResponse" => {
            "the contract test runs it (the Ajv validator, the gateway responses)"
        }
        _ => "only a real deploy checks it",
    };
    row.not_modelled.push(instead.to_owned());
}

async fn check_resource(aws: &Aws, stack: &Stack, packages: &Path, row: &mut Row) {
    let physical = stack.physical(&row.name).to_owned();
    match row.kind.as_str() {
        "AWS::DynamoDB::Table" => orders_table(aws, &physical, row).await,
        "AWS::SQS::Queue" => queue(aws, stack, &physical, row).await,
        "AWS::SNS::Topic" => {
            let attributes = aws
                .clients
                .sns
                .get_topic_attributes()
                .topic_arn(&physical)
                .send()
                .await;
            row.expect("exists (GetTopicAttributes)", attributes.is_ok(), true);
        }
        "AWS::Lambda::Function" => function(aws, stack, packages, &physical, row).await,
        "AWS::Lambda::EventSourceMapping" => mapping(aws, stack, &physical, row).await,
        "AWS::Lambda::Permission" => permission(aws, stack, row).await,
        "AWS::IAM::Role" => {
            let users: Vec<&str> = stack
                .of_type("AWS::Lambda::Function")
                .into_iter()
                .filter(|function| {
                    stack.properties(function)["Role"] == json!({"Fn::GetAtt": [row.name, "Arn"]})
                })
                .collect();
            if users.is_empty() {
                row.checked.push("created".to_owned());
            } else {
                row.checked
                    .push(format!("the role of {} (checked there)", users.join(", ")));
            }
            row.not_modelled
                .push("its policies: moto does not enforce IAM".to_owned());
        }
        "AWS::IAM::ManagedPolicy" => {
            row.checked.push("created".to_owned());
            row.not_modelled
                .push("its statements: moto does not enforce IAM".to_owned());
        }
        "AWS::Logs::LogGroup" => {
            let named = &stack.properties(&row.name)["LogGroupName"];
            if named.is_null() {
                row.checked.push("created".to_owned());
            } else {
                row.checked.push(format!("created as {physical}"));
            }
        }
        "AWS::ApiGateway::RestApi" => {
            let api = aws
                .apigateway
                .get_rest_api()
                .rest_api_id(&physical)
                .send()
                .await;
            row.expect("exists (GetRestApi)", api.is_ok(), true);
        }
        "AWS::ApiGateway::Resource" => {
            let api = stack.physical("OrderApi");
            let resource = aws
                .apigateway
                .get_resource()
                .rest_api_id(api)
                .resource_id(&physical)
                .send()
                .await
                .expect("the resource");
            row.expect("path", resource.path(), Some("/orders"));
        }
        "AWS::ApiGateway::Method" => method(aws, stack, row).await,
        "AWS::ApiGateway::Deployment" => {
            row.checked.push("created".to_owned());
            row.not_modelled
                .push("its stage (AWS::ApiGateway::Stage is not modelled)".to_owned());
        }
        other => row.problems.push(format!(
            "the rehearsal has no check for {other}: add one to rehearsal/inventory.rs"
        )),
    }
}

async fn orders_table(aws: &Aws, name: &str, row: &mut Row) {
    let described = aws
        .clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .expect("the table");
    let table = described.table().expect("a table");
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|key| {
            (
                key.attribute_name().to_owned(),
                key.key_type().as_str().to_owned(),
            )
        })
        .collect();
    row.expect(
        "key schema",
        keys,
        vec![
            (schema::PARTITION_KEY.to_owned(), "HASH".to_owned()),
            (schema::SORT_KEY.to_owned(), "RANGE".to_owned()),
        ],
    );
    let indexes: BTreeMap<String, Vec<String>> = table
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            (
                index.index_name().unwrap_or_default().to_owned(),
                index
                    .key_schema()
                    .iter()
                    .map(|key| key.attribute_name().to_owned())
                    .collect(),
            )
        })
        .collect();
    for index in schema::INDEXES {
        row.expect(
            &format!("index {}", index.name),
            indexes.get(index.name).cloned(),
            Some(vec![
                index.partition_key.to_owned(),
                index.sort_key.to_owned(),
            ]),
        );
    }
    row.expect(
        "stream view",
        table
            .stream_specification()
            .and_then(|stream| stream.stream_view_type())
            .map(|view| view.as_str().to_owned()),
        Some("NEW_IMAGE".to_owned()),
    );
    let ttl = aws
        .clients
        .dynamodb
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .expect("the table's TTL");
    let ttl = ttl.time_to_live_description();
    let enabled = ttl
        .and_then(|ttl| ttl.time_to_live_status())
        .map(|status| status.as_str());
    if enabled == Some("ENABLED") {
        row.expect(
            "TTL attribute",
            ttl.and_then(|ttl| ttl.attribute_name()),
            Some(pipeline::table::EXPIRES_AT),
        );
    } else {
        row.not_modelled.push(format!(
            "TTL on {} (moto drops TimeToLiveSpecification)",
            pipeline::table::EXPIRES_AT
        ));
    }
    row.not_modelled.push("point-in-time recovery".to_owned());
}

async fn queue(aws: &Aws, stack: &Stack, url: &str, row: &mut Row) {
    let attributes = queue_attributes(aws, url).await;
    let number = |name: QueueAttributeName| -> Option<u64> {
        attributes.get(&name).and_then(|value| value.parse().ok())
    };
    let seconds = |duration: std::time::Duration| Some(duration.as_secs());
    match row.name.as_str() {
        "OrderQueue" => {
            row.expect(
                "visibility timeout",
                number(QueueAttributeName::VisibilityTimeout),
                seconds(settings::QUEUE_VISIBILITY_TIMEOUT),
            );
            row.expect(
                "retention",
                number(QueueAttributeName::MessageRetentionPeriod),
                seconds(settings::QUEUE_RETENTION),
            );
            let redrive: Option<Value> = attributes
                .get(&QueueAttributeName::RedrivePolicy)
                .and_then(|policy| serde_json::from_str(policy).ok());
            let dead_letters = queue_arn(aws, stack.physical("DeadLetterQueue")).await;
            row.expect(
                "redrive to DeadLetterQueue",
                redrive
                    .as_ref()
                    .and_then(|policy| policy["deadLetterTargetArn"].as_str()),
                Some(dead_letters.as_str()),
            );
            row.expect(
                "maxReceiveCount",
                redrive.as_ref().and_then(|policy| {
                    policy["maxReceiveCount"]
                        .as_u64()
                        .or_else(|| policy["maxReceiveCount"].as_str()?.parse().ok())
                }),
                Some(u64::from(settings::MAX_RECEIVE_COUNT)),
            );
        }
        "DeadLetterQueue" => row.expect(
            "retention",
            number(QueueAttributeName::MessageRetentionPeriod),
            seconds(settings::DEAD_LETTER_RETENTION),
        ),
        _ => row.expect(
            "exists (GetQueueAttributes)",
            attributes.contains_key(&QueueAttributeName::QueueArn),
            true,
        ),
    }
}

/// Every attribute of the queue at `url`.
pub async fn queue_attributes(aws: &Aws, url: &str) -> HashMap<QueueAttributeName, String> {
    aws.clients
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("the queue's attributes")
        .attributes()
        .cloned()
        .unwrap_or_default()
}

pub async fn queue_arn(aws: &Aws, url: &str) -> String {
    queue_attributes(aws, url)
        .await
        .remove(&QueueAttributeName::QueueArn)
        .expect("an ARN")
}

/// The stream of the table `name`.
pub async fn stream_arn(aws: &Aws, name: &str) -> String {
    aws.clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .expect("the table")
        .table()
        .and_then(|table| table.latest_stream_arn())
        .expect("a stream")
        .to_owned()
}

async fn function(aws: &Aws, stack: &Stack, packages: &Path, name: &str, row: &mut Row) {
    let function = aws
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .expect("the function");
    let configuration = function.configuration().expect("its configuration");
    let properties = stack.properties(&row.name);
    row.expect(
        "runtime",
        configuration.runtime().map(|runtime| runtime.as_str()),
        Some("provided.al2023"),
    );
    row.expect("handler", configuration.handler(), Some("bootstrap"));
    row.expect(
        "architecture",
        configuration
            .architectures()
            .iter()
            .map(|architecture| architecture.as_str())
            .collect::<Vec<_>>(),
        vec!["x86_64"],
    );
    row.expect(
        "timeout",
        configuration.timeout().map(i64::from),
        properties["Timeout"].as_i64(),
    );
    if row.name == "IngestFunction" {
        row.expect(
            "timeout as the queue expects",
            configuration.timeout().map(|seconds| seconds as u64),
            Some(settings::INGEST_TIMEOUT.as_secs()),
        );
    }
    row.expect(
        "memory",
        configuration.memory_size().map(i64::from),
        properties["MemorySize"].as_i64(),
    );
    let package = std::fs::metadata(package_of(packages, &row.name))
        .map(|metadata| metadata.len() as i64)
        .ok();
    row.expect(
        "code is the package",
        Some(configuration.code_size()),
        package,
    );
    let role = stack.properties(&row.name)["Role"]["Fn::GetAtt"][0]
        .as_str()
        .map(|role| format!("arn:aws:iam::123456789012:role/{}", stack.physical(role)));
    row.expect("role", configuration.role().map(str::to_owned), role);

    let variables = configuration
        .environment()
        .and_then(|environment| environment.variables())
        .cloned()
        .unwrap_or_default();
    let (required, optional) = variables_of(&row.name);
    for variable in required.iter().chain(&optional) {
        let behind = resource_behind(variable);
        let modelled =
            behind.is_none_or(|resource| stack.resources[resource].physical_id.is_some());
        match (variables.get(*variable), behind) {
            (None, Some(resource)) if !modelled => row.not_modelled.push(format!(
                "{variable} (its {resource} is not modelled; the rehearsal sets it)"
            )),
            (None, _) if required.contains(variable) => {
                row.problems
                    .push(format!("{variable} is not set: the function cannot start"));
            }
            (None, _) => {}
            (Some(value), Some(resource)) => {
                let expected = stack.physical(resource);
                row.expect(
                    &format!("{variable} = {resource}"),
                    value.as_str(),
                    expected,
                );
            }
            (Some(value), None) if value == shims::DASHBOARD_URL_STAND_IN => {
                row.not_modelled
                    .push(format!("{variable} (the function URL's address)"));
            }
            (Some(_), None) => row.checked.push(format!("{variable} set")),
        }
    }
    if configuration.logging_config().is_none() {
        row.not_modelled
            .push("LoggingConfig (JSON logs to its log group)".to_owned());
    }
    if stack
        .of_type("AWS::Lambda::Url")
        .iter()
        .any(|url| stack.properties(url)["TargetFunctionArn"] == json!({"Ref": row.name}))
    {
        public_url_permissions(aws, name, row).await;
    }
}

/// A public function URL (AuthType NONE) answers only with both statements:
/// lambda:InvokeFunctionUrl for everyone with that auth type, and, since
/// October 2025, lambda:InvokeFunction for everyone through the URL.
async fn public_url_permissions(aws: &Aws, function: &str, row: &mut Row) {
    let statements = policy_statements(aws, function).await;
    let has = |action: &str, condition: (&str, Value)| {
        statements.iter().any(|statement| {
            statement["Action"] == action
                && statement["Principal"] == "*"
                && statement[condition.0] == condition.1
        })
    };
    row.expect(
        "public URL: lambda:InvokeFunctionUrl (auth NONE)",
        has(
            "lambda:InvokeFunctionUrl",
            ("FunctionUrlAuthType", json!("NONE")),
        ),
        true,
    );
    row.expect(
        "public URL: lambda:InvokeFunction via the URL",
        has(
            "lambda:InvokeFunction",
            ("InvokedViaFunctionUrl", json!(true)),
        ),
        true,
    );
}

async fn policy_statements(aws: &Aws, function: &str) -> Vec<Value> {
    let Ok(policy) = aws.lambda.get_policy().function_name(function).send().await else {
        return Vec::new();
    };
    let policy: Value = serde_json::from_str(policy.policy().unwrap_or("{}")).expect("a policy");
    policy["Statement"].as_array().cloned().unwrap_or_default()
}

async fn permission(aws: &Aws, stack: &Stack, row: &mut Row) {
    let properties = stack.properties(&row.name);
    let function = properties["FunctionName"]["Ref"]
        .as_str()
        .map(|function| stack.physical(function).to_owned())
        .expect("a permission of a function of the stack");
    let statements = policy_statements(aws, &function).await;
    let found = statements.iter().any(|statement| {
        statement["Action"] == properties["Action"]
            && statement["Principal"] == properties["Principal"]
    });
    row.expect(
        &format!(
            "{} for {} in the function's policy",
            properties["Action"], properties["Principal"]
        ),
        found,
        true,
    );
}

async fn mapping(aws: &Aws, stack: &Stack, uuid: &str, row: &mut Row) {
    let mapping = aws
        .lambda
        .get_event_source_mapping()
        .uuid(uuid)
        .send()
        .await
        .expect("the mapping");
    let properties = stack.properties(&row.name).clone();
    let function = properties["FunctionName"]["Ref"]
        .as_str()
        .expect("a function");
    row.expect(
        "function",
        mapping.function_arn().map(str::to_owned),
        Some(format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            stack.physical(function)
        )),
    );
    let source = properties["EventSourceArn"]["Fn::GetAtt"].clone();
    let (resource, attribute) = (
        source[0].as_str().unwrap_or_default(),
        source[1].as_str().unwrap_or_default(),
    );
    let expected_source = match attribute {
        "Arn" => queue_arn(aws, stack.physical(resource)).await,
        "StreamArn" => stream_arn(aws, stack.physical(resource)).await,
        other => panic!("a mapping of {other}"),
    };
    row.expect(
        &format!("source {resource}"),
        mapping.event_source_arn(),
        Some(expected_source.as_str()),
    );
    let (batch_size, retries) = if attribute == "Arn" {
        (settings::INGEST_BATCH_SIZE as i64, None)
    } else {
        (
            settings::NOTIFY_BATCH_SIZE as i64,
            Some(i64::from(settings::NOTIFY_MAX_RETRY_ATTEMPTS)),
        )
    };
    row.expect(
        "batch size",
        mapping.batch_size().map(i64::from),
        Some(batch_size),
    );
    row.expect(
        "ReportBatchItemFailures",
        mapping
            .function_response_types()
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>(),
        vec!["ReportBatchItemFailures"],
    );
    row.expect(
        "batching window",
        mapping.maximum_batching_window_in_seconds().map(i64::from),
        properties["MaximumBatchingWindowInSeconds"].as_i64(),
    );
    if !properties["ScalingConfig"].is_null() {
        let parameter = properties["ScalingConfig"]["MaximumConcurrency"]["Ref"]
            .as_str()
            .expect("MaximumConcurrency from a parameter");
        let expected = stack
            .conditions
            .parameter(parameter)
            .parse::<i32>()
            .expect("a number");
        row.expect(
            "MaximumConcurrency",
            mapping
                .scaling_config()
                .and_then(|scaling| scaling.maximum_concurrency()),
            Some(expected),
        );
    }
    if let Some(retries) = retries {
        row.expect(
            "retries",
            mapping.maximum_retry_attempts().map(i64::from),
            Some(retries),
        );
        row.expect(
            "bisect on error",
            mapping.bisect_batch_on_function_error(),
            Some(true),
        );
        row.expect(
            "starting position",
            mapping
                .starting_position()
                .map(|position| position.as_str()),
            properties["StartingPosition"].as_str(),
        );
        let filters: Vec<Value> = mapping
            .filter_criteria()
            .map(|criteria| {
                criteria
                    .filters()
                    .iter()
                    .filter_map(|filter| serde_json::from_str(filter.pattern()?).ok())
                    .collect()
            })
            .unwrap_or_default();
        row.expect(
            "filter: inserts only",
            filters,
            vec![json!({"eventName": ["INSERT"]})],
        );
        let failures = queue_arn(aws, stack.physical("NotifyFailureQueue")).await;
        row.expect(
            "on failure: NotifyFailureQueue",
            mapping
                .destination_config()
                .and_then(|config| config.on_failure())
                .and_then(|on_failure| on_failure.destination()),
            Some(failures.as_str()),
        );
        if mapping.maximum_record_age_in_seconds().is_none() {
            row.not_modelled
                .push("MaximumRecordAgeInSeconds".to_owned());
        }
    }
    row.checked.push("disabled by the rehearsal".to_owned());
}

async fn method(aws: &Aws, stack: &Stack, row: &mut Row) {
    let properties = stack.properties(&row.name);
    let http_method = properties["HttpMethod"].as_str().expect("a method");
    let method = aws
        .apigateway
        .get_method()
        .rest_api_id(stack.physical("OrderApi"))
        .resource_id(stack.physical("OrdersResource"))
        .http_method(http_method)
        .send()
        .await
        .expect("the method");
    let integration = method.method_integration();
    if http_method == "POST" {
        row.expect(
            "authorization",
            method.authorization_type(),
            Some("AWS_IAM"),
        );
        row.expect(
            "integration",
            integration
                .and_then(|integration| integration.r#type())
                .map(|kind| kind.as_str()),
            Some("AWS"),
        );
        let queue_url = stack.physical("OrderQueue");
        let queue_name = queue_url.rsplit('/').next().unwrap_or_default();
        row.expect(
            "sends to OrderQueue",
            integration
                .and_then(|integration| integration.uri())
                .map(str::to_owned),
            Some(format!(
                "arn:aws:apigateway:us-east-1:sqs:path/123456789012/{queue_name}"
            )),
        );
        row.not_modelled.push(
            "request template, credentials, integration responses (the contract test runs them; the rehearsal sends what the template renders)".to_owned(),
        );
    } else {
        row.expect(
            "integration",
            integration
                .and_then(|integration| integration.r#type())
                .map(|kind| kind.as_str()),
            Some("MOCK"),
        );
        row.not_modelled
            .push("its templates (the contract test runs them)".to_owned());
    }
}

/// The table the rehearsal prints.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| resource | type | created or not | properties checked | not modelled by moto (only a real deploy checks) |\n|---|---|---|---|---|\n",
    );
    for row in rows {
        let state = match &row.state {
            State::Created if row.problems.is_empty() => "created".to_owned(),
            State::Created => format!("created, LACKS: {}", row.problems.join("; ")),
            State::NotModelled => "not modelled by moto".to_owned(),
            State::NotInStack(condition) => format!("not in this stack ({condition} is false)"),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            row.name,
            row.kind,
            state,
            row.checked.join(", "),
            row.not_modelled.join(", ")
        ));
    }
    out
}
