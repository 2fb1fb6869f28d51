//! The one definition of the spec's fields: [`Fields`].
//!
//! Its serde attributes decide what the parser reads (field names, defaults) and its
//! schemars attributes what the schema says; both derive from the same struct, so a
//! field renamed here is renamed everywhere: `harbor-buildkit-fn schema`, krm-fn.yaml,
//! the README's table and the parser. Its doc comments are the schema's descriptions:
//! write them for users.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::endpoint::Scheme;

use super::{
    DEFAULT_BUILDCTL_IMAGE, DEFAULT_BUILDKIT_CONFIG_MAP, DEFAULT_BUILDKIT_HOST, DEFAULT_NAMESPACE,
    DEFAULT_TASK_NAME,
};

/// Which registry BuildKit uses, how, and what to generate for it.
// The doc comments are the schema's descriptions, written for users: `[...]` in them
// is YAML, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Clone, JsonSchema, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Fields {
    /// The registry host, or host:port, exactly as image references name it: the Host
    /// header BuildKit sends. No scheme, no path; a lowercase DNS name or an IPv4 address.
    #[schemars(
        required,
        regex(
            pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$"
        )
    )]
    pub(crate) registry: Option<String>,
    /// How BuildKit talks to the registry. Sets CORE_URL's scheme, `http = true` in
    /// buildkitd.toml, and for http `registry.insecure=true` on pushes and caches where
    /// no daemon in view reads that file (see registryInsecure). With Harbor's internal
    /// TLS, harbor-core serves https only.
    #[serde(default)]
    pub(crate) scheme: Scheme,
    /// Namespace of the Task (and of the BuildKit ConfigMap, when no daemon is found
    /// and buildkitNamespace is not given).
    #[serde(default = "default_namespace")]
    pub(crate) namespace: String,
    /// Namespace Harbor is looked for in. Derived from a
    /// `<service>.<namespace>.svc[.<domain>]` registry; otherwise every namespace, and
    /// required only for a patch generated without Harbor's ConfigMap in the input.
    /// `""`: Harbor's manifests carry no `metadata.namespace` (harbor-helm before
    /// v1.16.0), and the generated patch carries none either, as kustomize needs to
    /// merge it.
    #[schemars(extend("x-default" = "from registry"))]
    pub(crate) harbor_namespace: Option<String>,
    /// Harbor's core ConfigMap. Found by what it holds (EXT_ENDPOINT and CORE_URL);
    /// set it when several ConfigMaps do. Names the generated patch when Harbor is
    /// not in the input (the chart's `<release>-core`, the registry's `<service>`).
    #[schemars(extend("x-default" = "found, else from registry, else harbor-core"))]
    pub(crate) harbor_config_map: Option<String>,
    /// The harbor-core workload (a Deployment in the chart; a StatefulSet or DaemonSet
    /// works too), annotated so that harbor-core restarts when CORE_URL
    /// changes (it reads the ConfigMap through envFrom). Found as the workload whose
    /// container reads Harbor's core ConfigMap or runs a harbor-core image.
    #[schemars(extend("x-default" = "found"))]
    pub(crate) harbor_deployment: Option<String>,
    /// The ConfigMap holding buildkitd.toml (when the daemon mounts one already, that
    /// one is edited instead).
    #[serde(default = "default_buildkit_config_map")]
    pub(crate) buildkit_config_map: String,
    /// Namespace of the BuildKit daemon and its ConfigMap, when it is not `namespace`
    /// (the Task's). Found from the daemon when it is in the input.
    #[schemars(extend("x-default" = "the daemon's, else namespace"))]
    pub(crate) buildkit_namespace: Option<String>,
    /// The buildkitd Deployment, StatefulSet or DaemonSet to mount buildkitd.toml into.
    /// Found as the one running a moby/buildkit image.
    #[schemars(extend("x-default" = "found"))]
    pub(crate) buildkit_daemon: Option<String>,
    /// The buildkitd address buildctl connects to (tcp://, unix://, kube-pod://, ...):
    /// the Task's BUILDKIT_HOST default. Found from the daemon's Service when it is in
    /// the input (`tcp://<service>.<namespace>.svc:<port>`).
    #[serde(default = "default_buildkit_host")]
    pub(crate) buildkit_host: String,
    /// Image of the Task's step; it needs buildctl and a POSIX shell. Pinned to a
    /// BuildKit release; v0.13.0 and later work.
    #[serde(default = "default_buildctl_image")]
    pub(crate) buildctl_image: String,
    /// Name of the Tekton Task.
    #[serde(default = "default_task_name")]
    pub(crate) task_name: String,
    /// https only: CA certificate files, as paths inside the buildkitd container,
    /// written to `ca = [...]`. buildctl fetches tokens itself and needs the CA too: with
    /// `ca`, the Task's registry-ca workspace is required.
    #[serde(default)]
    pub(crate) ca: Vec<String>,
    /// A Secret holding the `ca` files (keys named as the files), mounted into the
    /// daemon at their folder.
    #[schemars(extend("x-default" = "none"))]
    pub(crate) ca_secret: Option<String>,
    /// https only: skip certificate verification (`insecure = true` for the daemon,
    /// `--registry-auth-tlscontext host=<registry>,insecure=true` for buildctl's token
    /// fetch). Prefer ca.
    #[serde(default)]
    pub(crate) insecure_skip_verify: bool,
    /// http only: whether pushes and registry caches carry `registry.insecure=true`,
    /// which makes buildkitd set aside its own table for the registry and try HTTPS
    /// first, then HTTP (up to 30 s per push where nothing answers on 443). By default
    /// only when no buildkitd.toml known to say `http = true` is read by the builder;
    /// `false` once the daemon reads the generated file, where this run cannot see it.
    #[schemars(extend("x-default" = "http and no daemon in view"))]
    pub(crate) registry_insecure: Option<bool>,
    /// Mirrors of the registry (`[http://]host[:port][/path]`), written to
    /// `mirrors = [...]`; a plain-HTTP mirror (`http://`) gets its own table with
    /// `http = true`, since BuildKit reads each mirror's transport from its own table.
    #[serde(default)]
    pub(crate) mirrors: Vec<String>,
    /// Harbor as a proxy cache: `upstream=project` pairs such as `docker.io=dockerhub`,
    /// each written as the upstream's `mirrors = ["<registry>/<project>"]` (BuildKit
    /// pulls `docker.io/library/x` from `/v2/<project>/library/x`, Harbor's layout).
    #[serde(default)]
    pub(crate) proxy_cache: Vec<String>,
    /// Run buildkitd inside the Task's step instead of connecting to a daemon:
    /// `buildctl-daemonless.sh` of the rootless image, with buildkitd.toml mounted into
    /// the step. No daemon, no TLS to it, no BUILDKIT_HOST; the step then needs seccomp
    /// and AppArmor Unconfined, privilege escalation and uid 1000, which Pod Security
    /// `baseline` and `restricted` refuse: the Task's namespace must allow `privileged`
    /// pods.
    #[serde(default)]
    pub(crate) daemonless: bool,
    /// The step's uid (runAsUser and runAsGroup): a number, or `platform` to leave it to
    /// the cluster (OpenShift's restricted SCC assigns one). The rootless image's user is
    /// 1000; daemonless mode needs 1000.
    #[serde(default = "default_run_as_user")]
    #[schemars(schema_with = "run_as_user_schema")]
    pub(crate) run_as_user: Value,
    /// The name buildctl checks the daemon's certificate against (`--tlsservername`)
    /// when it is not BUILDKIT_HOST's host: the Task's BUILDKIT_TLS_SERVER_NAME default.
    #[schemars(extend("x-default" = "BUILDKIT_HOST's host"))]
    pub(crate) buildkit_tls_server_name: Option<String>,
    /// The cluster's DNS domain (the kubelet's `--cluster-domain`), under which pods
    /// resolve `<service>.<namespace>.svc.<clusterDomain>`. Change it only for a cluster
    /// that was set up with another one.
    #[serde(default = "default_cluster_domain")]
    pub(crate) cluster_domain: String,
    /// Which resources to produce: harborCore (the CORE_URL patch), buildkitdConfig,
    /// task. For example only [harborCore] in the overlay that renders Harbor.
    #[serde(default = "default_generate")]
    pub(crate) generate: Vec<GenerateName>,
}

