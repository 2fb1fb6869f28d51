//! The functionConfig: what the user asks for, its defaults, and its validation.
//!
//! Two spellings are accepted:
//! - the `HarborBuildkit` resource (`fn.harbor-buildkit.dev/v1alpha1`) with a `spec`;
//! - a ConfigMap whose `data` holds the same keys flat, as `kpt fn eval --exec ... --
//!   registry=... scheme=http` builds it (lists comma-separated, booleans `"true"`).
//!
//! Every problem found is reported, each with the field path, not just the first one.
//! Unknown fields are errors: BuildKit silently ignores typos in its TOML, and this
//! tool must not add a second silent layer.

use schemars::JsonSchema;
use serde_json::Value;

use crate::krm::FnResult;
use crate::names::{self, Registry};
use crate::yaml::scalar::{Resolved, resolve};
use crate::yaml::{NodeId, Tree};

pub const API_VERSION: &str = "fn.harbor-buildkit.dev/v1alpha1";
pub const KIND: &str = "HarborBuildkit";

/// The buildctl client image. BuildKit releases are tagged `vX.Y.Z`; the `-rootless`
/// variant runs as uid 1000. Bump it to the newest release in moby/buildkit's
/// releases, together with the CHANGELOG and the snapshots (`cargo insta review`).
pub const DEFAULT_BUILDCTL_IMAGE: &str = "docker.io/moby/buildkit:v0.26.3-rootless";
pub const DEFAULT_BUILDKIT_HOST: &str = "tcp://buildkitd:1234";
pub const DEFAULT_BUILDKIT_CONFIG_MAP: &str = "buildkitd-config";
pub const DEFAULT_TASK_NAME: &str = "buildkit-build";
pub const DEFAULT_HARBOR_CORE: &str = "harbor-core";
pub const DEFAULT_NAMESPACE: &str = "default";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// What to generate or patch. All three by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generate {
    pub harbor_core: bool,
    pub buildkitd_config: bool,
    pub task: bool,
}

/// The validated, defaulted spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub registry: Registry,
    pub scheme: Scheme,
    pub namespace: String,
    pub harbor_namespace: String,
    pub harbor_config_map: String,
    pub harbor_deployment: String,
    pub buildkit_config_map: String,
    pub buildkit_host: String,
    pub buildctl_image: String,
    pub task_name: String,
    pub ca: Vec<String>,
    pub insecure_skip_verify: bool,
    pub mirrors: Vec<String>,
    pub generate: Generate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Bool,
    List,
}

