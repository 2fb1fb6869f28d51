//! Packages and overlays as file trees, for the end-to-end tests (`tests/e2e.rs`,
//! `tests/container.rs`): read a package, write or copy it somewhere else, diff two
//! trees the way `.expected/diff.patch` holds it, and find the kustomize overlays.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bytes as text, for messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Files of a package, by relative path, skipping dot-entries such as `.expected`.
pub fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy();
                files.insert(
                    rel.into_owned(),
                    std::fs::read_to_string(&p).unwrap_or_default(),
                );
            }
        }
    }
    files
}

/// Writes `files` (relative paths) below `to`, creating folders.
pub fn write_tree(to: &Path, files: &BTreeMap<String, String>) {
    for (rel, content) in files {
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(dest, content).expect("write");
    }
}

/// Copies the package at `from` (without its dot-entries) to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    write_tree(to, &read_tree(from));
}

/// A unified diff of two package trees, as `.expected/diff.patch` holds it.
pub fn tree_diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> String {
    let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = String::new();
    for path in paths {
        let (a, b) = (before.get(path), after.get(path));
        if a == b {
            continue;
        }
        let from = a.map_or("/dev/null".into(), |_| format!("a/{path}"));
        let to = b.map_or("/dev/null".into(), |_| format!("b/{path}"));
        out.push_str(&format!("diff {from} {to}\n"));
        out.push_str(
            &similar::TextDiff::from_lines(a.map_or("", |s| s), b.map_or("", |s| s))
                .unified_diff()
                .header(&from, &to)
                .to_string(),
        );
    }
    out
}

/// Every kustomize overlay below `dir` with an expected.yaml, relative to `dir`, sorted.
pub fn overlays(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "expected.yaml")
                && d.join("kustomization.yaml").is_file()
            {
                found.push(d.strip_prefix(dir).unwrap_or(&d).to_path_buf());
            }
        }
    }
    found.sort();
    found
}
