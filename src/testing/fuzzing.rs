//! The properties the fuzz targets (fuzz/) check, shared with the test that replays
//! their corpus (tests/fuzz_corpus.rs), so a regression is caught without a fuzzer.

use crate::krm::{ResourceList, Severity};
use crate::yaml::Tree;

pub use super::fuzz_doctor::check_doctor_server;
pub use super::fuzz_run::check_run_tree;

/// Runs the function on `data`: it must answer with a ResourceList; on success that
/// output must read back (through both readers, which must agree) and a second run
/// must leave its items unchanged.
pub fn check_function(data: &[u8]) {
    let first = crate::run(data);
    let Ok(out) = ResourceList::parse(&first.stdout) else {
        panic!("the output is not a ResourceList:\n{}", first.stdout);
    };
    if first.exit_code != 0 {
        assert!(out.items.is_empty(), "items on an error");
        assert!(
            first.results.iter().any(|r| r.severity == Severity::Error),
            "exit 1 without an error result"
        );
        return;
    }
    let slow = ResourceList::parse_slow(&first.stdout).expect("the slow reader reads the output");
    if let Err(e) = out.same_reading(&slow) {
        panic!("the two readers read the output apart: {e}");
    }
    let second = crate::run(first.stdout.as_bytes());
    assert_eq!(
        second.exit_code, 0,
        "the output is refused:\n{}",
        second.stderr
    );
    let items = |s: &str| {
        s.split("\nfunctionConfig:")
            .next()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        items(&first.stdout),
        items(&second.stdout),
        "not idempotent"
    );
}

/// Parses `data` as a functionConfig: a spec, or error results with field paths.
pub fn check_spec(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tree) = Tree::parse(text) else {
        return;
    };
    let Some(root) = tree.root else {
        return;
    };
    if let Err(failure) = crate::spec::parse(&tree, root, &[]) {
        for e in failure.results() {
            assert_eq!(e.severity, Severity::Error);
            assert!(e.field.is_some(), "an error without a field: {}", e.message);
        }
    }
}

/// Reads `data` as the two things `doctor` takes from outside: its first line as a
/// `Www-Authenticate` value, the rest as a docker config. Neither may panic; a
/// challenge that parses, written back canonically, parses to the same challenge.
pub fn check_doctor_input(data: &[u8]) {
    use crate::doctor::{challenge, credentials};
    let text = String::from_utf8_lossy(data);
    let (header, config) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(challenges) = challenge::parse(header) {
        let written: Vec<String> = challenges.iter().map(|c| c.to_string()).collect();
        let written = written.join(", ");
        assert_eq!(
            challenge::parse(&written).as_ref(),
            Ok(&challenges),
            "{header:?} written back as {written:?}"
        );
    }
    let _ = credentials::parse(config, std::path::Path::new("config.json"), "h:5000");
}
