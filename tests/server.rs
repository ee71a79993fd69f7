//! `start_http_server` as a scraper and a hostile client see it: content negotiation with
//! the exact header Prometheus sends, gzip, `name[]`, `HEAD`, `404`/`405`, and 200 concurrent scrapes, garbage, an oversized header and a client that
//! sends one byte a second, after each of which good scrapes still get a valid
//! exposition and the process's memory stays bounded.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

#[allow(dead_code)] // this test needs only some of the helpers
mod support {
    pub mod tools;
}

use promlink::{
    start_http_server_with, MetricsServer, Registry, ServerOptions, OPENMETRICS_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
};
use support::tools::{requests_registry, resident_bytes};

const PROMETHEUS_2_42_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// One request on a fresh connection, read to the end.
fn request(addr: SocketAddr, head: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    parse(&raw)
}

fn parse(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn get(addr: SocketAddr, target: &str, extra_headers: &str) -> Answer {
    request(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{extra_headers}\r\n"),
    )
}

/// A server of its own registry, with one counter family.
fn server(header_timeout: Duration) -> (MetricsServer, &'static Registry) {
    let registry = requests_registry();
    let options = ServerOptions {
        registry,
        header_timeout,
        ..ServerOptions::default()
    };
    (
        start_http_server_with("127.0.0.1:0", options).expect("bind"),
        registry,
    )
}

fn assert_valid_text(answer: &Answer) {
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.headers["content-type"], TEXT_CONTENT_TYPE);
    assert_eq!(String::from_utf8_lossy(&answer.body), "# HELP requests_total Requests.\n# TYPE requests_total counter\nrequests_total{code=\"200\"} 3.0\n");
}

#[test]
fn negotiation_gzip_selection_and_methods() {
    let (server, _) = server(Duration::from_secs(10));
    let addr = server.local_addr();

    let om = get(
        addr,
        "/metrics",
        &format!("Accept: {PROMETHEUS_2_42_ACCEPT}\r\n"),
    );
    assert_eq!(om.headers["content-type"], OPENMETRICS_CONTENT_TYPE);
    assert!(om.body.ends_with(b"# EOF\n"));
    assert_valid_text(&get(addr, "/metrics", ""));

    let gzipped = get(addr, "/metrics", "Accept-Encoding: gzip, deflate\r\n");
    assert_eq!(gzipped.headers["content-encoding"], "gzip");
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&gzipped.body[..])
        .read_to_end(&mut plain)
        .unwrap();
    assert_valid_text(&Answer {
        body: plain,
        ..gzipped
    });
    assert!(!get(addr, "/metrics", "Accept-Encoding: gzip;q=0\r\n")
        .headers
        .contains_key("content-encoding"));

    let none = get(addr, "/metrics?name[]=other_total", "");
    assert_eq!((none.status, none.body.len()), (200, 0));
    assert_valid_text(&get(addr, "/metrics?name%5B%5D=requests_total", ""));

    let head = request(
        addr,
        "HEAD /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(
        head.headers["content-length"],
        get(addr, "/metrics", "").body.len().to_string()
    );

    let post = request(
        addr,
        "POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(post.status, 405);
    assert_eq!(post.headers["allow"], "GET, HEAD");
    assert_eq!(get(addr, "/", "").status, 404);
    server.stop();
}

