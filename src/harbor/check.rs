//! Harbor's check, on the output: the Bearer realm Harbor will answer BuildKit with,
//! from `CORE_URL` and `EXT_ENDPOINT` as harbor-core will read them (its container's
//! `env` over its ConfigMap) and the harbor-core image's version.
//!
//! It fails when the realm has another scheme than the registry, or, for an in-cluster
//! registry, another host (buildctl fetches its token from the realm as written, so
//! BuildKit's pods must reach that host: assumed not to, for a registry named in the
//! cluster, and not probed here; `doctor` probes). It also compares jobservice's
//! `CORE_URL` with harbor-core's: jobservice recognises the local Harbor in replication
//! only by that string ([`super::jobservice`]).

use serde_json::Value;

use super::Topology;
use super::detect::Where;
use super::realm::{self, Mismatch, Rule};
use crate::codes::Code;
use crate::krm::env::{self, env_entry};
use crate::krm::fields::containers;
use crate::krm::{FnResult, ResourceRef, Severity};
use crate::output::Output;
use crate::spec::Spec;

/// Runs Harbor's check and appends its finding.
pub(crate) fn run(spec: &Spec, topology: &Topology, output: &Output, out: &mut Vec<FnResult>) {
    let settings = Settings::read(spec, topology, output);
    out.push(realm_finding(spec, topology, &settings));
    if let Some(finding) = jobservice_finding(topology, output, settings.after.as_deref()) {
        out.push(finding);
    }
}

/// jobservice's `CORE_URL`, as the output leaves it, against harbor-core's.
fn jobservice_finding(
    topology: &Topology,
    output: &Output,
    core: Option<&str>,
) -> Option<FnResult> {
    let j = topology.jobservice.as_ref()?;
    let core = core?;
    let (resource, path, value) = match j.core_url.at.as_ref()? {
        Where::Env { index, .. } => (
            j.index,
            env::value_path(j.container, *index),
            env_str(output.value(j.index), j.container, "CORE_URL")?,
        ),
        Where::ConfigMap { item, key, .. } => (
            *item,
            format!("data.{key}"),
            data_str(output.value(*item), key)?,
        ),
        // Not readable here; the plan said so when it mattered.
        Where::ValueFrom { .. } | Where::Secret { .. } => return None,
    };
    // Go: strings.TrimSuffix(CORE_URL, "/") on harbor-core's side (InternalCoreURL),
    // the raw environment on jobservice's.
    let core = core.trim_end_matches('/');
    if value == core {
        return None;
    }
    Some(
        FnResult::warning(Code::HarborJobserviceMismatch, format!(
            "{} reads CORE_URL {value}, harbor-core {core}: jobservice recognises the local Harbor in replication only when the two are one string (goharbor/harbor src/pkg/reg/adapter/harbor/base/adapter.go isLocalHarbor), so replication with it loses the secret it authenticates with. Set jobservice's CORE_URL to {core} (with the chart, jobservice.extraEnvVars)",
            j.describe
        ))
        .on(output.resource_ref(resource))
        .change(&path, Some(&value), core),
    )
}

fn data_str(v: Option<std::borrow::Cow<'_, Value>>, key: &str) -> Option<String> {
    v?.get("data")?.get(key)?.as_str().map(str::to_string)
}

/// `key` in harbor-core's own env, as the output has it.
fn env_str(v: Option<std::borrow::Cow<'_, Value>>, container: usize, key: &str) -> Option<String> {
    let v = v?;
    let (_, entry) = env_entry(containers(&v).get(container)?, key)?;
    entry.get("value")?.as_str().map(str::to_string)
}

/// harbor-core's settings before this run and as it leaves them.
struct Settings {
    resource: ResourceRef,
    /// Where in `resource` harbor-core's CORE_URL is (`data.CORE_URL` in the chart).
    path: String,
    /// Whether the core ConfigMap is in the input.
    found: bool,
    before: Option<String>,
    after: Option<String>,
    ext_endpoint: Option<String>,
    /// The patch is in the output but lands elsewhere (a merge or local-config patch).
    pending: bool,
}

