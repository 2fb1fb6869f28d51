//! HTTP for the probe: one ureq agent with the probe's timeouts and TLS settings,
//! and every way a request can fail turned into a sentence with its likely cause.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};

use super::tls::{Issuer, Refused};
use crate::endpoint::split_port;
use crate::harbor::realm::Url;
use crate::text::visible;

/// A response, read whole (bodies are capped: a registry's answers are small).
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// `(name lowercased, value)`; bytes that are not UTF-8 read as U+FFFD.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// The redirects followed to get it, in order.
    pub(crate) redirects: Vec<Hop>,
}

/// One redirect a request followed: `from` answered `status` with `Location: to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) status: u16,
    pub(crate) from: String,
    pub(crate) to: String,
    /// What became of the request's `Authorization` header on the way to `to`.
    pub(crate) authorization: Carried,
}

/// The `Authorization` header across a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carried {
    /// The request had none (or it was dropped at an earlier hop).
    Nothing,
    /// Sent on: the same host, and not from https to http.
    Kept,
    /// Not sent on; `go_sends`: whether Go's client (buildctl) would have.
    Dropped { go_sends: bool },
}

/// Redirects followed per request: Go's client and containerd's stop after 10
/// (net/http client.go `defaultCheckRedirect`; containerd
/// core/remotes/docker/resolver.go `(*request).do`, "stopped after 10 redirects").
const MAX_REDIRECTS: usize = 10;

/// The most a response's headers may take: Go's HTTP client reads up to 10 MiB
/// (net/http transport.go `maxHeaderResponseSize`), so a registry whose header is
/// larger fails buildctl too, and one that is smaller passes both.
pub(crate) const HEADER_LIMIT: usize = 10 << 20;

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn headers(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

const BODY_LIMIT: u64 = 1 << 20;

/// The most `--ca-file` holds: a bundle of every public CA is about 220 KiB.
pub(crate) const CA_FILE_LIMIT: u64 = 4 << 20;

/// What kind of failure a request met, for the probe to choose its fix by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failed {
    /// No answer in time.
    Timeout,
    /// The host name does not resolve here.
    Unresolvable,
    /// Nothing listens on the port.
    Refused,
    /// An https request to a port that speaks plain HTTP.
    NotTls,
    /// A plain-HTTP request to a port that speaks TLS.
    NotPlainHttp,
    /// The server's certificate is not trusted, and why.
    Untrusted(Distrust),
    /// The answer's headers are more than [`HEADER_LIMIT`], or malformed (a control
    /// byte in a value): Go's client refuses them too.
    BadHeaders,
    /// Anything else.
    Other,
}

/// Why a certificate was refused, for the fix: the name it is for, its validity
/// period, or (anything else) the CA that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Distrust {
    Name,
    Dates,
    Issuer,
}

/// A request that failed: its kind, and a sentence with its likely cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NetError {
    pub(crate) kind: Failed,
    pub(crate) message: String,
    /// For a certificate not trusted: who issued it, the CA to trust.
    pub(crate) issuer: Option<Issuer>,
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How the probe connects.
pub(crate) struct Client {
    agent: ureq::Agent,
    timeout: Duration,
    /// What the certificate verifier noted about the last certificate it refused.
    refused: Arc<Refused>,
}

