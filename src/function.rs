//! The transformation: from a ResourceList in to a ResourceList out.
//!
//! 1. Read the ResourceList ([`krm`]) and the spec ([`spec`]); any error stops here
//!    with error results and no items, so nothing half-made leaves.
//! 2. Decide where Harbor's core ConfigMap is: in the input (patch it in place), or
//!    not (kustomize generator: a `behavior: merge` patch; otherwise a local-config
//!    patch with a warning saying how to apply it).
//! 3. Patch or create the BuildKit ConfigMap, and create or regenerate the Task.
//!
//! Running the function on its own output changes nothing: patched values are
//! compared before they are written, and a Task this function generated earlier is
//! regenerated in place rather than added again.

use serde_json::Value;

use crate::krm::{self, FnResult, Item, OutItem, ResourceList, ResourceRef};
use crate::spec::{self, Spec};
use crate::yaml::edit::{self, Edits};
use crate::yaml::{NodeId, Tree, scalar};
use crate::{MANAGED_BY, MANAGED_BY_LABEL, buildkitd, check, harbor, task};

/// What the process prints and how it exits.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    /// The results written in `stdout`, for callers that show them another way.
    pub results: Vec<FnResult>,
}

/// The same, for [`run_to`], whose stdout went to a writer.
#[derive(Debug)]
pub struct Status {
    pub stderr: String,
    pub exit_code: i32,
    pub results: Vec<FnResult>,
}

/// How the function is being called, read from the shape of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// kustomize `generators:`: the only item is the functionConfig itself.
    KustomizeGenerator,
    /// A kpt package: the items hold a Kptfile.
    KptPackage,
    /// Anything else: a transformer over whatever resources came in.
    Transformer,
}

/// Annotations that tie an item to its file and identity in kpt and kustomize; an
/// item this function regenerates keeps the ones it came in with.
fn is_identity_annotation(key: &str) -> bool {
    key.starts_with("internal.config.kubernetes.io/")
        || matches!(
            key,
            "config.kubernetes.io/path"
                | "config.kubernetes.io/index"
                | "config.k8s.io/id"
                | "kustomize.config.k8s.io/id"
        )
}

/// Runs the function on `input` and returns everything it prints.
pub fn run(input: &[u8]) -> Outcome {
    let mut stdout = Vec::with_capacity(input.len() + 8192);
    // Writing to a Vec cannot fail.
    let status = run_to(input, &mut stdout).unwrap_or_else(|e| Status {
        stderr: e.to_string(),
        exit_code: 1,
        results: Vec::new(),
    });
    Outcome {
        stdout: String::from_utf8(stdout).unwrap_or_default(),
        stderr: status.stderr,
        exit_code: status.exit_code,
        results: status.results,
    }
}

/// Runs the function on `input`, streaming the output ResourceList to `out` (the
/// output is not held in memory). Everything that can fail is decided before the
/// first byte is written, so `out` never receives half an answer.
pub fn run_to(input: &[u8], out: &mut dyn std::io::Write) -> std::io::Result<Status> {
    let mut results = Vec::new();
    let text = match krm::decode(input) {
        Ok(t) => t,
        Err(e) => return failure(vec![input_error(e)], out),
    };
    let rl = match ResourceList::parse(&text) {
        Ok(rl) => rl,
        Err(e) => return failure(vec![input_error(e)], out),
    };
    let mut checks = Vec::new();
    let transformed = transform(&rl, &mut results, &mut checks);
    results.append(&mut checks);
    match transformed {
        Ok(items) => {
            krm::write(out, Some(&rl), &items, &results)?;
            Ok(Status {
                stderr: String::new(),
                exit_code: 0,
                results,
            })
        }
        Err(()) => failure(results, out),
    }
}

/// What `harbor-buildkit-fn check` reports: the findings of [`crate::check`] on the output
/// this input would give, or the errors that stop the function before it gets there.
#[derive(Debug)]
pub struct Checked {
    pub results: Vec<FnResult>,
    pub exit_code: i32,
}

/// Runs the function on `input` for its checks alone; the output items are dropped.
pub fn check(input: &[u8]) -> Checked {
    let mut results = Vec::new();
    let mut checks = Vec::new();
    match krm::decode(input) {
        Err(e) => results.push(input_error(e)),
        Ok(text) => match ResourceList::parse(&text) {
            Err(e) => results.push(input_error(e)),
            // The items are dropped; the outcome is in `results` and `checks`.
            Ok(rl) => {
                let _ = transform(&rl, &mut results, &mut checks);
            }
        },
    }
    // What was generated is not the question here; what failed is.
    results.retain(|r| r.severity == krm::Severity::Error);
    results.append(&mut checks);
    let failed = results.iter().any(|r| r.severity == krm::Severity::Error);
    Checked {
        results,
        exit_code: i32::from(failed),
    }
}

