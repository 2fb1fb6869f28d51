//! Harbor's change: `CORE_URL` set to `<scheme>://<registry>` where harbor-core reads it,
//! when it is needed and when it is safe, and never a patch that cannot land.
//!
//! 1. **Safe**: the registry must reach harbor-core itself, on a port its Service
//!    exposes ([`routing`]), with harbor-core's scheme and a certificate that covers the
//!    name when it serves TLS ([`tls`]); Harbor v1.10 and earlier do not read `CORE_URL`
//!    for the realm at all.
//! 2. **Needed**: when the realm Harbor already answers (under the harbor-core image's
//!    rule, or both current rules) has the registry's scheme and host, nothing changes:
//!    `CORE_URL` also routes Trivy, replication's local registry and job hooks.
//! 3. **Where**: the harbor-core container's own `env` when it sets `CORE_URL` (the
//!    chart's `core.extraEnvVars`; `env` wins over `envFrom`), else the core ConfigMap;
//!    the harbor-core Deployment gets a pod-template checksum so it restarts.
//! 4. **Not in the input**: a kustomize generator gets a `behavior: merge` patch (which
//!    kustomize refuses loudly if nothing takes it), a kpt package a local-config patch
//!    and a warning; anything else, a kustomize transformer included (kustomize drops
//!    local-config items), is an error.

use super::detect::{CoreDeployment, PreviousPatch, Setting, Topology, Where};
use super::front;
use super::jobservice;
use super::patch::{self, LOCAL_PATCH_PATH, RESTART_ANNOTATION};
use super::realm::{self, Rule};
use super::routing::{self, Route};
use super::tls;
use crate::codes::Code;
use crate::endpoint::Scheme;
use crate::krm::env;
use crate::krm::{Failure, FnResult, Mode, ResourceList, ResourceRef};
use crate::plan::{Change, Plan, Set, System};
use crate::spec::Spec;

pub(crate) fn plan(
    rl: &ResourceList,
    spec: &Spec,
    topology: &Topology,
    mode: Mode,
) -> Result<Plan, Failure> {
    let mut plan = Plan::new(System::Harbor);
    let internal_tls = tls::evidence(spec, topology);
    let route = routing::route(spec, topology);
    // What would fail BuildKit's connection whatever the realm: a scheme or port
    // harbor-core does not serve, a name that reaches nothing of Harbor's, a
    // certificate that does not cover the name.
    check_tls_scheme(spec, internal_tls.as_deref(), &route)?;
    check_reach(spec, topology, route.clone(), &mut plan)?;
    check_certificate(
        spec,
        topology,
        internal_tls.as_deref(),
        (&route, Verifier::BuildKit),
    )?;
    // The realm already has the registry's scheme and host: nothing to change, so
    // nothing to refuse.
    if let Some(realm) = already_right(spec, topology) {
        let resource = core_ref(rl, topology);
        plan.tell(
            FnResult::info(Code::HarborAlreadyRight, format!(
                "CORE_URL left as it is: Harbor already answers BuildKit (Host: {}) with realm {realm}, the registry's scheme and host; CORE_URL also routes Trivy, replication and job hooks, so it is not rewritten",
                spec.endpoint.authority()
            ))
            .on(resource),
        );
        if topology.namespace_assumed {
            plan.tell(namespace_assumed(rl, spec, topology));
        }
        return Ok(plan);
    }
    check_version(spec, topology)?;
    front::check(spec, topology, &route)?;
    check_certificate(
        spec,
        topology,
        internal_tls.as_deref(),
        (&route, Verifier::Harbor),
    )?;

    let at = topology.core_url_at();
    if topology.config_map.is_none() && at.is_none() {
        not_in_input(spec, topology, mode, &mut plan)?;
        return Ok(plan);
    }
    if let (Some(d), Some(Where::ValueFrom { .. } | Where::Secret { .. })) =
        (&topology.deployment, at)
    {
        let whence = match at {
            Some(Where::ValueFrom { index }) => format!(
                "harbor-core's env sets CORE_URL with valueFrom (env[{index}]), which is read in the cluster, not here"
            ),
            Some(Where::Secret { name }) => format!(
                "harbor-core reads CORE_URL from Secret {name} (envFrom), whose value this function does not write"
            ),
            _ => String::new(),
        };
        return Err(Failure::new(
            FnResult::error(
                Code::HarborCoreUrlValueFrom,
                format!(
                    "{whence}: set it to {} where that value comes from, or write it as a value in harbor-core's env",
                    patch::core_url(spec)
                ),
            )
            .on(ResourceRef::of(&rl.items[d.index])),
        ));
    }
    set_core_url(rl, spec, topology, &mut plan);
    if route == Route::External {
        plan.tell(external_dependents(spec));
    }
    if topology.namespace_assumed {
        plan.tell(namespace_assumed(rl, spec, topology));
    }
    jobservice::follow(rl, spec, topology, &mut plan);
    restart(rl, spec, topology, &mut plan);
    Ok(plan)
}

