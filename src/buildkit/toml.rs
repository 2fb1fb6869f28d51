//! The daemon's `buildkitd.toml`: our `[registry."<host>"]` table, and the ConfigMap
//! that holds the file.
//!
//! BuildKit (`util/resolver/config/config.go`, `util/resolver/resolver.go`) matches the
//! table key exactly against an image reference's domain, port included. For a
//! plain-HTTP registry `http = true` is the direct setting; `insecure = true` means
//! "HTTPS without verification", and the two together make BuildKit try HTTPS first
//! with an HTTP fallback, which its docs advise against. So: `http = true` for http;
//! `ca = [...]` and, only when asked, `insecure = true` for https.
//!
//! An existing file is edited with toml_edit: only the keys this function owns in its
//! table (`http`, `insecure`, `ca`, `mirrors`) change; every other table, key and
//! comment stays byte for byte.

use serde_json::{Value, json};
use toml_edit::{Array, DocumentMut, Item, Table};

use crate::endpoint::Scheme;
use crate::spec::Spec;

pub(crate) const KEY: &str = "buildkitd.toml";

const HEADER: &str = "# buildkitd.toml. harbor-buildkit-fn owns the [registry.\"<host>\"] table for its\n# registry (keys http, insecure, ca, mirrors), `http` in the tables of plain-HTTP mirrors,\n# and its own entries in the `mirrors` of proxy-cached upstreams, and rewrites them on\n# every run; the rest of this file is yours and is kept as it is.\n";

/// An existing buildkitd.toml that does not parse, or whose `registry` cannot hold our
/// table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TomlError {
    /// toml_edit's own message, at `line`.
    Parse {
        line: usize,
        detail: String,
    },
    RegistryNotTable,
    HostNotTable {
        host: String,
    },
}

impl TomlError {
    /// The line of the file the problem is on.
    pub(crate) fn line(&self) -> usize {
        match self {
            TomlError::Parse { line, .. } => *line,
            TomlError::RegistryNotTable | TomlError::HostNotTable { .. } => 1,
        }
    }
}

impl std::fmt::Display for TomlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TomlError::Parse { detail, .. } => f.write_str(detail),
            TomlError::RegistryNotTable => f.write_str(
                "`registry` is not a table; BuildKit expects [registry.\"<host>\"] tables",
            ),
            TomlError::HostNotTable { host } => write!(f, "registry.\"{host}\" is not a table"),
        }
    }
}

impl std::error::Error for TomlError {}

/// The file with our registry table set, from `existing` (or from nothing).
pub(crate) fn render(existing: Option<&str>, spec: &Spec) -> Result<String, TomlError> {
    let mut doc = match existing {
        Some(text) => text.parse::<DocumentMut>().map_err(|e| TomlError::Parse {
            line: e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            }),
            detail: e.message().trim().to_string(),
        })?,
        None => DocumentMut::new(),
    };
    let fresh = doc.as_table().is_empty();
    let host = spec.endpoint.authority();

    let registry = doc.entry("registry").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let Some(registry) = registry.as_table_like_mut() else {
        return Err(TomlError::RegistryNotTable);
    };
    let header = fresh.then(|| HEADER.to_string() + "\n");
    let table = host_table(registry, &host, header)?;
    let endpoint = &spec.endpoint;
    let http = endpoint.scheme == Scheme::Http;
    let insecure = endpoint.scheme == Scheme::Https && endpoint.tls.insecure_skip_verify;
    set_bool(table, "http", http);
    set_bool(table, "insecure", insecure);
    set_list(table, "ca", &endpoint.tls.ca);
    let mirrors: Vec<String> = spec.buildkit.mirrors.iter().map(|m| m.entry()).collect();
    set_list(table, "mirrors", &mirrors);

    // Each mirror's transport comes from its own table (util/resolver/resolver.go
    // `fillInsecureOpts(mirrorHost, m[mirrorHost], ...)`): plain HTTP must be said there.
    for m in spec.buildkit.mirrors.iter().filter(|m| m.http) {
        set_bool(host_table(registry, &m.authority, None)?, "http", true);
    }
    // Harbor as a proxy cache: the upstream's mirror is `<registry>/<project>`, which
    // BuildKit asks for as `/v2/<project>/<repository>/...` (`newMirrorRegistryHost`).
    for pc in &spec.buildkit.proxy_cache {
        let entry = format!("{host}/{}", pc.project);
        add_to_list(host_table(registry, &pc.upstream, None)?, "mirrors", &entry);
    }
    Ok(doc.to_string())
}

/// The `[registry."<host>"]` table, made (with `prefix` before it) when missing.
fn host_table<'t>(
    registry: &'t mut dyn toml_edit::TableLike,
    host: &str,
    prefix: Option<String>,
) -> Result<&'t mut dyn toml_edit::TableLike, TomlError> {
    if registry.get(host).is_none() {
        let mut t = Table::new();
        if let Some(p) = prefix {
            t.decor_mut().set_prefix(p);
        }
        registry.insert(host, Item::Table(t));
    }
    registry
        .get_mut(host)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| TomlError::HostNotTable {
            host: host.to_string(),
        })
}

/// Puts `entry` first in the list `key` (made when missing), keeping the other entries
/// after it: BuildKit tries mirrors in order, then the upstream itself.
fn add_to_list(table: &mut dyn toml_edit::TableLike, key: &str, entry: &str) {
    let current: Vec<String> = table
        .get(key)
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if current.iter().any(|c| c == entry) {
        return;
    }
    let mut values = vec![entry.to_string()];
    values.extend(current);
    let array: Array = values.iter().map(String::as_str).collect();
    table.insert(key, toml_edit::value(array));
}

/// Sets `key = true`, or removes it when false (false is BuildKit's default). An
/// existing `true` is left untouched, comments and all.
fn set_bool(table: &mut dyn toml_edit::TableLike, key: &str, on: bool) {
    let current = table.get(key).and_then(Item::as_bool);
    match (on, current) {
        (true, Some(true)) => {}
        (true, _) => {
            table.insert(key, toml_edit::value(true));
        }
        (false, _) => {
            table.remove(key);
        }
    }
}

fn set_list(table: &mut dyn toml_edit::TableLike, key: &str, values: &[String]) {
    if values.is_empty() {
        table.remove(key);
        return;
    }
    let current: Option<Vec<&str>> = table
        .get(key)
        .and_then(Item::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect());
    if current.is_some_and(|c| c.len() == values.len() && c.iter().zip(values).all(|(a, b)| a == b))
    {
        return;
    }
    let array: Array = values.iter().map(String::as_str).collect();
    table.insert(key, toml_edit::value(array));
}

/// Where a new BuildKit ConfigMap goes in a kpt package.
pub(crate) fn path(name: &str) -> String {
    format!("harbor-buildkit/configmap_{name}.yaml")
}

/// A new ConfigMap `namespace/name` holding `toml` under `key`.
pub(crate) fn config_map(name: &str, namespace: &str, key: &str, toml: &str) -> Value {
    let path = path(name);
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": { crate::MANAGED_BY_LABEL: crate::MANAGED_BY },
            "annotations": {
                "internal.config.kubernetes.io/path": path,
                "config.kubernetes.io/path": path,
            },
        },
        "data": { key: toml },
    })
}