fn input_error(e: krm::InputError) -> FnResult {
    let r = FnResult::error(e.message);
    match e.field {
        Some(f) => r.at(f),
        None => r,
    }
}

/// An error outcome: the results, no items (nothing half-made), exit 1.
fn failure(mut results: Vec<FnResult>, out: &mut dyn std::io::Write) -> std::io::Result<Status> {
    // Nothing was generated or patched: drop the results that would say so.
    results.retain(|r| r.severity == krm::Severity::Error);
    krm::write(out, None, &[], &results)?;
    let mut stderr = String::new();
    for r in &results {
        stderr.push_str(&r.to_line());
        stderr.push('\n');
    }
    Ok(Status {
        stderr,
        exit_code: 1,
        results,
    })
}

/// Reads the mode from the items (and the functionConfig, `fc` in `tree`).
pub fn mode(rl: &ResourceList, tree: &Tree, fc: NodeId) -> Mode {
    let is_fc = |item: &Item| {
        tree.get_str(fc, &["kind"]) == Some(item.kind.as_ref())
            && tree.get_str(fc, &["apiVersion"]) == Some(item.api_version.as_ref())
            && tree.get_str(fc, &["metadata", "name"]).unwrap_or_default() == item.name
    };
    if rl.items.iter().any(|i| i.kind == "Kptfile") {
        Mode::KptPackage
    } else if rl.items.len() == 1 && is_fc(&rl.items[0]) {
        Mode::KustomizeGenerator
    } else {
        Mode::Transformer
    }
}

/// The output items; `results` gets what was generated or patched, `checks` the
/// findings of [`check`] on the result.
fn transform(
    rl: &ResourceList,
    results: &mut Vec<FnResult>,
    checks: &mut Vec<FnResult>,
) -> Result<Vec<OutItem>, ()> {
    let Some(fc_span) = rl.function_config else {
        results.push(
            FnResult::error(format!(
                "no functionConfig: give a {} ({}) with at least spec.registry",
                spec::KIND,
                spec::API_VERSION
            ))
            .at("functionConfig"),
        );
        return Err(());
    };
    let (fc_text, _) = rl.standalone(&fc_span);
    let fc_tree = match Tree::parse(&fc_text) {
        Ok(t) => t,
        Err(e) => {
            results.push(
                FnResult::error(format!("functionConfig is not valid YAML: {e}"))
                    .at("functionConfig"),
            );
            return Err(());
        }
    };
    let Some(fc) = fc_tree.root else {
        return Err(());
    };
    let parsed = match spec::parse(&fc_tree, fc) {
        Ok(p) => p,
        Err(errors) => {
            results.extend(errors);
            return Err(());
        }
    };
    results.extend(parsed.warnings);
    let spec = parsed.spec;
    let mode = mode(rl, &fc_tree, fc);

    let mut out: Vec<OutItem> = (0..rl.items.len()).map(OutItem::Input).collect();
    let mut new: Vec<Value> = Vec::new();
    let mut failed = false;
    let mut applied = check::Applied::default();

    if spec.generate.harbor_core {
        match harbor_core(rl, &spec, mode, &mut out, &mut new, results) {
            Ok(in_place) => {
                applied.core_url = Some(harbor::core_url(&spec));
                applied.core_in_place = in_place;
            }
            Err(()) => failed = true,
        }
    }
    if spec.generate.buildkitd_config {
        match buildkit_config(rl, &spec, &mut out, &mut new, results) {
            Ok(written) => applied.buildkitd = Some(written),
            Err(()) => failed = true,
        }
    }
    if spec.generate.task {
        failed |= tekton_task(rl, &spec, &mut out, &mut new, results).is_err();
    }
    if failed {
        return Err(());
    }
    check::run(rl, &spec, &applied, checks);
    if checks.iter().any(|r| r.severity == krm::Severity::Error) {
        return Err(());
    }
    out.extend(new.into_iter().map(OutItem::New));
    Ok(out)
}

