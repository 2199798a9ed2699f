//! The notify Lambda function: new orders from the table's stream to SNS.

use app::aws::Clients;
use app::pipeline::Notify;
use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    app::telemetry::init();
    let notify = Notify::from_env(&Clients::from_env().await)?;
    let notify = &notify;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(notify.handle(event.payload).await)
    }))
    .await
}
