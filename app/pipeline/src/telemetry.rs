//! Logs: readable lines locally, JSON on Lambda (for CloudWatch Logs Insights).

use tracing::level_filters::LevelFilter;
use tracing::{Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber; `RUST_LOG` (`info`, `pipeline=debug,warn`:
/// levels by target) overrides the default level.
pub fn init() {
    let on_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let directives = std::env::var("RUST_LOG").ok();
    // A second call (tests) keeps the first subscriber.
    drop(subscriber(directives.as_deref(), on_lambda).try_init());
}

fn subscriber(directives: Option<&str>, on_lambda: bool) -> Box<dyn Subscriber + Send + Sync> {
    // The builder's own ceiling (info) would cap RUST_LOG: only `filter` decides.
    let builder = tracing_subscriber::fmt().with_max_level(LevelFilter::TRACE);
    let filter = filter(directives);
    if on_lambda {
        Box::new(
            builder
                .json()
                .without_time()
                .with_current_span(false)
                .finish()
                .with(filter),
        )
    } else {
        Box::new(builder.with_target(false).compact().finish().with(filter))
    }
}

/// `RUST_LOG` read as targets and levels. tracing-subscriber's `EnvFilter`
/// also takes span and field filters, which nobody here uses, at the price
/// of a regex engine in every package.
fn filter(directives: Option<&str>) -> Targets {
    let default = Targets::new().with_default(Level::INFO);
    match directives {
        Some(directives) => directives.parse().unwrap_or_else(|error| {
            eprintln!(
                "RUST_LOG={directives:?} is not a list of target=level: {error}; logging at info"
            );
            default
        }),
        None => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(directives: Option<&str>, check: impl Fn() -> bool) -> [bool; 2] {
        [false, true].map(|on_lambda| {
            tracing::subscriber::with_default(subscriber(directives, on_lambda), &check)
        })
    }

    #[test]
    fn info_by_default_and_rust_log_decides_alone() {
        assert_eq!(enabled(None, || tracing::enabled!(Level::INFO)), [true; 2]);
        assert_eq!(
            enabled(None, || tracing::enabled!(Level::DEBUG)),
            [false; 2]
        );
        assert_eq!(
            enabled(Some("debug"), || tracing::enabled!(Level::DEBUG)),
            [true; 2]
        );
        assert_eq!(
            enabled(Some("trace"), || tracing::enabled!(Level::TRACE)),
            [true; 2]
        );
    }

    #[test]
    fn rust_log_sets_levels_by_target() {
        let directives = Some("pipeline=debug,warn");
        assert_eq!(
            enabled(
                directives,
                || tracing::enabled!(target: "pipeline::ingest", Level::DEBUG)
            ),
            [true; 2]
        );
        assert_eq!(
            enabled(
                directives,
                || tracing::enabled!(target: "hyper::client", Level::INFO)
            ),
            [false; 2]
        );
        assert_eq!(
            enabled(
                directives,
                || tracing::enabled!(target: "hyper::client", Level::WARN)
            ),
            [true; 2]
        );
    }

    #[test]
    fn a_malformed_rust_log_falls_back_to_info() {
        let directives = Some("pipeline=loud");
        assert_eq!(
            enabled(directives, || tracing::enabled!(Level::INFO)),
            [true; 2]
        );
        assert_eq!(
            enabled(directives, || tracing::enabled!(Level::DEBUG)),
            [false; 2]
        );
    }
}
