//! `start_http_server`: the metrics endpoint on hyper, on a background thread of its own.

use std::convert::Infallible;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};

use crate::http::{method_not_allowed, plain, ScrapeOptions, ScrapeRequest};
use crate::Registry;

mod auth;
mod listen;
mod shared;
#[cfg(feature = "tls")]
mod tls;
mod write_timeout;

pub use auth::Credentials;
pub use listen::ListenAddr;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::TlsConfig;

use listen::cannot_listen;
use shared::{Answer, SharedBodies};
use write_timeout::WriteTimeout;

/// How the server behaves; [`ServerOptions::default`] suits Prometheus, and keeps
/// answering it while a thousand hostile connections are open.
///
/// ```
/// use std::time::Duration;
/// use promlink::ServerOptions;
///
/// let options = ServerOptions { strict: true, scrape_timeout: Duration::from_secs(5), ..ServerOptions::default() };
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The registry served: the global one by default.
    pub registry: &'static Registry,
    /// The path of the endpoint; other paths answer `404`. Default `/metrics`.
    pub path: String,
    /// Answer `500` when a collector fails or a definition conflicts, as Go's `promhttp`
    /// does by default, and refuse to start on a conflict, rather than serve everything
    /// else. Default `false` ([`ScrapeOptions::strict`]).
    pub strict: bool,
    /// How long collectors may take when a scrape does not send its timeout (Prometheus
    /// does). Default 10 s ([`ScrapeOptions::timeout`]).
    pub scrape_timeout: Duration,
    /// Connections served at once; more wait, in the kernel's accept queue, for one to
    /// end. Default 2048. When the process's soft limit of open files is below what they
    /// need, the server raises it to the hard limit at start, as Go's runtime does.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, including the wait on an
    /// idle kept-alive connection. Default 10 s.
    pub header_timeout: Duration,
    /// How long a client may leave its answer unread before the connection is closed.
    /// Default 10 s.
    pub write_timeout: Duration,
    /// The longest a connection lives. Default 5 minutes.
    pub connection_timeout: Duration,
    /// The largest request head accepted (at least 8 KiB, hyper's smallest buffer).
    /// Default 16 KiB.
    pub max_header_bytes: usize,
    /// How long [`MetricsServer::stop`] lets the requests already received finish.
    /// Default 5 s.
    pub shutdown_grace: Duration,
    /// Who may read the endpoint (basic auth, bearer tokens); anyone when empty, the
    /// default. Others get `401` on every path.
    pub credentials: Vec<Credentials>,
    /// HTTPS instead of HTTP (feature `tls`); `None` by default. Plain HTTP to the port
    /// then gets no answer.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: Option<TlsConfig>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        let scrape = ScrapeOptions::default();
        ServerOptions {
            registry: Registry::global(),
            path: "/metrics".to_owned(),
            strict: scrape.strict,
            scrape_timeout: scrape.timeout,
            max_connections: 2048,
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_mins(5),
            max_header_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(5),
            credentials: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerOptions {
    fn scrape(&self) -> ScrapeOptions {
        ScrapeOptions {
            strict: self.strict,
            timeout: self.scrape_timeout,
        }
    }
}

/// A running metrics server. Dropping it leaves the server running (as Python's
/// `start_http_server` does); [`stop`](Self::stop) ends it.
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl MetricsServer {
    /// The address it listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections, lets the requests already received finish (for up
    /// to [`ServerOptions::shutdown_grace`]), closes idle kept-alive connections, and
    /// waits for the thread; returns within the grace period, whatever a collector does.
    pub fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.thread.join();
    }
}

