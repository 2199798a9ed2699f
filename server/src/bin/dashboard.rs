//! The dashboard Lambda function, behind a function URL: the same axum
//! router that `cargo run` serves locally.

use app::aws::Clients;
use app::dashboard::Dashboard;
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    app::telemetry::init();
    let dashboard = Dashboard::from_env(&Clients::from_env().await).await?;
    lambda_http::run(app::ui::router(dashboard)).await
}
