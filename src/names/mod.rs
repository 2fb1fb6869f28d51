//! The checks on names: registry hosts, Kubernetes object names, and the other strings
//! that end up in a shell environment, a TOML key or a YAML value.
//!
//! Each returns an [`Invalid`] whose `Display` says what is accepted; callers add the
//! field path. The rules are strict on purpose: every value that passes is safe in
//! all three places it can land (Task env, buildkitd.toml, YAML), so no later stage
//! needs its own escaping to be correct.

pub(crate) mod dns;
pub(crate) mod reference;

use crate::endpoint::{Mirror, ProxyCache, Registry};

/// Where a value was given, so that a message names what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A field of the spec (`spec.scheme`).
    Spec,
    /// A command-line argument (`--scheme`).
    Flag,
}

/// Which rule of a DNS name or label a value breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Longer than `max` characters in all.
    TooLong { max: usize },
    /// Two dots in a row, or a leading or trailing dot.
    EmptyLabel,
    /// A label longer than `max`.
    LabelTooLong { label: String, max: usize },
    /// A character outside what the name may hold (`allowed`, in words).
    Char { c: char, allowed: &'static str },
    /// A label that starts or ends with `-`.
    Hyphen { label: String },
    /// A `.` in a name that is one label.
    Dot,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::TooLong { max } => write!(f, "longer than {max} characters"),
            Rule::EmptyLabel => {
                f.write_str("has an empty label (two dots in a row, or a leading or trailing dot)")
            }
            Rule::LabelTooLong { label, max } => {
                write!(f, "label {label:?} is longer than {max} characters")
            }
            Rule::Char { c, allowed } => write!(f, "{c:?} is not allowed; use {allowed}"),
            Rule::Hyphen { label } => write!(f, "label {label:?} starts or ends with '-'"),
            Rule::Dot => f.write_str(
                "'.' is not allowed (lowercase letters, digits and '-', at most 63 characters)",
            ),
        }
    }
}

/// Why a value is not the name it should be. `Display` is the sentence a result
/// carries after the field's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Empty; `expected` says what was expected.
    Empty {
        expected: &'static str,
    },
    /// A registry with a scheme: the scheme belongs to `spec.scheme` or `--scheme`.
    Scheme {
        value: String,
        scheme: String,
        via: Via,
    },
    Ipv6 {
        value: String,
    },
    /// A first component without `.` or `:` (not `localhost`): Docker Hub, for an image
    /// reference.
    DockerHub {
        value: String,
    },
    Whitespace {
        value: String,
        c: char,
    },
    Path {
        value: String,
    },
    Userinfo {
        value: String,
    },
    Port {
        value: String,
        port: String,
    },
    Uppercase {
        value: String,
    },
    Ipv4 {
        host: String,
    },
    Host {
        host: String,
        rule: Rule,
    },
    /// A DNS-1123 label (`what` it is: "a DNS-1123 label", "a Tekton resource name").
    Label {
        value: String,
        what: &'static str,
        rule: Rule,
    },
    ObjectName {
        value: String,
        rule: Rule,
    },
    BuildkitHostScheme {
        value: String,
    },
    BuildkitHostUnknownScheme {
        value: String,
        scheme: String,
    },
    /// A character outside the safe set, in a value of some kind; `then` follows.
    Char {
        value: String,
        c: Option<char>,
        then: &'static str,
    },
    Image {
        value: String,
        c: Option<char>,
    },
    Repository,
    NotAbsolute {
        value: String,
    },
    MirrorScheme {
        value: String,
        scheme: String,
    },
    NotUpstreamProject {
        value: String,
    },
    Upstream(Box<Invalid>),
    Project {
        project: String,
    },
}

