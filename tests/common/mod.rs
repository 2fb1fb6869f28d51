//! Helpers shared by the integration tests.
#![allow(dead_code, unused_imports)]

use std::path::PathBuf;

use harbor_buildkit_fn::testing::Tree;
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

/// A ResourceList of `items` (entries at column 0) and a HarborBuildkit named
/// harbor-buildkit with `spec` (unindented lines).
pub fn input(items: &[String], spec: &str) -> String {
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    ResourceList::new()
        .items(&items)
        .spec("harbor-buildkit", spec)
        .build()
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

/// The documents of a `---`-separated stream (`run`'s or kustomize's output) as JSON.
pub fn stream_items(stream: &str) -> Vec<Value> {
    stream
        .split("\n---\n")
        .map(|d| d.strip_prefix("---\n").unwrap_or(d))
        .filter(|d| !d.trim().is_empty())
        .map(parse_json)
        .collect()
}

pub fn find<'v>(items: &'v [Value], kind: &str, name: &str) -> &'v Value {
    items
        .iter()
        .find(|i| i["kind"] == kind && i["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in output"))
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

pub mod bounded;
pub mod buildkit_examples;
pub mod container;
pub mod harbor_chart;
pub mod harbor_helm;
pub mod modes;
pub mod package;
pub mod registry;
pub mod results;
pub mod rl;
pub mod sample;
pub mod tekton;
pub mod temp;
pub mod tools;

pub use results::Code;
pub use rl::ResourceList;
pub use temp::TempDir;
pub use tools::{
    assert_lint_clean, in_ci, kustomize_or_skip, optional_outside_ci, require, required_tool, which,
};

/// Runs the built binary with `args` and `stdin`: exit code, stdout, stderr.
pub fn run_bin(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let out = tools::run_with_stdin(std::process::Command::new(tools::BIN).args(args), stdin);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
