//! The binary as users and tools run it: the README's command, exit codes, stderr.

mod common;

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_harbor-buildkit-fn");

fn run_bin(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    common::run_bin(args, stdin)
}

/// The README's run command: the shipped example gives the three resources.
#[test]
fn readme_example_prints_the_three_resources() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    assert!(readme.contains("cargo run -q -- < examples/resource-lists/generator.yaml"));
    let (code, stdout, stderr) = run_bin(&[], common::example("generator.yaml").as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let items = common::items(&stdout);
    common::find(&items, "ConfigMap", "harbor-core");
    common::find(&items, "ConfigMap", "buildkitd-config");
    common::find(&items, "Task", "buildkit-build");
}

#[test]
fn errors_exit_non_zero_with_results_and_stderr() {
    let input = common::example("generator.yaml").replace("scheme: http", "scheme: htp");
    let (code, stdout, stderr) = run_bin(&[], input.as_bytes());
    assert_eq!(code, 1);
    assert!(stderr.contains("spec.scheme is \"htp\""), "{stderr}");
    assert!(
        stdout.contains("severity: error") && stdout.contains("items: []"),
        "{stdout}"
    );
}

#[test]
fn help_version_and_unknown_arguments() {
    let (code, stdout, _) = run_bin(&["--help"], b"");
    assert_eq!(code, 0);
    for needle in [
        "kind: HarborBuildkit",
        "kpt fn render --allow-exec",
        "--enable-exec",
        "harbor-buildkit-fn run",
        "Commands:",
    ] {
        assert!(
            stdout.contains(needle),
            "--help lacks {needle:?}:\n{stdout}"
        );
    }
    // Every command has a help of its own, with an example.
    for cmd in ["run", "schema", "definition"] {
        let (code, stdout, _) = run_bin(&[cmd, "--help"], b"");
        assert_eq!(code, 0, "{cmd} --help");
        assert!(
            stdout.contains("Example"),
            "{cmd} --help has no example:\n{stdout}"
        );
    }
    let (code, stdout, _) = run_bin(&["--version"], b"");
    assert_eq!(code, 0);
    assert_eq!(
        stdout.trim(),
        format!("harbor-buildkit-fn {}", env!("CARGO_PKG_VERSION"))
    );
    let (code, _, stderr) = run_bin(&["--bogus"], b"");
    assert_eq!(code, 2);
    assert!(stderr.contains("unexpected argument '--bogus'"), "{stderr}");
}

/// The README documents every spec field with its default, from the same table the
/// code validates with.
#[test]
fn readme_documents_every_field() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    let fields = harbor_buildkit_fn::spec::fields();
    assert_eq!(fields.len(), 18);
    for f in fields {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` ", f.name)))
            .unwrap_or_else(|| panic!("README has no row for {}", f.name));
        assert!(
            row.contains(&f.default),
            "README row for {} lacks its default {:?}",
            f.name,
            f.default
        );
    }
}

/// Standalone mode: a functionConfig file plus resource files, folders or stdin.
#[test]
fn run_reads_files_folders_and_stdin() {
    let root = common::root();
    let config = root.join("examples/kpt/ci-build/harbor-buildkit.yaml");
    let config = config.to_string_lossy();
    let harbor_dir = root.join("examples/kpt/ci-build/harbor");
    let harbor_file = harbor_dir.join("harbor-core.yaml");
    let buildkit_dir = root.join("examples/kpt/ci-build/buildkit");
    let buildkit_file = buildkit_dir.join("buildkitd.yaml");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    assert!(readme.contains("harbor-buildkit-fn run examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit"));
    let (harbor_dir, buildkit_dir) = (harbor_dir.to_string_lossy(), buildkit_dir.to_string_lossy());
    let (code, stdout, stderr) = run_bin(&["run", &config, &harbor_dir, &buildkit_dir], b"");
    assert_eq!(code, 0, "{stderr}");
    let docs: Vec<&str> = stdout.split("\n---\n").collect();
    assert_eq!(
        docs.len(),
        6,
        "ConfigMap, Deployment, buildkitd's Deployment and Service, BuildKit ConfigMap, Task:\n{stdout}"
    );
    assert!(docs[0].contains("CORE_URL: \"http://harbor-core.default.svc.cluster.local\""));
    assert!(docs[2].contains("harbor-buildkit-config"));
    assert!(docs[5].contains("kind: Task"));
    assert!(stderr.is_empty(), "no warnings expected: {stderr}");

    // The same resources from files, and from stdin, give the same stream.
    let files = [
        harbor_file.to_string_lossy(),
        buildkit_file.to_string_lossy(),
    ];
    let (_, from_files, _) = run_bin(&["run", &config, &files[0], &files[1]], b"");
    assert_eq!(from_files, stdout);
    let mut text = std::fs::read(&harbor_file).expect("read");
    text.extend(b"---\n");
    text.extend(std::fs::read(&buildkit_file).expect("read"));
    let (_, from_stdin, _) = run_bin(&["run", &config], &text);
    assert_eq!(from_stdin, stdout);

    // -v shows what was done.
    let (_, _, verbose) = run_bin(&["run", "-v", &config, &files[0], &files[1]], b"");
    assert!(
        verbose.contains("info: ConfigMap default/harbor-core: set CORE_URL"),
        "{verbose}"
    );
}

#[test]
fn run_errors_are_readable_text() {
    let dir = common::TempDir::new("cli");
    let config = dir.join("fc.yaml");
    std::fs::write(&config, "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata: {name: x}\nspec:\n  registry: http://harbor\n  sheme: http\n").expect("write");
    let (code, stdout, stderr) = run_bin(&["run", &config.to_string_lossy()], b"");
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("error: spec.registry \"http://harbor\" has a scheme"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: spec.sheme is an unknown field (did you mean scheme?)"),
        "{stderr}"
    );
    assert!(!stderr.contains("ResourceList"), "{stderr}");

    let (code, _, stderr) = run_bin(
        &["run", &config.to_string_lossy(), "/no/such/file.yaml"],
        b"",
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot read /no/such/file.yaml"),
        "{stderr}"
    );

    std::fs::write(dir.join("bad.yaml"), "a: [\n").expect("write");
    let good = common::root().join("examples/kpt/ci-build/harbor-buildkit.yaml");
    let (code, _, stderr) = run_bin(
        &[
            "run",
            &good.to_string_lossy(),
            &dir.join("bad.yaml").to_string_lossy(),
        ],
        b"",
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("bad.yaml: not valid YAML"), "{stderr}");
}

/// With stdin a terminal and no arguments, a usage hint instead of waiting for input.
#[test]
fn a_terminal_on_stdin_gets_a_hint_not_a_hang() {
    let Some(script) = common::which("script") else {
        common::require("script (util-linux), for a pseudo-terminal", false);
        return;
    };
    // `script` gives the binary a pseudo-terminal as stdin; `timeout` guards the test
    // against the hang it checks for.
    let out = Command::new("timeout")
        .arg("10")
        .arg(script)
        .args(["-qec", BIN, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("reads a ResourceList on stdin"), "{text}");
    assert!(text.contains("--help"), "{text}");
}