/// The other users of `CORE_URL`, once it names a host outside the cluster.
fn external_dependents(spec: &Spec) -> FnResult {
    let url = patch::core_url(spec);
    let ca = match spec.endpoint.scheme {
        Scheme::Https => {
            ", and trust its certificate (for a private CA, the chart's caBundleSecretName)"
        }
        Scheme::Http => "",
    };
    FnResult::warning(Code::HarborCoreUrlExternal, format!(
        "CORE_URL is now {url}, a name outside the cluster: harbor-core also gives it to jobservice for task hooks (<CORE_URL>/service/notifications), to Trivy and replication for their tokens (<CORE_URL>/service/token, goharbor/harbor src/lib/config/systemconfig.go InternalTokenServiceEndpoint), and jobservice reads its configuration from it: every Harbor pod must resolve and reach {}{ca}",
        spec.endpoint.authority()
    ))
    .at("spec.registry")
}

/// Harbor's namespace taken from `spec.registry`: nothing in the input says it.
fn namespace_assumed(rl: &ResourceList, spec: &Spec, topology: &Topology) -> FnResult {
    let ns = topology.namespace(spec);
    FnResult::warning(Code::HarborNamespaceAssumed, format!(
        "Harbor's core ConfigMap {} has no metadata.namespace (harbor-helm renders one from chart v1.16.0 on, and helm gives a post-renderer no namespace), so Harbor's namespace {ns} was taken from spec.registry and cannot be checked: a registry in another namespace would reach another Harbor, or none. Set spec.harborNamespace to the namespace Harbor is installed in",
        topology.config_map_name(spec)
    ))
    .on(core_ref(rl, topology))
    .at("spec.harborNamespace")
}

/// The item to name in results about harbor-core's settings.
fn core_ref(rl: &ResourceList, topology: &Topology) -> ResourceRef {
    let index = topology
        .config_map
        .as_ref()
        .map(|c| c.index)
        .or(topology.deployment.as_ref().map(|d| d.index))
        .unwrap_or(0);
    ResourceRef::of(&rl.items[index])
}

/// With internal TLS (`internal_tls` says why it is on) harbor-core listens only for
/// https: a registry that names harbor-core's Service must use it (a front, such as
/// an ingress or nginx, serves its own schemes).
fn check_tls_scheme(spec: &Spec, internal_tls: Option<&str>, route: &Route) -> Result<(), Failure> {
    if spec.endpoint.scheme != Scheme::Http
        || matches!(route, Route::External | Route::NotCore { .. })
    {
        return Ok(());
    }
    let Some(why) = internal_tls else {
        return Ok(());
    };
    Err(Failure::new(
        FnResult::error(Code::HarborInternalTlsHttp, format!(
            "harbor-core serves https only ({why}: the chart's internalTLS.enabled), so spec.scheme: http would set CORE_URL to http://{}, where nothing listens; set spec.scheme: https (and give BuildKit Harbor's internal CA with spec.ca)",
            spec.endpoint.authority()
        ))
        .change("spec.scheme", Some("http"), "https"),
    ))
}

