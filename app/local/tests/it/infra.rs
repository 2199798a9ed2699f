//! What `infra/template.yaml` deploys must match what the code expects: the
//! order schema, every environment variable each function reads, and the
//! settings the local stack provisions with.

use pipeline::queue::attributes;
use pipeline::settings::{self, env};
use pipeline::store::orders::schema;
use serde_yaml::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("the template"))
        .expect("the template is YAML")
}

fn resource<'t>(template: &'t Value, name: &str) -> &'t Value {
    let resource = &template["Resources"][name];
    assert!(!resource.is_null(), "the template has no resource {name}");
    &resource["Properties"]
}

fn number(value: &Value) -> u64 {
    match value {
        Value::Number(n) => n.as_u64().expect("a whole number"),
        Value::String(s) => s.parse().expect("a number"),
        other => panic!("not a number: {other:?}"),
    }
}

fn to_json(value: &Value) -> serde_json::Value {
    serde_json::to_value(value).expect("plain data")
}

#[test]
fn the_api_model_is_the_order_schema() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/schemas/order-request.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let template = template();
    assert_eq!(
        to_json(&resource(&template, "OrderModel")["Schema"]),
        schema
    );
}

#[test]
fn the_api_queues_what_ingest_reads() {
    let template = template();
    let request = resource(&template, "PostOrderMethod")["Integration"]["RequestTemplates"]["application/json"]
        .as_str()
        .unwrap()
        .to_owned();
    for attribute in [attributes::ORDER_ID, attributes::RECEIVED_AT] {
        assert!(
            request.contains(&format!("Name={attribute}&")),
            "the integration sets {attribute}"
        );
    }
    assert!(request.contains("65536"), "bodies over 64 KiB are refused");
    assert!(
        request.contains("{8,64}"),
        "the Idempotency-Key rule of OrderId"
    );
}

#[test]
fn every_variable_a_function_reads_is_set() {
    let template = template();
    for (function, names) in [
        ("IngestFunction", env::INGEST.as_slice()),
        ("IngestFunction", env::INGEST_OPTIONAL.as_slice()),
        ("NotifyFunction", env::NOTIFY.as_slice()),
        ("NotifyFunction", env::NOTIFY_OPTIONAL.as_slice()),
        ("DashboardFunction", env::DASHBOARD.as_slice()),
        ("DashboardFunction", env::DASHBOARD_AUTH.as_slice()),
        ("DashboardFunction", env::DASHBOARD_OPTIONAL.as_slice()),
    ] {
        let variables = &resource(&template, function)["Environment"]["Variables"];
        for name in names {
            assert!(
                !variables[*name].is_null(),
                "{function} reads {name} but the template does not set it"
            );
        }
    }
}

