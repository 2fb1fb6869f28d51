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

/// `text`, a node copied from a source where it started at column `col`, made ready to
/// be followed by more lines without a change to what it means: with a line break at
/// its end, and, when it ends in a block scalar at the end of its input with no line
/// break there (whose value then has no final line break), that scalar's chomping
/// made `-` (strip), which reads the same value with the break. A scalar that ends in
/// a line break is not touched: nothing but a line break is ever added after it (a
/// blank line would be content under `|+`).
pub(crate) fn followable(text: &str, col: usize) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if text.is_empty() || text.ends_with('\n') {
        return Cow::Borrowed(text);
    }
    let padded = format!("{}{text}", " ".repeat(col));
    // A last line of blanks without a line break: where it adds nothing to the value
    // (it is no scalar's content, and a block scalar's trailing lines count by their
    // breaks), it goes, and the text ends in its last line break.
    if let Some(at) = text.rfind('\n') {
        if text[at + 1..].bytes().all(|b| matches!(b, b' ' | b'\t')) {
            let value = |t: &str| {
                let tree = Tree::parse(t).ok()?;
                tree.to_json(tree.root?).ok()
            };
            let kept = &padded[..col + at + 1];
            if value(&padded).is_some() && value(&padded) == value(kept) {
                return Cow::Borrowed(&text[..=at]);
            }
        }
    }
    let header = Tree::parse(&padded).ok().and_then(|tree| {
        tree.nodes.iter().find_map(|n| match n.kind {
            Kind::Scalar {
                style: tree::Style::Literal | tree::Style::Folded,
                ..
            } if n.end >= padded.trim_end_matches([' ', '\t']).len() => {
                block_header(&padded, n.start)
            }
            _ => None,
        })
    });
    let mut out = match header {
        Some((at, len)) => {
            let at = at - col;
            let digits: String = text[at + 1..at + 1 + len]
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            format!(
                "{}{}{digits}-{}",
                &text[..at],
                &text[at..=at],
                &text[at + 1 + len..]
            )
        }
        None => text.to_string(),
    };
    out.push('\n');
    Cow::Owned(out)
}

/// Where a block scalar's header indicator (`|` or `>`) is, and how many indicator
/// characters (indentation digit, chomping) follow it: on the line where the node
/// starts (after its properties), else on the last line with text before it.
pub(crate) fn block_header(src: &str, start: usize) -> Option<(usize, usize)> {
    let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    if let Some(h) = header_in(&src[start..line_end]) {
        return Some((start + h.0, h.1));
    }
    let before = src[..start].trim_end_matches([' ', '\t', '\n']);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    header_in(&before[line_start..]).map(|(at, len)| (line_start + at, len))
}

/// The last `|` or `>` of `line` that only indicators, blanks and a comment follow.
fn header_in(line: &str) -> Option<(usize, usize)> {
    line.char_indices().rev().find_map(|(i, c)| {
        if c != '|' && c != '>' {
            return None;
        }
        let rest = &line[i + 1..];
        let len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-'))
            .count();
        let after = &rest[len..];
        let trimmed = after.trim_start_matches([' ', '\t']);
        let ok = trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < after.len());
        ok.then_some((i, len))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a YAML reader makes of `text` followed by another line, against `text`
    /// alone: the followable text must read the same.
    fn value_of(doc: &str) -> serde_json::Value {
        let t = Tree::parse(doc).expect("parses");
        t.to_json(t.root.expect("a node")).expect("json")
    }

    #[test]
    fn followable_keeps_what_the_text_means() {
        for (text, want) in [
            ("k: |+\n  a\n", "k: |+\n  a\n"),
            ("k: |+\n  a", "k: |-\n  a\n"),
            ("k: |\n  a", "k: |-\n  a\n"),
            ("k: >2+ # note\n   a", "k: >2- # note\n   a\n"),
            ("k: |-\n  a", "k: |-\n  a\n"),
            ("k: &x |+\n  a", "k: &x |-\n  a\n"),
            ("k: a", "k: a\n"),
            ("k: \"a|b\"", "k: \"a|b\"\n"),
            ("- |+\n  a\n\n", "- |+\n  a\n\n"),
            // A last line of blanks with no break, which adds nothing: it goes.
            ("k: |\n  a\n ", "k: |\n  a\n"),
            ("k: |+\n  a\n\n ", "k: |+\n  a\n\n"),
            ("k: a\n  ", "k: a\n"),
            // Blanks that are content (past the scalar's indentation) stay.
            ("k: |\n  a\n   ", "k: |-\n  a\n   \n"),
        ] {
            let out = followable(text, 0);
            assert_eq!(out, want, "{text:?}");
            // Followed by another entry, it reads as the text alone did.
            let alone = value_of(text);
            let next = if text.starts_with("- ") {
                "- z"
            } else {
                "z: 1"
            };
            let followed = value_of(&format!("{out}{next}\n"));
            let first = |v: &serde_json::Value| match v {
                serde_json::Value::Object(m) => m.get("k").cloned(),
                serde_json::Value::Array(a) => a.first().cloned(),
                _ => None,
            };
            assert_eq!(first(&alone), first(&followed), "{text:?}");
        }
        // At a column: the first line is where the caller is.
        assert_eq!(followable("k: |\n    a", 2), "k: |-\n    a\n");
    }

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