/// The registry must reach Harbor: harbor-core's Service on a port it exposes, or a
/// Service of the input (a front such as nginx, judged by [`front::check`]).
fn check_reach(
    spec: &Spec,
    topology: &Topology,
    route: Route,
    plan: &mut Plan,
) -> Result<(), Failure> {
    let authority = spec.endpoint.authority();
    let port = routing::port(spec);
    match route {
        Route::External | Route::NotCore { .. } => Ok(()),
        Route::Core { service, ports } => {
            if ports.iter().any(|(_, p)| *p == port) {
                return Ok(());
            }
            Err(Failure::new(
                FnResult::error(Code::HarborPort, format!(
                    "spec.registry {authority} reaches harbor-core's Service {service} on port {port}, which it does not expose (its ports: {}); {}",
                    routing::describe_ports(&ports),
                    port_fix(spec, &ports)
                ))
                .at("spec.registry"),
            ))
        }
        Route::NotInInput { service, namespace } => {
            let core = routing::core_service(spec, topology);
            if service != core
                || (!service.ends_with("-core")
                    && topology.config_map.is_none()
                    && !spec.harbor.config_map_given)
            {
                return Err(routing::use_core(
                    spec,
                    topology,
                    &format!(
                        "spec.registry {authority} names Service {namespace}/{service}, which is not in the input, and is not harbor-core's Service ({core}; the chart names it <fullname>-core, and with expose.type clusterIP its nginx front Service is named harbor): add Service {service} to the input so that its selector can be checked, if it does select harbor-core"
                    ),
                ));
            }
            // The chart renders CORE_URL with the core Service's port.
            if let Some(url) = topology.core_url().value() {
                if let Some(u) = realm::Url::parse(url) {
                    let same_service = u.host().split('.').next() == Some(service.as_str());
                    if same_service && u.port() != Some(port) {
                        let exposed = u.port().unwrap_or(0);
                        return Err(Failure::new(
                            FnResult::error(Code::HarborPort, format!(
                                "spec.registry {authority} connects to port {port}, but harbor-core's Service exposes {exposed}, as CORE_URL {url} says (the chart renders it with the Service's port); {}",
                                port_fix(spec, &[(u.scheme.clone(), exposed)])
                            ))
                            .at("spec.registry"),
                        ));
                    }
                }
            }
            // The chart's core Service listens on 80, or 443 with internal TLS
            // (harbor-helm `templates/core/core-svc.yaml`); 8080 and 8443 are the
            // container's ports behind it.
            if !matches!(port, 80 | 443) && topology.core_url().value().is_none() {
                plan.tell(
                    FnResult::warning(Code::HarborPort, format!(
                        "spec.registry {authority} connects to port {port} of Service {namespace}/{service}, which is not in the input; the chart's harbor-core Service exposes 80 (443 with internal TLS), and 8080/8443 are the container's ports behind it. {}, unless this Service is not the chart's",
                        port_fix(spec, &[(String::new(), spec.endpoint.scheme.default_port())])
                    ))
                    .at("spec.registry"),
                );
            } else {
                plan.tell(FnResult::info(Code::HarborServiceAssumed, format!(
                    "Service {namespace}/{service} is not in the input: assumed it is harbor-core's (the chart's <fullname>-core) and exposes port {port}"
                )));
            }
            Ok(())
        }
    }
}

/// How to name the registry with a port the Service exposes.
fn port_fix(spec: &Spec, ports: &[(String, u16)]) -> String {
    let host = &spec.endpoint.registry.host;
    let pick = |p: u16| ports.iter().any(|(_, q)| *q == p);
    if pick(443) {
        format!("use spec.registry: {host} with spec.scheme: https (port 443)")
    } else if pick(80) {
        format!("use spec.registry: {host} with spec.scheme: http (port 80)")
    } else if let Some((_, p)) = ports.first() {
        format!("use spec.registry: {host}:{p}")
    } else {
        "name a port the Service exposes".to_string()
    }
}

