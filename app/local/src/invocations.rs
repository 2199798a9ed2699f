//! What the local event-source pollers record of each function they invoke,
//! for the cost benchmark's Lambda figures.

use std::sync::{Arc, Mutex};

/// How long each invocation of a function took, as Lambda would bill it.
#[derive(Debug, Clone, Default)]
pub struct InvocationLog(Arc<Mutex<Vec<std::time::Duration>>>);

impl InvocationLog {
    pub fn record(&self, took: std::time::Duration) {
        self.0.lock().expect("invocation log lock").push(took);
    }

    pub fn durations(&self) -> Vec<std::time::Duration> {
        self.0.lock().expect("invocation log lock").clone()
    }
}
