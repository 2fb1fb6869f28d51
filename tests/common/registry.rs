//! A real CNCF distribution registry (`docker-registry`, 2.8) on loopback, for tests that
//! probe a registry over HTTP (`doctor`).
//!
//! [`Registry::start`] writes a config into a fresh temp dir, starts the registry on a free
//! 127.0.0.1 port and waits until `/v2/` answers. Three auth modes ([`Auth`]): none,
//! htpasswd (the committed bcrypt line for [`USER`]/[`PASSWORD`] in
//! `tests/fixtures/registry/htpasswd`) and token, where a [`TokenService`] in the test
//! process mints ES256 JWTs that the registry verifies against a self-signed certificate
//! made at start (its `rootcertbundle`). Nothing listens anywhere but 127.0.0.1.
//!
//! [`Registry::start_with`] serves the registry over https (`http.tls`), and the token
//! service too when its realm is `https`, with certificates signed by private CAs made
//! at test time ([`TestCa`]): the set-up of a registry behind a private CA, whose token
//! realm buildctl fetches itself.
//!
//! When the registry binary is missing, `start` prints `SKIPPED: ...` and returns `None`
//! (under CI=true it panics instead, see [`super::require`]).
//! The registry logs (level info; `HARBOR_TEST_REGISTRY_LOG=debug` for more) into
//! `registry.log` in its temp dir; its tail is in every panic message and in
//! [`Registry::log_tail`].
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Value, json};

use super::TempDir;

/// The test user, in the htpasswd fixture and accepted by the token service.
pub const USER: &str = "ci-bot";
/// [`USER`]'s password.
pub const PASSWORD: &str = "s3cret-pa55";
/// The token `service` (the registry's `auth.token.service`, the JWT's `aud`).
pub const SERVICE: &str = "test-registry";
/// The token issuer (the registry's `auth.token.issuer`, the JWT's `iss`).
pub const ISSUER: &str = "test-issuer";

/// How long `start` waits for the registry to answer `/v2/`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times `start` picks another port when the registry could not bind one.
const PORT_ATTEMPTS: usize = 3;
/// Read/write timeout on the token service's accepted sockets.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(5);

