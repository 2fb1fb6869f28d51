//! jobservice's `CORE_URL`, kept the same string as harbor-core's.
//!
//! jobservice tells the local Harbor from a remote one by comparing a replication
//! endpoint's URL with its own `CORE_URL` (goharbor/harbor
//! `src/pkg/reg/adapter/harbor/base/adapter.go`, `isLocalHarbor`: `url ==
//! os.Getenv("CORE_URL")`), and the local registry's URL is harbor-core's `CORE_URL`
//! (`src/pkg/reg/manager.go`, `config.InternalCoreURL()`). The chart gives both the same
//! value (`<fullname>-jobservice-env`, harbor-helm `templates/jobservice/jobservice-cm-env.yaml`,
//! from chart v1.4.0; an `env` entry before). When harbor-core's changes and
//! jobservice's does not, replication with the local Harbor loses the secret it
//! authenticates with, silently; so where this function sets harbor-core's
//! `CORE_URL`, it sets jobservice's to the same string, where jobservice reads it.

use super::detect::{Jobservice, Setting, Topology, Where};
use super::patch::{self, RESTART_ANNOTATION};
use crate::codes::Code;
use crate::krm::env;
use crate::krm::{FnResult, ResourceList, ResourceRef};
use crate::plan::{Change, Plan, Set};
use crate::spec::Spec;

/// After harbor-core's `CORE_URL` is set: jobservice's follows, and jobservice
/// restarts when it changed (it reads its environment only at start).
pub(crate) fn follow(rl: &ResourceList, spec: &Spec, topology: &Topology, plan: &mut Plan) {
    let Some(j) = &topology.jobservice else {
        return;
    };
    let core_cm = topology.config_map.as_ref().map(|c| c.index);
    let [(_, core_url), (_, token_url)] = patch::core_data(spec);
    let mut changed = false;
    let mut data: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    for (name, setting, value) in [
        ("CORE_URL", &j.core_url, &core_url),
        ("TOKEN_SERVICE_URL", &j.token_service_url, &token_url),
    ] {
        match &setting.at {
            Some(Where::Env { index, value: now }) if now != value => {
                changed = true;
                set_env(rl, j, *index, (name, now, value), plan);
            }
            // The core ConfigMap itself is harbor-core's change already.
            Some(Where::ConfigMap {
                item,
                key,
                value: now,
            }) if now != value && Some(*item) != core_cm => {
                changed = true;
                plan.tell(
                    FnResult::info(
                        Code::HarborJobserviceCoreUrl,
                        format!(
                            "set {key} to {value} for jobservice, as harbor-core's: jobservice tells the local Harbor by this string (isLocalHarbor)"
                        ),
                    )
                    .on(ResourceRef::of(&rl.items[*item]))
                    .change(&format!("data.{key}"), Some(now), value),
                );
                match data.iter_mut().find(|(i, _)| i == item) {
                    Some((_, entries)) => entries.push((key.clone(), value.clone())),
                    None => data.push((*item, vec![(key.clone(), value.clone())])),
                }
            }
            Some(Where::ValueFrom { .. } | Where::Secret { .. }) if name == "CORE_URL" => {
                plan.tell(unwritable(rl, j, setting, value));
            }
            _ => {}
        }
    }
    for (item, entries) in data {
        plan.change(Change::Set(Set::new(item, &["data"], entries)));
    }
    if changed {
        plan.restart_on_change(
            j.index,
            ResourceRef::of(&rl.items[j.index]),
            RESTART_ANNOTATION,
            &patch::restart_content(spec),
            j.checksum.as_deref(),
            (
                "jobservice's pod-template checksum annotation is already current",
                "set jobservice's pod-template checksum annotation, so it restarts and reads the new CORE_URL",
            ),
        );
    }
}

/// `env[index]` of jobservice's container set to `value` (`now` before).
fn set_env(
    rl: &ResourceList,
    j: &Jobservice,
    index: usize,
    (name, now, value): (&str, &str, &str),
    plan: &mut Plan,
) {
    plan.change(Change::Set(Set::at(
        j.index,
        env::entry_path(j.container, index),
        vec![("value".into(), value.to_string())],
    )));
    plan.tell(
        FnResult::info(Code::HarborJobserviceCoreUrl, format!(
            "set {name} to {value} in jobservice's env, as harbor-core's: jobservice tells the local Harbor by this string (isLocalHarbor); with the chart it comes from jobservice.extraEnvVars: set the same value there"
        ))
        .on(ResourceRef::of(&rl.items[j.index]))
        .change(&env::value_path(j.container, index), Some(now), value),
    );
}

/// jobservice's `CORE_URL` comes from where this function does not write.
fn unwritable(rl: &ResourceList, j: &Jobservice, setting: &Setting, value: &str) -> FnResult {
    let whence = match &setting.at {
        Some(Where::Secret { name }) => format!("Secret {name} (envFrom)"),
        _ => "valueFrom in its env".to_string(),
    };
    FnResult::warning(Code::HarborJobserviceMismatch, format!(
        "{} reads CORE_URL from {whence}, which this function does not write: set it to {value} there, as harbor-core's, or jobservice no longer recognises the local Harbor in replication (isLocalHarbor compares the two strings)",
        j.describe
    ))
    .on(ResourceRef::of(&rl.items[j.index]))
}
