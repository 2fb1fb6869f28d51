//! Checks along the chain a push takes from the Task to the token, on the output:
//!
//! | finding | when |
//! |---|---|
//! | error | a Task in the output runs buildctl without client certificates while the daemon in the input demands them (`--tlscacert`) |
//! | warning | an https registry whose certificate no public CA can have signed (an in-cluster name, a private address), and no CA for buildctl (`spec.ca`) nor `insecureSkipVerify` |
//! | error | a TaskRun, a Pipeline or a PipelineRun's `pipelineSpec` that runs the generated Task and binds none of a workspace the Task requires |
//!
//! buildctl's TLS to the daemon is global flags only (moby/buildkit
//! `cmd/buildctl/main.go`: no environment variable sets them), and buildctl fetches
//! the registry's tokens itself with the system CAs plus `--registry-auth-tlscontext`
//! (`session/auth/authprovider/authprovider.go`): neither is something the daemon's
//! buildkitd.toml can fix.

use serde_json::Value;

use super::task;
use crate::buildkit;
use crate::codes::Code;
use crate::endpoint::Scheme;
use crate::krm::FnResult;
use crate::output::Output;
use crate::spec::{DEFAULT_BUILDCTL_IMAGE, Spec};

/// Runs the checks and appends their findings.
pub(crate) fn run(
    spec: &Spec,
    buildkit: &buildkit::Topology,
    output: &Output,
    out: &mut Vec<FnResult>,
) {
    client_certs(buildkit, output, out);
    private_ca(spec, output, out);
    runs_bind_required(spec, output, out);
}

/// The steps of a Task (as JSON), or a TaskRun's inline `taskSpec`.
fn steps(v: &Value) -> Vec<&Value> {
    v.pointer("/spec/steps")
        .or_else(|| v.pointer("/spec/taskSpec/steps"))
        .and_then(Value::as_array)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

/// A step's command line as text: command, args and script.
fn step_text(step: &Value) -> String {
    ["command", "args", "script"]
        .iter()
        .filter_map(|k| step.get(k))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A daemon that demands client certificates, and a Task that runs buildctl with none.
fn client_certs(buildkit: &buildkit::Topology, output: &Output, out: &mut Vec<FnResult>) {
    let Some(daemon) = buildkit.daemon.as_ref().filter(|d| d.tls_ca) else {
        return;
    };
    let candidates = output
        .find(|id| id.is("tekton.dev", "Task") || id.is("tekton.dev", "TaskRun"))
        .filter(|&i| output.mentions(i, "buildctl"));
    for i in candidates {
        let Some(v) = output.value(i) else { continue };
        for (n, step) in steps(&v).into_iter().enumerate() {
            let text = step_text(step);
            // buildctl-daemonless.sh starts its own daemon: nothing to authenticate to.
            let runs_buildctl = text.contains("buildctl") && !text.contains("buildctl-daemonless");
            let has_certs = ["--tlsdir", "--tlscacert", "--tlscert"]
                .iter()
                .any(|f| text.contains(f));
            if !runs_buildctl || has_certs {
                continue;
            }
            let name = step.get("name").and_then(Value::as_str).unwrap_or("?");
            out.push(
                FnResult::error(Code::TektonNoClientCert, format!(
                    "step {name} runs buildctl with no client certificate, and {} demands one (it runs with --tlscacert): buildctl fails the TLS handshake. Pass --tlsdir (or --tlscacert, --tlscert, --tlskey) before `build`, since buildctl's TLS options are global flags and no environment variable sets them, from a workspace bound to the client Secret of BuildKit's create-certs.sh; the Task this function generates has one ({})",
                    daemon.describe(),
                    task::CLIENT_CERTS
                ))
                .on(output.resource_ref(i))
                .at(format!("spec.steps[{n}]")),
            );
        }
    }
}

/// An https registry that only a private CA can have signed for, and no CA for buildctl.
fn private_ca(spec: &Spec, output: &Output, out: &mut Vec<FnResult>) {
    let e = &spec.endpoint;
    if e.scheme != Scheme::Https
        || !e.tls.ca.is_empty()
        || e.tls.insecure_skip_verify
        || !e.place.in_cluster()
    {
        return;
    }
    let Some(i) = generated_task(spec, output) else {
        return;
    };
    let host = e.authority();
    let message = format!(
        "{host} is an in-cluster name or a private address, for which no public CA issues certificates (the CA/Browser Forum's Baseline Requirements forbid them), so its CA is a private one, and no CA reaches buildctl: it fetches the registry's tokens itself, with the system CAs, and fails with x509: certificate signed by unknown authority. Set spec.ca (the CA files in the daemon; the Task's {} workspace then is required, for buildctl), or spec.insecureSkipVerify; or spec.scheme: http, if the registry is plain HTTP",
        task::REGISTRY_CA
    );
    // A warning: the cluster may hand buildctl the CA where this cannot see it (a
    // builder image with it among the system CAs, SSL_CERT_FILE from a pod template).
    let image = if spec.tekton.buildctl_image == DEFAULT_BUILDCTL_IMAGE {
        String::new()
    } else {
        format!(
            " (or {} has the CA among its system CAs)",
            spec.tekton.buildctl_image
        )
    };
    let finding = FnResult::warning(Code::TektonPrivateCa, format!("{message}{image}"));
    out.push(finding.on(output.resource_ref(i)).at("spec.ca"));
}

/// The Task this run generated, in the output.
pub(crate) fn generated_task(spec: &Spec, output: &Output) -> Option<usize> {
    let t = &spec.tekton;
    output
        .find(|id| {
            id.is("tekton.dev", "Task") && id.name == t.task_name && id.in_namespace(&t.namespace)
        })
        .find(|&i| output.is_generated(i))
}

/// The workspaces the generated Task requires (not optional).
fn required_workspaces(task: &Value) -> Vec<String> {
    task.pointer("/spec/workspaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|w| w.get("optional") != Some(&Value::Bool(true)))
        .filter_map(|w| w.get("name")?.as_str().map(str::to_string))
        .collect()
}

/// The names of `list`'s entries (`[{name: ...}]`).
fn names(list: Option<&Value>) -> Vec<&str> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|w| w.get("name")?.as_str())
        .collect()
}

/// Whether `r` (a TaskRun's spec, or a Pipeline's task) runs the Task `name` by
/// `taskRef` (a `kind` other than Task is a custom task or a cluster-scoped one).
pub(crate) fn runs_task(r: &Value, name: &str) -> bool {
    r.pointer("/taskRef/name").and_then(Value::as_str) == Some(name)
        && r.pointer("/taskRef/kind")
            .and_then(Value::as_str)
            .is_none_or(|k| k == "Task")
}

/// The tasks of a Pipeline's spec (`tasks`, then `finally`) that run the Task `name`,
/// each with its list and its index in it.
pub(crate) fn tasks_running<'v>(
    pipeline: &'v Value,
    name: &'v str,
) -> impl Iterator<Item = (&'static str, usize, &'v Value)> + 'v {
    ["tasks", "finally"].into_iter().flat_map(move |list| {
        pipeline
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter(move |(_, t)| runs_task(t, name))
            .map(move |(n, t)| (list, n, t))
    })
}

