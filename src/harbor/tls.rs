//! Harbor's internal TLS: whether harbor-core serves https itself, and whether its
//! certificate covers the name BuildKit uses.
//!
//! With the chart's `internalTLS.enabled`, `CORE_URL` is `https://<fullname>-core:443`,
//! the core Service exposes only 443 (`templates/core/core-svc.yaml`) and the container
//! runs with `INTERNAL_TLS_ENABLED=true` (`templates/core/core-dpl.yaml`). The chart's
//! own certificate (`certSource: auto`, `templates/internal/auto-tls.yaml`) is
//! `genSignedCert <fullname>-core (list "127.0.0.1") (list "localhost" <fullname>-core)`:
//! an in-cluster FQDN is not among its names, and BuildKit (Go's crypto/x509, which
//! matches only subjectAltNames) refuses it.

use x509_parser::extensions::GeneralName;

use super::detect::Topology;
use super::routing;
use crate::spec::Spec;

/// Why the input says harbor-core serves https itself, if it does. An https
/// `CORE_URL` says so only when it names harbor-core's own Service (the chart's
/// `https://<fullname>-core:443`): one that names a front, such as the external
/// endpoint set through `core.extraEnvVars`, says how that front is served.
pub(crate) fn evidence(spec: &Spec, topology: &Topology) -> Option<String> {
    if let Some(url) = topology.core_url().value() {
        let core = routing::core_service(spec, topology);
        let names_core = super::realm::Url::parse(url).is_some_and(|u| {
            let (host, _) = crate::endpoint::split_port(u.authority);
            u.scheme == "https" && host.split('.').next() == Some(core)
        });
        if names_core {
            return Some(format!("CORE_URL is {url}"));
        }
    }
    if topology.deployment.as_ref().is_some_and(|d| d.internal_tls) {
        return Some("harbor-core runs with INTERNAL_TLS_ENABLED=true".into());
    }
    if let Some(secret) = &topology.tls_secret {
        return Some(format!(
            "its internal TLS Secret {} is in the input",
            secret.name
        ));
    }
    None
}

/// Where the certificate's names were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// The internal TLS Secret of the input.
    Secret(String),
    /// The chart's auto-generated certificate (the Secret is not in the input).
    ChartDefault,
}

/// The names harbor-core's certificate is for: DNS names and IP addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    pub(crate) names: Vec<String>,
    pub(crate) source: Source,
}

/// Why a certificate's names cannot be read (`detail` is the X.509 reader's own word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unreadable {
    NotPem { detail: String },
    NotX509 { detail: String },
    SubjectAltName { detail: String },
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::NotPem { detail } => {
                write!(f, "tls.crt is not a PEM certificate ({detail})")
            }
            Unreadable::NotX509 { detail } => {
                write!(f, "tls.crt does not parse as X.509 ({detail})")
            }
            Unreadable::SubjectAltName { detail } => {
                write!(f, "its subjectAltName does not parse ({detail})")
            }
        }
    }
}

impl std::error::Error for Unreadable {}

/// The subjectAltNames of the first certificate in `pem`, or why they cannot be read.
pub(crate) fn san_names(pem: &str) -> Result<Vec<String>, Unreadable> {
    let (_, block) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| Unreadable::NotPem {
            detail: e.to_string(),
        })?;
    let cert = block.parse_x509().map_err(|e| Unreadable::NotX509 {
        detail: e.to_string(),
    })?;
    let sans = cert
        .subject_alternative_name()
        .map_err(|e| Unreadable::SubjectAltName {
            detail: e.to_string(),
        })?;
    let mut names = Vec::new();
    for name in sans.iter().flat_map(|s| s.value.general_names.iter()) {
        match name {
            GeneralName::DNSName(d) => names.push(d.to_string()),
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => names.push(
                    bytes
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join("."),
                ),
                16 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(bytes);
                    names.push(std::net::Ipv6Addr::from(a).to_string());
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(names)
}

/// The names of harbor-core's certificate: from the Secret when it is in the input and
/// readable, else the chart's defaults.
pub(crate) fn certificate_names(spec: &Spec, topology: &Topology) -> Result<Names, Unreadable> {
    if let Some(secret) = &topology.tls_secret {
        if let Some(pem) = &secret.certificate {
            return san_names(pem).map(|names| Names {
                names,
                source: Source::Secret(secret.name.clone()),
            });
        }
    }
    let core = routing::core_service(spec, topology).to_string();
    Ok(Names {
        names: vec!["127.0.0.1".into(), "localhost".into(), core],
        source: Source::ChartDefault,
    })
}

/// Whether `host` is among `names` as Go's `VerifyHostname` matches: an IP address
/// against IP names, a DNS name case-insensitively, `*.` matching one left-most label.
pub(crate) fn covers(names: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    names.iter().any(|n| {
        let n = n.trim_end_matches('.').to_ascii_lowercase();
        if is_ip {
            return n == host;
        }
        match n.strip_prefix("*.") {
            Some(rest) => host
                .split_once('.')
                .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
            None => n == host,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_match_as_go_matches_them() {
        let names: Vec<String> = ["harbor-core", "*.harbor.svc", "127.0.0.1", "Localhost"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(covers(&names, "harbor-core"));
        assert!(covers(&names, "localhost"));
        assert!(covers(&names, "core.harbor.svc"));
        assert!(!covers(&names, "a.b.harbor.svc"), "a wildcard is one label");
        assert!(!covers(&names, "harbor-core.harbor.svc.cluster.local"));
        assert!(covers(&names, "127.0.0.1"));
        assert!(!covers(&names, "10.0.0.1"));
    }

    #[test]
    fn names_are_read_from_a_certificate() {
        let params =
            rcgen::CertificateParams::new(vec!["harbor-core".to_string(), "localhost".to_string()])
                .expect("params");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        let names = san_names(&cert.pem()).expect("readable");
        assert_eq!(names, vec!["harbor-core", "localhost"]);
        assert!(san_names("not a certificate").is_err());
    }
}