// This struct is the one definition of the spec's fields: `harbor-buildkit-fn schema`,
// krm-fn.yaml, the README's table and [`fields`] (which the parser below checks
// against) are all generated from it. The parser itself reads the YAML tree by hand,
// so that it can report every problem at once, at its path, with a hint. Its doc
// comments are the schema's descriptions: write them for users.
/// Which registry BuildKit uses, how, and what to generate for it.
#[derive(JsonSchema)]
#[schemars(rename_all = "camelCase")]
#[allow(dead_code)] // only its schema is used
pub struct SpecSchema {
    /// The registry host, or host:port, exactly as image references name it: the Host
    /// header BuildKit sends. No scheme, no path; a lowercase DNS name or an IPv4 address.
    #[schemars(regex(
        pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$"
    ))]
    registry: String,
    /// How BuildKit talks to the registry. Sets CORE_URL's scheme, `http = true` in
    /// buildkitd.toml, and `registry.insecure=true` on pushes and caches for http.
    #[schemars(default = "default_scheme")]
    scheme: SchemeName,
    /// Namespace of the BuildKit ConfigMap and the Task.
    #[schemars(default = "default_namespace")]
    namespace: String,
    /// Namespace of Harbor's core ConfigMap and Deployment. Derived from a
    /// `<service>.<namespace>.svc[.<domain>]` registry; required otherwise.
    #[schemars(extend("x-default" = "from registry"))]
    harbor_namespace: Option<String>,
    /// Harbor's core ConfigMap (the chart's `<release>-core`), derived from the
    /// `<service>` of a `<service>.<namespace>.svc` registry.
    #[schemars(extend("x-default" = "from registry, else harbor-core"))]
    harbor_config_map: Option<String>,
    /// The harbor-core Deployment, annotated so that harbor-core restarts when CORE_URL
    /// changes (it reads the ConfigMap through envFrom).
    #[schemars(extend("x-default" = "harborConfigMap"))]
    harbor_deployment: Option<String>,
    /// The ConfigMap holding buildkitd.toml.
    #[schemars(default = "default_buildkit_config_map")]
    buildkit_config_map: String,
    /// The buildkitd address buildctl connects to (tcp://, unix://, kube-pod://, ...):
    /// the Task's BUILDKIT_HOST default.
    #[schemars(default = "default_buildkit_host")]
    buildkit_host: String,
    /// Image of the Task's step; it needs buildctl and a POSIX shell. Pinned to a
    /// BuildKit release.
    #[schemars(default = "default_buildctl_image")]
    buildctl_image: String,
    /// Name of the Tekton Task.
    #[schemars(default = "default_task_name")]
    task_name: String,
    /// https only: CA certificate files, as paths inside the buildkitd container,
    /// written to `ca = [...]`.
    #[schemars(default)]
    ca: Vec<String>,
    /// https only: skip certificate verification (`insecure = true`). Prefer ca.
    #[schemars(default)]
    insecure_skip_verify: bool,
    /// Mirrors of the registry (host[:port][/path]), written to `mirrors = [...]`.
    #[schemars(default)]
    mirrors: Vec<String>,
    /// Which resources to produce: harborCore (the CORE_URL patch), buildkitdConfig,
    /// task. For example only [harborCore] in the overlay that renders Harbor.
    #[schemars(default = "default_generate")]
    generate: Vec<GenerateName>,
}

#[derive(JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum SchemeName {
    Http,
    Https,
}

#[derive(JsonSchema, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
enum GenerateName {
    HarborCore,
    BuildkitdConfig,
    Task,
}

