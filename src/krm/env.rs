//! A container's environment as the kubelet builds it, for the variables this function
//! reads and patches (harbor-core's `CORE_URL`, a step's `DOCKER_CONFIG`).
//!
//! kubernetes/kubernetes `pkg/kubelet/kubelet_pods.go`, `makeEnvironmentVariables`:
//! `envFrom` in list order, each ConfigMap's or Secret's `data` keys with the entry's
//! `prefix` in front, a later source winning for the same name; then `env` in list
//! order, the last entry of a name winning, over every `envFrom` value. (An optional
//! `valueFrom` whose object or key is missing sets nothing; it is read here as set,
//! since what the cluster holds is not known.)

use serde_json::Value;

use super::fields::str_at;
use crate::yaml::{Seg, child_path};

/// The kind of object an `envFrom` entry reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Object {
    ConfigMap,
    Secret,
}

impl Object {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Object::ConfigMap => "ConfigMap",
            Object::Secret => "Secret",
        }
    }
}

/// Where a container's variable gets its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `env[index]` with `value:` (an entry without one is the empty string).
    Value { index: usize, value: String },
    /// `env[index]` with `valueFrom:`: known only in the cluster.
    ValueFrom { index: usize },
    /// `envFrom[entry]`: key `key` of the object (the variable's name, less the
    /// entry's prefix).
    EnvFrom {
        entry: usize,
        object: Object,
        name: String,
        key: String,
    },
}

/// What the caller knows of an `envFrom` object: whether it holds a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holds {
    Yes,
    No,
    /// The object is not in the input.
    Unknown,
}

/// The variable `name` of `container`, resolved as the kubelet resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Resolved {
    /// Where the value comes from, as far as the input shows; `None` when nothing
    /// known sets it.
    pub(crate) origin: Option<Origin>,
    /// `envFrom` objects not in the input that the kubelet reads after `origin` (or at
    /// all, without one), and that may set the variable over it (`Kind name`). Empty
    /// when `origin` is an `env` entry, which wins over every `envFrom`.
    pub(crate) unknown_after: Vec<String>,
}

/// Resolves `name` in `container`; `holds(object, name, key)` says whether an object of
/// the pod's namespace holds `key` in its `data`.
pub(crate) fn resolve(
    container: &Value,
    name: &str,
    holds: &dyn Fn(Object, &str, &str) -> Holds,
) -> Resolved {
    if let Some((index, entry)) = env_entry(container, name) {
        let origin = match entry.get("value").and_then(Value::as_str) {
            Some(v) => Origin::Value {
                index,
                value: v.to_string(),
            },
            None if entry.get("valueFrom").is_some() => Origin::ValueFrom { index },
            None => Origin::Value {
                index,
                value: String::new(),
            },
        };
        return Resolved {
            origin: Some(origin),
            unknown_after: Vec::new(),
        };
    }
    let mut resolved = Resolved::default();
    let sources = container
        .get("envFrom")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (entry, source) in sources.iter().enumerate() {
        let (object, reference) = if let Some(r) = source.get("configMapRef") {
            (Object::ConfigMap, r)
        } else if let Some(r) = source.get("secretRef") {
            (Object::Secret, r)
        } else {
            continue;
        };
        let Some(object_name) = str_at(reference, &["name"]) else {
            continue;
        };
        let prefix = str_at(source, &["prefix"]).unwrap_or("");
        let Some(key) = name.strip_prefix(prefix) else {
            continue;
        };
        match holds(object, object_name, key) {
            Holds::Yes => {
                resolved.origin = Some(Origin::EnvFrom {
                    entry,
                    object,
                    name: object_name.to_string(),
                    key: key.to_string(),
                });
                resolved.unknown_after.clear();
            }
            Holds::No => {}
            Holds::Unknown => resolved
                .unknown_after
                .push(format!("{} {object_name}", object.kind())),
        }
    }
    resolved
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

/// Where entry `index` of the `env` of container `container` of a workload's pod
/// template is (`spec.template.spec.containers[c].env[i]`).
pub(crate) fn entry_path(container: usize, index: usize) -> Vec<Seg<'static>> {
    let key = |k: &'static str| Seg::Key(std::borrow::Cow::Borrowed(k));
    vec![
        key("spec"),
        key("template"),
        key("spec"),
        key("containers"),
        Seg::Index(container),
        key("env"),
        Seg::Index(index),
    ]
}

/// That entry's `value`, as results name it.
pub(crate) fn value_path(container: usize, index: usize) -> String {
    child_path(&entry_path(container, index), "value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// ConfigMaps `a` (CORE_URL), `b` (CORE_URL and X_CORE_URL's key), Secret `s`
    /// (CORE_URL); anything else is not in the input.
    fn holds(object: Object, name: &str, key: &str) -> Holds {
        match (object, name, key) {
            (Object::ConfigMap, "a", "CORE_URL")
            | (Object::ConfigMap, "b", "CORE_URL" | "URL")
            | (Object::Secret, "s", "CORE_URL") => Holds::Yes,
            (Object::ConfigMap, "a" | "b", _) | (Object::Secret, "s", _) => Holds::No,
            _ => Holds::Unknown,
        }
    }

    fn from(entry: usize, object: Object, name: &str, key: &str) -> Option<Origin> {
        Some(Origin::EnvFrom {
            entry,
            object,
            name: name.into(),
            key: key.into(),
        })
    }

    /// The kubelet's order: a later envFrom source wins, a prefix renames, env wins
    /// over all of them, the last env entry of a name wins.
    #[test]
    fn resolves_as_the_kubelet_builds_the_environment() {
        let c =
            json!({"envFrom": [{"configMapRef": {"name": "a"}}, {"configMapRef": {"name": "b"}}]});
        assert_eq!(
            resolve(&c, "CORE_URL", &holds).origin,
            from(1, Object::ConfigMap, "b", "CORE_URL")
        );
        let c = json!({"envFrom": [{"configMapRef": {"name": "a"}}, {"prefix": "CORE_", "configMapRef": {"name": "b"}}]});
        assert_eq!(
            resolve(&c, "CORE_URL", &holds).origin,
            from(1, Object::ConfigMap, "b", "URL")
        );
        let c = json!({"envFrom": [{"configMapRef": {"name": "a"}}, {"secretRef": {"name": "s"}}]});
        assert_eq!(
            resolve(&c, "CORE_URL", &holds).origin,
            from(1, Object::Secret, "s", "CORE_URL")
        );
        let c = json!({
            "envFrom": [{"configMapRef": {"name": "a"}}],
            "env": [{"name": "CORE_URL", "value": "x"}, {"name": "CORE_URL", "valueFrom": {}}],
        });
        assert_eq!(
            resolve(&c, "CORE_URL", &holds).origin,
            Some(Origin::ValueFrom { index: 1 })
        );
        // An object not in the input after the known source may set it too.
        let c =
            json!({"envFrom": [{"configMapRef": {"name": "a"}}, {"secretRef": {"name": "other"}}]});
        let r = resolve(&c, "CORE_URL", &holds);
        assert_eq!(r.origin, from(0, Object::ConfigMap, "a", "CORE_URL"));
        assert_eq!(r.unknown_after, vec!["Secret other".to_string()]);
        // A prefix that the name does not start with reads nothing from the object.
        let c = json!({"envFrom": [{"prefix": "HARBOR_", "configMapRef": {"name": "a"}}]});
        assert_eq!(resolve(&c, "CORE_URL", &holds), Resolved::default());
    }
}