/// Schemes buildctl's `--addr` takes (moby/buildkit client/connhelper).
const BUILDKIT_SCHEMES: &[&str] = &[
    "tcp",
    "unix",
    "kube-pod",
    "docker-container",
    "podman-container",
    "nerdctl-container",
    "ssh",
];

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Empty { expected } => write!(f, "is empty; expected {expected}"),
            Invalid::Scheme { value, scheme, via } => {
                let set = match via {
                    Via::Spec => format!("set spec.scheme to {scheme}"),
                    Via::Flag => format!("give --scheme {scheme}"),
                };
                write!(
                    f,
                    "{value:?} has a scheme ({scheme}://); write only host[:port] as image references name it, and {set}"
                )
            }
            Invalid::Ipv6 { value } => write!(
                f,
                "{value:?} is an IPv6 address; IPv6 literals are not supported: use the registry's DNS name, e.g. its Service name (harbor-core.harbor.svc.cluster.local)"
            ),
            Invalid::DockerHub { value } => write!(
                f,
                "{value:?} has no '.' and no ':', and BuildKit reads the first part of an image reference as its registry only when it has one of them or is localhost (distribution/reference splitDockerDomain): {value}/library/app is docker.io/{value}/library/app, pushed to Docker Hub. A bare Service name also resolves only from pods in its own namespace. Name the Service as pods in every namespace reach it: {value}.<namespace>.svc.cluster.local, or {value}.<namespace>. {}",
                crate::spec::INTERNAL_TLS_NOTE
            ),
            Invalid::Whitespace { value, c } => {
                write!(f, "{value:?} contains whitespace ({c:?}); expected host[:port]")
            }
            Invalid::Path { value } => write!(
                f,
                "{value:?} has a path; expected only host[:port] (the repository goes in the image name)"
            ),
            Invalid::Userinfo { value } => write!(
                f,
                "{value:?} has credentials or a digest; expected only host[:port]"
            ),
            Invalid::Port { value, port } => write!(
                f,
                "{value:?} has port {port:?}; a port is a number from 1 to 65535 without leading zeros"
            ),
            Invalid::Uppercase { value } => write!(
                f,
                "{value:?} has uppercase letters; image references name registries in lowercase, and Harbor compares the Host header case-sensitively"
            ),
            Invalid::Ipv4 { host } => write!(f, "{host:?} is not a valid IPv4 address"),
            Invalid::Host { host, rule } => write!(f, "{host:?} is not a valid host name: {rule}"),
            Invalid::Label { value, what, rule } => write!(f, "{value:?} is not {what}: {rule}"),
            Invalid::ObjectName { value, rule } => {
                write!(f, "{value:?} is not a valid Kubernetes object name: {rule}")
            }
            Invalid::BuildkitHostScheme { value } => write!(
                f,
                "{value:?} has no scheme; expected an address such as tcp://buildkitd:1234 ({})",
                BUILDKIT_SCHEMES.join(", ")
            ),
            Invalid::BuildkitHostUnknownScheme { value, scheme } => write!(
                f,
                "{value:?} has scheme {scheme:?}; expected one of {}",
                BUILDKIT_SCHEMES.join(", ")
            ),
            Invalid::Char { value, c, then } => {
                write!(f, "{value:?}: {}{then}", Unsafe(*c))
            }
            Invalid::Image { value, c: Some(c) } => {
                write!(f, "{value:?} is not an image reference: {}", Unsafe(Some(*c)))
            }
            Invalid::Image { value, c: None } => write!(f, "{value:?} is not an image reference"),
            Invalid::Repository => f.write_str(
                "is not a repository name: lowercase components such as library/app, separated by /, without a registry host or tag",
            ),
            Invalid::NotAbsolute { value } => write!(
                f,
                "{value:?} is not an absolute path; BuildKit reads CA files from the buildkitd container's file system"
            ),
            Invalid::MirrorScheme { value, scheme } => write!(
                f,
                "{value:?} has the scheme {scheme}://; a mirror is [http://|https://]host[:port][/path]: http:// for a plain-HTTP mirror (it gets http = true in its own [registry.\"<mirror host>\"] table), https:// or none for TLS"
            ),
            Invalid::NotUpstreamProject { value } => write!(
                f,
                "{value:?} is not upstream=project; write the upstream registry and the Harbor proxy-cache project, e.g. docker.io=dockerhub"
            ),
            Invalid::Upstream(e) => write!(f, "upstream {e}"),
            Invalid::Project { project } => write!(
                f,
                "project {project:?} is not a Harbor project name (lowercase letters, digits, '.', '_', '-')"
            ),
        }
    }
}

impl std::error::Error for Invalid {}

/// What [`safe_chars`] found: the first character outside the set (`None`: empty).
struct Unsafe(Option<char>);

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(c) => write!(f, "{c:?} is not allowed"),
            None => f.write_str("is empty"),
        }
    }
}

