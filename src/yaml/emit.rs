//! Writes the resources this function generates as block-style YAML.
//!
//! Only our own values pass through here (user items are copied verbatim by
//! `krm::write`), so the emitter can be small: mappings in insertion order, sequences
//! written kubectl-style (not indented under their key), strings plain only when
//! [`scalar::plain_is_safe`] says every reader agrees, multi-line strings as literal
//! blocks when that is exact, double-quoted otherwise.

use serde_json::Value;

use super::scalar;

/// A whole document whose root is a mapping (a resource).
pub fn document(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => map_body(&mut out, m, 0, false),
        other => {
            scalar_line(&mut out, other, 0);
        }
    }
    out
}

/// A sequence entry whose `- ` stands at column `indent` (the caller is already
/// there); `v`'s continuation lines line up after the dash. Used for ResourceList
/// items and results.
pub fn seq_entry(out: &mut String, v: &Value, indent: usize) {
    seq_body(out, std::slice::from_ref(v), indent, true);
}

/// `v` as the value of a mapping key at `indent`, starting right after the `:`.
pub(crate) fn value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            map_body(out, m, indent + 2, false);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            seq_body(out, a, indent, false);
        }
        other => {
            out.push(' ');
            scalar_line(out, other, indent);
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn map_body(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize, inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if !(inline && i == 0) {
            pad(out, indent);
        }
        scalar::inline_string(k, out);
        out.push(':');
        value_after_key(out, v, indent);
    }
}

fn seq_body(out: &mut String, a: &[Value], indent: usize, inline: bool) {
    for (i, v) in a.iter().enumerate() {
        if !(inline && i == 0) {
            pad(out, indent);
        }
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => map_body(out, m, indent + 2, true),
            Value::Array(a) if !a.is_empty() => seq_body(out, a, indent + 2, true),
            other => scalar_line(out, other, indent),
        }
    }
}

/// A scalar (or an empty collection) and its line break. Literal blocks put their
/// lines at `indent + 2`.
fn scalar_line(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::String(s) if scalar::literal_is_safe(s) => {
            literal(out, s, indent + 2);
            return;
        }
        Value::String(s) => scalar::inline_string(s, out),
    }
    out.push('\n');
}

fn literal(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml() {
        let v = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "x", "labels": {}},
            "data": {"on": "yes", "n": "1_000", "toml": "a = 1\n\n[b]\nc = 2\n"},
            "list": [{"name": "a", "v": [1, true]}, "s", []],
        });
        assert_eq!(
            document(&v),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {}\ndata:\n  \"on\": \"yes\"\n  \"n\": \"1_000\"\n  toml: |\n    a = 1\n\n    [b]\n    c = 2\nlist:\n- name: a\n  v:\n  - 1\n  - true\n- s\n- []\n"
        );
    }

    #[test]
    fn literal_chomping_round_trips() {
        for s in ["a\nb", "a\nb\n", "a\nb\n\n\n"] {
            let doc = document(&json!({ "k": s }));
            let t = crate::yaml::tree::Tree::parse(&doc).unwrap();
            let v = t.get(t.root.unwrap(), "k").unwrap();
            assert_eq!(t.scalar(v).unwrap().0, s, "{doc}");
        }
    }
}
