//! Demo orders for `cargo run -- --demo N`, posted through the order API.

use serde_json::Value;

pub use domain::sample::orders;

/// Posts `count` demo orders to the API at `api_url`; returns the order ids.
pub async fn post(api_url: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let mut ids = Vec::with_capacity(count);
    for body in orders(count) {
        let response = client
            .post(format!("{api_url}/orders"))
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        anyhow::ensure!(
            status.as_u16() == 202,
            "the API refused a demo order ({status}): {answer}"
        );
        ids.push(answer["orderId"].as_str().unwrap_or_default().to_owned());
    }
    Ok(ids)
}
