//! The typed fields, defaulted and checked, grouped by the system they configure: the
//! registry endpoint all three share, then Harbor, Tekton and BuildKit. Every problem
//! is reported at its field's path, all at once.

use super::read::Problems;
use super::{
    BuildkitSpec, DEFAULT_BUILDCTL_IMAGE, DEFAULT_BUILDKIT_CONFIG_MAP, DEFAULT_BUILDKIT_HOST,
    DEFAULT_HARBOR_CORE, DEFAULT_RUN_AS_USER, Fields, Generate, GenerateName, HarborSpec,
    PLATFORM_USER, Parsed, Spec, TektonSpec,
};
use crate::codes::Code;
use crate::endpoint::{Endpoint, Scheme, Tls};
use crate::krm::FnResult;
use crate::names;
use crate::names::dns::{Cluster, Form, Place};

/// How to name harbor-core with its internal TLS on, for the messages that steer a
/// user off the short name its certificate covers.
pub(crate) const INTERNAL_TLS_NOTE: &str = "With Harbor's internal TLS, the chart's certSource: auto certificate covers only the short name (<fullname>-core, localhost, 127.0.0.1: harbor-helm templates/internal/auto-tls.yaml): give harbor-core a certificate that also lists the FQDN (internalTLS.certSource: secret with a kubernetes.io/tls Secret, e.g. from cert-manager), and BuildKit its CA with spec.ca";

/// The spec's problems, and the prefix of its field paths (`spec` or `data`).
struct Check<'p> {
    prefix: &'p str,
    problems: &'p mut Problems,
}

impl Check<'_> {
    fn path(&self, field: &str) -> String {
        format!("{}.{field}", self.prefix)
    }

    fn add(&mut self, code: Code, field: &str, message: impl std::fmt::Display) {
        let path = self.path(field);
        self.problems.add(code, &path, message);
    }

    /// A namespace (a DNS-1123 label).
    fn label(&mut self, field: &str, value: &str) {
        if let Err(e) = names::dns1123_label(value) {
            self.add(Code::SpecName, field, e);
        }
    }

    /// An object name (a DNS-1123 subdomain).
    fn object_name(&mut self, field: &str, value: &str) {
        if let Err(e) = names::dns1123_subdomain(value) {
            self.add(Code::SpecName, field, e);
        }
    }
}

/// Applies defaults and checks every field. Returns `None` when the registry is
/// missing or invalid (the problems say why).
pub(super) fn validate(
    fields: &Fields,
    prefix: &str,
    namespaces: &[&str],
    problems: &mut Problems,
) -> Option<Parsed> {
    let mut c = Check { prefix, problems };
    let mut warnings = Vec::new();
    if let Err(e) = names::cluster_domain(&fields.cluster_domain) {
        c.add(Code::SpecName, "clusterDomain", e);
    }
    // The namespaces that exist: the input's, and those the spec puts things in.
    let known = namespaces
        .iter()
        .copied()
        .chain([fields.namespace.as_str()])
        .chain(fields.harbor_namespace.as_deref())
        .chain(fields.buildkit_namespace.as_deref());
    let cluster = Cluster::new(&fields.cluster_domain, known);
    let endpoint = endpoint(fields, &cluster, &mut c, &mut warnings);
    let harbor = harbor(
        fields,
        endpoint.as_ref().map(|e| &e.place),
        &mut c,
        &mut warnings,
    );
    let tekton = tekton(fields, &mut c);
    let buildkit = buildkit(fields, &tekton.namespace, &mut c);
    if fields.daemonless {
        daemonless(fields, tekton.run_as_user, &mut c);
    }
    if buildkit.config_map == harbor.config_map && buildkit.namespace == harbor.namespace {
        c.add(
            Code::SpecConflict,
            "buildkitConfigMap",
            format!(
                "names the same ConfigMap as Harbor's core ConfigMap ({}/{}); buildkitd.toml needs a ConfigMap of its own",
                harbor.namespace, harbor.config_map
            ),
        );
    }
    let generate = generate(&fields.generate, &mut c);
    Some(Parsed {
        spec: Spec {
            endpoint: endpoint?,
            cluster,
            harbor,
            buildkit,
            tekton,
            generate,
        },
        warnings,
    })
}

