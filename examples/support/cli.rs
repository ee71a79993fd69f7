//! What the examples share: their command line, and printing one exposition or serving
//! `/metrics`.

use promlink::{Format, MetricsServer, Registry};

/// `--listen ADDR`, `--print`, `--openmetrics`.
pub struct Options {
    /// Where to serve.
    pub listen: String,
    /// Print one exposition and exit instead.
    pub print: bool,
    /// The format printed.
    pub format: Format,
}

/// The options, with `default_listen` when `--listen` is not given.
pub fn options(default_listen: &str) -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    Options {
        listen: args
            .iter()
            .position(|a| a == "--listen")
            .and_then(|i| args.get(i + 1))
            .map_or(default_listen, String::as_str)
            .to_owned(),
        print: flag("--print"),
        format: if flag("--openmetrics") {
            Format::OpenMetrics
        } else {
            Format::Text
        },
    }
}

/// With `--print`, prints the global registry once and returns `None`; otherwise serves
/// it, or exits with the reason it cannot.
#[allow(dead_code)] // not every example serves through promlink's server
pub fn print_or_serve(options: &Options) -> Option<MetricsServer> {
    if options.print {
        print!("{}", Registry::global().encode_to_string(options.format));
        return None;
    }
    match promlink::start_http_server(options.listen.as_str()) {
        Ok(server) => {
            println!(
                "serving metrics on http://{}/metrics (Ctrl-C to stop)",
                server.local_addr()
            );
            Some(server)
        }
        Err(e) => {
            eprintln!("cannot serve on {}: {e}", options.listen);
            std::process::exit(1);
        }
    }
}