/// The four bytes of a dotted-quad IPv4 address, without leading zeros.
pub(crate) fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for slot in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if p.len() > 1 && p.starts_with('0') {
            return None;
        }
        *slot = p.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn looks_like_ipv4(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Whether `s` is written as an IPv6 address: bracketed as image references write one
/// (`[fd00::1]`, `[fd00::1]:5000`), or bare (`fd00::1`, `::1`).
fn looks_like_ipv6(s: &str) -> bool {
    s.starts_with('[')
        || (s.matches(':').count() >= 2
            && s.chars()
                .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '%')))
}

/// Checks `host[:port]`: a lowercase RFC 1123 DNS name or an IPv4 address, and a port
/// in 1..=65535. No scheme, path, credentials, whitespace or shell metacharacters.
/// `via` says where the value was given, for the fix of a scheme written into it.
///
/// IPv6 literals are refused with a plain message rather than supported. BuildKit
/// would take one (distribution/reference v0.6 reads `[fd00::1]:5000` as a domain, and
/// `[registry."[fd00::1]:5000"]` is looked up exactly), but Harbor's `match`
/// (`src/server/middleware/v2auth/auth.go`) replaces a `CORE_URL` host with Go's
/// `url.Hostname()` when the port is the default one, which drops the brackets: the
/// Host `[fd00::1]:80` can never match `http://[fd00::1]:80`. Getting that right takes
/// the realm model, the buildkitd.toml checks, the schema's pattern and `doctor` to
/// agree on bracketed hosts, for an address that pods reach by a Service name anyway.
pub fn registry(s: &str, via: Via) -> Result<Registry, Invalid> {
    let r = host_port(s, via)?;
    // An image named `<registry>/library/app` must go to the registry, not Docker Hub.
    if reference::domain(&format!("{s}/library/app")) == "docker.io" {
        return Err(Invalid::DockerHub {
            value: s.to_string(),
        });
    }
    Ok(r)
}

/// `host[:port]` as [`registry`] checks it, without the image-reference rule: a
/// mirror's or an upstream's host, which BuildKit reads as a host, not from a reference.
fn host_port(s: &str, via: Via) -> Result<Registry, Invalid> {
    let value = || s.to_string();
    if s.is_empty() {
        return Err(Invalid::Empty {
            expected: "the registry host as image references name it, e.g. harbor-core.harbor.svc.cluster.local",
        });
    }
    if let Some((scheme, _)) = s.split_once("://") {
        return Err(Invalid::Scheme {
            value: value(),
            scheme: scheme.to_string(),
            via,
        });
    }
    if looks_like_ipv6(s) {
        return Err(Invalid::Ipv6 { value: value() });
    }
    if let Some(c) = s.chars().find(|c| c.is_whitespace()) {
        return Err(Invalid::Whitespace { value: value(), c });
    }
    if s.contains('/') {
        return Err(Invalid::Path { value: value() });
    }
    if s.contains('@') {
        return Err(Invalid::Userinfo { value: value() });
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let port = match port {
        None => None,
        Some(p) => {
            let n: u32 = if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 5 {
                p.parse().unwrap_or(0)
            } else {
                0
            };
            if !(1..=65535).contains(&n) || p.starts_with('0') {
                return Err(Invalid::Port {
                    value: value(),
                    port: p.to_string(),
                });
            }
            u16::try_from(n).ok()
        }
    };
    if host.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(Invalid::Uppercase { value: value() });
    }
    if looks_like_ipv4(host) {
        if parse_ipv4(host).is_none() {
            return Err(Invalid::Ipv4 {
                host: host.to_string(),
            });
        }
    } else {
        dns_name(host, 253).map_err(|rule| Invalid::Host {
            host: host.to_string(),
            rule,
        })?;
    }
    Ok(Registry {
        host: host.to_string(),
        port,
    })
}

/// RFC 1123 host name: dot-separated labels of `[a-z0-9-]`, each 1..=63 long, not
/// starting or ending with `-`; at most `max` characters in all.
fn dns_name(s: &str, max: usize) -> Result<(), Rule> {
    dotted(s, max, Some(63))
}

