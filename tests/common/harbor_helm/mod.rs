//! The real-render bed of `tests/helm.rs` (issue 21): goharbor/harbor-helm charts
//! rendered by a real helm, committed under `tests/fixtures/harbor-helm/<tag>/<cell>/`
//! (`render.yaml`, the `values.yaml` helm was given, `provenance.yaml`; the chart's own
//! sources stay upstream, see that folder's README.md).
//!
//! Here: the cells, what each chart version renders for them ([`Facts`], each rule read
//! from the chart's templates at the tags named), and the functionConfigs users write
//! ([`variants`]). [`oracle`] says what the function must do with each, from Harbor's
//! own rules; [`stream`] reads the streams; [`routes`] runs them through real helm.

pub mod oracle;
pub mod routes;
pub mod stream;

use std::path::{Path, PathBuf};

use harbor_buildkit_fn::testing::Tree;
use serde_json::Value;

/// A chart's version (tags `v1.19.1` and `1.5.6` alike) or Harbor's (`2.15.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.trim().trim_start_matches('v').split('.');
        let mut next = || parts.next().and_then(|p| p.parse::<u32>().ok());
        Some(Version(next()?, next()?, next().unwrap_or(0)))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// `tests/fixtures/harbor-helm`.
pub fn bed() -> PathBuf {
    super::root().join("tests/fixtures/harbor-helm")
}

/// One committed render: a chart tag and a values cell.
pub struct Cell {
    pub tag: String,
    pub name: String,
    pub dir: PathBuf,
    /// `render.yaml`: helm 3's stream, private keys replaced.
    pub render: String,
    pub provenance: Value,
    pub facts: Facts,
}

impl Cell {
    /// `tag/cell`, as tables print it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.tag, self.name)
    }

    pub fn render_path(&self) -> PathBuf {
        self.dir.join("render.yaml")
    }
}

/// A YAML file of the bed as JSON (one document).
pub fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tree = Tree::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    tree.root
        .map(|root| tree.to_json(root).expect("JSON-shaped"))
        .unwrap_or(Value::Null)
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    found
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every committed cell, oldest chart first.
pub fn cells() -> Vec<Cell> {
    let mut tags = subdirs(&bed());
    tags.sort_by_key(|t| Version::parse(&file_name(t)));
    let mut all = Vec::new();
    for tag_dir in tags {
        for dir in subdirs(&tag_dir) {
            all.push(cell(&file_name(&tag_dir), dir));
        }
    }
    assert!(!all.is_empty(), "no cells under {}", bed().display());
    all
}

fn cell(tag: &str, dir: PathBuf) -> Cell {
    let provenance = read_yaml(&dir.join("provenance.yaml"));
    let values = read_yaml(&dir.join("values.yaml"));
    let text = |v: &Value, what: &str| -> String {
        v.as_str()
            .unwrap_or_else(|| panic!("{}: provenance.yaml lacks {what}", dir.display()))
            .to_string()
    };
    let version = |v: &Value, what: &str| {
        Version::parse(&text(v, what))
            .unwrap_or_else(|| panic!("{}: {what} is not a version", dir.display()))
    };
    let facts = Facts::new(
        &values,
        &text(&provenance["release"], "release"),
        &text(&provenance["namespace"], "namespace"),
        version(&provenance["chart"]["version"], "chart.version"),
        version(&provenance["chart"]["appVersion"], "chart.appVersion"),
    );
    let render_path = dir.join("render.yaml");
    Cell {
        tag: tag.to_string(),
        name: file_name(&dir),
        render: std::fs::read_to_string(&render_path)
            .unwrap_or_else(|e| panic!("{}: {e}", render_path.display())),
        dir,
        provenance,
        facts,
    }
}

/// Where harbor-core reads `CORE_URL` from besides its ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreEnv {
    /// No `core.extraEnvVars` entry: the ConfigMap's value.
    Absent,
    /// `core.extraEnvVars` with a `value` (it wins over `envFrom`).
    Value(String),
    /// `core.extraEnvVars` with a `valueFrom`: unknown in the render.
    ValueFrom,
}