impl Settings {
    fn read(spec: &Spec, topology: &Topology, output: &Output) -> Settings {
        let (name, ns) = (&spec.harbor.config_map, &spec.harbor.namespace);
        let generated_ref = ResourceRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: name.clone(),
            namespace: ns.clone(),
        };
        let before = topology.core_url().value().map(str::to_string);
        let ext_endpoint = topology.ext_endpoint().value().map(str::to_string);
        // Where harbor-core reads it, as the kubelet builds its environment.
        let in_place = match (
            &topology.deployment,
            topology.core_url_at(),
            &topology.config_map,
        ) {
            (Some(d), Some(Where::Env { index, .. }), _) => Some((
                d.index,
                env::value_path(d.container, *index),
                env_str(output.value(d.index), d.container, "CORE_URL"),
            )),
            (_, Some(Where::ConfigMap { item, key, value }), _) => Some((
                *item,
                format!("data.{key}"),
                data_str(output.value(*item), key).or(Some(value.clone())),
            )),
            (Some(d), Some(Where::ValueFrom { index }), _) => {
                Some((d.index, env::value_path(d.container, *index), None))
            }
            (Some(d), Some(Where::Secret { .. }), _) => Some((d.index, String::new(), None)),
            (_, _, Some(cm)) => Some((
                cm.index,
                "data.CORE_URL".to_string(),
                data_str(output.value(cm.index), "CORE_URL").or(cm.core_url.clone()),
            )),
            _ => None,
        };
        if let Some((index, path, after)) = in_place {
            return Settings {
                resource: output.resource_ref(index),
                path,
                found: true,
                before,
                after,
                ext_endpoint,
                pending: false,
            };
        }
        // Not in the input: the patch this run generated, if any, applies elsewhere.
        let patch = output
            .find(|id| id.is("", "ConfigMap") && id.name == name && id.in_namespace(ns))
            .find(|&i| output.is_generated(i));
        let after = patch.and_then(|i| data_str(output.value(i), "CORE_URL"));
        Settings {
            resource: generated_ref,
            path: "data.CORE_URL".to_string(),
            found: false,
            before: None,
            pending: after.is_some(),
            after,
            ext_endpoint: None,
        }
    }
}

/// Harbor installed elsewhere (by helm, say) and a registry named in the cluster: the
/// chart's `CORE_URL`, `http(s)://<fullname>-core:<port>` (harbor-helm
/// `templates/_helpers.tpl` `harbor.coreURL`), never matches a Service FQDN, so the
/// realm falls back to `EXT_ENDPOINT`'s (v2.2-v2.13) or its scheme (v2.14+). kustomize
/// shows only stderr, so this must be a warning there.
fn outside_input(spec: &Spec) -> Option<FnResult> {
    let (service, _) = spec.endpoint.place.service()?;
    let url = super::patch::core_url(spec);
    let host = spec.endpoint.authority();
    Some(FnResult::warning(
        Code::HarborOutsideInput,
        format!(
            "Harbor is not in the input and spec.generate leaves harborCore out, so its realm is not checked; with the chart's CORE_URL (http://<fullname>-core:80), Harbor does not match the Host {host} and answers BuildKit with EXT_ENDPOINT's realm (v2.2-v2.13) or EXT_ENDPOINT's scheme (v2.14+), which buildctl then uses as written. Unless Harbor's CORE_URL is already {url}, set it where Harbor is installed: with helm, core.extraEnvVars (chart v1.13.0+) and jobservice.extraEnvVars, CORE_URL={url}; or run this function as helm's post-renderer over the chart (--post-renderer harbor-buildkit-fn --post-renderer-args run --post-renderer-args CONFIG, with harborCore in spec.generate). Service {service} is assumed to be harbor-core's"
        ),
    ))
}

/// How bad a predicted realm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Fails,
    Doubtful,
    Works,
}