/// The registry's auth mode.
#[derive(Clone, Copy, Debug)]
pub enum Auth {
    /// No auth: `/v2/` answers 200.
    None,
    /// `auth.htpasswd` with the fixture line for [`USER`]/[`PASSWORD`].
    Htpasswd,
    /// `auth.token` whose realm is a [`TokenService`] in the test process. The service
    /// always speaks plain HTTP; `realm_scheme` is only the scheme written into the realm
    /// (`"https"` makes a realm that cannot work, on purpose).
    Token { realm_scheme: &'static str },
}

/// A CA made at test time (ECDSA P-256), and the server certificates it signs.
pub struct TestCa {
    /// Its certificate, PEM: what a `ca.crt` holds.
    pub pem: String,
    /// Its subject's common name.
    pub name: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

/// A server certificate for 127.0.0.1 and its key.
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = rcgen::KeyPair::generate().expect("generate the CA key");
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params without SANs");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "harbor-buildkit-fn tests");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 12, 31);
        let cert = params.self_signed(&key).expect("self-sign the CA");
        TestCa {
            pem: cert.pem(),
            name: name.to_string(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// Writes the CA certificate to `path` and returns it.
    pub fn write(&self, path: &Path) -> PathBuf {
        fs::write(path, &self.pem).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path.to_path_buf()
    }

    /// A server certificate for 127.0.0.1 (an IP SAN), for server authentication.
    pub fn server_cert(&self) -> ServerCert {
        self.leaf(&["127.0.0.1"], rcgen::ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A certificate for `names` (DNS names or IP addresses; the first is the common
    /// name) with extended key usage `usage` (server or client authentication), as
    /// BuildKit's examples/kubernetes/create-certs.sh makes the daemon's and the
    /// client's.
    pub fn leaf(&self, names: &[&str], usage: rcgen::ExtendedKeyUsagePurpose) -> ServerCert {
        let key = rcgen::KeyPair::generate().expect("generate a key");
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("certificate params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        params.extended_key_usages = vec![usage];
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 12, 31);
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign the certificate");
        ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

impl ServerCert {
    /// A rustls server configuration that presents this certificate.
    fn rustls_config(&self) -> Arc<rustls::ServerConfig> {
        let cert = rustls::pki_types::CertificateDer::from(self.cert_der.clone());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("the server certificate and key");
        Arc::new(config)
    }
}

/// TLS for [`Registry::start_with`]: the CAs that sign the registry's certificate and
/// the token service's (used when the realm scheme is `https`).
#[derive(Clone, Copy)]
pub struct Tls<'c> {
    pub registry: &'c TestCa,
    pub realm: &'c TestCa,
}

/// A running registry; dropping it kills the process and removes its temp dir.
pub struct Registry {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http`, or `https` when started with [`Tls`].
    pub scheme: &'static str,
    /// The token service, in [`Auth::Token`] mode.
    pub token: Option<TokenService>,
    child: Child,
    // Dropped after `child` is killed (Registry's Drop runs before its fields').
    dir: TempDir,
}

impl Registry {
    /// Starts the registry, or returns `None` (after printing `SKIPPED: ...`) when the
    /// `docker-registry` binary is missing; panics, with the registry's log, when it does
    /// not come up.
    pub fn start(auth: Auth) -> Option<Registry> {
        Registry::start_with(auth, None)
    }

    /// [`Registry::start`] over https when `tls` is given: the registry serves a
    /// certificate signed by `tls.registry` (distribution's `http.tls`), and in
    /// [`Auth::Token`] mode with `realm_scheme: "https"` the token service serves one
    /// signed by `tls.realm`.
    pub fn start_with(auth: Auth, tls: Option<Tls>) -> Option<Registry> {
        let bin = super::tools::docker_registry();
        if !super::require(
            "docker-registry (apt-get install docker-registry)",
            bin.is_some(),
        ) {
            return None;
        }
        let bin = bin.expect("checked above");
        let dir = TempDir::new("registry");

        let token = match (auth, tls) {
            (
                Auth::Token {
                    realm_scheme: "https",
                },
                Some(tls),
            ) => Some(TokenService::start_tls(&tls.realm.server_cert())),
            (Auth::Token { realm_scheme }, _) => Some(TokenService::start(realm_scheme)),
            _ => None,
        };
        let (scheme, tls_yaml, ca_pem) = tls_config(&dir, tls);
        let auth_yaml = auth_config(&dir, &auth, token.as_ref());

        let mut last_log = String::new();
        for attempt in 1..=PORT_ATTEMPTS {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let config = dir.join("config.yml");
            fs::write(&config, registry_config(&dir, &addr, &tls_yaml, &auth_yaml))
                .unwrap_or_else(|e| panic!("write {}: {e}", config.display()));
            let log_path = dir.join("registry.log");
            let log = File::create(&log_path)
                .unwrap_or_else(|e| panic!("create {}: {e}", log_path.display()));
            let log_err = log.try_clone().expect("clone the registry log file handle");
            let mut cmd = Command::new(&bin);
            cmd.arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err);
            // The registry overrides its config from REGISTRY_* variables; keep it hermetic.
            for (k, _) in std::env::vars_os() {
                if k.to_string_lossy().starts_with("REGISTRY_") {
                    cmd.env_remove(&k);
                }
            }
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            match wait_ready(&mut child, scheme, &addr, ca_pem.as_deref(), &log_path) {
                Ready::Up => {
                    return Some(Registry {
                        addr,
                        scheme,
                        token,
                        child,
                        dir,
                    });
                }
                Ready::Exited(status) => {
                    last_log = tail(&log_path);
                    let port_taken = last_log.contains("address already in use");
                    if port_taken && attempt < PORT_ATTEMPTS {
                        continue;
                    }
                    panic!(
                        "docker-registry exited ({status}) before answering on {addr}:\n{last_log}"
                    );
                }
                Ready::TimedOut => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = tail(&log_path);
                    panic!(
                        "docker-registry did not answer GET {scheme}://{addr}/v2/ within {READY_TIMEOUT:?}:\n{log}"
                    );
                }
            }
        }
        panic!(
            "docker-registry could not bind a free port in {PORT_ATTEMPTS} attempts:\n{last_log}"
        )
    }

    /// `http://127.0.0.1:PORT` (`https://` over TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The registry's temp dir (config, storage, log); removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last lines of the registry's log, for assertion messages.
    pub fn log_tail(&self) -> String {
        tail(&self.dir.join("registry.log"))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `dir/config.json` with `{"auths":{registry:{"auth": base64(user:pass)}}}` and
/// returns its path.
pub fn docker_config(dir: &Path, registry: &str, user: &str, password: &str) -> PathBuf {
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let auth = STANDARD.encode(format!("{user}:{password}"));
    let config = json!({ "auths": { registry: { "auth": auth } } });
    let path = dir.join("config.json");
    let text = serde_json::to_string_pretty(&config).expect("a JSON value serializes");
    fs::write(&path, text + "\n").unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// An HTTP client for tests: no proxy (nothing leaves the machine), 4xx/5xx read as
/// responses rather than errors, a global timeout.
pub fn http_agent() -> ureq::Agent {
    agent_trusting(None, Duration::from_secs(10))
}

/// [`http_agent`] that speaks https trusting `ca_pem` (a [`TestCa`]'s) and nothing else.
pub fn https_agent(ca_pem: &str) -> ureq::Agent {
    agent_trusting(Some(ca_pem), Duration::from_secs(10))
}

fn agent_trusting(ca_pem: Option<&str>, timeout: Duration) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(timeout));
    if let Some(pem) = ca_pem {
        let ca = ureq::tls::Certificate::from_pem(pem.as_bytes()).expect("a CA PEM of ours");
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca])))
                .unversioned_rustls_crypto_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .build(),
        );
    }
    config.build().new_agent()
}

fn registry_config(dir: &Path, addr: &str, tls_yaml: &str, auth_yaml: &str) -> String {
    // At least info: readiness waits for the "listening on" line, and the reason a token
    // was refused ("unable to verify token signature: ...") is logged at info only.
    let level = match std::env::var("HARBOR_TEST_REGISTRY_LOG").as_deref() {
        Ok("debug") => "debug",
        _ => "info",
    };
    let storage = dir.join("storage");
    format!(
        "version: 0.1\n\
         log:\n  level: {}\n  formatter: text\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: {addr}\n  secret: {}\n\
         {tls_yaml}\
         {auth_yaml}",
        yaml_str(level),
        yaml_str(&storage.to_string_lossy()),
        yaml_str(&format!("harness-{}", unique_suffix())),
    )
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

enum Ready {
    Up,
    Exited(std::process::ExitStatus),
    TimedOut,
}

/// Waits until our child has logged that it listens on `addr` and `GET /v2/` answers (any
/// HTTP status; over https trusting `ca_pem` only), or the child exits, or time runs
/// out. The log line matters: when another process took the port first, something else
/// may answer on it while our child fails.
fn wait_ready(
    child: &mut Child,
    scheme: &str,
    addr: &str,
    ca_pem: Option<&str>,
    log: &Path,
) -> Ready {
    let agent = agent_trusting(ca_pem, Duration::from_secs(1));
    let url = format!("{scheme}://{addr}/v2/");
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Ready::Exited(status);
        }
        let listening = fs::read_to_string(log)
            .is_ok_and(|text| text.contains(&format!("listening on {addr}")));
        if listening && agent.get(&url).call().is_ok() {
            return Ready::Up;
        }
        if Instant::now() >= deadline {
            return Ready::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last 40 lines of a log file.
fn tail(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(40);
            format!(
                "--- {} (last {} lines)\n{}",
                path.display(),
                lines.len() - start,
                lines[start..].join("\n")
            )
        }
        Err(e) => format!("--- {}: {e}", path.display()),
    }
}

// ---------------------------------------------------------------------------------------
// Token service
// ---------------------------------------------------------------------------------------

/// What one request to the token service carried.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    /// The raw query string (after `?`, still percent-encoded).
    pub query: String,
    /// The raw `Authorization` header, if any.
    pub authorization: Option<String>,
    /// Whether it was `Basic` with [`USER`]:[`PASSWORD`].
    pub basic_ok: bool,
}

/// A tiny token service on 127.0.0.1, on a thread of the test process, over plain HTTP
/// or, from [`TokenService::start_tls`], https. `GET /token` with Basic
/// [`USER`]:[`PASSWORD`] answers 200 with an ES256 JWT granting the requested `scope`s;
/// anything else at `/token` answers 401, other paths 404.
pub struct TokenService {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The realm written into the registry config: `{realm_scheme}://{addr}/token`.
    pub realm: String,
    cert_pem: String,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// The certificate's DER, standard base64 (the JWT's `x5c`).
    cert_b64: String,
}

impl TokenService {
    /// Makes a key and a self-signed certificate, binds 127.0.0.1:0 and serves plain
    /// HTTP; `realm_scheme` is only what the realm says.
    pub fn start(realm_scheme: &'static str) -> TokenService {
        TokenService::serve(realm_scheme, None)
    }