/// nginx's front Service, deployed unless `expose.type` is `ingress`.
#[derive(Debug, Clone)]
pub struct Nginx {
    pub name: String,
    pub http_port: u16,
    pub https_port: Option<u16>,
}

/// What a chart version renders for a cell's values, read from the chart's templates
/// (goharbor/harbor-helm, at the tags named) and its `values.yaml` defaults (the same
/// in every tag here: `expose.type: ingress`, `expose.tls.enabled: true`, Service
/// `harbor` on 80/443, `externalURL: https://core.harbor.domain`).
#[derive(Debug, Clone)]
pub struct Facts {
    pub chart: Version,
    /// The chart's appVersion: the Harbor it deploys.
    pub harbor: Version,
    pub release: String,
    /// `-n`, or helm's `default` without one.
    pub namespace: String,
    pub fullname: String,
    pub internal_tls: bool,
    pub external_url: String,
    pub nginx: Option<Nginx>,
    pub core_env: CoreEnv,
}

fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn str_at(v: &Value, path: &[&str], default: &str) -> String {
    at(v, path)
        .and_then(Value::as_str)
        .unwrap_or(default)
        .to_string()
}

fn bool_at(v: &Value, path: &[&str], default: bool) -> bool {
    at(v, path).and_then(Value::as_bool).unwrap_or(default)
}

fn port_at(v: &Value, path: &[&str], default: u16) -> u16 {
    at(v, path)
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(default)
}

/// helm's `trunc 63 | trimSuffix "-"`.
fn dns_name(s: &str) -> String {
    let cut: String = s.chars().take(63).collect();
    cut.strip_suffix('-').unwrap_or(&cut).to_string()
}

impl Facts {
    pub fn new(
        values: &Value,
        release: &str,
        namespace: &str,
        chart: Version,
        harbor: Version,
    ) -> Facts {
        let expose_type = str_at(values, &["expose", "type"], "ingress");
        let expose_tls = bool_at(values, &["expose", "tls", "enabled"], true);
        Facts {
            chart,
            harbor,
            release: release.to_string(),
            namespace: if namespace.is_empty() {
                "default"
            } else {
                namespace
            }
            .to_string(),
            fullname: fullname(values, release, chart),
            // internalTLS arrived in v1.4.0 (templates/internal/auto-tls.yaml).
            internal_tls: chart >= Version(1, 4, 0)
                && bool_at(values, &["internalTLS", "enabled"], false),
            external_url: str_at(values, &["externalURL"], "https://core.harbor.domain"),
            nginx: nginx(values, &expose_type, expose_tls),
            core_env: core_env(values, chart),
        }
    }