/// With internal TLS, harbor-core's certificate must cover the name BuildKit uses.
fn check_certificate(
    spec: &Spec,
    topology: &Topology,
    internal_tls: Option<&str>,
    (route, who): (&Route, Verifier),
) -> Result<(), Failure> {
    let Some(why) = internal_tls else {
        return Ok(());
    };
    // A registry outside the cluster is a TLS front (ingress, gateway), not harbor-core;
    // nginx serves its own certificate; with insecureSkipVerify BuildKit checks none,
    // but Harbor's own clients of CORE_URL still do.
    if matches!(route, Route::External | Route::NotCore { .. })
        || (who == Verifier::BuildKit && spec.endpoint.tls.insecure_skip_verify)
    {
        return Ok(());
    }
    let host = &spec.endpoint.registry.host;
    let names = tls::certificate_names(spec, topology).map_err(|e| {
        Failure::new(FnResult::error(
            Code::HarborCertificate,
            format!("harbor-core's internal TLS certificate cannot be read: {e}"),
        ))
    })?;
    if tls::covers(&names.names, host) {
        return Ok(());
    }
    let source = match &names.source {
        tls::Source::Secret(s) => format!("Secret {s}"),
        tls::Source::ChartDefault => {
            "the chart's certSource: auto certificate; its Secret is not in the input".into()
        }
    };
    let core = routing::core_service(spec, topology);
    let refused_by = match who {
        Verifier::BuildKit => {
            "BuildKit checks the certificate against the name it connects to and would refuse it"
                .to_string()
        }
        Verifier::Harbor => format!(
            "CORE_URL would become https://{}, and Harbor's own clients of it (jobservice, task hooks, Trivy's and replication's tokens) check the certificate with the internal CA (goharbor/harbor src/common/http/transport.go, the internal TLS config), spec.insecureSkipVerify or not, and would refuse it",
            spec.endpoint.authority()
        ),
    };
    Err(Failure::new(
        FnResult::error(Code::HarborCertificate, format!(
            "harbor-core serves TLS itself ({why}), and its certificate ({source}) is for {}, not {host}: {refused_by}. Give harbor-core a certificate that covers {host}: with the chart, internalTLS.certSource: secret and internalTLS.core.secretName naming a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) whose certificate lists {host} as well as {core} and localhost (cert-manager can issue one from your internal CA); then give BuildKit that CA with spec.ca",
            names.names.join(", ")
        ))
        .at("spec.registry"),
    ))
}

/// Who checks harbor-core's certificate against the registry's name: BuildKit, when
/// it connects (not with `insecureSkipVerify`); Harbor itself, once `CORE_URL` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verifier {
    BuildKit,
    Harbor,
}

/// Harbor v1.10 and earlier answer every client with the realm of the registry's own
/// configuration (they have no `v2auth` middleware), which is not the registry's here
/// ([`already_right`] said so).
fn check_version(spec: &Spec, topology: &Topology) -> Result<(), Failure> {
    let Some((tag, Rule::Static)) = topology.deployment.as_ref().and_then(|d| d.version.clone())
    else {
        return Ok(());
    };
    let realm = topology.registry_realm.clone().or_else(|| {
        topology
            .ext_endpoint()
            .value()
            .map(|e| format!("{}/service/token", e.trim_end_matches('/')))
    });
    let (now, use_it) = match realm.as_deref().and_then(realm::Url::parse) {
        Some(u) => (
            format!(", {}", realm.as_deref().unwrap_or_default()),
            format!(
                "give BuildKit the name that realm is on (spec.registry: {}, spec.scheme: {}), if its pods reach it; or ",
                u.authority, u.scheme
            ),
        ),
        None => (String::new(), String::new()),
    };
    Err(Failure::new(FnResult::error(
        Code::HarborStaticRealm,
        format!(
            "harbor-core {tag} is {}: its registry answers every client with the realm of its own configuration{now} (auth.token.realm, <externalURL>/service/token in the chart), and CORE_URL plays no part, so no patch here can give BuildKit {}/service/token. Either {use_it}upgrade Harbor to v2.0 or later, where harbor-core answers a client that uses CORE_URL's host with CORE_URL's realm (v2.0-v2.1 match host:port exactly). Setting auth.token.realm to the in-cluster URL instead would give that realm to every client, outside ones included",
            Rule::Static.versions(),
            patch::core_url(spec)
        ),
    )))
}

/// The realm Harbor answers now, when it already has the registry's scheme and host
/// under every rule in play.
fn already_right(spec: &Spec, topology: &Topology) -> Option<String> {
    let core_url = topology.core_url().value()?;
    let ext_endpoint = topology.ext_endpoint().value();
    let rules: Vec<Rule> = match topology.deployment.as_ref().and_then(|d| d.version.clone()) {
        Some((_, rule)) => vec![rule],
        None => Rule::BOTH.to_vec(),
    };
    let host = spec.endpoint.authority();
    let config = realm::Config {
        core_url,
        ext_endpoint,
        registry_realm: topology.registry_realm.as_deref(),
    };
    let mut realms: Vec<String> = Vec::new();
    for rule in rules {
        let realm = realm::predict(&host, config, rule).realm?;
        if !realm::compare(&realm, spec.endpoint.scheme.as_str(), &host).is_empty() {
            return None;
        }
        if !realms.contains(&realm) {
            realms.push(realm);
        }
    }
    Some(realms.join(" or "))
}

