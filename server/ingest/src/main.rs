//! The ingest Lambda function: SQS batches of orders into DynamoDB.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use pipeline::Ingest;
use pipeline::aws::{Aws, Patience};

// One event at a time: one thread spares the wake-ups between workers.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    pipeline::telemetry::init();
    let ingest = Ingest::from_env(&Aws::from_env(Patience::PIPELINE).await)?;
    let ingest = &ingest;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(ingest.handle(event.payload).await)
    }))
    .await
}