/// Dot-separated labels of `[a-z0-9-]`, none empty or starting or ending with `-`,
/// each at most `max_label` long (when given); at most `max` characters in all.
fn dotted(s: &str, max: usize, max_label: Option<usize>) -> Result<(), Rule> {
    if s.len() > max {
        return Err(Rule::TooLong { max });
    }
    for label in s.split('.') {
        dns_label_rule(label, max_label, "lowercase letters, digits, '-' and '.'")?;
    }
    Ok(())
}

/// One label: `[a-z0-9-]`, not starting or ending with `-`, at most `max` long.
/// `allowed` says what the whole name may hold, for the message.
fn dns_label_rule(label: &str, max: Option<usize>, allowed: &'static str) -> Result<(), Rule> {
    if label.is_empty() {
        return Err(Rule::EmptyLabel);
    }
    if let Some(max) = max.filter(|&m| label.len() > m) {
        return Err(Rule::LabelTooLong {
            label: label.to_string(),
            max,
        });
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(Rule::Char { c, allowed });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(Rule::Hyphen {
            label: label.to_string(),
        });
    }
    Ok(())
}

/// A cluster domain (the kubelet's `--cluster-domain`): a host name.
pub(crate) fn cluster_domain(s: &str) -> Result<(), Invalid> {
    dns_name(s, 253).map_err(|rule| Invalid::Host {
        host: s.to_string(),
        rule,
    })
}

/// A DNS-1123 label (namespaces, Tekton names): at most 63 characters of `[a-z0-9-]`.
pub fn dns1123_label(s: &str) -> Result<(), Invalid> {
    label_named(s, "a DNS-1123 label")
}

/// [`dns1123_label`], its messages saying what the name is (`what`, "a ...").
fn label_named(s: &str, what: &'static str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err(Invalid::Empty {
            expected: "a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)",
        });
    }
    let invalid = |rule| Invalid::Label {
        value: s.to_string(),
        what,
        rule,
    };
    if s.contains('.') {
        return Err(invalid(Rule::Dot));
    }
    dns_label_rule(s, Some(63), "lowercase letters, digits and '-'").map_err(invalid)
}

/// A Tekton resource name (the Task's): Tekton's webhook refuses a name with a `.` or
/// longer than 63 characters (`ValidateObjectMetadata`), so a DNS-1123 label.
pub(crate) fn tekton_name(s: &str) -> Result<(), Invalid> {
    label_named(s, "a Tekton resource name (a DNS-1123 label)")
}

/// A DNS-1123 subdomain (ConfigMap, Deployment and most other object names): at most
/// 253 characters of `[a-z0-9-.]`, each dot-separated part starting and ending with a
/// letter or digit. Unlike a host name, a part may be longer than 63 characters
/// (Kubernetes' `IsDNS1123Subdomain` checks only the whole length and the pattern).
pub(crate) fn dns1123_subdomain(s: &str) -> Result<(), Invalid> {
    if s.is_empty() {
        return Err(Invalid::Empty {
            expected: "a Kubernetes object name (a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters)",
        });
    }
    dotted(s, 253, None).map_err(|rule| Invalid::ObjectName {
        value: s.to_string(),
        rule,
    })
}

/// A BuildKit daemon address: `tcp://`, `unix://`, `kube-pod://`, `docker-container://`,
/// `podman-container://`, `nerdctl-container://` or `ssh://`, then characters that
/// are safe in a URL and in a shell environment.
pub(crate) fn buildkit_host(s: &str) -> Result<(), Invalid> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(Invalid::BuildkitHostScheme {
            value: s.to_string(),
        });
    };
    if !BUILDKIT_SCHEMES.contains(&scheme) {
        return Err(Invalid::BuildkitHostUnknownScheme {
            value: s.to_string(),
            scheme: scheme.to_string(),
        });
    }
    safe_chars(rest, "._:/@%+=~?&,-").map_err(|c| Invalid::Char {
        value: s.to_string(),
        c,
        then: "; expected an address such as tcp://buildkitd:1234",
    })
}

/// A container image reference: `[registry/]repository[:tag][@digest]`.
pub(crate) fn image(s: &str) -> Result<(), Invalid> {
    safe_chars(s, "._:/@-").map_err(|c| Invalid::Image {
        value: s.to_string(),
        c,
    })?;
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) || s.ends_with([':', '/', '@']) {
        return Err(Invalid::Image {
            value: s.to_string(),
            c: None,
        });
    }
    Ok(())
}

