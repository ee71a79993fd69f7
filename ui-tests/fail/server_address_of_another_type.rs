fn main() -> std::io::Result<()> {
    // A port as Python takes it compiles: `start_http_server(8000)`. A float does not.
    let _server = promlink::start_http_server(8000.0)?;
    Ok(())
}
