//! The functionConfig: what the user asks for, its defaults, and its validation.
//!
//! Two spellings are accepted:
//! - the `HarborBuildkit` resource (`fn.harbor-buildkit.dev/v1alpha1`) with a `spec`;
//! - a ConfigMap whose `data` holds the same keys flat, as `kpt fn eval --exec ... --
//!   registry=... scheme=http` builds it (lists comma-separated, booleans `"true"`).
//!
//! The user-facing fields are flat ([`schema::Fields`], the one definition of names,
//! types and defaults); the validated [`Spec`] groups them by the system they
//! configure: the registry [`Endpoint`] all of them share, then Harbor, BuildKit and
//! Tekton. Every problem found is reported, each with the field path, not just the
//! first one. Unknown fields are errors: BuildKit silently ignores typos in its TOML,
//! and this tool must not add a second silent layer.

mod read;
pub(crate) mod schema;

use crate::codes::Code;
use crate::endpoint::{Endpoint, Mirror, ProxyCache, Registry, Scheme, Tls};
use crate::krm::{Failure, FnResult};
use crate::names;
use crate::yaml::{NodeId, Tree};
use read::Problems;
pub(crate) use schema::{Fields, GenerateName};

pub(crate) const API_VERSION: &str = "fn.harbor-buildkit.dev/v1alpha1";
pub(crate) const KIND: &str = "HarborBuildkit";

/// The buildctl client image. BuildKit releases are tagged `vX.Y.Z`; the `-rootless`
/// variant runs as uid 1000. Bump it to the newest release in moby/buildkit's
/// releases, together with the CHANGELOG and the snapshots (`cargo insta review`).
pub const DEFAULT_BUILDCTL_IMAGE: &str = "docker.io/moby/buildkit:v0.26.3-rootless";
pub(crate) const DEFAULT_BUILDKIT_HOST: &str = "tcp://buildkitd:1234";
pub(crate) const DEFAULT_BUILDKIT_CONFIG_MAP: &str = "buildkitd-config";
pub(crate) const DEFAULT_TASK_NAME: &str = "buildkit-build";
pub(crate) const DEFAULT_HARBOR_CORE: &str = "harbor-core";
pub(crate) const DEFAULT_NAMESPACE: &str = "default";
/// The rootless image's user (moby/buildkit `Dockerfile`: `USER 1000:1000`).
pub(crate) const DEFAULT_RUN_AS_USER: u32 = 1000;
/// `runAsUser: platform`: no uid in the step, the cluster assigns one.
pub(crate) const PLATFORM_USER: &str = "platform";

/// What to generate or patch. All three by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generate {
    pub(crate) harbor_core: bool,
    pub(crate) buildkitd_config: bool,
    pub(crate) task: bool,
}

/// Where Harbor's core pieces are (`harbor*` fields). Harbor is found in the input by
/// what it is; these say where to look, and name what is generated when it is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HarborSpec {
    /// Given, or derived from a `<service>.<namespace>.svc` registry; empty when
    /// neither (Harbor is then looked for in every namespace).
    pub(crate) namespace: String,
    /// Given, or derived from such a registry's `<service>`, else `harbor-core`.
    pub(crate) config_map: String,
    /// Whether `harborConfigMap` was given (it then overrides finding by content).
    pub(crate) config_map_given: bool,
    pub(crate) deployment: String,
    pub(crate) deployment_given: bool,
}

/// The BuildKit daemon, its ConfigMap, and the registry's mirrors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildkitSpec {
    /// `buildkitNamespace`, else `namespace` (the daemon's, when it is found, wins over
    /// the latter).
    pub(crate) namespace: String,
    pub(crate) namespace_given: bool,
    pub(crate) config_map: String,
    pub(crate) config_map_given: bool,
    /// `buildkitDaemon`: the workload to mount the file into.
    pub(crate) daemon: Option<String>,
    /// `caSecret`: the Secret holding the `ca` files.
    pub(crate) ca_secret: Option<String>,
    pub(crate) mirrors: Vec<Mirror>,
    pub(crate) proxy_cache: Vec<ProxyCache>,
    /// `daemonless`: buildkitd runs in the Task's step, and reads the file there.
    pub(crate) daemonless: bool,
}

