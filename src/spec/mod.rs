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
mod validate;

pub(crate) use validate::INTERNAL_TLS_NOTE;

use crate::codes::Code;
use crate::endpoint::{Endpoint, Mirror, ProxyCache};
use crate::krm::{Failure, FnResult};
use crate::yaml::{NodeId, Tree};
use read::Problems;
pub(crate) use schema::{Fields, GenerateName};

pub(crate) const API_VERSION: &str = "fn.harbor-buildkit.dev/v1alpha1";
pub(crate) const KIND: &str = "HarborBuildkit";

/// The buildctl client image. BuildKit releases are tagged `vX.Y.Z`; the `-rootless`
/// variant runs as uid 1000. Bump it to the newest release in moby/buildkit's
/// releases, together with the CHANGELOG and the golden cases (`UPDATE_CASES=1 cargo test --test cases`).
pub const DEFAULT_BUILDCTL_IMAGE: &str = "docker.io/moby/buildkit:v0.32.2-rootless";
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
    /// Whether `harborNamespace` was given (else it came from the registry's name).
    pub(crate) namespace_given: bool,
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
    /// `registryInsecure`: `None` leaves it to what the input shows of the daemon.
    pub(crate) registry_insecure: Option<bool>,
}

/// The validated, defaulted spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) endpoint: Endpoint,
    /// The cluster's domain and the namespaces known to exist: how names resolve.
    pub(crate) cluster: crate::names::dns::Cluster,
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

/// Reads and validates the functionConfig node. `namespaces` are those the input shows
/// exist, for reading `<service>.<namespace>` names as Kubernetes DNS does.
pub(crate) fn parse(tree: &Tree, fc: NodeId, namespaces: &[&str]) -> Result<Parsed, Failure> {
    let mut problems = Problems::default();
    let (prefix, read) = envelope(tree, fc, &mut problems)?;
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
    let parsed = validate::validate(&fields, prefix, namespaces, &mut problems);
    match parsed {
        Some(p) if problems.0.is_empty() => Ok(p),
        _ => Err(fail(problems)),
    }
}

/// The functionConfig's kind, and its fields as read: a HarborBuildkit's `spec`, or a
/// ConfigMap's `data` (the prefix of their paths). A functionConfig of another kind is
/// refused at once; problems inside one of these two are collected.
fn envelope(
    tree: &Tree,
    fc: NodeId,
    problems: &mut Problems,
) -> Result<(&'static str, read::Read), Failure> {
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
    let (prefix, reader): (&'static str, ReadFields) = match (api_version, kind) {
        (API_VERSION, KIND) => ("spec", read::typed),
        ("v1", "ConfigMap") => ("data", read::flat),
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
    read::check_top_level(
        tree,
        fc,
        &["apiVersion", "kind", "metadata", prefix],
        problems,
    );
    let read = match tree.get(fc, prefix) {
        Some(fields) if tree.entries(fields).is_some() => reader(tree, fields, prefix, problems),
        Some(fields) if prefix == "spec" => {
            problems.add(
                Code::SpecWrongType,
                prefix,
                format!("is {}, expected a mapping", tree.describe(fields)),
            );
            read::Read::default()
        }
        _ => {
            problems.add(
                Code::SpecRequired,
                prefix,
                format!("is missing; {prefix}.registry at least is required"),
            );
            read::Read::default()
        }
    };
    Ok((prefix, read))
}

/// [`read::typed`] or [`read::flat`].
type ReadFields = fn(&Tree, NodeId, &str, &mut Problems) -> read::Read;

fn fail(problems: Problems) -> Failure {
    Failure::from_results(problems.0).unwrap_or_else(|| {
        Failure::error(
            Code::Internal,
            "internal: the spec was refused without a reason",
        )
    })
}