/// Serves the global registry on `GET /metrics` (and `HEAD`) at `addr`, from a
/// background thread, as Python's `start_http_server`. The format follows the scrape's
/// `Accept` header, the body is gzipped when the client accepts it, `name[]` selects
/// families; other paths answer `404`, other methods `405`.
///
/// It keeps answering when the service is in trouble: collectors and encoding run off
/// the server's I/O thread, with the scrape's deadline; a collector that fails, panics
/// or is late loses its own families and nothing else (see [`ServerOptions::strict`]);
/// slow, idle and never-reading clients time out without holding up others; concurrent
/// scrapes share one encoded body.
///
/// # Errors
///
/// When the address cannot be bound, the thread cannot start, or (feature `tls`) the
/// certificate, key or client CA cannot be read; in
/// [strict](ServerOptions::strict) mode also, before anything is bound, when link-time
/// metrics conflict ([`Registry::check`]: the error names both definition sites).
/// Otherwise a conflict is written to stderr, and the server starts.
///
/// ```no_run
/// let server = promlink::start_http_server("127.0.0.1:8000")?;
/// println!("metrics on http://{}/metrics", server.local_addr());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn start_http_server(addr: impl ListenAddr) -> io::Result<MetricsServer> {
    start_http_server_with(addr, ServerOptions::default())
}

/// [`start_http_server`] with options.
///
/// # Errors
///
/// As [`start_http_server`].
pub fn start_http_server_with(
    addr: impl ListenAddr,
    options: ServerOptions,
) -> io::Result<MetricsServer> {
    if let Err(conflicts) = options.registry.check() {
        let lines: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
        if options.strict {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                lines.join("\n"),
            ));
        }
        for line in lines {
            eprintln!("promlink: {line} (the first is served)");
        }
    }
    let state = Arc::new(State {
        #[cfg(feature = "tls")]
        tls: options
            .tls
            .clone()
            .map(tls::Certificates::load)
            .transpose()?,
        options,
        bodies: Arc::default(),
    });
    // Bound here, so that an address in use is an error to the caller, not to the thread.
    listen::allow_open_files(state.options.max_connections);
    let listener = addr
        .socket_addrs()
        .and_then(|addrs| listen::bind(&addrs))
        .map_err(|e| cannot_listen(&addr, &e))?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    // One I/O thread; encodings on a few blocking threads of their own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()?;
    let (shutdown, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("promlink-metrics".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener, state, stopped).await,
                    Err(e) => eprintln!("promlink: the metrics server could not start: {e}"),
                }
            });
            // An encoding still under way (a callback that hangs) must not hold up `stop`.
            runtime.shutdown_background();
        })?;
    Ok(MetricsServer {
        local_addr,
        shutdown,
        thread,
    })
}

/// What every connection shares.
struct State {
    options: ServerOptions,
    bodies: Arc<SharedBodies>,
    #[cfg(feature = "tls")]
    tls: Option<tls::Certificates>,
}

async fn serve(listener: TcpListener, state: Arc<State>, stopped: oneshot::Receiver<()>) {
    // Only `stop()` stops: a dropped handle (an `Err` here) leaves the server serving.
    let stopped = async {
        if stopped.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(stopped);
    let options = &state.options;
    // The semaphore's own bound is far beyond any count of sockets.
    let max_connections = options.max_connections.clamp(1, Semaphore::MAX_PERMITS / 2);
    let permits = Arc::new(Semaphore::new(max_connections));
    let (closing, closing_signal) = watch::channel(false);
    loop {
        // A permit before `accept`: beyond the bound, connections wait in the kernel.
        let permit = tokio::select! {
            () = &mut stopped => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            () = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors, say: back off rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let connection = serve_accepted(Arc::clone(&state), stream, Some(closing_signal.clone()));
        tokio::spawn(held_by(permit, connection));
    }
    // Stopping. Connections serve the request they have, then close.
    let _ = closing.send(true);
    // Those the kernel accepted that we had not taken yet sent their requests too: each
    // gets its answer, then the listener closes.
    // (Beyond `max_connections`: the kernel bounds its queue.)
    let mut drained = 0;
    if let Ok(listener) = listener.into_std() {
        // As many as the kernel's queue holds, not those that keep coming.
        let queued = usize::try_from(listen::ACCEPT_QUEUE).unwrap_or(0);
        for stream in accepted_already(&listener).take(queued) {
            permits.add_permits(1);
            let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                break;
            };
            drained += 1;
            if let Ok(stream) = TcpStream::from_std(stream) {
                let connection = serve_accepted(Arc::clone(&state), stream, None);
                tokio::spawn(held_by(permit, connection));
            }
        }
    }
    let every_permit = u32::try_from(max_connections + drained).unwrap_or(u32::MAX);
    let grace = options.shutdown_grace;
    let _ = tokio::time::timeout(grace, permits.acquire_many(every_permit)).await;
}

/// Runs `connection` holding `permit`.
async fn held_by(permit: OwnedSemaphorePermit, connection: impl std::future::Future<Output = ()>) {
    let _permit = permit;
    connection.await;
}

/// The connections waiting in the listener's queue, taken without waiting.
fn accepted_already(listener: &StdListener) -> impl Iterator<Item = StdStream> + '_ {
    let _ = listener.set_nonblocking(true);
    std::iter::from_fn(move || listener.accept().ok().map(|(stream, _)| stream))
        .filter(|stream| stream.set_nonblocking(true).is_ok())
}

