//! Checks on the values the generated Task's params take, on the output:
//!
//! | finding | when |
//! |---|---|
//! | error (HBF413) | a TaskRun, a Pipeline or a PipelineRun gives the Task an `IMAGE` on another registry than the one it was generated for |
//! | error (HBF323) | `BUILDER_IMAGE` (the Task's default, or a run's) is a BuildKit release older than the Task supports |
//!
//! The registry of an image is its first path component as BuildKit reads it
//! (distribution/reference, [`crate::names::reference::domain`]); buildctl looks its
//! credentials up by that host exactly, and the realm, `http = true` and the CA were
//! all set up for `spec.registry`. A Pipeline task's value may be `$(params.P)`: it is
//! read from each PipelineRun of the output that runs the Pipeline (by `pipelineRef`,
//! or its inline `pipelineSpec`), else from the Pipeline's default for `P`
//! (tektoncd/pipeline `pkg/reconciler/pipelinerun/resources/apply.go`
//! `ApplyParameters`). A value whose registry part still holds a `$(...)` is not judged.

use std::collections::HashMap;

use serde_json::Value;

use super::chain;
use crate::buildkit::release::{self, Version};
use crate::codes::Code;
use crate::krm::FnResult;
use crate::names::reference;
use crate::output::Output;
use crate::spec::{DEFAULT_BUILDCTL_IMAGE, Spec};

const IMAGE: &str = "IMAGE";
const BUILDER_IMAGE: &str = "BUILDER_IMAGE";

/// One value a param takes, and where it is written.
struct Given {
    /// The output item that holds it.
    holder: usize,
    /// Its field path in that item.
    path: String,
    /// `IMAGE` or `BUILDER_IMAGE`.
    param: &'static str,
    /// The value, with the `$(params.X)` it could resolve replaced.
    value: String,
    /// Who gives it: `TaskRun build-1`, `Pipeline ci (task build)`.
    who: String,
}

/// Runs the checks and appends their findings.
pub(crate) fn run(spec: &Spec, output: &Output, out: &mut Vec<FnResult>) {
    let Some(task_index) = chain::generated_task(spec, output) else {
        return;
    };
    let mut given = Vec::new();
    if let Some(task) = output.value(task_index) {
        for (k, p) in entries(task.pointer("/spec/params")) {
            if let Some(default) = p.get("default").and_then(Value::as_str) {
                push(&mut given, p, |param| Given {
                    holder: task_index,
                    path: format!("spec.params[{k}].default"),
                    param,
                    value: default.to_string(),
                    who: format!("Task {}", spec.tekton.task_name),
                });
            }
        }
    }
    task_runs(spec, output, &mut given);
    pipelines(spec, output, &mut given);
    for g in given {
        judge(spec, output, &g, out);
    }
}

