//! A test PKI made with rcgen (a CA, a server certificate for 127.0.0.1, client certificates
//! of that CA and of a rogue CA) and an HTTPS server (rustls) that requires a client
//! certificate of the CA, serving an axum router.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A CA and what it signed, as PEM files in a temporary directory.
pub(crate) struct Pki {
    /// Where the PEM files are; removed with the `Pki`.
    _dir: tempfile::TempDir,
    /// The CA certificate (what clients trust: `AWS_CA_BUNDLE`).
    pub(crate) ca_pem: PathBuf,
    /// Client certificate + key of the CA (PEMKEY_FILE).
    pub(crate) client_pem: PathBuf,
    /// Client certificate + key of another CA.
    pub(crate) rogue_client_pem: PathBuf,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
    ca_der: CertificateDer<'static>,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A leaf certificate + its PKCS#8 key, signed by `issuer`.
fn leaf(
    issuer: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    cn: &str,
    usage: ExtendedKeyUsagePurpose,
) -> (rcgen::Certificate, KeyPair) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert, key)
}

impl Pki {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = ca("datafusion-athena test CA");
        let rogue = ca_rogue();
        let (server, server_key) = leaf(
            &ca,
            &["127.0.0.1", "localhost"],
            "ping.test",
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client, client_key) = leaf(&ca, &[], "alice", ExtendedKeyUsagePurpose::ClientAuth);
        let (rogue_client, rogue_key) =
            leaf(&rogue, &[], "mallory", ExtendedKeyUsagePurpose::ClientAuth);
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let ca_pem = write("ca.pem", ca.pem());
        let client_pem = write(
            "client.pem",
            format!("{}{}", client.pem(), client_key.serialize_pem()),
        );
        let rogue_client_pem = write(
            "rogue-client.pem",
            format!("{}{}", rogue_client.pem(), rogue_key.serialize_pem()),
        );
        Self {
            ca_der: ca.der().clone(),
            server_chain: vec![server.der().clone()],
            server_key: server_key.serialize_der(),
            _dir: dir,
            ca_pem,
            client_pem,
            rogue_client_pem,
        }
    }

    /// The text of the client certificate + key (PEMKEY_BLOB).
    pub(crate) fn client_pem_text(&self) -> String {
        std::fs::read_to_string(&self.client_pem).unwrap()
    }
}

fn ca_rogue() -> CertifiedIssuer<'static, KeyPair> {
    ca("rogue CA")
}

struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A client without an acceptable certificate fails here; keep serving.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Serves `app` over HTTPS on 127.0.0.1, requiring a client certificate of the PKI's CA.
pub(crate) async fn serve(app: Router, pki: &Pki) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            pki.server_chain.clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone())),
        )
        .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", tcp.local_addr().unwrap());
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    };
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
