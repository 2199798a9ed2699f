//! The ingest Lambda function: SQS batches of orders into DynamoDB.

use app::aws::Clients;
use app::pipeline::Ingest;
use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    app::telemetry::init();
    let ingest = Ingest::from_env(&Clients::from_env().await)?;
    let ingest = &ingest;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(ingest.handle(event.payload).await)
    }))
    .await
}
