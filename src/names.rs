//! The checks on names: registry hosts, Kubernetes object names, and the other strings
//! that end up in a shell environment, a TOML key or a YAML value.
//!
//! Each returns `Err(reason)` with a sentence that says what is accepted; callers add
//! the field path. The rules are strict on purpose: every value that passes is safe in
//! all three places it can land (Task env, buildkitd.toml, YAML), so no later stage
//! needs its own escaping to be correct.

use crate::endpoint::{Mirror, ProxyCache, Registry};

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
///
/// IPv6 literals are refused with a plain message rather than supported. BuildKit
/// would take one (distribution/reference v0.6 reads `[fd00::1]:5000` as a domain, and
/// `[registry."[fd00::1]:5000"]` is looked up exactly), but Harbor's `match`
/// (`src/server/middleware/v2auth/auth.go`) replaces a `CORE_URL` host with Go's
/// `url.Hostname()` when the port is the default one, which drops the brackets: the
/// Host `[fd00::1]:80` can never match `http://[fd00::1]:80`. Getting that right takes
/// the realm model, the buildkitd.toml checks, the schema's pattern and `doctor` to
/// agree on bracketed hosts, for an address that pods reach by a Service name anyway.
pub fn registry(s: &str) -> Result<Registry, String> {
    if s.is_empty() {
        return Err("is empty; expected the registry host as image references name it, e.g. harbor-core.harbor.svc.cluster.local".into());
    }
    if let Some((scheme, _)) = s.split_once("://") {
        return Err(format!(
            "{s:?} has a scheme ({scheme}://); write only host[:port] as image references name it, and set spec.scheme to {scheme}"
        ));
    }
    if looks_like_ipv6(s) {
        return Err(format!(
            "{s:?} is an IPv6 address; IPv6 literals are not supported: use the registry's DNS name, e.g. its Service name (harbor-core.harbor.svc.cluster.local)"
        ));
    }
    if let Some(c) = s.chars().find(|c| c.is_whitespace()) {
        return Err(format!(
            "{s:?} contains whitespace ({c:?}); expected host[:port]"
        ));
    }
    if s.contains('/') {
        return Err(format!(
            "{s:?} has a path; expected only host[:port] (the repository goes in the image name)"
        ));
    }
    if s.contains('@') {
        return Err(format!(
            "{s:?} has credentials or a digest; expected only host[:port]"
        ));
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
                return Err(format!(
                    "{s:?} has port {p:?}; a port is a number from 1 to 65535 without leading zeros"
                ));
            }
            u16::try_from(n).ok()
        }
    };
    if host.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "{s:?} has uppercase letters; image references name registries in lowercase, and Harbor compares the Host header case-sensitively"
        ));
    }
    if looks_like_ipv4(host) {
        if parse_ipv4(host).is_none() {
            return Err(format!("{host:?} is not a valid IPv4 address"));
        }
    } else {
        dns_name(host, 253).map_err(|e| format!("{host:?} is not a valid host name: {e}"))?;
    }
    Ok(Registry {
        host: host.to_string(),
        port,
    })
}

/// RFC 1123 host name: dot-separated labels of `[a-z0-9-]`, each 1..=63 long, not
/// starting or ending with `-`; at most `max` characters in all.
fn dns_name(s: &str, max: usize) -> Result<(), String> {
    dotted(s, max, Some(63))
}

/// Dot-separated labels of `[a-z0-9-]`, none empty or starting or ending with `-`,
/// each at most `max_label` long (when given); at most `max` characters in all.
fn dotted(s: &str, max: usize, max_label: Option<usize>) -> Result<(), String> {
    if s.len() > max {
        return Err(format!("longer than {max} characters"));
    }
    for label in s.split('.') {
        dns_label_rule(label, max_label, "lowercase letters, digits, '-' and '.'")?;
    }
    Ok(())
}

/// One label: `[a-z0-9-]`, not starting or ending with `-`, at most `max` long.
/// `allowed` says what the whole name may hold, for the message.
fn dns_label_rule(label: &str, max: Option<usize>, allowed: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("has an empty label (two dots in a row, or a leading or trailing dot)".into());
    }
    if let Some(max) = max.filter(|&m| label.len() > m) {
        return Err(format!("label {label:?} is longer than {max} characters"));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("{c:?} is not allowed; use {allowed}"));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!("label {label:?} starts or ends with '-'"));
    }
    Ok(())
}

