//! The deploy rehearsed: the template as AWS's SAM transform makes it,
//! created through CloudFormation on a private moto with the real Lambda
//! packages in its S3, every resource checked through its own service's
//! API (or listed as not modelled by moto), then the packaged functions run
//! under the Runtime API emulator with exactly the environment and timeout
//! the stack gives them: an order through the API's own request template is
//! stored, emailed and shown on the dashboard; a poison message ends in the
//! stack's dead-letter queue with its reason.
//!
//! It needs the packages: scripts/check runs it after `cargo lambda build`
//! with `REHEARSAL_PACKAGES=target/packages`. `REHEARSAL_TEMPLATE` rehearses
//! another template (a SAM template, or an already transformed `.json`).

mod inventory;
mod run;
mod shims;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use local_stack::{Clients, Moto};
use pipeline::aws::Patience;
use serde_json::Value;

/// Where `infra/transform.py` says `sam package` put each function's code.
const BUCKET: &str = "sam-packages";
/// As infra/samconfig.toml names it.
const STACK_NAME: &str = "shop-orders";

/// What the deployer would give `sam deploy` (infra/samconfig.toml says
/// which are theirs to choose); x86_64 because that is what is built here.
pub const PARAMETERS: [(&str, &str); 5] = [
    ("NotificationEmail", "orders@example.com"),
    ("OpsEmail", "ops@example.com"),
    ("DashboardAdminEmail", "admin@example.com"),
    ("DashboardAdminPassword", crate::support::ADMIN_PASSWORD),
    ("Architecture", "x86_64"),
];

/// Every AWS client the rehearsal uses, on its private moto.
pub struct Aws {
    pub endpoint: String,
    pub clients: Clients,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigateway: aws_sdk_apigateway::Client,
}

impl Aws {
    fn new(endpoint: &str) -> Self {
        let clients = Clients::for_endpoint(endpoint, Patience::DASHBOARD);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&clients.config)
                .force_path_style(true)
                .build(),
        );
        Self {
            endpoint: endpoint.to_owned(),
            cloudformation: aws_sdk_cloudformation::Client::new(&clients.config),
            lambda: aws_sdk_lambda::Client::new(&clients.config),
            apigateway: aws_sdk_apigateway::Client::new(&clients.config),
            s3,
            clients,
        }
    }
}

/// A resource of the transformed template as the stack holds it.
pub struct StackResource {
    pub kind: String,
    /// None where moto created nothing for it.
    pub physical_id: Option<String>,
}

/// The created stack, read back through CloudFormation.
pub struct Stack {
    /// Every resource of the transformed template, by logical id.
    pub resources: BTreeMap<String, StackResource>,
    /// The template as transformed (before the shims), for what it says.
    pub template: Value,
    /// The conditions for [`PARAMETERS`], evaluated as CloudFormation does.
    pub conditions: crate::cfn::Stack,
}

impl Stack {
    pub fn physical(&self, logical: &str) -> &str {
        self.resources
            .get(logical)
            .and_then(|resource| resource.physical_id.as_deref())
            .unwrap_or_else(|| panic!("the stack has no {logical}"))
    }

    pub fn properties(&self, logical: &str) -> &Value {
        &self.template["Resources"][logical]["Properties"]
    }

    /// The logical ids of the template's resources of `kind`.
    pub fn of_type(&self, kind: &str) -> Vec<&str> {
        self.resources
            .iter()
            .filter(|(_, resource)| resource.kind == kind)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// The package `cargo lambda build` made for a function (`IngestFunction`
/// is `<packages>/ingest/bootstrap.zip`).
pub fn package_of(packages: &Path, function: &str) -> PathBuf {
    let name = function
        .strip_suffix("Function")
        .unwrap_or(function)
        .to_lowercase();
    packages.join(name).join("bootstrap.zip")
}

fn template_to_rehearse() -> (Value, crate::cfn::Stack) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let source = std::env::var_os("REHEARSAL_TEMPLATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("infra/template.yaml"));
    // Conditions come from the SAM source: a transformed copy keeps its names.
    let sam_source = if source.extension().is_some_and(|ext| ext == "json") {
        workspace.join("infra/template.yaml")
    } else {
        source.clone()
    };
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&sam_source).expect("the SAM template"))
            .expect("YAML");
    let conditions = crate::cfn::Stack::new(&yaml, &PARAMETERS);
    let transformed = if source.extension().is_some_and(|ext| ext == "json") {
        serde_json::from_str(&std::fs::read_to_string(&source).expect("the template"))
            .expect("JSON")
    } else {
        crate::infra::transformed_from(&source)
            .expect("aws-sam-translator is installed (scripts/check installs it)")
    };
    (transformed, conditions)
}

