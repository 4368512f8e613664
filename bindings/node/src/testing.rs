//! The in-process emulator behind `require('vectorcache/testing').Emulator`: the same server as
//! `vectorcache emulator`, on the addon's runtime, on a free loopback port.

use std::sync::Mutex;

use napi::bindgen_prelude::{FromNapiValue, Object, PromiseRaw, Unknown};
use napi::{Env, Status, ValueType};
use napi_derive::napi;
use vectorcache_emulator::config::{generate_key, EmulatorConfig};
use vectorcache_emulator::{Emulator, RateLimitConfig, RunningEmulator};

use crate::config::whole_number;
use crate::convert::{object_arg, Fields};

/// A running emulator; `testing.js` drives it.
#[napi]
pub struct EmulatorServer {
    running: Mutex<Option<RunningEmulator>>,
    url: String,
    api_key: String,
}

/// Starts an emulator on a free loopback port. `options`: `apiKey` (a new one by default),
/// `port` (0, a free one, by default) and `rateLimit` (see [`rate_limit_option`]). A bad option
/// rejects the promise with code `InvalidArg` (a `TypeError` in `testing.js`) before anything
/// starts.
#[napi(
    ts_args_type = "options?: { apiKey?: string, port?: number, rateLimit?: boolean | { perMinute: number, burst?: number } } | undefined | null",
    ts_return_type = "Promise<EmulatorServer>"
)]
pub fn start_emulator<'env>(
    env: &'env Env,
    options: Option<Unknown>,
) -> napi::Result<PromiseRaw<'env, EmulatorServer>> {
    let read = options.map_or(Ok(None), |o| object_arg(o, "Emulator options"));
    let config = read.and_then(|options| emulator_config(options.as_ref()));
    env.spawn_future(async move {
        let (config, api_key, port) =
            config.map_err(|reason| napi::Error::new(Status::InvalidArg, reason))?;
        let running = Emulator::start_local(config, port)
            .await
            .map_err(|e| napi::Error::from_reason(format!("cannot start the emulator: {e}")))?;
        Ok(EmulatorServer {
            url: running.url(),
            api_key,
            running: Mutex::new(Some(running)),
        })
    })
}

/// The configuration, key and port the options ask for, one line per option.
fn emulator_config(options: Option<&Object>) -> Result<(EmulatorConfig, String, u16), String> {
    let Some(options) = options else {
        let api_key = generate_key();
        return Ok((EmulatorConfig::with_key(api_key.clone()), api_key, 0));
    };
    let options = Fields::read(options, &["apiKey", "port", "rateLimit"], "Emulator option")?;
    let api_key = options.text("apiKey")?.unwrap_or_else(generate_key);
    let port = match options.get::<f64>("port", ValueType::Number)? {
        Some(n) => u16::try_from(whole_number("port", n)?)
            .map_err(|_| "`port` must be from 0 to 65535".to_owned())?,
        None => 0,
    };
    let mut config = EmulatorConfig::with_key(api_key.clone());
    if let Some(rate_limit) = options.value("rateLimit") {
        config.rate_limit = rate_limit_option(rate_limit)?;
    }
    // The emulator's own checks (key format, limits of at least 1), before anything starts.
    config.validate().map_err(|e| e.to_string())?;
    Ok((config, api_key, port))
}

/// `rateLimit`: `true` (the generous default), `false` (no limiting, no `X-RateLimit-*`) or
/// `{ perMinute, burst }` (`burst` defaults to `perMinute`); the emulator checks the values
/// when it starts.
fn rate_limit_option(value: Unknown) -> Result<Option<RateLimitConfig>, String> {
    const EXPECTED: &str = "`rateLimit` must be true, false or { perMinute, burst }";
    let limits = match value.get_type().map_err(|e| e.reason.clone())? {
        ValueType::Boolean => {
            let on = bool::from_unknown(value).map_err(|e| e.reason.clone())?;
            return Ok(on.then_some(RateLimitConfig::GENEROUS));
        }
        ValueType::Object => Object::from_unknown(value).map_err(|e| e.reason.clone())?,
        _ => return Err(EXPECTED.to_owned()),
    };
    let limits = Fields::read(&limits, &["perMinute", "burst"], "rateLimit field")?;
    let count = |name: &str| -> Result<Option<u32>, String> {
        limits
            .get::<f64>(name, ValueType::Number)?
            .map(|n| {
                u32::try_from(whole_number(name, n)?)
                    .map_err(|_| format!("`rateLimit.{name}` must be from 1 to {}", u32::MAX))
            })
            .transpose()
    };
    Ok(Some(RateLimitConfig::from_parts(
        count("perMinute")?,
        count("burst")?,
    )))
}

#[napi]
impl EmulatorServer {
    /// The base URL, e.g. `http://127.0.0.1:40123`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The key the emulator accepts.
    #[napi(getter)]
    pub fn api_key(&self) -> String {
        self.api_key.clone()
    }

    /// Queues one fault given as the JSON of a fault object (`{"status": 503, "count": 2}`) and
    /// returns how many queries the queue will affect. A fault the emulator cannot make
    /// throws with code `InvalidArg` and the emulator's reason.
    #[napi]
    pub fn add_fault(&self, fault: String) -> napi::Result<f64> {
        self.with_running(|running| {
            running
                .add_fault_json(fault.as_bytes())
                .map(|()| running.pending_faults() as f64)
                .map_err(|refused| napi::Error::new(Status::InvalidArg, refused.to_string()))
        })?
    }

    /// The request log as JSON, oldest first (the `Authorization` header redacted).
    #[napi]
    pub fn requests(&self) -> napi::Result<String> {
        let log = self.with_running(|running| running.requests())?;
        serde_json::to_string(&log).map_err(|e| napi::Error::from_reason(e.to_string()))
    }

    /// Forgets the cache, the queued faults, the request log and the rate-limit buckets.
    #[napi]
    pub fn reset(&self) -> napi::Result<()> {
        self.with_running(|running| running.reset())
    }

    /// Stops the server and waits (up to 5 s) for requests in flight. Idempotent.
    #[napi]
    pub async fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(running) = running {
            running.shutdown().await;
        }
    }
}

impl EmulatorServer {
    /// `call` on the running server; a stopped one is an error.
    fn with_running<T>(&self, call: impl FnOnce(&RunningEmulator) -> T) -> napi::Result<T> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let running = running
            .as_ref()
            .ok_or_else(|| napi::Error::from_reason("the emulator is closed"))?;
        Ok(call(running))
    }
}
