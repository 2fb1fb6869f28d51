//! helm streams read as text: documents at `---` lines (helm prints
//! `---\n# Source: <template>\n<manifest>\n` for each, pkg/action/action.go), a line diff,
//! which lines the function may change, and the environment a container reads.

use harbor_buildkit_fn::testing::Tree;
use serde_json::Value;

use super::Facts;

/// One document of a stream: its text from its `---` line on, and what it is.
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    pub text: &'a str,
    pub kind: String,
    pub name: String,
}

impl Doc<'_> {
    /// `Kind name`, as tables print it.
    pub fn id(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }

    pub fn json(&self) -> Value {
        let tree =
            Tree::parse(self.text).unwrap_or_else(|e| panic!("{}: {e}\n{}", self.id(), self.text));
        tree.root
            .map(|root| tree.to_json(root).expect("JSON-shaped"))
            .unwrap_or(Value::Null)
    }
}

/// What precedes the first `---` line, and the documents.
pub fn documents(stream: &str) -> (&str, Vec<Doc<'_>>) {
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for line in stream.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            starts.push(at);
        }
        at += line.len();
    }
    let head = &stream[..starts.first().copied().unwrap_or(stream.len())];
    let docs = starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = starts.get(i + 1).copied().unwrap_or(stream.len());
            doc(&stream[start..end])
        })
        .collect();
    (head, docs)
}

/// A document's kind and `metadata.name`, read from its lines at column 0 and 2.
fn doc(text: &str) -> Doc<'_> {
    let mut kind = String::new();
    let mut name = String::new();
    let mut in_metadata = false;
    for line in text.lines() {
        if let Some(k) = line.strip_prefix("kind: ") {
            kind = k.trim().to_string();
        }
        if !line.starts_with(' ') {
            in_metadata = line.starts_with("metadata:");
        } else if let Some(n) = line.strip_prefix("  name: ") {
            if in_metadata && name.is_empty() {
                name = n.trim().trim_matches('"').to_string();
            }
        }
    }
    Doc { text, kind, name }
}

/// Lines of a document, each with its index.
pub type Lines<'a> = Vec<(usize, &'a str)>;

/// The lines removed from `a` and added in `b`, as (line index, text) in each, by a
/// longest-common-subsequence diff.
pub fn line_changes<'a>(a: &'a str, b: &'a str) -> (Lines<'a>, Lines<'a>) {
    let la: Vec<&str> = a.lines().collect();
    let lb: Vec<&str> = b.lines().collect();
    let (n, m) = (la.len(), lb.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if la[i] == lb[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && la[i] == lb[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            added.push((j, lb[j]));
            j += 1;
        } else {
            removed.push((i, la[i]));
            i += 1;
        }
    }
    (removed, added)
}

/// The keys the function writes in a ConfigMap's `data`.
fn is_url_key(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("CORE_URL:") || t.starts_with("TOKEN_SERVICE_URL:")
}

/// A restart checksum the function writes into a pod template's annotations
/// (`harbor-buildkit.dev/core-config-checksum`, and one for jobservice).
fn is_checksum(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("harbor-buildkit.dev/") && t.contains("checksum:")
}

/// An env `value:` line whose entry is `CORE_URL` or `TOKEN_SERVICE_URL` (the line
/// before it in its document names it).
fn is_env_value(lines: &[&str], at: usize) -> bool {
    let before = at
        .checked_sub(1)
        .and_then(|i| lines.get(i))
        .map(|l| l.trim());
    lines[at].trim_start().starts_with("value:")
        && matches!(
            before,
            Some("- name: CORE_URL" | "- name: TOKEN_SERVICE_URL")
        )
}

/// What the function may change in a document of cell `f`: whether a changed line of
/// it (at `at` in `lines`, the document on its side of the diff) is one of them.
fn allowed(f: &Facts, d: &Doc<'_>, lines: &[&str], at: usize) -> bool {
    let line = lines[at];
    let jobservice_env = f.jobservice_env();
    match d.kind.as_str() {
        "ConfigMap" if d.name == f.core() || Some(&d.name) == jobservice_env.as_ref() => {
            is_url_key(line)
        }
        "Deployment" | "StatefulSet" | "DaemonSet"
            if d.name == f.core() || d.name == format!("{}-jobservice", f.fullname) =>
        {
            is_checksum(line) || is_env_value(lines, at)
        }
        _ => false,
    }
}

/// Every difference between `input` and `output` the function did not mean to make,
/// one line each: documents added, lost or reordered, text outside documents, and in
/// each document any changed line that is not one of [`allowed`]'s.
pub fn unintended(f: &Facts, input: &str, output: &str) -> Vec<String> {
    let (head_in, din) = documents(input);
    let (head_out, dout) = documents(output);
    let mut found = Vec::new();
    if head_in != head_out {
        found.push(format!(
            "text before the first ---: {head_in:?} became {head_out:?}"
        ));
    }
    if din.len() != dout.len() {
        found.push(format!("{} documents became {}", din.len(), dout.len()));
    }
    for (a, b) in din.iter().zip(&dout) {
        if a.text == b.text {
            continue;
        }
        if a.id() != b.id() {
            found.push(format!("{} is now {}", a.id(), b.id()));
            continue;
        }
        let (la, lb): (Vec<&str>, Vec<&str>) = (a.text.lines().collect(), b.text.lines().collect());
        let (removed, added) = line_changes(a.text, b.text);
        for (at, line) in &removed {
            if !allowed(f, a, &la, *at) {
                found.push(format!("{}: line {} removed: {line:?}", a.id(), at + 1));
            }
        }
        for (at, line) in &added {
            if !allowed(f, b, &lb, *at) {
                found.push(format!("{}: line {} added: {line:?}", b.id(), at + 1));
            }
        }
        if removed.is_empty() && added.is_empty() {
            found.push(format!("{}: line breaks changed", a.id()));
        }
    }
    found
}

/// The value of `var` a container of a workload reads: its `env` entry's `value`,
/// else the last `envFrom` ConfigMap (in `docs`) that holds it, as the kubelet builds
/// the environment (kubernetes pkg/kubelet/kubelet_pods.go `makeEnvironmentVariables`).
pub fn env_of(docs: &[Doc<'_>], workload: &str, container: &str, var: &str) -> Option<String> {
    let w = docs
        .iter()
        .find(|d| d.name == workload && matches!(d.kind.as_str(), "Deployment" | "StatefulSet"))?
        .json();
    let containers = w["spec"]["template"]["spec"]["containers"]
        .as_array()?
        .clone();
    let c = containers.iter().find(|c| c["name"] == container)?;
    let from_env = c["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == var))
        .map(|e| e["value"].as_str().map(str::to_string));
    if let Some(value) = from_env {
        return value;
    }
    let sources = c["envFrom"].as_array().cloned().unwrap_or_default();
    sources.iter().rev().find_map(|s| {
        let name = s["configMapRef"]["name"].as_str()?;
        let cm = docs
            .iter()
            .find(|d| d.kind == "ConfigMap" && d.name == name)?
            .json();
        cm["data"][var].as_str().map(str::to_string)
    })
}