/// The registry, its scheme and TLS material; `None` when the registry is missing or
/// invalid.
fn endpoint(
    fields: &Fields,
    cluster: &Cluster,
    c: &mut Check,
    warnings: &mut Vec<FnResult>,
) -> Option<Endpoint> {
    let registry = fields.registry.as_deref().and_then(|s| {
        names::registry(s, names::Via::Spec)
            .map_err(|e| c.add(Code::SpecRegistry, "registry", e))
            .ok()
    });
    for (i, path) in fields.ca.iter().enumerate() {
        if let Err(e) = names::absolute_path(path) {
            c.add(Code::SpecPath, &format!("ca[{i}]"), e);
        }
    }
    scheme_conflicts(fields, c);
    let registry = registry?;
    let place = cluster.place(&registry.host);
    match &place {
        Place::Service {
            name,
            form: Form::Bare,
            ..
        } => {
            c.add(
                Code::SpecRegistry,
                "registry",
                format!(
                    "{:?} is a bare Service name, which resolves only from pods in the Service's own namespace (the kubelet's DNS search path starts with the pod's namespace): BuildKit's daemon and the Task's buildctl, which fetches tokens from Harbor's realm, run elsewhere. Name it as pods in every namespace reach it: {}, or {name}.<namespace>. {INTERNAL_TLS_NOTE}",
                    registry.authority(),
                    cluster.fqdn(name, "<namespace>"),
                ),
            );
            return None;
        }
        Place::OtherDomain {
            name,
            namespace,
            domain,
        } => {
            c.add(
                Code::SpecClusterDomain,
                "registry",
                format!(
                    "{:?} names Service {namespace}/{name} under the domain {domain}, but pods resolve Service names under the cluster's domain, spec.clusterDomain {}: write {}, or set spec.clusterDomain: {domain} if that is your cluster's domain (the kubelet's --cluster-domain)",
                    registry.authority(),
                    cluster.domain,
                    cluster.fqdn(name, namespace),
                ),
            );
            return None;
        }
        _ => {}
    }
    if fields.scheme == Scheme::Http && !place.in_cluster() {
        // `a.b` reads as Service a in namespace b only when namespace b exists.
        let labels: Vec<&str> = registry.host.split('.').collect();
        let maybe = match labels.as_slice() {
            [name, ns] if !name.is_empty() => format!(
                " (if {ns} is a namespace of the cluster, which nothing in the input shows, {} names Service {name} there: write {} to say so)",
                registry.host,
                cluster.fqdn(name, ns)
            ),
            _ => String::new(),
        };
        warnings.push(
            FnResult::warning(
                Code::SpecHttpOutsideCluster,
                format!(
                    "{} is http for {}, a host outside the cluster{maybe}: images and credentials would cross the network unencrypted; use https there",
                    c.path("scheme"),
                    registry.authority()
                ),
            )
            .at(c.path("scheme")),
        );
    }
    Some(Endpoint {
        place,
        registry,
        scheme: fields.scheme,
        tls: Tls {
            ca: fields.ca.clone(),
            insecure_skip_verify: fields.insecure_skip_verify,
        },
    })
}

/// The TLS fields that apply to one scheme only, given with the other.
fn scheme_conflicts(fields: &Fields, c: &mut Check) {
    if fields.scheme == Scheme::Http {
        if !fields.ca.is_empty() {
            c.add(
                Code::SpecConflict,
                "ca",
                "applies to https registries only; with scheme http there is no certificate to verify",
            );
        }
        if fields.insecure_skip_verify {
            c.add(
                Code::SpecConflict,
                "insecureSkipVerify",
                "applies to https registries only; a plain-HTTP registry needs only scheme: http (which sets http = true)",
            );
        }
    } else if fields.registry_insecure == Some(true) {
        c.add(
            Code::SpecConflict,
            "registryInsecure",
            "applies to http registries only; for an https registry without a certificate buildkitd can verify, give its CA with spec.ca, or set spec.insecureSkipVerify",
        );
    }
}