impl Client {
    /// `ca_file`: PEM roots to trust on top of the system's CA store, as buildctl adds
    /// `--registry-auth-tlscontext ca=` to `x509.SystemCertPool()`
    /// (moby/buildkit session/auth/authprovider/authprovider.go) and the daemon adds
    /// buildkitd.toml's `ca` to it (util/resolver/resolver.go); `insecure`: no
    /// certificate checks at all.
    /// Certificates are checked as Go checks them ([`super::tls`]).
    pub(crate) fn new(
        timeout: Duration,
        ca_file: Option<&Path>,
        insecure: bool,
    ) -> Result<Client, super::tls::SetupError> {
        let roots: Vec<CertificateDer<'static>> = if insecure {
            Vec::new()
        } else if let Some(path) = ca_file {
            let pem = crate::files::read(path, CA_FILE_LIMIT, true).map_err(|error| {
                super::tls::SetupError::CaFile {
                    path: path.to_path_buf(),
                    error,
                }
            })?;
            let certs: Vec<CertificateDer<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => {
                        Some(CertificateDer::from(c.der().to_vec()))
                    }
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(super::tls::SetupError::CaFileEmpty {
                    path: path.to_path_buf(),
                });
            }
            let mut roots = rustls_native_certs::load_native_certs().certs;
            roots.extend(certs);
            roots
        } else {
            rustls_native_certs::load_native_certs().certs
        };
        let refused = Arc::new(Refused::default());
        let tls = super::tls::client_config(roots, insecure, refused.clone())?;
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // Redirects are followed here, one by one ([`Client::get`]), so that each
            // is seen, and the Authorization header goes on by the probe's rule.
            .max_redirects(0)
            // Headers up to Go's bound are read whole (the buffer holds them and
            // a little more, so that a larger head is refused by its size, not cut).
            .max_response_header_size(HEADER_LIMIT)
            .input_buffer_size(HEADER_LIMIT + (64 << 10))
            .user_agent(concat!(
                "harbor-buildkit-fn/",
                env!("CARGO_PKG_VERSION"),
                " doctor"
            ))
            .build();
        // ureq's default chain (a CONNECT proxy when one is set, TCP, then TLS) with
        // the probe's own TLS at the end.
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(TcpConnector::default())
                .chain(super::tls::TlsConnector(tls));
        let agent = ureq::Agent::with_parts(config, connector, DefaultResolver::default());
        Ok(Client {
            agent,
            timeout,
            refused,
        })
    }

    /// `GET url`, with an `Authorization` header when given, following up to
    /// [`MAX_REDIRECTS`] redirects as Go's client does, except that the header goes
    /// on only to the same host, and never from https to plain http (`carried`);
    /// every redirect is in the answer's `redirects`.
    pub(crate) fn get(&self, url: &str, authorization: Option<&str>) -> Result<Answer, NetError> {
        let mut at = url.to_string();
        let mut auth = authorization;
        let mut redirects = Vec::new();
        loop {
            let mut answer = self.get_once(&at, auth)?;
            let location = answer.header("location").map(str::to_string);
            let Some(location) = location.filter(|_| is_redirect(answer.status)) else {
                answer.redirects = redirects;
                return Ok(answer);
            };
            let next = resolve(&at, &location).ok_or_else(|| NetError {
                kind: Failed::Other,
                message: format!(
                    "{} answered {} with Location {}, which is not an http(s) URL: Go's client (buildctl) does not follow it either",
                    origin(&at),
                    answer.status,
                    visible(&location)
                ),
                issuer: None,
            })?;
            if redirects.len() == MAX_REDIRECTS {
                return Err(NetError {
                    kind: Failed::Other,
                    message: format!(
                        "stopped after {MAX_REDIRECTS} redirects, from {url} to {next}: buildctl stops there too (containerd core/remotes/docker/resolver.go: \"stopped after 10 redirects\")"
                    ),
                    issuer: None,
                });
            }
            let carried = match auth {
                None => Carried::Nothing,
                Some(_) if keeps_authorization(url, &next) => Carried::Kept,
                Some(_) => Carried::Dropped {
                    go_sends: go_keeps_authorization(url, &next),
                },
            };
            if !matches!(carried, Carried::Kept) {
                auth = None;
            }
            redirects.push(Hop {
                status: answer.status,
                from: at,
                to: next.clone(),
                authorization: carried,
            });
            at = next;
        }
    }

    /// One `GET`, no redirect followed.
    fn get_once(&self, url: &str, authorization: Option<&str>) -> Result<Answer, NetError> {
        let mut req = self.agent.get(url);
        // Go clients (buildctl) send the port as written, `Host: h:80` for
        // `http://h:80/`, and Harbor's match sees exactly that; ureq would drop a
        // default port. Only then is Host set by hand.
        if let Some(host) = explicit_default_port(url) {
            req = req.header("Host", host);
        }
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        // A note left by an earlier request must not name this one's issuer.
        let _ = self.refused.take();
        let mut resp = req.call().map_err(|e| {
            let issuer = self.refused.take();
            describe(&e, url, self.timeout, issuer)
        })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = String::new();
        let mut bytes = Vec::new();
        if resp
            .body_mut()
            .as_reader()
            .take(BODY_LIMIT)
            .read_to_end(&mut bytes)
            .is_ok()
        {
            body = String::from_utf8_lossy(&bytes).into_owned();
        }
        Ok(Answer {
            status,
            headers,
            body,
            redirects: Vec::new(),
        })
    }
}

