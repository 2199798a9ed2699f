//! Persistence: the DynamoDB table behind the orders.

pub mod digests;
pub mod orders;

pub use digests::{DigestCounts, DigestFigures};
pub use orders::{Insert, OrderItem, OrderStore, StoreError};
