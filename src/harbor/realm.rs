//! Harbor's Bearer realm: the token URL Harbor puts in the `Www-Authenticate`
//! challenge it answers BuildKit with, predicted from its configuration.
//!
//! Read from goharbor/harbor `src/server/middleware/v2auth/auth.go` (`getChallenge`,
//! `tokenSvcEndpoint`/`tokenSvcURL`, `match`) at every release since v2.0.0:
//!
//! | Harbor | Host matches `CORE_URL` | otherwise | [`Rule`] |
//! |---|---|---|---|
//! | v2.14.0+ (PR #21898) | `CORE_URL/service/token` | `<scheme of EXT_ENDPOINT>://<Host>/service/token` | [`Rule::RequestHost`] |
//! | v2.2.0–v2.13 (PR #13641) | the same, default ports dropped ([`matches()`]) | `EXT_ENDPOINT/service/token` | [`Rule::ExtEndpoint`] |
//! | v2.0.0–v2.1 (PR #11755) | only `Host == host:port` of `CORE_URL`, exactly | `EXT_ENDPOINT/service/token` | [`Rule::ExactHost`] |
//! | v1.10 and earlier | (not asked: the registry's own config answers) | `externalURL/service/token` | [`Rule::Static`] |
//!
//! buildctl fetches its token from the realm exactly as written (buildkitd.toml does
//! not apply to that request), so a realm whose scheme or host differs from the
//! registry's is the failure this crate exists to prevent. [`super::check`] runs this
//! prediction on manifests; [`crate::doctor`] compares it with a live answer.

use crate::endpoint::split_port;

/// How a Harbor version answers a request whose Host does not match `CORE_URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// v2.14.0 and later: `<scheme of EXT_ENDPOINT>://<request Host>/service/token`
    /// (`<Host>/service/token` when EXT_ENDPOINT has no `://`).
    RequestHost,
    /// v2.2 to v2.13: `EXT_ENDPOINT + "/service/token"`.
    ExtEndpoint,
    /// v2.0 and v2.1: as [`Rule::ExtEndpoint`], but the Host matches only when it is
    /// `CORE_URL`'s host:port exactly (`harbor-core` does not match `http://harbor-core:80`).
    ExactHost,
    /// v1.10 and earlier: harbor-core is not asked; the registry answers with the
    /// realm of its own configuration, `<externalURL>/service/token` in the chart.
    Static,
}

impl Rule {
    /// The rules an unknown version is judged by: those of the versions in support.
    pub(crate) const BOTH: [Rule; 2] = [Rule::RequestHost, Rule::ExtEndpoint];

    /// The Harbor versions that follow this rule, for messages.
    pub(crate) fn versions(self) -> &'static str {
        match self {
            Rule::RequestHost => "Harbor v2.14+",
            Rule::ExtEndpoint => "Harbor v2.2-v2.13",
            Rule::ExactHost => "Harbor v2.0-v2.1",
            Rule::Static => "Harbor v1.10 and earlier",
        }
    }

    /// What this rule does without a match, for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Rule::RequestHost => "takes the scheme of EXT_ENDPOINT with the request's Host",
            Rule::ExtEndpoint => "takes EXT_ENDPOINT whole",
            Rule::ExactHost => {
                "takes EXT_ENDPOINT whole unless the Host is CORE_URL's host:port exactly"
            }
            Rule::Static => {
                "takes the realm from the registry's configuration (externalURL, which the chart also writes to EXT_ENDPOINT), whatever CORE_URL says"
            }
        }
    }

    /// The rule of a Harbor image such as `goharbor/harbor-core:v2.13.1`, with the
    /// version it read. Tags that are not `v<major>.<minor>...` say nothing.
    pub(crate) fn of_image(image: &str) -> Option<(String, Rule)> {
        let name = image.split('@').next().unwrap_or(image);
        let (repo, tag) = name.rsplit_once(':')?;
        if tag.contains('/') || !repo.contains("harbor-core") {
            return None;
        }
        let version = tag.strip_prefix('v').unwrap_or(tag);
        let mut parts = version.split(['.', '-']);
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        let rule = match (major, minor) {
            (0, _) => return None,
            (1, _) => Rule::Static,
            (2, 0 | 1) => Rule::ExactHost,
            (2, 2..=13) => Rule::ExtEndpoint,
            _ => Rule::RequestHost,
        };
        Some((tag.to_string(), rule))
    }
}

