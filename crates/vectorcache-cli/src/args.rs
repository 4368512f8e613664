//! The command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The Vectorcache command line: query the semantic cache, run a local emulator of the API,
/// or see it all work in a demo.
#[derive(Debug, Parser)]
#[command(name = "vectorcache", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look a prompt up in the cache (VECTORCACHE_API_KEY, VECTORCACHE_BASE_URL).
    Query(QueryArgs),
    /// Run the local Vectorcache emulator.
    Emulator(EmulatorArgs),
    /// Start an in-process emulator and walk through a miss, a hit, contexts and errors.
    Demo,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The prompt to look up (and cache on a miss).
    pub prompt: String,
    /// The LLM model id, e.g. gpt-4o, claude-3-5-sonnet-20241022, gemini-1.5-pro.
    #[arg(long, short)]
    pub model: String,
    /// Cache segment: the same prompt under another context is another entry.
    #[arg(long)]
    pub context: Option<String>,
    /// Minimum similarity (0..1) for a hit; the server's default is 0.85.
    // Numeric options take negative numbers as values (here and below), so the core refuses
    // `--threshold -0.1` with its own message; clap would read `-0` as an unknown flag.
    #[arg(long, allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// Include the server's debug timings.
    #[arg(long)]
    pub debug: bool,
    /// Print the response (or the error) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Project id (default: the key's project).
    #[arg(long)]
    pub project: Option<String>,
    /// Base URL, overriding VECTORCACHE_BASE_URL.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Per-attempt timeout in seconds.
    #[arg(long, allow_negative_numbers = true)]
    pub timeout: Option<f64>,
    /// Retries after the first attempt (0 to 100).
    // Signed, so that a negative count reaches the core's check too.
    #[arg(long, allow_negative_numbers = true)]
    pub max_retries: Option<i64>,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port to listen on (0 picks a free one).
    // Numeric options take negative numbers as values (here and below): `--port -1` is then
    // refused as a bad port, not as an unknown flag `-1`.
    #[arg(long, short, default_value_t = 8787, allow_negative_numbers = true)]
    pub port: u16,
    /// Address to bind. Anything but loopback exposes the unauthenticated admin routes.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// A TOML file with projects, keys and rate limits.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Rate limit per key, requests per minute (overrides the file; default 100000).
    #[arg(long, allow_negative_numbers = true)]
    pub rate_limit: Option<u32>,
    /// Token-bucket burst size (overrides the file). Without it, --rate-limit sets the burst
    /// to the rate.
    #[arg(long, allow_negative_numbers = true)]
    pub burst: Option<u32>,
    /// No rate limiting and no X-RateLimit-* headers (overrides the file).
    #[arg(long, conflicts_with_all = ["rate_limit", "burst"])]
    pub no_rate_limit: bool,
    /// The most entries the cache holds; beyond it the oldest is forgotten (overrides the
    /// file; default 100000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_cache_entries: Option<u64>,
}