// The values of `generate` (no doc comment: it would become the schema's description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum GenerateName {
    HarborCore,
    BuildkitdConfig,
    Task,
}

impl GenerateName {
    pub(crate) const ALL: [GenerateName; 3] = [
        GenerateName::HarborCore,
        GenerateName::BuildkitdConfig,
        GenerateName::Task,
    ];
}

fn default_cluster_domain() -> String {
    crate::names::dns::DEFAULT_CLUSTER_DOMAIN.into()
}
fn default_namespace() -> String {
    DEFAULT_NAMESPACE.into()
}
fn default_buildkit_config_map() -> String {
    DEFAULT_BUILDKIT_CONFIG_MAP.into()
}
fn default_buildkit_host() -> String {
    DEFAULT_BUILDKIT_HOST.into()
}
fn default_buildctl_image() -> String {
    DEFAULT_BUILDCTL_IMAGE.into()
}
fn default_task_name() -> String {
    DEFAULT_TASK_NAME.into()
}
fn default_run_as_user() -> Value {
    Value::from(super::DEFAULT_RUN_AS_USER)
}

/// `runAsUser`: a uid or `platform`, as Kubernetes writes a field that is one or the
/// other (`x-kubernetes-int-or-string`, the structural form of an int-or-string).
fn run_as_user_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "x-kubernetes-int-or-string": true,
        "anyOf": [
            { "type": "integer", "minimum": 1, "maximum": 2147483647 },
            { "type": "string", "enum": [super::PLATFORM_USER] },
        ],
        "default": super::DEFAULT_RUN_AS_USER,
    })
}

