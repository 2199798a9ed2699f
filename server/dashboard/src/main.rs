//! The dashboard Lambda function, behind a function URL: the same axum
//! router that `cargo run` serves locally.

use dashboard::Dashboard;
use lambda_http::Error;
use pipeline::aws::{Patience, config_from_env};

#[tokio::main]
async fn main() -> Result<(), Error> {
    pipeline::telemetry::init();
    let dashboard = Dashboard::from_env(&config_from_env(Patience::DASHBOARD).await).await?;
    lambda_http::run(dashboard::ui::router(dashboard)).await
}
