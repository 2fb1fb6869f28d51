//! What stands in front of harbor-core: the chart's nginx Service, an Ingress, the
//! external endpoint (`EXT_ENDPOINT`, the chart's `externalURL`). BuildKit may use
//! such a name when Harbor already answers it with a realm on that name (nothing then
//! changes); it never becomes `CORE_URL`, which must be a URL harbor-core serves itself
//! ([`super::routing`]), and never with a scheme the front does not serve.
//!
//! The chart's fronts (goharbor/harbor-helm `templates/ingress/ingress.yaml`,
//! `templates/nginx/service.yaml`): with `expose.tls.enabled` the Ingress lists
//! `externalURL`'s host under `tls` and carries `nginx.ingress.kubernetes.io/ssl-redirect`,
//! so plain HTTP is redirected; a nodePort or loadBalancer front serves https on
//! `externalURL`'s port. Either way the external endpoint is served with
//! `externalURL`'s scheme only.

use super::detect::Topology;
use super::realm;
use super::routing::{self, Route};
use crate::codes::Code;
use crate::krm::{Failure, FnResult};
use crate::spec::Spec;

/// When the realm must change: a front cannot carry `CORE_URL`, and the external
/// endpoint with another scheme than it is served with is refused.
pub(crate) fn check(spec: &Spec, topology: &Topology, route: &Route) -> Result<(), Failure> {
    let authority = spec.endpoint.authority();
    match route {
        Route::NotCore { service, what } => Err(routing::use_core(
            spec,
            topology,
            &format!("spec.registry {authority} names Service {service}, which selects {what}"),
        )),
        Route::External => check_scheme(spec, topology),
        Route::Core { .. } | Route::NotInInput { .. } => Ok(()),
    }
}

/// The scheme a front serves the registry's host with, and what says so.
fn served(spec: &Spec, topology: &Topology) -> Option<(String, String)> {
    let registry = &spec.endpoint.registry;
    let ext = topology.ext_endpoint().value();
    if let Some(url) = ext.and_then(realm::Url::parse) {
        let (host, port) = crate::endpoint::split_port(url.authority);
        let default = match url.scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        let same_port = match (registry.port, port) {
            (None, None) => true,
            (Some(p), Some(q)) => Some(p) == q.parse().ok(),
            (Some(p), None) => Some(p) == default,
            (None, Some(_)) => false,
        };
        if host.eq_ignore_ascii_case(&registry.host) && same_port {
            let why = format!(
                "spec.registry {} is Harbor's external endpoint (EXT_ENDPOINT {}), which the chart's front (ingress, nodePort or loadBalancer) serves over {} only",
                registry.authority(),
                ext.unwrap_or_default(),
                url.scheme
            );
            return Some((url.scheme, why));
        }
    }
    let ingress = topology
        .ingress_hosts
        .iter()
        .find(|h| h.host.eq_ignore_ascii_case(&registry.host))?;
    let (scheme, how) = if ingress.tls {
        (
            "https",
            "lists it under tls, so it serves https and ingress-nginx redirects plain HTTP there (ssl-redirect)",
        )
    } else {
        ("http", "has no tls entry for it, so it serves http only")
    };
    Some((
        scheme.to_string(),
        format!(
            "spec.registry {} is routed by Ingress {}, which {how}",
            registry.authority(),
            ingress.ingress
        ),
    ))
}

/// The external endpoint, or an Ingress host, named with a scheme its front does not
/// serve: `CORE_URL` would send harbor-core's own hooks, Trivy and replication there.
fn check_scheme(spec: &Spec, topology: &Topology) -> Result<(), Failure> {
    let Some((scheme, why)) = served(spec, topology) else {
        return Ok(());
    };
    let given = spec.endpoint.scheme.as_str();
    if scheme == given {
        return Ok(());
    }
    let fqdn = routing::core_fqdn(spec, topology);
    Err(Failure::new(
        FnResult::error(Code::HarborExternalScheme, format!(
            "{why}; with spec.scheme {given}, BuildKit would fail there, and CORE_URL would become {given}://{}, which harbor-core also hands to jobservice's task hooks, Trivy and replication. Set spec.scheme: {scheme} (Harbor then answers BuildKit on that name with a realm it can use), or give BuildKit harbor-core's in-cluster name, spec.registry: {fqdn}",
            spec.endpoint.authority()
        ))
        .change("spec.scheme", Some(given), &scheme),
    ))
}
