//! The whole stack on one machine, on moto: what `cargo run` starts and what
//! the integration tests drive. Lambda's event-source mappings are played by
//! pollers that call the very handlers the Lambda binaries run.

pub mod api;
pub mod capacity;
pub mod clients;
pub mod demo;
pub mod emulator;
pub mod events;
pub mod faults;
pub mod http;
pub mod invocations;
pub mod java_patterns;
pub mod mailbox;
pub mod moto;
pub mod provision;
pub mod runtime_api;
pub mod sqs_trigger;
pub mod stack;
pub mod stream_trigger;

pub use clients::Clients;
pub use mailbox::{DeliveredEmail, Suspension};
pub use moto::Moto;
pub use provision::Resources;
pub use stack::{CallLogs, LocalStack, StackOptions};
