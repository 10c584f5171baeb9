//! Scraping over TLS: CA files, client certificates, server_name, insecure_skip_verify.
//! Certificates are generated here with rcgen.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use scrape::{ClusterLabel, Health};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A CA, a server certificate for `fleetwatch.test` and a client certificate, as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    ca_der: CertificateDer<'static>,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
}

impl Pki {
    fn new() -> Self {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("ca");
        let issuer = Issuer::new(ca_params, ca_key);
        let srv_key = KeyPair::generate().expect("key");
        let srv = CertificateParams::new(vec!["fleetwatch.test".to_string()])
            .expect("params")
            .signed_by(&srv_key, &issuer)
            .expect("server cert");
        let cli_key = KeyPair::generate().expect("key");
        let cli = CertificateParams::new(vec!["client".to_string()])
            .expect("params")
            .signed_by(&cli_key, &issuer)
            .expect("client cert");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write");
        std::fs::write(dir.path().join("client.pem"), cli.pem()).expect("write");
        std::fs::write(dir.path().join("client.key"), cli_key.serialize_pem()).expect("write");
        let server_key =
            PrivateKeyDer::from_pem_slice(srv_key.serialize_pem().as_bytes()).expect("key der");
        Pki {
            ca_der: ca.der().clone(),
            server: (srv.der().clone(), server_key),
            dir,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// Accepts TLS connections for axum; failed handshakes are skipped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((s, a)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(t) = self.acceptor.accept(s).await {
                return (t, a);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// An HTTPS target answering `tls_up 1`; it demands a client certificate when `mtls`.
async fn https_target(pki: &Pki, mtls: bool) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = if mtls {
        let mut roots = RootCertStore::empty();
        roots.add(pki.ca_der.clone()).expect("root");
        let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .expect("verifier");
        builder.with_client_cert_verifier(v)
    } else {
        builder.with_no_client_auth()
    };
    let mut cfg = builder
        .with_single_cert(vec![pki.server.0.clone()], pki.server.1.clone_key())
        .expect("server config");
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("addr");
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(cfg)),
    };
    let app = axum::Router::new().fallback(|| async { "tls_up 1\n" });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

async fn scrape_once(addr: SocketAddr, tls_yaml: &str) -> (Health, String, Recorder) {
    let extra = format!("    scheme: https\n    tls_config:\n{tls_yaml}");
    let (m, rec) = start(&job_yaml("tls", addr, &extra), ClusterLabel::None);
    wait_for("a scrape", || !rec.of("up").is_empty()).await;
    let t = m.targets().remove(0);
    m.shutdown().await;
    (t.health, t.last_error, rec)
}

#[tokio::test]
async fn client_certificate_and_server_name() {
    let pki = Pki::new();
    let addr = https_target(&pki, true).await;
    let full = format!(
        "      ca_file: {}\n      cert_file: {}\n      key_file: {}\n      server_name: fleetwatch.test\n",
        pki.path("ca.pem"),
        pki.path("client.pem"),
        pki.path("client.key")
    );
    let (h, e, rec) = scrape_once(addr, &full).await;
    assert_eq!(h, Health::Up, "{e}");
    assert_eq!(rec.of("tls_up")[0].v, 1.0);

    // Without the client certificate the server refuses the handshake.
    let no_cert = format!(
        "      ca_file: {}\n      server_name: fleetwatch.test\n",
        pki.path("ca.pem")
    );
    let (h, e, _) = scrape_once(addr, &no_cert).await;
    assert_eq!(h, Health::Down);
    assert!(e.starts_with("Get "), "{e}");

    // The certificate does not name 127.0.0.1: without server_name verification fails.
    let no_name = format!(
        "      ca_file: {}\n      cert_file: {}\n      key_file: {}\n",
        pki.path("ca.pem"),
        pki.path("client.pem"),
        pki.path("client.key")
    );
    let (h, _, _) = scrape_once(addr, &no_name).await;
    assert_eq!(h, Health::Down);
}

#[tokio::test]
async fn insecure_skip_verify_and_unknown_ca() {
    let pki = Pki::new();
    let addr = https_target(&pki, false).await;
    let (h, e, _) = scrape_once(addr, "      insecure_skip_verify: true\n").await;
    assert_eq!(h, Health::Up, "{e}");
    // System roots do not know the test CA.
    let (h, _, _) = scrape_once(addr, "      server_name: fleetwatch.test\n").await;
    assert_eq!(h, Health::Down);
}

#[tokio::test]
async fn missing_ca_file_is_named_in_the_error() {
    let pki = Pki::new();
    let addr = https_target(&pki, false).await;
    let missing = Path::new(&pki.path("nope.pem")).display().to_string();
    let (h, e, _) = scrape_once(addr, &format!("      ca_file: {missing}\n")).await;
    assert_eq!(h, Health::Down);
    assert!(e.contains(&missing), "{e}");
}
