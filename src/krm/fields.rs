//! Reading fields of a resource as JSON ([`serde_json::Value`]), for the detectors
//! of every system: a missing field, or one of another type, reads as absent.

use std::collections::BTreeMap;

use serde_json::Value;

/// The string at `path` (object keys), if every step is there and it is a string.
pub(crate) fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    cur.as_str()
}

/// The array at JSON pointer `pointer`, empty when absent or not an array.
pub(crate) fn array_at<'v>(v: &'v Value, pointer: &str) -> &'v [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A pod template's containers (`spec.template.spec.containers`).
pub(crate) fn containers(v: &Value) -> &[Value] {
    array_at(v, "/spec/template/spec/containers")
}

/// The string entries of a map of labels (or a selector); other values are left out.
pub(crate) fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// A container's `env` entry named `name`, with its index: the last of that name,
/// which is the one the kubelet uses.
pub(crate) fn env_entry<'v>(container: &'v Value, name: &str) -> Option<(usize, &'v Value)> {
    container
        .get("env")
        .and_then(Value::as_array)?
        .iter()
        .enumerate()
        .rfind(|(_, e)| e.get("name").and_then(Value::as_str) == Some(name))
}
