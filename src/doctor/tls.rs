//! TLS for the probe: certificates checked the way buildctl (Go) checks them.
//!
//! rustls' verifier (webpki) refuses a certificate with `CA:TRUE` as a server's own
//! certificate (`CaUsedAsEndEntity`), even one the user trusts with `--ca-file`. That
//! is what `openssl req -x509` makes by default: a self-signed certificate that is its
//! own CA, which a small registry often serves. Go accepts it, and so do curl and
//! buildctl: in `crypto/x509`, `Certificate.Verify` first checks the certificate itself
//! (`isValid`: its validity period, unhandled critical extensions), and when the pool
//! of roots contains the very certificate (`opts.Roots.contains(c)`), the chain is that
//! certificate alone, with no CA/end-entity distinction; `crypto/tls` checks the host
//! name (`VerifyHostname`). `GoLikeVerifier` does the same: webpki first, and when
//! webpki refuses a server certificate byte for byte equal to a trusted root, that
//! certificate is accepted if it is for the name asked for and valid now. Nothing else
//! is relaxed: a CA:TRUE certificate that is not itself trusted is still refused.
//!
//! ureq 3 takes no custom rustls verifier in its TLS settings, so [`TlsConnector`]
//! wraps its connections in rustls itself (ureq's `unversioned` transport API; the
//! version is pinned in Cargo.lock).

use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme, StreamOwned,
};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// Who issued a server certificate the probe refused: the CA to trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Issuer {
    /// Signed by a CA: its distinguished name (`CN=..., O=...`).
    By(String),
    /// Its own issuer: its distinguished name.
    SelfSigned(String),
}

impl std::fmt::Display for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Issuer::By(dn) => write!(f, "issued by {dn}"),
            Issuer::SelfSigned(dn) => write!(f, "self-signed: {dn}"),
        }
    }
}

impl Issuer {
    /// Who issued a DER certificate; `None` when it does not parse.
    pub(crate) fn of(der: &[u8]) -> Option<Issuer> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let issuer = cert.issuer().to_string();
        let subject = cert.subject().to_string();
        Some(if issuer == subject {
            Issuer::SelfSigned(subject)
        } else {
            Issuer::By(issuer)
        })
    }
}

/// The issuer of the last server certificate the verifier refused, for the message and
/// the fix (which name the CA to trust): rustls' error says only `UnknownIssuer`, the
/// verifier sees the certificate.
#[derive(Debug, Default)]
pub(crate) struct Refused(Mutex<Option<Issuer>>);

impl Refused {
    /// The last refusal's issuer, cleared.
    pub(crate) fn take(&self) -> Option<Issuer> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    fn set(&self, issuer: Option<Issuer>) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = issuer;
    }
}

