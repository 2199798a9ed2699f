//! The intrinsic functions infra/template.yaml uses where the tests read it
//! (`Ref` to a parameter, `Sub`, `Join`, `Split`, `If`, `Equals`, `Not`,
//! `Or`, `Condition`),
//! evaluated as CloudFormation does for one set of parameter values, so the
//! tests run what a deployment with those values would hold.

use std::collections::HashMap;

use serde_yaml::Value as Yaml;
use serde_yaml::value::TaggedValue;

/// Parameter values (the template's defaults for the rest) and the
/// conditions they give.
pub struct Stack {
    parameters: HashMap<String, String>,
    conditions: HashMap<String, bool>,
}

impl Stack {
    pub fn new(template: &Yaml, given: &[(&str, &str)]) -> Self {
        let mut parameters: HashMap<String, String> = template["Parameters"]
            .as_mapping()
            .expect("parameters")
            .iter()
            .filter_map(|(name, spec)| {
                let default = match &spec["Default"] {
                    Yaml::String(text) => text.clone(),
                    Yaml::Number(number) => number.to_string(),
                    _ => return None,
                };
                Some((name.as_str()?.to_owned(), default))
            })
            .collect();
        for (name, value) in given {
            parameters.insert((*name).to_owned(), (*value).to_owned());
        }
        let mut stack = Self {
            parameters,
            conditions: HashMap::new(),
        };
        for (name, condition) in template["Conditions"].as_mapping().expect("conditions") {
            let holds = stack.resolve(condition).and_then(|value| value.as_bool());
            let name = name.as_str().expect("a name").to_owned();
            stack.conditions.insert(
                name.clone(),
                holds.unwrap_or_else(|| panic!("condition {name}")),
            );
        }
        stack
    }

    /// The value of the parameter `name`.
    pub fn parameter(&self, name: &str) -> &str {
        &self.parameters[name]
    }

    /// Whether the template's condition `name` holds.
    pub fn holds(&self, name: &str) -> bool {
        self.conditions[name]
    }

    /// The value as deployed; None where it is `AWS::NoValue`.
    pub fn resolve(&self, value: &Yaml) -> Option<Yaml> {
        match value {
            Yaml::Tagged(tagged) => self.function(tagged),
            Yaml::Mapping(map) => Some(Yaml::Mapping(
                map.iter()
                    .filter_map(|(key, value)| Some((key.clone(), self.resolve(value)?)))
                    .collect(),
            )),
            Yaml::Sequence(list) => Some(Yaml::Sequence(
                list.iter()
                    .filter_map(|value| self.resolve(value))
                    .collect(),
            )),
            other => Some(other.clone()),
        }
    }

    /// The value as deployed, as text.
    pub fn text(&self, value: &Yaml) -> String {
        match self.resolve(value) {
            Some(Yaml::String(text)) => text,
            other => panic!("not text: {value:?} gives {other:?}"),
        }
    }

