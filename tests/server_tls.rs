//! HTTPS and authentication (feature `tls`), with a CA, server and client certificates
//! generated here: a real Prometheus 2.42 scrapes the endpoint with `tls_config` (mutual
//! TLS) and `basic_auth`, the target is up and the value right; a wrong password gets
//! `401` and no exposition; a client without a certificate, and plain HTTP, get none; a
//! renewed certificate is served without a restart.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use promlink::{
    start_http_server_with, Counter, Credentials, Metric, Registry, ServerOptions, TlsConfig,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rustls::pki_types::{CertificateDer, ServerName};

#[allow(dead_code)] // this test needs only some of the helpers
mod support {
    pub mod prometheus;
}

/// A fresh directory for this test's files.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A test CA and what it signed, as PEM files in `dir`.
struct Pki {
    dir: PathBuf,
    ca: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new(dir: &Path) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "promlink test CA");
        let key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Pki {
            dir: dir.to_owned(),
            ca,
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `name` signed by the CA, written as `file.pem` and
    /// `file-key.pem`; its DER.
    fn sign(&self, file: &str, name: &str, usage: ExtendedKeyUsagePurpose) -> Vec<u8> {
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(self.path(&format!("{file}-key.pem")), key.serialize_pem()).unwrap();
        std::fs::write(self.path(&format!("{file}.pem")), cert.pem()).unwrap();
        cert.der().to_vec()
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// A TLS client that trusts the CA, with the client certificate or without.
    fn client(&self, with_certificate: bool) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = if with_certificate {
            use rustls::pki_types::pem::PemObject as _;
            let cert = CertificateDer::from_pem_file(self.path("client.pem")).unwrap();
            let key = rustls::pki_types::PrivateKeyDer::from_pem_file(self.path("client-key.pem"))
                .unwrap();
            builder.with_client_auth_cert(vec![cert], key).unwrap()
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(config)
    }
}

struct Answer {
    status: u16,
    body: String,
    /// The certificate the server presented.
    server_certificate: Vec<u8>,
}

/// A `GET /metrics` over TLS with `authorization`, read to the end.
fn https_get(
    addr: SocketAddr,
    client: Arc<rustls::ClientConfig>,
    authorization: Option<&str>,
) -> Result<Answer, std::io::Error> {
    let name = ServerName::IpAddress(addr.ip().into());
    let connection = rustls::ClientConnection::new(client, name).map_err(std::io::Error::other)?;
    let socket = TcpStream::connect(addr)?;
    socket.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = rustls::StreamOwned::new(connection, socket);
    let authorization = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        tls,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}Connection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // The server may close without `close_notify` once it has answered.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {raw:?}")))?;
    let server_certificate = tls
        .conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|c| c.to_vec())
        .unwrap_or_default();
    Ok(Answer {
        status: head[9..12].parse().unwrap(),
        body: body.to_owned(),
        server_certificate,
    })
}

const BASIC: &str = "Basic cHJvbWV0aGV1czpzM2NyZXQ="; // prometheus:s3cret
const WRONG: &str = "Basic cHJvbWV0aGV1czp3cm9uZw=="; // prometheus:wrong

#[test]
fn https_with_mutual_tls_and_basic_auth() {
    let dir = scratch_dir("server-tls");
    let pki = Pki::new(&dir);
    let first = pki.sign("server", "first", ExtendedKeyUsagePurpose::ServerAuth);
    pki.sign("client", "prometheus", ExtendedKeyUsagePurpose::ClientAuth);

    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let jobs = Arc::new(Metric::new("jobs_total", "Jobs.", Counter::new()));
    registry.register(jobs.clone()).unwrap();
    jobs.inc_by(7.0);
    let options = ServerOptions {
        registry,
        tls: Some(
            TlsConfig::from_pem_files(pki.path("server.pem"), pki.path("server-key.pem"))
                .client_ca(pki.path("ca.pem")),
        ),
        credentials: vec![Credentials::basic("prometheus", "s3cret")],
        ..ServerOptions::default()
    };
    let server = start_http_server_with("127.0.0.1:0", options).expect("start over TLS");
    let addr = server.local_addr();

    // The right client, the right password.
    let good = https_get(addr, pki.client(true), Some(BASIC)).expect("a scrape over TLS");
    assert_eq!(good.status, 200, "{}", good.body);
    assert!(good.body.contains("jobs_total 7.0"), "{}", good.body);
    assert_eq!(good.server_certificate, first);

    // A wrong password, or none: 401, and no exposition.
    for authorization in [Some(WRONG), None] {
        let refused = https_get(addr, pki.client(true), authorization).unwrap();
        assert_eq!(refused.status, 401, "{}", refused.body);
        assert!(!refused.body.contains("jobs"), "{}", refused.body);
    }

    // No client certificate: refused in the handshake.
    match https_get(addr, pki.client(false), Some(BASIC)) {
        Err(_) => {}
        Ok(answer) => panic!("answered {} without a client certificate", answer.status),
    }

    // Plain HTTP to the TLS port: no HTTP answer, no exposition.
    let mut plain = TcpStream::connect(addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cHJvbWV0aGV1czpzM2NyZXQ=\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = plain.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        !raw.contains("HTTP/1.1 200") && !raw.contains("jobs"),
        "{raw}"
    );

    // A real Prometheus, with the CA, the client certificate and the password.
    let settings = format!(
        "    scheme: https\n    tls_config:\n      ca_file: {}\n      cert_file: {}\n      key_file: {}\n    basic_auth:\n      username: prometheus\n      password: s3cret\n",
        pki.path("ca.pem").display(),
        pki.path("client.pem").display(),
        pki.path("client-key.pem").display(),
    );
    let prometheus =
        support::prometheus::start_with(&dir.join("prometheus"), &addr.to_string(), &settings);
    assert_eq!(prometheus.scalar("up{job=\"promlink\"}"), 1.0);
    assert_eq!(prometheus.scalar("jobs_total{job=\"promlink\"}"), 7.0);
    drop(prometheus);

    // A renewed certificate is served without a restart (the files are looked at once a
    // second).
    let renewed = pki.sign("server", "renewed", ExtendedKeyUsagePurpose::ServerAuth);
    assert_ne!(renewed, first);
    std::thread::sleep(Duration::from_millis(1100));
    let after = https_get(addr, pki.client(true), Some(BASIC)).unwrap();
    assert_eq!(after.status, 200);
    assert_eq!(after.server_certificate, renewed);

    // A broken file keeps the certificate in use.
    std::fs::write(pki.path("server.pem"), "not a certificate").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let still = https_get(addr, pki.client(true), Some(BASIC)).unwrap();
    assert_eq!(still.status, 200);
    assert_eq!(still.server_certificate, renewed);

    server.stop();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unreadable_certificates_stop_the_start() {
    let options = ServerOptions {
        tls: Some(TlsConfig::from_pem_files(
            "/nonexistent/cert.pem",
            "/nonexistent/key.pem",
        )),
        ..ServerOptions::default()
    };
    let error = start_http_server_with("127.0.0.1:0", options).unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/cert.pem"),
        "{error}"
    );
}
