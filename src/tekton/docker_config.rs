//! Where a Task's steps point `DOCKER_CONFIG`: buildctl (and docker) read
//! `$DOCKER_CONFIG/config.json`, so what is mounted there decides whether a build has
//! credentials.
//!
//! Read the way Tekton assembles a step (tektoncd/pipeline `pkg/pod`): the step template
//! is merged into every step and the step's own `env` wins; a workspace is mounted at
//! `$(workspaces.<name>.path)` or its `mountPath`; a volume at each `volumeMounts` entry.
//!
//! And how a Secret's value is read ([`secret_text`]): `stringData` over `data`, `data`
//! as base64, shared by the checks and `doctor`.

use serde_json::Value;

use crate::krm::env::env_entry;
use crate::yaml::Seg;

/// A Secret volume source, reduced to what decides whether it holds `config.json`.
#[derive(Debug, Clone)]
pub(crate) struct SecretMount {
    pub(crate) name: String,
    /// The `path`s of a non-empty `items` (an empty or absent one projects every key,
    /// as kubelet does).
    pub(crate) items: Option<Vec<String>>,
}

impl SecretMount {
    pub(crate) fn of(secret: &Value) -> SecretMount {
        let items = secret
            .get("items")
            .and_then(Value::as_array)
            .filter(|i| !i.is_empty())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get("path").and_then(Value::as_str).map(str::to_string))
                    .collect()
            });
        SecretMount {
            name: secret
                .get("secretName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            items,
        }
    }

    /// Mapped to config.json by its items: nothing to check.
    pub(crate) fn maps_config_json(&self) -> bool {
        self.items
            .as_ref()
            .is_some_and(|p| p.iter().any(|p| p == "config.json"))
    }
}

/// What `DOCKER_CONFIG` names.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// `spec.volumes[i]` (path from the resource's root) holding a `secret`.
    SecretVolume { path: String, secret: SecretMount },
    /// A workspace, bound by a TaskRun.
    Workspace(String),
}

/// Where a step's `DOCKER_CONFIG` points, found in a Task spec.
#[derive(Debug, Clone)]
pub(crate) struct Use {
    /// The field path of the env var's value, from the resource's root.
    pub(crate) env_path: String,
    pub(crate) target: Target,
}

fn arr<'v>(v: &'v Value, k: &str) -> &'v [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn name_of(v: &Value) -> Option<&str> {
    v.get("name").and_then(Value::as_str)
}

/// A container's `DOCKER_CONFIG` entry (the last wins, as in Kubernetes): its value's
/// field path and the value.
fn env_of<'v>(container: &'v Value, path: &str) -> Option<(String, Option<&'v Value>)> {
    env_entry(container, "DOCKER_CONFIG")
        .map(|(i, e)| (format!("{path}.env[{i}].value"), e.get("value")))
}

/// The uses of `DOCKER_CONFIG` in a Task spec at `base` (`spec` or `spec.taskSpec`),
/// one per step and target (a template's reaches every step: reported once).
pub(crate) fn uses(spec: &Value, base: &str) -> Vec<Use> {
    let empty = Value::Null;
    let template = spec.get("stepTemplate").unwrap_or(&empty);
    let steps = arr(spec, "steps");
    let mut uses: Vec<Use> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let Some((env_path, value)) = env_of(step, &format!("{base}.steps[{i}]"))
            .or_else(|| env_of(template, &format!("{base}.stepTemplate")))
        else {
            continue;
        };
        let Some(dir) = value.and_then(Value::as_str) else {
            continue;
        };
        if let Some(target) = target(spec, template, step, base, dir.trim_end_matches('/')) {
            uses.push(Use { env_path, target });
        }
    }
    let mut seen = std::collections::HashSet::new();
    uses.retain(|u| {
        let target = match &u.target {
            Target::SecretVolume { path, .. } => path.clone(),
            Target::Workspace(name) => name.clone(),
        };
        seen.insert((u.env_path.clone(), target))
    });
    uses
}