/// Where a value of harbor-core's is written: its container's env, or a ConfigMap's
/// data (the core ConfigMap, or another it reads through `envFrom`).
enum Target {
    Env {
        index: usize,
        current: String,
    },
    Data {
        item: usize,
        key: String,
        current: Option<String>,
    },
}

/// Where `setting` (`CORE_URL` or `TOKEN_SERVICE_URL`) is written: where harbor-core
/// reads it; for one that nothing sets, `beside` (the ConfigMap `CORE_URL` is written
/// to), else the core ConfigMap. `None` for a value read from a Secret or `valueFrom`.
fn target(
    setting: &Setting,
    name: &str,
    beside: Option<usize>,
    topology: &Topology,
) -> Option<Target> {
    match &setting.at {
        Some(Where::Env { index, value }) => Some(Target::Env {
            index: *index,
            current: value.clone(),
        }),
        Some(Where::ConfigMap { item, key, value }) => Some(Target::Data {
            item: *item,
            key: key.clone(),
            current: Some(value.clone()),
        }),
        Some(Where::ValueFrom { .. } | Where::Secret { .. }) => None,
        None => {
            let cm = topology.config_map.as_ref();
            let item = beside.or(cm.map(|c| c.index))?;
            let current = cm.filter(|c| c.index == item).and_then(|c| match name {
                "CORE_URL" => c.core_url.clone(),
                _ => c.token_service_url.clone(),
            });
            Some(Target::Data {
                item,
                key: name.to_string(),
                current,
            })
        }
    }
}

/// Sets `CORE_URL` (and `TOKEN_SERVICE_URL` beside it) where harbor-core reads it: its
/// env (the chart's `core.extraEnvVars`), or the ConfigMap it reads through `envFrom`
/// that holds it, under that entry's prefix (the kubelet's order).
fn set_core_url(rl: &ResourceList, spec: &Spec, topology: &Topology, plan: &mut Plan) {
    let data = patch::core_data(spec);
    let none = Setting::default();
    let d = topology.deployment.as_ref();
    let core = target(d.map_or(&none, |d| &d.core_url), "CORE_URL", None, topology);
    let beside = match &core {
        Some(Target::Data { item, .. }) => Some(*item),
        _ => None,
    };
    // TOKEN_SERVICE_URL (read by no Harbor code, kept as the chart writes the pair) is
    // written where harbor-core reads it, wherever CORE_URL is: the pair stays one.
    let token_setting = d.map_or(&none, |d| &d.token_service_url);
    let token = match &core {
        None => None,
        Some(_) => target(token_setting, "TOKEN_SERVICE_URL", beside, topology),
    };
    // One Set per ConfigMap (two would each create `data:` where it is missing).
    let mut by_item: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    for ((name, value), target) in data.iter().zip([core, token]) {
        match target {
            Some(Target::Env { index, current }) => {
                if let Some(d) = d {
                    set_in_env(rl, d, (index, &current), (name, value), plan);
                }
            }
            Some(Target::Data { item, key, current }) => {
                let path = format!("data.{key}");
                let resource = ResourceRef::of(&rl.items[item]);
                let elsewhere = topology.config_map.as_ref().is_none_or(|c| c.index != item);
                let through = if elsewhere || key != *name {
                    format!(
                        " (harbor-core reads {name} from ConfigMap {}{} through envFrom)",
                        rl.items[item].name,
                        if key == *name {
                            String::new()
                        } else {
                            format!(", key {key} under the entry's prefix")
                        }
                    )
                } else {
                    String::new()
                };
                let through = format!("{through}{}", unused_note(name));
                plan.tell(if current.as_deref() == Some(value.as_str()) {
                    FnResult::info(
                        Code::HarborCoreUrlSet,
                        format!("{key} is already {value}{through}"),
                    )
                    .on(resource)
                    .at(path)
                } else {
                    FnResult::info(
                        Code::HarborCoreUrlSet,
                        format!("set {key} to {value}{through}"),
                    )
                    .on(resource)
                    .change(&path, current.as_deref(), value)
                });
                match by_item.iter_mut().find(|(i, _)| *i == item) {
                    Some((_, entries)) => entries.push((key, value.clone())),
                    None => by_item.push((item, vec![(key, value.clone())])),
                }
            }
            // TOKEN_SERVICE_URL from a Secret or valueFrom: left; Harbor reads it nowhere.
            None => {}
        }
    }
    for (item, entries) in by_item {
        plan.change(Change::Set(Set::new(item, &["data"], entries)));
    }
    if let Some(d) = d {
        warn_overridden(rl, d, plan);
    }
}

