//! The notify Lambda function: new orders from the table's stream to SNS.

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use pipeline::Notify;
use pipeline::aws::{Aws, Patience};

// One event at a time: one thread spares the wake-ups between workers.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    pipeline::telemetry::init();
    let notify = Notify::from_env(&Aws::from_env(Patience::PIPELINE).await)?;
    let notify = &notify;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(notify.handle(event.payload).await)
    }))
    .await
}
