//! The registry endpoint: where BuildKit pushes, and how it speaks to it.
//!
//! It belongs to none of the systems this function wires and is read by all of them:
//! Harbor's `CORE_URL` is `<scheme>://<registry>` ([`crate::harbor`]), buildkitd.toml
//! keys its table by the registry and sets its transport from the scheme and TLS
//! material ([`crate::buildkit`]), and the Task pushes to it ([`crate::tekton`]).
//! [`crate::doctor`] probes the same endpoint live.

/// How BuildKit talks to the registry: one type for the spec's `scheme` (serde and the
/// schema) and doctor's `--scheme` (clap), so the set is written once.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
#[clap(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    #[default]
    Https,
}

impl Scheme {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port a URL of this scheme means when it names none.
    pub(crate) fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A registry as image references name it: `host` or `host:port` (checked by
/// [`crate::names::registry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    pub host: String,
    pub port: Option<u16>,
}

impl Registry {
    /// `host[:port]` exactly as the user wrote it (and as BuildKit sends it in `Host`).
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

/// `host` and the port of `host[:port]` (`None` when no port is written).
pub(crate) fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (authority, None),
    }
}

/// Certificate settings for an https registry (empty for http).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tls {
    /// CA files, as paths in the buildkitd container.
    pub(crate) ca: Vec<String>,
    /// Skip certificate verification.
    pub(crate) insecure_skip_verify: bool,
}

/// The registry, its scheme and its TLS material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) registry: Registry,
    /// Where the registry's host leads from a pod (Kubernetes DNS).
    pub(crate) place: crate::names::dns::Place,
    pub(crate) scheme: Scheme,
    pub(crate) tls: Tls,
}

impl Endpoint {
    /// `host[:port]`, as image references name the registry.
    pub(crate) fn authority(&self) -> String {
        self.registry.authority()
    }

    /// `<scheme>://<host[:port]>`.
    pub(crate) fn url(&self) -> String {
        format!("{}://{}", self.scheme.as_str(), self.authority())
    }
}

/// A mirror of a registry, as BuildKit's `mirrors = [...]` takes it: `host[:port]` and
/// an optional path (mapped to `/v2/<path>/...`, util/resolver/utils.go
/// `extractMirrorHostAndPath`), plus whether it is plain HTTP. BuildKit drops any scheme
/// written in a mirror and reads the mirror's transport from its own
/// `[registry."<host[:port]>"]` table (util/resolver/resolver.go `fillInsecureOpts`), so
/// the scheme is kept here and written as that table's `http = true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mirror {
    pub(crate) authority: String,
    /// Without the leading `/`; empty for none.
    pub(crate) path: String,
    pub(crate) http: bool,
}

impl Mirror {
    /// The entry of `mirrors = [...]`: `host[:port][/path]`.
    pub(crate) fn entry(&self) -> String {
        if self.path.is_empty() {
            self.authority.clone()
        } else {
            format!("{}/{}", self.authority, self.path)
        }
    }
}

/// Harbor as a pull-through cache of `upstream`: its proxy-cache project `project`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyCache {
    /// The upstream registry as image references name it (`docker.io`, `ghcr.io`).
    pub(crate) upstream: String,
    pub(crate) project: String,
}
