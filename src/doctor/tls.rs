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
use rustls::crypto::CryptoProvider;
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
pub enum Issuer {
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
    pub fn of(der: &[u8]) -> Option<Issuer> {
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
pub struct Refused(Mutex<Option<Issuer>>);

impl Refused {
    /// The last refusal's issuer, cleared.
    pub fn take(&self) -> Option<Issuer> {
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

/// The rustls settings of the probe: `roots` to trust (the system's, and the
/// `--ca-file` certificates), or no verification at all. A refused certificate's issuer is noted
/// in `refused`.
pub fn client_config(
    roots: Vec<CertificateDer<'static>>,
    insecure: bool,
    refused: Arc<Refused>,
) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = if insecure {
        Arc::new(NoVerification(provider.clone()))
    } else {
        let mut store = RootCertStore::empty();
        // Certificates the store cannot read are skipped, as Go does with the system's.
        let (added, _) = store.add_parsable_certificates(roots.iter().cloned());
        if added == 0 {
            return Err("no usable CA certificate to trust (the system's CA store is empty, or none of its certificates parse); give one with --ca-file".into());
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
            .build()
            .map_err(|e| format!("cannot set up certificate checks: {e}"))?;
        Arc::new(GoLikeVerifier {
            webpki,
            roots,
            refused,
        })
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// webpki, and Go's rule for a server certificate that is itself a trusted root.
#[derive(Debug)]
struct GoLikeVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    roots: Vec<CertificateDer<'static>>,
    refused: Arc<Refused>,
}

impl ServerCertVerifier for GoLikeVerifier {
    fn verify_server_cert(
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

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// `--insecure-skip-verify`: any certificate. The handshake's signatures are still
/// checked against the certificate presented (as Go's InsecureSkipVerify does).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Wraps https connections in rustls with the probe's [`ClientConfig`] (the last link
/// of the agent's connector chain, after the TCP connection).
pub struct TlsConnector(pub Arc<ClientConfig>);

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
pub struct TlsTransport {
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

/// An X.509 certificate's validity period (`notBefore`, `notAfter`) in Unix seconds,
/// read from its DER: `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0]
/// version OPTIONAL, serialNumber, signature, issuer, validity SEQUENCE { notBefore,
/// notAfter }, ... }, ... }` (RFC 5280 4.1). `None` for anything else.
fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (cert, _) = tlv(der, 0x30)?;
    let (tbs, _) = tlv(cert, 0x30)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = skip(rest)?;
    }
    for _ in ["serialNumber", "signature", "issuer"] {
        rest = skip(rest)?;
    }
    let (validity, _) = tlv(rest, 0x30)?;
    let (not_before, rest) = time(validity)?;
    let (not_after, _) = time(rest)?;
    Some((not_before, not_after))
}

/// The tag, the content's offset and its length of the DER element at the start of `b`.
fn header(b: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *b.first()?;
    let first = usize::from(*b.get(1)?);
    if first < 0x80 {
        return Some((tag, 2, first));
    }
    let n = first & 0x7f;
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*b.get(2 + i)?);
    }
    Some((tag, 2 + n, len))
}

/// The content of the element at the start of `b` when its tag is `tag`, and the bytes
/// after it.
fn tlv(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, start, len) = header(b)?;
    if t != tag {
        return None;
    }
    let end = start.checked_add(len)?;
    Some((b.get(start..end)?, b.get(end..)?))
}

/// The bytes after the element at the start of `b`.
fn skip(b: &[u8]) -> Option<&[u8]> {
    let (_, start, len) = header(b)?;
    b.get(start.checked_add(len)?..)
}

/// A `Time` (UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ`, the only
/// forms RFC 5280 allows) in Unix seconds, and the bytes after it.
fn time(b: &[u8]) -> Option<(i64, &[u8])> {
    let (tag, _, _) = header(b)?;
    let (content, rest) = tlv(b, tag)?;
    let text = std::str::from_utf8(content).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (year, md) = match (tag, digits.len()) {
        // UTCTime: YY below 50 is 20YY (RFC 5280 4.1.2.5.1).
        (0x17, 12) => {
            let yy: i64 = digits.get(..2)?.parse().ok()?;
            (
                if yy < 50 { 2000 + yy } else { 1900 + yy },
                digits.get(2..)?,
            )
        }
        (0x18, 14) => (digits.get(..4)?.parse().ok()?, digits.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| -> Option<i64> { md.get(i..i + 2)?.parse().ok() };
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some((seconds, rest))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        let utc = |s: &str| {
            let mut der = vec![0x17, s.len() as u8];
            der.extend_from_slice(s.as_bytes());
            time(&der).map(|(t, _)| t)
        };
        assert_eq!(utc("700101000000Z"), Some(0));
        assert_eq!(utc("491231235959Z"), Some(2_524_607_999));
        assert_eq!(utc("700101000000"), None);
        assert_eq!(utc("70010100000+Z"), None);
        let generalized = |s: &str| {
            let mut der = vec![0x18, s.len() as u8];
            der.extend_from_slice(s.as_bytes());
            time(&der).map(|(t, _)| t)
        };
        assert_eq!(generalized("20500101000000Z"), Some(2_524_608_000));
        assert_eq!(generalized("2050010100000Z"), None);
    }

    #[test]
    fn validity_of_a_generated_certificate() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["registry.test".to_string()]).expect("params");
        params.not_before = rcgen::date_time_ymd(2001, 2, 3);
        params.not_after = rcgen::date_time_ymd(2061, 4, 5);
        let cert = params.self_signed(&key).expect("cert");
        let (from, to) = validity(cert.der()).expect("validity");
        assert_eq!(from, days_from_civil(2001, 2, 3) * 86_400);
        assert_eq!(to, days_from_civil(2061, 4, 5) * 86_400);
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
