//! Finding Harbor's pieces in the input: its core ConfigMap (the chart's
//! `<release>-core`), the harbor-core Deployment and its version, and jobservice's
//! ConfigMaps. Read-only, once per run; the plan and the checks both use what it found.

use serde_json::Value;

use super::realm::Rule;
use crate::krm::{Failure, ResourceList};
use crate::spec::Spec;

/// Harbor's core ConfigMap as it came in.
#[derive(Debug, Clone)]
pub struct CoreConfigMap {
    pub index: usize,
    /// `data.<key>` for the keys this function reads (strings only).
    pub core_url: Option<String>,
    pub token_service_url: Option<String>,
    pub ext_endpoint: Option<String>,
}

/// The harbor-core Deployment as it came in.
#[derive(Debug, Clone)]
pub struct CoreDeployment {
    pub index: usize,
    /// The image tag and the realm rule it implies, when the tag says.
    pub version: Option<(String, Rule)>,
    /// The pod-template annotation this function sets, as it is.
    pub checksum: Option<String>,
}

/// What the input holds of Harbor.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// The real core ConfigMap (not a local-config patch).
    pub config_map: Option<CoreConfigMap>,
    /// A local-config patch this function wrote on an earlier run.
    pub previous_patch: Option<usize>,
    pub deployment: Option<CoreDeployment>,
    /// jobservice's ConfigMaps in Harbor's namespace.
    pub jobservice: Vec<usize>,
}

fn str_at(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    cur.as_str().map(str::to_string)
}

pub fn detect(rl: &ResourceList, spec: &Spec) -> Result<Topology, Failure> {
    let h = &spec.harbor;
    let managed = |i: &crate::krm::Item| i.managed_by.as_deref() == Some(crate::MANAGED_BY);
    let config_map = rl.one("", "ConfigMap", &h.config_map, &h.namespace, |i| {
        !i.local_config
    });
    let previous = rl.one("", "ConfigMap", &h.config_map, &h.namespace, |i| {
        i.local_config && managed(i)
    });
    let deployment = rl.one("apps", "Deployment", &h.deployment, &h.namespace, |_| true);
    let ((config_map, previous_patch), deployment) =
        Failure::both(Failure::both(config_map, previous), deployment)?;

    let config_map = config_map.map(|index| {
        let v = rl.value(index).unwrap_or(Value::Null);
        CoreConfigMap {
            index,
            core_url: str_at(&v, &["data", "CORE_URL"]),
            token_service_url: str_at(&v, &["data", "TOKEN_SERVICE_URL"]),
            ext_endpoint: str_at(&v, &["data", "EXT_ENDPOINT"]),
        }
    });
    let deployment = deployment.map(|index| {
        let v = rl.value(index).unwrap_or(Value::Null);
        let version = v
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("image")?.as_str())
            .find_map(Rule::of_image);
        CoreDeployment {
            index,
            version,
            checksum: str_at(
                &v,
                &[
                    "spec",
                    "template",
                    "metadata",
                    "annotations",
                    super::patch::RESTART_ANNOTATION,
                ],
            ),
        }
    });
    let jobservice = rl
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.is("", "ConfigMap")
                && !i.local_config
                && i.name.contains("jobservice")
                && i.in_namespace(&h.namespace)
        })
        .map(|(n, _)| n)
        .collect();
    Ok(Topology {
        config_map,
        previous_patch,
        deployment,
        jobservice,
    })
}
