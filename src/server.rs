//! `start_http_server`: the metrics endpoint on hyper, on a background thread of its own.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Semaphore};

use crate::http::{metrics_response, plain};
use crate::Registry;

/// How the server behaves; [`ServerOptions::default`] suits Prometheus.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The registry served: the global one by default.
    pub registry: &'static Registry,
    /// The path of the endpoint; other paths answer `404`. Default `/metrics`.
    pub path: String,
    /// Connections served at once; more wait, in the kernel's accept queue, for one to
    /// end. Default 64.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, including the wait on an
    /// idle kept-alive connection. Default 10 s.
    pub header_timeout: Duration,
    /// The longest a connection lives, so that a client that never reads cannot keep
    /// one. Default 5 minutes.
    pub connection_timeout: Duration,
    /// The largest request head accepted. Default 16 KiB.
    pub max_header_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            registry: Registry::global(),
            path: "/metrics".to_owned(),
            max_connections: 64,
            header_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_mins(5),
            max_header_bytes: 16 * 1024,
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

    /// Stops accepting, lets the requests in progress end (for up to 5 seconds; idle
    /// kept-alive connections are closed), and waits for the thread.
    pub fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.thread.join();
    }
}

/// Serves the global registry on `GET /metrics` (and `HEAD`) at `addr`, from a
/// background thread, as Python's `start_http_server`. The format follows the scrape's
/// `Accept` header, the body is gzipped when the client accepts it, `name[]` selects
/// families; other paths answer `404`, other methods `405`. Connections are bounded,
/// slow clients time out, and a failing or panicking collector makes a `500` with the
/// errors while the server goes on.
///
/// # Errors
///
/// When the address cannot be bound, or the thread cannot start; and, before anything is
/// bound, when link-time metrics conflict ([`Registry::check`]: the error names both
/// definition sites), so that a conflict stops a service at start rather than fail its
/// scrapes.
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
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            lines.join("\n"),
        ));
    }
    // Bound here, so that an address in use is an error to the caller, not to the thread.
    let listener = addr
        .socket_addrs()
        .and_then(|addrs| StdListener::bind(&*addrs))
        .map_err(|e| cannot_listen(&addr, &e))?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (shutdown, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("promlink-metrics".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener, Arc::new(options), stopped).await,
                    Err(e) => eprintln!("promlink: the metrics server could not start: {e}"),
                }
            });
        })?;
    Ok(MetricsServer {
        local_addr,
        shutdown,
        thread,
    })
}

/// An address [`start_http_server`] listens on: what [`ToSocketAddrs`] takes
/// (`"127.0.0.1:8000"`, a [`SocketAddr`], `("0.0.0.0", 8000)`), or a port alone, on every
/// interface, as Python's `start_http_server(8000)`.
///
/// ```no_run
/// let server = promlink::start_http_server(9184)?; // 0.0.0.0:9184
/// # Ok::<(), std::io::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an address to listen on",
    label = "not an address",
    note = "give a port (`8000`, on every interface), an address (`\"127.0.0.1:8000\"`), a \
            `SocketAddr`, or a host and a port (`(\"0.0.0.0\", 8000)`)"
)]
pub trait ListenAddr: fmt::Debug {
    /// The addresses to try, in order.
    ///
    /// # Errors
    ///
    /// When a host name cannot be resolved.
    fn socket_addrs(&self) -> io::Result<Vec<SocketAddr>>;
}

/// A port: every IPv4 interface, as Python's default `addr="0.0.0.0"`.
impl ListenAddr for u16 {
    fn socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::from(([0, 0, 0, 0], *self))])
    }
}

/// What `ToSocketAddrs` takes, as it takes it.
macro_rules! listen_addrs {
    ($($ty:ty),* $(,)?) => {$(
        impl ListenAddr for $ty {
            fn socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
                Ok(self.to_socket_addrs()?.collect())
            }
        }
    )*};
}

listen_addrs!(
    &str,
    String,
    SocketAddr,
    std::net::SocketAddrV4,
    std::net::SocketAddrV6,
    (std::net::IpAddr, u16),
    (std::net::Ipv4Addr, u16),
    (std::net::Ipv6Addr, u16),
    (&str, u16),
    (String, u16),
);

/// The first of these that binds, as `TcpListener::bind` takes a slice.
impl ListenAddr for [SocketAddr] {
    fn socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(self.to_vec())
    }
}

impl<T: ListenAddr + ?Sized> ListenAddr for &T {
    fn socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        (**self).socket_addrs()
    }
}

/// The bind error, with the address and, for a Go-style `":9184"`, what to write instead.
fn cannot_listen(addr: &impl fmt::Debug, error: &io::Error) -> io::Error {
    let spelled = format!("{addr:?}");
    let hint = spelled
        .strip_prefix("\":")
        .map(|port| format!(" (to listen on every interface, write \"0.0.0.0:{port})"))
        .unwrap_or_default();
    io::Error::new(
        error.kind(),
        format!("promlink: cannot listen on {spelled}: {error}{hint}"),
    )
}

async fn serve(listener: TcpListener, options: Arc<ServerOptions>, stopped: oneshot::Receiver<()>) {
    // Only `stop()` stops: a dropped handle (an `Err` here) leaves the server serving.
    let stopped = async {
        if stopped.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(stopped);
    let max_connections = options.max_connections.max(1);
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
        let options = Arc::clone(&options);
        let mut closing_signal = closing_signal.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service_options = Arc::clone(&options);
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let response = respond(&service_options, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(options.header_timeout)
                .max_buf_size(options.max_header_bytes.max(8192))
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let served = async {
                tokio::select! {
                    _ = connection.as_mut() => {}
                    _ = closing_signal.changed() => {
                        // Finish the request in progress, close an idle keep-alive.
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.as_mut().await;
                    }
                }
            };
            let _ = tokio::time::timeout(options.connection_timeout, served).await;
        });
    }
    // Stopping: connections finish what they serve, for up to `SHUTDOWN_GRACE`.
    let _ = closing.send(true);
    let every_permit = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(every_permit)).await;
}

/// How long [`MetricsServer::stop`] waits for the connections in progress.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn respond(
    options: &ServerOptions,
    request: &Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let response = if request.uri().path() == options.path {
        metrics_response(
            options.registry,
            request.method(),
            request.uri(),
            request.headers(),
        )
    } else {
        plain(
            StatusCode::NOT_FOUND,
            "not found: metrics are served on the metrics path\n",
            None,
        )
    };
    response.map(|body| Full::new(Bytes::from(body)))
}
