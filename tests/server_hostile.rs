//! `start_http_server` with its defaults under attack, as a well-behaved Prometheus sees
//! it, in a process whose soft limit of open files is 1024: several hundred slowloris clients (headers at one byte a second), pipeliners that
//! never read and idle sockets, reconnecting when cut off, while a probe scrapes every
//! 100 ms: every probe succeeds, p99 under a second. And unread scrapes of a
//! 100,000-series registry: the server's memory stays within about twice one
//! exposition. Each test is bounded in time and stops its attackers itself.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[allow(dead_code)] // this test needs only some of the helpers
mod support {
    pub mod tools;
}

use promlink::{start_http_server_with, Counter, Family, Format, Metric, Registry, ServerOptions};
use support::tools::{in_child, resident_bytes, run_alone};

const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0";

/// Hostile connections of each kind: more than a thousand in all.
const EACH: usize = 340;

/// One test at a time: each measures the server alone on the machine's two cores.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn registry_with(series: usize) -> &'static Registry {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let requests = Arc::new(Metric::new(
        "requests_total",
        "Requests.",
        Family::new(["path", "code"], Counter::new()).with_max_series(series.max(1)),
    ));
    registry.register(requests.clone()).unwrap();
    for i in 0..series {
        requests
            .labels([format!("/api/items/{i}"), "200".to_owned()])
            .inc();
    }
    registry
}

/// One scrape on a fresh connection: the status and the body, read to the end.
fn scrape(addr: SocketAddr, accept: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: probe\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let status = std::str::from_utf8(&raw[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    Ok((status, raw[split + 4..].to_vec()))
}

/// Connections of one kind, kept open (reopened when the server cuts them off) until
/// `stop`, each nudged every `every` by `nudge`. Returns how many connections were made.
fn attack(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    every: Duration,
    open: fn(&mut TcpStream),
    nudge: fn(&mut TcpStream, usize) -> bool,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let connect = || {
            let mut stream = TcpStream::connect(addr).ok()?;
            stream
                .set_write_timeout(Some(Duration::from_millis(50)))
                .ok()?;
            open(&mut stream);
            Some(stream)
        };
        let mut made = 0;
        let mut streams: Vec<Option<TcpStream>> = (0..EACH).map(|_| None).collect();
        let mut tick = 0;
        while !stop.load(Ordering::Relaxed) {
            for slot in &mut streams {
                let alive = slot.as_mut().is_some_and(|s| nudge(s, tick));
                if !alive {
                    *slot = connect();
                    made += 1;
                }
            }
            tick += 1;
            std::thread::sleep(every);
        }
        made
    })
}

fn slowloris(addr: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    attack(
        addr,
        stop,
        Duration::from_secs(1),
        |_| {},
        |stream, tick| {
            let head =
                b"GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            stream.write_all(&[head[tick % head.len()]]).is_ok()
        },
    )
}

