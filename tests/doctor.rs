//! `harbor-buildkit-fn doctor` against real registries on loopback (the CNCF
//! distribution registry 2.8 from Debian's `docker-registry`, started by
//! tests/common/registry.rs with no auth, htpasswd, and token auth with a token
//! service of our own), and against small fake servers for the failures a real
//! registry does not produce (Harbor's challenge, timeouts, non-registries).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use common::registry::{
    Auth, PASSWORD, Registry, SERVICE, TestCa, Tls, USER, docker_config, https_agent,
};

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

impl Run {
    /// The `fix:` line under the step whose title line starts with `step`.
    fn fix_of(&self, step: &str) -> &str {
        let mut lines = self.stdout.lines().skip_while(|l| !l.starts_with(step));
        let _ = lines.next();
        lines
            .take_while(|l| l.starts_with("        "))
            .find_map(|l| l.trim_start().strip_prefix("fix: "))
            .unwrap_or_else(|| panic!("no fix under {step:?} in:\n{}", self.stdout))
    }

    fn has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "expected {needle:?} in:\n{}{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A fresh, empty folder for one test, removed when dropped.
fn scratch() -> common::TempDir {
    common::TempDir::new("doctor")
}

/// Runs `doctor ARGS` with no proxy and no docker config but the one given.
fn doctor(args: &[&str]) -> Run {
    doctor_with_stdin(args, "")
}

fn doctor_with_stdin(args: &[&str], stdin: &str) -> Run {
    doctor_with_env(args, stdin, &[])
}

/// doctor with `env` set on top of a clean environment (no proxies, no DOCKER_CONFIG).
fn doctor_with_env(args: &[&str], stdin: &str, env: &[(&str, &Path)]) -> Run {
    let home = scratch();
    let stdin_file = home.join("stdin");
    std::fs::write(&stdin_file, stdin).unwrap_or_else(|e| panic!("write stdin: {e}"));
    let stdin_file = std::fs::File::open(&stdin_file).unwrap_or_else(|e| panic!("open stdin: {e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_harbor-buildkit-fn"))
        .stdin(stdin_file)
        .arg("doctor")
        .args(args)
        .env("HOME", &home)
        .env_remove("DOCKER_CONFIG")
        .env("NO_PROXY", "*")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("run doctor: {e}"));
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

/// Nothing secret in what doctor printed.
fn assert_masked(run: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !run.stdout.contains(s) && !run.stderr.contains(s),
            "secret {s:?} printed:\n{}{}",
            run.stdout,
            run.stderr
        );
    }
    // No JWT either (they start with base64 of `{"`).
    assert!(
        !run.stdout.contains("eyJ"),
        "a token printed:\n{}",
        run.stdout
    );
}