#[test]
fn queues_match_the_local_stack() {
    let template = template();
    let queue = resource(&template, "OrderQueue");
    assert_eq!(
        number(&queue["VisibilityTimeout"]),
        settings::QUEUE_VISIBILITY_TIMEOUT.as_secs()
    );
    assert_eq!(
        number(&queue["MessageRetentionPeriod"]),
        settings::QUEUE_RETENTION.as_secs()
    );
    assert_eq!(
        number(&queue["RedrivePolicy"]["maxReceiveCount"]),
        u64::from(settings::MAX_RECEIVE_COUNT)
    );
    let dead = resource(&template, "DeadLetterQueue");
    assert_eq!(
        number(&dead["MessageRetentionPeriod"]),
        settings::DEAD_LETTER_RETENTION.as_secs()
    );

    let ingest = resource(&template, "IngestFunction");
    assert_eq!(
        number(&ingest["Timeout"]),
        settings::INGEST_TIMEOUT.as_secs()
    );
    assert!(
        settings::QUEUE_VISIBILITY_TIMEOUT >= settings::INGEST_TIMEOUT * 6,
        "AWS advises a visibility timeout of six times the function timeout"
    );
    let source = &ingest["Events"]["Orders"]["Properties"];
    assert_eq!(
        number(&source["BatchSize"]),
        settings::INGEST_BATCH_SIZE as u64
    );
    assert_eq!(
        source["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
}

#[test]
fn the_email_rate_is_set_as_the_code_allows_it() {
    use pipeline::email_rate::EmailRate;
    let template = template();
    let parameter = &template["Parameters"]["OrderEmailsPerSecond"];
    assert_eq!(
        number(&parameter["Default"]),
        u64::from(EmailRate::DEFAULT.per_second())
    );
    assert_eq!(number(&parameter["MinValue"]), 1);
    assert_eq!(
        number(&parameter["MaxValue"]),
        u64::from(EmailRate::SNS_EMAIL_LIMIT)
    );
    let notify = resource(&template, "NotifyFunction");
    assert!(
        number(&notify["Timeout"]) >= pipeline::notify::DIGEST_WITHIN.as_secs() * 2,
        "notify outlives a digest's longest wait for its slot, with room for its marks"
    );
    let alarm = resource(&template, "OrderEmailFailuresAlarm");
    assert_eq!(alarm["MetricName"], "NumberOfNotificationsFailed");
}

/// CloudFormation refuses what the local API refuses as browser mode's
/// origins (`ORDER_API_ALLOWED_ORIGINS`), and the CORS the local API gives
/// is the template's.
#[test]
fn browser_mode_takes_the_origins_the_local_api_takes() {
    use local_stack::api::browser::{AllowedOrigins, MOST_ORIGINS, PREFLIGHT_MAX_AGE};
    let template = template();
    let parameter = &template["Parameters"]["OrderApiAllowedOrigins"];
    let pattern = regex::Regex::new(parameter["AllowedPattern"].as_str().unwrap()).unwrap();
    let eleven = ["https://shop.example"; MOST_ORIGINS + 1].join(",");
    let ten = ["https://shop.example"; MOST_ORIGINS].join(",");
    for origins in [
        "https://shop.example",
        "https://shop.example,https://www.shop.example",
        "http://127.0.0.1:8080",
        "https://a-b.c-d.example:443",
        &ten,
        &eleven,
        "*",
        "https://*.shop.example",
        "https://shop.example/",
        "https://shop.example/checkout",
        "https://Shop.example",
        "shop.example",
        "https://shop.example, https://www.shop.example",
        "https://shop.example,",
        ",https://shop.example",
        "https://shop..example",
        "https://.shop.example",
        "https://shop.example:",
        "https://shop.example:123456",
        "https://[::1]",
        "ftp://shop.example",
        "null",
        "https://shop.example\n",
        "https://shop.example$",
    ] {
        assert_eq!(
            AllowedOrigins::parse(origins).is_ok(),
            pattern.is_match(origins),
            "{origins:?}: the template and the local API disagree"
        );
    }
    // Empty is the template's default (signed callers); its rule then
    // requires origins in browser mode, as the local API does.
    assert!(pattern.is_match(""));
    assert!(AllowedOrigins::parse("").is_err());
    let rule = &template["Rules"]["BrowserModeNamesItsOrigins"];
    assert!(to_json(&rule["RuleCondition"]).to_string().contains("NONE"));
    let preflight = serde_yaml::to_string(&resource(&template, "OrderPreflight")).unwrap();
    assert!(
        preflight.contains(&format!(
            "Access-Control-Max-Age = \"{}\"",
            PREFLIGHT_MAX_AGE.as_secs()
        )),
        "the preflight's expiry is the local API's"
    );
}

#[test]
fn the_stream_matches_the_local_stack() {
    let template = template();
    let source = &resource(&template, "NotifyFunction")["Events"]["NewOrders"]["Properties"];
    assert_eq!(
        number(&source["BatchSize"]),
        settings::NOTIFY_BATCH_SIZE as u64
    );
    assert_eq!(
        number(&source["MaximumRetryAttempts"]),
        u64::from(settings::NOTIFY_MAX_RETRY_ATTEMPTS)
    );
    assert_eq!(source["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(
        source["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
}

#[test]
fn the_table_matches_the_local_stack() {
    let template = template();
    let table = resource(&template, "OrdersTable");
    assert_eq!(table["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    let keys: Vec<(String, String)> = table["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (schema::PARTITION_KEY.to_owned(), "HASH".to_owned()),
            (schema::SORT_KEY.to_owned(), "RANGE".to_owned())
        ]
    );
    let indexes = table["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(indexes.len(), schema::INDEXES.len());
    for expected in &schema::INDEXES {
        let index = indexes
            .iter()
            .find(|index| index["IndexName"] == expected.name)
            .unwrap_or_else(|| panic!("the template has no index {}", expected.name));
        assert_eq!(
            index["KeySchema"][0]["AttributeName"], expected.partition_key,
            "{}",
            expected.name
        );
        assert_eq!(
            index["KeySchema"][1]["AttributeName"], expected.sort_key,
            "{}",
            expected.name
        );
        assert_eq!(
            index["Projection"]["ProjectionType"], "KEYS_ONLY",
            "{}",
            expected.name
        );
    }
}

#[test]
fn no_role_allows_every_action() {
    let template = template();
    let text = serde_yaml::to_string(&template["Resources"]).unwrap();
    assert!(
        !text.contains("Action: '*'") && !text.contains("Action: \"*\""),
        "no wildcard actions"
    );
    for line in text
        .lines()
        .filter(|line| line.contains(":*'") || line.trim_end().ends_with(":*"))
    {
        assert!(
            !line.contains("Action"),
            "no service-wide wildcard actions: {line}"
        );
    }
}

/// The template as CloudFormation deploys it: AWS's SAM translator
/// (`infra/transform.py`, with the pinned `aws-sam-translator` that
/// scripts/check installs and names in `SAM_PYTHON`), or None to skip where
/// it is not installed (never under CI).
fn transformed() -> Option<serde_json::Value> {
    transformed_from(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/template.yaml"
    )))
}

/// [`transformed`] of the SAM template at `source`.
pub fn transformed_from(source: &std::path::Path) -> Option<serde_json::Value> {
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = std::env::var_os("SAM_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::fs::read_dir(format!("{workspace}/.venv"))
                .ok()?
                .filter_map(Result::ok)
                .map(|entry| entry.path().join("bin/python"))
                .find(|python| {
                    python.is_file()
                        && python
                            .parent()
                            .and_then(|bin| bin.parent())
                            .and_then(|venv| venv.file_name())
                            .is_some_and(|name| name.to_string_lossy().starts_with("sam-"))
                })
        });
    let Some(python) = python else {
        assert!(
            std::env::var_os("CI").is_none(),
            "aws-sam-translator is not installed (scripts/check installs it)"
        );
        eprintln!("skipping the SAM transform: scripts/check installs aws-sam-translator");
        return None;
    };
    let output = std::process::Command::new(python)
        .arg(format!("{workspace}/infra/transform.py"))
        .arg(source)
        .output()
        .expect("the SAM transform runs");
    assert!(
        output.status.success(),
        "the SAM transform failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("the transform prints JSON"))
}

/// What the transform generates and the code relies on: the two event
/// source mappings as the pipeline's settings say, the dashboard's public
/// function URL with both permissions a public URL needs, each function on
/// its own role and log group; no resource left to SAM, no role of its own.
#[test]
fn the_sam_transform_gives_what_the_code_relies_on() {
    use serde_json::json;
    let Some(template) = transformed() else {
        return;
    };
    let resources = template["Resources"].as_object().unwrap();
    let of_type = |kind: &str| -> Vec<(&String, &serde_json::Value)> {
        resources
            .iter()
            .filter(|(_, resource)| resource["Type"] == kind)
            .map(|(name, resource)| (name, &resource["Properties"]))
            .collect()
    };
    assert!(
        resources.values().all(|resource| !resource["Type"]
            .as_str()
            .unwrap()
            .starts_with("AWS::Serverless")),
        "the transform leaves no SAM resource"
    );

    let mappings = of_type("AWS::Lambda::EventSourceMapping");
    assert_eq!(mappings.len(), 2, "ingest's queue and notify's stream");
    let mapping = |function: &str| {
        mappings
            .iter()
            .find(|(_, mapping)| mapping["FunctionName"] == json!({"Ref": function}))
            .unwrap_or_else(|| panic!("{function} has an event source mapping"))
            .1
    };
    let ingest = mapping("IngestFunction");
    assert_eq!(
        ingest["EventSourceArn"],
        json!({"Fn::GetAtt": ["OrderQueue", "Arn"]})
    );
    assert_eq!(ingest["BatchSize"], settings::INGEST_BATCH_SIZE);
    assert_eq!(ingest["MaximumBatchingWindowInSeconds"], 1);
    assert_eq!(
        ingest["ScalingConfig"]["MaximumConcurrency"],
        json!({"Ref": "IngestMaximumConcurrency"})
    );
    assert_eq!(
        ingest["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    let notify = mapping("NotifyFunction");
    assert_eq!(
        notify["EventSourceArn"],
        json!({"Fn::GetAtt": ["OrdersTable", "StreamArn"]})
    );
    assert_eq!(notify["BatchSize"], settings::NOTIFY_BATCH_SIZE);
    assert_eq!(
        notify["MaximumRetryAttempts"],
        settings::NOTIFY_MAX_RETRY_ATTEMPTS
    );
    assert_eq!(notify["BisectBatchOnFunctionError"], true);
    assert_eq!(
        notify["DestinationConfig"]["OnFailure"]["Destination"],
        json!({"Fn::GetAtt": ["NotifyFailureQueue", "Arn"]})
    );
    assert_eq!(
        notify["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    let pattern: serde_json::Value = serde_json::from_str(
        notify["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pattern, json!({"eventName": ["INSERT"]}));

    let urls = of_type("AWS::Lambda::Url");
    assert_eq!(urls.len(), 1);
    assert_eq!(
        urls[0].1["TargetFunctionArn"],
        json!({"Ref": "DashboardFunction"})
    );
    assert_eq!(urls[0].1["AuthType"], "NONE");
    let permissions: Vec<(String, serde_json::Value)> = of_type("AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, permission)| permission["FunctionName"] == json!({"Ref": "DashboardFunction"}))
        .map(|(_, permission)| {
            (
                permission["Action"].as_str().unwrap().to_owned(),
                permission.clone(),
            )
        })
        .collect();
    let public = |action: &str| {
        &permissions
            .iter()
            .find(|(name, _)| name == action)
            .unwrap_or_else(|| panic!("the dashboard's URL needs {action} for everyone"))
            .1
    };
    assert_eq!(
        public("lambda:InvokeFunctionUrl")["FunctionUrlAuthType"],
        "NONE"
    );
    assert_eq!(
        public("lambda:InvokeFunction")["InvokedViaFunctionUrl"],
        true
    );
    assert_eq!(public("lambda:InvokeFunction")["Principal"], "*");

    for (function, role, logs) in [
        ("IngestFunction", "IngestRole", "IngestLogs"),
        ("NotifyFunction", "NotifyRole", "NotifyLogs"),
        ("DashboardFunction", "DashboardRole", "DashboardLogs"),
    ] {
        let properties = &resources[function]["Properties"];
        assert_eq!(resources[function]["Type"], "AWS::Lambda::Function");
        assert_eq!(
            properties["Role"],
            json!({"Fn::GetAtt": [role, "Arn"]}),
            "{function}"
        );
        assert_eq!(
            properties["LoggingConfig"]["LogGroup"],
            json!({"Ref": logs}),
            "{function}"
        );
        assert_eq!(properties["Runtime"], "provided.al2023", "{function}");
        assert_eq!(properties["Handler"], "bootstrap", "{function}");
        assert_eq!(
            properties["Code"],
            json!({"S3Bucket": "sam-packages", "S3Key": format!("{function}.zip")}),
            "{function}: CodeUri as sam package uploads it"
        );
    }
    // In name order (the JSON map's).
    let roles: Vec<&String> = of_type("AWS::IAM::Role")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        roles,
        [
            "ApiGatewayCloudWatchRole",
            "ApiGatewayRole",
            "DashboardRole",
            "IngestRole",
            "NotifyRole"
        ],
        "SAM made no role of its own"
    );
}

#[test]
fn the_capacity_model_plays_the_templates_defaults() {
    use local_stack::capacity::{Behaviour, Setting};
    let template = template();
    let default = |name: &str| {
        template["Parameters"][name]["Default"]
            .as_f64()
            .unwrap_or_else(|| panic!("parameter {name} has a numeric default"))
    };
    let defaults = Setting::DEFAULTS;
    assert_eq!(default("ApiRateLimit"), defaults.api_rate);
    assert_eq!(default("ApiBurstLimit"), defaults.api_burst);
    assert_eq!(
        default("IngestMaximumConcurrency"),
        defaults.ingest_concurrency
    );
    assert_eq!(default("OrderEmailsPerSecond"), defaults.emails_per_second);
    assert_eq!(
        Behaviour::MEASURED.batch,
        f64::from(settings::INGEST_BATCH_SIZE)
    );
}