    /// The same over https, presenting `cert`; the realm is `https://...`.
    pub fn start_tls(cert: &ServerCert) -> TokenService {
        TokenService::serve("https", Some(cert.rustls_config()))
    }

    fn serve(realm_scheme: &'static str, tls: Option<Arc<rustls::ServerConfig>>) -> TokenService {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("generate a P-256 key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("load the generated P-256 key");
        let cert_key =
            rcgen::KeyPair::try_from(pkcs8.as_ref()).expect("rcgen reads ring's PKCS#8 P-256 key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .expect("certificate params without SANs");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "test token signer");
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 12, 31);
        let cert = params
            .self_signed(&cert_key)
            .expect("self-sign the token signing certificate");

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the token service");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address")
            .to_string();
        let signer = Arc::new(Signer {
            key,
            rng,
            cert_b64: STANDARD.encode(cert.der()),
        });
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::Builder::new()
                .name("token-service".into())
                .spawn(move || accept_loop(listener, signer, requests, stop, tls))
                .expect("spawn the token service thread")
        };
        TokenService {
            realm: format!("{realm_scheme}://{addr}/token"),
            addr,
            cert_pem: cert.pem(),
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Every request to `/token` so far, in order.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The self-signed certificate (PEM) whose key signs the tokens.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }
}

impl Drop for TokenService {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept(); it sees the flag and returns.
        let _ = TcpStream::connect_timeout(
            &self.addr.parse().expect("our own address parses"),
            Duration::from_secs(1),
        );
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    signer: Arc<Signer>,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    stop: Arc<AtomicBool>,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = conn else { continue };
        let (signer, requests, tls) = (signer.clone(), requests.clone(), tls.clone());
        // Detached: each connection has socket timeouts, so none outlives them for long.
        let _ = std::thread::Builder::new()
            .name("token-conn".into())
            .spawn(move || serve_one(stream, &signer, &requests, tls));
    }
}