/// The one item of `kind` in `group` named `name` in `namespace` (or with no
/// namespace) that `filter` accepts. Several is an error: which to patch is unclear.
fn find(
    rl: &ResourceList,
    group: &str,
    kind: &str,
    name: &str,
    namespace: &str,
    filter: impl Fn(&Item) -> bool,
    results: &mut Vec<FnResult>,
) -> Result<Option<usize>, ()> {
    let found: Vec<usize> = rl
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.is(group, kind) && i.name == name && i.in_namespace(namespace) && filter(i)
        })
        .map(|(n, _)| n)
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        [first, ..] => {
            results.push(
                FnResult::error(format!(
                    "{} items match {kind} {namespace}/{name} (with and without a namespace); keep one",
                    found.len()
                ))
                .on(ResourceRef::of(&rl.items[*first])),
            );
            Err(())
        }
    }
}

/// An item re-read whole (the ResourceList reader kept only its identity) so it can be
/// edited. Its text stands at its original column, so spans, indentation and edits
/// all line up with the original.
struct Editable {
    text: String,
    prefix_len: usize,
    col: usize,
}

impl Editable {
    fn of(rl: &ResourceList, item: &Item) -> Editable {
        let (text, prefix_len) = rl.standalone(&item.span);
        Editable {
            text,
            prefix_len,
            col: item.span.col,
        }
    }

    fn finish(&self, edits: Edits) -> OutItem {
        let text = edits.apply(&self.text);
        OutItem::Edited {
            text: text[self.prefix_len..].to_string(),
            col: self.col,
        }
    }
}

fn reparse<'s>(
    padded: &'s str,
    item: &Item,
    results: &mut Vec<FnResult>,
) -> Result<(Tree<'s>, crate::yaml::NodeId), ()> {
    match Tree::parse(padded) {
        Ok(t) => match t.root {
            Some(root) => Ok((t, root)),
            None => Err(()),
        },
        Err(e) => {
            results.push(
                FnResult::error(format!(
                    "cannot re-read this item to patch it ({e}); an alias to an anchor outside the item is the usual cause: write the value out"
                ))
                .on(ResourceRef::of(item)),
            );
            Err(())
        }
    }
}

fn edit_error(item: &Item, e: edit::EditError) -> FnResult {
    FnResult::error(format!("{} {}", e.path, e.message))
        .on(ResourceRef::of(item))
        .at(e.path)
}

