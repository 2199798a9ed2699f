//! The shop's own rules, free of AWS: what an order is and what makes one valid.

pub mod catalog;
pub mod digest;
pub mod notification;
pub mod order;
pub mod request;
pub mod sample;
pub mod search;
pub mod text;
pub mod values;

pub use notification::OrderEmail;
pub use order::{Notified, Order, OrderId, OrderStatus};
pub use request::{Customer, FieldError, LineItem, OrderRequest, Rejected, ShippingAddress};
pub use values::{Currency, Email, MinorUnits, Quantity, Sku};
