//! Creates one stack's resources in the emulator, with the names and settings
//! that `infra/` deploys (from `settings` and `store::orders::schema`).

use anyhow::Context;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::Clients;
use pipeline::settings::{
    DEAD_LETTER_RETENTION, MAX_RECEIVE_COUNT, QUEUE_RETENTION, QUEUE_VISIBILITY_TIMEOUT,
    ResourceNames,
};
use pipeline::store::orders::schema;

/// Addresses of a provisioned stack.
#[derive(Debug, Clone)]
pub struct Resources {
    pub names: ResourceNames,
    pub stream_arn: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub dead_letter_queue_url: String,
    pub topic_arn: String,
    pub notify_failures_queue_url: String,
}

pub async fn provision(clients: &Clients, names: ResourceNames) -> anyhow::Result<Resources> {
    let stream_arn = create_table(clients, &names.table).await?;
    let (dead_letter_queue_url, dead_letter_queue_arn) =
        create_queue(clients, &names.dead_letter_queue, dead_letter_attributes()).await?;
    let (queue_url, queue_arn) = create_queue(
        clients,
        &names.queue,
        queue_attributes(&dead_letter_queue_arn),
    )
    .await?;
    let (notify_failures_queue_url, _) = create_queue(
        clients,
        &names.notify_failures_queue,
        dead_letter_attributes(),
    )
    .await?;
    let topic_arn = clients
        .sns
        .create_topic()
        .name(&names.topic)
        .send()
        .await
        .context("creating the order topic")?
        .topic_arn
        .context("the new topic has no ARN")?;
    Ok(Resources {
        names,
        stream_arn,
        queue_url,
        queue_arn,
        dead_letter_queue_url,
        topic_arn,
        notify_failures_queue_url,
    })
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("name and type are set")
}

async fn create_table(clients: &Clients, table: &str) -> anyhow::Result<String> {
    let mut attributes = vec![schema::PARTITION_KEY, schema::SORT_KEY];
    for index in &schema::INDEXES {
        for name in [index.partition_key, index.sort_key] {
            if !attributes.contains(&name) {
                attributes.push(name);
            }
        }
    }
    let indexes = schema::INDEXES.iter().map(|index| {
        GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .key_schema(key(index.partition_key, KeyType::Hash))
            .key_schema(key(index.sort_key, KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::KeysOnly)
                    .build(),
            )
            .build()
            .expect("index is complete")
    });
    let output = clients
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes.into_iter().map(string_attribute).collect()))
        .key_schema(key(schema::PARTITION_KEY, KeyType::Hash))
        .key_schema(key(schema::SORT_KEY, KeyType::Range))
        .set_global_secondary_indexes(Some(indexes.collect()))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .expect("stream is complete"),
        )
        .send()
        .await
        .with_context(|| format!("creating table {table}"))?;
    output
        .table_description
        .and_then(|description| description.latest_stream_arn)
        .context("the new table has no stream")
}

fn dead_letter_attributes() -> Vec<(QueueAttributeName, String)> {
    vec![
        (
            QueueAttributeName::MessageRetentionPeriod,
            DEAD_LETTER_RETENTION.as_secs().to_string(),
        ),
        (QueueAttributeName::SqsManagedSseEnabled, "true".to_owned()),
    ]
}

fn queue_attributes(dead_letter_queue_arn: &str) -> Vec<(QueueAttributeName, String)> {
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_letter_queue_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    });
    vec![
        (
            QueueAttributeName::VisibilityTimeout,
            QUEUE_VISIBILITY_TIMEOUT.as_secs().to_string(),
        ),
        (
            QueueAttributeName::MessageRetentionPeriod,
            QUEUE_RETENTION.as_secs().to_string(),
        ),
        (QueueAttributeName::SqsManagedSseEnabled, "true".to_owned()),
        (QueueAttributeName::RedrivePolicy, redrive.to_string()),
    ]
}

/// Creates a queue; returns its URL and ARN.
pub async fn create_queue(
    clients: &Clients,
    name: &str,
    attributes: Vec<(QueueAttributeName, String)>,
) -> anyhow::Result<(String, String)> {
    let url = clients
        .sqs
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes.into_iter().collect()))
        .send()
        .await
        .with_context(|| format!("creating queue {name}"))?
        .queue_url
        .context("the new queue has no URL")?;
    let arn = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .with_context(|| format!("reading the ARN of queue {name}"))?
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .context("the new queue has no ARN")?;
    Ok((url, arn))
}
