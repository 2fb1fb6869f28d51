//! BuildKit's checks, on the output: the `buildkitd.toml` the daemon will really read
//! (the one it mounts, wherever it lives), and the daemon's files.
//!
//! | finding | when |
//! |---|---|
//! | error (warning for https with the system CAs) | the daemon in the input mounts no file at the path it reads its config from |
//! | error | a `ca` path no volume of the daemon provides (BuildKit fails the push: "failed to read") |
//! | warning | a table keyed with another port than images use (BuildKit matches the key exactly) |
//! | warning | `http` with `insecure` (HTTPS first, then an HTTP fallback) |
//! | error | `http = true` for an https registry, or no `http = true` for an http one |

use super::Topology;
use super::daemon::{self, Daemon};
use crate::codes::Code;
use crate::endpoint::Scheme;
use crate::krm::FnResult;
use crate::output::Output;
use crate::spec::Spec;

/// `host` of `host[:port]`.
fn host_of(authority: &str) -> &str {
    crate::endpoint::split_port(authority).0
}

/// BuildKit treats these as plain HTTP when no table says otherwise.
fn is_localhost(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.")
}

/// The ConfigMap with `buildkitd.toml` as the output has it: the input's (edited or
/// not) or the one this run generated.
fn config_map(topology: &Topology, output: &Output) -> Option<usize> {
    if let Some(cm) = &topology.config_map {
        return Some(cm.index);
    }
    let (name, ns) = (&topology.name, &topology.namespace);
    output
        .find(|id| id.is("", "ConfigMap") && id.name == name && id.in_namespace(ns))
        .find(|&i| output.is_generated(i))
}

/// Runs BuildKit's checks and appends their findings.
pub(crate) fn run(spec: &Spec, topology: &Topology, output: &Output, out: &mut Vec<FnResult>) {
    if let Some(d) = topology.daemon.as_ref().and_then(|d| as_written(d, output)) {
        mounts_its_config(spec, &d, output, out);
        ca_files(spec, &d, output, out);
    }
    tables(spec, topology, output, out);
}

/// The daemon as the output has it (this run's mounts included).
fn as_written(d: &Daemon, output: &Output) -> Option<Daemon> {
    let v = output.value(d.index)?;
    let id = output.identity(d.index);
    daemon::of_value(d.index, (id.kind, id.name, id.namespace), &v)
}

/// buildkitd runs with its defaults, silently, when nothing is at its config path
/// (cmd/buildkitd/config/load.go returns an empty config for a missing file).
fn mounts_its_config(spec: &Spec, d: &Daemon, output: &Output, out: &mut Vec<FnResult>) {
    if d.provides(&d.config_path) {
        return;
    }
    let e = &spec.endpoint;
    let needs_table = (e.scheme == Scheme::Http && !is_localhost(&e.registry.host))
        || !e.tls.ca.is_empty()
        || e.tls.insecure_skip_verify
        || !spec.buildkit.mirrors.is_empty()
        || !spec.buildkit.proxy_cache.is_empty();
    let message = format!(
        "{} reads its config from {}, and no volume provides that file, so buildkitd runs with its defaults: no [registry.\"{}\"] table ({}). Mount the ConfigMap with buildkitd.toml there (this function does so with spec.generate: buildkitdConfig)",
        d.describe(),
        d.config_path,
        e.authority(),
        if needs_table {
            "the registry needs one"
        } else {
            "https with the system CAs, which may be all it needs"
        }
    );
    let r = if needs_table {
        FnResult::error(Code::BuildkitConfigNotMounted, message)
    } else {
        FnResult::warning(Code::BuildkitConfigNotMounted, message)
    };
    out.push(r.on(output.resource_ref(d.index)));
}

/// Every `ca` file must be in the daemon's container: BuildKit reads them when it first
/// talks to the registry, and fails the push without them (util/resolver `loadTLSConfig`).
fn ca_files(spec: &Spec, d: &Daemon, output: &Output, out: &mut Vec<FnResult>) {
    for (i, path) in spec.endpoint.tls.ca.iter().enumerate() {
        if d.provides(path) {
            continue;
        }
        out.push(
            FnResult::error(Code::BuildkitCaNotMounted, format!(
                "spec.ca[{i}] {path} is in no volume of {}: BuildKit fails the push with \"failed to read {path}\". Mount the Secret holding it there (spec.caSecret does), or point spec.ca at where it is mounted",
                d.describe()
            ))
            .on(output.resource_ref(d.index))
            .at(format!("spec.ca[{i}]")),
        );
    }
}