/// Whether the server has closed `stream` (it read the end, or an error).
fn still_open(stream: &mut TcpStream) -> bool {
    let mut probe = [0; 1];
    let _ = stream.set_nonblocking(true);
    let open = match stream.peek(&mut probe) {
        Ok(n) => n > 0,
        Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    open
}

fn pipeliners(addr: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    let ask = |stream: &mut TcpStream| {
        let one = "GET /metrics HTTP/1.1\r\nHost: pipeline\r\n\r\n";
        let _ = stream.write_all(one.repeat(64).as_bytes());
    };
    // Never read.
    attack(addr, stop, Duration::from_millis(500), ask, |s, _| {
        still_open(s)
    })
}

fn idle(addr: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    attack(
        addr,
        stop,
        Duration::from_millis(500),
        |_| {},
        |s, _| still_open(s),
    )
}

/// An attack: connections of one kind kept open until told to stop.
type Attack = fn(SocketAddr, Arc<AtomicBool>) -> std::thread::JoinHandle<usize>;

/// Probes the server every 100 ms for 11 s (past the 10 s header timeout, so that the
/// attackers are cut off and come back) while `attacks` run; asserts that every probe
/// got the exposition, with p99 under a second.
fn probe_under(server_addr: SocketAddr, expected: &[u8], name: &str, attacks: &[Attack]) {
    let stop = Arc::new(AtomicBool::new(false));
    let attackers: Vec<_> = attacks
        .iter()
        .map(|attack| attack(server_addr, Arc::clone(&stop)))
        .collect();
    // Let every attacker open its connections first.
    std::thread::sleep(Duration::from_secs(2));
    let mut failures = 0;
    let mut latencies = Vec::new();
    let probing = Instant::now();
    while probing.elapsed() < Duration::from_secs(11) {
        let started = Instant::now();
        match scrape(server_addr, "text/plain") {
            Ok((200, body)) if body == expected => {}
            other => {
                failures += 1;
                eprintln!("a probe failed under {name}: {other:?}");
            }
        }
        latencies.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let made: Vec<usize> = attackers.into_iter().map(|a| a.join().unwrap()).collect();
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!(
        "{name}: {} probes, p50 {:?}, p99 {p99:?}, max {:?}; connections made: {made:?}",
        latencies.len(),
        latencies[latencies.len() / 2],
        latencies.last().unwrap()
    );
    assert!(made.iter().all(|&m| m >= EACH), "{made:?}");
    assert_eq!(failures, 0, "under {name}");
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?} under {name}");
}

/// Run by `probes_get_through_slowloris_pipeliners_and_idle_sockets`, alone in a child
/// process whose soft limit of open files is 1024, a common default.
#[test]
fn child_probes_under_attack() {
    if !in_child() {
        return;
    }
    let registry = registry_with(20);
    let options = ServerOptions {
        registry,
        ..ServerOptions::default()
    };
    let server = start_http_server_with("127.0.0.1:0", options).unwrap();
    let addr = server.local_addr();
    let expected = registry.encode_to_string(Format::Text).into_bytes();
    probe_under(addr, &expected, "slowloris", &[slowloris]);
    probe_under(addr, &expected, "pipeliners", &[pipeliners]);
    probe_under(addr, &expected, "idle sockets", &[idle]);
    probe_under(addr, &expected, "all three", &[slowloris, pipeliners, idle]);
    server.stop();
}

#[test]
fn probes_get_through_slowloris_pipeliners_and_idle_sockets() {
    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Client and server in one process: two descriptors a connection, twice the limit.
    let child = run_alone(
        "child_probes_under_attack",
        &["prlimit", "--nofile=1024:"],
        &[],
    );
    eprint!("{}", String::from_utf8_lossy(&child.stderr));
}

/// 64 OpenMetrics scrapes of `target(i)` sent over two seconds and never read; a second
/// more for the server to answer them.
fn leave_unread(addr: SocketAddr, target: impl Fn(usize) -> String) -> Vec<TcpStream> {
    let unread = (0..64)
        .map(|i| {
            let mut stream = TcpStream::connect(addr).unwrap();
            let head = format!(
                "GET {} HTTP/1.1\r\nHost: unread\r\nAccept: {OPENMETRICS}\r\n\r\n",
                target(i)
            );
            stream.write_all(head.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(30));
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    unread
}

#[test]
fn unread_scrapes_share_their_memory() {
    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let registry = registry_with(100_000);
    let options = ServerOptions {
        registry,
        ..ServerOptions::default()
    };
    let server = start_http_server_with("127.0.0.1:0", options).unwrap();
    let addr = server.local_addr();
    // Warm: one scrape read to the end, twice (the allocator keeps what it had).
    let (status, body) = scrape(addr, OPENMETRICS).unwrap();
    assert_eq!(status, 200);
    let exposition = body.len();
    let _ = scrape(addr, OPENMETRICS).unwrap();
    let baseline = resident_bytes();

    // 64 clients ask and never read, over two seconds.
    let mut unread = leave_unread(addr, |_| "/metrics".to_owned());
    let grown = resident_bytes().saturating_sub(baseline);
    // Meanwhile a probe still gets its answer.
    assert_eq!(scrape(addr, OPENMETRICS).unwrap().0, 200);
    eprintln!(
        "64 unread scrapes of a {exposition}-byte exposition grew the process by {grown} bytes ({}% of one exposition)",
        grown * 100 / exposition
    );
    assert!(
        grown < exposition * 5 / 2,
        "64 unread scrapes grew the process by {grown} bytes; one exposition is {exposition}"
    );

    // 64 more, each a scrape of its own (`name[]` sets that select the same family): the
    // server holds at most four of the largest body, then shares or refuses.
    unread.extend(leave_unread(addr, |i| {
        format!("/metrics?name[]=requests_total&name[]=other_{i}")
    }));
    let grown = resident_bytes().saturating_sub(baseline);
    assert_eq!(scrape(addr, OPENMETRICS).unwrap().0, 200);
    eprintln!(
        "and 64 unread scrapes of 64 selections grew it by {grown} bytes in all ({}% of one exposition)",
        grown * 100 / exposition
    );
    assert!(
        grown < exposition * 5,
        "128 unread scrapes grew the process by {grown} bytes; one exposition is {exposition}"
    );
    drop(unread);
    server.stop();
}
