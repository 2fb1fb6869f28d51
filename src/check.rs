//! The static checks: what Harbor and BuildKit will do with these manifests, told
//! before anything is deployed. They run on every function run (their findings are
//! results like any other) and alone as `harbor-buildkit-fn check`.
//!
//! Each check looks at the manifests as they leave the function: the input items
//! with this run's patches applied ([`Applied`]). So a finding of severity `error`
//! is a failure that would reach the cluster; what the function itself fixes is an
//! `info` finding that shows the value before and after.
//!
//! | check | what it reads | fails when |
//! |---|---|---|
//! | `realm` | harbor-core's `CORE_URL`/`EXT_ENDPOINT`, the harbor-core image's version | the realm Harbor will answer BuildKit with has another scheme, or a host pods cannot reach |
//! | `jobservice` | jobservice ConfigMaps | their `CORE_URL` disagrees with harbor-core's |
//! | `buildkitd` | `buildkitd.toml` | a table keyed without (or with another) port, `http` with `insecure`, `http` that contradicts the scheme |
//! | `docker_config` | Tekton Tasks and TaskRuns, Secrets | `DOCKER_CONFIG` is a Secret mount with no `config.json` |

use serde_json::Value;

use crate::krm::{FnResult, Item, ResourceList, ResourceRef, Severity};
use crate::realm::{self, Mismatch, Rule};
use crate::spec::{Scheme, Spec};
use crate::yaml::Tree;
use crate::{buildkitd, harbor};

/// What this run wrote, for the checks to look at the result rather than the input.
#[derive(Debug, Default)]
pub struct Applied {
    /// `CORE_URL` as this run set it (`None`: spec.generate leaves harborCore out).
    pub core_url: Option<String>,
    /// Whether the patch lands in an input ConfigMap (`false`: a merge patch or a
    /// local-config patch that is applied elsewhere).
    pub core_in_place: bool,
    /// `buildkitd.toml` as this run wrote it, with the ConfigMap holding it.
    pub buildkitd: Option<(ResourceRef, String)>,
}

/// Runs every check and appends its findings.
pub fn run(rl: &ResourceList, spec: &Spec, applied: &Applied, out: &mut Vec<FnResult>) {
    let core = harbor_core(rl, spec);
    realm(rl, spec, applied, core.as_ref(), out);
    jobservice(rl, spec, applied, core.as_ref(), out);
    buildkitd(rl, spec, applied, out);
    docker_config(rl, out);
}

/// An input item as JSON (the checks only read), or `None` when it does not re-read.
fn json_of(rl: &ResourceList, item: &Item) -> Option<Value> {
    let (text, _) = rl.standalone(&item.span);
    let tree = Tree::parse(&text).ok()?;
    tree.to_json(tree.root?).ok()
}