/// The Tekton Task: its name and place, its step image, the daemon it talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TektonSpec {
    pub(crate) namespace: String,
    pub(crate) task_name: String,
    pub(crate) buildctl_image: String,
    /// The Task's `BUILDKIT_HOST` default.
    pub(crate) buildkit_host: String,
    /// Whether `buildkitHost` was given (else the daemon's Service, when found, wins).
    pub(crate) buildkit_host_given: bool,
    /// The Task's `BUILDKIT_TLS_SERVER_NAME` default (empty: BUILDKIT_HOST's host).
    pub(crate) tls_server_name: String,
    /// The step's uid; `None` leaves it to the platform.
    pub(crate) run_as_user: Option<u32>,
}

/// The validated, defaulted spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) endpoint: Endpoint,
    pub(crate) harbor: HarborSpec,
    pub(crate) buildkit: BuildkitSpec,
    pub(crate) tekton: TektonSpec,
    pub(crate) generate: Generate,
}

/// What the functionConfig said, plus warnings about it.
pub(crate) struct Parsed {
    pub(crate) spec: Spec,
    pub(crate) warnings: Vec<FnResult>,
}

/// Reads and validates the functionConfig node.
pub(crate) fn parse(tree: &Tree, fc: NodeId) -> Result<Parsed, Failure> {
    let mut problems = Problems::default();
    if tree.entries(fc).is_none() {
        return Err(Failure::new(
            FnResult::error(
                Code::SpecKind,
                format!(
                    "functionConfig is {}, expected a {KIND} resource or a ConfigMap",
                    tree.describe(fc)
                ),
            )
            .at("functionConfig"),
        ));
    }
    let api_version = tree.get_str(fc, &["apiVersion"]).unwrap_or_default();
    let kind = tree.get_str(fc, &["kind"]).unwrap_or_default();
    let (prefix, read) = match (api_version, kind) {
        (API_VERSION, KIND) => {
            read::check_top_level(
                tree,
                fc,
                &["apiVersion", "kind", "metadata", "spec"],
                &mut problems,
            );
            let read = match tree.get(fc, "spec") {
                Some(spec) if tree.entries(spec).is_some() => {
                    read::typed(tree, spec, "spec", &mut problems)
                }
                Some(spec) => {
                    problems.add(
                        Code::SpecWrongType,
                        "spec",
                        format!("is {}, expected a mapping", tree.describe(spec)),
                    );
                    read::Read::default()
                }
                None => {
                    problems.add(
                        Code::SpecRequired,
                        "spec",
                        "is missing; spec.registry at least is required",
                    );
                    read::Read::default()
                }
            };
            ("spec", read)
        }
        ("v1", "ConfigMap") => {
            read::check_top_level(
                tree,
                fc,
                &["apiVersion", "kind", "metadata", "data"],
                &mut problems,
            );
            let read = match tree.get(fc, "data") {
                Some(data) if tree.entries(data).is_some() => {
                    read::flat(tree, data, "data", &mut problems)
                }
                _ => {
                    problems.add(
                        Code::SpecRequired,
                        "data",
                        "is missing; data.registry at least is required",
                    );
                    read::Read::default()
                }
            };
            ("data", read)
        }
        (_, KIND) => {
            return Err(Failure::new(
                FnResult::error(
                    Code::SpecKind,
                    format!(
                        "apiVersion {api_version:?} is not served; use apiVersion: {API_VERSION}"
                    ),
                )
                .at("apiVersion"),
            ));
        }
        _ => {
            return Err(Failure::new(
                FnResult::error(Code::SpecKind, format!(
                    "functionConfig is {} {}; expected apiVersion: {API_VERSION}, kind: {KIND} (or a v1 ConfigMap with the same keys in data)",
                    if api_version.is_empty() { "<no apiVersion>" } else { api_version },
                    if kind.is_empty() { "<no kind>" } else { kind },
                ))
                .at("kind"),
            ));
        }
    };
    read.require(prefix, &mut problems);
    let fields: Fields = match serde_json::from_value(serde_json::Value::Object(read.values)) {
        Ok(f) => f,
        Err(e) => {
            problems.add(
                Code::Internal,
                prefix,
                format!("internal: the checked fields do not read back ({e})"),
            );
            return Err(fail(problems));
        }
    };
    let parsed = validate(fields, prefix, &mut problems);
    match parsed {
        Some(p) if problems.0.is_empty() => Ok(p),
        _ => Err(fail(problems)),
    }
}

