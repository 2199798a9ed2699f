//! Where moto (5.2.5) fails on a valid template or misbehaves under it, the
//! smallest change that gets past it, each named with its reason: to the
//! copy of the transformed template moto gets (never to
//! infra/template.yaml), or to the private moto itself. The rehearsal
//! prints which it applied; each is a moto bug, not a property of AWS.

use serde_json::{Value, json};

/// What notify's `DASHBOARD_URL` holds in the rehearsal (the function URL's
/// address, which only a real deploy has).
pub const DASHBOARD_URL_STAND_IN: &str = "https://dashboard.rehearsal.invalid/";

/// One shim and where it was applied.
pub struct Shim {
    pub name: &'static str,
    pub why: &'static str,
    pub applied_to: Vec<String>,
}

/// Runs in the private moto before it serves (see `Moto::start_patched`).
///
/// "Stream mappings honour Enabled": moto 5.2.5 runs every event-source
/// mapping of a table's stream inside each write to the table, enabled or
/// not (`StreamShard.add` never reads `esm.enabled`; SQS's does), and empties
/// the shard when the invocation returns anything, which it always does
/// without Docker; so after the first write nothing could read the stream.
/// Here only enabled mappings run, as on AWS.
pub const MOTO_PATCH: &str = r#"
from moto.dynamodb.models.table import StreamShard
_add = StreamShard.add
def _add_with_enabled_mappings_only(self, old, new):
    mappings = self.table.lambda_event_source_mappings
    self.table.lambda_event_source_mappings = {arn: esm for arn, esm in mappings.items() if esm.enabled}
    try:
        _add(self, old, new)
    finally:
        self.table.lambda_event_source_mappings = mappings
StreamShard.add = _add_with_enabled_mappings_only
"#;

pub const MOTO_PATCH_NAME: &str = "stream mappings honour Enabled";
pub const MOTO_PATCH_WHY: &str = "moto runs a table's stream mappings inside every write, enabled or not, and empties the shard after";

