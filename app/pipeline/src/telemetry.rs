//! Logs: readable lines locally, JSON on Lambda (for CloudWatch Logs Insights).

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber; `RUST_LOG` (`info`, `pipeline=debug,warn`:
/// levels by target) overrides the default level.
pub fn init() {
    let on_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt();
    let result = if on_lambda {
        builder
            .json()
            .without_time()
            .with_current_span(false)
            .finish()
            .with(filter())
            .try_init()
    } else {
        builder
            .with_target(false)
            .compact()
            .finish()
            .with(filter())
            .try_init()
    };
    // A second call (tests) keeps the first subscriber.
    drop(result);
}

/// `RUST_LOG` read as targets and levels. tracing-subscriber's `EnvFilter` also takes
/// span and field filters, which nobody here uses, at the price of a regex
/// engine in every package.
fn filter() -> Targets {
    let default = Targets::new().with_default(Level::INFO);
    match std::env::var("RUST_LOG") {
        Ok(directives) => directives.parse().unwrap_or_else(|error| {
            eprintln!(
                "RUST_LOG={directives:?} is not a list of target=level: {error}; logging at info"
            );
            default
        }),
        Err(_) => default,
    }
}
