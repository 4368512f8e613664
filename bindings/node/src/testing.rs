//! The in-process emulator behind `require('vectorcache/testing').Emulator`: the same server as
//! `vectorcache emulator`, on the addon's runtime, on a free loopback port.

use std::sync::Mutex;

use napi_derive::napi;
use vectorcache_emulator::config::{generate_key, EmulatorConfig};
use vectorcache_emulator::{Emulator, RunningEmulator};

/// A running emulator; `testing.js` drives it.
#[napi]
pub struct EmulatorServer {
    running: Mutex<Option<RunningEmulator>>,
    url: String,
    api_key: String,
}

/// Starts an emulator accepting `apiKey` (a new one when not given) on `127.0.0.1:port`
/// (0: a free port).
#[napi]
pub async fn start_emulator(
    api_key: Option<String>,
    port: Option<u32>,
) -> napi::Result<EmulatorServer> {
    let api_key = api_key.unwrap_or_else(generate_key);
    let port = u16::try_from(port.unwrap_or(0))
        .map_err(|_| napi::Error::from_reason("`port` must be from 0 to 65535"))?;
    let running = Emulator::start_local(EmulatorConfig::with_key(api_key.clone()), port)
        .await
        .map_err(|e| napi::Error::from_reason(format!("cannot start the emulator: {e}")))?;
    Ok(EmulatorServer {
        url: running.url(),
        api_key,
        running: Mutex::new(Some(running)),
    })
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
