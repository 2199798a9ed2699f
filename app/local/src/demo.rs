//! Demo orders for `cargo run -- --demo N`, posted through the order API,
//! and the sample catalog they are priced from.

use serde_json::Value;

use crate::LocalStack;

pub use domain::sample::orders;

/// Puts the sample products (those the demo orders are made of) in an
/// empty catalog; returns how many products the catalog has.
pub async fn seed_catalog(stack: &LocalStack) -> anyhow::Result<usize> {
    let store = stack.products();
    let existing = store.list().await?;
    if !existing.is_empty() {
        return Ok(existing.len());
    }
    let products = domain::sample::products();
    store.put(&products, chrono::Utc::now()).await?;
    Ok(products.len())
}

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