/// A DNS-1123 label (namespaces, Tekton names): at most 63 characters of `[a-z0-9-]`.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    label_named(s, "a DNS-1123 label")
}

/// [`dns1123_label`], its messages saying what the name is (`what`, "a ...").
fn label_named(s: &str, what: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(
            "is empty; expected a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)"
                .into(),
        );
    }
    if s.contains('.') {
        return Err(format!(
            "{s:?} is not {what}: '.' is not allowed (lowercase letters, digits and '-', at most 63 characters)"
        ));
    }
    dns_label_rule(s, Some(63), "lowercase letters, digits and '-'")
        .map_err(|e| format!("{s:?} is not {what}: {e}"))
}

/// A Tekton resource name (the Task's): Tekton's webhook refuses a name with a `.` or
/// longer than 63 characters (`ValidateObjectMetadata`), so a DNS-1123 label.
pub fn tekton_name(s: &str) -> Result<(), String> {
    label_named(s, "a Tekton resource name (a DNS-1123 label)")
}

/// A DNS-1123 subdomain (ConfigMap, Deployment and most other object names): at most
/// 253 characters of `[a-z0-9-.]`, each dot-separated part starting and ending with a
/// letter or digit. Unlike a host name, a part may be longer than 63 characters
/// (Kubernetes' `IsDNS1123Subdomain` checks only the whole length and the pattern).
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(
            "is empty; expected a Kubernetes object name (a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters)"
                .into(),
        );
    }
    dotted(s, 253, None).map_err(|e| format!("{s:?} is not a valid Kubernetes object name: {e}"))
}

/// A BuildKit daemon address: `tcp://`, `unix://`, `kube-pod://`, `docker-container://`,
/// `podman-container://`, `nerdctl-container://` or `ssh://`, then characters that
/// are safe in a URL and in a shell environment.
pub fn buildkit_host(s: &str) -> Result<(), String> {
    const SCHEMES: &[&str] = &[
        "tcp",
        "unix",
        "kube-pod",
        "docker-container",
        "podman-container",
        "nerdctl-container",
        "ssh",
    ];
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!(
            "{s:?} has no scheme; expected an address such as tcp://buildkitd:1234 ({})",
            SCHEMES.join(", ")
        ));
    };
    if !SCHEMES.contains(&scheme) {
        return Err(format!(
            "{s:?} has scheme {scheme:?}; expected one of {}",
            SCHEMES.join(", ")
        ));
    }
    safe_chars(rest, "._:/@%+=~?&,-")
        .map_err(|e| format!("{s:?}: {e}; expected an address such as tcp://buildkitd:1234"))
}

/// A container image reference: `[registry/]repository[:tag][@digest]`.
pub fn image(s: &str) -> Result<(), String> {
    safe_chars(s, "._:/@-").map_err(|e| format!("{s:?} is not an image reference: {e}"))?;
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) || s.ends_with([':', '/', '@']) {
        return Err(format!("{s:?} is not an image reference"));
    }
    Ok(())
}

/// A repository name as the registry API has it (`project/name`): `/`-separated
/// components of lowercase letters and digits joined by `.`, `_` or `-`.
pub fn repository(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.split('/').all(|c| {
            c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        });
    if ok {
        Ok(())
    } else {
        Err("is not a repository name: lowercase components such as library/app, separated by /, without a registry host or tag".into())
    }
}

/// An absolute file path in the buildkitd container (CA certificates).
pub fn absolute_path(s: &str) -> Result<(), String> {
    if !s.starts_with('/') {
        return Err(format!(
            "{s:?} is not an absolute path; BuildKit reads CA files from the buildkitd container's file system"
        ));
    }
    safe_chars(s, "._/+@-").map_err(|e| format!("{s:?}: {e}"))
}