/// The statuses Go's client follows (net/http client.go `redirectBehavior`).
fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// `location` read against `base` (RFC 3986 §5.2, for the forms servers send: an
/// absolute URL, `//host/path`, `/path`, or a path relative to `base`'s folder);
/// `None` for a scheme other than http and https.
pub(crate) fn resolve(base: &str, location: &str) -> Option<String> {
    let loc = location.trim();
    if let Some((scheme, _)) = loc.split_once("://") {
        if !scheme.contains(['/', '?', '#']) {
            let scheme = scheme.to_ascii_lowercase();
            return matches!(scheme.as_str(), "http" | "https").then(|| loc.to_string());
        }
    }
    let (scheme, rest) = base.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = &base[..scheme.len() + 3 + end];
    if let Some(r) = loc.strip_prefix("//") {
        return Some(format!("{scheme}://{r}"));
    }
    if loc.starts_with('/') {
        return Some(format!("{origin}{loc}"));
    }
    let path = rest[end..].split(['?', '#']).next().unwrap_or("");
    let folder = path.rfind('/').map_or("/", |i| &path[..=i]);
    Some(format!("{origin}{folder}{loc}"))
}

/// The host name of a URL, lowercased, without port, brackets or user info.
fn host_name(url: &str) -> Option<String> {
    let u = Url::parse(url)?;
    Some(
        u.host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase(),
    )
}

/// Whether the probe sends `Authorization` on from `initial` to `next`: the same host
/// name and port, or the same host name from http up to https; never down to http.
pub(crate) fn keeps_authorization(initial: &str, next: &str) -> bool {
    let (Some(a), Some(b)) = (Url::parse(initial), Url::parse(next)) else {
        return false;
    };
    if host_name(initial) != host_name(next) {
        return false;
    }
    match (a.scheme.as_str(), b.scheme.as_str()) {
        ("https", "http") => false,
        ("http", "https") => true,
        _ => a.port() == b.port(),
    }
}

/// Whether Go's client sends `Authorization` on from `initial` to `next`: when the
/// host name is the same or a subdomain of it, whatever the port and scheme, https to
/// http included (net/http client.go `shouldCopyHeaderOnRedirect`,
/// `isDomainOrSubdomain`).
pub(crate) fn go_keeps_authorization(initial: &str, next: &str) -> bool {
    let (Some(parent), Some(sub)) = (host_name(initial), host_name(next)) else {
        return false;
    };
    if sub == parent {
        return true;
    }
    if sub.contains([':', '%']) {
        return false;
    }
    sub.strip_suffix(parent.as_str())
        .is_some_and(|head| head.ends_with('.'))
}

/// `scheme://host[:port]` of a URL, for messages.
fn origin(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let end = rest.find(['/', '?', '#']).map_or(url.len(), |j| i + 3 + j);
            &url[..end]
        }
        None => url,
    }
}

/// The authority of `url` when it names its scheme's default port (`http://h:80/`).
fn explicit_default_port(url: &str) -> Option<&str> {
    let url = Url::parse(url)?;
    let default = url.default_port_suffix()?;
    url.authority.ends_with(default).then_some(url.authority)
}

fn has_port(url: &str) -> bool {
    Url::parse(url).is_some_and(|u| split_port(u.authority).1.is_some())
}

