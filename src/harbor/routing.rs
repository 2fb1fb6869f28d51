//! What the registry's name reaches: harbor-core, or something in front of it.
//!
//! `CORE_URL` must be a URL harbor-core serves itself: jobservice posts task status to
//! `<CORE_URL>/service/notifications/tasks/<id>` (goharbor/harbor `src/pkg/task/task.go`),
//! and the chart's nginx answers that path with 404 (harbor-helm
//! `templates/nginx/configmap-http.yaml`, `location /service/notifications { return 404; }`).
//! harbor-core serves `/v2/` and `/service/token` itself (`src/server/registry/route.go`,
//! `src/server/route.go`), so its own Service is the name to give BuildKit.

use super::detect::{Service, Topology};
use crate::codes::Code;
use crate::krm::{Failure, FnResult};
use crate::spec::Spec;

/// The error for a registry name that does not reach harbor-core (`why` says what it
/// reaches), when `CORE_URL` would have to name it.
pub(crate) fn use_core(spec: &Spec, topology: &Topology, why: &str) -> Failure {
    let authority = spec.endpoint.authority();
    let fqdn = core_fqdn(spec, topology);
    Failure::new(
        FnResult::error(Code::HarborNotCore, format!(
            "{why}. CORE_URL must be a URL harbor-core serves itself: jobservice posts task status to <CORE_URL>/service/notifications/tasks/<id>, which the chart's nginx answers with 404. harbor-core serves /v2/ and /service/token itself: set spec.registry to {fqdn}"
        ))
        .change("spec.registry", Some(&authority), &fqdn),
    )
}

/// What the registry's name reaches, as far as the input shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// A Service of the input that selects harbor-core's pods.
    Core {
        service: String,
        ports: Vec<(String, u16)>,
    },
    /// A Service of the input that selects other pods (`what` says which).
    NotCore { service: String, what: String },
    /// A `<service>.<namespace>.svc` name whose Service is not in the input.
    NotInInput { service: String, namespace: String },
    /// Not a Service name (an external host or an address): Harbor's realm rules decide.
    External,
}

/// Whether a Service selects harbor-core: its selector picks the core Deployment's pods
/// (Kubernetes' rule: every selector label on the pod), or, without that Deployment in
/// the input, it selects the chart's `component: core`.
pub(crate) fn selects_core(service: &Service, topology: &Topology) -> bool {
    if service.selector.is_empty() {
        return false;
    }
    match &topology.deployment {
        Some(d) => service
            .selector
            .iter()
            .all(|(k, v)| d.pod_labels.get(k) == Some(v)),
        None => service.selector.get("component").map(String::as_str) == Some("core"),
    }
}

/// The Service the registry's host names, when it is a Service name and in the input.
fn named_service<'t>(spec: &Spec, topology: &'t Topology) -> Option<&'t Service> {
    let (name, namespace) = spec.endpoint.place.service()?;
    topology
        .services
        .iter()
        .find(|s| s.name == name && (s.namespace.is_empty() || s.namespace == namespace))
}

pub(crate) fn route(spec: &Spec, topology: &Topology) -> Route {
    let Some((name, namespace)) = spec.endpoint.place.service() else {
        return Route::External;
    };
    match named_service(spec, topology) {
        Some(s) if selects_core(s, topology) => Route::Core {
            service: s.name.clone(),
            ports: s.ports.clone(),
        },
        Some(s) => Route::NotCore {
            service: s.name.clone(),
            what: match s.selector.get("component").map(String::as_str) {
                Some("nginx") => "Harbor's nginx (component: nginx), the chart's front Service for expose.type clusterIP, nodePort or loadBalancer".to_string(),
                _ if s.selector.is_empty() => "no pods (it has no selector)".to_string(),
                _ => format!(
                    "pods labelled {}, not harbor-core's",
                    s.selector
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        },
        None => Route::NotInInput {
            service: name.to_string(),
            namespace: namespace.to_string(),
        },
    }
}

/// harbor-core's own Service name: a Service of the input that selects it, else the
/// chart's `<fullname>-core`, which is also the core ConfigMap's name.
pub(crate) fn core_service<'t>(spec: &'t Spec, topology: &'t Topology) -> &'t str {
    topology
        .services
        .iter()
        .find(|s| selects_core(s, topology))
        .map_or_else(|| topology.config_map_name(spec), |s| s.name.as_str())
}

/// The name BuildKit should use instead: harbor-core's Service, in the registry's
/// namespace (else Harbor's), under the cluster's domain.
pub(crate) fn core_fqdn(spec: &Spec, topology: &Topology) -> String {
    let namespace = spec
        .endpoint
        .place
        .service()
        .map(|(_, ns)| ns)
        .unwrap_or_else(|| topology.namespace(spec));
    let namespace = if namespace.is_empty() {
        "<namespace>"
    } else {
        namespace
    };
    spec.cluster.fqdn(core_service(spec, topology), namespace)
}

/// The port BuildKit connects to: the registry's, or the scheme's default.
pub(crate) fn port(spec: &Spec) -> u16 {
    spec.endpoint
        .registry
        .port
        .unwrap_or(spec.endpoint.scheme.default_port())
}

/// The ports as a Service's spec lists them, for messages.
pub(crate) fn describe_ports(ports: &[(String, u16)]) -> String {
    if ports.is_empty() {
        return "no port".into();
    }
    ports
        .iter()
        .map(|(n, p)| {
            if n.is_empty() {
                p.to_string()
            } else {
                format!("{p} ({n})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
