//! `check`'s verdict on the manifests as they are: every change the function would
//! make to them is an error (`HBF600`), one per value, so that a render that skipped
//! the function (kustomize without `--enable-exec`, a pipeline step left out) fails the
//! check instead of passing on the function's plan.

use serde_json::Value;

use crate::codes::Code;
use crate::krm::{FnResult, OutItem};
use crate::output::Output;

/// At most this many values are listed per item; the rest are counted.
const PER_ITEM: usize = 12;

/// The changes between the input and `output`, as errors.
pub(crate) fn changes(output: &Output) -> Vec<FnResult> {
    let before = Output::unchanged(output.rl);
    let mut out = Vec::new();
    for i in 0..output.len() {
        if matches!(output.items.get(i), Some(OutItem::Input(_))) {
            continue;
        }
        let resource = output.resource_ref(i);
        if i >= output.rl.items.len() {
            out.push(
                FnResult::error(
                    Code::CheckPendingChange,
                    format!(
                        "{} is not in the input: the function would add it",
                        resource.describe()
                    ),
                )
                .on(resource),
            );
            continue;
        }
        let (Some(old), Some(new)) = (before.value(i), output.value(i)) else {
            continue;
        };
        let mut diffs = Vec::new();
        leaves(
            "",
            Some(&without_identity(&old)),
            Some(&without_identity(&new)),
            &mut diffs,
        );
        let more = diffs.len().saturating_sub(PER_ITEM);
        for (path, was, would) in diffs.into_iter().take(PER_ITEM) {
            let what = match env_name(&path, &new) {
                Some(name) => format!("{path} ({name})"),
                None => path.clone(),
            };
            let message = match (&was, &would) {
                (Some(w), Some(n)) => format!("{what} is {w}, and the function would set {n}"),
                (None, Some(n)) => format!("{what} is not set, and the function would set {n}"),
                (Some(w), None) => format!("{what} is {w}, and the function would remove it"),
                (None, None) => continue,
            };
            let mut r = FnResult::error(Code::CheckPendingChange, message).on(resource.clone());
            r = match &would {
                Some(n) => r.change(&path, was.as_deref(), n),
                None => r.at(&path),
            };
            out.push(r);
        }
        if more > 0 {
            out.push(
                FnResult::error(
                    Code::CheckPendingChange,
                    format!("and {more} more values the function would change here"),
                )
                .on(resource),
            );
        }
    }
    out
}

/// The variable an `...env[i].value` path sets, for the message.
fn env_name(path: &str, item: &Value) -> Option<String> {
    let entry = path.strip_suffix(".value")?;
    if !entry.ends_with(']') || !entry.contains(".env[") {
        return None;
    }
    let pointer: String = entry
        .split('.')
        .flat_map(|part| part.split('['))
        .map(|seg| format!("/{}", seg.trim_end_matches(']')))
        .collect();
    item.pointer(&format!("{pointer}/name"))?
        .as_str()
        .map(str::to_string)
}

/// A regenerated item keeps the identity annotations it came in with; they are not a
/// change.
fn without_identity(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(a) = v
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.retain(|k, _| {
            !(k.starts_with("internal.config.kubernetes.io/")
                || k.starts_with("config.kubernetes.io/path")
                || k == "config.kubernetes.io/index")
        });
    }
    v
}

/// The leaf values that differ, as `(path, before, after)`; scalars are shown as YAML
/// would show them, collections as JSON.
fn leaves(
    path: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<(String, Option<String>, Option<String>)>,
) {
    let child = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (k, va) in a {
                leaves(&child(k), Some(va), b.get(k), out);
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                leaves(&child(k), None, Some(vb), out);
            }
        }
        // A mapping that is new (or gone) whole: its values one by one.
        (None, Some(Value::Object(b))) => {
            for (k, vb) in b {
                leaves(&child(k), None, Some(vb), out);
            }
        }
        (Some(Value::Object(a)), None) => {
            for (k, va) in a {
                leaves(&child(k), Some(va), None, out);
            }
        }
        // Item by item: an item appended is one new value, not a new list.
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for n in 0..a.len().max(b.len()) {
                leaves(&format!("{path}[{n}]"), a.get(n), b.get(n), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push((path.to_string(), a.map(show), b.map(show))),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