#[test]
fn hostile_clients_do_not_stop_good_scrapes() {
    let (server, _) = server(Duration::from_secs(2));
    let addr = server.local_addr();
    assert_valid_text(&get(addr, "/metrics", ""));

    // 200 concurrent scrapes: every one gets a valid exposition.
    let scrapes: Vec<_> = (0..200)
        .map(|_| std::thread::spawn(move || get(addr, "/metrics", "")))
        .collect();
    for scrape in scrapes {
        assert_valid_text(&scrape.join().unwrap());
    }

    // Garbage: a 400, or a closed connection, and the next scrape is fine.
    let garbage = {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n")
            .unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        raw
    };
    assert!(
        garbage.is_empty() || parse(&garbage).status == 400,
        "{}",
        String::from_utf8_lossy(&garbage)
    );
    assert_valid_text(&get(addr, "/metrics", ""));

    // An oversized header: refused (431) or closed, and the next scrape is fine.
    let oversized = {
        let mut stream = TcpStream::connect(addr).unwrap();
        let big = format!(
            "GET /metrics HTTP/1.1\r\nHost: test\r\nX-Big: {}\r\n\r\n",
            "x".repeat(200_000)
        );
        let _ = stream.write_all(big.as_bytes());
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        raw
    };
    assert!(
        oversized.is_empty() || parse(&oversized).status == 431,
        "{}",
        String::from_utf8_lossy(&oversized)
    );
    assert_valid_text(&get(addr, "/metrics", ""));

    // One byte a second: good scrapes are served meanwhile, and the slow client is cut
    // off once the header timeout (2 s here) passes.
    let slow = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        for byte in b"GET /metrics HTTP/1.1\r\nHost: slow\r\n\r\n" {
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
            if started.elapsed() > Duration::from_secs(8) {
                break;
            }
        }
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        (started.elapsed(), raw)
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_valid_text(&get(addr, "/metrics", ""));
    let (elapsed, raw) = slow.join().unwrap();
    assert!(
        elapsed < Duration::from_secs(8),
        "the slow client was cut off after {elapsed:?}"
    );
    assert!(
        raw.is_empty() || parse(&raw).status == 408,
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert_valid_text(&get(addr, "/metrics", ""));

    // Memory: once warm (the client threads above left their allocator arenas), two
    // thousand more scrapes and garbage do not grow the process.
    let baseline = resident_bytes();
    for i in 0..2000 {
        if i % 10 == 0 {
            let mut stream = TcpStream::connect(addr).unwrap();
            let _ = stream.write_all(b"\x00\x01garbage\r\n\r\n");
        } else {
            assert_valid_text(&get(addr, "/metrics", ""));
        }
    }
    let grown = resident_bytes().saturating_sub(baseline);
    assert!(grown < 8 * 1024 * 1024, "the process grew by {grown} bytes");
    server.stop();
}

#[test]
fn stop_lets_the_request_in_progress_finish_and_closes_idle_connections() {
    let (server, _) = server(Duration::from_secs(30));
    let addr = server.local_addr();
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let mut answer = [0; 4096];
    assert!(idle.read(&mut answer).unwrap() > 0, "the kept-alive answer");

    // Half a request when the server is told to stop; the rest after.
    let mut busy = TcpStream::connect(addr).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    busy.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let stopping = std::thread::spawn(move || server.stop());
    std::thread::sleep(Duration::from_millis(200));
    busy.write_all(b"Connection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    busy.read_to_end(&mut raw)
        .expect("the answer to the request in progress");
    assert_valid_text(&parse(&raw));

    // The idle kept-alive connection is closed, not left to its header timeout.
    assert_eq!(idle.read(&mut answer).unwrap_or(0), 0, "closed");
    stopping.join().unwrap();
}

#[test]
fn a_dropped_handle_leaves_the_server_serving() {
    // `promlink::start_http_server(addr)?;` as the README writes it drops the handle.
    let (server, _) = server(Duration::from_secs(5));
    let addr = server.local_addr();
    drop(server);
    std::thread::sleep(Duration::from_millis(100));
    assert_valid_text(&get(addr, "/metrics", ""));
}

#[test]
fn a_bind_error_names_the_address_and_a_go_style_one_gets_a_hint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let error = promlink::start_http_server(addr).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    assert!(
        error
            .to_string()
            .starts_with(&format!("promlink: cannot listen on {addr}: ")),
        "{error}"
    );
    let error = promlink::start_http_server(":9184").unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("(to listen on every interface, write \"0.0.0.0:9184\")"),
        "{error}"
    );
}

#[test]
fn a_port_alone_listens_on_every_interface_as_in_python() {
    use promlink::ListenAddr;
    let every: std::net::SocketAddr = "0.0.0.0:9184".parse().unwrap();
    assert_eq!(9184_u16.socket_addrs().unwrap(), vec![every]);
    let loopback: std::net::SocketAddr = "127.0.0.1:9184".parse().unwrap();
    assert_eq!("127.0.0.1:9184".socket_addrs().unwrap(), vec![loopback]);
    assert_eq!(("127.0.0.1", 9184).socket_addrs().unwrap(), vec![loopback]);
}

#[test]
fn stop_answers_the_requests_already_received() {
    // One connection at a time: the others wait in the kernel's queue, their requests
    // sent, when the server is told to stop.
    let registry: &'static Registry = server(Duration::from_secs(10)).1;
    let options = ServerOptions {
        registry,
        max_connections: 1,
        ..ServerOptions::default()
    };
    let server = start_http_server_with("127.0.0.1:0", options).expect("bind");
    let addr = server.local_addr();
    let mut busy = TcpStream::connect(addr).unwrap();
    busy.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let queued: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                .unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let stopping = std::thread::spawn(move || server.stop());
    std::thread::sleep(Duration::from_millis(200));
    busy.write_all(b"Connection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    busy.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    busy.read_to_end(&mut raw).expect("the request in progress");
    assert_valid_text(&parse(&raw));
    for mut stream in queued {
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .expect("a queued request is answered, not reset");
        assert_valid_text(&parse(&raw));
    }
    stopping.join().unwrap();
    // And then nothing listens.
    assert!(TcpStream::connect(addr).is_err());
}
