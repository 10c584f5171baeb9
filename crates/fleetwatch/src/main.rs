//! `fleetwatch`: one binary, several roles.
//!
//! - `hub`: receive remote write, store, answer the Prometheus HTTP API, scrape its own targets.
//! - `agent`: discover, scrape, stamp the cluster, queue on disk, remote-write to the hub.
//! - `demo`: a hub and two simulated clusters on loopback.
//! - `check config`: validate a configuration file the way promtool does.
//! - `check rules`: validate rule files the way promtool does.
//! - `test rules`: run rule unit-test files the way promtool does.

mod agent;
mod check;
mod check_rules;
mod demo;
mod hub;
mod memtrim;
mod procmetrics;
mod promqltest;
mod scraping;
mod serve;
mod targetmetrics;
mod test_rules;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Fleetwatch: every cluster's metrics in one place.
#[derive(Parser)]
#[command(name = "fleetwatch", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub: receive, store, query.
    Hub(hub::HubCli),
    /// Run an agent in one cluster: scrape and push to the hub.
    Agent(agent::AgentArgs),
    /// Run a hub and agents for two simulated clusters on loopback.
    Demo(demo::DemoArgs),
    /// Run Prometheus's PromQL test scripts against the query engine.
    Promqltest(promqltest::PromqltestArgs),
    /// Validate files offline.
    Check {
        #[command(subcommand)]
        what: CheckCommand,
    },
    /// Run unit tests offline.
    Test {
        #[command(subcommand)]
        what: TestCommand,
    },
}

#[derive(Subcommand)]
enum TestCommand {
    /// Run rule unit-test files (exit 0 all pass, 1 otherwise).
    Rules(test_rules::TestRulesArgs),
}

#[derive(Subcommand)]
enum CheckCommand {
    /// Validate a Prometheus/Fleetwatch configuration file (exit 0 valid, 1 invalid).
    Config {
        /// The configuration files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Validate rule files (exit 0 valid, 1 invalid, 3 lint problems with --lint-fatal).
    Rules(check_rules::CheckRulesArgs),
}

fn main() -> ExitCode {
    memtrim::configure();
    let cli = Cli::parse();
    init_logging();
    // Both reqwest and our own TLS configs use rustls; pick the provider once, for the process.
    if rustls::crypto::aws_lc_rs::default_provider()
        .install_default()
        .is_err()
    {
        tracing::debug!("a rustls crypto provider was already installed");
    }
    match cli.command {
        Command::Check {
            what: CheckCommand::Config { files },
        } => check::config(&files),
        Command::Check {
            what: CheckCommand::Rules(args),
        } => check_rules::run(args),
        Command::Test {
            what: TestCommand::Rules(args),
        } => test_rules::run(args),
        Command::Hub(args) => run(hub::run(args)),
        Command::Agent(args) => run(agent::run(args)),
        Command::Demo(args) => run(demo::run(args)),
        Command::Promqltest(args) => promqltest::run(args),
    }
}

fn run(fut: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(fut) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