fn default_scheme() -> SchemeName {
    SchemeName::Https
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
fn default_generate() -> Vec<GenerateName> {
    vec![
        GenerateName::HarborCore,
        GenerateName::BuildkitdConfig,
        GenerateName::Task,
    ]
}

/// One spec field, read from [`SpecSchema`]'s schema.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    /// The default as the docs show it: `https`, `[]`, `from registry`, `(required)`.
    pub default: String,
    pub doc: String,
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
        schema["properties"]
            .as_object()
            .map(|props| {
                props
                    .iter()
                    .map(|(name, p)| {
                        let ty = match p["type"].as_str() {
                            Some("boolean") => Type::Bool,
                            Some("array") => Type::List,
                            _ => Type::String,
                        };
                        let default = if required.contains(&name.as_str()) {
                            "(required)".to_string()
                        } else if let Some(d) = p["x-default"].as_str() {
                            d.to_string()
                        } else {
                            default_text(&p["default"])
                        };
                        let values = p["enum"]
                            .as_array()
                            .or_else(|| p["items"]["enum"].as_array())
                            .map(|v| {
                                v.iter()
                                    .filter_map(|x| x.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default();
                        Field {
                            name: name.clone(),
                            ty,
                            default,
                            doc: p["description"]
                                .as_str()
                                .unwrap_or_default()
                                .replace('\n', " "),
                            values,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
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

/// A raw field value, before validation.
enum Raw {
    Str(String),
    Bool(bool),
    List(Vec<String>),
    /// Present but wrong (already reported): neither "missing" nor usable.
    Invalid,
}

/// Collected problems, each an error result at a field path.
#[derive(Default)]
struct Problems(Vec<FnResult>);

impl Problems {
    /// An error at `path`; the message names the field, since not every tool that
    /// shows results shows `field.path`.
    fn add(&mut self, path: &str, message: impl Into<String>) {
        let message = format!("{path} {}", message.into());
        self.0.push(FnResult::error(message).at(path));
    }
}

/// What the functionConfig said, plus warnings about it.
pub struct Parsed {
    pub spec: Spec,
    pub warnings: Vec<FnResult>,
}

/// Reads and validates the functionConfig node.
pub fn parse(tree: &Tree, fc: NodeId) -> Result<Parsed, Vec<FnResult>> {
    let mut problems = Problems::default();
    let Some(_) = tree.entries(fc) else {
        return Err(vec![
            FnResult::error(format!(
                "functionConfig is {}, expected a {KIND} resource or a ConfigMap",
                tree.describe(fc)
            ))
            .at("functionConfig"),
        ]);
    };
    let api_version = tree.get_str(fc, &["apiVersion"]).unwrap_or_default();
    let kind = tree.get_str(fc, &["kind"]).unwrap_or_default();
    let raw = match (api_version, kind) {
        (API_VERSION, KIND) => {
            check_top_level(
                tree,
                fc,
                &["apiVersion", "kind", "metadata", "spec"],
                &mut problems,
            );
            match tree.get(fc, "spec") {
                Some(spec) if tree.entries(spec).is_some() => {
                    read_typed(tree, spec, "spec", &mut problems)
                }
                Some(spec) => {
                    problems.add(
                        "spec",
                        format!("is {}, expected a mapping", tree.describe(spec)),
                    );
                    Vec::new()
                }
                None => {
                    problems.add("spec", "is missing; spec.registry at least is required");
                    Vec::new()
                }
            }
        }
        ("v1", "ConfigMap") => {
            check_top_level(
                tree,
                fc,
                &["apiVersion", "kind", "metadata", "data"],
                &mut problems,
            );
            match tree.get(fc, "data") {
                Some(data) if tree.entries(data).is_some() => {
                    read_flat(tree, data, "data", &mut problems)
                }
                _ => {
                    problems.add("data", "is missing; data.registry at least is required");
                    Vec::new()
                }
            }
        }
        (_, KIND) => {
            return Err(vec![
                FnResult::error(format!(
                    "apiVersion {api_version:?} is not served; use apiVersion: {API_VERSION}"
                ))
                .at("apiVersion"),
            ]);
        }
        _ => {
            return Err(vec![FnResult::error(format!(
                "functionConfig is {} {}; expected apiVersion: {API_VERSION}, kind: {KIND} (or a v1 ConfigMap with the same keys in data)",
                if api_version.is_empty() { "<no apiVersion>" } else { api_version },
                if kind.is_empty() { "<no kind>" } else { kind },
            ))
            .at("kind")]);
        }
    };
    let prefix = if kind == KIND { "spec" } else { "data" };
    let parsed = validate(raw, prefix, &mut problems);
    match parsed {
        Some(p) if problems.0.is_empty() => Ok(p),
        _ => Err(problems.0),
    }
}

fn check_top_level(tree: &Tree, fc: NodeId, allowed: &[&str], problems: &mut Problems) {
    for &(k, _) in tree.entries(fc).unwrap_or_default() {
        let key = tree.scalar(k).map(|s| s.0).unwrap_or("?");
        if !allowed.contains(&key) {
            problems.add(
                key,
                format!(
                    "is an unknown field; a functionConfig has only {}",
                    allowed.join(", ")
                ),
            );
        }
    }
}

fn field_doc(name: &str) -> Option<&'static Field> {
    fields().iter().find(|f| f.name == name)
}

fn unknown_field(name: &str, path: &str, problems: &mut Problems) {
    let hint = fields()
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name) || edit_distance(&f.name, name) <= 2)
        .map(|f| format!(" (did you mean {}?)", f.name))
        .unwrap_or_default();
    let known: Vec<&str> = fields().iter().map(|f| f.name.as_str()).collect();
    problems.add(
        path,
        format!(
            "is an unknown field{hint}; known fields: {}",
            known.join(", ")
        ),
    );
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The entries of `map` that name a spec field: `(name, path, field, value)`. Keys
/// that are not strings, and unknown fields, are reported instead.
fn known_fields<'t>(
    tree: &'t Tree,
    map: NodeId,
    prefix: &str,
    problems: &mut Problems,
) -> Vec<(&'t str, String, &'static Field, NodeId)> {
    let mut out = Vec::new();
    for &(k, v) in tree.entries(map).unwrap_or_default() {
        let Some((name, _, _)) = tree.scalar(k) else {
            problems.add(prefix, "has a key that is not a string");
            continue;
        };
        let path = format!("{prefix}.{name}");
        match field_doc(name) {
            Some(doc) => out.push((name, path, doc, v)),
            None => unknown_field(name, &path, problems),
        }
    }
    out
}

/// The `spec` of a HarborBuildkit: typed YAML values.
fn read_typed(
    tree: &Tree,
    spec: NodeId,
    prefix: &str,
    problems: &mut Problems,
) -> Vec<(String, Raw)> {
    let mut out = Vec::new();
    for (name, path, doc, v) in known_fields(tree, spec, prefix, problems) {
        let scalar = tree.scalar(v).map(|(s, st, t)| resolve(s, st, t));
        match (doc.ty, scalar) {
            (_, Some(Resolved::Null)) => {} // `key:` with no value means "default"
            (Type::String, Some(Resolved::Str(s))) => {
                out.push((name.to_string(), Raw::Str(s.to_string())))
            }
            (Type::Bool, Some(Resolved::Bool(b))) => out.push((name.to_string(), Raw::Bool(b))),
            (Type::Bool, Some(Resolved::Str(s))) => {
                out.push((name.to_string(), Raw::Invalid));
                problems.add(
                    &path,
                    format!(
                        "is the string {s:?}, expected true or false (unquoted){}",
                        if matches!(
                            s.to_ascii_lowercase().as_str(),
                            "yes" | "no" | "on" | "off" | "y" | "n"
                        ) {
                            "; yes/no/on/off are YAML 1.1 spellings that readers disagree on"
                        } else {
                            ""
                        }
                    ),
                );
            }
            (Type::List, None) if tree.seq_items(v).is_some() => {
                let mut items = Vec::new();
                for (i, &item) in tree.seq_items(v).unwrap_or_default().iter().enumerate() {
                    match tree.scalar(item).map(|(s, st, t)| resolve(s, st, t)) {
                        Some(Resolved::Str(s)) => items.push(s.to_string()),
                        _ => problems.add(
                            &format!("{path}[{i}]"),
                            format!("is {}, expected a string", tree.describe(item)),
                        ),
                    }
                }
                out.push((name.to_string(), Raw::List(items)));
            }
            (ty, _) => {
                out.push((name.to_string(), Raw::Invalid));
                problems.add(
                    &path,
                    format!(
                        "is {}, expected {}",
                        tree.describe(v),
                        match ty {
                            Type::String => "a string",
                            Type::Bool => "true or false",
                            Type::List => "a list of strings",
                        }
                    ),
                );
            }
        }
    }
    out
}

/// The `data` of a ConfigMap functionConfig: every value a string.
fn read_flat(
    tree: &Tree,
    data: NodeId,
    prefix: &str,
    problems: &mut Problems,
) -> Vec<(String, Raw)> {
    let mut out = Vec::new();
    for (name, path, doc, v) in known_fields(tree, data, prefix, problems) {
        let s = match tree.scalar(v).map(|(s, st, t)| resolve(s, st, t)) {
            Some(Resolved::Str(s)) => s.to_string(),
            _ => {
                out.push((name.to_string(), Raw::Invalid));
                problems.add(
                    &path,
                    format!(
                        "is {}; ConfigMap data values are strings (quote it)",
                        tree.describe(v)
                    ),
                );
                continue;
            }
        };
        let raw = match doc.ty {
            Type::String => Raw::Str(s),
            Type::Bool => match s.as_str() {
                "true" => Raw::Bool(true),
                "false" => Raw::Bool(false),
                _ => {
                    out.push((name.to_string(), Raw::Invalid));
                    problems.add(&path, format!("is {s:?}, expected \"true\" or \"false\""));
                    continue;
                }
            },
            Type::List => Raw::List(
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
        };
        out.push((name.to_string(), raw));
    }
    out
}

/// Applies defaults and checks every field. Returns `None` when a required field is
/// missing or invalid (the problems say which).
fn validate(raw: Vec<(String, Raw)>, prefix: &str, problems: &mut Problems) -> Option<Parsed> {
    let mut strings = std::collections::HashMap::new();
    let mut bools = std::collections::HashMap::new();
    let mut lists = std::collections::HashMap::new();
    let mut invalid = std::collections::HashSet::new();
    for (name, value) in raw {
        match value {
            Raw::Invalid => {
                invalid.insert(name);
            }
            Raw::Str(s) => {
                strings.insert(name, s);
            }
            Raw::Bool(b) => {
                bools.insert(name, b);
            }
            Raw::List(l) => {
                lists.insert(name, l);
            }
        }
    }
    let p = |name: &str| format!("{prefix}.{name}");
    let mut warnings = Vec::new();

    let registry = match strings.get("registry") {
        None if invalid.contains("registry") => None,
        None => {
            problems.add(
                &p("registry"),
                "is required: the registry host[:port] as image references name it, e.g. harbor-core.harbor.svc.cluster.local",
            );
            None
        }
        Some(s) => match names::registry(s) {
            Ok(r) => Some(r),
            Err(e) => {
                problems.add(&p("registry"), e);
                None
            }
        },
    };

    let scheme = match strings.get("scheme").map(String::as_str) {
        None | Some("https") => Scheme::Https,
        Some("http") => Scheme::Http,
        Some(other) => {
            problems.add(
                &p("scheme"),
                format!("is {other:?}; expected http or https (lowercase, without ://)"),
            );
            Scheme::Https
        }
    };

    let name = |field: &str, default: String, label: bool, problems: &mut Problems| -> String {
        let value = strings.get(field).cloned().unwrap_or(default);
        let check = if label {
            names::dns1123_label(&value)
        } else {
            names::dns1123_subdomain(&value)
        };
        if let Err(e) = check {
            problems.add(&p(field), e);
        }
        value
    };

    let namespace = name("namespace", DEFAULT_NAMESPACE.into(), true, problems);
    let service = registry.as_ref().and_then(|r| r.service());
    let harbor_namespace = match (strings.get("harborNamespace"), service) {
        (Some(_), _) => {
            let ns = name("harborNamespace", String::new(), true, problems);
            if let Some((_, derived)) = service {
                if derived != ns {
                    warnings.push(
                        FnResult::warning(format!(
                            "{prefix}.harborNamespace {ns:?} differs from the namespace in the registry host ({derived:?}); the patch goes to {ns:?}"
                        ))
                        .at(p("harborNamespace")),
                    );
                }
            }
            ns
        }
        (None, Some((_, derived))) => derived.to_string(),
        (None, None) => {
            if registry.is_some() {
                problems.add(
                    &p("harborNamespace"),
                    format!(
                        "is required because {prefix}.registry is not a <service>.<namespace>.svc name: say which namespace Harbor's core ConfigMap is in"
                    ),
                );
            }
            String::new()
        }
    };
    let harbor_config_map = name(
        "harborConfigMap",
        service.map_or(DEFAULT_HARBOR_CORE, |(s, _)| s).to_string(),
        false,
        problems,
    );
    let harbor_deployment = name(
        "harborDeployment",
        harbor_config_map.clone(),
        false,
        problems,
    );
    let buildkit_config_map = name(
        "buildkitConfigMap",
        DEFAULT_BUILDKIT_CONFIG_MAP.into(),
        false,
        problems,
    );
    let task_name = name("taskName", DEFAULT_TASK_NAME.into(), false, problems);

    let buildkit_host = strings
        .get("buildkitHost")
        .cloned()
        .unwrap_or_else(|| DEFAULT_BUILDKIT_HOST.into());
    if let Err(e) = names::buildkit_host(&buildkit_host) {
        problems.add(&p("buildkitHost"), e);
    }
    let buildctl_image = strings
        .get("buildctlImage")
        .cloned()
        .unwrap_or_else(|| DEFAULT_BUILDCTL_IMAGE.into());
    if let Err(e) = names::image(&buildctl_image) {
        problems.add(&p("buildctlImage"), e);
    }

    let ca = lists.remove("ca").unwrap_or_default();
    for (i, path) in ca.iter().enumerate() {
        if let Err(e) = names::absolute_path(path) {
            problems.add(&format!("{}[{i}]", p("ca")), e);
        }
    }
    let insecure_skip_verify = bools.get("insecureSkipVerify").copied().unwrap_or(false);
    if scheme == Scheme::Http {
        if !ca.is_empty() {
            problems.add(
                &p("ca"),
                "applies to https registries only; with scheme http there is no certificate to verify",
            );
        }
        if insecure_skip_verify {
            problems.add(
                &p("insecureSkipVerify"),
                "applies to https registries only; a plain-HTTP registry needs only scheme: http (which sets http = true)",
            );
        }
    }
    let mirrors = lists.remove("mirrors").unwrap_or_default();
    for (i, m) in mirrors.iter().enumerate() {
        if let Err(e) = names::mirror(m) {
            problems.add(&format!("{}[{i}]", p("mirrors")), e);
        }
    }
    let generate = match lists.remove("generate") {
        None => Generate {
            harbor_core: true,
            buildkitd_config: true,
            task: true,
        },
        Some(values) => {
            let allowed = field_doc("generate")
                .map(|f| f.values.as_slice())
                .unwrap_or_default();
            for (i, v) in values.iter().enumerate() {
                if !allowed.contains(v) {
                    problems.add(
                        &format!("{}[{i}]", p("generate")),
                        format!("is {v:?}; expected one of {}", allowed.join(", ")),
                    );
                }
            }
            if values.is_empty() {
                problems.add(&p("generate"), "is empty; name at least one of harborCore, buildkitdConfig, task (or leave it out for all three)");
            }
            let has = |x: &str| values.iter().any(|v| v == x);
            Generate {
                harbor_core: has("harborCore"),
                buildkitd_config: has("buildkitdConfig"),
                task: has("task"),
            }
        }
    };

    if buildkit_config_map == harbor_config_map && namespace == harbor_namespace {
        problems.add(
            &p("buildkitConfigMap"),
            format!(
                "names the same ConfigMap as Harbor's core ConfigMap ({harbor_namespace}/{harbor_config_map}); buildkitd.toml needs a ConfigMap of its own"
            ),
        );
    }
    let registry = registry?;
    if scheme == Scheme::Http && !registry.is_in_cluster() {
        warnings.push(
            FnResult::warning(format!(
                "{prefix}.scheme is http for {}, a host outside the cluster: images and credentials would cross the network unencrypted; use https there",
                registry.authority()
            ))
            .at(p("scheme")),
        );
    }
    Some(Parsed {
        spec: Spec {
            registry,
            scheme,
            namespace,
            harbor_namespace,
            harbor_config_map,
            harbor_deployment,
            buildkit_config_map,
            buildkit_host,
            buildctl_image,
            task_name,
            ca,
            insecure_skip_verify,
            mirrors,
            generate,
        },
        warnings,
    })
}
