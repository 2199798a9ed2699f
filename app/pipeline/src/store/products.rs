//! The catalog in the table (`CATALOG` partition, `pipeline::table::Entity::Catalog`):
//! one item per product and a version every change bumps; and, in a
//! partition of its own (`REFUSED`), a count a day of the orders ingest
//! refused for their prices.
//!
//! The catalog is one partition on purpose: the dashboard lists it with one
//! paged Query, and ingest reads it whole only when the version moved
//! (one strongly consistent GetItem of 0.5 read units a batch otherwise),
//! so a flash sale's reads never fall on the products themselves.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{DateTime, Utc};
use domain::catalog::{Catalog, Product};
use domain::values::ProductName;
use domain::{Currency, MinorUnits, Sku};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::aws::AwsError;
use crate::store::StoreError;
use crate::table::{Entity, PARTITION_KEY, SORT_KEY, query_sort_prefix};

const PRODUCT_PREFIX: &str = "PRODUCT#";
const VERSION: &str = "VERSION";
/// BatchWriteItem's most requests a call.
const BATCH_WRITE: usize = 25;

fn key(entity: Entity, sort: String) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            PARTITION_KEY.to_owned(),
            AttributeValue::S(entity.partition_prefix().to_owned()),
        ),
        (SORT_KEY.to_owned(), AttributeValue::S(sort)),
    ])
}

/// A product as it is stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductItem {
    pk: String,
    sk: String,
    sku: String,
    name: String,
    currency: String,
    unit_price: u64,
    active: bool,
    changed_at: String,
}

impl ProductItem {
    fn from_product(product: &Product, at: DateTime<Utc>) -> Self {
        Self {
            pk: Entity::Catalog.partition_prefix().to_owned(),
            sk: format!("{PRODUCT_PREFIX}{}", product.sku.as_str()),
            sku: product.sku.as_str().to_owned(),
            name: product.name.as_str().to_owned(),
            currency: product.currency.code().to_owned(),
            unit_price: product.unit_price.get(),
            active: product.active,
            changed_at: domain::order::timestamp(at),
        }
    }

    fn into_product(self) -> Result<Product, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            key: self.sk.clone(),
            reason,
        };
        Ok(Product {
            sku: Sku::parse(self.sku.clone()).map_err(|error| corrupt(error.to_string()))?,
            name: ProductName::parse(self.name.clone())
                .map_err(|error| corrupt(error.to_string()))?,
            currency: Currency::parse(&self.currency)
                .map_err(|error| corrupt(error.to_string()))?,
            unit_price: MinorUnits::unit_price(self.unit_price)
                .map_err(|error| corrupt(error.to_string()))?,
            active: self.active,
        })
    }
}

fn decode(item: HashMap<String, AttributeValue>) -> Result<Product, StoreError> {
    let item: ProductItem = serde_dynamo::from_item(item).map_err(|error| StoreError::Corrupt {
        key: Entity::Catalog.partition_prefix().to_owned(),
        reason: error.to_string(),
    })?;
    item.into_product()
}

/// The catalog's items in the orders table.
#[derive(Clone, Debug)]
pub struct ProductStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl ProductStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Every product, in SKU order.
    pub async fn list(&self) -> Result<Vec<Product>, StoreError> {
        let mut products = Vec::new();
        let mut start = None;
        loop {
            let output = query_sort_prefix(
                &self.client,
                &self.table,
                Entity::Catalog.partition_prefix(),
                PRODUCT_PREFIX,
            )
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading the catalog", error))?;
            for item in output.items.unwrap_or_default() {
                products.push(decode(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(products);
            }
        }
    }

    /// One product, by SKU (a consistent read).
    pub async fn get(&self, sku: &str) -> Result<Option<Product>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(Entity::Catalog, format!("{PRODUCT_PREFIX}{sku}"))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk(format!("reading product {sku}"), error))?;
        output.item.map(decode).transpose()
    }

    /// Adds or replaces these products (by SKU), then bumps the version.
    pub async fn put(&self, products: &[Product], at: DateTime<Utc>) -> Result<(), StoreError> {
        for chunk in products.chunks(BATCH_WRITE) {
            let mut requests = chunk
                .iter()
                .map(|product| {
                    let item = serde_dynamo::to_item(ProductItem::from_product(product, at))
                        .map_err(|error| StoreError::Corrupt {
                            key: product.sku.as_str().to_owned(),
                            reason: error.to_string(),
                        })?;
                    Ok(WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item))
                                .build()
                                .expect("an item"),
                        )
                        .build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            // What DynamoDB could not take at once is sent again.
            while !requests.is_empty() {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(|error| AwsError::from_sdk("writing products", error))?;
                requests = output
                    .unprocessed_items
                    .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        self.bump_version().await
    }

    async fn bump_version(&self) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(Entity::Catalog, VERSION.to_owned())))
            .update_expression("ADD version :one")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("bumping the catalog's version", error))?;
        Ok(())
    }

    /// The catalog's version: 0 before its first change.
    pub async fn version(&self) -> Result<u64, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(Entity::Catalog, VERSION.to_owned())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading the catalog's version", error))?;
        Ok(number(output.item.as_ref(), "version"))
    }

    /// Counts one order refused for its prices on `day` (`2026-12-04`, UTC).
    pub async fn count_refused(&self, day: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(Entity::PriceRefusals, day.to_owned())))
            .update_expression("ADD refused :one")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .send()
            .await
            .map_err(|error| {
                AwsError::from_sdk("counting an order refused for its prices", error)
            })?;
        Ok(())
    }

    /// How many orders were refused for their prices on `day` (UTC).
    pub async fn refused_on(&self, day: &str) -> Result<u64, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(Entity::PriceRefusals, day.to_owned())))
            .send()
            .await
            .map_err(|error| AwsError::from_sdk("reading the price refusals", error))?;
        Ok(number(output.item.as_ref(), "refused"))
    }
}

fn number(item: Option<&HashMap<String, AttributeValue>>, name: &str) -> u64 {
    item.and_then(|item| item.get(name))
        .and_then(|value| value.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The catalog as read at one version.
type Versioned = Option<(u64, Arc<Catalog>)>;

/// ingest's copy of the catalog, read again whenever its version moved.
#[derive(Clone, Debug)]
pub struct CatalogReader {
    store: ProductStore,
    cached: Arc<Mutex<Versioned>>,
}

impl CatalogReader {
    pub fn new(store: ProductStore) -> Self {
        Self {
            store,
            cached: Arc::new(Mutex::new(None)),
        }
    }

    pub fn store(&self) -> &ProductStore {
        &self.store
    }

    /// The catalog as it is now: one version read, and the products only
    /// when they changed since the last call.
    pub async fn current(&self) -> Result<Arc<Catalog>, StoreError> {
        let version = self.store.version().await?;
        let mut cached = self.cached.lock().await;
        if let Some((seen, catalog)) = cached.as_ref()
            && *seen == version
        {
            return Ok(Arc::clone(catalog));
        }
        let catalog = Arc::new(Catalog::new(self.store.list().await?));
        *cached = Some((version, Arc::clone(&catalog)));
        Ok(catalog)
    }
}