/// TaskRuns, Pipelines and PipelineRuns' inline `pipelineSpec`s in the output that run
/// the generated Task must bind every workspace it requires: Tekton refuses the run
/// otherwise, at run time (tektoncd/pipeline `pkg/reconciler/taskrun/validate_taskrun.go`).
fn runs_bind_required(spec: &Spec, output: &Output, out: &mut Vec<FnResult>) {
    let Some(task_index) = generated_task(spec, output) else {
        return;
    };
    let Some(task) = output.value(task_index) else {
        return;
    };
    let required = required_workspaces(&task);
    let name = &spec.tekton.task_name;
    let candidates = output
        .find(|id| {
            ["TaskRun", "Pipeline", "PipelineRun"]
                .iter()
                .any(|kind| id.is("tekton.dev", kind))
        })
        .filter(|&i| output.mentions(i, name));
    for i in candidates {
        let id = output.identity(i);
        if !id.in_namespace(&spec.tekton.namespace) {
            continue;
        }
        let Some(v) = output.value(i) else { continue };
        // (where, the binding list) of each use of our Task.
        let uses: Vec<(String, Option<&Value>)> = if id.kind == "TaskRun" {
            v.get("spec")
                .filter(|s| runs_task(s, name))
                .map(|s| ("spec.workspaces".to_string(), s.get("workspaces")))
                .into_iter()
                .collect()
        } else {
            // A Pipeline's tasks, or those of a PipelineRun's inline pipelineSpec.
            let (base, pipeline) = if id.kind == "Pipeline" {
                ("spec", v.get("spec"))
            } else {
                ("spec.pipelineSpec", v.pointer("/spec/pipelineSpec"))
            };
            pipeline
                .into_iter()
                .flat_map(|p| tasks_running(p, name))
                .map(|(list, n, t)| {
                    (
                        format!("{base}.{list}[{n}].workspaces"),
                        t.get("workspaces"),
                    )
                })
                .collect()
        };
        for (path, bindings) in uses {
            let bound = names(bindings);
            let missing: Vec<&str> = required
                .iter()
                .map(String::as_str)
                .filter(|w| !bound.contains(w))
                .collect();
            if missing.is_empty() {
                continue;
            }
            out.push(
                FnResult::error(Code::TektonRunMissingWorkspace, format!(
                    "{} {} runs Task {name} without binding its workspace(s) {}, which the Task requires: Tekton refuses the run. {}",
                    id.kind,
                    id.name,
                    missing.join(", "),
                    missing
                        .iter()
                        .map(|w| why_required(w))
                        .collect::<Vec<_>>()
                        .join(" ")
                ))
                .on(output.resource_ref(i))
                .at(path),
            );
        }
    }
}

/// Why the generated Task requires workspace `w`, and what to bind it to.
fn why_required(w: &str) -> String {
    match w {
        "source" => "source: the folder holding CONTEXT and DOCKERFILE.".into(),
        task::DOCKER_CONFIG => {
            "dockerconfig: the registry's kubernetes.io/dockerconfigjson Secret.".into()
        }
        task::CLIENT_CERTS => format!(
            "{w}: the daemon demands client certificates (--tlscacert); bind the client Secret of BuildKit's create-certs.sh."
        ),
        task::REGISTRY_CA => format!(
            "{w}: the registry's certificate is signed by the CA in spec.ca, which buildctl needs for its own token fetch; bind the Secret or ConfigMap holding it."
        ),
        _ => String::new(),
    }
}
