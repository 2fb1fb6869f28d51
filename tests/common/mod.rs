//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use harbor_buildkit_fn::yaml::Tree;
use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example(name: &str) -> String {
    let path = root().join("examples/resource-lists").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the function in-process.
pub fn run(input: &str) -> harbor_buildkit_fn::Outcome {
    harbor_buildkit_fn::run(input.as_bytes())
}

/// Everything a user sees, for snapshots.
pub fn transcript(input: &str) -> String {
    let o = run(input);
    format!(
        "exit: {}\n--- stderr\n{}--- stdout\n{}",
        o.exit_code, o.stderr, o.stdout
    )
}

/// The output ResourceList as JSON (every value typed as Go's yaml.v3 types it).
pub fn parse_json(yaml: &str) -> Value {
    let t = Tree::parse(yaml).unwrap_or_else(|e| panic!("output does not parse: {e}\n{yaml}"));
    t.to_json(t.root.expect("a document")).expect("convertible")
}

pub fn items(output: &str) -> Vec<Value> {
    parse_json(output)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub fn find<'v>(items: &'v [Value], kind: &str, name: &str) -> &'v Value {
    items
        .iter()
        .find(|i| i["kind"] == kind && i["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in output"))
}

/// Whether a test that needs an external tool must fail instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (with a visible message) or, under CI=true, fails when `what` is missing.
pub fn require(what: &str, present: bool) -> bool {
    if !present {
        assert!(!in_ci(), "{what} is required when CI=true");
        eprintln!("SKIPPED: {what} is not available; this test did not run");
    }
    present
}

pub fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| is_executable(p))
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs a linter (`shellcheck`, `hadolint`) on `file` and asserts it finds nothing;
/// skips (or fails under CI=true) when the linter is missing.
pub fn assert_lint_clean(tool: &str, args: &[&str], file: &Path) {
    let Some(bin) = which(tool) else {
        require(tool, false);
        return;
    };
    let out = std::process::Command::new(bin)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{tool} {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Values that YAML 1.1 and 1.2 readers disagree on, or that look like another type:
/// each is a string a user meant.
pub const TRICKY_VALUES: &[&str] = &[
    "on",
    "off",
    "yes",
    "no",
    "y",
    "Y",
    "n",
    "NO",
    "True",
    "0755",
    "0o17",
    "0x1F",
    "1e3",
    "1_000",
    "12:30",
    "1:2:3",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "~",
    "null",
    "Null",
    "",
    ".inf",
    "-.inf",
    ".nan",
    "=",
    "<<",
    " leading",
    "trailing ",
    "  both  ",
    "multi\nline\n",
    "trailing spaces  \nsecond line  \n",
    "tab\tinside",
    "#hash",
    "- dash",
    "a: b",
    "{x: 1}",
    "[1]",
    "*star",
    "&amp",
    "!bang",
    "%pct",
    "@at",
    "`tick`",
    "'quoted'",
    "\"dq\"",
    "ünï",
    "\u{2028}line sep",
    "08",
    "+1",
    "-0",
    "0b101",
];

/// The standalone kustomize (`$KUSTOMIZE`, or `kustomize` on PATH); when there is none,
/// skips (or fails under CI=true) and returns `None`.
pub fn kustomize_or_skip() -> Option<PathBuf> {
    let found = std::env::var_os("KUSTOMIZE")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| which("kustomize"));
    require(
        "standalone kustomize ($KUSTOMIZE or kustomize on PATH)",
        found.is_some(),
    );
    found
}
pub mod container;
pub mod registry;

/// Runs the built binary with `args` and `stdin`: exit code, stdout, stderr.
pub fn run_bin(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_harbor-buildkit-fn"))
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
