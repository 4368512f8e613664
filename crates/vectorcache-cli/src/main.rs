//! `vectorcache`: query the Vectorcache API, run the local emulator, or walk through a demo.

mod args;
mod console;
mod demo;
mod emulator_cmd;
mod exit;
mod output;
mod query_cmd;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::console::errln;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.command);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Query(args) => query_cmd::run(args).await,
            Command::Emulator(args) => emulator_cmd::run(args).await,
            Command::Demo => demo::run().await,
        }
    });
    ExitCode::from(code)
}

/// Logs go to stderr, so `--json` output on stdout stays machine-readable. The emulator logs
/// one line per request by default; the other commands only warn (e.g. about retries).
/// `RUST_LOG` overrides both.
fn init_logging(command: &Command) {
    let default = match command {
        Command::Emulator(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
