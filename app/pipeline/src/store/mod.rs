//! Persistence: the DynamoDB table behind the orders.

pub mod orders;

pub use orders::{
    Cursor, Insert, ListQuery, Listing, MAX_RANGE_DAYS, OrderItem, OrderPage, OrderStore,
    StoreError,
};
