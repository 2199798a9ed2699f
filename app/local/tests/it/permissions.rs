//! Least privilege that works: each function's IAM role in
//! infra/template.yaml allows exactly the AWS calls its code makes (the
//! table each function declares, checked against the calls recorded while
//! every path of the function runs here), plus what Lambda itself does with
//! the role (polling the queue or the stream, writing logs).

use std::collections::BTreeSet;

use dashboard::auth::Role;
use pipeline::aws::{Aws, Call, CallLog};
use serde_yaml::Value as Yaml;

use crate::support::{admin, dead_letter, order_body, queued, sqs_event, user_with_role};

fn template() -> Yaml {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every action a role's policies allow.
fn allowed(template: &Yaml, role: &str) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for policy in template["Resources"][role]["Properties"]["Policies"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{role} has policies"))
    {
        for statement in policy["PolicyDocument"]["Statement"].as_sequence().unwrap() {
            match &statement["Action"] {
                Yaml::String(action) => {
                    actions.insert(action.clone());
                }
                Yaml::Sequence(list) => {
                    actions.extend(list.iter().map(|a| a.as_str().unwrap().to_owned()));
                }
                other => panic!("{role}: odd action {other:?}"),
            }
        }
    }
    actions
}

/// A recorded call as IAM names its action.
fn action(call: &Call) -> String {
    let service = match call.service.to_ascii_lowercase().replace(' ', "").as_str() {
        "dynamodb" => "dynamodb".to_owned(),
        "secretsmanager" => "secretsmanager".to_owned(),
        other => other.to_owned(),
    };
    // SQS's and SNS's batch operations are allowed by their single operation's action.
    let operation = match service.as_str() {
        "sqs" | "sns" => call.operation.trim_end_matches("Batch"),
        _ => call.operation.as_str(),
    };
    format!("{service}:{operation}")
}

fn actions(log: &CallLog) -> BTreeSet<String> {
    log.calls().iter().map(action).collect()
}

fn declared(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|action| (*action).to_owned()).collect()
}

/// What Lambda does with a function's role on the function's behalf.
fn platform(list: &[&str]) -> BTreeSet<String> {
    declared(list)
}