fn fail(problems: Problems) -> Failure {
    Failure::from_results(problems.0).unwrap_or_else(|| {
        Failure::error(
            Code::Internal,
            "internal: the spec was refused without a reason",
        )
    })
}

/// Applies defaults and checks every field. Returns `None` when the registry is
/// missing or invalid (the problems say why).
fn validate(fields: Fields, prefix: &str, problems: &mut Problems) -> Option<Parsed> {
    let p = |name: &str| format!("{prefix}.{name}");
    let mut warnings = Vec::new();
    // Before any field moves out: these read several of them.
    let run_as_user = run_as_user(&fields.run_as_user, &p("runAsUser"), problems);
    if fields.daemonless {
        daemonless(&fields, run_as_user, &p, problems);
    }

    let registry =
        fields
            .registry
            .as_deref()
            .and_then(|s| match names::registry(s, names::Via::Spec) {
                Ok(r) => Some(r),
                Err(e) => {
                    problems.add(Code::SpecRegistry, &p("registry"), e);
                    None
                }
            });
    let scheme = match fields.scheme.as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => {
            problems.add(
                Code::SpecValue,
                &p("scheme"),
                format!("is {other:?}; expected http or https (lowercase, without ://)"),
            );
            Scheme::Https
        }
    };
    let label = |field: &str, value: String, problems: &mut Problems| -> String {
        if let Err(e) = names::dns1123_label(&value) {
            problems.add(Code::SpecName, &p(field), e);
        }
        value
    };
    let object_name = |field: &str, value: String, problems: &mut Problems| -> String {
        if let Err(e) = names::dns1123_subdomain(&value) {
            problems.add(Code::SpecName, &p(field), e);
        }
        value
    };

    let namespace = label("namespace", fields.namespace, problems);
    let harbor = harbor(
        &fields.harbor_namespace,
        registry.as_ref(),
        prefix,
        problems,
        &mut warnings,
    );
    let config_map_given = fields.harbor_config_map.is_some();
    let deployment_given = fields.harbor_deployment.is_some();
    let harbor_config_map = object_name(
        "harborConfigMap",
        fields.harbor_config_map.unwrap_or_else(|| {
            registry
                .as_ref()
                .and_then(|r| r.service())
                .map_or(DEFAULT_HARBOR_CORE, |(s, _)| s)
                .to_string()
        }),
        problems,
    );
    // A default derived from harborConfigMap is checked there: one bad name, one error.
    let harbor_deployment = match fields.harbor_deployment {
        Some(d) => object_name("harborDeployment", d, problems),
        None => harbor_config_map.clone(),
    };
    let buildkit_config_map_given = fields.buildkit_config_map != DEFAULT_BUILDKIT_CONFIG_MAP;
    let buildkit_config_map =
        object_name("buildkitConfigMap", fields.buildkit_config_map, problems);
    let task_name = fields.task_name;
    if let Err(e) = names::tekton_name(&task_name) {
        problems.add(Code::SpecName, &p("taskName"), e);
    }

    if let Err(e) = names::buildkit_host(&fields.buildkit_host) {
        problems.add(Code::SpecBuildkitHost, &p("buildkitHost"), e);
    }
    if let Err(e) = names::image(&fields.buildctl_image) {
        problems.add(Code::SpecImage, &p("buildctlImage"), e);
    }

    for (i, path) in fields.ca.iter().enumerate() {
        if let Err(e) = names::absolute_path(path) {
            problems.add(Code::SpecPath, &format!("{}[{i}]", p("ca")), e);
        }
    }
    if scheme == Scheme::Http {
        if !fields.ca.is_empty() {
            problems.add(Code::SpecConflict,
                &p("ca"),
                "applies to https registries only; with scheme http there is no certificate to verify",
            );
        }
        if fields.insecure_skip_verify {
            problems.add(Code::SpecConflict,
                &p("insecureSkipVerify"),
                "applies to https registries only; a plain-HTTP registry needs only scheme: http (which sets http = true)",
            );
        }
    }
    let mut mirrors = Vec::new();
    for (i, m) in fields.mirrors.iter().enumerate() {
        match names::mirror(m) {
            Ok(m) => mirrors.push(m),
            Err(e) => problems.add(Code::SpecMirror, &format!("{}[{i}]", p("mirrors")), e),
        }
    }
    let mut proxy_cache = Vec::new();
    for (i, pc) in fields.proxy_cache.iter().enumerate() {
        match names::proxy_cache(pc) {
            Ok(pc) => proxy_cache.push(pc),
            Err(e) => problems.add(Code::SpecMirror, &format!("{}[{i}]", p("proxyCache")), e),
        }
    }
    let buildkit_namespace_given = fields.buildkit_namespace.is_some();
    let buildkit_namespace = match fields.buildkit_namespace {
        Some(ns) => label("buildkitNamespace", ns, problems),
        None => namespace.clone(),
    };
    let buildkit_daemon = fields
        .buildkit_daemon
        .map(|d| object_name("buildkitDaemon", d, problems));
    let ca_secret = fields
        .ca_secret
        .map(|c| object_name("caSecret", c, problems));
    if ca_secret.is_some() && fields.ca.is_empty() {
        problems.add(Code::SpecConflict,
            &p("caSecret"),
            "names the Secret holding the ca files, but spec.ca lists none: say where BuildKit reads them",
        );
    }
    let generate = generate(&fields.generate, &p("generate"), problems);
    let tls_server_name = fields.buildkit_tls_server_name.unwrap_or_default();
    if !tls_server_name.is_empty() {
        if let Err(e) = names::dns1123_subdomain(&tls_server_name) {
            problems.add(Code::SpecName, &p("buildkitTlsServerName"), e);
        }
    }

    if buildkit_config_map == harbor_config_map && buildkit_namespace == harbor {
        problems.add(Code::SpecConflict,
            &p("buildkitConfigMap"),
            format!(
                "names the same ConfigMap as Harbor's core ConfigMap ({harbor}/{harbor_config_map}); buildkitd.toml needs a ConfigMap of its own"
            ),
        );
    }
    let registry = registry?;
    if scheme == Scheme::Http && !registry.is_in_cluster() {
        warnings.push(
            FnResult::warning(Code::SpecHttpOutsideCluster, format!(
                "{prefix}.scheme is http for {}, a host outside the cluster: images and credentials would cross the network unencrypted; use https there",
                registry.authority()
            ))
            .at(p("scheme")),
        );
    }
    Some(Parsed {
        spec: Spec {
            endpoint: Endpoint {
                registry,
                scheme,
                tls: Tls {
                    ca: fields.ca,
                    insecure_skip_verify: fields.insecure_skip_verify,
                },
            },
            harbor: HarborSpec {
                namespace: harbor,
                config_map: harbor_config_map,
                config_map_given,
                deployment: harbor_deployment,
                deployment_given,
            },
            buildkit: BuildkitSpec {
                namespace: buildkit_namespace,
                namespace_given: buildkit_namespace_given,
                config_map: buildkit_config_map,
                config_map_given: buildkit_config_map_given,
                daemon: buildkit_daemon,
                ca_secret,
                mirrors,
                proxy_cache,
                daemonless: fields.daemonless,
            },
            tekton: TektonSpec {
                namespace,
                task_name,
                buildctl_image: fields.buildctl_image,
                buildkit_host_given: fields.buildkit_host != DEFAULT_BUILDKIT_HOST,
                buildkit_host: fields.buildkit_host,
                tls_server_name,
                run_as_user,
            },
            generate,
        },
        warnings,
    })
}

