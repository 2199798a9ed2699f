//! The order schema's patterns in `java.util.regex` (API Gateway's
//! validator's engine) on 64 KiB hostile texts: the fastest of 20 runs of
//! each, after Java's warm-up. Fails when one takes longer than `BOUND` or
//! overflows Java's stack.
//!
//! `cargo bench -p local-stack --bench schema_patterns`

use std::time::Duration;

use local_stack::java_patterns::{Verdict, hostile_probes, run, schema_patterns};

/// A linear pattern scans 64 KiB in well under a millisecond once compiled;
/// a quadratic one takes seconds.
const BOUND: Duration = Duration::from_millis(50);

fn main() {
    let benchmarking = std::env::args().any(|argument| argument == "--bench");
    let patterns = schema_patterns();
    let probes = hostile_probes();
    let results = run(&patterns, &probes, if benchmarking { 20 } else { 1 });
    println!(
        "{:<58} {:<58} {:>10}",
        "pattern at", "64 KiB hostile text", "fastest"
    );
    let mut over = Vec::new();
    let pairs = patterns
        .iter()
        .flat_map(|pattern| probes.iter().map(move |probe| (pattern, probe)));
    for (((path, _), probe), (verdict, time)) in pairs.zip(&results) {
        println!(
            "{path:<58} {:<58} {:>8.3} ms",
            probe.name,
            time.as_secs_f64() * 1e3
        );
        if *verdict == Verdict::Overflows || *time > BOUND {
            over.push(format!("{path} on {}: {verdict:?} in {time:?}", probe.name));
        }
    }
    assert!(
        over.is_empty(),
        "over {BOUND:?} or overflowing:\n{}",
        over.join("\n")
    );
}