    fn function(&self, tagged: &TaggedValue) -> Option<Yaml> {
        let argument = &tagged.value;
        let list = || argument.as_sequence().expect("a list of arguments");
        let text = |value: &Yaml| self.text(value);
        let tag = tagged.tag.to_string();
        Some(match tag.as_str() {
            "!Ref" => {
                let name = argument.as_str().expect("a name");
                if name == "AWS::NoValue" {
                    return None;
                }
                Yaml::String(
                    self.parameters
                        .get(name)
                        .unwrap_or_else(|| panic!("no value for parameter {name}"))
                        .clone(),
                )
            }
            "!If" => {
                let name = list()[0].as_str().expect("a condition");
                let holds = self.conditions[name];
                return self.resolve(&list()[if holds { 1 } else { 2 }]);
            }
            "!Equals" => Yaml::Bool(text(&list()[0]) == text(&list()[1])),
            "!Or" => Yaml::Bool(list().iter().any(|condition| {
                self.resolve(condition)
                    .and_then(|value| value.as_bool())
                    .expect("a condition")
            })),
            "!Condition" => {
                let name = argument.as_str().expect("a condition's name");
                Yaml::Bool(
                    *self
                        .conditions
                        .get(name)
                        .unwrap_or_else(|| panic!("condition {name} comes before its use")),
                )
            }
            "!Not" => Yaml::Bool(
                !self
                    .resolve(&list()[0])
                    .and_then(|value| value.as_bool())
                    .expect("a condition"),
            ),
            "!Join" => {
                let separator = text(&list()[0]);
                let items: Vec<String> = match self.resolve(&list()[1]) {
                    Some(Yaml::Sequence(items)) => items.iter().map(text).collect(),
                    other => panic!("Join over {other:?}"),
                };
                Yaml::String(items.join(&separator))
            }
            "!Split" => {
                let separator = text(&list()[0]);
                Yaml::Sequence(
                    text(&list()[1])
                        .split(separator.as_str())
                        .map(|part| Yaml::String(part.to_owned()))
                        .collect(),
                )
            }
            "!Sub" => {
                let (template, variables) = match argument {
                    Yaml::String(template) => (template.clone(), HashMap::new()),
                    _ => {
                        let variables = list()[1]
                            .as_mapping()
                            .expect("Sub's variables")
                            .iter()
                            .map(|(name, value)| (name.as_str().unwrap().to_owned(), text(value)))
                            .collect();
                        (text(&list()[0]), variables)
                    }
                };
                Yaml::String(self.substitute(&template, &variables))
            }
            other => panic!("the tests do not evaluate {other}"),
        })
    }

    /// `${Name}` from Sub's variables or the parameters; `${!Text}` is the
    /// literal `${Text}`.
    fn substitute(&self, template: &str, variables: &HashMap<String, String>) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("a closing brace") + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let value = variables
                    .get(name)
                    .or_else(|| self.parameters.get(name))
                    .unwrap_or_else(|| panic!("Sub names {name}, which the tests do not know"));
                out.push_str(value);
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

#[test]
fn browser_mode_becomes_anchored_origin_expressions_with_every_dot_escaped() {
    let template: Yaml = serde_yaml::from_str(
        &std::fs::read_to_string(local_stack::emulator::workspace("infra/template.yaml")).unwrap(),
    )
    .unwrap();
    let stack = Stack::new(
        &template,
        &[
            ("OrderApiAuth", "NONE"),
            (
                "OrderApiAllowedOrigins",
                "https://shop.example,http://127.0.0.1:8080",
            ),
        ],
    );
    let expressions = stack
        .resolve(&template["Resources"]["CheckoutOrigins"]["Properties"]["RegularExpressionList"])
        .unwrap();
    assert_eq!(
        expressions,
        serde_yaml::from_str::<Yaml>(
            r#"['^https://shop\.example$', '^http://127\.0\.0\.1:8080$']"#
        )
        .unwrap()
    );
}

/// Browser mode always checks prices; signed callers when the deployer asks.
#[test]
fn ingest_checks_prices_in_browser_mode_and_when_asked() {
    let template: Yaml = serde_yaml::from_str(
        &std::fs::read_to_string(local_stack::emulator::workspace("infra/template.yaml")).unwrap(),
    )
    .unwrap();
    for (parameters, expected) in [
        (vec![], "false"),
        (vec![("CheckPrices", "true")], "true"),
        (
            vec![
                ("OrderApiAuth", "NONE"),
                ("OrderApiAllowedOrigins", "https://shop.example"),
            ],
            "true",
        ),
    ] {
        let stack = Stack::new(&template, &parameters);
        for function in ["IngestFunction", "DashboardFunction"] {
            let variables =
                &template["Resources"][function]["Properties"]["Environment"]["Variables"];
            assert_eq!(
                stack.text(&variables[pipeline::settings::env::CHECK_PRICES]),
                expected,
                "{function} with {parameters:?}"
            );
        }
    }
}