/// A registry mirror: `[http://|https://]host[:port][/path]`.
pub fn mirror(s: &str) -> Result<Mirror, String> {
    let (http, rest) = if let Some(r) = s.strip_prefix("http://") {
        (true, r)
    } else if let Some(r) = s.strip_prefix("https://") {
        (false, r)
    } else if let Some((scheme, _)) = s.split_once("://") {
        return Err(format!(
            "{s:?} has the scheme {scheme}://; a mirror is [http://|https://]host[:port][/path]: http:// for a plain-HTTP mirror (it gets http = true in its own [registry.\"<mirror host>\"] table), https:// or none for TLS"
        ));
    } else {
        (false, s)
    };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p.trim_end_matches('/')),
        None => (rest, ""),
    };
    let registry = registry(authority)?;
    if !path.is_empty() {
        safe_chars(path, "._/-").map_err(|e| format!("{s:?}: {e}"))?;
    }
    Ok(Mirror {
        authority: registry.authority(),
        path: path.to_string(),
        http,
    })
}

/// Harbor as a proxy cache: `upstream=project`, e.g. `docker.io=dockerhub`.
pub fn proxy_cache(s: &str) -> Result<ProxyCache, String> {
    let Some((upstream, project)) = s.split_once('=') else {
        return Err(format!(
            "{s:?} is not upstream=project; write the upstream registry and the Harbor proxy-cache project, e.g. docker.io=dockerhub"
        ));
    };
    registry(upstream).map_err(|e| format!("upstream {e}"))?;
    if project.contains('/') || repository(project).is_err() {
        return Err(format!(
            "project {project:?} is not a Harbor project name (lowercase letters, digits, '.', '_', '-')"
        ));
    }
    Ok(ProxyCache {
        upstream: upstream.to_string(),
        project: project.to_string(),
    })
}

/// Only ASCII letters, digits and the given punctuation: nothing that a shell, TOML or
/// YAML gives meaning to (quotes, `$`, backticks, `#`, brackets, whitespace).
fn safe_chars(s: &str, punctuation: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || punctuation.contains(*c)))
    {
        Some(c) => Err(format!("{c:?} is not allowed")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries() {
        let r = registry("harbor-core.default.svc.cluster.local").unwrap();
        assert_eq!(r.service(), Some(("harbor-core", "default")));
        assert!(r.is_in_cluster());
        let r = registry("harbor.example.com:8443").unwrap();
        assert_eq!(r.port, Some(8443));
        assert_eq!(r.authority(), "harbor.example.com:8443");
        assert!(!r.is_in_cluster());
        assert!(registry("10.1.2.3:5000").unwrap().is_in_cluster());
        assert!(registry("harbor-core").unwrap().is_in_cluster());
        assert!(!registry("8.8.8.8").unwrap().is_in_cluster());
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
            let e = registry(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    /// IPv6 literals, bracketed as image references write them or bare, get one plain
    /// sentence, not a complaint about a port `1]` or a `[`.
    #[test]
    fn ipv6_literals_are_refused_plainly() {
        for bad in ["fd00::1", "[fd00::1]", "[fd00::1]:5000", "::1", "[::1]:443"] {
            let e = registry(bad).unwrap_err();
            assert_eq!(
                e,
                format!(
                    "{bad:?} is an IPv6 address; IPv6 literals are not supported: use the registry's DNS name, e.g. its Service name (harbor-core.harbor.svc.cluster.local)"
                )
            );
        }
        let e = mirror("[fd00::1]:5000/proxy").unwrap_err();
        assert!(e.contains("IPv6 literals are not supported"), "{e}");
        // Not IPv6: a name with a stray colon is still a port problem.
        assert!(
            registry("harbor:80:90")
                .unwrap_err()
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
            dns1123_label("a_b").unwrap_err(),
            "\"a_b\" is not a DNS-1123 label: '_' is not allowed; use lowercase letters, digits and '-'"
        );
        assert!(
            tekton_name("build.kit")
                .unwrap_err()
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
        assert!(dns1123_label("").unwrap_err().starts_with("is empty;"));
        assert!(dns1123_subdomain("").unwrap_err().starts_with("is empty;"));
        // Host names keep the 63-character label limit.
        assert!(registry(&"a".repeat(64)).is_err());
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
        let e = mirror("ftp://mirror").unwrap_err();
        assert!(
            e.starts_with("\"ftp://mirror\" has the scheme ftp://"),
            "{e}"
        );
        assert!(proxy_cache("docker.io=dockerhub").is_ok());
        assert!(proxy_cache("docker.io").is_err());
        assert!(proxy_cache("docker.io=Docker Hub").is_err());
    }
}
