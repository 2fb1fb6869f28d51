//! What the function must do with a cell and a variant, from Harbor's own rules, not
//! from the function's code:
//!
//! - The realm: goharbor/harbor `src/server/middleware/v2auth/auth.go`. v2.0-v2.1
//!   (`tokenSvcEndpoint`, L115 at v2.1.6): `CORE_URL` when `req.Host` equals its
//!   host[:port] exactly, else `EXT_ENDPOINT`. v2.2-v2.13 (`tokenSvcEndpoint` and
//!   `match`, L119-145 at v2.9.5; commit 413dad98a8): the same with `:80`/`:443`
//!   dropped for http/https on both sides. v2.14+ (`tokenSvcURL`, L118 at v2.15.1;
//!   commit 70306dca0c, #21898): on no match `<EXT_ENDPOINT's scheme>://<Host>`. Then
//!   `/service/token`. Before v2.0 there is no v2auth: the registry answers with its own
//!   `auth.token.realm`, `<externalURL>/service/token` in the chart
//!   (harbor-helm templates/registry/registry-cm.yaml L155 at v1.3.19).
//! - BuildKit's Host header is `spec.registry` as written; an image reference whose
//!   first part has no `.` or `:` and is not `localhost` is a Docker Hub path
//!   (distribution/reference `normalize.go` `splitDockerDomain`).
//! - The names a cell serves: [`super::Facts`] (the chart's templates).
//!
//! The order is the lead's (issue 21's brief, a-k), with one change: a name that reaches
//! nothing (no such Service, a port or scheme the core Service does not serve) is an
//! error even when the realm would already fit, since BuildKit's push fails on it
//! whatever the realm says; the brief's (c) "whatever the name is" is read as "whatever
//! name that reaches Harbor". Where two rules refuse the same name, either code is right
//! and both are listed.

use super::{CoreEnv, Facts, Variant, Version};

/// What the function must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Exit 0, the output byte for byte the input.
    Noop,
    /// Exit 0; harbor-core's and jobservice's `CORE_URL`, where each reads it, this value.
    Patch(String),
    /// Exit non-zero, no output, an error with one of these codes (any code when empty).
    Error(Vec<&'static str>),
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Noop => write!(f, "noop"),
            Decision::Patch(url) => write!(f, "patch CORE_URL={url}"),
            Decision::Error(codes) if codes.is_empty() => write!(f, "error (any code)"),
            Decision::Error(codes) => write!(f, "error {}", codes.join("|")),
        }
    }
}

/// The decision, the warnings that must come with it, and why.
#[derive(Debug, Clone)]
pub struct Expected {
    pub decision: Decision,
    /// Codes that must be among the warnings.
    pub warnings: Vec<&'static str>,
    /// The brief's rule (a-k).
    pub rule: &'static str,
    pub why: String,
}

fn expect(decision: Decision, rule: &'static str, why: impl Into<String>) -> Expected {
    Expected {
        decision,
        warnings: Vec::new(),
        rule,
        why: why.into(),
    }
}

