//! What the benchmark examples share: printing a sample's percentiles.

use std::time::Duration;

/// Prints `what`'s count, median, p90, p99 and maximum.
pub fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{what}: n={} p50={:?} p90={:?} p99={:?} max={:?}",
        times.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        times[times.len() - 1]
    );
}