/// Harbor's namespace: given, or derived from a `<service>.<namespace>.svc` registry.
fn harbor(
    given: &Option<String>,
    registry: Option<&Registry>,
    prefix: &str,
    problems: &mut Problems,
    warnings: &mut Vec<FnResult>,
) -> String {
    let path = format!("{prefix}.harborNamespace");
    let derived = registry.and_then(|r| r.service()).map(|(_, ns)| ns);
    match (given, derived) {
        (Some(ns), derived) => {
            if let Err(e) = names::dns1123_label(ns) {
                problems.add(Code::SpecName, &path, e);
            }
            if let Some(derived) = derived.filter(|d| d != ns) {
                warnings.push(
                    FnResult::warning(Code::SpecHarborNamespaceDiffers, format!(
                        "{path} {ns:?} differs from the namespace in the registry host ({derived:?}); the patch goes to {ns:?}"
                    ))
                    .at(path.clone()),
                );
            }
            ns.clone()
        }
        (None, Some(derived)) => derived.to_string(),
        // Harbor is looked for in every namespace; a patch generated without it in the
        // input needs one (the plan says so).
        (None, None) => String::new(),
    }
}

/// `runAsUser`: a uid (not root: the step runs with runAsNonRoot), or `platform`.
fn run_as_user(value: &serde_json::Value, path: &str, problems: &mut Problems) -> Option<u32> {
    match value {
        serde_json::Value::String(s) if s == PLATFORM_USER => None,
        v => match v.as_i64().map(u32::try_from) {
            Some(Ok(0)) => {
                problems.add(Code::SpecRunAsUser,
                    path,
                    "is 0, root: the step runs with runAsNonRoot: true, and buildctl needs no root; give a uid (the rootless image's is 1000) or platform",
                );
                None
            }
            Some(Ok(uid)) if uid <= i32::MAX as u32 => Some(uid),
            Some(_) => {
                problems.add(
                    Code::SpecRunAsUser,
                    path,
                    format!("is {v}; a uid is from 1 to 2147483647"),
                );
                None
            }
            None => {
                problems.add(Code::SpecRunAsUser,
                    path,
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
fn daemonless(
    fields: &Fields,
    uid: Option<u32>,
    p: &dyn Fn(&str) -> String,
    problems: &mut Problems,
) {
    if fields.buildkit_host != DEFAULT_BUILDKIT_HOST {
        problems.add(Code::SpecConflict,
            &p("buildkitHost"),
            "is set with daemonless: true; a daemonless step starts its own buildkitd and connects to nothing else: leave one of them out",
        );
    }
    if fields.buildkit_tls_server_name.is_some() {
        problems.add(Code::SpecConflict,
            &p("buildkitTlsServerName"),
            "is set with daemonless: true; the step's own buildkitd listens on a local socket, without TLS: leave one of them out",
        );
    }
    for (field, given) in [
        ("buildkitDaemon", fields.buildkit_daemon.is_some()),
        ("buildkitNamespace", fields.buildkit_namespace.is_some()),
        ("caSecret", fields.ca_secret.is_some()),
    ] {
        if given {
            problems.add(Code::SpecConflict,
                &p(field),
                format!("is set with daemonless: true; it names the daemon's side, and the step runs its own buildkitd (buildkitd.toml goes to the Task's namespace, mounted into the step): leave {field} out"),
            );
        }
    }
    let default_image = fields.buildctl_image == DEFAULT_BUILDCTL_IMAGE;
    match uid {
        None if default_image => problems.add(Code::SpecConflict,
            &p("runAsUser"),
            format!("is {PLATFORM_USER} with daemonless: true; the rootless buildkitd maps its user namespace from /etc/subuid, which in the rootless image holds only uid {DEFAULT_RUN_AS_USER}: run it as {DEFAULT_RUN_AS_USER} (an SCC that allows it, on OpenShift), or connect to a daemon instead"),
        ),
        Some(uid) if uid != DEFAULT_RUN_AS_USER && default_image => problems.add(Code::SpecConflict,
            &p("runAsUser"),
            format!("is {uid} with daemonless: true; the rootless image's /etc/subuid maps only uid {DEFAULT_RUN_AS_USER}: keep {DEFAULT_RUN_AS_USER}, or set buildctlImage to an image built for {uid}"),
        ),
        _ => {}
    }
}

/// `generate`: which of the three resources to produce.
fn generate(values: &[String], path: &str, problems: &mut Problems) -> Generate {
    let mut g = Generate {
        harbor_core: false,
        buildkitd_config: false,
        task: false,
    };
    for (i, v) in values.iter().enumerate() {
        match GenerateName::parse(v) {
            Some(GenerateName::HarborCore) => g.harbor_core = true,
            Some(GenerateName::BuildkitdConfig) => g.buildkitd_config = true,
            Some(GenerateName::Task) => g.task = true,
            None => {
                let allowed: Vec<String> = GenerateName::ALL.iter().map(|n| n.name()).collect();
                problems.add(
                    Code::SpecValue,
                    &format!("{path}[{i}]"),
                    format!("is {v:?}; expected one of {}", allowed.join(", ")),
                );
            }
        }
    }
    if values.is_empty() {
        problems.add(Code::SpecValue, path, "is empty; name at least one of harborCore, buildkitdConfig, task (or leave it out for all three)");
    }
    g
}
