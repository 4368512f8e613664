//! `vectorcache emulator`: serve the local emulator until Ctrl-C or SIGTERM.

use std::net::SocketAddr;

use vectorcache_emulator::{
    config::redact_key, Emulator, EmulatorConfig, EmulatorError, RateLimitConfig,
};

use crate::args::EmulatorArgs;
use crate::console::{errln, outln};
use crate::exit;

pub async fn run(args: EmulatorArgs) -> u8 {
    let (mut config, key_source) = match &args.config {
        Some(path) => match EmulatorConfig::from_toml_file(path) {
            Ok(config) => (config, KeySource::File),
            Err(e) => {
                errln!("error: {e}");
                return exit::CONFIG;
            }
        },
        None => match EmulatorConfig::from_env_or_generated() {
            (config, true) => (config, KeySource::Generated),
            (config, false) => (config, KeySource::Env),
        },
    };
    // Each flag overrides its own setting of the file (or the default); a rate given without
    // a burst has a burst of the rate, as in the file.
    if args.rate_limit.is_some() || args.burst.is_some() {
        let file = config.rate_limit;
        let per_minute = args.rate_limit.or(file.map(|f| f.per_minute));
        let burst = match args.rate_limit {
            Some(_) => args.burst,
            None => args.burst.or(file.map(|f| f.burst)),
        };
        config.rate_limit = Some(RateLimitConfig::from_parts(per_minute, burst));
    }
    if args.no_rate_limit {
        config.rate_limit = None;
    }
    if let Some(entries) = args.max_cache_entries {
        config.max_cache_entries = usize::try_from(entries).unwrap_or(usize::MAX);
    }
    if !args.host.is_loopback() {
        tracing::warn!(host = %args.host, "binding beyond loopback: the /_emulator admin routes have no authentication");
    }
    let emulator = match Emulator::start(config, SocketAddr::new(args.host, args.port)).await {
        Ok(emulator) => emulator,
        Err(e) => {
            errln!("error: cannot start the emulator: {e}");
            // A configuration the emulator refuses is the same class however it was given.
            return match e {
                EmulatorError::Config(_) => exit::CONFIG,
                _ => exit::FAILURE,
            };
        }
    };
    let url = emulator.url();
    // Tests and scripts read this first line to learn the port.
    outln!("Vectorcache emulator listening on {url}");
    outln!("  export VECTORCACHE_BASE_URL={url}");
    print_keys(emulator.config(), key_source);
    outln!("Stop with Ctrl-C.");
    match emulator.wait().await {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            errln!("error: {e}");
            exit::FAILURE
        }
    }
}

#[derive(Clone, Copy)]
enum KeySource {
    Generated,
    Env,
    File,
}

/// A generated key is new and local, so it is printed whole for copying; a key that came
/// from the environment or a file may be a real one and is only shown redacted.
fn print_keys(config: &EmulatorConfig, source: KeySource) {
    match (source, config.primary_key()) {
        (KeySource::Generated, Some(key)) => {
            outln!("  export VECTORCACHE_API_KEY={key}   # generated for this run");
        }
        (KeySource::Env, Some(key)) => {
            outln!("  API key: {} (from VECTORCACHE_API_KEY)", redact_key(key));
        }
        _ => {
            for project in &config.projects {
                for key in &project.keys {
                    let state = if key.revoked { "revoked" } else { "active" };
                    outln!(
                        "  project {}: {} ({state})",
                        project.id,
                        redact_key(&key.key)
                    );
                }
            }
        }
    }
}