/// Where Harbor's core pieces are: given, or derived from a
/// `<service>.<namespace>.svc` registry.
fn harbor(
    fields: &Fields,
    place: Option<&Place>,
    c: &mut Check,
    warnings: &mut Vec<FnResult>,
) -> HarborSpec {
    let service = place.and_then(Place::service);
    let namespace = match (&fields.harbor_namespace, service.map(|(_, ns)| ns)) {
        // "": Harbor's manifests carry no metadata.namespace (harbor-helm before
        // v1.16.0), so a patch for kustomize must carry none either to merge.
        (Some(ns), _) if ns.is_empty() => String::new(),
        (Some(ns), derived) => {
            c.label("harborNamespace", ns);
            if let Some(derived) = derived.filter(|d| d != ns) {
                let path = c.path("harborNamespace");
                warnings.push(
                    FnResult::warning(
                        Code::SpecHarborNamespaceDiffers,
                        format!(
                            "{path} {ns:?} differs from the namespace in the registry host ({derived:?}); the patch goes to {ns:?}"
                        ),
                    )
                    .at(path),
                );
            }
            ns.clone()
        }
        (None, Some(derived)) => derived.to_string(),
        // Harbor is looked for in every namespace; a patch generated without it in the
        // input needs one (the plan says so).
        (None, None) => String::new(),
    };
    let config_map = fields
        .harbor_config_map
        .clone()
        .unwrap_or_else(|| service.map_or(DEFAULT_HARBOR_CORE, |(s, _)| s).to_string());
    c.object_name("harborConfigMap", &config_map);
    // A default derived from harborConfigMap is checked there: one bad name, one error.
    let deployment = match &fields.harbor_deployment {
        Some(d) => {
            c.object_name("harborDeployment", d);
            d.clone()
        }
        None => config_map.clone(),
    };
    HarborSpec {
        namespace,
        namespace_given: fields.harbor_namespace.is_some(),
        config_map,
        config_map_given: fields.harbor_config_map.is_some(),
        deployment,
        deployment_given: fields.harbor_deployment.is_some(),
    }
}

/// The Task: its name and namespace, its image, the daemon it talks to, its uid.
fn tekton(fields: &Fields, c: &mut Check) -> TektonSpec {
    c.label("namespace", &fields.namespace);
    if let Err(e) = names::tekton_name(&fields.task_name) {
        c.add(Code::SpecName, "taskName", e);
    }
    if let Err(e) = names::buildkit_host(&fields.buildkit_host) {
        c.add(Code::SpecBuildkitHost, "buildkitHost", e);
    }
    if let Err(e) = names::image(&fields.buildctl_image) {
        c.add(Code::SpecImage, "buildctlImage", e);
    }
    let tls_server_name = fields.buildkit_tls_server_name.clone().unwrap_or_default();
    if !tls_server_name.is_empty() {
        if let Err(e) = names::dns1123_subdomain(&tls_server_name) {
            c.add(Code::SpecName, "buildkitTlsServerName", e);
        }
    }
    TektonSpec {
        namespace: fields.namespace.clone(),
        task_name: fields.task_name.clone(),
        buildctl_image: fields.buildctl_image.clone(),
        buildkit_host_given: fields.buildkit_host != DEFAULT_BUILDKIT_HOST,
        buildkit_host: fields.buildkit_host.clone(),
        tls_server_name,
        run_as_user: run_as_user(&fields.run_as_user, c),
        registry_insecure: fields.registry_insecure,
    }
}

/// The daemon, its ConfigMap and namespace (`namespace`, the Task's, by default), the
/// CA Secret, mirrors and proxy caches.
fn buildkit(fields: &Fields, namespace: &str, c: &mut Check) -> BuildkitSpec {
    c.object_name("buildkitConfigMap", &fields.buildkit_config_map);
    let namespace = match &fields.buildkit_namespace {
        Some(ns) => {
            c.label("buildkitNamespace", ns);
            ns.clone()
        }
        None => namespace.to_string(),
    };
    if let Some(d) = &fields.buildkit_daemon {
        c.object_name("buildkitDaemon", d);
    }
    if let Some(s) = &fields.ca_secret {
        c.object_name("caSecret", s);
        if fields.ca.is_empty() {
            c.add(
                Code::SpecConflict,
                "caSecret",
                "names the Secret holding the ca files, but spec.ca lists none: say where BuildKit reads them",
            );
        }
    }
    let mut mirrors = Vec::new();
    for (i, m) in fields.mirrors.iter().enumerate() {
        match names::mirror(m) {
            Ok(m) => mirrors.push(m),
            Err(e) => c.add(Code::SpecMirror, &format!("mirrors[{i}]"), e),
        }
    }
    let mut proxy_cache = Vec::new();
    for (i, pc) in fields.proxy_cache.iter().enumerate() {
        match names::proxy_cache(pc) {
            Ok(pc) => proxy_cache.push(pc),
            Err(e) => c.add(Code::SpecMirror, &format!("proxyCache[{i}]"), e),
        }
    }
    BuildkitSpec {
        namespace,
        namespace_given: fields.buildkit_namespace.is_some(),
        config_map: fields.buildkit_config_map.clone(),
        config_map_given: fields.buildkit_config_map != DEFAULT_BUILDKIT_CONFIG_MAP,
        daemon: fields.buildkit_daemon.clone(),
        ca_secret: fields.ca_secret.clone(),
        mirrors,
        proxy_cache,
        daemonless: fields.daemonless,
    }
}

