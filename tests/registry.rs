//! Proves the registry harness (tests/common/registry.rs) with plain HTTP requests: the
//! real distribution registry comes up in each auth mode, the htpasswd fixture works and
//! the registry accepts the token service's JWTs.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::registry::{Auth, PASSWORD, Registry, SERVICE, USER, http_agent};
use serde_json::Value;

struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn get(url: &str, authorization: Option<&str>) -> Reply {
    let mut req = http_agent().get(url);
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    Reply {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("GET {url}: body: {e}")),
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// Fetches a token from the realm with the right Basic creds; `scope` is already encoded.
fn fetch_token(realm: &str, scope: Option<&str>) -> String {
    let mut url = format!("{realm}?service={SERVICE}");
    if let Some(s) = scope {
        url.push_str("&scope=");
        url.push_str(s);
    }
    let r = get(&url, Some(&basic(USER, PASSWORD)));
    assert_eq!(r.status, 200, "token request {url}: {}", r.body);
    let json: Value = serde_json::from_str(&r.body).expect("token response is JSON");
    assert_eq!(json["token"], json["access_token"], "{json}");
    assert_eq!(json["expires_in"], 300, "{json}");
    assert!(json["issued_at"].as_str().is_some_and(|s| s.ends_with('Z')));
    json["token"]
        .as_str()
        .expect("token response has a string token")
        .to_string()
}

#[test]
fn no_auth_registry_answers_v2() {
    let Some(reg) = Registry::start(Auth::None) else {
        return;
    };
    let r = get(&format!("{}/v2/", reg.url()), None);
    assert_eq!(r.status, 200, "{}\n{}", r.body, reg.log_tail());
    assert_eq!(
        r.header("Docker-Distribution-Api-Version"),
        Some("registry/2.0")
    );
}

#[test]
fn htpasswd_registry_checks_the_fixture_credentials() {
    let Some(reg) = Registry::start(Auth::Htpasswd) else {
        return;
    };
    let url = format!("{}/v2/", reg.url());

    let r = get(&url, None);
    assert_eq!(r.status, 401, "{}", r.body);
    let challenge = r.header("Www-Authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Basic realm="),
        "challenge: {challenge:?}"
    );

    let r = get(&url, Some(&basic(USER, PASSWORD)));
    assert_eq!(r.status, 200, "{}\n{}", r.body, reg.log_tail());

    let r = get(&url, Some(&basic(USER, "wrong-password")));
    assert_eq!(r.status, 401, "{}", r.body);
    let r = get(&url, Some(&basic("someone-else", PASSWORD)));
    assert_eq!(r.status, 401, "{}", r.body);
}

#[test]
fn token_registry_accepts_the_token_services_jwts() {
    let Some(reg) = Registry::start(Auth::Token {
        realm_scheme: "http",
    }) else {
        return;
    };
    let ts = reg.token.as_ref().expect("token mode has a token service");
    assert_eq!(ts.realm, format!("http://{}/token", ts.addr));
    let v2 = format!("{}/v2/", reg.url());

    // The challenge names our realm and service.
    let r = get(&v2, None);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        r.header("Www-Authenticate"),
        Some(format!("Bearer realm=\"{}\",service=\"{SERVICE}\"", ts.realm).as_str())
    );

    // A token without scope opens /v2/: the registry verified our ES256 JWT and x5c.
    let token = fetch_token(&ts.realm, None);
    let r = get(&v2, Some(&format!("Bearer {token}")));
    assert_eq!(r.status, 200, "{}\n{}", r.body, reg.log_tail());

    // A token whose signature does not match is refused: the 200 above was a verification.
    let (signing_input, _) = token.rsplit_once('.').expect("a JWT has three parts");
    let forged = format!("{signing_input}.{}", "A".repeat(86));
    let r = get(&v2, Some(&format!("Bearer {forged}")));
    assert_eq!(r.status, 401, "forged signature: {}", r.body);

    // A repository needs a scoped token: with it, auth passes and the repo is unknown.
    let tags = format!("{}/v2/library/app/tags/list", reg.url());
    let r = get(&tags, Some(&format!("Bearer {token}")));
    assert_eq!(r.status, 401, "unscoped token on {tags}: {}", r.body);
    let challenge = r.header("Www-Authenticate").unwrap_or_default();
    assert!(
        challenge.contains("scope=\"repository:library/app:pull\""),
        "challenge: {challenge:?}"
    );
    let scoped = fetch_token(&ts.realm, Some("repository%3Alibrary%2Fapp%3Apull"));
    let r = get(&tags, Some(&format!("Bearer {scoped}")));
    assert_eq!(r.status, 404, "{}\n{}", r.body, reg.log_tail());
    assert!(r.body.contains("NAME_UNKNOWN"), "{}", r.body);

    // A token for another repository does not open this one.
    let other = fetch_token(&ts.realm, Some("repository:library/other:pull,push"));
    let r = get(&tags, Some(&format!("Bearer {other}")));
    assert_eq!(r.status, 401, "{}", r.body);

    // The token service refuses missing or wrong credentials.
    let r = get(&format!("{}?service={SERVICE}", ts.realm), None);
    assert_eq!(r.status, 401, "{}", r.body);
    let r = get(
        &format!("{}?service={SERVICE}", ts.realm),
        Some(&basic(USER, "nope")),
    );
    assert_eq!(r.status, 401, "{}", r.body);

    // And it recorded every call, in order.
    let reqs = ts.requests();
    let summary: Vec<(bool, bool, &str)> = reqs
        .iter()
        .map(|r| (r.basic_ok, r.authorization.is_some(), r.query.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (true, true, "service=test-registry"),
            (
                true,
                true,
                "service=test-registry&scope=repository%3Alibrary%2Fapp%3Apull"
            ),
            (
                true,
                true,
                "service=test-registry&scope=repository:library/other:pull,push"
            ),
            (false, false, "service=test-registry"),
            (false, true, "service=test-registry"),
        ]
    );
    assert_eq!(
        reqs[0].authorization.as_deref(),
        Some(basic(USER, PASSWORD).as_str())
    );
}

#[test]
fn token_registry_can_advertise_an_https_realm() {
    let Some(reg) = Registry::start(Auth::Token {
        realm_scheme: "https",
    }) else {
        return;
    };
    let ts = reg.token.as_ref().expect("token mode has a token service");
    let r = get(&format!("{}/v2/", reg.url()), None);
    assert_eq!(r.status, 401, "{}", r.body);
    let challenge = r.header("Www-Authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with(&format!("Bearer realm=\"https://{}/token\"", ts.addr)),
        "challenge: {challenge:?}"
    );
    // The service itself still speaks plain HTTP: that is the mismatch doctor must explain.
    assert!(ts.realm.starts_with("https://"));
    let plain = ts.realm.replacen("https://", "http://", 1);
    fetch_token(&plain, None);
}

#[test]
fn docker_config_writes_base64_auth() {
    let dir = common::TempDir::new("dockercfg");
    let path = common::registry::docker_config(&dir, "127.0.0.1:5000", USER, PASSWORD);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read config.json"))
            .expect("config.json is JSON");
    let auth = json["auths"]["127.0.0.1:5000"]["auth"]
        .as_str()
        .expect("auths.<registry>.auth is a string");
    assert_eq!(
        STANDARD.decode(auth).expect("base64"),
        format!("{USER}:{PASSWORD}").as_bytes()
    );
}
