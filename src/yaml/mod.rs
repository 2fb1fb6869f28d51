//! The YAML layer: read with spans, copy verbatim, edit surgically, emit safely.
//!
//! - [`tree`]: a document parsed into nodes that know their byte spans;
//! - [`scalar`]: what a scalar means to Go's YAML reader, and how to quote a string;
//! - [`edit`]: replace or insert mapping entries in source text;
//! - [`emit`]: write our own resources as block YAML;
//! - [`reindent`]: move a node's verbatim text to another indentation.

pub(crate) mod edit;
pub mod emit;
pub(crate) mod scalar;
pub(crate) mod tree;

pub use tree::ParseError;
pub use tree::Tree;
pub(crate) use tree::{Kind, NodeId, Seg};

/// A path as results write it: `spec.containers[0].env`.
/// `parents.key` as [`path_text`] writes it (`key` alone at the top).
pub(crate) fn child_path(parents: &[Seg], key: &str) -> String {
    let mut out = path_text(parents);
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
    out
}

pub(crate) fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Appends `text`, a node copied from a source where it started at column `from_col`,
/// so that it fits at `to_indent`: the first line goes where the caller already is,
/// and each later line is shifted left by `from_col` and right by `to_indent`.
///
/// Shifting every line by the same amount keeps block structure and block scalar
/// contents (more-indented lines, whitespace-only lines) exactly as they were. A
/// line indented less than `from_col` can only be a comment, a blank line or flow
/// continuation, where indentation carries no meaning; it is put at `to_indent`.
/// When the columns are equal (kustomize's and kpt's layout) the text is copied whole.
pub(crate) fn reindent(out: &mut String, text: &str, from_col: usize, to_indent: usize) {
    if from_col == to_indent {
        // Same place as in the source: the text is valid there as it stands.
        out.push_str(text);
        return;
    }
    let mut lines = text.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    for line in lines {
        out.push('\n');
        let spaces = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim_start_matches([' ', '\t']).is_empty();
        if blank && spaces < from_col.max(1) && !line.contains('\t') {
            continue;
        }
        let cut = spaces.min(from_col);
        out.extend(std::iter::repeat_n(' ', to_indent));
        out.push_str(&line[cut..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reindent_shifts_uniformly() {
        let mut out = String::new();
        reindent(
            &mut out,
            "a: 1\n    b: |\n      x\n\n        y\n    c: 2",
            4,
            2,
        );
        assert_eq!(out, "a: 1\n  b: |\n    x\n\n      y\n  c: 2");
        let mut out = String::new();
        reindent(&mut out, "{a: 1,\nb: 2}", 9, 2);
        assert_eq!(out, "{a: 1,\n  b: 2}");
    }
}
