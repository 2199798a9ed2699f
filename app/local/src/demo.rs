//! Demo orders for `cargo run -- --demo N`, posted through the order API.

use serde_json::Value;

use crate::LocalStack;

pub use domain::sample::orders;

/// Posts `count` demo orders to the stack's API, signed as the checkout
/// signs them; returns the order ids.
pub async fn post(stack: &LocalStack, count: usize) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let mut ids = Vec::with_capacity(count);
    for body in orders(count) {
        let mut request = client
            .post(format!("{}/orders", stack.api_url))
            .json(&body)
            .build()?;
        stack.sign(&mut request);
        let response = client.execute(request).await?;
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