/// The registry tables of `buildkitd.toml` against the spec's registry and scheme.
fn tables(spec: &Spec, topology: &Topology, output: &Output, out: &mut Vec<FnResult>) {
    let Some(index) = config_map(topology, output) else {
        return;
    };
    let resource = output.resource_ref(index);
    let key = &topology.key;
    let Some(text) = output
        .value(index)
        .and_then(|v| v.get("data")?.get(key)?.as_str().map(str::to_string))
    else {
        return;
    };
    let path = format!("data.{key}");
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        out.push(
            FnResult::warning(
                Code::BuildkitConfigUnchecked,
                "buildkitd.toml does not parse as TOML; its registry tables were not checked",
            )
            .on(resource)
            .at(path),
        );
        return;
    };
    let authority = spec.endpoint.authority();
    let host = &spec.endpoint.registry.host;
    let tables = doc.get("registry").and_then(|r| r.as_table_like());
    let mut exact = None;
    for (key, table) in tables.iter().flat_map(|t| t.iter()) {
        if key == authority {
            exact = table.as_table_like();
        } else if host_of(key) == host {
            out.push(
                FnResult::warning(Code::BuildkitTablePort, format!(
                    "[registry.\"{key}\"] in buildkitd.toml is keyed {} while images name the registry {authority}: BuildKit matches the key exactly, port included, so this table never applies to them. Key it \"{authority}\" (spec.registry), or remove it",
                    if key.contains(':') { "with a port" } else { "without a port" }
                ))
                .on(resource.clone())
                .change(&path, Some(&format!("[registry.\"{key}\"]")), &format!("[registry.\"{authority}\"]")),
            );
        }
        // Another registry's table (a mirror, docker.io) with both flags: the same
        // advice as for ours, below.
        let both = |t: &dyn toml_edit::TableLike| {
            ["http", "insecure"]
                .iter()
                .all(|k| t.get(k).and_then(|i| i.as_bool()) == Some(true))
        };
        if key != authority && table.as_table_like().is_some_and(both) {
            out.push(
                FnResult::warning(Code::BuildkitHttpAndInsecure, format!(
                    "[registry.\"{key}\"] in buildkitd.toml sets both http = true and insecure = true: BuildKit then tries HTTPS first and falls back to HTTP; for a plain-HTTP registry set only http = true, for HTTPS without verification only insecure = true"
                ))
                .on(resource.clone())
                .change(&path, Some("http = true, insecure = true"), "one of them"),
            );
        }
    }
    let flag = |k: &str| {
        exact
            .and_then(|t| t.get(k))
            .and_then(|i| i.as_bool())
            .unwrap_or(false)
    };
    let (http, insecure) = (flag("http"), flag("insecure"));
    let table = format!("[registry.\"{authority}\"]");
    let fix = "let this function write the table (spec.generate: buildkitdConfig) or edit it";
    match spec.endpoint.scheme {
        Scheme::Http if !http && !is_localhost(host_of(&authority)) => {
            let what = if exact.is_none() {
                "buildkitd.toml has no table for it".to_string()
            } else if insecure {
                format!("{table} has insecure = true without http = true, which means HTTPS without certificate checks")
            } else {
                format!("{table} does not set http = true")
            };
            out.push(
                FnResult::error(Code::BuildkitHttpMissing, format!(
                    "the registry is plain HTTP (spec.scheme: http) but {what}, so buildkitd pulls and pushes over HTTPS and fails; {fix}: http = true"
                ))
                .on(resource)
                .change(&path, None, &format!("{table} http = true")),
            );
        }
        Scheme::Http if http && insecure => out.push(
            FnResult::warning(Code::BuildkitHttpAndInsecure, format!(
                "{table} sets both http = true and insecure = true: BuildKit then tries HTTPS first and falls back to HTTP; for a plain-HTTP registry set only http = true"
            ))
            .on(resource)
            .change(&path, Some("insecure = true"), "(removed)"),
        ),
        Scheme::Https if http => out.push(
            FnResult::error(Code::BuildkitHttpForHttps, format!(
                "{table} sets http = true but the registry is HTTPS (spec.scheme: https) and the Task pushes to it over HTTPS; {fix}: remove http = true, or set spec.scheme: http if the registry really is plain HTTP"
            ))
            .on(resource)
            .change(&path, Some("http = true"), "(removed)"),
        ),
        _ => {}
    }
}
