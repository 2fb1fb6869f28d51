//! The benchmark's inputs and script stay usable: the generator writes what the README
//! says (kustomize-shaped lists, ~2.9 MB for 10,000 items) and the fast reader takes it.

mod common;

use std::process::Command;

use common::{required_tool, root};

#[test]
fn generator_writes_kustomize_shaped_lists() {
    let Some(python) = required_tool("python3") else {
        return;
    };
    let dir = generated(&python);
    let ten_k = std::fs::read_to_string(dir.join("items-10000.yaml")).expect("items-10000");
    let mb = ten_k.len() as f64 / 1e6;
    assert!((2.5..3.5).contains(&mb), "10,000 items are {mb:.1} MB");
    let rl = harbor_buildkit_fn::testing::ResourceList::parse_fast(&ten_k)
        .expect("the fast reader applies");
    // 10,000 ConfigMaps and the BuildKit daemon (a Deployment and its Service).
    assert_eq!(rl.len(), 10_002);
    let harbor = std::fs::read_to_string(dir.join("harbor-1000.yaml")).expect("harbor-1000");
    let run = harbor_buildkit_fn::run(harbor.as_bytes());
    assert_eq!(run.exit_code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("CORE_URL: \"http://harbor-core.default.svc.cluster.local\"")
    );
    // The checks' worst case: every Task is read by the DOCKER_CONFIG check, and all
    // map config.json, so the run is clean. (Seconds in a debug build: CI runs it.)
    if !common::sample::full() {
        common::sample::note(
            "tests/bench_inputs.rs: the 10,000-Task input is not run (CI=true or FULL_TESTS=1 runs it)",
        );
        return;
    }
    let tekton = std::fs::read_to_string(dir.join("tekton-10000.yaml")).expect("tekton-10000");
    let run = harbor_buildkit_fn::run(tekton.as_bytes());
    assert_eq!(run.exit_code, 0, "{}", run.stderr);
    assert!(
        !run.results
            .iter()
            .any(|r| r.message.contains("DOCKER_CONFIG")),
        "{:?}",
        run.results
    );
    let tiny = std::fs::read_to_string(dir.join("tiny.yaml")).expect("tiny");
    assert_eq!(harbor_buildkit_fn::run(tiny.as_bytes()).exit_code, 0);
}

/// The generator's output folder, under target/: written by gen.py once for each
/// version of gen.py (the inputs are a function of its text alone).
fn generated(python: &std::path::Path) -> std::path::PathBuf {
    use std::hash::{Hash, Hasher};
    let script = root().join("bench/gen.py");
    let text = std::fs::read(&script).expect("bench/gen.py");
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    let dir = root().join(format!("target/bench-inputs/{:016x}", h.finish()));
    if dir.join("tiny.yaml").is_file() {
        return dir;
    }
    let partial = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).expect("target/bench-inputs");
    let out = Command::new(python)
        .arg(&script)
        .arg(&partial)
        .output()
        .expect("gen.py runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Another test process may have finished first; its files are the same.
    if std::fs::rename(&partial, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    dir
}

#[test]
fn bench_script_passes_shellcheck() {
    common::assert_lint_clean("shellcheck", &[], &root().join("bench/run.sh"));
}