/// Uploads the packages and the template as `sam deploy` does, creates the
/// stack and reads it back.
async fn deploy(aws: &Aws, deployable: &Value, packages: &Path) {
    aws.s3
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("the packages' bucket");
    for function in shims::resources_of_type(deployable, "AWS::Lambda::Function") {
        let code = &deployable["Resources"][&function]["Properties"]["Code"];
        assert_eq!(
            code["S3Bucket"], BUCKET,
            "{function}'s code is in the packages' bucket"
        );
        let package = package_of(packages, &function);
        let bytes = std::fs::read(&package).unwrap_or_else(|error| {
            panic!(
                "{}: {error} (cargo lambda build makes it)",
                package.display()
            )
        });
        aws.s3
            .put_object()
            .bucket(BUCKET)
            .key(code["S3Key"].as_str().expect("an S3 key"))
            .body(bytes.into())
            .send()
            .await
            .expect("a package uploaded");
    }
    // Over CreateStack's 51,200-byte TemplateBody limit, as sam deploy
    // does: the template goes to S3 and CloudFormation reads it from there.
    aws.s3
        .put_object()
        .bucket(BUCKET)
        .key("template.json")
        .body(serde_json::to_vec(deployable).unwrap().into())
        .send()
        .await
        .expect("the template uploaded");
    let created = aws
        .cloudformation
        .create_stack()
        .stack_name(STACK_NAME)
        .template_url(format!("https://{BUCKET}.s3.amazonaws.com/template.json"))
        .set_parameters(Some(
            PARAMETERS
                .iter()
                .map(|(key, value)| {
                    Parameter::builder()
                        .parameter_key(*key)
                        .parameter_value(*value)
                        .build()
                })
                .collect(),
        ))
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityAutoExpand)
        .send()
        .await;
    if let Err(error) = created {
        panic!(
            "CloudFormation did not create the stack: {}",
            aws_sdk_cloudformation::error::DisplayErrorContext(&error)
        );
    }
    let mut status = None;
    for _ in 0..60 {
        let stacks = aws
            .cloudformation
            .describe_stacks()
            .stack_name(STACK_NAME)
            .send()
            .await
            .expect("the stack");
        let stack = &stacks.stacks()[0];
        status = stack.stack_status().cloned();
        if status != Some(StackStatus::CreateInProgress) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        status,
        Some(StackStatus::CreateComplete),
        "the stack is created"
    );
}

async fn read_stack(aws: &Aws, transformed: Value, conditions: crate::cfn::Stack) -> Stack {
    let mut physical = BTreeMap::new();
    let mut token = None;
    loop {
        let page = aws
            .cloudformation
            .list_stack_resources()
            .stack_name(STACK_NAME)
            .set_next_token(token)
            .send()
            .await
            .expect("the stack's resources");
        for summary in page.stack_resource_summaries() {
            // moto lists what it has no model of with an empty logical id.
            let logical = summary.logical_resource_id().unwrap_or_default();
            if !logical.is_empty() {
                physical.insert(
                    logical.to_owned(),
                    summary
                        .physical_resource_id()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let resources = transformed["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .map(|(name, resource)| {
            (
                name.clone(),
                StackResource {
                    kind: resource["Type"].as_str().expect("a type").to_owned(),
                    physical_id: physical.get(name).cloned(),
                },
            )
        })
        .collect();
    Stack {
        resources,
        template: transformed,
        conditions,
    }
}

/// Before any traffic: the stack's event-source mappings would run the
/// functions inside moto (in Docker, or failing without it); the rehearsal
/// plays them instead, as `run` shows.
async fn disable_event_source_mappings(aws: &Aws) -> usize {
    let mappings = aws
        .lambda
        .list_event_source_mappings()
        .send()
        .await
        .expect("the event-source mappings");
    for mapping in mappings.event_source_mappings() {
        aws.lambda
            .update_event_source_mapping()
            .uuid(mapping.uuid().unwrap_or_default())
            .enabled(false)
            .send()
            .await
            .expect("a mapping disabled");
    }
    mappings.event_source_mappings().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deploy_is_rehearsed_on_a_private_moto() {
    let Some(packages) = std::env::var_os("REHEARSAL_PACKAGES").map(PathBuf::from) else {
        eprintln!(
            "skipping the rehearsal: it runs the Lambda packages; scripts/check builds them and sets REHEARSAL_PACKAGES"
        );
        return;
    };
    let samconfig = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/samconfig.toml"
    ))
    .expect("infra/samconfig.toml");
    assert!(
        samconfig.contains(&format!("stack_name = \"{STACK_NAME}\"")),
        "the rehearsal deploys the stack samconfig.toml names"
    );
    let (transformed, conditions) = template_to_rehearse();
    let (deployable, shims) = shims::apply(&transformed);
    let moto = Moto::start_patched(shims::MOTO_PATCH).expect("a private moto starts");
    let aws = Aws::new(moto.endpoint());
    deploy(&aws, &deployable, &packages).await;
    let disabled = disable_event_source_mappings(&aws).await;
    let stack = read_stack(&aws, transformed, conditions).await;

    println!("\nShims (moto bugs worked around, never a change to the template):");
    println!(
        "  - {}: {} (the private moto)",
        shims::MOTO_PATCH_NAME,
        shims::MOTO_PATCH_WHY
    );
    for shim in &shims {
        println!(
            "  - {}: {} ({})",
            shim.name,
            shim.why,
            shim.applied_to.join(", ")
        );
    }
    println!("Event-source mappings disabled before any traffic: {disabled}\n");

    let rows = inventory::check(&aws, &stack, &packages).await;
    println!("{}", inventory::table(&rows));
    let problems: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            row.problems
                .iter()
                .map(move |problem| format!("{}: {problem}", row.name))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "the stack lacks what the code needs:\n  {}",
        problems.join("\n  ")
    );

    run::end_to_end(&aws, &stack, &packages).await;
}
