//! `doctor` against hostile registries: scripted servers on 127.0.0.1
//! (`harbor_buildkit_fn::testing::server`) that answer what a broken or malicious
//! registry, token service or proxy may answer, and record what doctor sent them.
//! Where credentials go is read off the servers' logs, not off doctor's words.

mod common;

use std::sync::Arc;

use base64::Engine as _;
use common::TempDir;
use common::bounded::{Finished, run_in};
use common::registry::docker_config;
use harbor_buildkit_fn::testing::server::{Seen, Server, response};

const USER: &str = "robot$ci";
/// A password with characters that %-encoding, JSON and base64 all write differently.
const PASSWORD: &str = "Pa55 w/rd+\"&é";

fn basic() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}

/// The server with `script`, which gets `(port, request)`.
fn server(script: impl Fn(u16, &Seen) -> Vec<u8> + Send + Sync + 'static) -> Server {
    Server::start(Arc::new(script)).unwrap_or_else(|e| panic!("server: {e}"))
}

/// A registry's 401 with `challenge` as its Www-Authenticate.
fn unauthorized(challenge: &str) -> Vec<u8> {
    response(
        "401 Unauthorized",
        &[
            format!("Www-Authenticate: {challenge}"),
            "Docker-Distribution-Api-Version: registry/2.0".into(),
        ],
        r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#,
    )
}

fn token_ok() -> Vec<u8> {
    response("200 OK", &[], r#"{"token":"an-opaque-token-value"}"#)
}

fn registry_ok() -> Vec<u8> {
    response(
        "200 OK",
        &["Docker-Distribution-Api-Version: registry/2.0".into()],
        "{}",
    )
}

/// `doctor REGISTRY --scheme http` with the docker config holding USER:PASSWORD for
/// `REGISTRY`, bounded in time, with no proxy.
fn doctor(registry: &str, more: &[&str]) -> (Finished, TempDir) {
    doctor_over("http", registry, more)
}

fn doctor_over(scheme: &str, registry: &str, more: &[&str]) -> (Finished, TempDir) {
    let home = TempDir::new("doctor-hostile");
    let config = docker_config(&home.join("docker"), registry, USER, PASSWORD);
    let config = config.to_string_lossy().into_owned();
    let mut args = vec![
        "doctor",
        registry,
        "--scheme",
        scheme,
        "--timeout",
        "10",
        "--docker-config",
        &config,
    ];
    args.extend_from_slice(more);
    let home_str = home.to_string_lossy().into_owned();
    let env = [
        ("HOME", home_str.as_str()),
        ("NO_PROXY", "*"),
        ("HTTP_PROXY", ""),
        ("http_proxy", ""),
        ("HTTPS_PROXY", ""),
        ("https_proxy", ""),
        ("ALL_PROXY", ""),
        ("all_proxy", ""),
    ];
    (run_in(&home, &args, None, &env), home)
}

/// No form of the password in what doctor printed.
fn assert_masked(f: &Finished) {
    let out = format!("{}{}", f.stdout, f.stderr);
    let encoded: String = PASSWORD
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    for form in [
        PASSWORD.to_string(),
        encoded.clone(),
        encoded.to_lowercase(),
        encoded.replace("%20", "+"),
        basic(),
        basic()[..basic().len() - 4].to_string(),
        serde_json::to_string(PASSWORD).unwrap_or_default(),
        "Pa55".to_string(),
    ] {
        assert!(!out.contains(&form), "{form:?} printed:\n{out}");
    }
}

/// Whether any request carried the docker config's credentials.
fn credentials_in(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter()
        .filter(|r| r.header("authorization") == Some(&format!("Basic {}", basic())))
        .collect()
}

/// Harbor's realm on another port of the same host: doctor says it does not match the
/// registry, and once sent the Basic credentials there anyway. Now it sends them to
/// no one, and says what buildctl would do.
#[test]
fn a_realm_on_another_port_gets_no_credentials() {
    let elsewhere = server(|_, _| token_ok());
    let realm = format!("http://127.0.0.1:{}/service/token", elsewhere.port);
    let registry = server(move |_, r| {
        if r.header("authorization").is_some() {
            registry_ok()
        } else {
            unauthorized(&format!(
                "Bearer realm=\"{realm}\",service=\"harbor-registry\""
            ))
        }
    });
    let (f, _home) = doctor(&registry.addr(), &[]);
    assert_eq!(f.code, 1, "{}", f.stdout);
    assert!(
        f.stdout.contains("does not match the registry"),
        "{}",
        f.stdout
    );
    assert!(
        credentials_in(&elsewhere.seen()).is_empty(),
        "credentials sent to the realm on another port: {:?}\n{}",
        elsewhere.seen(),
        f.stdout
    );
    assert!(
        f.stdout
            .contains("doctor did not send robot$ci's credentials to this realm"),
        "{}",
        f.stdout
    );
    assert!(
        f.stdout.contains("buildctl would send them"),
        "{}",
        f.stdout
    );
    assert_masked(&f);
}

/// A TLS configuration for 127.0.0.1 with a fresh self-signed certificate, and the
/// certificate's PEM (for --ca-file).
fn tls() -> (Arc<rustls::ServerConfig>, String) {
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap_or_else(|e| panic!("params: {e}"));
    let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("key: {e}"));
    let cert = params
        .self_signed(&key)
        .unwrap_or_else(|e| panic!("certificate: {e}"));
    let der = rustls::pki_types::CertificateDer::from(cert.der().to_vec());
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|b| b.with_no_client_auth().with_single_cert(vec![der], key_der))
    .unwrap_or_else(|e| panic!("tls config: {e}"))
    .unwrap_or_else(|e| panic!("tls cert: {e}"));
    (Arc::new(config), cert.pem())
}

