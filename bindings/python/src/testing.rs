//! The in-process emulator behind `vectorcache.testing.Emulator`: the same server as
//! `vectorcache emulator`, started on this process's runtime on a free loopback port.

use std::sync::Mutex;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use vectorcache_emulator::config::{generate_key, EmulatorConfig};
use vectorcache_emulator::{Emulator, RunningEmulator};

use crate::runtime::wait_detached;

/// A running emulator; `vectorcache.testing.Emulator` drives it.
#[pyclass(frozen, module = "vectorcache._native")]
pub struct EmulatorServer {
    running: Mutex<Option<RunningEmulator>>,
    url: String,
    api_key: String,
}

#[pymethods]
impl EmulatorServer {
    /// Starts an emulator accepting `api_key` (a new one when `None`) on `127.0.0.1:port`.
    #[new]
    #[pyo3(signature = (api_key = None, port = 0))]
    fn new(py: Python<'_>, api_key: Option<String>, port: u16) -> PyResult<Self> {
        let api_key = api_key.unwrap_or_else(generate_key);
        let config = EmulatorConfig::with_key(api_key.clone());
        // Started from a task of this process's runtime, so the server's tasks live there too.
        let started = wait_detached(py, Emulator::start_local(config, port))?
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the emulator: {e}")))?;
        Ok(Self {
            url: started.url(),
            api_key,
            running: Mutex::new(Some(started)),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The key the emulator accepts.
    #[getter]
    fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Stops the server and waits (up to 5 s) for requests in flight. Idempotent.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(running) = running {
            wait_detached(py, running.shutdown())?;
        }
        Ok(())
    }

    fn __repr__(&self) -> String {
        // The key is a test key the emulator made, but keep the habit: never print one whole.
        format!(
            "EmulatorServer(url={:?}, api_key='{}…')",
            self.url,
            &self.api_key[..7]
        )
    }
}