fn error(codes: &[&'static str], rule: &'static str, why: impl Into<String>) -> Expected {
    expect(Decision::Error(codes.to_vec()), rule, why)
}

/// A URL's scheme and host[:port] (no path).
fn split_url(url: &str) -> (&str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    (scheme, rest.split('/').next().unwrap_or_default())
}

/// host and port of `host[:port]`.
fn split_host(hp: &str) -> (&str, Option<u16>) {
    match hp.rsplit_once(':') {
        Some((h, p)) => match p.parse() {
            Ok(p) => (h, Some(p)),
            Err(_) => (hp, None),
        },
        None => (hp, None),
    }
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

/// `host[:port]` without the scheme's default port: what a client connects to.
fn normal(scheme: &str, hp: &str) -> String {
    match split_host(hp) {
        (h, Some(p)) if p == default_port(scheme) => h.to_string(),
        _ => hp.to_string(),
    }
}

/// Harbor's own vectors for `match`: goharbor/harbor v2.15.1
/// src/server/middleware/v2auth/auth_test.go `TestMatch` (request Host, CORE_URL, match).
pub const MATCH_VECTORS: &[(&str, &str, bool)] = &[
    ("abc.com", "http://abc.com", true),
    ("abc.com", "https://abc.com", true),
    ("abc.com:80", "http://abc.com", true),
    ("abc.com:80", "https://abc.com", false),
    ("abc.com:443", "http://abc.com", false),
    ("abc.com:443", "https://abc.com", true),
    ("abcd.com:443", "https://abc.com", false),
    ("abc.com:8443", "https://abc.com:8443", true),
    ("abc.com", "https://abc.com:443", true),
    ("abc.com", "http://abc.com:443", false),
];

/// auth.go `match` (v2.2+): default ports dropped on both sides, then equality.
pub fn matches_v22(host: &str, core_url: &str) -> bool {
    let (scheme, hp) = split_url(core_url);
    normal(scheme, host) == normal(scheme, hp)
}

/// The realm Harbor answers a `Host: registry` with, before any patch; `None` when
/// `CORE_URL` is unknown (a `valueFrom`) and Harbor reads it.
pub fn realm(f: &Facts, registry: &str) -> Option<String> {
    let token = |base: &str| format!("{}/service/token", base.trim_end_matches('/'));
    if f.harbor < Version(2, 0, 0) {
        return Some(token(&f.external_url));
    }
    let core_url = f.core_url()?;
    let matched = if f.harbor < Version(2, 2, 0) {
        split_url(&core_url).1 == registry
    } else {
        matches_v22(registry, &core_url)
    };
    if matched {
        return Some(token(&core_url));
    }
    if f.harbor >= Version(2, 14, 0) {
        return Some(match f.external_url.split_once("://") {
            Some((scheme, _)) => token(&format!("{scheme}://{registry}")),
            None => token(registry),
        });
    }
    Some(token(&f.external_url))
}

/// Whether BuildKit, talking `scheme` to `registry`, can fetch its token from `realm`.
pub fn fits(realm: &str, registry: &str, scheme: &str) -> bool {
    let (rs, rhp) = split_url(realm);
    rs == scheme && normal(rs, rhp) == normal(scheme, registry)
}

/// What `spec.registry` names in a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// harbor-core's Service in Harbor's namespace.
    Core,
    /// `<fullname>-core` in another namespace.
    CoreElsewhere,
    /// nginx's front Service.
    Nginx,
    /// externalURL's host[:port].
    External,
    /// Nothing this release renders.
    Nothing,
}

/// The names Kubernetes DNS gives Service `svc` in `ns` from another namespace.
fn service_names(svc: &str, ns: &str) -> [String; 3] {
    [
        format!("{svc}.{ns}"),
        format!("{svc}.{ns}.svc"),
        format!("{svc}.{ns}.svc.cluster.local"),
    ]
}

pub fn target(f: &Facts, registry: &str) -> Target {
    let (host, _) = split_host(registry);
    let (_, ext) = f.external();
    if service_names(&f.core(), &f.namespace)
        .iter()
        .any(|n| n == host)
    {
        Target::Core
    } else if host
        .strip_prefix(&format!("{}.", f.core()))
        .and_then(|rest| rest.split('.').next())
        .is_some_and(|ns| service_names(&f.core(), ns).iter().any(|n| n == host))
    {
        Target::CoreElsewhere
    } else if registry == ext {
        Target::External
    } else if f.nginx.as_ref().is_some_and(|n| {
        service_names(&n.name, &f.namespace)
            .iter()
            .any(|x| x == host)
    }) {
        Target::Nginx
    } else {
        Target::Nothing
    }
}

/// The decision for `v` on cell facts `f`.
pub fn expected(f: &Facts, v: &Variant) -> Expected {
    let (r, s) = (v.registry.as_str(), v.scheme);
    let (host, port) = split_host(r);
    if !host.contains('.') && port.is_none() && host != "localhost" {
        return error(
            &["HBF107"],
            "a",
            format!("{r} is a Docker Hub path to BuildKit"),
        );
    }
    let realm = realm(f, r);
    let fit = realm.as_deref().is_some_and(|realm| fits(realm, r, s));
    let realm_text = realm
        .clone()
        .unwrap_or_else(|| "unknown (CORE_URL from valueFrom)".into());
    let target = target(f, r);
    let mut warnings = Vec::new();
    if f.harbor < Version(2, 0, 0) {
        if fit {
            return expect(
                Decision::Noop,
                "b",
                format!("Harbor 1.10: registry realm {realm_text} fits"),
            );
        }
        // Harbor 1.10 ignores CORE_URL; a name that also reaches nothing of Harbor's
        // (i, g) may be refused for that first: either reason is a right refusal.
        let mut codes = vec!["HBF210"];
        if let Some(Expected {
            decision: Decision::Error(also),
            ..
        }) = unreachable(f, v, &target, &mut warnings)
        {
            codes.extend(also);
            if codes.len() == 1 {
                // (i) accepts any code: so does this row.
                codes.clear();
            }
        }
        return error(
            &codes,
            "b",
            format!("Harbor 1.10: registry realm {realm_text}; CORE_URL plays no part"),
        );
    }
    if let Some(refused) = unreachable(f, v, &target, &mut warnings) {
        return refused;
    }
    let decided = decide(f, v, &target, fit, &realm_text);
    // An error stops the run: the warnings due on the way need not come with it.
    if matches!(decided.decision, Decision::Error(_)) {
        return decided;
    }
    Expected {
        warnings,
        ..decided
    }
}

/// The refusals that hold whatever the realm: a name that reaches nothing (i), Harbor
/// in another namespace (h), a port or scheme harbor-core does not serve (g), a
/// certificate BuildKit refuses (d). Adds the warnings due on the way.
fn unreachable(
    f: &Facts,
    v: &Variant,
    target: &Target,
    warnings: &mut Vec<&'static str>,
) -> Option<Expected> {
    let (r, s) = (v.registry.as_str(), v.scheme);
    let (host, port) = split_host(r);
    match target {
        Target::Nothing => {
            return Some(error(
                &[],
                "i",
                format!("{r} names no Service this release renders"),
            ));
        }
        Target::CoreElsewhere if f.renders_namespace() => {
            return Some(error(
                &also_certificate(f, v, "HBF218"),
                "h",
                format!("the render puts Harbor in {}", f.namespace),
            ));
        }
        Target::CoreElsewhere if v.harbor_namespace.is_none() => warnings.push("HBF225"),
        _ => {}
    }
    if !matches!(target, Target::Core | Target::CoreElsewhere) {
        return None;
    }
    if s != f.core_scheme() {
        let code = if f.internal_tls && s == "http" {
            "HBF205"
        } else {
            "HBF207"
        };
        return Some(error(
            &[code],
            "g",
            format!("harbor-core serves {} only", f.core_scheme()),
        ));
    }
    if port.is_some_and(|p| p != f.core_port()) {
        return Some(error(
            &also_certificate(f, v, "HBF207"),
            "g",
            format!("the core Service serves port {} only", f.core_port()),
        ));
    }
    if certificate_refused(f, v, host) {
        return Some(error(
            &["HBF209"],
            "d",
            format!(
                "the auto certificate covers {:?} only",
                f.core_certificate_names()
            ),
        ));
    }
    None
}

/// `code`, and `HBF209` when BuildKit would refuse the certificate as well (d).
fn also_certificate(f: &Facts, v: &Variant, code: &'static str) -> Vec<&'static str> {
    let (host, _) = split_host(&v.registry);
    let mut codes = vec![code];
    if certificate_refused(f, v, host) {
        codes.push("HBF209");
    }
    codes
}

/// Internal TLS, https, a host the auto certificate does not cover, no insecureSkipVerify.
fn certificate_refused(f: &Facts, v: &Variant, host: &str) -> bool {
    f.internal_tls
        && v.scheme == "https"
        && !v.insecure_skip_verify
        && !f.core_certificate_names().iter().any(|n| n == host)
}

/// A name that reaches Harbor: noop when the realm fits (c), else the refusals for names
/// CORE_URL must not take (e, f, j), else the patch (k).
fn decide(f: &Facts, v: &Variant, target: &Target, fit: bool, realm: &str) -> Expected {
    let (r, s) = (v.registry.as_str(), v.scheme);
    let value_from = f.core_env == CoreEnv::ValueFrom;
    if fit {
        return expect(Decision::Noop, "c", format!("realm {realm} fits"));
    }
    let wrong_external_scheme = *target == Target::External && s != f.external().0;
    match target {
        _ if wrong_external_scheme && value_from => error(
            &["HBF220", "HBF203"],
            "e",
            "the external host with another scheme; CORE_URL from a valueFrom",
        ),
        _ if wrong_external_scheme => error(
            &["HBF220"],
            "e",
            format!("{r} is served with {} only", f.external().0),
        ),
        Target::Nginx if value_from => error(
            &["HBF206", "HBF203"],
            "f",
            "nginx's Service; CORE_URL from a valueFrom",
        ),
        Target::Nginx => error(&["HBF206"], "f", format!("nginx's Service; realm {realm}")),
        _ if value_from => error(&["HBF203"], "j", "CORE_URL comes from a valueFrom"),
        // Harbor's own clients of CORE_URL check harbor-core's certificate with the
        // internal CA (src/common/http/transport.go), insecureSkipVerify or not.
        Target::Core | Target::CoreElsewhere
            if f.internal_tls
                && !f
                    .core_certificate_names()
                    .iter()
                    .any(|n| n == split_host(r).0) =>
        {
            error(
                &["HBF209"],
                "d",
                format!(
                    "CORE_URL would name {r}, which the auto certificate {:?} does not cover",
                    f.core_certificate_names()
                ),
            )
        }
        _ => expect(
            Decision::Patch(format!("{s}://{r}")),
            "k",
            format!("realm {realm}"),
        ),
    }
}