/// `runAsUser`: a uid (not root: the step runs with runAsNonRoot), or `platform`.
fn run_as_user(value: &serde_json::Value, c: &mut Check) -> Option<u32> {
    let field = "runAsUser";
    match value {
        serde_json::Value::String(s) if s == PLATFORM_USER => None,
        v => match v.as_i64().map(u32::try_from) {
            Some(Ok(0)) => {
                c.add(
                    Code::SpecRunAsUser,
                    field,
                    "is 0, root: the step runs with runAsNonRoot: true, and buildctl needs no root; give a uid (the rootless image's is 1000) or platform",
                );
                None
            }
            Some(Ok(uid)) if uid <= i32::MAX as u32 => Some(uid),
            Some(_) => {
                c.add(
                    Code::SpecRunAsUser,
                    field,
                    format!("is {v}; a uid is from 1 to 2147483647"),
                );
                None
            }
            None => {
                c.add(
                    Code::SpecRunAsUser,
                    field,
                    format!(
                        "is {v}; expected a uid (a number, e.g. {DEFAULT_RUN_AS_USER}) or {PLATFORM_USER} (the cluster assigns one)"
                    ),
                );
                None
            }
        },
    }
}

/// What daemonless mode cannot go with: a daemon to connect to, and a uid other than
/// the rootless image's (its /etc/subuid maps only user 1000: moby/buildkit
/// `Dockerfile`, and examples/kubernetes/job.rootless.yaml "To change UID/GID, you
/// need to rebuild the image").
fn daemonless(fields: &Fields, uid: Option<u32>, c: &mut Check) {
    if fields.buildkit_host != DEFAULT_BUILDKIT_HOST {
        c.add(
            Code::SpecConflict,
            "buildkitHost",
            "is set with daemonless: true; a daemonless step starts its own buildkitd and connects to nothing else: leave one of them out",
        );
    }
    if fields.buildkit_tls_server_name.is_some() {
        c.add(
            Code::SpecConflict,
            "buildkitTlsServerName",
            "is set with daemonless: true; the step's own buildkitd listens on a local socket, without TLS: leave one of them out",
        );
    }
    for (field, given) in [
        ("buildkitDaemon", fields.buildkit_daemon.is_some()),
        ("buildkitNamespace", fields.buildkit_namespace.is_some()),
        ("caSecret", fields.ca_secret.is_some()),
    ] {
        if given {
            c.add(
                Code::SpecConflict,
                field,
                format!("is set with daemonless: true; it names the daemon's side, and the step runs its own buildkitd (buildkitd.toml goes to the Task's namespace, mounted into the step): leave {field} out"),
            );
        }
    }
    if fields.buildctl_image != DEFAULT_BUILDCTL_IMAGE {
        return;
    }
    let platform = fields.run_as_user.as_str() == Some(PLATFORM_USER);
    match uid {
        None if platform => c.add(
            Code::SpecConflict,
            "runAsUser",
            format!("is {PLATFORM_USER} with daemonless: true; the rootless buildkitd maps its user namespace from /etc/subuid, which in the rootless image holds only uid {DEFAULT_RUN_AS_USER}: run it as {DEFAULT_RUN_AS_USER} (an SCC that allows it, on OpenShift), or connect to a daemon instead"),
        ),
        Some(uid) if uid != DEFAULT_RUN_AS_USER => c.add(
            Code::SpecConflict,
            "runAsUser",
            format!("is {uid} with daemonless: true; the rootless image's /etc/subuid maps only uid {DEFAULT_RUN_AS_USER}: keep {DEFAULT_RUN_AS_USER}, or set buildctlImage to an image built for {uid}"),
        ),
        // An invalid uid has its own error.
        None | Some(_) => {}
    }
}

/// `generate`: which of the three resources to produce (each value was checked against
/// the set when it was read).
fn generate(values: &[GenerateName], c: &mut Check) -> Generate {
    if values.is_empty() {
        c.add(
            Code::SpecValue,
            "generate",
            "is empty; name at least one of harborCore, buildkitdConfig, task (or leave it out for all three)",
        );
    }
    Generate {
        harbor_core: values.contains(&GenerateName::HarborCore),
        buildkitd_config: values.contains(&GenerateName::BuildkitdConfig),
        task: values.contains(&GenerateName::Task),
    }
}