/// Sets `name` in harbor-core's container env, entry `index` (now `current`).
fn set_in_env(
    rl: &ResourceList,
    d: &CoreDeployment,
    (index, current): (usize, &str),
    (name, value): (&str, &String),
    plan: &mut Plan,
) {
    let path = env::value_path(d.container, index);
    plan.change(Change::Set(Set::at(
        d.index,
        env::entry_path(d.container, index),
        vec![("value".into(), value.clone())],
    )));
    let resource = ResourceRef::of(&rl.items[d.index]);
    plan.tell(if current == value {
        FnResult::info(Code::HarborCoreUrlSet, format!("{name} in harbor-core's env is already {value}"))
            .on(resource)
            .at(path)
    } else {
        FnResult::info(Code::HarborCoreUrlSet, format!(
            "set {name} to {value} in harbor-core's env, which wins over its ConfigMap (envFrom); with the chart it comes from core.extraEnvVars: set the same value there{}",
            unused_note(name)
        ))
        .on(resource)
        .change(&path, Some(current), value)
    });
}

/// `TOKEN_SERVICE_URL` is declared in Harbor's configuration metadata and read by no
/// code (goharbor/harbor v1.10 to v2.15: `common.TokenServiceURL` appears only in
/// `metadatalist.go`; the token URL Harbor's own clients use is `CORE_URL` +
/// `/service/token`, `systemconfig.go` `InternalTokenServiceEndpoint`).
fn unused_note(name: &str) -> &'static str {
    match name {
        "TOKEN_SERVICE_URL" => {
            "; TOKEN_SERVICE_URL is read by no Harbor code (v1.10 to v2.15), and is kept beside CORE_URL as the chart writes the pair"
        }
        _ => "",
    }
}

/// HBF219: envFrom sources read after `CORE_URL`'s that the input does not hold.
fn warn_overridden(rl: &ResourceList, d: &CoreDeployment, plan: &mut Plan) {
    let unknown = &d.core_url.unknown_after;
    if unknown.is_empty() {
        return;
    }
    let one = unknown.len() == 1;
    plan.tell(
        FnResult::warning(
            Code::HarborCoreUrlMayBeOverridden,
            format!(
                "{} also reads {} through envFrom, after where CORE_URL was set, and {} not in the input: if one holds CORE_URL, the kubelet gives harbor-core that value instead. Give {} with the input, or check that {} no CORE_URL",
                d.describe,
                unknown.join(", "),
                if one { "it is" } else { "they are" },
                if one { "it" } else { "them" },
                if one { "it holds" } else { "they hold" },
            ),
        )
        .on(ResourceRef::of(&rl.items[d.index])),
    );
}

/// A pod-template checksum on the harbor-core Deployment, so it restarts and reads the
/// new `CORE_URL`: it reads its ConfigMap through `envFrom`, only at start, and the
/// chart's own `checksum/configmap` does not change when rendered output is patched.
fn restart(rl: &ResourceList, spec: &Spec, topology: &Topology, plan: &mut Plan) {
    let ns = topology.namespace(spec);
    match &topology.deployment {
        Some(d) => plan.restart_on_change(
            d.index,
            ResourceRef::of(&rl.items[d.index]),
            RESTART_ANNOTATION,
            &patch::restart_content(spec),
            d.checksum.as_deref(),
            (
                "the pod-template checksum annotation is already current",
                "set the pod-template checksum annotation, so harbor-core restarts and reads the new CORE_URL",
            ),
        ),
        None => {
            let deployment = &spec.harbor.deployment;
            plan.tell(
                FnResult::info(Code::HarborRestart, format!(
                    "Deployment {ns}/{deployment} is not in the input: after applying, restart harbor-core (kubectl -n {ns} rollout restart deployment/{deployment}), which reads CORE_URL only at start"
                ))
                .on(core_ref(rl, topology)),
            );
        }
    }
}