/// A repository name as the registry API has it (`project/name`): `/`-separated
/// components of lowercase letters and digits joined by `.`, `_` or `-`.
pub fn repository(s: &str) -> Result<(), Invalid> {
    let ok = !s.is_empty()
        && s.split('/').all(|c| {
            c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        });
    if ok { Ok(()) } else { Err(Invalid::Repository) }
}

/// An absolute file path in the buildkitd container (CA certificates).
pub(crate) fn absolute_path(s: &str) -> Result<(), Invalid> {
    if !s.starts_with('/') {
        return Err(Invalid::NotAbsolute {
            value: s.to_string(),
        });
    }
    safe_chars(s, "._/+@-").map_err(|c| Invalid::Char {
        value: s.to_string(),
        c,
        then: "",
    })
}

/// A registry mirror: `[http://|https://]host[:port][/path]`.
pub(crate) fn mirror(s: &str) -> Result<Mirror, Invalid> {
    let (http, rest) = if let Some(r) = s.strip_prefix("http://") {
        (true, r)
    } else if let Some(r) = s.strip_prefix("https://") {
        (false, r)
    } else if let Some((scheme, _)) = s.split_once("://") {
        return Err(Invalid::MirrorScheme {
            value: s.to_string(),
            scheme: scheme.to_string(),
        });
    } else {
        (false, s)
    };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p.trim_end_matches('/')),
        None => (rest, ""),
    };
    let registry = host_port(authority, Via::Spec)?;
    if !path.is_empty() {
        safe_chars(path, "._/-").map_err(|c| Invalid::Char {
            value: s.to_string(),
            c,
            then: "",
        })?;
    }
    Ok(Mirror {
        authority: registry.authority(),
        path: path.to_string(),
        http,
    })
}

/// Harbor as a proxy cache: `upstream=project`, e.g. `docker.io=dockerhub`.
pub(crate) fn proxy_cache(s: &str) -> Result<ProxyCache, Invalid> {
    let Some((upstream, project)) = s.split_once('=') else {
        return Err(Invalid::NotUpstreamProject {
            value: s.to_string(),
        });
    };
    host_port(upstream, Via::Spec).map_err(|e| Invalid::Upstream(Box::new(e)))?;
    if project.contains('/') || repository(project).is_err() {
        return Err(Invalid::Project {
            project: project.to_string(),
        });
    }
    Ok(ProxyCache {
        upstream: upstream.to_string(),
        project: project.to_string(),
    })
}