fn harbor_core(
    rl: &ResourceList,
    spec: &Spec,
    mode: Mode,
    out: &mut [OutItem],
    new: &mut Vec<Value>,
    results: &mut Vec<FnResult>,
) -> Result<bool, ()> {
    let (name, ns) = (&spec.harbor_config_map, &spec.harbor_namespace);
    let is_local = |i: &Item| i.local_config;
    let real = find(rl, "", "ConfigMap", name, ns, |i| !is_local(i), results)?;
    let data = harbor::core_data(spec);

    let Some(idx) = real else {
        return match mode {
            Mode::KustomizeGenerator => {
                new.push(harbor::merge_patch(spec));
                results.push(
                    FnResult::info(format!(
                        "generated a behavior: merge patch for ConfigMap {ns}/{name}: CORE_URL={} (kustomize merges it into the ConfigMap from resources:)",
                        data[0].1
                    ))
                    .on(generated_ref("ConfigMap", name, ns)),
                );
                Ok(false)
            }
            Mode::KptPackage | Mode::Transformer => {
                let previous = find(
                    rl,
                    "",
                    "ConfigMap",
                    name,
                    ns,
                    |i| is_local(i) && i.managed_by.as_deref() == Some(MANAGED_BY),
                    results,
                )?;
                let patch = harbor::local_config_patch(spec);
                match previous {
                    Some(i) => out[i] = OutItem::New(keep_identity(patch, rl, &rl.items[i])),
                    None => new.push(patch),
                }
                results.push(
                    FnResult::warning(format!(
                        "Harbor's core ConfigMap {ns}/{name} is not in the input, so the CORE_URL patch was written to {} as local config (never applied by itself). Apply it where Harbor is rendered: add Harbor's manifests to this package, or merge these two keys into ConfigMap {name} (e.g. a kustomize patch), then restart harbor-core",
                        harbor::LOCAL_PATCH_PATH
                    ))
                    .on(generated_ref("ConfigMap", name, ns)),
                );
                Ok(false)
            }
        };
    };

    let item = &rl.items[idx];
    let editable = Editable::of(rl, item);
    let (tree, root) = reparse(&editable.text, item, results)?;
    let mut edits = Edits::default();
    let entries: Vec<(&str, Value)> = data
        .iter()
        .map(|(k, v)| (*k, Value::String(v.clone())))
        .collect();
    let current: Vec<Option<String>> = data
        .iter()
        .map(|(k, _)| tree.get_str(root, &["data", k]).map(str::to_string))
        .collect();
    let changed = match edit::set_entries(&tree, root, &["data"], &entries, &mut edits) {
        Ok(c) => c,
        Err(e) => {
            results.push(edit_error(item, e));
            return Err(());
        }
    };
    for (((key, value), current), changed) in data.iter().zip(&current).zip(changed) {
        let path = format!("data.{key}");
        results.push(if changed {
            FnResult::info(format!("set {key} to {value}"))
                .on(ResourceRef::of(item))
                .change(&path, current.as_deref(), value)
        } else {
            FnResult::info(format!("{key} is already {value}"))
                .on(ResourceRef::of(item))
                .at(path)
        });
    }
    out[idx] = editable.finish(edits);

    // Restart harbor-core when these settings change: it reads them through envFrom.
    let deployment = find(
        rl,
        "apps",
        "Deployment",
        &spec.harbor_deployment,
        ns,
        |_| true,
        results,
    )?;
    let path = [
        "spec",
        "template",
        "metadata",
        "annotations",
        harbor::RESTART_ANNOTATION,
    ];
    match deployment {
        Some(d) => {
            let item = &rl.items[d];
            let editable = Editable::of(rl, item);
            let (tree, root) = reparse(&editable.text, item, results)?;
            let checksum = harbor::restart_checksum(spec);
            let mut edits = Edits::default();
            match edit::set(&tree, root, &path, &Value::String(checksum.clone()), &mut edits) {
                Ok(changed) => {
                    let field = format!("spec.template.metadata.annotations.{}", harbor::RESTART_ANNOTATION);
                    results.push(
                        FnResult::info(if changed {
                            "set the pod-template checksum annotation, so harbor-core restarts and reads the new CORE_URL".to_string()
                        } else {
                            "the pod-template checksum annotation is already current".to_string()
                        })
                        .on(ResourceRef::of(item))
                        .change(&field, None, &checksum),
                    );
                }
                Err(e) => {
                    results.push(edit_error(item, e));
                    return Err(());
                }
            }
            out[d] = editable.finish(edits);
        }
        None => results.push(
            FnResult::info(format!(
                "Deployment {ns}/{} is not in the input: after applying, restart harbor-core (kubectl -n {ns} rollout restart deployment/{}), which reads CORE_URL only at start",
                spec.harbor_deployment, spec.harbor_deployment
            ))
            .on(ResourceRef::of(item)),
        ),
    }
    Ok(true)
}

fn generated_ref(kind: &str, name: &str, namespace: &str) -> ResourceRef {
    ResourceRef {
        api_version: if kind == "Task" {
            "tekton.dev/v1"
        } else {
            "v1"
        }
        .into(),
        kind: kind.into(),
        name: name.into(),
        namespace: namespace.into(),
    }
}

/// `generated` with the identity annotations `previous` came in with.
fn keep_identity(mut generated: Value, rl: &ResourceList, previous: &Item) -> Value {
    let (text, _) = rl.standalone(&previous.span);
    let Ok(tree) = Tree::parse(&text) else {
        return generated;
    };
    let Some(entries) = tree
        .root
        .and_then(|r| tree.get(r, "metadata"))
        .and_then(|m| tree.get(m, "annotations"))
        .and_then(|a| tree.entries(a))
    else {
        return generated;
    };
    if let Some(annotations) = generated
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for &(k, v) in entries {
            if let (Some((k, _, _)), Some((v, _, _))) = (tree.scalar(k), tree.scalar(v)) {
                if is_identity_annotation(k) {
                    annotations.insert(k.to_string(), Value::String(v.to_string()));
                }
            }
        }
    }
    generated
}