/// Harbor's core ConfigMap is not in the input: what the caller can apply, or an error.
fn not_in_input(
    spec: &Spec,
    topology: &Topology,
    mode: Mode,
    plan: &mut Plan,
) -> Result<(), Failure> {
    let (name, ns) = (&spec.harbor.config_map, &spec.harbor.namespace);
    let data = patch::core_data(spec);
    let generated = ResourceRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: name.clone(),
        namespace: ns.clone(),
    };
    let need_namespace = || {
        Failure::new(
            FnResult::error(Code::HarborNamespaceRequired, format!(
                "spec.harborNamespace is required: Harbor's core ConfigMap is not in the input, and spec.registry ({}) is not a <service>.<namespace>.svc name that says which namespace the patch is for. kustomize merges the patch into the ConfigMap by name and namespace as it is when generators run, before the kustomization's namespace: is applied; harbor-helm renders metadata.namespace only from chart v1.16.0, so for an older chart set harborNamespace: \"\" (the patch then has none), else the namespace the chart rendered",
                spec.endpoint.authority()
            ))
            .at("spec.harborNamespace"),
        )
    };
    // A patch an earlier run wrote is rewritten in its form: whoever took that output
    // takes this one (this is the function run on its own output).
    let mode = match topology.previous_patch {
        Some(PreviousPatch::Merge(_)) => Mode::KustomizeGenerator,
        Some(PreviousPatch::LocalConfig(_)) => Mode::KptPackage,
        None => mode,
    };
    match mode {
        Mode::KustomizeGenerator => {
            if ns.is_empty() && !spec.harbor.namespace_given {
                return Err(need_namespace());
            }
            let merge = patch::merge_patch(spec);
            plan.change(match topology.previous_patch {
                Some(PreviousPatch::Merge(item)) => Change::Replace { item, with: merge },
                _ => Change::Add(merge),
            });
            plan.tell(
                FnResult::info(Code::HarborMergePatch, format!(
                    "generated a behavior: merge patch for ConfigMap {}: CORE_URL={} (kustomize merges it into the ConfigMap from resources:). jobservice reads CORE_URL too (the chart's <fullname>-jobservice-env, or jobservice.extraEnvVars) and must have the same string to recognise the local Harbor in replication: patch it the same way",
                    generated.describe().trim_start_matches("ConfigMap "),
                    data[0].1
                ))
                .on(generated),
            );
            Ok(())
        }
        Mode::KptPackage => {
            if ns.is_empty() && !spec.harbor.namespace_given {
                return Err(need_namespace());
            }
            let local = patch::local_config_patch(spec);
            plan.change(match topology.previous_patch {
                Some(PreviousPatch::LocalConfig(item)) => Change::Replace { item, with: local },
                _ => Change::Add(local),
            });
            plan.tell(
                FnResult::warning(Code::HarborLocalPatch, format!(
                    "Harbor's core ConfigMap {ns}/{name} is not in the input, so the CORE_URL patch was written to {LOCAL_PATCH_PATH} as local config (never applied by itself). Apply it where Harbor is rendered: add Harbor's manifests to this package, or merge these two keys into ConfigMap {name} (e.g. a kustomize patch), then restart harbor-core. Give jobservice's CORE_URL (the chart's <fullname>-jobservice-env) the same value, or replication misses the local Harbor"
                ))
                .on(generated),
            );
            Ok(())
        }
        Mode::KustomizeTransformer => Err(Failure::new(
            FnResult::error(Code::HarborNotInInput,
                "Harbor's core ConfigMap (the one holding EXT_ENDPOINT and CORE_URL) is not among the resources kustomize gave this transformer, and kustomize drops local-config items, so a CORE_URL patch would never land. Add Harbor's rendered manifests to resources: in this kustomization; or list the function under generators: beside them, where it writes a behavior: merge patch; or leave harborCore out of spec.generate",
            )
            .on(generated),
        )),
        Mode::Other => Err(Failure::new(
            FnResult::error(Code::HarborNotInInput,
                "Harbor's core ConfigMap (the one holding EXT_ENDPOINT and CORE_URL) is not in the input, so the CORE_URL patch has nowhere to land. Give Harbor's rendered manifests with the input (for example `helm template harbor harbor/harbor | harbor-buildkit-fn run CONFIG`), or leave harborCore out of spec.generate",
            )
            .on(generated),
        )),
    }
}
