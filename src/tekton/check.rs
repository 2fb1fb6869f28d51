//! Tekton's check, on the output (the Task this run generated included): a Task or
//! TaskRun whose `DOCKER_CONFIG` is a Secret mount without `config.json`. buildctl (and
//! docker) read `$DOCKER_CONFIG/config.json`, and a `kubernetes.io/dockerconfigjson`
//! Secret holds `.dockerconfigjson`, so such a build pushes without credentials.
//!
//! It is an error when the Secret is in the output, a warning when it is not. Secret
//! values are never read into a finding: only their keys.
//!
//! And the Task this function generates: its `BUILDKIT_HOST` must name a Service of the
//! output (when the output has Services) on a port that Service exposes.

use std::collections::HashMap;

use serde_json::Value;

use super::docker_config::{self, SecretMount, Target, Use};
use crate::codes::Code;
use crate::krm::FnResult;
use crate::names::dns::{Cluster, Place};
use crate::output::Output;

/// Runs the checks and appends their findings.
pub(crate) fn run(cluster: &Cluster, output: &Output, out: &mut Vec<FnResult>) {
    buildkit_host(cluster, output, out);
    docker_config(output, out);
}

/// The Service a `tcp://host:port` address names, seen from a pod of namespace `from`,
/// as Kubernetes DNS resolves it ([`crate::names::dns`]).
fn service_of(cluster: &Cluster, address: &str, from: &str) -> Option<(String, String, u16)> {
    let rest = address.strip_prefix("tcp://")?;
    let (host, port) = rest.split_once(':')?;
    let port: u16 = port.trim_end_matches('/').parse().ok()?;
    match cluster.place(host) {
        Place::Service {
            name, namespace, ..
        } => Some((name, namespace.unwrap_or_else(|| from.to_string()), port)),
        _ => None,
    }
}