/// An https registry (not Harbor) whose realm is plain http: doctor warns, and once
/// sent the password there in clear. Never from https down to http now.
#[test]
fn an_https_registry_sends_no_credentials_to_an_http_realm() {
    let plain = server(|_, _| token_ok());
    let realm = format!("http://127.0.0.1:{}/token", plain.port);
    let (config, pem) = tls();
    let registry = Server::start_with(
        Arc::new(move |_: u16, _: &Seen| {
            unauthorized(&format!("Bearer realm=\"{realm}\",service=\"registry\""))
        }),
        Some(config),
    )
    .unwrap_or_else(|e| panic!("server: {e}"));
    let home = TempDir::new("doctor-hostile-ca");
    let ca = home.write("ca.pem", &pem);
    let (f, _home) = doctor_over(
        "https",
        &registry.addr(),
        &["--ca-file", &ca.to_string_lossy()],
    );
    assert!(!plain.seen().is_empty(), "the realm was asked, anonymously");
    assert!(
        credentials_in(&plain.seen()).is_empty(),
        "credentials sent from https to http: {:?}\n{}",
        plain.seen(),
        f.stdout
    );
    assert!(
        f.stdout
            .contains("doctor never sends credentials from https down to http"),
        "{}",
        f.stdout
    );
    assert_masked(&f);
}

/// A realm with `user:password@`: refused, never requested, its password masked.
#[test]
fn a_realm_with_user_info_is_refused() {
    let realm_server = server(|_, _| token_ok());
    let realm = format!(
        "http://realm-user:realm-password@127.0.0.1:{}/token",
        realm_server.port
    );
    let registry = server(move |_, _| unauthorized(&format!("Bearer realm=\"{realm}\"")));
    let (f, _home) = doctor(&registry.addr(), &[]);
    assert_eq!(f.code, 1, "{}", f.stdout);
    assert!(realm_server.seen().is_empty(), "{:?}", realm_server.seen());
    assert!(
        f.stdout.contains("carries user info (realm-user:...@)"),
        "{}",
        f.stdout
    );
    assert!(!f.stdout.contains("realm-password"), "{}", f.stdout);
    assert!(
        f.stdout.contains("doctor refuses such a realm"),
        "{}",
        f.stdout
    );
    assert_masked(&f);
}

/// `realm=` twice: BuildKit (containerd's parser) takes the last, and so does doctor,
/// saying so; the first (a host that is not the registry) gets nothing.
#[test]
fn a_repeated_realm_is_read_as_buildkit_reads_it() {
    let decoy = server(|_, _| token_ok());
    let decoy_port = decoy.port;
    let registry = server(move |port, r| {
        if r.path.starts_with("/token") {
            token_ok()
        } else if r.header("authorization").is_some() {
            registry_ok()
        } else {
            unauthorized(&format!(
                "Bearer realm=\"http://127.0.0.1:{decoy_port}/token\",service=\"harbor-registry\",realm=\"http://127.0.0.1:{port}/token\""
            ))
        }
    });
    let (f, _home) = doctor(&registry.addr(), &[]);
    assert_eq!(f.code, 0, "{}", f.stdout);
    assert!(decoy.seen().is_empty(), "{:?}", decoy.seen());
    assert_eq!(
        credentials_in(&registry.seen()).len(),
        1,
        "{:?}",
        registry.seen()
    );
    assert!(
        f.stdout.contains("the challenge gives realm 2 times"),
        "{}",
        f.stdout
    );
    assert!(f.stdout.contains("BuildKit takes the last"), "{}", f.stdout);
    assert_masked(&f);
}