/// What is mounted at `dir` for `step`: a workspace, or a Secret volume.
fn target(spec: &Value, template: &Value, step: &Value, base: &str, dir: &str) -> Option<Target> {
    // $(workspaces.<name>.path)
    if let Some(name) = dir
        .strip_prefix("$(workspaces.")
        .and_then(|r| r.strip_suffix(".path)"))
    {
        return Some(Target::Workspace(name.to_string()));
    }
    // A workspace with an explicit mountPath.
    fn trimmed<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
        v.get(k)
            .and_then(Value::as_str)
            .map(|p| p.trim_end_matches('/'))
    }
    if let Some(w) = arr(spec, "workspaces")
        .iter()
        .find(|w| trimmed(w, "mountPath") == Some(dir))
    {
        return name_of(w).map(|n| Target::Workspace(n.to_string()));
    }
    // A volume mounted there (whole, not a subPath), by the step or its template.
    let mount = arr(step, "volumeMounts")
        .iter()
        .chain(arr(template, "volumeMounts"))
        .find(|m| {
            trimmed(m, "mountPath") == Some(dir)
                && m.get("subPath").is_none()
                && name_of(m).is_some()
        })?;
    let volume = name_of(mount)?;
    let (v, vol) = arr(spec, "volumes")
        .iter()
        .enumerate()
        .find(|(_, v)| name_of(v) == Some(volume))?;
    let secret = vol.get("secret")?;
    Some(Target::SecretVolume {
        path: format!("{base}.volumes[{v}].secret"),
        secret: SecretMount::of(secret),
    })
}

/// The parts of a Task or TaskRun these facts come from: step and step-template `env`
/// and `volumeMounts`, `volumes`, `workspaces`, `taskRef` (and the same under a
/// TaskRun's `taskSpec`). Scripts and the rest are scanned but not built, which keeps a
/// large Tekton input cheap.
pub(crate) fn keep(path: &[Seg<'_>]) -> bool {
    let key = |i: usize| match path.get(i) {
        Some(Seg::Key(k)) => Some(k.as_ref()),
        _ => None,
    };
    let rest = match key(0) {
        None => return path.is_empty(),
        Some("spec") => 1,
        Some(_) => return false,
    };
    let rest = if key(rest) == Some("taskSpec") {
        rest + 1
    } else {
        rest
    };
    match key(rest) {
        None => path.len() == rest,
        Some("volumes" | "workspaces" | "taskRef") => true,
        Some("stepTemplate") => matches!(key(rest + 1), None | Some("env" | "volumeMounts")),
        Some("steps") => match path.get(rest + 2) {
            None => true,
            Some(Seg::Key(k)) => matches!(k.as_ref(), "env" | "volumeMounts"),
            Some(Seg::Index(_)) => false,
        },
        Some(_) => false,
    }
}

/// Why a Secret's value cannot be read as text. The value itself is never kept here,
/// so no message built from this can print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// A `data` value that is not standard base64.
    NotBase64,
    /// Decoded bytes (or a `stringData` value) that are not UTF-8 text.
    NotText,
    /// A value that is not a string at all.
    NotAString,
}

impl Unreadable {
    /// What is wrong, for a message that names the field (`data.<key>`) before it.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Unreadable::NotBase64 => "is not base64",
            Unreadable::NotText => "is not text (UTF-8)",
            Unreadable::NotAString => "is not a string",
        }
    }
}

/// Base64 as Go's encoding/base64 `StdEncoding.DecodeString` reads it: the standard
/// alphabet with padding, `\r` and `\n` ignored.
pub(crate) fn go_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    let clean: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    base64::engine::general_purpose::STANDARD.decode(clean)
}

/// Key `key` of a Secret (as JSON): the field it is read from and its text, `None`
/// when neither field has the key.
///
/// `stringData` wins over `data`: the API server merges stringData "into the data field
/// on write, overwriting any existing values" (the `Secret.stringData` field's doc,
/// kubernetes/api `core/v1/types.go`). `data` is base64 as Go's encoding/json reads a
/// `[]byte`, with the standard alphabet and padding; Go's decoder ignores `\r` and `\n`
/// (encoding/base64 `Decode`), so a value folded over lines still reads.
pub(crate) fn secret_text(
    secret: &Value,
    key: &str,
) -> Option<(&'static str, Result<String, Unreadable>)> {
    if let Some(v) = secret.get("stringData").and_then(|d| d.get(key)) {
        let text = v.as_str().map(str::to_string).ok_or(Unreadable::NotAString);
        return Some(("stringData", text));
    }
    let v = secret.get("data").and_then(|d| d.get(key))?;
    let Some(b64) = v.as_str() else {
        return Some(("data", Err(Unreadable::NotAString)));
    };
    let text = go_base64(b64)
        .map_err(|_| Unreadable::NotBase64)
        .and_then(|bytes| String::from_utf8(bytes).map_err(|_| Unreadable::NotText));
    Some(("data", text))
}
