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

/// The workload kinds with a pod template (`spec.template`) this function reads and
/// restarts: harbor-core and the BuildKit daemon run as any of them.
pub(crate) const WORKLOADS: [(&str, &str); 3] = [
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
];

/// Whether `item` is one of the [`WORKLOADS`].
pub(crate) fn is_workload(item: &super::Item) -> bool {
    WORKLOADS.iter().any(|(g, k)| item.is(g, k))
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