/// Serves one accepted connection, through TLS when the server has it.
async fn serve_accepted(
    state: Arc<State>,
    stream: TcpStream,
    closing: Option<watch::Receiver<bool>>,
) {
    #[cfg(feature = "tls")]
    if let Some(certificates) = &state.tls {
        let acceptor = tokio_rustls::TlsAcceptor::from(certificates.config());
        // A handshake gets as long as a request's headers.
        let handshake = tokio::time::timeout(state.options.header_timeout, acceptor.accept(stream));
        if let Ok(Ok(stream)) = handshake.await {
            serve_connection(Arc::clone(&state), stream, closing).await;
        }
        return;
    }
    serve_connection(state, stream, closing).await;
}

/// Serves one connection. `closing` tells a kept-alive one to finish; without it (while
/// stopping) the connection serves one request and closes.
async fn serve_connection<S>(state: Arc<State>, stream: S, closing: Option<watch::Receiver<bool>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let options = &state.options;
    let service_state = Arc::clone(&state);
    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
        let state = Arc::clone(&service_state);
        async move { Ok::<_, Infallible>(respond(&state, &request).await) }
    });
    let io = WriteTimeout::new(TokioIo::new(stream), options.write_timeout);
    let header_timeout = match closing {
        Some(_) => options.header_timeout,
        None => options.header_timeout.min(options.shutdown_grace),
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(closing.is_some())
        .max_buf_size(options.max_header_bytes.max(8192))
        .serve_connection(io, service);
    tokio::pin!(connection);
    let served = async {
        let Some(mut closing) = closing else {
            let _ = connection.as_mut().await;
            return;
        };
        tokio::select! {
            // The connection first: a request that has arrived is read before closing.
            biased;
            _ = connection.as_mut() => {}
            _ = closing.changed() => {
                // Finish the request in progress, close an idle keep-alive.
                connection.as_mut().graceful_shutdown();
                let _ = connection.as_mut().await;
            }
        }
    };
    let _ = tokio::time::timeout(options.connection_timeout, served).await;
}

/// The answer to one request: the exposition, shared with other scrapes when they can
/// share it, within the scrape's timeout.
async fn respond(state: &State, request: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let options = &state.options;
    let full = |response: Response<Vec<u8>>| response.map(|body| Full::new(Bytes::from(body)));
    if let Some(refusal) = auth::refusal(&options.credentials, request.headers()) {
        return full(refusal);
    }
    if request.uri().path() != options.path {
        let message = "not found: metrics are served on the metrics path\n";
        return full(plain(StatusCode::NOT_FOUND, message, None));
    }
    let parsed = ScrapeRequest::parse(
        request.method(),
        request.uri(),
        request.headers(),
        options.scrape(),
    );
    let Some(scrape) = parsed else {
        return full(method_not_allowed());
    };
    let answer = state.bodies.answer(options.registry, &scrape);
    match tokio::time::timeout(scrape.timeout, answer).await {
        Ok(Answer::Body(held)) => {
            let length = held.encoded.body.len();
            scrape.response(&held.encoded, length, Full::new(held.body()))
        }
        Ok(Answer::Unavailable) => {
            let message = "the metrics are not available now; try again\n";
            full(plain(StatusCode::SERVICE_UNAVAILABLE, message, None))
        }
        Err(_) => {
            let message = "the metrics were not ready within the scrape's timeout\n";
            full(plain(StatusCode::SERVICE_UNAVAILABLE, message, None))
        }
    }
}