fn buildkit_config(
    rl: &ResourceList,
    spec: &Spec,
    out: &mut [OutItem],
    new: &mut Vec<Value>,
    results: &mut Vec<FnResult>,
) -> Result<(ResourceRef, String), ()> {
    let (name, ns) = (&spec.buildkit_config_map, &spec.namespace);
    let host = spec.registry.authority();
    let Some(idx) = find(rl, "", "ConfigMap", name, ns, |_| true, results)? else {
        let toml = match buildkitd::render(None, spec) {
            Ok(t) => t,
            Err(e) => {
                results.push(FnResult::error(format!("internal: {}", e.message)));
                return Err(());
            }
        };
        new.push(buildkitd::config_map(spec, &toml));
        let generated = generated_ref("ConfigMap", name, ns);
        results.push(
            FnResult::info(format!(
                "generated buildkitd.toml with [registry.\"{host}\"] ({}); mount it at /etc/buildkit (rootful) or ~/.config/buildkit (rootless)",
                registry_summary(spec)
            ))
            .on(generated.clone()),
        );
        return Ok((generated, toml));
    };
    let item = &rl.items[idx];
    let editable = Editable::of(rl, item);
    let (tree, root) = reparse(&editable.text, item, results)?;
    let existing = match tree
        .get(root, "data")
        .and_then(|d| tree.get(d, buildkitd::KEY))
    {
        None => None,
        Some(v) => match tree.scalar(v) {
            Some((s, style, tag))
                if matches!(scalar::resolve(s, style, tag), scalar::Resolved::Str(_)) =>
            {
                Some(s)
            }
            _ => {
                results.push(
                    FnResult::error(format!(
                        "is {}, expected the text of buildkitd.toml",
                        tree.describe(v)
                    ))
                    .on(ResourceRef::of(item))
                    .at(format!("data.{}", buildkitd::KEY)),
                );
                return Err(());
            }
        },
    };
    let toml = match buildkitd::render(existing, spec) {
        Ok(t) => t,
        Err(e) => {
            results.push(
                FnResult::error(format!(
                    "data.buildkitd.toml does not parse as TOML, line {}: {}",
                    e.line, e.message
                ))
                .on(ResourceRef::of(item))
                .at(format!("data.{}", buildkitd::KEY)),
            );
            return Err(());
        }
    };
    let mut edits = Edits::default();
    let changed = match edit::set(
        &tree,
        root,
        &["data", buildkitd::KEY],
        &Value::String(toml.clone()),
        &mut edits,
    ) {
        Ok(c) => c,
        Err(e) => {
            results.push(edit_error(item, e));
            return Err(());
        }
    };
    results.push(
        FnResult::info(if changed {
            format!(
                "set [registry.\"{host}\"] in buildkitd.toml ({}); the rest of the file is unchanged",
                registry_summary(spec)
            )
        } else {
            format!("[registry.\"{host}\"] in buildkitd.toml is already current")
        })
        .on(ResourceRef::of(item))
        .at(format!("data.{}", buildkitd::KEY)),
    );
    out[idx] = editable.finish(edits);
    Ok((ResourceRef::of(item), toml))
}

fn registry_summary(spec: &Spec) -> String {
    let mut parts = Vec::new();
    match spec.scheme {
        spec::Scheme::Http => parts.push("http = true".to_string()),
        spec::Scheme::Https => {
            if !spec.ca.is_empty() {
                parts.push(format!("ca = {:?}", spec.ca));
            }
            if spec.insecure_skip_verify {
                parts.push("insecure = true".into());
            }
        }
    }
    if !spec.mirrors.is_empty() {
        parts.push(format!("mirrors = {:?}", spec.mirrors));
    }
    if parts.is_empty() {
        "https with the system CAs".into()
    } else {
        parts.join(", ")
    }
}

fn tekton_task(
    rl: &ResourceList,
    spec: &Spec,
    out: &mut [OutItem],
    new: &mut Vec<Value>,
    results: &mut Vec<FnResult>,
) -> Result<(), ()> {
    let (name, ns) = (&spec.task_name, &spec.namespace);
    let generated = task::task(spec);
    match find(rl, "tekton.dev", "Task", name, ns, |_| true, results)? {
        None => {
            new.push(generated);
            results.push(
                FnResult::info(format!(
                    "generated Task {ns}/{name}: buildctl build and push to {}",
                    spec.registry.authority()
                ))
                .on(generated_ref("Task", name, ns)),
            );
        }
        Some(i) if rl.items[i].managed_by.as_deref() == Some(MANAGED_BY) => {
            out[i] = OutItem::New(keep_identity(generated, rl, &rl.items[i]));
            results.push(
                FnResult::info(format!("regenerated Task {ns}/{name}"))
                    .on(ResourceRef::of(&rl.items[i])),
            );
        }
        Some(i) => {
            results.push(
                FnResult::error(format!(
                    "a Task {name} that harbor-buildkit-fn did not generate (no {MANAGED_BY_LABEL}: {MANAGED_BY} label) is already in the input; set spec.taskName to another name, or remove that Task"
                ))
                .on(ResourceRef::of(&rl.items[i]))
                .at("spec.taskName"),
            );
            return Err(());
        }
    }
    Ok(())
}