/// Only ASCII letters, digits and the given punctuation: nothing that a shell, TOML or
/// YAML gives meaning to (quotes, `$`, backticks, `#`, brackets, whitespace). The
/// error is the first character outside that set, or `None` for an empty string.
fn safe_chars(s: &str, punctuation: &str) -> Result<(), Option<char>> {
    if s.is_empty() {
        return Err(None);
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || punctuation.contains(*c)))
    {
        Some(c) => Err(Some(c)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry_(s: &str) -> Result<Registry, Invalid> {
        registry(s, Via::Spec)
    }

    #[test]
    fn registries() {
        let r = registry_("harbor-core.default.svc.cluster.local").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port),
            ("harbor-core.default.svc.cluster.local", None)
        );
        let r = registry_("harbor.example.com:8443").unwrap();
        assert_eq!(r.port, Some(8443));
        assert_eq!(r.authority(), "harbor.example.com:8443");
        for ok in [
            "10.1.2.3:5000",
            "localhost",
            "localhost:5000",
            "harbor-core:80",
        ] {
            assert!(registry_(ok).is_ok(), "{ok}");
        }
        // BuildKit would push `harbor-core/library/app` to Docker Hub.
        assert!(matches!(
            registry_("harbor-core"),
            Err(Invalid::DockerHub { .. })
        ));
        for (bad, why) in [
            ("http://harbor", "scheme"),
            ("harbor core", "whitespace"),
            ("harbor/library", "path"),
            ("Harbor.example.com", "uppercase"),
            ("harbor:0", "port"),
            ("harbor:65536", "port"),
            ("harbor:x", "port"),
            ("harbor;rm", "not allowed"),
            ("harbor$(id)", "not allowed"),
            ("-harbor", "starts or ends"),
            ("a..b", "empty label"),
            ("300.1.1.1", "IPv4"),
            ("", "empty"),
        ] {
            let e = registry(bad, Via::Spec).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    /// IPv6 literals, bracketed as image references write them or bare, get one plain
    /// sentence, not a complaint about a port `1]` or a `[`.
    #[test]
    fn ipv6_literals_are_refused_plainly() {
        for bad in ["fd00::1", "[fd00::1]", "[fd00::1]:5000", "::1", "[::1]:443"] {
            let e = registry(bad, Via::Spec).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "{bad:?} is an IPv6 address; IPv6 literals are not supported: use the registry's DNS name, e.g. its Service name (harbor-core.harbor.svc.cluster.local)"
                )
            );
        }
        let e = mirror("[fd00::1]:5000/proxy").unwrap_err().to_string();
        assert!(e.contains("IPv6 literals are not supported"), "{e}");
        // Not IPv6: a name with a stray colon is still a port problem.
        assert!(
            registry_("harbor:80:90")
                .unwrap_err()
                .to_string()
                .contains("not a valid host name")
        );
    }

    #[test]
    fn object_names() {
        assert!(dns1123_label("ci").is_ok());
        assert!(dns1123_label("c.i").is_err());
        assert!(dns1123_label("CI").is_err());
        assert!(dns1123_label(&"a".repeat(63)).is_ok());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert_eq!(
            dns1123_label("a_b").unwrap_err().to_string(),
            "\"a_b\" is not a DNS-1123 label: '_' is not allowed; use lowercase letters, digits and '-'"
        );
        assert!(
            tekton_name("build.kit")
                .unwrap_err()
                .to_string()
                .contains("is not a Tekton resource name")
        );
        assert!(dns1123_subdomain("buildkitd-config").is_ok());
        assert!(dns1123_subdomain("a_b").is_err());
        // Kubernetes object names: 253 characters, dots allowed, no 63-character parts.
        assert!(dns1123_subdomain(&"a".repeat(64)).is_ok());
        assert!(dns1123_subdomain(&"a".repeat(253)).is_ok());
        assert!(dns1123_subdomain(&format!("{}.{}", "a".repeat(100), "b".repeat(100))).is_ok());
        assert!(dns1123_subdomain(&"a".repeat(254)).is_err());
        assert!(dns1123_subdomain("a..b").is_err());
        assert!(dns1123_subdomain("a.-b").is_err());
        // Empty says so, not "an empty label (two dots in a row ...)".
        assert!(
            dns1123_label("")
                .unwrap_err()
                .to_string()
                .starts_with("is empty;")
        );
        assert!(
            dns1123_subdomain("")
                .unwrap_err()
                .to_string()
                .starts_with("is empty;")
        );
        // Host names keep the 63-character label limit.
        assert!(registry_(&"a".repeat(64)).is_err());
    }

    #[test]
    fn other_strings() {
        assert!(buildkit_host("tcp://buildkitd:1234").is_ok());
        assert!(buildkit_host("kube-pod://buildkitd-0?namespace=ci").is_ok());
        assert!(buildkit_host("buildkitd:1234").is_err());
        assert!(buildkit_host("tcp://x;rm -rf").is_err());
        assert!(image("docker.io/moby/buildkit:v0.26.3-rootless").is_ok());
        assert!(image("moby/buildkit:$(id)").is_err());
        assert!(absolute_path("/certs/ca.pem").is_ok());
        assert!(absolute_path("certs/ca.pem").is_err());
        assert!(absolute_path("/a\"]").is_err());
        assert!(mirror("mirror.gcr.io").is_ok());
        assert!(mirror("harbor.example.com/v2/proxy").is_ok());
        let m = mirror("http://mirror-a.harbor.svc:5000/cache/").expect("a mirror");
        assert_eq!(
            (m.entry(), m.http),
            ("mirror-a.harbor.svc:5000/cache".to_string(), true)
        );
        assert!(!mirror("https://mirror").expect("a mirror").http);
        let e = mirror("ftp://mirror").unwrap_err().to_string();
        assert!(
            e.starts_with("\"ftp://mirror\" has the scheme ftp://"),
            "{e}"
        );
        assert!(proxy_cache("docker.io=dockerhub").is_ok());
        assert!(proxy_cache("docker.io").is_err());
        assert!(proxy_cache("docker.io=Docker Hub").is_err());
    }
}