fn basic_b64(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[test]
fn no_auth_registry_passes() {
    let Some(reg) = Registry::start(Auth::None) else {
        return;
    };
    let run = doctor(&[&reg.addr, "--scheme", "http", "--repository", "library/app"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    run.has("200, the registry asks for no credentials")
        .has("404 NAME_UNKNOWN: accepted")
        .has("PASS");
}

#[test]
fn htpasswd_registry_with_the_right_and_the_wrong_password() {
    let Some(reg) = Registry::start(Auth::Htpasswd) else {
        return;
    };
    let dir = scratch();
    let config = docker_config(&dir, &reg.addr, USER, PASSWORD);
    let config = config.to_string_lossy();
    let run = doctor(&[&reg.addr, "--scheme", "http", "--docker-config", &config]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, reg.log_tail());
    run.has("401 with a Basic challenge")
        .has(&format!("as {USER} (from {config})"))
        .has("200, accepted");
    assert_masked(&run, &[PASSWORD, &basic_b64(USER, PASSWORD)]);

    let wrong = docker_config(&dir.join("wrong"), &reg.addr, USER, "not-the-password");
    let run = doctor(&[
        &reg.addr,
        "--scheme",
        "http",
        "--docker-config",
        &wrong.to_string_lossy(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("401, rejected")
        .has("fix: the registry rejected the credentials")
        .has("FAIL");
    assert_masked(&run, &["not-the-password"]);

    // No docker config at all: anonymous, and nothing to answer Basic with.
    let run = doctor(&[&reg.addr, "--scheme", "http"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("credentials: none")
        .has("no credentials to answer the Basic challenge");
}

#[test]
fn token_registry_passes_end_to_end() {
    let Some(reg) = Registry::start(Auth::Token {
        realm_scheme: "http",
    }) else {
        return;
    };
    let Some(tokens) = reg.token.as_ref() else {
        panic!("a token registry has a token service");
    };
    let dir = scratch();
    let config = docker_config(&dir, &reg.addr, USER, PASSWORD);
    let run = doctor(&[
        &reg.addr,
        "--scheme",
        "http",
        "--docker-config",
        &config.to_string_lossy(),
        "--repository",
        "library/app",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, reg.log_tail());
    run.has(&format!(
        "401 with a Bearer challenge: bearer realm=\"{}\", service=\"{SERVICE}\"",
        tokens.realm
    ))
    .has(&format!(
        "ok   2. realm {} has the registry's scheme (http); its token service is on another host or port",
        tokens.realm
    ))
    .has("200, token issued")
    .has("the token grants: repository library/app [pull,push]")
    // The registry verified the JWT and let the request through to the repository.
    .has("with the token: 404 NAME_UNKNOWN: accepted")
    .has("PASS");
    assert_masked(&run, &[PASSWORD, &basic_b64(USER, PASSWORD)]);

    // The token service saw buildctl's request: the credentials, the service and
    // the scope, encoded.
    let requests = tokens.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].basic_ok, "{requests:?}");
    assert!(
        requests[0].query.contains(&format!("service={SERVICE}"))
            && requests[0]
                .query
                .contains("scope=repository%3Alibrary%2Fapp%3Apull%2Cpush"),
        "{requests:?}"
    );

    // The Task's Secret as kubectl prints it, on stdin.
    let dockerconfigjson = std::fs::read_to_string(&config).unwrap_or_default();
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: harbor-push\n  namespace: ci\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
        base64::engine::general_purpose::STANDARD.encode(dockerconfigjson)
    );
    let run = doctor_with_stdin(
        &[&reg.addr, "--scheme", "http", "--docker-config", "-"],
        &secret,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    run.has(&format!("as {USER} (from stdin)"))
        .has("200, accepted");
    assert_masked(&run, &[PASSWORD, &basic_b64(USER, PASSWORD)]);

    // /v2/ alone, with a token for no repository.
    let run = doctor(&[
        &reg.addr,
        "--scheme",
        "http",
        "--docker-config",
        &config.to_string_lossy(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    run.has("no repository access (enough for /v2/)")
        .has("/v2/ with the token: 200, accepted");
}

#[test]
fn token_registry_rejects_wrong_credentials() {
    let Some(reg) = Registry::start(Auth::Token {
        realm_scheme: "http",
    }) else {
        return;
    };
    let dir = scratch();
    let config = docker_config(&dir, &reg.addr, USER, "wrong-password-123");
    let run = doctor(&[
        &reg.addr,
        "--scheme",
        "http",
        "--docker-config",
        &config.to_string_lossy(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has(&format!("as {USER}"))
        .has(": 401")
        .has(&format!("the token service rejected {USER}'s credentials"))
        .has(&format!("auths[\"{}\"]", reg.addr));
    assert_masked(&run, &["wrong-password-123"]);
}

#[test]
fn token_registry_with_an_https_realm_explains_the_mismatch() {
    let Some(reg) = Registry::start(Auth::Token {
        realm_scheme: "https",
    }) else {
        return;
    };
    let Some(tokens) = reg.token.as_ref() else {
        panic!("a token registry has a token service");
    };
    let dir = scratch();
    let config = docker_config(&dir, &reg.addr, USER, PASSWORD);
    let run = doctor(&[
        &reg.addr,
        "--scheme",
        "http",
        "--docker-config",
        &config.to_string_lossy(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has(&format!(
        "warn 2. realm {} does not match the registry http://{}",
        tokens.realm, reg.addr
    ))
    .has("its scheme is https, the registry's is http")
    .has("buildctl fetches the token from the realm as written")
    // Not Harbor, but the Harbor rule that would produce this is named.
    .has("not Harbor's harbor-registry")
    .has("scheme of EXT_ENDPOINT (v2.14+)")
    .has(&format!(
        "fix: set CORE_URL=http://{0} and TOKEN_SERVICE_URL=http://{0}/service/token",
        reg.addr
    ))
    // The token request then fails the way buildctl's would: TLS to a plain-HTTP server.
    .has("does not speak TLS on this port")
    .has("this is the failure the realm mismatch above predicts");
    assert!(
        tokens.requests().iter().all(|r| !r.basic_ok),
        "credentials must not have reached the token service in clear: {:?}",
        tokens.requests()
    );
    assert_masked(&run, &[PASSWORD, &basic_b64(USER, PASSWORD)]);
}

/// A one-shot HTTP server on loopback: answers every request with `reply` (built from
/// the port), for `n` connections, and returns its address.
fn fake(n: usize, reply: impl Fn(u16) -> String + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(reply(port).as_bytes());
        }
    });
    format!("127.0.0.1:{port}")
}

fn response(status: &str, headers: &[&str], body: &str) -> String {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

#[test]
fn harbor_challenge_with_an_https_realm_names_core_url() {
    // What Harbor v2.14 answers an http client whose Host does not match CORE_URL.
    let addr = fake(1, |port| {
        response(
            "401 Unauthorized",
            &[&format!(
                "Www-Authenticate: Bearer realm=\"https://127.0.0.1:{port}/service/token\",service=\"harbor-registry\""
            )],
            "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
        )
    });
    // No token request is made: the TLS attempt to the fake fails on a closed listener.
    let run = doctor(&[&addr, "--scheme", "http", "--timeout", "3"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("its scheme is https, the registry's is http")
        .has("this is Harbor (service harbor-registry)")
        .has(&format!("Host ({addr}) does not match CORE_URL"))
        .has(&format!("CORE_URL = http://{addr} makes it match"))
        .has("spec.registry");
}

#[test]
fn harbor_challenge_with_the_external_endpoint_names_the_old_rule() {
    let addr = fake(1, |_| {
        response(
            "401 Unauthorized",
            &[
                "Www-Authenticate: Bearer realm=\"https://harbor.example.invalid/service/token\",service=\"harbor-registry\"",
            ],
            "",
        )
    });
    let run = doctor(&[&addr, "--scheme", "http", "--timeout", "3"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("its host is harbor.example.invalid")
        .has("Harbor v2.0-v2.13 answers with EXT_ENDPOINT");
}

/// A loopback server answering each request by its path (`reply(port, path)`), for
/// `n` connections.
fn fake_by_path(n: usize, reply: impl Fn(u16, &str) -> String + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let len = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..len]).into_owned();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let _ = s.write_all(reply(port, &path).as_bytes());
        }
    });
    format!("127.0.0.1:{port}")
}

#[test]
fn a_token_without_the_repository_says_so() {
    // A token service that grants nothing, and a registry that then answers
    // insufficient_scope, as distribution and Harbor do for a missing right.
    let jwt = |access: &str| {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            enc(r#"{"alg":"ES256"}"#),
            enc(&format!(r#"{{"access":{access}}}"#))
        )
    };
    let token = jwt("[]");
    let addr = fake_by_path(3, move |port, path| {
        if path.starts_with("/token") {
            response("200 OK", &[], &format!(r#"{{"token":"{token}"}}"#))
        } else if path.starts_with("/v2/library/app/") {
            response(
                "401 Unauthorized",
                &[&format!(
                    "Www-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"harbor-registry\",scope=\"repository:library/app:pull\",error=\"insufficient_scope\""
                )],
                r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#,
            )
        } else {
            response(
                "401 Unauthorized",
                &[&format!(
                    "Www-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"harbor-registry\""
                )],
                "",
            )
        }
    });
    let run = doctor(&[&addr, "--scheme", "http", "--repository", "library/app"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("ok   2. realm")
        .has("warn 3. GET")
        .has("the token grants: no repository access")
        .has("no push on library/app: buildctl could not push there as anonymous")
        .has("error=\"insufficient_scope\"")
        .has("fix: the token is valid but grants too little");
}

#[test]
fn refused_connections_say_nothing_listens() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1);
    let run = doctor(&[&format!("127.0.0.1:{port}"), "--scheme", "http"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("connection refused")
        .has("nothing listens on that port");
}

#[test]
fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    // Accept and hold the connection, never answering, far longer than --timeout: only
    // the probe's own timeout can end the request (with "timed out"; a server that hung
    // up would read as a closed connection instead). The thread ends with the process.
    std::thread::spawn(move || {
        let conn = listener.accept();
        std::thread::sleep(Duration::from_secs(120));
        drop(conn);
    });
    let run = doctor(&[&addr, "--scheme", "http", "--timeout", "1"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("timed out").has("within 1s");
}

#[test]
fn non_registries_are_named() {
    let addr = fake(1, |_| {
        response(
            "404 Not Found",
            &["Content-Type: text/html"],
            "<html>nginx</html>",
        )
    });
    let run = doctor(&[&addr, "--scheme", "http"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("404, no registry API here")
        .has("<html>nginx</html>");

    // A web server's page is no registry, whatever its status: a FAIL, not a warning
    // and then PASS.
    for (headers, body) in [
        (
            &["Content-Type: text/html"][..],
            "<!doctype html><html><body>Welcome to nginx!</body></html>",
        ),
        (&[][..], "hello"),
    ] {
        let addr = fake(1, move |_| response("200 OK", headers, body));
        let run = doctor(&[&addr, "--scheme", "http"]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        run.has(&format!(
            "FAIL 1. GET http://{addr}/v2/: 200, but not a registry's answer"
        ))
        .has("no Docker-Distribution-Api-Version header and a body that is not JSON")
        .has(&format!(
            "fix: spec.registry ({addr}) must name the registry itself"
        ))
        .has("FAIL: see the fix under each failed step.");
        assert!(!run.stdout.contains("PASS"), "{}", run.stdout);
    }
    // JSON without the header: probably a registry, with a warning.
    let addr = fake(1, |_| {
        response("200 OK", &["Content-Type: application/json"], "{}")
    });
    let run = doctor(&[&addr, "--scheme", "http"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    run.has("warn 1.")
        .has("no Docker-Distribution-Api-Version header");

    let addr = fake(1, |_| response("401 Unauthorized", &[], ""));
    let run = doctor(&[&addr, "--scheme", "http"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("401 without a Www-Authenticate challenge");

    let addr = fake(1, |_| {
        response(
            "401 Unauthorized",
            &["Www-Authenticate: Bearer realm=\"unterminated"],
            "",
        )
    });
    let run = doctor(&[&addr, "--scheme", "http"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("does not parse");

    // Go's answer to plain HTTP on a TLS port.
    let addr = fake(1, |_| {
        response(
            "400 Bad Request",
            &[],
            "Client sent an HTTP request to an HTTPS server.",
        )
    });
    let run = doctor(&[&addr, "--scheme", "http"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("the server speaks HTTPS").has("--scheme https");
}

#[test]
fn https_to_a_plain_http_server_says_so() {
    let Some(reg) = Registry::start(Auth::None) else {
        return;
    };
    let run = doctor(&[&reg.addr, "--scheme", "https"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("does not speak TLS on this port")
        .has("fix: the registry speaks plain HTTP here: use --scheme http");
}

#[test]
fn bad_arguments_are_refused_before_any_request() {
    for (args, needle) in [
        (vec!["https://harbor.example.com"], "has a scheme"),
        (vec!["harbor example"], "REGISTRY"),
        (
            vec!["h:5000", "--repository", "Library/App:latest"],
            "--repository",
        ),
        (vec!["h:5000", "--scheme", "ftp"], "invalid value"),
    ] {
        let run = doctor(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    // A docker config that is not one.
    let dir = scratch();
    let bad = dir.join("config.json");
    let _ = std::fs::write(&bad, "{not json");
    let run = doctor(&[
        "127.0.0.1:1",
        "--scheme",
        "http",
        "--docker-config",
        &bad.to_string_lossy(),
    ]);
    assert_eq!(run.code, 1);
    run.has("is not a docker config (JSON)");
}

/// A TLS server on loopback with a fresh self-signed certificate for 127.0.0.1 that
/// answers every request with a registry's 200; returns its address and the PEM.
fn tls_registry(n: usize) -> (String, String) {
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap_or_else(|e| panic!("params: {e}"));
    tls_registry_with(n, params)
}

/// The same with a certificate made from `params`, self-signed.
fn tls_registry_with(n: usize, params: rcgen::CertificateParams) -> (String, String) {
    use std::sync::Arc;
    let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("key: {e}"));
    let cert = params
        .self_signed(&key)
        .unwrap_or_else(|e| panic!("certificate: {e}"));
    let pem = cert.pem();
    let der = rustls::pki_types::CertificateDer::from(cert.der().to_vec());
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|b| b.with_no_client_auth().with_single_cert(vec![der], key_der))
    .unwrap_or_else(|e| panic!("tls config: {e}"))
    .unwrap_or_else(|e| panic!("tls cert: {e}"));
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(tcp) = stream else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 4096];
            // A client that refuses the certificate ends the handshake here.
            if tls.read(&mut buf).unwrap_or(0) == 0 {
                continue;
            }
            let _ = tls.write_all(
                response(
                    "200 OK",
                    &["Docker-Distribution-Api-Version: registry/2.0"],
                    "{}",
                )
                .as_bytes(),
            );
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (addr, pem)
}

#[test]
fn https_certificates_untrusted_trusted_and_skipped() {
    let (addr, pem) = tls_registry(3);
    let run = doctor(&[&addr, "--scheme", "https"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    // The certificate is its own issuer: the fix says to trust that very certificate.
    run.has("is not trusted")
        .has("it is self-signed: CN=")
        .has("fix: trust the registry's self-signed certificate (CN=")
        .has("itself, as its own CA: --ca-file here; for BuildKit, spec.ca");
    assert!(
        !run.stdout.contains("fix: check that spec.registry"),
        "{}",
        run.stdout
    );

    let dir = scratch();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pem).unwrap_or_else(|e| panic!("write ca: {e}"));
    let run = doctor(&[
        &addr,
        "--scheme",
        "https",
        "--ca-file",
        &ca.to_string_lossy(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    run.has("200, the registry asks for no credentials");

    let run = doctor(&[&addr, "--scheme", "https", "--insecure-skip-verify"]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    // A CA file that holds no certificate is refused before any request.
    let empty = dir.join("empty.pem");
    let _ = std::fs::write(&empty, "not a certificate\n");
    let run = doctor(&[
        &addr,
        "--scheme",
        "https",
        "--ca-file",
        &empty.to_string_lossy(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("holds no PEM certificate");
}

/// What `openssl req -x509` makes by default: a self-signed certificate that is its own
/// CA (CA:TRUE). Given with --ca-file it is trusted, as curl and Go (buildctl) trust
/// it; its name and validity period still count.
#[test]
fn a_self_signed_ca_certificate_given_as_its_own_ca_is_trusted() {
    let dir = scratch();
    let ca_params = |names: &[&str]| {
        let mut p =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap_or_else(|e| panic!("params: {e}"));
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p
    };
    let (addr, pem) = tls_registry_with(2, ca_params(&["127.0.0.1"]));
    assert!(pem.contains("BEGIN CERTIFICATE"));
    let ca = dir.join("self-ca.pem");
    std::fs::write(&ca, &pem).unwrap_or_else(|e| panic!("write ca: {e}"));
    let ca = ca.to_string_lossy().into_owned();
    let run = doctor(&[&addr, "--scheme", "https", "--ca-file", &ca]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    run.has("200, the registry asks for no credentials")
        .has("PASS");
    assert!(!run.stdout.contains("CaUsedAsEndEntity"), "{}", run.stdout);
    // Without it, still untrusted.
    let run = doctor(&[&addr, "--scheme", "https"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("is not trusted");

    // Trusted, but for another name: refused, and the fix is about the name.
    let (addr, pem) = tls_registry_with(1, ca_params(&["registry.example.invalid"]));
    let other = dir.join("other.pem");
    std::fs::write(&other, &pem).unwrap_or_else(|e| panic!("write: {e}"));
    let run = doctor(&[
        &addr,
        "--scheme",
        "https",
        "--ca-file",
        &other.to_string_lossy(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("fix: the certificate is not for this name");

    // Trusted, but expired: refused.
    let mut expired = ca_params(&["127.0.0.1"]);
    expired.not_before = rcgen::date_time_ymd(2000, 1, 1);
    expired.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let (addr, pem) = tls_registry_with(1, expired);
    let old = dir.join("expired.pem");
    std::fs::write(&old, &pem).unwrap_or_else(|e| panic!("write: {e}"));
    let run = doctor(&[
        &addr,
        "--scheme",
        "https",
        "--ca-file",
        &old.to_string_lossy(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("fix: renew the registry's certificate");
}

/// --repository answering 404: Harbor's NOT_FOUND for a repository it does not have
/// yet is accepted; any other 404 fails with a fix line.
#[test]
fn repository_404s_are_explained() {
    let tags_404 = |body: &'static str| {
        fake_by_path(2, move |_, path| {
            if path.starts_with("/v2/library/app/") {
                response("404 Not Found", &["Content-Type: application/json"], body)
            } else {
                response(
                    "200 OK",
                    &["Docker-Distribution-Api-Version: registry/2.0"],
                    "{}",
                )
            }
        })
    };
    let addr = tags_404(
        r#"{"errors":[{"code":"NOT_FOUND","message":"repository library/app not found"}]}"#,
    );
    let run = doctor(&[&addr, "--scheme", "http", "--repository", "library/app"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    run.has("404 NOT_FOUND (Harbor: no such repository yet): accepted");

    let addr = tags_404("<html>404 page not found</html>");
    let run = doctor(&[&addr, "--scheme", "http", "--repository", "library/app"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("404, no such API path")
        .has("fix: the registry has no tags list at this path: check --repository");
}

/// Harbor behind a proxy that rewrote the token service name is still recognised, by
/// its API's ping, and the realm mismatch is then a failure with Harbor's rule.
#[test]
fn harbor_is_recognised_by_its_ping_too() {
    let addr = fake_by_path(2, |port, path| {
        if path == "/api/v2.0/ping" {
            response("200 OK", &["Content-Type: text/plain"], "Pong")
        } else {
            response(
                "401 Unauthorized",
                &[&format!(
                    "Www-Authenticate: Bearer realm=\"https://127.0.0.1:{port}/service/token\",service=\"token-service\""
                )],
                "",
            )
        }
    });
    let run = doctor(&[&addr, "--scheme", "http", "--timeout", "3"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("FAIL 2. realm")
        .has("this is Harbor (GET /api/v2.0/ping answers Pong, as Harbor's API does)")
        .has("fix: set CORE_URL=");

    // Not Harbor: no ping, so a scheme mismatch is a warning that names the service.
    let addr = fake_by_path(2, |port, path| {
        if path == "/api/v2.0/ping" {
            response("404 Not Found", &[], "not found")
        } else {
            response(
                "401 Unauthorized",
                &[&format!(
                    "Www-Authenticate: Bearer realm=\"https://127.0.0.1:{port}/token\",service=\"token-service\""
                )],
                "",
            )
        }
    });
    let run = doctor(&[&addr, "--scheme", "http", "--timeout", "3"]);
    run.has("warn 2. realm")
        .has("the service is \"token-service\", not Harbor's harbor-registry, and /api/v2.0/ping does not answer as Harbor's");
}

/// An in-cluster name that does not resolve here: run the probe in a pod, and how.
#[test]
fn an_unresolvable_cluster_name_says_to_run_in_a_pod() {
    let run = doctor(&[
        "harbor-core.harbor.svc.cluster.local",
        "--scheme",
        "http",
        "--timeout",
        "5",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.has("cannot resolve the host")
        .has(&format!(
            "fix: harbor-core.harbor.svc.cluster.local is a name inside the cluster: run the probe in a pod there, in BuildKit's namespace: kubectl run -n NAMESPACE hbfn-doctor --rm -i --restart=Never --image={} -- doctor harbor-core.harbor.svc.cluster.local --scheme http",
            harbor_buildkit_fn::describe::IMAGE
        ));
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap_or_default();
    assert!(
        readme.contains(&format!(
            "kubectl run -n NAMESPACE hbfn-doctor --rm -i --restart=Never --image={} -- doctor harbor-core.harbor.svc.cluster.local --scheme http",
            harbor_buildkit_fn::describe::IMAGE
        )),
        "README shows the in-pod command"
    );
}

/// Arguments that clap or the name checks used to answer confusingly.
#[test]
fn argument_messages_say_what_is_wrong() {
    let run = doctor(&[""]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: REGISTRY is empty; expected the registry host"),
        "{}",
        run.stderr
    );
    let run = doctor(&["h:5000", "--timeout", "-1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("-1 is not in 1..=600 (seconds)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("-- -1"), "{}", run.stderr);
    let run = doctor(&["h:5000", "--timeout", "601"]);
    assert!(
        run.stderr.contains("601 is not in 1..=600"),
        "{}",
        run.stderr
    );
    for ipv6 in ["fd00::1", "[fd00::1]:5000", "[fd00::1]"] {
        let run = doctor(&[ipv6, "--scheme", "http"]);
        assert_eq!(run.code, 2, "{ipv6}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "error: REGISTRY {ipv6:?} is an IPv6 address; IPv6 literals are not supported: use the registry's DNS name, e.g. its Service name (harbor-core.harbor.svc.cluster.local)\n"
            )
        );
    }
}

// ---------------------------------------------------------------------------------------
// A registry and its token realm behind a private CA: buildctl fetches the token itself,
// so the CA must reach it too (--registry-auth-tlscontext), and doctor's --ca-file
// applies to both requests as that flag and the daemon's `ca` together do.

/// The registry and its realm over https with certificates of one private CA: with
/// that CA's ca.crt every step passes; without it, TLS fails at the first request and
/// the fix names the CA, --ca-file and the Task's registry-ca workspace.
#[test]
fn https_registry_and_realm_behind_a_private_ca_pass_with_its_ca_file() {
    let ca = TestCa::new("hbfn test registry CA");
    let tls = Tls {
        registry: &ca,
        realm: &ca,
    };
    let Some(reg) = Registry::start_with(
        Auth::Token {
            realm_scheme: "https",
        },
        Some(tls),
    ) else {
        return;
    };
    let Some(tokens) = reg.token.as_ref() else {
        panic!("a token registry has a token service");
    };
    assert!(
        tokens.realm.starts_with("https://127.0.0.1:"),
        "{}",
        tokens.realm
    );
    // Both speak TLS with the CA's certificates: a client that trusts that CA alone
    // gets their answers.
    let agent = https_agent(&ca.pem);
    let v2 = agent.get(&format!("{}/v2/", reg.url())).call();
    assert_eq!(
        v2.map(|r| r.status().as_u16()).ok(),
        Some(401),
        "{}",
        reg.log_tail()
    );
    let realm = agent.get(&tokens.realm).call();
    assert_eq!(realm.map(|r| r.status().as_u16()).ok(), Some(401));
    let before = tokens.requests().len();

    let dir = scratch();
    let ca_file = ca.write(&dir.join("ca.crt"));
    let ca_file = ca_file.to_string_lossy();
    let config = docker_config(&dir, &reg.addr, USER, PASSWORD);
    let config = config.to_string_lossy();
    let run = doctor(&[
        &reg.addr,
        "--scheme",
        "https",
        "--ca-file",
        &ca_file,
        "--docker-config",
        &config,
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, reg.log_tail());
    run.has(&format!(
        "ok   1. GET https://{}/v2/: 401 with a Bearer challenge: bearer realm=\"{}\", service=\"{SERVICE}\"",
        reg.addr, tokens.realm
    ))
    .has(&format!(
        "ok   2. realm {} has the registry's scheme (https)",
        tokens.realm
    ))
    .has(&format!(
        "ok   3. GET {}?service={SERVICE} as {USER} (from {config}): 200, token issued",
        tokens.realm
    ))
    .has(&format!(
        "ok   4. GET https://{}/v2/ with the token: 200, accepted",
        reg.addr
    ))
    .has("PASS");
    assert_masked(&run, &[PASSWORD, &basic_b64(USER, PASSWORD)]);
    // The token came from the https realm, asked for with the credentials.
    let requests = tokens.requests();
    assert_eq!(requests.len(), before + 1, "{requests:?}");
    assert!(requests[before].basic_ok, "{requests:?}");

    // Without the CA: the registry's certificate is not trusted (the system's roots do
    // not hold a CA made a moment ago), and the fix says which CA and where it goes.
    let run = doctor(&[&reg.addr, "--scheme", "https", "--docker-config", &config]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let step1 = format!("FAIL 1. GET https://{}/v2/", reg.addr);
    run.has(&step1)
        .has("is not trusted")
        .has(&format!("it is issued by CN={}", ca.name));
    let fix = run.fix_of(&step1);
    for phrase in [
        format!(
            "trust the CA that issued the registry's certificate (CN={}",
            ca.name
        ),
        "--ca-file here".to_string(),
        "spec.ca (its path in the buildkitd container) for the daemon".to_string(),
        "the Task's registry-ca workspace for buildctl, which fetches its tokens itself"
            .to_string(),
        format!("--registry-auth-tlscontext host={},ca=<ca.crt>", reg.addr),
    ] {
        assert!(fix.contains(&phrase), "the fix lacks {phrase:?}: {fix}");
    }
    assert_eq!(
        tokens.requests().len(),
        before + 1,
        "nothing more reached the realm"
    );
    assert_masked(&run, &[PASSWORD, &basic_b64(USER, PASSWORD)]);
}

/// The realm behind another private CA than the registry: with the registry's CA only,
/// /v2/ passes and the token fetch fails at TLS (before any credentials are sent), with
/// a fix for buildctl's own fetch; with both CAs in the --ca-file, every step passes,
/// so --ca-file reaches the realm's request, as --registry-auth-tlscontext does.
#[test]
fn a_realm_behind_another_private_ca_needs_that_ca_for_the_token() {
    let registry_ca = TestCa::new("hbfn registry CA");
    let realm_ca = TestCa::new("hbfn token service CA");
    let Some(reg) = Registry::start_with(
        Auth::Token {
            realm_scheme: "https",
        },
        Some(Tls {
            registry: &registry_ca,
            realm: &realm_ca,
        }),
    ) else {
        return;
    };
    let Some(tokens) = reg.token.as_ref() else {
        panic!("a token registry has a token service");
    };
    let dir = scratch();
    let registry_only = registry_ca.write(&dir.join("registry-ca.crt"));
    let config = docker_config(&dir, &reg.addr, USER, PASSWORD);
    let config = config.to_string_lossy();
    let probe = |ca_file: &Path, env: &[(&str, &Path)]| {
        let ca_file = ca_file.to_string_lossy();
        doctor_with_env(
            &[
                &reg.addr,
                "--scheme",
                "https",
                "--ca-file",
                &ca_file,
                "--docker-config",
                &config,
                "--repository",
                "library/app",
            ],
            "",
            env,
        )
    };
    let run = probe(&registry_only, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let step3 = format!("FAIL 3. GET {}?service={SERVICE}", tokens.realm);
    run.has(&format!("ok   1. GET https://{}/v2/: 401 with a Bearer challenge", reg.addr))
        .has(&format!("ok   2. realm {}", tokens.realm))
        .has(&step3)
        .has("is not trusted")
        .has(&format!("it is issued by CN={}", realm_ca.name))
        .has("buildctl fetches this token itself, outside the daemon: the daemon's CA (spec.ca) does not reach this request");
    let fix = run.fix_of(&step3);
    for phrase in [
        format!(
            "trust the CA that issued the token service's certificate (CN={}",
            realm_ca.name
        ),
        "--ca-file here (one file may hold the registry's CA and this one)".to_string(),
        "the Task's registry-ca workspace for buildctl".to_string(),
        format!("--registry-auth-tlscontext host={},ca=<ca.crt>", reg.addr),
    ] {
        assert!(fix.contains(&phrase), "the fix lacks {phrase:?}: {fix}");
    }
    assert!(
        tokens.requests().is_empty(),
        "the handshake failed: no request, and no credentials, reached the realm: {:?}",
        tokens.requests()
    );
    assert_masked(&run, &[PASSWORD, &basic_b64(USER, PASSWORD)]);

    // Both CAs in one file: the realm's request trusts it too.
    let bundle = dir.join("ca-bundle.crt");
    std::fs::write(&bundle, format!("{}{}", registry_ca.pem, realm_ca.pem))
        .unwrap_or_else(|e| panic!("write the bundle: {e}"));
    let run = probe(&bundle, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, reg.log_tail());
    run.has("200, token issued")
        .has("the token grants: repository library/app [pull,push]")
        .has("with the token: 404 NAME_UNKNOWN: accepted")
        .has("PASS");
    let requests = tokens.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].basic_ok, "{requests:?}");

    // The realm's CA in the system's store (SSL_CERT_FILE, which the store honours) and
    // only the registry's in --ca-file: buildctl adds its `ca=` files to
    // x509.SystemCertPool() (moby/buildkit session/auth/authprovider/authprovider.go),
    // so the realm is trusted, and doctor must agree.
    let system_roots = realm_ca.write(&dir.join("system-roots.crt"));
    let run = probe(&registry_only, &[("SSL_CERT_FILE", &system_roots)]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, reg.log_tail());
    run.has("200, token issued").has("PASS");
    assert_eq!(tokens.requests().len(), 2, "{:?}", tokens.requests());
}
