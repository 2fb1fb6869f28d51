//! Replays the fuzzers' corpora and the inputs that once crashed them, through the
//! same checks the fuzz targets make (`harbor_buildkit_fn::testing::fuzzing`), so a
//! regression is caught by `cargo test` without a fuzzer. Every input that once
//! crashed a fuzzer, always; of the large corpora (over 10,000 files), every input
//! under `CI=true` and a fixed eighth of them for a developer's `cargo test`; of
//! `run_tree`'s, every input; of `doctor_server`'s (each starts two servers and runs
//! doctor), every input under `CI=true` and a quarter for a developer.

mod common;

use std::path::Path;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs `check` on the files of `dirs` (below fuzz/; a corpus sampled, every `every`-th
/// file unless the run is full, regressions whole); returns how many there were.
fn replay_every(dirs: &[&str], every: usize, check: fn(&[u8])) -> usize {
    let root = common::root().join("fuzz");
    let mut n = 0;
    for dir in dirs {
        let all = files(&root.join(dir));
        let files = if dir.starts_with("corpus/") {
            common::sample::every(all, every, &format!("tests/fuzz_corpus.rs: fuzz/{dir}"))
        } else {
            all
        };
        for file in files {
            // (A running fuzzer may remove a file between listing and reading.)
            let Ok(data) = std::fs::read(&file) else {
                continue;
            };
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(result.is_ok(), "{} fails the fuzz checks", file.display());
            n += 1;
        }
    }
    n
}

/// [`replay_every`] with an eighth of a large corpus.
fn replay(dirs: &[&str], check: fn(&[u8])) -> usize {
    replay_every(dirs, 8, check)
}

#[test]
fn function_corpus_and_regressions_pass_the_checks() {
    let n = replay(
        &["corpus/function", "regressions/function"],
        harbor_buildkit_fn::testing::fuzzing::check_function,
    );
    assert!(n >= 8, "the corpus is missing ({n} files)");
}

#[test]
fn spec_corpus_passes_the_checks() {
    let n = replay(
        &["corpus/spec", "regressions/spec"],
        harbor_buildkit_fn::testing::fuzzing::check_spec,
    );
    assert!(n >= 5, "the corpus is missing ({n} files)");
}

#[test]
fn doctor_corpus_passes_the_checks() {
    let n = replay(
        &["corpus/doctor", "regressions/doctor"],
        harbor_buildkit_fn::testing::fuzzing::check_doctor_input,
    );
    assert!(n >= 5, "the corpus is missing ({n} files)");
}

#[test]
fn run_tree_corpus_passes_the_checks() {
    // Each input builds a folder tree and runs `run` on it twice (milliseconds): whole.
    let n = replay_every(
        &["corpus/run_tree", "regressions/run_tree"],
        1,
        harbor_buildkit_fn::testing::fuzzing::check_run_tree,
    );
    assert!(n >= 100, "the corpus is missing ({n} files)");
}

#[test]
fn doctor_server_corpus_passes_the_checks() {
    // Each input starts two servers on 127.0.0.1 and runs doctor (a few hundred
    // milliseconds in a debug build): a quarter of them unless the run is full.
    let n = replay_every(
        &["corpus/doctor_server", "regressions/doctor_server"],
        4,
        harbor_buildkit_fn::testing::fuzzing::check_doctor_server,
    );
    assert!(n >= 10, "the corpus is missing ({n} files)");
}