/// The settings of harbor-core that decide the realm.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config<'a> {
    pub(crate) core_url: &'a str,
    /// `None` when it is not known (the ConfigMap is not in view).
    pub(crate) ext_endpoint: Option<&'a str>,
    /// The registry's own `auth.token.realm`, which [`Rule::Static`] answers with;
    /// without it, that rule takes `EXT_ENDPOINT` (the chart writes `externalURL` to
    /// both).
    pub(crate) registry_realm: Option<&'a str>,
}

/// What Harbor answers a request with this `Host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Prediction {
    /// The realm URL; `None` when it depends on an `EXT_ENDPOINT` that is not known.
    pub(crate) realm: Option<String>,
    /// Whether the Host matched `CORE_URL`.
    pub(crate) matched: bool,
}

/// The realm Harbor answers a request with `Host: host` under `rule`.
pub(crate) fn predict(host: &str, config: Config, rule: Rule) -> Prediction {
    let core_url = config.core_url.trim_end_matches('/');
    let matched = match rule {
        Rule::RequestHost | Rule::ExtEndpoint => matches(host, core_url),
        // Go: req.Host == coreURL.Host.
        Rule::ExactHost => {
            Url::parse(core_url).is_some_and(|u| !u.authority.is_empty() && u.authority == host)
        }
        Rule::Static => false,
    };
    if matched {
        return Prediction {
            realm: Some(token_url(core_url)),
            matched: true,
        };
    }
    if let (Rule::Static, Some(realm)) = (rule, config.registry_realm) {
        return Prediction {
            realm: Some(realm.to_string()),
            matched: false,
        };
    }
    let realm = config.ext_endpoint.map(|ext| match rule {
        // Go: l := strings.Split(extEp, "://"); with len(l) > 1, l[0] + "://" + req.Host,
        // otherwise req.Host alone.
        Rule::RequestHost => match ext.split_once("://") {
            Some((scheme, _)) => token_url(&format!("{scheme}://{host}")),
            None => token_url(host),
        },
        Rule::ExtEndpoint | Rule::ExactHost | Rule::Static => token_url(ext),
    });
    Prediction {
        realm,
        matched: false,
    }
}

/// `strings.TrimSuffix(ep, "/") + "/service/token"`.
fn token_url(endpoint: &str) -> String {
    format!("{}/service/token", endpoint.trim_end_matches('/'))
}

/// Harbor's `match(ctx, reqHost, rawURL)`: whether a request's `Host` header is the
/// host of `core_url`. A URL without a host never matches; the default port of the
/// URL's scheme is dropped from both sides; the comparison is exact and
/// case-sensitive (no DNS, no lowercasing of hosts; Go lowercases only the scheme).
pub fn matches(req_host: &str, core_url: &str) -> bool {
    let Some(url) = Url::parse(core_url.trim_end_matches('/')) else {
        return false;
    };
    let config_host = url.without_default_port();
    let req_host = url
        .default_port_suffix()
        .and_then(|p| req_host.strip_suffix(p))
        .unwrap_or(req_host);
    !config_host.is_empty() && req_host == config_host
}

/// The parts of an absolute URL that decide where a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url<'a> {
    /// Lowercased, as Go's `url.Parse` does.
    pub(crate) scheme: String,
    /// `host[:port]` as written, without user info.
    pub(crate) authority: &'a str,
}

impl<'a> Url<'a> {
    /// `scheme://authority/...`; `None` without `://` or with an empty scheme.
    pub(crate) fn parse(url: &'a str) -> Option<Url<'a>> {
        let (scheme, rest) = url.split_once("://")?;
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return None;
        }
        // Go's url.Parse: the authority runs to the first '/', '?' or '#'.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        Some(Url {
            scheme: scheme.to_ascii_lowercase(),
            authority,
        })
    }

    /// `:80` for http, `:443` for https.
    pub(crate) fn default_port_suffix(&self) -> Option<&'static str> {
        match self.scheme.as_str() {
            "http" => Some(":80"),
            "https" => Some(":443"),
            _ => None,
        }
    }

    /// The authority with the scheme's default port dropped, as Harbor's match
    /// compares it (`h:80` of an http URL is `h`).
    pub(crate) fn without_default_port(&self) -> &'a str {
        self.default_port_suffix()
            .and_then(|p| self.authority.strip_suffix(p))
            .unwrap_or(self.authority)
    }

    /// The host without its port.
    pub(crate) fn host(&self) -> &'a str {
        split_port(self.authority).0
    }

    /// The port a client connects to: the one written, or the scheme's default.
    pub(crate) fn port(&self) -> Option<u16> {
        match split_port(self.authority).1 {
            Some(p) => p.parse().ok(),
            None => self.default_port_suffix()?[1..].parse().ok(),
        }
    }
}

