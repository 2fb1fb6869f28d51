//! What a developer's `cargo test` runs of the long checks, and what CI runs: all of
//! it under `CI=true` (or `FULL_TESTS=1`), a fixed sample otherwise, said on a
//! `SAMPLED:` line so that nobody mistakes the sample for the whole.

use super::tools::in_ci;

/// Whether this run runs every input of the long checks.
pub fn full() -> bool {
    in_ci() || std::env::var("FULL_TESTS").is_ok_and(|v| v == "1")
}

/// `items`, or every `every`-th of them (the same ones on every run) when the run is
/// not [`full`]; `what` names them for the `SAMPLED:` line.
pub fn every<T>(items: Vec<T>, every: usize, what: &str) -> Vec<T> {
    if full() || every <= 1 {
        return items;
    }
    let total = items.len();
    let kept: Vec<T> = items.into_iter().step_by(every).collect();
    note(&format!(
        "{what}: {} of {total} (CI=true or FULL_TESTS=1 runs all of them)",
        kept.len()
    ));
    kept
}

/// Prints `SAMPLED: <what>` where a default `cargo test` shows it, past libtest's
/// capture, as [`super::tools::skip`] prints its lines.
pub fn note(what: &str) {
    use std::io::Write;
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("SAMPLED: {what}\n").as_bytes());
}