/// The entries of a `[{name: ...}]` list, with their index.
fn entries(list: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Adds `make(param)` when `p` is the `IMAGE` or `BUILDER_IMAGE` entry.
fn push(given: &mut Vec<Given>, p: &Value, make: impl FnOnce(&'static str) -> Given) {
    let param = match p.get("name").and_then(Value::as_str) {
        Some(IMAGE) => IMAGE,
        Some(BUILDER_IMAGE) => BUILDER_IMAGE,
        _ => return,
    };
    given.push(make(param));
}

/// The TaskRuns that run the Task by `taskRef`.
fn task_runs(spec: &Spec, output: &Output, given: &mut Vec<Given>) {
    let (name, ns) = (&spec.tekton.task_name, &spec.tekton.namespace);
    let runs = output
        .find(|id| id.is("tekton.dev", "TaskRun") && id.in_namespace(ns))
        .filter(|&i| output.mentions(i, name));
    for i in runs {
        let Some(v) = output.value(i) else { continue };
        let Some(run) = v.get("spec").filter(|s| chain::runs_task(s, name)) else {
            continue;
        };
        for (k, p) in entries(run.get("params")) {
            if let Some(value) = p.get("value").and_then(Value::as_str) {
                push(given, p, |param| Given {
                    holder: i,
                    path: format!("spec.params[{k}].value"),
                    param,
                    value: value.to_string(),
                    who: format!("TaskRun {}", output.identity(i).name),
                });
            }
        }
    }
}

/// The value of each param of a PipelineRun (`spec.params`) or the defaults of a
/// Pipeline's (`params[].default`), with the path it is written at.
fn values(list: Option<&Value>, key: &str, base: &str) -> HashMap<String, (String, String)> {
    entries(list)
        .filter_map(|(k, p)| {
            let name = p.get("name")?.as_str()?;
            let value = p.get(key)?.as_str()?;
            Some((
                name.to_string(),
                (value.to_string(), format!("{base}[{k}].{key}")),
            ))
        })
        .collect()
}

/// `value` with each `$(params.NAME)` that `lookup` knows replaced, and the path of the
/// first value used (`None` when none was).
fn substitute(value: &str, lookup: &HashMap<String, (String, String)>) -> (String, Option<String>) {
    let mut out = String::new();
    let mut first = None;
    let mut rest = value;
    while let Some(at) = rest.find("$(params.") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "$(params.".len()..];
        let Some(end) = after.find(')') else {
            out.push_str(&rest[at..]);
            return (out, first);
        };
        match lookup.get(&after[..end]) {
            Some((v, path)) => {
                out.push_str(v);
                first.get_or_insert_with(|| path.clone());
            }
            None => out.push_str(&rest[at..at + "$(params.".len() + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    (out, first)
}

/// The tasks of Pipelines and of PipelineRuns' inline `pipelineSpec`s that run the
/// Task, with the values each PipelineRun gives them.
fn pipelines(spec: &Spec, output: &Output, given: &mut Vec<Given>) {
    let (name, ns) = (&spec.tekton.task_name, &spec.tekton.namespace);
    let runs: Vec<usize> = output
        .find(|id| id.is("tekton.dev", "PipelineRun") && id.in_namespace(ns))
        .collect();
    let pipelines = output
        .find(|id| id.is("tekton.dev", "Pipeline") && id.in_namespace(ns))
        .filter(|&i| output.mentions(i, name));
    for i in pipelines {
        let Some(v) = output.value(i) else { continue };
        let Some(pipeline) = v.get("spec") else {
            continue;
        };
        let pipeline_name = output.identity(i).name;
        let defaults = values(pipeline.get("params"), "default", "spec.params");
        // The Pipeline's own values (literal, or its defaults).
        pipeline_tasks(pipeline, name, "spec", &defaults, i, given, &|task| {
            format!("Pipeline {pipeline_name} (task {task})")
        });
        // What each PipelineRun of it gives.
        for &r in &runs {
            let Some(rv) = output.value(r) else { continue };
            if rv.pointer("/spec/pipelineRef/name").and_then(Value::as_str) != Some(pipeline_name) {
                continue;
            }
            let given_values = values(rv.pointer("/spec/params"), "value", "spec.params");
            let run_name = output.identity(r).name;
            run_values(pipeline, name, &given_values, r, given, &|task| {
                format!("PipelineRun {run_name} (Pipeline {pipeline_name}, task {task})")
            });
        }
    }
    for r in runs {
        let Some(rv) = output.value(r) else { continue };
        let Some(pipeline) = rv.pointer("/spec/pipelineSpec") else {
            continue;
        };
        let mut lookup = values(
            pipeline.get("params"),
            "default",
            "spec.pipelineSpec.params",
        );
        lookup.extend(values(rv.pointer("/spec/params"), "value", "spec.params"));
        let run_name = output.identity(r).name;
        pipeline_tasks(
            pipeline,
            name,
            "spec.pipelineSpec",
            &lookup,
            r,
            given,
            &|task| format!("PipelineRun {run_name} (task {task})"),
        );
    }
}

/// Each `IMAGE` and `BUILDER_IMAGE` a Pipeline's tasks running `task` give, with
/// `$(params.X)` read from `lookup`; written where the value comes from (the task's
/// literal, or the param value or default it was read from).
fn pipeline_tasks(
    pipeline: &Value,
    task: &str,
    base: &str,
    lookup: &HashMap<String, (String, String)>,
    holder: usize,
    given: &mut Vec<Given>,
    who: &dyn Fn(&str) -> String,
) {
    for (list, n, t) in chain::tasks_running(pipeline, task) {
        let task_name = t.get("name").and_then(Value::as_str).unwrap_or("?");
        for (k, p) in entries(t.get("params")) {
            let Some(raw) = p.get("value").and_then(Value::as_str) else {
                continue;
            };
            let (value, from) = substitute(raw, lookup);
            let path = from.unwrap_or_else(|| format!("{base}.{list}[{n}].params[{k}].value"));
            push(given, p, |param| Given {
                holder,
                path,
                param,
                value,
                who: who(task_name),
            });
        }
    }
}

/// The values a PipelineRun gives (`run_given`) to the `$(params.X)` of a Pipeline's tasks
/// that run `task`: only those it gives (the Pipeline's own defaults are judged on the
/// Pipeline).
fn run_values(
    pipeline: &Value,
    task: &str,
    run_given: &HashMap<String, (String, String)>,
    holder: usize,
    given: &mut Vec<Given>,
    who: &dyn Fn(&str) -> String,
) {
    let defaults = values(pipeline.get("params"), "default", "spec.params");
    for (_, _, t) in chain::tasks_running(pipeline, task) {
        let task_name = t.get("name").and_then(Value::as_str).unwrap_or("?");
        for (_, p) in entries(t.get("params")) {
            let Some(raw) = p.get("value").and_then(Value::as_str) else {
                continue;
            };
            let (value, from) = substitute(raw, run_given);
            let Some(path) = from else { continue };
            let (value, _) = substitute(&value, &defaults);
            push(given, p, |param| Given {
                holder,
                path,
                param,
                value,
                who: who(task_name),
            });
        }
    }
}

/// The registry part of an image reference, unless a `$(...)` is still in it.
fn registry_of(image: &str) -> Option<&str> {
    let first = image.split('/').next().unwrap_or(image);
    if image.is_empty() || first.contains("$(") {
        return None;
    }
    Some(reference::domain(image))
}

/// The finding on one value, if any.
fn judge(spec: &Spec, output: &Output, g: &Given, out: &mut Vec<FnResult>) {
    let registry = spec.endpoint.authority();
    let finding = match g.param {
        IMAGE => {
            let Some(host) = registry_of(&g.value).filter(|h| *h != registry) else {
                return;
            };
            FnResult::error(
                Code::TektonImageRegistry,
                format!(
                    "{} gives IMAGE {}, which BuildKit pushes to registry {host}, but Task {} was generated for {registry}: buildctl looks up the credentials by the image's host exactly, and the realm, http = true and the CA were set up for {registry} (an image whose first part has no . or : is on Docker Hub). Name the image {registry}/<project>/<name>:<tag>, or generate the Task for {host} (spec.registry)",
                    g.who, g.value, spec.tekton.task_name
                ),
            )
        }
        _ => {
            let Some(v) =
                Version::of_buildkit_image(&g.value).filter(|v| *v < release::MIN_SUPPORTED)
            else {
                return;
            };
            let lacks: Vec<String> = release::lacks(v)
                .map(|n| format!("{} ({}, from {}: {})", n.what, n.reader, n.since, n.source))
                .collect();
            let fix = if g.who.starts_with("Task ") {
                "set spec.buildctlImage to".to_string()
            } else {
                "use".to_string()
            };
            FnResult::error(
                Code::BuildkitTooOld,
                format!(
                    "{} gives BUILDER_IMAGE {}, BuildKit {v}; the Task's step needs {} or later, and {v} lacks {}: {fix} {DEFAULT_BUILDCTL_IMAGE} or another release from {} on",
                    g.who,
                    g.value,
                    release::MIN_SUPPORTED,
                    lacks.join(", "),
                    release::MIN_SUPPORTED
                ),
            )
        }
    };
    out.push(finding.on(output.resource_ref(g.holder)).at(g.path.clone()));
}