/// The copy of `template` moto gets, and the shims that changed it.
pub fn apply(template: &Value) -> (Value, Vec<Shim>) {
    let mut copy = template.clone();
    let urls: Vec<String> = resources_of_type(&copy, "AWS::Lambda::Url");
    let mut function_url = Shim {
        name: "GetAtt of a function URL",
        why: "moto has no model of AWS::Lambda::Url: an Output that GetAtts one crashes CreateStack (AttributeError in validate_outputs), any other fails as \"references undefined resource\"",
        applied_to: Vec::new(),
    };
    replace_get_atts(&mut copy, &urls, "", &mut function_url.applied_to);

    let mut mock = Shim {
        name: "MOCK integration fields",
        why: "moto's AWS::ApiGateway::Method reads Integration.IntegrationHttpMethod and Uri unconditionally (KeyError); AWS needs neither for a MOCK",
        applied_to: Vec::new(),
    };
    for (name, resource) in copy["Resources"]
        .as_object_mut()
        .expect("resources")
        .iter_mut()
    {
        // Indexing a Value mutably inserts what is missing: only methods.
        if resource["Type"] != "AWS::ApiGateway::Method" {
            continue;
        }
        let integration = &mut resource["Properties"]["Integration"];
        if integration["Type"] == "MOCK" {
            let fields = integration.as_object_mut().expect("an integration");
            let missing =
                !fields.contains_key("IntegrationHttpMethod") || !fields.contains_key("Uri");
            fields
                .entry("IntegrationHttpMethod")
                .or_insert(json!("POST"));
            fields.entry("Uri").or_insert(json!("mock"));
            if missing {
                mock.applied_to.push(name.clone());
            }
        }
    }
    let mut numbers = Shim {
        name: "Number parameters in a Lambda environment",
        why: "moto puts a Number parameter's Ref into a function's environment as a JSON number (AWS keeps every variable a string), which no SDK can read back from GetFunctionConfiguration: the copy says Fn::Sub \"${Name}\", the same text",
        applied_to: Vec::new(),
    };
    let number_parameters: Vec<String> = copy["Parameters"]
        .as_object()
        .map(|parameters| {
            parameters
                .iter()
                .filter(|(_, spec)| spec["Type"] == "Number")
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    for function in resources_of_type(&copy, "AWS::Lambda::Function") {
        let Some(variables) =
            copy["Resources"][&function]["Properties"]["Environment"]["Variables"].as_object_mut()
        else {
            continue;
        };
        for (variable, value) in variables.iter_mut() {
            let parameter = value["Ref"]
                .as_str()
                .filter(|parameter| number_parameters.iter().any(|number| number == parameter))
                .map(str::to_owned);
            if let Some(parameter) = parameter {
                *value = json!({"Fn::Sub": format!("${{{parameter}}}")});
                numbers.applied_to.push(format!("{function}.{variable}"));
            }
        }
    }
    let shims = [function_url, mock, numbers]
        .into_iter()
        .filter(|shim| !shim.applied_to.is_empty())
        .collect();
    (copy, shims)
}

pub fn resources_of_type(template: &Value, kind: &str) -> Vec<String> {
    template["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Every `Fn::GetAtt` of one of `targets` becomes the stand-in URL; `at`
/// is where in the template `value` is.
fn replace_get_atts(value: &mut Value, targets: &[String], at: &str, applied: &mut Vec<String>) {
    let target = value
        .get("Fn::GetAtt")
        .and_then(|arguments| arguments.get(0))
        .and_then(Value::as_str)
        .filter(|name| targets.iter().any(|target| target == name));
    if target.is_some() {
        *value = json!(DASHBOARD_URL_STAND_IN);
        applied.push(at.trim_start_matches('.').to_owned());
        return;
    }
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                replace_get_atts(field, targets, &format!("{at}.{key}"), applied);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                replace_get_atts(item, targets, &format!("{at}[{index}]"), applied);
            }
        }
        _ => {}
    }
}

#[test]
fn the_shims_change_only_what_moto_fails_on() {
    let template = json!({
        "Parameters": {"Rate": {"Type": "Number"}, "Zone": {"Type": "String"}},
        "Resources": {
            "Url": {"Type": "AWS::Lambda::Url", "Properties": {}},
            "Function": {"Type": "AWS::Lambda::Function", "Properties": {
                "Environment": {"Variables": {"A": {"Fn::GetAtt": ["Url", "FunctionUrl"]}, "B": {"Fn::GetAtt": ["Table", "Arn"]},
                    "RATE": {"Ref": "Rate"}, "ZONE": {"Ref": "Zone"}}}}},
            "Mock": {"Type": "AWS::ApiGateway::Method", "Properties": {"Integration": {"Type": "MOCK"}}},
            "Aws": {"Type": "AWS::ApiGateway::Method", "Properties": {"Integration": {"Type": "AWS", "Uri": "x", "IntegrationHttpMethod": "POST"}}}
        },
        "Outputs": {"Url": {"Value": {"Fn::GetAtt": ["Url", "FunctionUrl"]}}}
    });
    let (copy, shims) = apply(&template);
    assert_eq!(copy["Outputs"]["Url"]["Value"], DASHBOARD_URL_STAND_IN);
    assert_eq!(
        copy["Resources"]["Function"]["Properties"]["Environment"]["Variables"]["B"],
        template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]["B"]
    );
    assert_eq!(copy["Resources"]["Aws"], template["Resources"]["Aws"]);
    assert_eq!(copy["Resources"]["Url"], template["Resources"]["Url"]);
    assert_eq!(
        copy["Resources"]["Mock"]["Properties"]["Integration"]["Uri"],
        "mock"
    );
    let mut replaced = shims[0].applied_to.clone();
    replaced.sort();
    assert_eq!(
        replaced,
        [
            "Outputs.Url.Value",
            "Resources.Function.Properties.Environment.Variables.A"
        ]
    );
    assert_eq!(shims[1].applied_to, ["Mock"]);
    let variables = &copy["Resources"]["Function"]["Properties"]["Environment"]["Variables"];
    assert_eq!(variables["RATE"], json!({"Fn::Sub": "${Rate}"}));
    assert_eq!(variables["ZONE"], json!({"Ref": "Zone"}));
    assert_eq!(shims[2].applied_to, ["Function.RATE"]);
}