fn check(
    role: &str,
    code: &BTreeSet<String>,
    observed: &BTreeSet<String>,
    by_lambda: &BTreeSet<String>,
) {
    assert_eq!(
        observed, code,
        "{role}: the calls the code made (left) must be the ones it declares (right)"
    );
    let expected: BTreeSet<String> = code.union(by_lambda).cloned().collect();
    assert_eq!(
        allowed(&template(), role),
        expected,
        "{role}: the role must allow the declared calls and Lambda's own, and nothing else"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_allows_exactly_what_its_function_calls() {
    let stack = crate::support::priced_stack(true).await;

    // ingest: a new order, a redelivery, a poison message, an order at
    // another price than the catalog's.
    let body = order_body().to_string();
    let mut tampered = order_body();
    tampered["items"][0]["unitPrice"] = serde_json::json!(1);
    let event = sqs_event(vec![
        queued("m-1", "permission-0001", &body, None),
        queued("m-2", "permission-0001", &body, None),
        queued("m-3", "permission-0002", "not json", None),
        queued("m-4", "permission-0006", &tampered.to_string(), None),
    ]);
    stack.ingest().handle(event).await;

    // notify: every order the pipeline stores.
    crate::support::notified_order(&stack, "permission-0001").await;

    // the dashboard: every page and every action.
    let me = admin(&stack).await;
    let viewer = user_with_role(&stack, Role::Viewer).await;
    let letter = dead_letter(&stack, &body, "permission-0003", "why").await;
    for page in [
        "/",
        "/orders",
        "/orders?q=permission-00",
        "/orders?q=ana",
        "/orders?q=@example.com",
        "/orders?email=ana@example.com",
        "/orders?status=stored",
        "/orders/export.csv",
        "/orders/permission-0001",
        "/not-notified",
        "/queues",
        "/dead-letters",
        &format!("/dead-letters/{letter}"),
        &format!("/dead-letters/{letter}/body"),
        "/subscriptions",
        "/users",
        "/activity",
        "/products",
        "/products/export.csv",
    ] {
        assert_eq!(me.page(&stack, page).await.0, 200, "{page}");
    }
    me.submit(
        &stack,
        "/api/orders/resend",
        &[("ids[0]", "permission-0001")],
    )
    .await;
    // A resend request that raced the order's email: notify reads the
    // order (GetItem) and skips it.
    dashboard::orders::Orders::new(stack.orders())
        .request_email(
            &domain::OrderId::parse("permission-0001").unwrap(),
            "a race",
        )
        .await
        .unwrap();
    crate::support::eventually(
        "notify to read the resend request",
        crate::support::PIPELINE,
        || async {
            actions(&stack.calls.notify)
                .contains("dynamodb:GetItem")
                .then_some(())
        },
    )
    .await;
    me.submit(
        &stack,
        "/api/dead-letters/edit",
        &[("message_id", &letter), ("body", &body), ("check", "true")],
    )
    .await;
    me.submit(
        &stack,
        "/api/dead-letters/edit",
        &[("message_id", &letter), ("body", &body)],
    )
    .await;
    me.submit(
        &stack,
        "/api/subscriptions/add",
        &[("email", "perm@example.com")],
    )
    .await;
    let arn = crate::support::subscription_arn(&stack, "perm@example.com").await;
    me.submit(
        &stack,
        "/api/subscriptions/filter",
        &[
            ("arn", &arn),
            ("minimums[0][currency]", "USD"),
            ("minimums[0][amount]", "10"),
        ],
    )
    .await;
    me.submit(&stack, "/api/subscriptions/test", &[]).await;
    me.submit(&stack, "/api/subscriptions/remove", &[("arn", &arn)])
        .await;
    me.submit(
        &stack,
        "/api/users/add",
        &[
            ("email", "p@example.com"),
            ("role", "viewer"),
            ("password", "a-long-password"),
        ],
    )
    .await;
    me.submit(
        &stack,
        "/api/users/role",
        &[("email", "viewer@example.com"), ("role", "operator")],
    )
    .await;
    me.submit(
        &stack,
        "/api/users/password",
        &[("email", "p@example.com"), ("password", "another-long-one")],
    )
    .await;
    me.submit(
        &stack,
        "/api/users/disabled",
        &[("email", "p@example.com"), ("disabled", "true")],
    )
    .await;
    let (_, html) = me.page(&stack, "/dead-letters").await;
    let id = html
        .split("value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|value| value.len() == 36)
        .expect("a dead letter's id")
        .to_owned();
    me.submit(&stack, "/api/dead-letters/delete", &[("ids[0]", &id)])
        .await;
    dead_letter(&stack, &body, "permission-0004", "why").await;
    dead_letter(&stack, &body, "permission-0005", "why").await;
    me.submit(
        &stack,
        "/api/dead-letters/redrive",
        &[
            ("scope", "reason"),
            ("reason", "why"),
            ("skip_failing", "true"),
        ],
    )
    .await;
    me.submit(
        &stack,
        "/api/dead-letters/redrive",
        &[("scope", "all"), ("skip_failing", "true")],
    )
    .await;
    me.submit(
        &stack,
        "/api/products/save",
        &[
            ("sku", "NEW-1"),
            ("name", "New thing"),
            ("currency", "USD"),
            ("unit_price", "1.50"),
            ("active", "true"),
        ],
    )
    .await;
    me.submit(
        &stack,
        "/api/products/active",
        &[("sku", "NEW-1"), ("active", "false")],
    )
    .await;
    me.submit(
        &stack,
        "/api/products/import",
        &[(
            "csv",
            "sku,name,currency,unit price,active\nNEW-2,Other thing,USD,2.00,yes\n",
        )],
    )
    .await;
    me.post(&stack, "/api/logout", &[]).await;
    let _ = viewer;
    let secrets = pipeline::aws_client!(
        aws_sdk_secretsmanager,
        &Aws::recording(stack.clients.config.clone(), stack.calls.dashboard.clone())
    );
    let secret = stack
        .clients
        .secrets
        .create_secret()
        .name(format!("{}-perm", crate::support::unique_prefix()))
        .secret_string("x".repeat(40))
        .send()
        .await
        .unwrap();
    dashboard::read_secret(&secrets, secret.arn().unwrap())
        .await
        .unwrap();

    let logs = ["logs:CreateLogStream", "logs:PutLogEvents"];
    check(
        "IngestRole",
        &declared(pipeline::ingest::AWS_CALLS),
        &actions(&stack.calls.ingest),
        &platform(
            &[
                &logs[..],
                &[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                ],
            ]
            .concat(),
        ),
    );
    check(
        "NotifyRole",
        &declared(pipeline::notify::AWS_CALLS),
        &actions(&stack.calls.notify),
        &platform(
            &[
                &logs[..],
                &[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                    "sqs:SendMessage",
                ],
            ]
            .concat(),
        ),
    );
    check(
        "DashboardRole",
        &declared(dashboard::AWS_CALLS),
        &actions(&stack.calls.dashboard),
        &platform(&logs),
    );
    // API Gateway's integration: what its request template asks SQS for
    // (the contract test runs it); the local API plays SendMessage.
    assert!(actions(&stack.calls.order_api).is_subset(&declared(&["sqs:SendMessage"])));
    assert_eq!(
        allowed(&template(), "ApiGatewayRole"),
        declared(&["sqs:SendMessage", "sqs:GetQueueAttributes"])
    );
}

/// A role's policy statements, and the `dynamodb:LeadingKeys` patterns of
/// the one named `sid`.
fn leading_keys(role: &str, sid: &str) -> (Vec<Yaml>, BTreeSet<String>) {
    let template = template();
    let statements =
        template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap()
            .clone();
    let statement = statements
        .iter()
        .find(|statement| statement["Sid"] == sid)
        .unwrap_or_else(|| panic!("{role} has a statement {sid}"));
    let keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|key| key.as_str().unwrap().to_owned())
        .collect();
    (statements, keys)
}

fn patterns(entities: &[pipeline::table::Entity]) -> BTreeSet<String> {
    entities
        .iter()
        .map(|entity| entity.leading_key_pattern().to_owned())
        .collect()
}

#[test]
fn ingest_reads_and_writes_only_orders_and_the_catalog() {
    let (_, keys) = leading_keys("IngestRole", "StoreOrders");
    assert_eq!(keys, patterns(&pipeline::table::INGEST_WRITES));
    let (statements, keys) = leading_keys("IngestRole", "ReadCatalog");
    assert_eq!(keys, patterns(&[pipeline::table::Entity::Catalog]));
    let (_, keys) = leading_keys("IngestRole", "CountPriceRefusals");
    assert_eq!(keys, patterns(&[pipeline::table::Entity::PriceRefusals]));
    // Ingest reads the catalog and cannot change it.
    let read = statements
        .iter()
        .find(|statement| statement["Sid"] == "ReadCatalog")
        .unwrap();
    assert_eq!(
        read["Action"],
        serde_yaml::from_str::<Yaml>("[dynamodb:GetItem, dynamodb:Query]").unwrap()
    );
}

/// Lambda may assume a function's role only for this account's functions;
/// API Gateway's roles are left without (the template says why).
#[test]
fn lambda_roles_trust_only_this_accounts_functions() {
    let template = template();
    for role in ["IngestRole", "NotifyRole", "DashboardRole"] {
        let trust =
            &template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(
            trust["Principal"]["Service"], "lambda.amazonaws.com",
            "{role}"
        );
        assert_eq!(
            trust["Condition"]["StringEquals"]["aws:SourceAccount"],
            serde_yaml::from_str::<Yaml>("!Ref AWS::AccountId").unwrap(),
            "{role}"
        );
    }
}

#[test]
fn notify_reads_and_writes_only_orders_and_the_email_schedule() {
    let (_, keys) = leading_keys("NotifyRole", "ReadAndMarkOrders");
    assert_eq!(keys, patterns(&pipeline::table::NOTIFY_WRITES));
}

#[test]
fn the_dashboard_writes_only_its_own_kinds_of_item() {
    let (statements, keys) = leading_keys("DashboardRole", "WriteOwnItems");
    assert_eq!(keys, patterns(&pipeline::table::DASHBOARD_WRITES));
    for statement in &statements {
        let actions = format!("{:?}", statement["Action"]);
        if actions.contains("PutItem")
            || actions.contains("UpdateItem")
            || actions.contains("DeleteItem")
        {
            assert_eq!(
                statement["Sid"], "WriteOwnItems",
                "every table write is limited to the dashboard's keys"
            );
        }
        if actions.contains("sns:Subscribe") {
            assert_eq!(
                statement["Condition"]["StringEquals"]["sns:Protocol"],
                "email"
            );
        }
    }
}