/// How a realm differs from the registry a client wants, if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// The realm is not an absolute http(s) URL.
    NotAUrl,
    /// `realm scheme`, `registry scheme`.
    Scheme(String, String),
    /// `realm host[:port]`, `registry host[:port]` (default ports aside).
    Host(String, String),
}

/// Compares a realm with the registry `authority` reached over `scheme`: the client
/// (buildctl) fetches the token from the realm as written, so its scheme and host must
/// be the ones it reaches the registry with.
pub(crate) fn compare(realm: &str, scheme: &str, authority: &str) -> Vec<Mismatch> {
    let Some(url) = Url::parse(realm) else {
        return vec![Mismatch::NotAUrl];
    };
    if !matches!(url.scheme.as_str(), "http" | "https") {
        return vec![Mismatch::NotAUrl];
    }
    let mut out = Vec::new();
    if url.scheme != scheme {
        out.push(Mismatch::Scheme(url.scheme.clone(), scheme.to_string()));
    }
    let registry = Url {
        scheme: scheme.to_string(),
        authority,
    };
    // Another host, or the same host on another port (ports compare only when the
    // schemes agree: their defaults differ).
    let other_host = !url.host().eq_ignore_ascii_case(registry.host());
    let other_port = url.scheme == scheme && url.port() != registry.port();
    if other_host || other_port {
        out.push(Mismatch::Host(
            url.authority.to_string(),
            authority.to_string(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Harbor's own vectors, `auth_test.go` `TestMatch`.
    #[test]
    fn upstream_match_vectors() {
        let cases = [
            ("abc.com", "http://abc.com", true),
            ("abc.com", "https://abc.com", true),
            ("abc.com:80", "http://abc.com", true),
            ("abc.com:80", "https://abc.com", false),
            ("abc.com:443", "http://abc.com", false),
            ("abc.com:443", "https://abc.com", true),
            ("abcd.com:443", "https://abc.com", false),
        ];
        for (host, url, want) in cases {
            assert_eq!(matches(host, url), want, "{host} ~ {url}");
        }
    }

    #[test]
    fn the_seed_bug_and_its_fix() {
        let fqdn = "harbor-core.default.svc.cluster.local";
        // The chart's CORE_URL names the bare Service: BuildKit's FQDN does not match.
        assert!(!matches(fqdn, "http://harbor-core:80"));
        assert!(matches(
            fqdn,
            "http://harbor-core.default.svc.cluster.local:80"
        ));
        assert!(matches(
            fqdn,
            "http://harbor-core.default.svc.cluster.local/"
        ));
        assert!(!matches(
            "HARBOR-core.default.svc.cluster.local",
            "http://harbor-core.default.svc.cluster.local"
        ));
        assert!(!matches(fqdn, "not a url"));
        // Go's url.Parse reads `harbor-core:80` as scheme `harbor-core`, no host.
        assert!(!matches("harbor-core:80", "harbor-core:80"));
        // The scheme is case-insensitive in Go's parser.
        assert!(matches("abc.com:80", "HTTP://abc.com"));
    }

    const FQDN: &str = "harbor-core.default.svc.cluster.local";

    fn chart() -> Config<'static> {
        Config {
            core_url: "http://harbor-core:80",
            ext_endpoint: Some("https://harbor.example.com"),
            registry_realm: None,
        }
    }

    #[test]
    fn the_seed_realm_under_both_rules() {
        let v214 = predict(FQDN, chart(), Rule::RequestHost);
        assert!(!v214.matched);
        assert_eq!(
            v214.realm.as_deref(),
            Some("https://harbor-core.default.svc.cluster.local/service/token")
        );
        let v213 = predict(FQDN, chart(), Rule::ExtEndpoint);
        assert_eq!(
            v213.realm.as_deref(),
            Some("https://harbor.example.com/service/token")
        );
    }

    #[test]
    fn a_match_gives_core_url_in_every_version() {
        let config = Config {
            core_url: "http://harbor-core.default.svc.cluster.local:80/",
            ext_endpoint: None,
            registry_realm: None,
        };
        for rule in Rule::BOTH {
            let p = predict(FQDN, config, rule);
            assert!(p.matched);
            // The port stays as written in CORE_URL.
            assert_eq!(
                p.realm.as_deref(),
                Some("http://harbor-core.default.svc.cluster.local:80/service/token")
            );
        }
    }

    #[test]
    fn unknown_ext_endpoint_leaves_the_realm_unknown() {
        let config = Config {
            core_url: "http://harbor-core:80",
            ext_endpoint: None,
            registry_realm: None,
        };
        assert_eq!(predict(FQDN, config, Rule::RequestHost).realm, None);
    }

    /// auth.go@v2.15.2: `if len(l) > 1 { ... } return getURL(req.Host)`: without `://`
    /// the realm is the Host alone, with no scheme.
    #[test]
    fn ext_endpoint_without_scheme_is_taken_as_go_does() {
        let config = Config {
            core_url: "http://harbor-core:80",
            ext_endpoint: Some("harbor.example.com/"),
            registry_realm: None,
        };
        assert_eq!(
            predict("h:5000", config, Rule::RequestHost)
                .realm
                .as_deref(),
            Some("h:5000/service/token")
        );
        assert_eq!(
            predict("h:5000", config, Rule::ExtEndpoint)
                .realm
                .as_deref(),
            Some("harbor.example.com/service/token")
        );
    }

    /// auth.go@v2.1.6: `req.Host == coreURL.Host`, no default-port handling.
    #[test]
    fn harbor_2_0_and_2_1_match_host_and_port_exactly() {
        let chart = Config {
            core_url: "http://harbor-core:80",
            ext_endpoint: Some("https://harbor.example.com"),
            registry_realm: None,
        };
        assert!(!predict("harbor-core", chart, Rule::ExactHost).matched);
        assert!(predict("harbor-core:80", chart, Rule::ExactHost).matched);
        assert!(predict("harbor-core", chart, Rule::ExtEndpoint).matched);
        // v1.10: harbor-core is never asked.
        let p = predict("harbor-core:80", chart, Rule::Static);
        assert!(!p.matched);
        assert_eq!(
            p.realm.as_deref(),
            Some("https://harbor.example.com/service/token")
        );
    }

    #[test]
    fn versions_from_images() {
        let cases = [
            ("goharbor/harbor-core:v2.14.0", Some(Rule::RequestHost)),
            (
                "docker.io/goharbor/harbor-core:v2.13.2",
                Some(Rule::ExtEndpoint),
            ),
            (
                "goharbor/harbor-core:v2.10.0@sha256:abc",
                Some(Rule::ExtEndpoint),
            ),
            (
                "registry:5000/goharbor/harbor-core:v3.0.0",
                Some(Rule::RequestHost),
            ),
            ("goharbor/harbor-core:v2.9.0", Some(Rule::ExtEndpoint)),
            ("goharbor/harbor-core:v2.2.0", Some(Rule::ExtEndpoint)),
            ("goharbor/harbor-core:v2.1.6", Some(Rule::ExactHost)),
            ("goharbor/harbor-core:v1.10.0", Some(Rule::Static)),
            ("goharbor/harbor-core:dev", None),
            ("goharbor/harbor-core", None),
            ("registry:5000/goharbor/harbor-core", None),
            ("nginx:v2.14.0", None),
        ];
        for (image, want) in cases {
            assert_eq!(Rule::of_image(image).map(|(_, r)| r), want, "{image}");
        }
    }

    #[test]
    fn realm_comparison() {
        assert!(compare("http://h:8080/service/token", "http", "h:8080").is_empty());
        assert!(compare("http://h:80/service/token", "http", "h").is_empty());
        assert!(compare("HTTPS://H/service/token", "https", "h:443").is_empty());
        assert_eq!(
            compare("https://h/service/token", "http", "h"),
            vec![Mismatch::Scheme("https".into(), "http".into())]
        );
        assert_eq!(
            compare("http://ext.example.com/service/token", "http", "h"),
            vec![Mismatch::Host("ext.example.com".into(), "h".into())]
        );
        assert_eq!(
            compare("http://h:5001/token", "http", "h:5000"),
            vec![Mismatch::Host("h:5001".into(), "h:5000".into())]
        );
        assert_eq!(
            compare("/service/token", "http", "h"),
            vec![Mismatch::NotAUrl]
        );
    }
}