/// Why the probe's TLS cannot be set up.
#[derive(Debug)]
pub(crate) enum SetupError {
    CaFile {
        path: std::path::PathBuf,
        error: crate::files::ReadError,
    },
    CaFileEmpty {
        path: std::path::PathBuf,
    },
    NoRoots,
    /// rustls refused its own settings (`detail`, its message).
    Verifier {
        detail: String,
    },
    Tls {
        detail: String,
    },
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::CaFile { path, error } => {
                write!(
                    f,
                    "cannot read --ca-file {}: {error}",
                    crate::text::visible(&path.display().to_string())
                )
            }
            SetupError::CaFileEmpty { path } => {
                write!(
                    f,
                    "--ca-file {} holds no PEM certificate",
                    crate::text::visible(&path.display().to_string())
                )
            }
            SetupError::NoRoots => f.write_str(
                "no usable CA certificate to trust (the system's CA store is empty, or none of its certificates parse); give one with --ca-file",
            ),
            SetupError::Verifier { detail } => {
                write!(f, "cannot set up certificate checks: {detail}")
            }
            SetupError::Tls { detail } => write!(f, "cannot set up TLS: {detail}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// The rustls settings of the probe: `roots` to trust (the system's, and the
/// `--ca-file` certificates), or no verification at all. A refused certificate's issuer is noted
/// in `refused`.
pub(crate) fn client_config(
    roots: Vec<CertificateDer<'static>>,
    insecure: bool,
    refused: Arc<Refused>,
) -> Result<Arc<ClientConfig>, SetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let check = if insecure {
        None
    } else {
        let mut store = RootCertStore::empty();
        // Certificates the store cannot read are skipped, as Go does with the system's.
        let (added, _) = store.add_parsable_certificates(roots.iter().cloned());
        if added == 0 {
            return Err(SetupError::NoRoots);
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
            .build()
            .map_err(|e| SetupError::Verifier {
                detail: e.to_string(),
            })?;
        Some(GoLikeCheck {
            webpki,
            roots,
            refused,
        })
    };
    let verifier = Arc::new(Verifier {
        algorithms: provider.signature_verification_algorithms,
        check,
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::Tls {
            detail: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The probe's certificate checks: Go's ([`GoLikeCheck`]), or none at all for
/// `--insecure-skip-verify`. The handshake's signatures are checked against the
/// certificate presented either way (as Go's InsecureSkipVerify does), with the
/// algorithms webpki uses.
#[derive(Debug)]
struct Verifier {
    algorithms: WebPkiSupportedAlgorithms,
    check: Option<GoLikeCheck>,
}

/// webpki, and Go's rule for a server certificate that is itself a trusted root.
#[derive(Debug)]
struct GoLikeCheck {
    webpki: Arc<WebPkiServerVerifier>,
    roots: Vec<CertificateDer<'static>>,
    refused: Arc<Refused>,
}

impl GoLikeCheck {
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !self.roots.iter().any(|r| r.as_ref() == end_entity.as_ref()) {
            self.refused.set(Issuer::of(end_entity.as_ref()));
            return Err(refused);
        }
        // The certificate is a trusted root itself: Go's chain of one. Its name and
        // validity period still count.
        let parsed = ParsedCertificate::try_from(end_entity)?;
        verify_server_name(&parsed, server_name)?;
        let (not_before, not_after) = validity(end_entity.as_ref()).ok_or(
            rustls::Error::InvalidCertificate(CertificateError::BadEncoding),
        )?;
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now < not_before {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidYet,
            ));
        }
        if now > not_after {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
        }
        Ok(ServerCertVerified::assertion())
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.check {
            Some(check) => check.verify(end_entity, intermediates, server_name, ocsp_response, now),
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Wraps https connections in rustls with the probe's [`ClientConfig`] (the last link
/// of the agent's connector chain, after the TCP connection).
pub(crate) struct TlsConnector(pub Arc<ClientConfig>);

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConnector")
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::ConnectionFailed);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .authority()
            .map(|a| a.host().trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or_default();
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
        let mut conn = ClientConnection::new(self.0.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned { conn, sock },
        })))
    }
}

/// An https connection: rustls over the TCP transport.
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// An X.509 certificate's validity period (`notBefore`, `notAfter`) in Unix seconds
/// (RFC 5280 4.1.2.5); `None` for anything that is not a certificate.
fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let v = cert.validity();
    Some((v.not_before.timestamp(), v.not_after.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_of_a_generated_certificate() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["registry.test".to_string()]).expect("params");
        params.not_before = rcgen::date_time_ymd(2001, 2, 3);
        params.not_after = rcgen::date_time_ymd(2061, 4, 5);
        let cert = params.self_signed(&key).expect("cert");
        let (from, to) = validity(cert.der()).expect("validity");
        // 2001-02-03 and 2061-04-05, 00:00:00 UTC.
        assert_eq!(from, 981_158_400);
        assert_eq!(to, 2_879_884_800);
        // Truncated or foreign bytes read as nothing, without a panic.
        for cut in 0..cert.der().len() {
            let _ = validity(&cert.der()[..cut]);
        }
        assert_eq!(validity(b"not a certificate"), None);
    }

    #[test]
    fn the_issuer_of_a_refused_certificate_is_named() {
        let named = |cn: &str| {
            let mut p =
                rcgen::CertificateParams::new(vec!["registry.test".to_string()]).expect("params");
            p.distinguished_name.push(rcgen::DnType::CommonName, cn);
            p
        };
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca = named("Test Root");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let self_signed = ca.self_signed(&ca_key).expect("cert");
        assert_eq!(
            Issuer::of(self_signed.der()),
            Some(Issuer::SelfSigned("CN=Test Root".into()))
        );
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = rcgen::KeyPair::generate().expect("key");
        let leaf = named("registry.test")
            .signed_by(&key, &issuer)
            .expect("cert");
        let by = Issuer::of(leaf.der());
        assert_eq!(by, Some(Issuer::By("CN=Test Root".into())));
        assert_eq!(
            by.map(|i| i.to_string()).as_deref(),
            Some("issued by CN=Test Root")
        );
        assert_eq!(Issuer::of(b"not a certificate"), None);
        // The note is taken once.
        let refused = Refused::default();
        refused.set(Issuer::of(leaf.der()));
        assert!(refused.take().is_some());
        assert_eq!(refused.take(), None);
    }
}
