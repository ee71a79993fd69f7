//! HTTPS for the endpoint (feature `tls`): a certificate chain and key from PEM files, an
//! optional client CA for mutual TLS, all re-read when one of the files changes, so that
//! a renewed certificate is served without a restart.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// Where the server's certificate and key are, and whom it asks for a client
/// certificate; as Python's `start_http_server(certfile=.., keyfile=.., client_cafile=..)`.
///
/// The files are read at start (an error then stops the start) and again when one of them
/// changes; a change that does not load is written to stderr and the previous
/// certificate stays in use.
///
/// ```no_run
/// use promlink::{start_http_server_with, ServerOptions, TlsConfig};
///
/// let options = ServerOptions {
///     tls: Some(TlsConfig::from_pem_files("/etc/metrics/cert.pem", "/etc/metrics/key.pem")),
///     ..ServerOptions::default()
/// };
/// let server = start_http_server_with("0.0.0.0:9184", options)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TlsConfig {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

impl TlsConfig {
    /// A certificate chain (PEM, the server's first) and its private key (PEM: PKCS#8,
    /// PKCS#1 or SEC1).
    pub fn from_pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsConfig {
            cert: cert.into(),
            key: key.into(),
            client_ca: None,
        }
    }

    /// Mutual TLS: only clients with a certificate signed by one of these CAs (PEM) get
    /// through the handshake.
    #[must_use]
    pub fn client_ca(self, ca: impl Into<PathBuf>) -> Self {
        TlsConfig {
            client_ca: Some(ca.into()),
            ..self
        }
    }

    fn files(&self) -> impl Iterator<Item = &Path> {
        [self.cert.as_path(), self.key.as_path()]
            .into_iter()
            .chain(self.client_ca.as_deref())
    }

    /// The rustls configuration these files make.
    fn load(&self) -> io::Result<Arc<ServerConfig>> {
        let invalid = |path: &Path, error: &dyn std::fmt::Display| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("promlink: TLS: {}: {error}", path.display()),
            )
        };
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| invalid(&self.cert, &e))?;
        if certs.is_empty() {
            return Err(invalid(&self.cert, &"no certificate in the file"));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| invalid(&self.key, &e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(&self.cert, &e))?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_file_iter(ca).map_err(|e| invalid(ca, &e))? {
                    let cert = cert.map_err(|e| invalid(ca, &e))?;
                    roots.add(cert).map_err(|e| invalid(ca, &e))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| invalid(ca, &e))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| invalid(&self.key, &e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// When each file last changed, to tell when to read them again.
    fn stamps(&self) -> Stamps {
        self.files()
            .map(|path| {
                let meta = std::fs::metadata(path).ok()?;
                Some((meta.modified().ok()?, meta.len()))
            })
            .collect()
    }
}

/// How often the files are looked at for a change.
const RECHECK: Duration = Duration::from_secs(1);

/// When each file last changed and its length, `None` for one that cannot be read.
type Stamps = Vec<Option<(SystemTime, u64)>>;

/// The configuration in use, re-read when its files change.
pub(super) struct Certificates {
    files: TlsConfig,
    current: Mutex<Current>,
}

struct Current {
    config: Arc<ServerConfig>,
    stamps: Stamps,
    /// When the files were last looked at: at most once a second, so that a flood of
    /// handshakes does not make as many `stat` calls.
    checked: Instant,
}

impl Certificates {
    /// Reads the files now.
    pub(super) fn load(files: TlsConfig) -> io::Result<Certificates> {
        let stamps = files.stamps();
        let config = files.load()?;
        Ok(Certificates {
            files,
            current: Mutex::new(Current {
                config,
                stamps,
                checked: Instant::now(),
            }),
        })
    }

    /// The configuration for a new connection: the files' as they are now.
    pub(super) fn config(&self) -> Arc<ServerConfig> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.checked.elapsed() < RECHECK {
            return Arc::clone(&current.config);
        }
        current.checked = Instant::now();
        let stamps = self.files.stamps();
        if stamps != current.stamps {
            // Tried once per change: a half-written file gets another chance when it
            // changes again.
            match self.files.load() {
                Ok(config) => current.config = config,
                Err(e) => eprintln!("{e} (the previous certificate stays in use)"),
            }
            current.stamps = stamps;
        }
        Arc::clone(&current.config)
    }
}
