//! The addresses `start_http_server` takes, and a bind error that names them.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use socket2::{Domain, Protocol, Socket, Type};

/// An address [`start_http_server`](crate::start_http_server) listens on: what [`ToSocketAddrs`] takes
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

/// How many connections the kernel queues for `accept`: many, so that a burst of
/// connections (attackers cut off at once by a timeout, all coming back) does not drop
/// a scraper's SYN, which would cost it a second's retransmit. Linux caps it at
/// `net.core.somaxconn` (4096 by default).
pub(super) const ACCEPT_QUEUE: i32 = 4096;

/// A listener on the first of `addrs` that binds, as `TcpListener::bind` takes a slice,
/// with a long accept queue.
pub(super) fn bind(addrs: &[SocketAddr]) -> io::Result<TcpListener> {
    let mut last_error = None;
    for addr in addrs {
        let bound = Socket::new(
            Domain::for_address(*addr),
            Type::STREAM,
            Some(Protocol::TCP),
        )
        .and_then(|socket| {
            // As std's `bind`: a restarted server may reuse a port in TIME_WAIT.
            #[cfg(unix)]
            socket.set_reuse_address(true)?;
            socket.bind(&(*addr).into())?;
            socket.listen(ACCEPT_QUEUE)?;
            Ok(socket)
        });
        match bound {
            Ok(socket) => return Ok(socket.into()),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on")))
}

/// File descriptors the process needs beside the server's connections (its own files,
/// the service's sockets): a margin.
const OTHER_FILES: u64 = 256;

/// Raises the soft limit of open files to the hard one when it is below what
/// `connections` need, as Go's runtime does at start for every program (Rust's leaves
/// the soft limit, often 1024, as it is); says on stderr when even the hard limit is
/// below.
pub(super) fn allow_open_files(connections: usize) {
    #[cfg(unix)]
    {
        let needed = u64::try_from(connections)
            .unwrap_or(u64::MAX)
            .saturating_add(OTHER_FILES);
        let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) else {
            return;
        };
        if soft >= needed {
            return;
        }
        let raised = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(soft);
        if raised < needed {
            eprintln!(
                "promlink: this process may open {raised} files, fewer than the {connections} \
                 connections the metrics server may serve need: those beyond it wait"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = connections;
}

/// The bind error, with the address and, for a Go-style `":9184"`, what to write instead.
pub(super) fn cannot_listen(addr: &impl fmt::Debug, error: &io::Error) -> io::Error {
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