/// `/v2/` redirected to another host (`localhost`, not 127.0.0.1): once a silent
/// PASS; now a warning with what buildctl does with its credentials there.
#[test]
fn a_v2_redirect_to_another_host_is_reported() {
    let other = server(|_, _| registry_ok());
    let to = format!("http://localhost:{}/v2/", other.port);
    let registry = server(move |_, _| response("302 Found", &[format!("Location: {to}")], ""));
    let (f, _home) = doctor(&registry.addr(), &[]);
    assert!(f.stdout.contains("warn 1. GET"), "{}", f.stdout);
    assert!(
        f.stdout.contains("redirected: http://127.0.0.1:"),
        "{}",
        f.stdout
    );
    assert!(
        f.stdout.contains("another host: Go's client"),
        "{}",
        f.stdout
    );
    assert!(
        f.stdout.contains("the registry's /v2/ answers from"),
        "{}",
        f.stdout
    );
    assert_masked(&f);
}

/// A token service that answers 401 echoing the password in every encoding it may
/// use: none of them is printed.
#[test]
fn a_password_echoed_in_any_encoding_is_masked() {
    let registry = server(|port, r| {
        if r.path.starts_with("/token") {
            let encoded: String = PASSWORD.bytes().map(|b| format!("%{b:02x}")).collect();
            let body = format!(
                "bad password {encoded} / {} / {} / {} for {}",
                PASSWORD.replace(' ', "+"),
                serde_json::to_string(PASSWORD).unwrap_or_default(),
                basic(),
                "x".repeat(180)
            );
            response("401 Unauthorized", &[], &body)
        } else {
            unauthorized(&format!(
                "Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"harbor-registry\""
            ))
        }
    });
    let (f, _home) = doctor(&registry.addr(), &[]);
    assert_eq!(f.code, 1, "{}", f.stdout);
    assert_eq!(credentials_in(&registry.seen()).len(), 1);
    assert!(f.stdout.contains("body: bad password ****"), "{}", f.stdout);
    assert_masked(&f);
}

/// A 900 KB token in a header passes (Go reads headers up to 10 MiB), and a header
/// with a control byte gets a message about the header, not "try --scheme https".
#[test]
fn oversized_and_malformed_headers_are_named() {
    let big = "t".repeat(900 << 10);
    let registry = server(move |port, r| {
        if r.path.starts_with("/token") {
            token_ok()
        } else if r.header("authorization").is_some() {
            registry_ok()
        } else {
            unauthorized(&format!(
                "Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"harbor-registry\",state=\"{big}\""
            ))
        }
    });
    let (f, _home) = doctor(&registry.addr(), &[]);
    assert_eq!(f.code, 0, "{}", &f.stdout[..f.stdout.len().min(4000)]);
    assert!(!f.stdout.contains("--scheme https"));
    // The value is shown cut, with its length.
    assert!(
        f.stdout.contains("... (921600 bytes)"),
        "{}",
        &f.stdout[..f.stdout.len().min(4000)]
    );
    assert!(f.stdout.len() < 10_000, "{} bytes printed", f.stdout.len());

    let control = server(|_, _| {
        response(
            "401 Unauthorized",
            &["Www-Authenticate: Bearer realm=\"http://x/\u{1}token\"".into()],
            "",
        )
    });
    let (f, _home) = doctor(&control.addr(), &[]);
    assert_eq!(f.code, 1, "{}", f.stdout);
    assert!(!f.stdout.contains("--scheme https"), "{}", f.stdout);
    assert!(f.stdout.contains("malformed header"), "{}", f.stdout);
    assert!(
        f.stdout
            .contains("Go's HTTP client refuses such an answer too"),
        "{}",
        f.stdout
    );

    let huge = "h".repeat(11 << 20);
    let oversized =
        server(move |_, _| response("401 Unauthorized", &[format!("X-Junk: {huge}")], ""));
    let (f, _home) = doctor(&oversized.addr(), &[]);
    assert_eq!(f.code, 1, "{}", &f.stdout[..f.stdout.len().min(4000)]);
    assert!(!f.stdout.contains("--scheme https"), "{}", f.stdout);
    assert!(f.stdout.contains("larger than 10 MiB"), "{}", f.stdout);
}