    /// harbor-core's scheme and its Service's port: `harbor.component.scheme` and
    /// `harbor.core.servicePort` (templates/_helpers.tpl): https and 443 with internal
    /// TLS, else http and 80 (templates/core/core-svc.yaml).
    pub fn core_scheme(&self) -> &'static str {
        if self.internal_tls { "https" } else { "http" }
    }

    pub fn core_port(&self) -> u16 {
        if self.internal_tls { 443 } else { 80 }
    }

    /// `harbor.core` (templates/_helpers.tpl): `<fullname>-core`, the core Service's
    /// and ConfigMap's name.
    pub fn core(&self) -> String {
        format!("{}-core", self.fullname)
    }

    /// The core ConfigMap's `CORE_URL` (templates/core/core-cm.yaml): v1.3.x writes
    /// `http://<fullname>-core` (L31 at v1.3.19); later charts `harbor.coreURL`,
    /// `<scheme>://<fullname>-core:<port>` (templates/_helpers.tpl L482 at v1.19.1).
    pub fn chart_core_url(&self) -> String {
        if self.chart < Version(1, 4, 0) {
            format!("http://{}", self.core())
        } else {
            format!(
                "{}://{}:{}",
                self.core_scheme(),
                self.core(),
                self.core_port()
            )
        }
    }

    /// `CORE_URL` as harbor-core reads it: a `core.extraEnvVars` value wins over the
    /// ConfigMap (the kubelet applies `env` after `envFrom`); `None` for a `valueFrom`.
    pub fn core_url(&self) -> Option<String> {
        match &self.core_env {
            CoreEnv::Absent => Some(self.chart_core_url()),
            CoreEnv::Value(v) => Some(v.clone()),
            CoreEnv::ValueFrom => None,
        }
    }

    /// The ConfigMap jobservice reads `CORE_URL` from through `envFrom`:
    /// `<fullname>-jobservice-env` (templates/jobservice/jobservice-cm-env.yaml, from
    /// v1.4.0). v1.3.x sets it in the Deployment's `env` instead
    /// (templates/jobservice/jobservice-dpl.yaml L69).
    pub fn jobservice_env(&self) -> Option<String> {
        (self.chart >= Version(1, 4, 0)).then(|| format!("{}-jobservice-env", self.fullname))
    }

    /// Whether every rendered resource carries `metadata.namespace`: from v1.16.0
    /// (harbor-helm commit 0be9b1a, "Fix ArgoCD integration by adding
    /// metadata.namespace to all templates").
    pub fn renders_namespace(&self) -> bool {
        self.chart >= Version(1, 16, 0)
    }

    /// The names harbor-core's `certSource: auto` certificate covers:
    /// `genSignedCert <fullname>-core (list "127.0.0.1") (list "localhost" <fullname>-core)`
    /// (templates/internal/auto-tls.yaml L4).
    pub fn core_certificate_names(&self) -> [String; 3] {
        ["127.0.0.1".into(), "localhost".into(), self.core()]
    }

    /// `externalURL`'s scheme and host[:port], as Harbor's `EXT_ENDPOINT` has it.
    pub fn external(&self) -> (String, String) {
        let (scheme, rest) = self
            .external_url
            .split_once("://")
            .unwrap_or(("", &self.external_url));
        let host = rest.split('/').next().unwrap_or_default();
        (scheme.to_string(), host.to_string())
    }
}

/// `harbor.fullname` (templates/_helpers.tpl): up to v1.6 `<release>-<nameOverride or
/// harbor>` (L14-17 at 1.5.6); from v1.7.0 `fullnameOverride`, else the release when
/// it contains the name, else `<release>-harbor` (L15-26 at v1.19.1).
fn fullname(values: &Value, release: &str, chart: Version) -> String {
    let name = str_at(values, &["nameOverride"], "harbor");
    if chart >= Version(1, 7, 0) {
        if let Some(over) = at(values, &["fullnameOverride"]).and_then(Value::as_str) {
            return dns_name(over);
        }
        if release.contains(&name) {
            return dns_name(release);
        }
    }
    dns_name(&format!("{release}-{name}"))
}

/// templates/nginx/service.yaml: `expose.<type>.name` with its `ports` (http, and
/// https when `expose.tls.enabled`); no nginx at all for `ingress`
/// (templates/nginx/deployment.yaml L1).
fn nginx(values: &Value, expose_type: &str, tls: bool) -> Option<Nginx> {
    let (http, https): (&[&str], &[&str]) = match expose_type {
        "clusterIP" => (&["ports", "httpPort"], &["ports", "httpsPort"]),
        "nodePort" => (&["ports", "http", "port"], &["ports", "https", "port"]),
        "loadBalancer" => (&["ports", "httpPort"], &["ports", "httpsPort"]),
        _ => return None,
    };
    let section = at(values, &["expose", expose_type])
        .cloned()
        .unwrap_or(Value::Null);
    Some(Nginx {
        name: str_at(&section, &["name"], "harbor"),
        http_port: port_at(&section, http, 80),
        https_port: tls.then(|| port_at(&section, https, 443)),
    })
}