/// The generated Task's `BUILDKIT_HOST` default against the Services of the output.
fn buildkit_host(cluster: &Cluster, output: &Output, out: &mut Vec<FnResult>) {
    let services: Vec<usize> = output.find(|id| id.is("", "Service")).collect();
    if services.is_empty() {
        return;
    }
    for i in output
        .find(|id| id.is("tekton.dev", "Task"))
        .filter(|&i| output.is_generated(i))
    {
        let Some(task) = output.value(i) else {
            continue;
        };
        let Some(address) = task
            .pointer("/spec/params")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| p.get("name").and_then(Value::as_str) == Some("BUILDKIT_HOST"))
            .and_then(|p| p.get("default"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let from = output.identity(i).namespace;
        let Some((name, namespace, port)) = service_of(cluster, address, from) else {
            continue;
        };
        let found = services.iter().find(|&&s| {
            let id = output.identity(s);
            id.name == name && (id.namespace.is_empty() || id.namespace == namespace)
        });
        let finding = match found {
            None => FnResult::warning(
                Code::TektonBuildkitHostService,
                format!(
                    "the Task's BUILDKIT_HOST {address} names Service {namespace}/{name}, which is not in the input (its Services are elsewhere): check the address, or set spec.buildkitHost"
                ),
            ),
            Some(&s) => {
                let ports: Vec<u64> = output
                    .value(s)
                    .and_then(|v| {
                        Some(
                            v.pointer("/spec/ports")?
                                .as_array()?
                                .iter()
                                .filter_map(|p| p.get("port")?.as_u64())
                                .collect(),
                        )
                    })
                    .unwrap_or_default();
                if ports.contains(&u64::from(port)) {
                    continue;
                }
                FnResult::error(
                    Code::TektonBuildkitHostService,
                    format!(
                        "the Task's BUILDKIT_HOST {address} connects to port {port} of Service {namespace}/{name}, which exposes {}: buildctl would reach nothing; set spec.buildkitHost",
                        ports
                            .iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }
        };
        out.push(
            finding
                .on(output.resource_ref(i))
                .at("spec.params[BUILDKIT_HOST].default"),
        );
    }
}

/// Tasks and TaskRuns whose `DOCKER_CONFIG` is a Secret mount without `config.json`.
fn docker_config(output: &Output, out: &mut Vec<FnResult>) {
    // Only a Task or TaskRun that names DOCKER_CONFIG and a Secret (its own volume, or
    // a TaskRun's binding) can have the problem: these text tests keep the (parallel)
    // parse to those, and leave a catalog of Tasks without TaskRuns nearly free.
    let is_tekton = |i: usize, kind: &str| output.identity(i).is("tekton.dev", kind);
    let runs_bind_secrets =
        (0..output.len()).any(|i| is_tekton(i, "TaskRun") && output.mentions(i, "secret"));
    let candidates: Vec<usize> = (0..output.len())
        .filter(|&i| is_tekton(i, "Task") || is_tekton(i, "TaskRun"))
        .filter(|&i| {
            output.mentions(i, "DOCKER_CONFIG")
                && (runs_bind_secrets || output.mentions(i, "secret"))
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    // Each item is parsed, reduced to its few facts and dropped, so memory stays small
    // however many Tasks come in.
    let facts = crate::par::map(&candidates, |&i| Facts::of(output, i));
    let mut secrets = Secrets::new(output);
    // TaskRuns by the name of the Task they run, read only when a Task needs them.
    let mut runs: Option<HashMap<String, Vec<(usize, Facts)>>> = None;
    for (&item, facts) in candidates.iter().zip(&facts) {
        let Some(facts) = facts else { continue };
        for u in &facts.uses {
            let name = match &u.target {
                Target::SecretVolume { path, secret } => {
                    judge(&mut secrets, item, path, secret, &u.env_path, out);
                    continue;
                }
                Target::Workspace(name) => name,
            };
            let id = output.identity(item);
            // The TaskRuns that bind this workspace: the TaskRun itself for an inline
            // taskSpec, the ones whose taskRef names this Task otherwise.
            let bound: Vec<(usize, &Facts)> = if id.kind == "TaskRun" {
                vec![(item, facts)]
            } else {
                runs.get_or_insert_with(|| task_runs(output))
                    .get(id.name)
                    .into_iter()
                    .flatten()
                    .filter(|(r, _)| output.identity(*r).in_namespace(id.namespace))
                    .map(|(r, f)| (*r, f))
                    .collect()
            };
            for (run, run_facts) in bound {
                for (b, binding, secret) in &run_facts.bindings {
                    if binding != name {
                        continue;
                    }
                    let env = if run == item {
                        u.env_path.clone()
                    } else {
                        format!("{} of Task {}", u.env_path, id.name)
                    };
                    let path = format!("spec.workspaces[{b}].secret");
                    judge(&mut secrets, run, &path, secret, &env, out);
                }
            }
        }
    }
}

/// What the check needs from a Task or TaskRun.
struct Facts {
    /// Where its steps' DOCKER_CONFIG points (a Task's spec, a TaskRun's taskSpec).
    uses: Vec<Use>,
    /// A TaskRun's workspace bindings to Secrets: index, workspace name, source.
    bindings: Vec<(usize, String, SecretMount)>,
    /// A TaskRun's `taskRef.name`.
    task_ref: Option<String>,
}

impl Facts {
    fn of(output: &Output, i: usize) -> Option<Facts> {
        let v = output.value_kept(i, &docker_config::keep)?;
        let is_task = output.identity(i).kind == "Task";
        let empty = Value::Null;
        let spec = v.get("spec").unwrap_or(&empty);
        let mut uses = if is_task {
            docker_config::uses(spec, "spec")
        } else {
            spec.get("taskSpec")
                .map(|ts| docker_config::uses(ts, "spec.taskSpec"))
                .unwrap_or_default()
        };
        // A mount that maps config.json is fine whatever the Secret holds.
        uses.retain(
            |u| !matches!(&u.target, Target::SecretVolume { secret, .. } if secret.maps_config_json()),
        );
        let bindings = if is_task {
            Vec::new()
        } else {
            spec.get("workspaces")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .filter_map(|(b, w)| {
                    let name = w.get("name")?.as_str()?.to_string();
                    Some((b, name, SecretMount::of(w.get("secret")?)))
                })
                .collect()
        };
        let task_ref = spec
            .get("taskRef")
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        Some(Facts {
            uses,
            bindings,
            task_ref,
        })
    }
}

/// The TaskRuns of the output that run a Task by reference, by the Task's name.
fn task_runs(output: &Output) -> HashMap<String, Vec<(usize, Facts)>> {
    let refs: Vec<usize> = (0..output.len())
        .filter(|&i| output.identity(i).is("tekton.dev", "TaskRun"))
        .filter(|&i| output.mentions(i, "taskRef") && output.mentions(i, "secret"))
        .collect();
    let facts = crate::par::map(&refs, |&i| Facts::of(output, i));
    let mut index: HashMap<String, Vec<(usize, Facts)>> = HashMap::new();
    for (item, f) in refs.into_iter().zip(facts) {
        let Some(f) = f else { continue };
        if f.bindings.is_empty() {
            continue;
        }
        if let Some(task) = f.task_ref.clone() {
            index.entry(task).or_default().push((item, f));
        }
    }
    index
}

/// The Secrets of the output, found by name and read (their keys only) once each.
struct Secrets<'o, 'r, 's> {
    output: &'o Output<'r, 's>,
    by_name: Option<HashMap<(String, String), usize>>,
    keys: HashMap<usize, Option<Vec<String>>>,
}

impl<'o, 'r, 's> Secrets<'o, 'r, 's> {
    fn new(output: &'o Output<'r, 's>) -> Self {
        Secrets {
            output,
            by_name: None,
            keys: HashMap::new(),
        }
    }

    /// The keys (data and stringData) of Secret `name` as item `holder` sees it;
    /// `None` when it is not in the output.
    fn keys(&mut self, name: &str, holder: usize) -> Option<Vec<String>> {
        let output = self.output;
        let index = self.by_name.get_or_insert_with(|| {
            let mut m = HashMap::new();
            for i in (0..output.len()).rev() {
                let id = output.identity(i);
                if id.is("", "Secret") {
                    m.insert((id.namespace.to_string(), id.name.to_string()), i);
                }
            }
            m
        });
        let namespace = output.identity(holder).namespace;
        let idx = index
            .get(&(namespace.to_string(), name.to_string()))
            .or_else(|| index.get(&(String::new(), name.to_string())))
            .copied()
            .or_else(|| {
                // A holder without a namespace sees a Secret of any namespace.
                namespace
                    .is_empty()
                    .then(|| index.iter().find(|((_, n), _)| n == name).map(|(_, &i)| i))
                    .flatten()
            })?;
        self.keys
            .entry(idx)
            .or_insert_with(|| {
                output.value(idx).map(|v| {
                    ["data", "stringData"]
                        .iter()
                        .filter_map(|k| v.get(k).and_then(Value::as_object))
                        .flat_map(|m| m.keys().cloned())
                        .collect()
                })
            })
            .clone()
    }
}

/// Whether a Secret mount (`secret`: a SecretVolumeSource at `path` in item `holder`)
/// has a `config.json`; a finding when it has not.
fn judge(
    secrets: &mut Secrets,
    holder: usize,
    path: &str,
    secret: &SecretMount,
    env_path: &str,
    out: &mut Vec<FnResult>,
) {
    let name = secret.name.as_str();
    let resource = secrets.output.resource_ref(holder);
    let remap = "[{key: .dockerconfigjson, path: config.json}]";
    let fix = format!(
        "map the key with {path}.items: {remap} (read-only), or use the Task this function generates (spec.generate: task), which copies .dockerconfigjson to a writable DOCKER_CONFIG"
    );
    let items_path = format!("{path}.items");
    if let Some(paths) = &secret.items {
        if secret.maps_config_json() {
            return;
        }
        out.push(
            FnResult::error(Code::TektonDockerConfig, format!(
                "DOCKER_CONFIG ({env_path}) is the mount of Secret {name}, whose items map no key to config.json (only {}): buildctl reads $DOCKER_CONFIG/config.json and would push without credentials; {fix}",
                paths.join(", ")
            ))
            .on(resource)
            .change(&items_path, None, remap),
        );
        return;
    }
    match secrets.keys(name, holder) {
        Some(keys) if keys.iter().any(|k| k == "config.json") => {}
        Some(keys) => out.push(
            FnResult::error(Code::TektonDockerConfig, format!(
                "DOCKER_CONFIG ({env_path}) is the mount of Secret {name}, which has no config.json (its keys: {}): buildctl reads $DOCKER_CONFIG/config.json and would push without credentials; {fix}",
                if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
            ))
            .on(resource)
            .change(&items_path, None, remap),
        ),
        None => out.push(
            FnResult::warning(Code::TektonDockerConfig, format!(
                "DOCKER_CONFIG ({env_path}) is the mount of Secret {name} (not in the input) with no items: unless that Secret has a key config.json (a kubernetes.io/dockerconfigjson Secret has .dockerconfigjson), buildctl finds no credentials; {fix}"
            ))
            .on(resource)
            .change(&items_path, None, remap),
        ),
    }
}
