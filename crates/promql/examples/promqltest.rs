//! Runs Prometheus's PromQL test scripts against this engine without
//! building the whole binary: `cargo run -q -p promql --example promqltest -- FILE...`.

fn main() {
    std::process::exit(promql::promqltest::cli_main(std::env::args().skip(1)));
}