/// `core.extraEnvVars` (from v1.13.0, templates/core/core-dpl.yaml `with
/// .Values.core.extraEnvVars`, after the chart's own `env`).
fn core_env(values: &Value, chart: Version) -> CoreEnv {
    if chart < Version(1, 13, 0) {
        return CoreEnv::Absent;
    }
    let entries = at(values, &["core", "extraEnvVars"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match entries.iter().find(|e| e["name"] == "CORE_URL") {
        None => CoreEnv::Absent,
        Some(e) => match e["value"].as_str() {
            Some(v) => CoreEnv::Value(v.to_string()),
            None => CoreEnv::ValueFrom,
        },
    }
}

/// One functionConfig a user could write for a cell.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: &'static str,
    pub registry: String,
    pub scheme: &'static str,
    pub harbor_namespace: Option<String>,
    pub insecure_skip_verify: bool,
}

impl Variant {
    fn new(name: &'static str, registry: String, scheme: &'static str) -> Variant {
        Variant {
            name,
            registry,
            scheme,
            harbor_namespace: None,
            insecure_skip_verify: false,
        }
    }

    /// The functionConfig: BuildKit and the Task in namespace `ci`, the CORE_URL patch asked for.
    pub fn config(&self) -> String {
        let mut spec = format!(
            "  registry: {}\n  scheme: {}\n  namespace: ci\n",
            self.registry, self.scheme
        );
        if let Some(ns) = &self.harbor_namespace {
            spec.push_str(&format!("  harborNamespace: {ns}\n"));
        }
        if self.insecure_skip_verify {
            spec.push_str("  insecureSkipVerify: true\n");
        }
        format!(
            "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata:\n  name: harbor-buildkit\nspec:\n{spec}  generate: [harborCore]\n"
        )
    }
}

fn other(scheme: &str) -> &'static str {
    if scheme == "https" { "http" } else { "https" }
}

/// The names users write for a cell, right and wrong (the previous study's
/// tools/variants.py, with nginx's own port and an insecureSkipVerify variant).
pub fn variants(f: &Facts) -> Vec<Variant> {
    let (ns, full, cs) = (&f.namespace, &f.fullname, f.core_scheme());
    let fqdn = |svc: &str, ns: &str| format!("{svc}.{ns}.svc.cluster.local");
    let core = fqdn(&f.core(), ns);
    let other_ns = if ns == "default" { "harbor" } else { "default" };
    // The other naming rule's prefix: `<release>-core` where the fullname is not the
    // release, else `<release>-harbor-core`.
    let rel = &f.release;
    let wrong_prefix = if full != rel && format!("{rel}-core") != f.core() {
        format!("{rel}-core")
    } else {
        format!("{rel}-harbor-core")
    };
    let (nginx_name, nginx_scheme, nginx_port) = match &f.nginx {
        Some(n) => match n.https_port {
            Some(p) => (n.name.clone(), "https", p),
            None => (n.name.clone(), "http", n.http_port),
        },
        None => ("harbor".to_string(), "http", 80),
    };
    let nginx_fqdn = match (nginx_scheme, nginx_port) {
        ("http", 80) | ("https", 443) => fqdn(&nginx_name, ns),
        (_, p) => format!("{}:{p}", fqdn(&nginx_name, ns)),
    };
    let (ext_scheme, ext_host) = f.external();
    let ext_scheme: &'static str = if ext_scheme == "https" {
        "https"
    } else {
        "http"
    };
    let mut v = vec![
        Variant::new("right", core.clone(), cs),
        Variant::new("right-port", format!("{core}:{}", f.core_port()), cs),
        Variant {
            harbor_namespace: Some(ns.clone()),
            ..Variant::new("right-harborns", core.clone(), cs)
        },
        Variant::new("wrong-scheme", core.clone(), other(cs)),
        Variant::new("nginx-short", nginx_name.clone(), "http"),
        Variant::new("nginx-fqdn", nginx_fqdn, nginx_scheme),
        Variant::new("ext-right-scheme", ext_host.clone(), ext_scheme),
        Variant::new("ext-wrong-scheme", ext_host, other(ext_scheme)),
        Variant::new("typo", fqdn(&format!("{full}-cor"), ns), cs),
        Variant::new("wrong-prefix", fqdn(&wrong_prefix, ns), cs),
        Variant::new("other-ns", fqdn(&f.core(), other_ns), cs),
        Variant::new(
            "bad-port",
            format!("{core}:{}", if f.internal_tls { 8443 } else { 8080 }),
            cs,
        ),
        Variant::new("short", f.core(), cs),
    ];
    if f.internal_tls {
        v.push(Variant {
            insecure_skip_verify: true,
            ..Variant::new("insecure-skip-verify", core, "https")
        });
    }
    v
}
