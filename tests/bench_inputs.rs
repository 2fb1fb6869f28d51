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
    let dir = common::TempDir::new("bench");
    let out = Command::new(python)
        .arg(root().join("bench/gen.py"))
        .arg(&dir)
        .output()
        .expect("gen.py runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    // map config.json, so the run is clean.
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

#[test]
fn bench_script_passes_shellcheck() {
    common::assert_lint_clean("shellcheck", &[], &root().join("bench/run.sh"));
}
