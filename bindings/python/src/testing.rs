//! The in-process emulator behind `vectorcache.testing.Emulator`: the same server as
//! `vectorcache emulator`, started on this process's runtime on a free loopback port.

use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyMapping};
use vectorcache_emulator::config::{generate_key, EmulatorConfig};
use vectorcache_emulator::{Emulator, EmulatorError, RateLimitConfig, RunningEmulator};

use crate::config::{whole_number, Whole};
use crate::runtime::wait_detached;

/// A running emulator; `vectorcache.testing.Emulator` drives it.
#[pyclass(frozen, module = "vectorcache._native")]
pub struct EmulatorServer {
    running: Mutex<Option<RunningEmulator>>,
    url: String,
    api_key: String,
    /// The process that started it: its tasks run on that process's runtime.
    pid: u32,
}

impl EmulatorServer {
    /// The server, unless this is a forked child: there the server's tasks belong to a
    /// runtime with no threads, so stopping it would wait forever (and its channels may hold
    /// a lock of the parent's). The child only lets go of it, the parent's server runs on.
    fn take(&self) -> Option<RunningEmulator> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if std::process::id() == self.pid {
            return running;
        }
        std::mem::forget(running);
        None
    }

    /// `call` on the running server. A stopped one, or one in a forked child (whose copy of
    /// the server's state no longer is what the parent's server serves), is a `RuntimeError`.
    fn with_running<T>(&self, call: impl FnOnce(&RunningEmulator) -> T) -> PyResult<T> {
        if std::process::id() != self.pid {
            // `vectorcache.testing` asks the parent's server over HTTP from a child instead.
            return Err(PyRuntimeError::new_err(format!(
                "the emulator runs in the process that started it (pid {}), not in this forked \
                 child",
                self.pid
            )));
        }
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let running = running
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the emulator is stopped"))?;
        Ok(call(running))
    }
}

impl Drop for EmulatorServer {
    fn drop(&mut self) {
        drop(self.take());
    }
}

#[pymethods]
impl EmulatorServer {
    /// Starts an emulator accepting `api_key` (a new one when `None`) on `127.0.0.1:port`,
    /// rate limiting as `rate_limit` says (see [`rate_limit_arg`]).
    #[new]
    #[pyo3(signature = (api_key = None, port = None, rate_limit = None))]
    fn new(
        py: Python<'_>,
        api_key: Option<String>,
        port: Option<&Bound<'_, PyAny>>,
        rate_limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let port = port.map(port_arg).transpose()?.unwrap_or(0);
        let api_key = api_key.unwrap_or_else(generate_key);
        let mut config = EmulatorConfig::with_key(api_key.clone());
        if let Some(rate_limit) = rate_limit {
            config.rate_limit = rate_limit_arg(rate_limit)?;
        }
        // Started from a task of this process's runtime, so the server's tasks live there too.
        let started = wait_detached(py, Emulator::start_local(config, port))?.map_err(|e| {
            let message = format!("cannot start the emulator: {e}");
            match e {
                EmulatorError::Config(_) => PyValueError::new_err(message),
                _ => PyRuntimeError::new_err(message),
            }
        })?;
        Ok(Self {
            url: started.url(),
            api_key,
            running: Mutex::new(Some(started)),
            pid: std::process::id(),
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

    /// Stops the server and waits (up to 5 s) for requests in flight. Idempotent. In a
    /// forked child it only lets go of the parent's server.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        if let Some(running) = self.take() {
            wait_detached(py, running.shutdown())?;
        }
        Ok(())
    }

    /// Queues one fault given as the JSON of a fault object (`{"status": 503, "count": 2}`);
    /// `ValueError` with the emulator's reason when it cannot make it.
    fn add_fault(&self, fault: &str) -> PyResult<()> {
        self.with_running(|running| running.add_fault_json(fault.as_bytes()))?
            .map_err(|refused| PyValueError::new_err(refused.to_string()))
    }

    /// The request log as JSON, oldest first (the `Authorization` header redacted).
    fn requests(&self, py: Python<'_>) -> PyResult<String> {
        // Up to 1,000 entries with their bodies: other threads run meanwhile.
        py.detach(|| {
            let log = self.with_running(|running| running.requests())?;
            serde_json::to_string(&log).map_err(|e| PyRuntimeError::new_err(e.to_string()))
        })
    }

    /// Forgets the cache, the queued faults, the request log and the rate-limit buckets.
    fn reset(&self) -> PyResult<()> {
        self.with_running(|running| running.reset())
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

/// `port=`: an int from 0 (a free one) to 65535; `ValueError` outside, `TypeError` for
/// anything but an int (a bool included), as the rest of the package does.
fn port_arg(value: &Bound<'_, PyAny>) -> PyResult<u16> {
    let port = match whole_number("port", value)? {
        Whole::Fits(n) => u16::try_from(n).map_err(|_| n.to_string()),
        Whole::Huge(shown) => Err(shown),
    };
    port.map_err(|shown| {
        PyValueError::new_err(format!("`port` must be from 0 to 65535, got {shown}"))
    })
}

/// `rate_limit=`: `True` (the generous default), `False` (no limiting, no `X-RateLimit-*`) or
/// `{"per_minute": n, "burst": m}` (`burst` defaults to `per_minute`); the emulator checks the
/// values when it starts.
fn rate_limit_arg(value: &Bound<'_, PyAny>) -> PyResult<Option<RateLimitConfig>> {
    const EXPECTED: &str = "rate_limit must be True, False or {'per_minute': int, 'burst': int}";
    if let Ok(on) = value.cast::<PyBool>() {
        return Ok(on.is_true().then_some(RateLimitConfig::GENEROUS));
    }
    let mapping = value
        .cast::<PyMapping>()
        .map_err(|_| PyTypeError::new_err(EXPECTED))?;
    for key in mapping.keys()?.iter() {
        if !matches!(
            key.extract::<String>().as_deref(),
            Ok("per_minute" | "burst")
        ) {
            return Err(PyTypeError::new_err(format!(
                "{EXPECTED}; got the key {key:?}"
            )));
        }
    }
    let count = |name: &str| -> PyResult<Option<u32>> {
        if !mapping.contains(name)? {
            return Ok(None);
        }
        match mapping.get_item(name)? {
            n if n.is_instance_of::<PyBool>() => Err(PyTypeError::new_err(EXPECTED)),
            n => n.extract::<u32>().map(Some).map_err(|_| {
                PyValueError::new_err(format!(
                    "rate_limit[{name:?}] must be a whole number from 1 to {}",
                    u32::MAX
                ))
            }),
        }
    };
    Ok(Some(RateLimitConfig::from_parts(
        count("per_minute")?,
        count("burst")?,
    )))
}
