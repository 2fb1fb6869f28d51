//! The resources Harbor's patch is written as: the two keys of its core ConfigMap,
//! as a kustomize merge patch or a kpt local-config patch when that ConfigMap is not in
//! the input, and the pod-template checksum that restarts harbor-core.

use serde_json::{Value, json};

use crate::spec::Spec;

/// `<scheme>://<registry>` exactly as image references name the registry.
pub(crate) fn core_url(spec: &Spec) -> String {
    spec.endpoint.url()
}

/// The chart keeps `TOKEN_SERVICE_URL` at `<CORE_URL>/service/token`; Harbor does not
/// read it for the realm, but the two are kept consistent.
pub(crate) fn token_service_url(spec: &Spec) -> String {
    format!("{}/service/token", core_url(spec))
}

/// The two keys this function owns in Harbor's core ConfigMap.
pub(crate) fn core_data(spec: &Spec) -> [(&'static str, String); 2] {
    [
        ("CORE_URL", core_url(spec)),
        ("TOKEN_SERVICE_URL", token_service_url(spec)),
    ]
}

/// Pod-template annotation on the harbor-core Deployment. harbor-core reads its
/// ConfigMap through `envFrom`, so a changed ConfigMap only takes effect after a
/// restart; the chart's own `checksum/configmap` does not change when rendered output
/// is patched afterwards. This value does.
pub const RESTART_ANNOTATION: &str = "harbor-buildkit.dev/core-config-checksum";

/// What the checksum is taken of: the two keys as `KEY=value` lines.
pub(crate) fn restart_content(spec: &Spec) -> String {
    core_data(spec)
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

/// A ConfigMap with only our two keys, under Harbor's ConfigMap's name.
fn patch(spec: &Spec, labels: Value, annotations: Value) -> Value {
    let data: serde_json::Map<String, Value> = core_data(spec)
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    let mut metadata = json!({ "name": spec.harbor.config_map });
    // kustomize merges by name and namespace as the resource has them when generators
    // run (before its namespace transformer): none, for a chart that renders none.
    if !spec.harbor.namespace.is_empty() {
        metadata["namespace"] = json!(spec.harbor.namespace);
    }
    if labels.as_object().is_some_and(|m| !m.is_empty()) {
        metadata["labels"] = labels;
    }
    metadata["annotations"] = annotations;
    json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data })
}

/// The patch as kustomize merges it: a ConfigMap with only our two keys and
/// `behavior: merge`, so the chart's ConfigMap from `resources:` keeps everything else.
pub(crate) fn merge_patch(spec: &Spec) -> Value {
    patch(
        spec,
        json!({}),
        json!({ "kustomize.config.k8s.io/behavior": "merge" }),
    )
}

/// Where the local-config patch goes in a kpt package.
pub(crate) const LOCAL_PATCH_PATH: &str = "harbor-buildkit/harbor-core-patch.yaml";

/// The patch as a kpt package keeps it: marked local-config so that neither
/// `kpt live apply` nor kustomize ever applies it as the whole Harbor ConfigMap.
pub(crate) fn local_config_patch(spec: &Spec) -> Value {
    patch(
        spec,
        json!({ crate::MANAGED_BY_LABEL: crate::MANAGED_BY }),
        json!({
            "config.kubernetes.io/local-config": "true",
            "internal.config.kubernetes.io/path": LOCAL_PATCH_PATH,
            "config.kubernetes.io/path": LOCAL_PATCH_PATH,
        }),
    )
}
