//! The order pipeline on AWS: the table, the order queue and its dead-letter
//! queue, the topic, and the two functions (ingest, notify), written against
//! `aws_lambda_events` types so that Lambda and the local stack call the very
//! same code. No web framework, no dashboard.

pub mod aws;
pub mod email_rate;
pub mod ingest;
pub mod notify;
pub mod queue;
pub mod settings;
pub mod store;
pub mod table;
pub mod telemetry;
pub mod topic;

pub use ingest::Ingest;
pub use notify::Notify;

/// The text of a caught panic, for the log and the dead letter.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}