/// A failed request as a sentence: what happened and what usually causes it.
fn describe(e: &ureq::Error, url: &str, timeout: Duration, issuer: Option<Issuer>) -> NetError {
    let at = origin(url);
    let https = url.starts_with("https://");
    let error = |kind: Failed, message: String| NetError {
        kind,
        message,
        issuer: None,
    };
    let tls_error = |at: &str, detail: &str| tls_error(at, detail, issuer.clone());
    match e {
        ureq::Error::Timeout(_) => error(
            Failed::Timeout,
            format!(
                "no answer from {at} within {}s (timed out): a firewall or NetworkPolicy dropping packets, or a host that is not the registry; try --timeout for a slow link",
                timeout.as_secs()
            ),
        ),
        // std's resolver (getaddrinfo) fails with an io::Error ("failed to lookup
        // address information: Name or service not known"); ureq's own HostNotFound
        // is for a lookup that found no address.
        ureq::Error::HostNotFound | ureq::Error::Io(_) if is_lookup_failure(e) => error(
            Failed::Unresolvable,
            format!(
                "cannot resolve the host of {at}: the name is unknown here (an in-cluster name such as *.svc.cluster.local resolves only inside the cluster: run doctor in a pod, or through kubectl port-forward)"
            ),
        ),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => error(
            Failed::Refused,
            format!(
                "connection refused by {at}: nothing listens on that port{}",
                if has_port(at) {
                    ""
                } else if https {
                    " (an HTTPS URL uses port 443 unless one is given; a plain-HTTP registry wants --scheme http)"
                } else {
                    " (a plain-HTTP URL uses port 80 unless one is given)"
                }
            ),
        ),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => error(
            Failed::Timeout,
            format!(
                "no answer from {at} (timed out): a firewall or NetworkPolicy dropping packets"
            ),
        ),
        ureq::Error::Io(io) if https && io.kind() == std::io::ErrorKind::UnexpectedEof => error(
            Failed::NotTls,
            format!(
                "{at} closed the connection during the TLS handshake: it does not speak TLS on this port, it is probably plain HTTP"
            ),
        ),
        ureq::Error::Io(io) if https && looks_like_tls(&io.to_string()) => {
            tls_error(at, &io.to_string())
        }
        ureq::Error::Io(io) => error(Failed::Other, format!("cannot talk to {at}: {io}")),
        ureq::Error::ConnectionFailed => error(Failed::Other, format!("cannot connect to {at}")),
        ureq::Error::Rustls(tls) => tls_error(at, &tls.to_string()),
        ureq::Error::Tls(msg) => tls_error(at, msg),
        ureq::Error::LargeResponseHeader(_, limit) => error(
            Failed::BadHeaders,
            format!(
                "the headers of {at}'s answer are larger than {} (a token or a cookie that large): Go's HTTP client reads no more either (net/http transport.go maxHeaderResponseSize), so buildctl fails on this answer too; fix the server, or the proxy in front of it, that writes them",
                crate::files::size(*limit as u64)
            ),
        ),
        ureq::Error::Protocol(p) if is_header_error(p) => error(
            Failed::BadHeaders,
            format!(
                "{at} answered with a malformed header ({p}): a control character, or a byte HTTP does not allow in a header; Go's HTTP client refuses such an answer too (net/textproto reader.go readMIMEHeader, validHeaderValueByte: \"malformed MIME header line\"), so buildctl fails here as well; fix the server, or the proxy in front of it, that writes it"
            ),
        ),
        ureq::Error::Protocol(p) if !https => error(
            Failed::NotPlainHttp,
            format!(
                "{at} did not answer in HTTP ({p}): it probably speaks HTTPS on this port; try --scheme https"
            ),
        ),
        other => error(Failed::Other, format!("request to {at} failed: {other}")),
    }
}

/// A parse failure in the headers, not in the status line: the server speaks HTTP,
/// badly. (Only a status line that is not HTTP at all suggests another protocol.) By
/// ureq-proto's words for httparse's errors (`http parse fail: invalid header value`).
fn is_header_error(p: &impl std::fmt::Display) -> bool {
    let what = p.to_string();
    what.contains("header") || what.contains("new line") || what.contains("invalid token")
}

fn is_lookup_failure(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::HostNotFound => true,
        ureq::Error::Io(io) => io
            .to_string()
            .contains("failed to lookup address information"),
        _ => false,
    }
}

fn looks_like_tls(detail: &str) -> bool {
    let lower = detail.to_ascii_lowercase();
    [
        "corrupt message",
        "certificate",
        "tls",
        "handshake",
        "alert",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// A TLS failure, by what rustls said (and, for an untrusted certificate, who issued
/// it, as the verifier noted).
fn tls_error(at: &str, detail: &str, issuer: Option<Issuer>) -> NetError {
    let lower = detail.to_ascii_lowercase();
    if lower.contains("corrupt message")
        || lower.contains("invalidcontenttype")
        || lower.contains("invalid content type")
    {
        NetError {
            kind: Failed::NotTls,
            message: format!(
                "TLS handshake with {at} failed ({detail}): the server does not speak TLS on this port, it is probably plain HTTP"
            ),
            issuer: None,
        }
    } else if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("unknown issuer")
    {
        let by = issuer
            .as_ref()
            .map_or_else(String::new, |i| format!("; it is {i}"));
        // rustls' CertificateError, as ureq words it.
        let why = if detail.contains("NotValidForName") || detail.contains("not valid for name") {
            Distrust::Name
        } else if detail.contains("Expired") || detail.contains("NotValidYet") {
            Distrust::Dates
        } else {
            Distrust::Issuer
        };
        NetError {
            kind: Failed::Untrusted(why),
            message: format!(
                "TLS certificate of {at} is not trusted ({detail}{by}): give its CA with --ca-file, or check the name the certificate is for"
            ),
            issuer,
        }
    } else {
        NetError {
            kind: Failed::Other,
            message: format!("TLS with {at} failed: {detail}"),
            issuer: None,
        }
    }
}
