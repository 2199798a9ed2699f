//! Persistence: the DynamoDB table behind the orders.

pub mod orders;
pub mod products;
pub mod sizing;

pub use orders::{Insert, OrderItem, OrderStore, StoreError};