/// A Tekton Task or TaskRun as JSON, with only what the DOCKER_CONFIG check reads:
/// step and step-template `env` and `volumeMounts`, `volumes`, `workspaces`,
/// `taskRef` (and the same under a TaskRun's `taskSpec`). Scripts and the rest are
/// scanned but not built, which keeps a large Tekton input cheap.
fn tekton_json_of(rl: &ResourceList, item: &Item) -> Option<Value> {
    use crate::yaml::tree::{Limits, Seg};
    fn keep(path: &[Seg<'_>]) -> bool {
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
    let (text, _) = rl.standalone(&item.span);
    let tree = Tree::parse_with(&text, Limits::default(), &keep).ok()?;
    tree.to_json_kept(tree.root?).ok()
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// Harbor's core ConfigMap as it came in.
struct HarborCore {
    resource: ResourceRef,
    core_url: Option<String>,
    ext_endpoint: Option<String>,
}

fn harbor_core(rl: &ResourceList, spec: &Spec) -> Option<HarborCore> {
    let item = rl.items.iter().find(|i| {
        i.is("", "ConfigMap")
            && !i.local_config
            && i.name == spec.harbor_config_map
            && i.in_namespace(&spec.harbor_namespace)
    })?;
    let v = json_of(rl, item)?;
    Some(HarborCore {
        resource: ResourceRef::of(item),
        core_url: str_at(&v, &["data", "CORE_URL"]).map(str::to_string),
        ext_endpoint: str_at(&v, &["data", "EXT_ENDPOINT"]).map(str::to_string),
    })
}

/// The realm rule of the harbor-core Deployment's image, when it is in the input.
fn harbor_version(rl: &ResourceList, spec: &Spec) -> Option<(String, Rule)> {
    let item = rl.items.iter().find(|i| {
        i.is("apps", "Deployment")
            && i.name == spec.harbor_deployment
            && i.in_namespace(&spec.harbor_namespace)
    })?;
    let v = json_of(rl, item)?;
    v.pointer("/spec/template/spec/containers")?
        .as_array()?
        .iter()
        .filter_map(|c| c.get("image")?.as_str())
        .find_map(Rule::of_image)
}

/// How bad a predicted realm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Fails,
    Doubtful,
    Works,
}

/// Judges a realm: the scheme must be the registry's; a host other than the
/// registry's is unreachable for an in-cluster registry (the external name), and
/// doubtful otherwise.
fn judge(realm: Option<&str>, spec: &Spec) -> (Verdict, String) {
    let Some(realm) = realm else {
        return (
            Verdict::Doubtful,
            "depends on EXT_ENDPOINT, which is not in the input".into(),
        );
    };
    let authority = spec.registry.authority();
    let mut verdict = Verdict::Works;
    let mut why = Vec::new();
    for m in realm::compare(realm, spec.scheme.as_str(), &authority) {
        match m {
            Mismatch::NotAUrl => {
                verdict = Verdict::Fails;
                why.push("it is not an http(s) URL".to_string());
            }
            Mismatch::Scheme(r, s) => {
                verdict = Verdict::Fails;
                why.push(format!("its scheme is {r}, the registry's is {s}"));
            }
            Mismatch::Host(r, a) => {
                if spec.registry.is_in_cluster() {
                    verdict = Verdict::Fails;
                    why.push(format!(
                        "its host {r} is not the in-cluster registry {a}, and pods may not reach it"
                    ));
                } else {
                    verdict = verdict.min(Verdict::Doubtful);
                    why.push(format!(
                        "its host {r} is not the registry's ({a}); BuildKit pods must reach it"
                    ));
                }
            }
        }
    }
    (verdict, why.join("; "))
}

/// The realm Harbor will answer BuildKit with, before and after this run's patch.
fn realm(
    rl: &ResourceList,
    spec: &Spec,
    applied: &Applied,
    core: Option<&HarborCore>,
    out: &mut Vec<FnResult>,
) {
    let host = spec.registry.authority();
    let proposed = harbor::core_url(spec);
    let resource = core.map_or_else(
        || ResourceRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: spec.harbor_config_map.clone(),
            namespace: spec.harbor_namespace.clone(),
        },
        |c| c.resource.clone(),
    );
    let before = core.and_then(|c| c.core_url.as_deref());
    let Some(after) = applied.core_url.as_deref().or(before) else {
        let why = if core.is_some() {
            "has no CORE_URL"
        } else {
            "is not in the input"
        };
        out.push(
            FnResult::info(format!(
                "the realm Harbor answers BuildKit with cannot be predicted: Harbor's core ConfigMap {why} and spec.generate leaves harborCore out; probe the running registry with `harbor-buildkit-fn doctor {host} --scheme {}`",
                spec.scheme.as_str()
            ))
            .on(resource),
        );
        return;
    };
    let ext = core.and_then(|c| c.ext_endpoint.as_deref());
    let version = harbor_version(rl, spec);
    let rules: &[Rule] = match &version {
        Some((_, rule)) => std::slice::from_ref(rule),
        None => &Rule::BOTH,
    };
    let config = realm::Config {
        core_url: after,
        ext_endpoint: ext,
    };
    let version_note = match &version {
        Some((tag, rule)) => format!(" (harbor-core {tag}: {})", rule.versions()),
        None => String::new(),
    };
    let pending = if applied.core_url.is_some() && !applied.core_in_place {
        " once the patch is applied"
    } else {
        ""
    };

    // What it was, when this run changed it.
    let was = match before {
        Some(b) if b != after => {
            let old = realm::Config {
                core_url: b,
                ext_endpoint: ext,
            };
            let mut matched = false;
            let mut realms: Vec<String> = rules
                .iter()
                .map(|&r| {
                    let p = realm::predict(&host, old, r);
                    matched |= p.matched;
                    let realm = p
                        .realm
                        .unwrap_or_else(|| "(depends on EXT_ENDPOINT)".into());
                    if p.matched || rules.len() == 1 {
                        realm
                    } else {
                        format!("{realm} in {}", r.versions())
                    }
                })
                .collect();
            realms.dedup();
            format!(
                " Before this patch CORE_URL {b} {} the Host, and the realm was {}{version_note}.",
                if matched { "matched" } else { "did not match" },
                realms.join(" or ")
            )
        }
        _ => String::new(),
    };

    let predictions: Vec<(Rule, realm::Prediction)> = rules
        .iter()
        .map(|&r| (r, realm::predict(&host, config, r)))
        .collect();

    if let Some((_, p)) = predictions.iter().find(|(_, p)| p.matched) {
        let realm = p.realm.clone().unwrap_or_default();
        let (verdict, why) = judge(Some(&realm), spec);
        let finding = match verdict {
            Verdict::Works => FnResult::info(format!(
                "Harbor will answer BuildKit (Host: {host}) with realm {realm}{pending}: the Host matches CORE_URL {after}, in every Harbor version.{was}"
            )),
            _ => FnResult::new(
                severity(verdict),
                format!(
                    "Harbor will answer BuildKit (Host: {host}) with realm {realm}{pending}, which CORE_URL {after} produces; buildctl fetches its token there as written: {why}. Set CORE_URL to {proposed} (this function does so with spec.generate: harborCore), then restart harbor-core"
                ),
            ),
        };
        out.push(finding.on(resource).change(
            "data.CORE_URL",
            before,
            after_or_fix(verdict, after, &proposed),
        ));
        return;
    }

    // No match: the answer depends on the version's rule and on EXT_ENDPOINT.
    let judged: Vec<(Rule, Option<String>, Verdict, String)> = predictions
        .into_iter()
        .map(|(r, p)| {
            let (v, why) = judge(p.realm.as_deref(), spec);
            (r, p.realm, v, why)
        })
        .collect();
    let worst = judged.iter().map(|j| j.2).min().unwrap_or(Verdict::Works);
    let best = judged.iter().map(|j| j.2).max().unwrap_or(Verdict::Works);
    // With the version unknown, a realm that fails in one rule only is a warning.
    let verdict = if version.is_none() && worst == Verdict::Fails && best != Verdict::Fails {
        Verdict::Doubtful
    } else {
        worst
    };
    let ext_note = ext.map_or_else(
        || "EXT_ENDPOINT (not in the input)".to_string(),
        |e| format!("EXT_ENDPOINT {e}"),
    );
    let detail: Vec<String> = judged
        .iter()
        .map(|(r, realm, v, why)| {
            let rule = match r {
                Rule::RequestHost => "takes the scheme of EXT_ENDPOINT with the request's Host",
                Rule::ExtEndpoint => "takes EXT_ENDPOINT whole",
            };
            let realm = realm.as_deref().unwrap_or("unknown");
            let outcome = if *v == Verdict::Works {
                "which works".to_string()
            } else {
                why.clone()
            };
            format!("{} {rule}: realm {realm}, {outcome}", r.versions())
        })
        .collect();
    let mut message = format!(
        "Harbor will answer BuildKit (Host: {host}) from {ext_note}{pending}, because the Host does not match CORE_URL {after}{version_note}. {}.",
        detail.join("; ")
    );
    if verdict != Verdict::Works {
        message.push_str(&format!(
            " Set CORE_URL to {proposed} so that the Host matches it (this function does so with spec.generate: harborCore), then restart harbor-core."
        ));
    }
    message.push_str(&was);
    out.push(
        FnResult::new(severity(verdict), message)
            .on(resource)
            .change(
                "data.CORE_URL",
                before,
                after_or_fix(verdict, after, &proposed),
            ),
    );
}

fn severity(v: Verdict) -> Severity {
    match v {
        Verdict::Fails => Severity::Error,
        Verdict::Doubtful => Severity::Warning,
        Verdict::Works => Severity::Info,
    }
}

/// The proposed value: what will be deployed when it works, the fix when it does not.
fn after_or_fix<'a>(v: Verdict, after: &'a str, fix: &'a str) -> &'a str {
    if v == Verdict::Works { after } else { fix }
}

/// Harbor's jobservice has its own `CORE_URL`; it should name the same harbor-core.
fn jobservice(
    rl: &ResourceList,
    spec: &Spec,
    applied: &Applied,
    core: Option<&HarborCore>,
    out: &mut Vec<FnResult>,
) {
    let Some(core_url) = applied
        .core_url
        .as_deref()
        .or(core.and_then(|c| c.core_url.as_deref()))
    else {
        return;
    };
    for item in rl.items.iter().filter(|i| {
        i.is("", "ConfigMap")
            && !i.local_config
            && i.name.contains("jobservice")
            && i.in_namespace(&spec.harbor_namespace)
    }) {
        let Some(v) = json_of(rl, item) else { continue };
        let Some(theirs) = str_at(&v, &["data", "CORE_URL"]) else {
            continue;
        };
        if same_url(theirs, core_url) {
            continue;
        }
        out.push(
            FnResult::warning(format!(
                "jobservice's CORE_URL {theirs} differs from harbor-core's {core_url} (ConfigMap {}): jobservice calls harbor-core and checks tokens by this URL, and the two should name the same harbor-core. Set data.CORE_URL to {core_url} and TOKEN_SERVICE_URL to {core_url}/service/token here (kustomize patch or kpt setter), and restart harbor-jobservice",
                spec.harbor_config_map
            ))
            .on(ResourceRef::of(item))
            .change("data.CORE_URL", Some(theirs), core_url),
        );
    }
}

/// Whether two URLs name the same place: scheme case, a trailing `/` and the scheme's
/// default port aside.
fn same_url(a: &str, b: &str) -> bool {
    let norm = |u: &str| {
        let u = u.trim_end_matches('/');
        match realm::Url::parse(u) {
            Some(url) => {
                let rest = &u[u.find("://").map_or(0, |i| i + 3)..];
                let path = &rest[rest.find('/').unwrap_or(rest.len())..];
                format!("{}://{}{path}", url.scheme, url.without_default_port())
            }
            None => u.to_string(),
        }
    };
    norm(a) == norm(b)
}

/// `host` of `host[:port]`.
fn host_of(authority: &str) -> &str {
    realm::split_port(authority).0
}

/// BuildKit treats these as plain HTTP when no table says otherwise.
fn is_localhost(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.")
}

/// The registry tables of `buildkitd.toml` against the spec's registry and scheme.
fn buildkitd(rl: &ResourceList, spec: &Spec, applied: &Applied, out: &mut Vec<FnResult>) {
    let found;
    let (resource, text) = match &applied.buildkitd {
        Some((r, t)) => (r.clone(), t.as_str()),
        None => {
            let Some(item) = rl.items.iter().find(|i| {
                i.is("", "ConfigMap")
                    && i.name == spec.buildkit_config_map
                    && i.in_namespace(&spec.namespace)
            }) else {
                return;
            };
            let Some(v) = json_of(rl, item) else { return };
            let Some(t) = str_at(&v, &["data", buildkitd::KEY]) else {
                return;
            };
            found = t.to_string();
            (ResourceRef::of(item), found.as_str())
        }
    };
    let path = format!("data.{}", buildkitd::KEY);
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        out.push(
            FnResult::warning(
                "buildkitd.toml does not parse as TOML; its registry tables were not checked",
            )
            .on(resource)
            .at(path),
        );
        return;
    };
    let authority = spec.registry.authority();
    let host = &spec.registry.host;
    let tables = doc.get("registry").and_then(|r| r.as_table_like());
    let mut exact = None;
    for (key, table) in tables.iter().flat_map(|t| t.iter()) {
        if key == authority {
            exact = table.as_table_like();
        } else if host_of(key) == host {
            out.push(
                FnResult::warning(format!(
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
                FnResult::warning(format!(
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
    match spec.scheme {
        Scheme::Http if !http && !is_localhost(host_of(&authority)) => {
            let what = if exact.is_none() {
                "buildkitd.toml has no table for it".to_string()
            } else if insecure {
                format!("{table} has insecure = true without http = true, which means HTTPS without certificate checks")
            } else {
                format!("{table} does not set http = true")
            };
            out.push(
                FnResult::error(format!(
                    "the registry is plain HTTP (spec.scheme: http) but {what}, so buildkitd pulls and pushes over HTTPS and fails; {fix}: http = true"
                ))
                .on(resource)
                .change(&path, None, &format!("{table} http = true")),
            );
        }
        Scheme::Http if http && insecure => out.push(
            FnResult::warning(format!(
                "{table} sets both http = true and insecure = true: BuildKit then tries HTTPS first and falls back to HTTP; for a plain-HTTP registry set only http = true"
            ))
            .on(resource)
            .change(&path, Some("insecure = true"), "(removed)"),
        ),
        Scheme::Https if http => out.push(
            FnResult::error(format!(
                "{table} sets http = true but the registry is HTTPS (spec.scheme: https) and the Task pushes to it over HTTPS; {fix}: remove http = true, or set spec.scheme: http if the registry really is plain HTTP"
            ))
            .on(resource)
            .change(&path, Some("http = true"), "(removed)"),
        ),
        _ => {}
    }
}

/// A Secret volume source, reduced to what decides whether it holds `config.json`.
#[derive(Debug, Clone)]
struct SecretMount {
    name: String,
    /// The `path`s of a non-empty `items` (an empty or absent one projects every key).
    items: Option<Vec<String>>,
}

impl SecretMount {
    fn of(secret: &Value) -> SecretMount {
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
    fn maps_config_json(&self) -> bool {
        self.items
            .as_ref()
            .is_some_and(|p| p.iter().any(|p| p == "config.json"))
    }
}

/// Where a step's `DOCKER_CONFIG` points, found in a Task spec.
struct DockerConfigUse {
    /// The field path of the env var's value, from the resource's root.
    env_path: String,
    target: Target,
}

enum Target {
    /// `spec.volumes[i]` (path from the resource's root) holding a `secret`.
    SecretVolume { path: String, secret: SecretMount },
    /// A workspace, bound by a TaskRun.
    Workspace(String),
}

/// The uses of `DOCKER_CONFIG` in a Task spec at `base` (`spec` or `spec.taskSpec`).
fn docker_config_uses(spec: &Value, base: &str) -> Vec<DockerConfigUse> {
    fn arr<'v>(v: &'v Value, k: &str) -> &'v [Value] {
        v.get(k)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
    let empty = Value::Null;
    let template = spec.get("stepTemplate").unwrap_or(&empty);
    let volumes = arr(spec, "volumes");
    let workspaces = arr(spec, "workspaces");
    let mut uses: Vec<DockerConfigUse> = Vec::new();
    fn find_env(container: &Value, path: String) -> Option<(String, Option<&Value>)> {
        arr(container, "env")
            .iter()
            .enumerate()
            .rfind(|(_, e)| e.get("name").and_then(Value::as_str) == Some("DOCKER_CONFIG"))
            .map(|(i, e)| (format!("{path}.env[{i}].value"), e.get("value")))
    }
    let steps = spec.get("steps").and_then(Value::as_array);
    for (i, container) in steps.into_iter().flatten().enumerate() {
        // Tekton merges the step template into every step; the step's own env wins.
        let Some((env_path, value)) = find_env(container, format!("{base}.steps[{i}]"))
            .or_else(|| find_env(template, format!("{base}.stepTemplate")))
        else {
            continue;
        };
        let Some(value) = value.and_then(Value::as_str) else {
            continue;
        };
        let dir = value.trim_end_matches('/');
        // $(workspaces.<name>.path)
        if let Some(name) = dir
            .strip_prefix("$(workspaces.")
            .and_then(|r| r.strip_suffix(".path)"))
        {
            uses.push(DockerConfigUse {
                env_path,
                target: Target::Workspace(name.to_string()),
            });
            continue;
        }
        // A workspace with an explicit mountPath.
        if let Some(w) = workspaces.iter().find(|w| {
            w.get("mountPath")
                .and_then(Value::as_str)
                .map(|m| m.trim_end_matches('/'))
                == Some(dir)
        }) {
            if let Some(name) = w.get("name").and_then(Value::as_str) {
                uses.push(DockerConfigUse {
                    env_path,
                    target: Target::Workspace(name.to_string()),
                });
            }
            continue;
        }
        // A volume mounted there, by this step or by the step template.
        let mounts = arr(container, "volumeMounts")
            .iter()
            .chain(arr(template, "volumeMounts"));
        for m in mounts {
            let at = m
                .get("mountPath")
                .and_then(Value::as_str)
                .map(|p| p.trim_end_matches('/'));
            if at != Some(dir) || m.get("subPath").is_some() {
                continue;
            }
            let Some(name) = m.get("name").and_then(Value::as_str) else {
                continue;
            };
            if let Some((v, vol)) = volumes
                .iter()
                .enumerate()
                .find(|(_, v)| v.get("name").and_then(Value::as_str) == Some(name))
            {
                if let Some(secret) = vol.get("secret") {
                    uses.push(DockerConfigUse {
                        env_path: env_path.clone(),
                        target: Target::SecretVolume {
                            path: format!("{base}.volumes[{v}].secret"),
                            secret: SecretMount::of(secret),
                        },
                    });
                }
            }
            break;
        }
    }
    // A template's DOCKER_CONFIG reaches every step: report it once.
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

/// Tekton Tasks and TaskRuns whose `DOCKER_CONFIG` is a Secret mount without
/// `config.json`: buildctl (and docker) read `$DOCKER_CONFIG/config.json`, and a
/// `kubernetes.io/dockerconfigjson` Secret holds `.dockerconfigjson`, so the build
/// runs without credentials.
fn docker_config(rl: &ResourceList, out: &mut Vec<FnResult>) {
    // Only a Task or TaskRun that names DOCKER_CONFIG and a Secret (its own volume, or
    // a TaskRun's binding) can have the problem: these text tests keep the (parallel)
    // parse to those, and leave a catalog of Tasks without TaskRuns nearly free.
    let runs_bind_secrets = rl
        .items
        .iter()
        .any(|i| i.is("tekton.dev", "TaskRun") && contains(i, "secret"));
    let candidates: Vec<&Item> = rl
        .items
        .iter()
        .filter(|i| i.is("tekton.dev", "Task") || i.is("tekton.dev", "TaskRun"))
        .filter(|i| contains(i, "DOCKER_CONFIG") && (runs_bind_secrets || contains(i, "secret")))
        .collect();
    if candidates.is_empty() {
        return;
    }
    // Each item is parsed, reduced to its few facts and dropped, so memory stays
    // small however many Tasks come in.
    let facts = par_map(&candidates, |i| tekton_facts(rl, i));
    let mut secrets = Secrets::new(rl);
    // TaskRuns by the name of the Task they run, read only when a Task needs them.
    let mut runs: Option<std::collections::HashMap<String, Vec<(&Item, TektonFacts)>>> = None;
    for (item, facts) in candidates.iter().zip(&facts) {
        let Some(facts) = facts else { continue };
        for u in &facts.uses {
            let name = match &u.target {
                Target::SecretVolume { path, secret } => {
                    judge_secret(&mut secrets, item, path, secret, &u.env_path, out);
                    continue;
                }
                Target::Workspace(name) => name,
            };
            // The TaskRuns that bind this workspace: the TaskRun itself for an inline
            // taskSpec, the ones whose taskRef names this Task otherwise.
            let bound: Vec<(&Item, &TektonFacts)> = if item.kind == "TaskRun" {
                vec![(*item, facts)]
            } else {
                let index = runs.get_or_insert_with(|| task_runs(rl));
                index
                    .get(item.name.as_ref())
                    .into_iter()
                    .flatten()
                    .filter(|(r, _)| r.in_namespace(&item.namespace))
                    .map(|(r, f)| (*r, f))
                    .collect()
            };
            for (run, run_facts) in bound {
                for (b, binding, secret) in &run_facts.bindings {
                    if binding != name {
                        continue;
                    }
                    let env = if run.kind == item.kind && run.name == item.name {
                        u.env_path.clone()
                    } else {
                        format!("{} of Task {}", u.env_path, item.name)
                    };
                    let path = format!("spec.workspaces[{b}].secret");
                    judge_secret(&mut secrets, run, &path, secret, &env, out);
                }
            }
        }
    }
}

fn contains(item: &Item, needle: &str) -> bool {
    memchr::memmem::find(item.span.text.as_bytes(), needle.as_bytes()).is_some()
}

/// What the DOCKER_CONFIG check needs from a Task or TaskRun.
struct TektonFacts {
    /// Where its steps' DOCKER_CONFIG points (a Task's spec, a TaskRun's taskSpec).
    uses: Vec<DockerConfigUse>,
    /// A TaskRun's workspace bindings to Secrets: index, workspace name, source.
    bindings: Vec<(usize, String, SecretMount)>,
    /// A TaskRun's `taskRef.name`.
    task_ref: Option<String>,
}

fn tekton_facts(rl: &ResourceList, item: &Item) -> Option<TektonFacts> {
    let v = tekton_json_of(rl, item)?;
    let empty = Value::Null;
    let spec = v.get("spec").unwrap_or(&empty);
    let mut uses = if item.kind == "Task" {
        docker_config_uses(spec, "spec")
    } else {
        spec.get("taskSpec")
            .map(|ts| docker_config_uses(ts, "spec.taskSpec"))
            .unwrap_or_default()
    };
    // A mount that maps config.json is fine whatever the Secret holds.
    uses.retain(
        |u| !matches!(&u.target, Target::SecretVolume { secret, .. } if secret.maps_config_json()),
    );
    let bindings = if item.kind == "TaskRun" {
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
    } else {
        Vec::new()
    };
    Some(TektonFacts {
        uses,
        bindings,
        task_ref: str_at(spec, &["taskRef", "name"]).map(str::to_string),
    })
}

/// The TaskRuns of the input that run a Task by reference, by the Task's name.
fn task_runs<'r, 's>(
    rl: &'r ResourceList<'s>,
) -> std::collections::HashMap<String, Vec<(&'r Item<'s>, TektonFacts)>> {
    let refs: Vec<&Item> = rl
        .items
        .iter()
        .filter(|i| i.is("tekton.dev", "TaskRun"))
        .filter(|i| contains(i, "taskRef") && contains(i, "secret"))
        .collect();
    let facts = par_map(&refs, |i| tekton_facts(rl, i));
    let mut index: std::collections::HashMap<_, Vec<_>> = std::collections::HashMap::new();
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

/// `f` over `items`, on several threads when there are many (item parses are
/// independent, as in the ResourceList reader).
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || items.len() < 256 {
        return items.iter().map(&f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The Secrets of the input, found by name and read (their keys only) once each.
struct Secrets<'r, 's> {
    rl: &'r ResourceList<'s>,
    by_name: Option<std::collections::HashMap<(String, String), usize>>,
    keys: std::collections::HashMap<usize, Option<Vec<String>>>,
}

impl<'r, 's> Secrets<'r, 's> {
    fn new(rl: &'r ResourceList<'s>) -> Self {
        Secrets {
            rl,
            by_name: None,
            keys: std::collections::HashMap::new(),
        }
    }

    /// The keys (data and stringData) of Secret `name` as `holder` sees it; `None`
    /// when it is not in the input.
    fn keys(&mut self, name: &str, holder: &Item) -> Option<Vec<String>> {
        let rl = self.rl;
        let index = self.by_name.get_or_insert_with(|| {
            let mut m = std::collections::HashMap::new();
            for (n, i) in rl.items.iter().enumerate().rev() {
                if i.is("", "Secret") {
                    m.insert((i.namespace.to_string(), i.name.to_string()), n);
                }
            }
            m
        });
        let idx = index
            .get(&(holder.namespace.to_string(), name.to_string()))
            .or_else(|| index.get(&(String::new(), name.to_string())))
            .copied()
            .or_else(|| {
                // A holder without a namespace sees a Secret of any namespace.
                holder
                    .namespace
                    .is_empty()
                    .then(|| index.iter().find(|((_, n), _)| n == name).map(|(_, &i)| i))
                    .flatten()
            })?;
        self.keys
            .entry(idx)
            .or_insert_with(|| {
                json_of(rl, &rl.items[idx]).map(|v| {
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

/// Whether a Secret mount (`secret`: a SecretVolumeSource at `path` in `holder`) has
/// a `config.json`; a finding when it has not.
fn judge_secret(
    secrets: &mut Secrets,
    holder: &Item,
    path: &str,
    secret: &SecretMount,
    env_path: &str,
    out: &mut Vec<FnResult>,
) {
    let name = secret.name.as_str();
    let remap = "[{key: .dockerconfigjson, path: config.json}]";
    let fix = format!(
        "map the key with {path}.items: {remap} (read-only), or use the Task this function generates (spec.generate: task), which copies .dockerconfigjson to a writable DOCKER_CONFIG"
    );
    if let Some(paths) = &secret.items {
        if secret.maps_config_json() {
            return;
        }
        out.push(
            FnResult::error(format!(
                "DOCKER_CONFIG ({env_path}) is the mount of Secret {name}, whose items map no key to config.json (only {}): buildctl reads $DOCKER_CONFIG/config.json and would push without credentials; {fix}",
                paths.join(", ")
            ))
            .on(ResourceRef::of(holder))
            .change(&format!("{path}.items"), None, remap),
        );
        return;
    }
    let keys = secrets.keys(name, holder);
    match keys {
        Some(keys) if keys.iter().any(|k| k == "config.json") => {}
        Some(keys) => out.push(
            FnResult::error(format!(
                "DOCKER_CONFIG ({env_path}) is the mount of Secret {name}, which has no config.json (its keys: {}): buildctl reads $DOCKER_CONFIG/config.json and would push without credentials; {fix}",
                if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
            ))
            .on(ResourceRef::of(holder))
            .change(&format!("{path}.items"), None, remap),
        ),
        None => out.push(
            FnResult::warning(format!(
                "DOCKER_CONFIG ({env_path}) is the mount of Secret {name} (not in the input) with no items: unless that Secret has a key config.json (a kubernetes.io/dockerconfigjson Secret has .dockerconfigjson), buildctl finds no credentials; {fix}"
            ))
            .on(ResourceRef::of(holder))
            .change(&format!("{path}.items"), None, remap),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_as_places() {
        assert!(same_url("http://harbor-core:80", "http://harbor-core"));
        assert!(same_url("HTTP://harbor-core/", "http://harbor-core"));
        assert!(same_url("https://h:443/x", "https://h/x/"));
        assert!(!same_url("http://h:443", "http://h"));
        assert!(!same_url(
            "http://harbor-core:80",
            "http://harbor-core.harbor.svc:80"
        ));
        assert!(!same_url("https://h", "http://h"));
    }
}