fn severity(v: Verdict) -> Severity {
    match v {
        Verdict::Fails => Severity::Error,
        Verdict::Doubtful => Severity::Warning,
        Verdict::Works => Severity::Info,
    }
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
    let endpoint = &spec.endpoint;
    let authority = endpoint.authority();
    let mut verdict = Verdict::Works;
    let mut why = Vec::new();
    for m in realm::compare(realm, endpoint.scheme.as_str(), &authority) {
        match m {
            Mismatch::NotAUrl => {
                verdict = Verdict::Fails;
                why.push("it is not an http(s) URL".to_string());
            }
            Mismatch::Scheme(r, s) => {
                verdict = Verdict::Fails;
                why.push(format!("its scheme is {r}, the registry's is {s}"));
            }
            // Known: buildctl fetches the token from the realm as written (containerd
            // remotes/docker/auth, fetchToken), so BuildKit's pods must reach that
            // host. Assumed, not probed: that they do not, for a registry named inside
            // the cluster (the reason to name it there); `doctor` probes.
            Mismatch::Host(r, a) => {
                if endpoint.place.in_cluster() {
                    verdict = Verdict::Fails;
                    why.push(format!(
                        "its host {r} is not the in-cluster registry {a}: buildctl fetches its token there as written, and BuildKit's pods are assumed not to reach a name outside the cluster (not probed; harbor-buildkit-fn doctor probes)"
                    ));
                } else {
                    verdict = verdict.min(Verdict::Doubtful);
                    why.push(format!(
                        "its host {r} is not the registry's ({a}): buildctl fetches its token there as written, so BuildKit's pods must reach it (not probed)"
                    ));
                }
            }
        }
    }
    (verdict, why.join("; "))
}

/// The proposed value: what will be deployed when it works, the fix when it does not.
fn after_or_fix<'a>(v: Verdict, after: &'a str, fix: &'a str) -> &'a str {
    if v == Verdict::Works { after } else { fix }
}

/// The realm rules in play: the one of the harbor-core image, or both when the
/// version is unknown.
fn rules(topology: &Topology) -> (&[Rule], String) {
    match topology
        .deployment
        .as_ref()
        .and_then(|d| d.version.as_ref())
    {
        Some((tag, rule)) => (
            std::slice::from_ref(rule),
            format!(" (harbor-core {tag}: {})", rule.versions()),
        ),
        None => (&Rule::BOTH, String::new()),
    }
}

