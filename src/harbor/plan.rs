//! Harbor's change: `CORE_URL` and `TOKEN_SERVICE_URL` set where they take effect.
//!
//! - Harbor's core ConfigMap is in the input: both keys set in place, and the
//!   harbor-core Deployment (when it is in the input too) gets a pod-template checksum
//!   so it restarts: it reads the ConfigMap through `envFrom`, only at start.
//! - It is not, under a kustomize generator: a `behavior: merge` patch, which kustomize
//!   merges into the ConfigMap from `resources:`.
//! - It is not, elsewhere: a local-config patch (never applied by itself) and a warning
//!   saying how to apply it.

use super::Topology;
use super::patch::{self, LOCAL_PATCH_PATH, RESTART_ANNOTATION};
use crate::krm::{FnResult, Mode, ResourceList, ResourceRef};
use crate::plan::{Change, Plan, Set, System};
use crate::spec::Spec;

pub fn plan(rl: &ResourceList, spec: &Spec, topology: &Topology, mode: Mode) -> Plan {
    let mut plan = Plan::new(System::Harbor);
    let (name, ns) = (&spec.harbor.config_map, &spec.harbor.namespace);
    let data = patch::core_data(spec);
    let generated = ResourceRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: name.clone(),
        namespace: ns.clone(),
    };

    let Some(config_map) = &topology.config_map else {
        match mode {
            Mode::KustomizeGenerator => {
                plan.change(Change::Add(patch::merge_patch(spec)));
                plan.tell(
                    FnResult::info(format!(
                        "generated a behavior: merge patch for ConfigMap {ns}/{name}: CORE_URL={} (kustomize merges it into the ConfigMap from resources:)",
                        data[0].1
                    ))
                    .on(generated),
                );
            }
            Mode::KptPackage | Mode::Transformer => {
                let local = patch::local_config_patch(spec);
                plan.change(match topology.previous_patch {
                    Some(item) => Change::Replace { item, with: local },
                    None => Change::Add(local),
                });
                plan.tell(
                    FnResult::warning(format!(
                        "Harbor's core ConfigMap {ns}/{name} is not in the input, so the CORE_URL patch was written to {LOCAL_PATCH_PATH} as local config (never applied by itself). Apply it where Harbor is rendered: add Harbor's manifests to this package, or merge these two keys into ConfigMap {name} (e.g. a kustomize patch), then restart harbor-core"
                    ))
                    .on(generated),
                );
            }
        }
        return plan;
    };

    let resource = ResourceRef::of(&rl.items[config_map.index]);
    let current = [&config_map.core_url, &config_map.token_service_url];
    plan.change(Change::Set(Set::new(
        config_map.index,
        &["data"],
        data.iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect(),
    )));
    for ((key, value), current) in data.iter().zip(current) {
        let path = format!("data.{key}");
        plan.tell(if current.as_deref() == Some(value.as_str()) {
            FnResult::info(format!("{key} is already {value}"))
                .on(resource.clone())
                .at(path)
        } else {
            FnResult::info(format!("set {key} to {value}"))
                .on(resource.clone())
                .change(&path, current.as_deref(), value)
        });
    }

    let deployment = &spec.harbor.deployment;
    match &topology.deployment {
        Some(d) => {
            let checksum = patch::restart_checksum(spec);
            let current = d.checksum.as_deref() == Some(checksum.as_str());
            plan.change(Change::Set(Set::new(
                d.index,
                &["spec", "template", "metadata", "annotations"],
                vec![(RESTART_ANNOTATION.to_string(), checksum.clone())],
            )));
            plan.tell(
                FnResult::info(if current {
                    "the pod-template checksum annotation is already current"
                } else {
                    "set the pod-template checksum annotation, so harbor-core restarts and reads the new CORE_URL"
                })
                .on(ResourceRef::of(&rl.items[d.index]))
                .change(
                    &format!("spec.template.metadata.annotations.{RESTART_ANNOTATION}"),
                    None,
                    &checksum,
                ),
            );
        }
        None => plan.tell(
            FnResult::info(format!(
                "Deployment {ns}/{deployment} is not in the input: after applying, restart harbor-core (kubectl -n {ns} rollout restart deployment/{deployment}), which reads CORE_URL only at start"
            ))
            .on(resource),
        ),
    }
    plan
}
