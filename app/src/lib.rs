//! The order backbone of the shop: domain, AWS-backed services, the pipeline
//! functions, the order API and the local stack that runs it all on moto.

pub mod api;
pub mod auth;
pub mod aws;
pub mod dashboard;
pub mod domain;
pub mod local;
pub mod pipeline;
pub mod queue;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod topic;
pub mod ui;