/// The realm Harbor will answer BuildKit with, as this run leaves harbor-core.
fn realm_finding(spec: &Spec, topology: &Topology, s: &Settings) -> FnResult {
    let host = spec.endpoint.authority();
    let Some(after) = s.after.as_deref() else {
        if !s.found && !spec.generate.harbor_core {
            if let Some(warning) = outside_input(spec) {
                return warning.on(s.resource.clone());
            }
        }
        let why = if s.found {
            "has no CORE_URL"
        } else {
            "is not in the input"
        };
        return FnResult::info(Code::HarborRealmUnknown, format!(
            "the realm Harbor answers BuildKit with cannot be predicted: Harbor's core ConfigMap {why} and spec.generate leaves harborCore out; probe the running registry with `harbor-buildkit-fn doctor {host} --scheme {}`",
            spec.endpoint.scheme.as_str()
        ))
        .on(s.resource.clone());
    };
    let (rules, version_note) = rules(topology);
    let ext = s.ext_endpoint.as_deref();
    let pending = if s.pending {
        " once the patch is applied"
    } else {
        ""
    };
    let was = before_the_patch(&host, s, after, rules, &version_note);
    let config = realm::Config {
        core_url: after,
        ext_endpoint: ext,
        registry_realm: topology.registry_realm.as_deref(),
    };
    let predictions: Vec<(Rule, realm::Prediction)> = rules
        .iter()
        .map(|&r| (r, realm::predict(&host, config, r)))
        .collect();
    let proposed = super::patch::core_url(spec);
    let before = s.before.as_deref();

    if let Some((_, p)) = predictions.iter().find(|(_, p)| p.matched) {
        let realm = p.realm.clone().unwrap_or_default();
        let (verdict, why) = judge(Some(&realm), spec);
        let finding = match verdict {
            Verdict::Works => FnResult::info(
                Code::HarborRealmWorks,
                format!(
                    "Harbor will answer BuildKit (Host: {host}) with realm {realm}{pending}: the Host matches CORE_URL {after}, in every Harbor version.{was}"
                ),
            ),
            _ => FnResult::new(
                Code::HarborRealm,
                severity(verdict),
                format!(
                    "Harbor will answer BuildKit (Host: {host}) with realm {realm}{pending}, which CORE_URL {after} produces; buildctl fetches its token there as written: {why}. Set CORE_URL to {proposed} (this function does so with spec.generate: harborCore), then restart harbor-core"
                ),
            ),
        };
        return finding.on(s.resource.clone()).change(
            &s.path,
            before,
            after_or_fix(verdict, after, &proposed),
        );
    }

    // No match: the answer depends on the version's rule and on EXT_ENDPOINT.
    let judged: Vec<Judged> = predictions
        .into_iter()
        .map(|(r, p)| {
            let (v, why) = judge(p.realm.as_deref(), spec);
            (r, p.realm, v, why)
        })
        .collect();
    let verdict = overall(&judged, rules.len() == 1);
    let ext_note = ext.map_or_else(
        || "EXT_ENDPOINT (not in the input)".to_string(),
        |e| format!("EXT_ENDPOINT {e}"),
    );
    let mut message = format!(
        "Harbor will answer BuildKit (Host: {host}) from {ext_note}{pending}, because the Host does not match CORE_URL {after}{version_note}. {}.",
        describe_judged(&judged)
    );
    if verdict != Verdict::Works {
        message.push_str(&format!(
            " Set CORE_URL to {proposed} so that the Host matches it (this function does so with spec.generate: harborCore), then restart harbor-core."
        ));
    }
    message.push_str(&was);
    let code = match verdict {
        Verdict::Works => Code::HarborRealmWorks,
        _ => Code::HarborRealm,
    };
    FnResult::new(code, severity(verdict), message)
        .on(s.resource.clone())
        .change(&s.path, before, after_or_fix(verdict, after, &proposed))
}

/// Each rule's realm and verdict, and why it fails.
type Judged = (Rule, Option<String>, Verdict, String);

/// The verdict over every rule in play: the worst; but with the version unknown, a
/// realm that fails under one rule only is a warning.
fn overall(judged: &[Judged], version_known: bool) -> Verdict {
    let worst = judged.iter().map(|j| j.2).min().unwrap_or(Verdict::Works);
    let best = judged.iter().map(|j| j.2).max().unwrap_or(Verdict::Works);
    if !version_known && worst == Verdict::Fails && best != Verdict::Fails {
        Verdict::Doubtful
    } else {
        worst
    }
}

/// Each rule's realm and outcome, for the message.
fn describe_judged(judged: &[Judged]) -> String {
    let detail: Vec<String> = judged
        .iter()
        .map(|(r, realm, v, why)| {
            let rule = r.describe();
            let realm = realm.as_deref().unwrap_or("unknown");
            let outcome = if *v == Verdict::Works {
                "which works".to_string()
            } else {
                why.clone()
            };
            format!("{} {rule}: realm {realm}, {outcome}", r.versions())
        })
        .collect();
    detail.join("; ")
}

/// What the realm was, when this run changed CORE_URL: a sentence to append.
fn before_the_patch(
    host: &str,
    s: &Settings,
    after: &str,
    rules: &[Rule],
    version_note: &str,
) -> String {
    let Some(before) = s.before.as_deref().filter(|b| *b != after) else {
        return String::new();
    };
    let old = realm::Config {
        core_url: before,
        ext_endpoint: s.ext_endpoint.as_deref(),
        registry_realm: None,
    };
    let mut matched = false;
    let mut realms: Vec<String> = rules
        .iter()
        .map(|&r| {
            let p = realm::predict(host, old, r);
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
        " Before this patch CORE_URL {before} {} the Host, and the realm was {}{version_note}.",
        if matched { "matched" } else { "did not match" },
        realms.join(" or ")
    )
}