fn default_generate() -> Vec<GenerateName> {
    GenerateName::ALL.to_vec()
}

/// How a field is typed in YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Bool,
    List,
    /// A number or one of `values` (`x-kubernetes-int-or-string`).
    IntOrString,
}

/// One spec field, read from [`Fields`]'s schema.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    pub required: bool,
    /// The default as the docs show it: `https`, `[]`, `from registry`, `(required)`.
    pub default: String,
    /// The accepted values, for enums (or lists of enums).
    pub values: Vec<String>,
}

/// The spec's fields, in declaration order.
pub fn fields() -> &'static [Field] {
    static FIELDS: std::sync::OnceLock<Vec<Field>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| {
        let schema = crate::describe::spec_schema();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(props) = schema["properties"].as_object() else {
            return Vec::new();
        };
        props
            .iter()
            .map(|(name, p)| {
                let types: Vec<&str> = match &p["type"] {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let ty = if p["x-kubernetes-int-or-string"] == true {
                    Type::IntOrString
                } else if types.contains(&"boolean") {
                    Type::Bool
                } else if types.contains(&"array") {
                    Type::List
                } else {
                    Type::String
                };
                let required = required.contains(&name.as_str());
                let default = if required {
                    "(required)".to_string()
                } else if let Some(d) = p["x-default"].as_str() {
                    d.to_string()
                } else {
                    default_text(&p["default"])
                };
                let values = p["enum"]
                    .as_array()
                    .or_else(|| p["items"]["enum"].as_array())
                    .or_else(|| {
                        p["anyOf"]
                            .as_array()
                            .and_then(|a| a.iter().find_map(|b| b["enum"].as_array()))
                    })
                    .map(|v| {
                        v.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                Field {
                    name: name.clone(),
                    ty,
                    required,
                    default,
                    values,
                }
            })
            .collect()
    })
}

/// The field named `name` in the spec, if there is one.
pub(crate) fn field(name: &str) -> Option<&'static Field> {
    fields().iter().find(|f| f.name == name)
}

/// A JSON default as the docs write it: strings bare, lists in brackets.
fn default_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(default_text).collect::<Vec<_>>().join(", ")
        ),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
