//! A rustls client configuration from a `tls_config` section (aws-lc-rs provider).

use std::sync::Arc;

use config::{TlsConfig, TlsVersion};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::error::ClientError;

/// Builds the TLS configuration of a scrape client; `http2` decides the ALPN offer.
pub fn client_config(tls: &TlsConfig, http2: bool) -> Result<ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    let allowed = |v: TlsVersion| {
        tls.min_version.is_none_or(|m| v >= m) && tls.max_version.is_none_or(|m| v <= m)
    };
    if allowed(TlsVersion::Tls12) {
        versions.push(&rustls::version::TLS12);
    }
    if allowed(TlsVersion::Tls13) {
        versions.push(&rustls::version::TLS13);
    }
    if versions.is_empty() {
        return Err(ClientError::Tls(
            "no TLS version between min_version and max_version is supported (TLS 1.2 and 1.3 are)"
                .into(),
        ));
    }
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| ClientError::Tls(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = if tls.insecure_skip_verify {
        Arc::new(NoVerify(provider.clone()))
    } else {
        let roots = Arc::new(root_store(tls)?);
        let inner = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        if tls.server_name.is_empty() {
            inner
        } else {
            let name = ServerName::try_from(tls.server_name.clone()).map_err(|e| {
                ClientError::Tls(format!("invalid server_name {:?}: {e}", tls.server_name))
            })?;
            Arc::new(FixedName { inner, name })
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut cfg = match client_identity(tls)? {
        Some((certs, key)) => builder
            .with_client_auth_cert(certs, key)
            .map_err(|e| ClientError::Tls(format!("client certificate: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(cfg)
}

/// Reads a PEM file whole, naming the file in errors.
fn read_file(path: &str) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| ClientError::File {
        path: path.to_string(),
        message: e.to_string(),
    })
}

fn root_store(tls: &TlsConfig) -> Result<RootCertStore, ClientError> {
    let mut roots = RootCertStore::empty();
    let (pem, origin) = if !tls.ca_file.is_empty() {
        (read_file(&tls.ca_file)?, tls.ca_file.as_str())
    } else if !tls.ca.is_empty() {
        (tls.ca.as_bytes().to_vec(), "tls_config.ca")
    } else {
        // No CA given: the system's roots, as Go's TLS does.
        let native = rustls_native_certs::load_native_certs();
        for c in native.certs {
            let _ = roots.add(c);
        }
        return Ok(roots);
    };
    let bad = |m: String| ClientError::File {
        path: origin.to_string(),
        message: m,
    };
    let mut n = 0;
    for c in CertificateDer::pem_slice_iter(&pem) {
        let c = c.map_err(|e| bad(format!("invalid PEM: {e}")))?;
        roots
            .add(c)
            .map_err(|e| bad(format!("invalid CA certificate: {e}")))?;
        n += 1;
    }
    if n == 0 {
        return Err(bad("no CA certificate found".into()));
    }
    Ok(roots)
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn client_identity(tls: &TlsConfig) -> Result<Option<Identity>, ClientError> {
    let (cert_pem, cert_origin) = if !tls.cert_file.is_empty() {
        (read_file(&tls.cert_file)?, tls.cert_file.as_str())
    } else if !tls.cert.is_empty() {
        (tls.cert.as_bytes().to_vec(), "tls_config.cert")
    } else {
        return Ok(None);
    };
    let (key_pem, key_origin) = if !tls.key_file.is_empty() {
        (read_file(&tls.key_file)?, tls.key_file.as_str())
    } else {
        (tls.key.expose().as_bytes().to_vec(), "tls_config.key")
    };
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::File {
            path: cert_origin.to_string(),
            message: format!("invalid PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(ClientError::File {
            path: cert_origin.to_string(),
            message: "no certificate found".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| ClientError::File {
        path: key_origin.to_string(),
        message: format!("no usable private key: {e}"),
    })?;
    Ok(Some((certs, key)))
}

/// Verifies the server against a configured name instead of the URL's host.
#[derive(Debug)]
struct FixedName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `insecure_skip_verify`: any certificate is accepted, handshake signatures still checked.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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
