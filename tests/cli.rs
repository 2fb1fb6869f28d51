//! The binary as users and tools run it: the README's command, exit codes, stderr.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_harbor-buildkit-fn");

fn run_bin(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin).expect("stdin");
    }
    let out = child.wait_with_output().expect("binary ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
    assert!(stdout.contains("functionConfig:") && stdout.contains("kpt fn render"));
    let (code, stdout, _) = run_bin(&["--version"], b"");
    assert_eq!(code, 0);
    assert_eq!(
        stdout.trim(),
        format!("harbor-buildkit-fn {}", env!("CARGO_PKG_VERSION"))
    );
    let (code, _, stderr) = run_bin(&["--bogus"], b"");
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown argument"));
}

/// The README documents every spec field with its default, from the same table the
/// code validates with.
#[test]
fn readme_documents_every_field() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    for f in harbor_buildkit_fn::spec::FIELDS {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` ", f.name)))
            .unwrap_or_else(|| panic!("README has no row for {}", f.name));
        assert!(
            row.contains(f.default),
            "README row for {} lacks its default {:?}",
            f.name,
            f.default
        );
    }
}