/// Reads one request, answers it, closes the connection (over TLS when `tls` is
/// given; a client that refuses the certificate ends the handshake, and nothing is
/// recorded).
fn serve_one(
    stream: TcpStream,
    signer: &Signer,
    requests: &Mutex<Vec<TokenRequest>>,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let _ = stream.set_read_timeout(Some(SOCKET_TIMEOUT));
    let _ = stream.set_write_timeout(Some(SOCKET_TIMEOUT));
    match tls {
        None => {
            let mut stream = stream;
            answer(&mut stream, signer, requests);
            let _ = stream.shutdown(Shutdown::Both);
        }
        Some(config) => {
            let Ok(conn) = rustls::ServerConnection::new(config) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(conn, stream);
            answer(&mut tls, signer, requests);
            tls.conn.send_close_notify();
            let _ = tls.flush();
            let _ = tls.sock.shutdown(Shutdown::Both);
        }
    }
}

fn answer(stream: &mut impl ReadWrite, signer: &Signer, requests: &Mutex<Vec<TokenRequest>>) {
    let Some(head) = read_head(stream) else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_string());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));

    let (status, body) = if path != "/token" {
        (
            "404 Not Found",
            json!({"errors": [{"code": "NOT_FOUND", "message": format!("no {path} here")}]}),
        )
    } else {
        let basic_ok = authorization.as_deref().is_some_and(basic_matches);
        requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(TokenRequest {
                query: query.to_string(),
                authorization: authorization.clone(),
                basic_ok,
            });
        if method != "GET" {
            (
                "405 Method Not Allowed",
                json!({"errors": [{"code": "UNSUPPORTED", "message": "only GET /token"}]}),
            )
        } else if !basic_ok {
            (
                "401 Unauthorized",
                json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
            )
        } else {
            let params = parse_query(query);
            let token = signer.mint(&params);
            let now = unix_now();
            (
                "200 OK",
                json!({
                    "token": token,
                    "access_token": token,
                    "expires_in": 300,
                    "issued_at": rfc3339(now),
                }),
            )
        }
    };
    let body = body.to_string();
    let challenge = if status.starts_with("401") {
        "WWW-Authenticate: Basic realm=\"token\"\r\n"
    } else {
        ""
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{challenge}Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// A connection, plain or TLS.
trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// The request head (up to the blank line), or `None` on timeout, EOF or a huge head.
fn read_head(stream: &mut impl Read) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

fn basic_matches(header: &str) -> bool {
    let Some((scheme, creds)) = header.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("basic")
        && STANDARD
            .decode(creds.trim())
            .is_ok_and(|raw| raw == format!("{USER}:{PASSWORD}").as_bytes())
}

/// Query parameters, percent-decoded, every value of a repeated key kept.
fn parse_query(query: &str) -> BTreeMap<String, Vec<String>> {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params
            .entry(percent_decode(k))
            .or_default()
            .push(percent_decode(v));
    }
    params
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'%' if i + 2 < bytes.len() => hex(bytes[i + 1]).zip(hex(bytes[i + 2])),
            _ => None,
        };
        match (decoded, bytes[i]) {
            (Some((hi, lo)), _) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `repository:library/app:pull,push` -> `{"type":"repository","name":"library/app",
/// "actions":["pull","push"]}`; a `scope` value may hold several scopes separated by spaces.
fn access_entries(scopes: &[String]) -> Vec<Value> {
    scopes
        .iter()
        .flat_map(|s| s.split_whitespace())
        .filter_map(|scope| {
            let (kind, rest) = scope.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
            Some(json!({"type": kind, "name": name, "actions": actions}))
        })
        .collect()
}

impl Signer {
    fn mint(&self, params: &BTreeMap<String, Vec<String>>) -> String {
        static JTI: AtomicU64 = AtomicU64::new(0);
        let now = unix_now();
        let access = access_entries(params.get("scope").map(Vec::as_slice).unwrap_or(&[]));
        let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [self.cert_b64]});
        let claims = json!({
            "iss": ISSUER,
            "sub": USER,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 5,
            "iat": now,
            "jti": format!("jti-{}-{}", std::process::id(), JTI.fetch_add(1, Ordering::Relaxed)),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .expect("ECDSA P-256 signing");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// `2024-01-02T03:04:05Z` for a Unix time (UTC, no leap seconds).
fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The `http.tls` lines of the registry's config (empty over plain HTTP), with the
/// scheme and the CA that verifies it.
fn tls_config(dir: &TempDir, tls: Option<Tls>) -> (&'static str, String, Option<String>) {
    match tls {
        None => ("http", String::new(), None),
        Some(tls) => {
            let cert = tls.registry.server_cert();
            let (cert_path, key_path) = (dir.join("registry.crt"), dir.join("registry.key"));
            for (path, text) in [(&cert_path, &cert.cert_pem), (&key_path, &cert.key_pem)] {
                fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            }
            let yaml = format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                yaml_str(&cert_path.to_string_lossy()),
                yaml_str(&key_path.to_string_lossy())
            );
            ("https", yaml, Some(tls.registry.pem.clone()))
        }
    }
}

/// The `auth:` section of the registry's config for `auth`.
fn auth_config(dir: &TempDir, auth: &Auth, token: Option<&TokenService>) -> String {
    match (auth, token) {
        (Auth::None, _) => String::new(),
        (Auth::Htpasswd, _) => {
            let fixture = super::root().join("tests/fixtures/registry/htpasswd");
            let path = dir.join("htpasswd");
            fs::copy(&fixture, &path).unwrap_or_else(|e| panic!("copy {}: {e}", fixture.display()));
            format!(
                "auth:\n  htpasswd:\n    realm: {SERVICE}\n    path: {}\n",
                yaml_str(&path.to_string_lossy())
            )
        }
        (Auth::Token { .. }, Some(t)) => {
            let bundle = dir.join("root.pem");
            fs::write(&bundle, &t.cert_pem)
                .unwrap_or_else(|e| panic!("write {}: {e}", bundle.display()));
            format!(
                "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                yaml_str(&t.realm),
                yaml_str(&bundle.to_string_lossy())
            )
        }
        (Auth::Token { .. }, None) => unreachable!("token service started above"),
    }
}
