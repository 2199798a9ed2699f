//! HTTP entrypoints served by axum.

pub mod orders;
