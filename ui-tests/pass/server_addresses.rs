//! Every way of giving `start_http_server` its address compiles (none is started here).

#[allow(dead_code)]
fn addresses() -> std::io::Result<()> {
    promlink::start_http_server(8000)?;
    promlink::start_http_server("127.0.0.1:8000")?;
    promlink::start_http_server(String::from("127.0.0.1:8000"))?;
    promlink::start_http_server(("127.0.0.1", 8000))?;
    let addr: std::net::SocketAddr = "127.0.0.1:8000".parse().unwrap();
    promlink::start_http_server(addr)?;
    promlink::start_http_server(&addr)?;
    promlink::start_http_server(&[addr][..])?;
    Ok(())
}

fn main() {}
