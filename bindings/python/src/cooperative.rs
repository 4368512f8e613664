//! The sync client's wait under gevent: a greenlet yields to its hub while the runtime works.
//!
//! Blocking the hub's thread until an answer comes (as [`crate::runtime::wait_detached`]
//! does) would stop every other greenlet of that thread: a gevent worker of gunicorn or
//! Celery would serve nothing else, and `gevent.Timeout` could not fire. The gevent side of
//! the wait is `vectorcache/_gevent.py`; this module drives it, and decides, without calling
//! into Python, that a process that never imported gevent waits the plain way.

use std::future::Future;
use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::bridge::PythonEntry;

/// `sys.modules`, looked up once.
static MODULES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
/// `vectorcache._gevent.hub_waiter`, looked up once.
static HUB_WAITER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The waiter (see `_gevent.py`) for a caller running in a gevent hub's thread, or `None`.
pub fn hub_waiter(py: Python<'_>) -> PyResult<Option<Bound<'_, PyAny>>> {
    let modules = MODULES.get_or_try_init(py, || {
        py.import("sys")?
            .getattr("modules")?
            .cast_into::<PyDict>()
            .map(Bound::unbind)
            .map_err(PyErr::from)
    })?;
    if !modules.bind(py).contains("gevent")? {
        return Ok(None);
    }
    let waiter = HUB_WAITER
        .import(py, "vectorcache._gevent", "hub_waiter")?
        .call0()?;
    Ok((!waiter.is_none()).then_some(waiter))
}

/// Runs `future` on the runtime and waits for its output in the gevent hub through `waiter`.
/// Whatever ends the wait early (a `gevent.Timeout`, a kill) is raised, and cancels the query.
pub fn wait_in_hub<F>(py: Python<'_>, waiter: Bound<'_, PyAny>, future: F) -> PyResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let output = Arc::new(Mutex::new(None));
    // Whoever takes the waiter out first speaks to it: the task to `notify`, or this thread
    // to `cancel`; so a watcher is never signalled after it was closed.
    let claim = Arc::new(Mutex::new(Some(waiter.clone().unbind())));
    let task = {
        let (output, claim) = (output.clone(), claim.clone());
        crate::runtime::handle(py)?.spawn(async move {
            let answer = future.await;
            *output.lock().unwrap_or_else(|p| p.into_inner()) = Some(answer);
            let taken = claim.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(waiter) = taken {
                // Python work happens off the async workers, which must never wait for the GIL.
                let _ = tokio::task::spawn_blocking(move || notify(waiter)).await;
            }
        })
    };
    if let Err(ended) = waiter.call_method0("wait") {
        task.abort();
        let taken = claim.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(waiter) = taken {
            waiter.call_method0(py, "cancel")?;
        }
        return Err(ended);
    }
    let answer = output.lock().unwrap_or_else(|p| p.into_inner()).take();
    answer.ok_or_else(|| PyRuntimeError::new_err("the Vectorcache task ended without an answer"))
}

/// From a runtime thread: tells the hub the answer is in.
fn notify(waiter: Py<PyAny>) {
    let Some(entry) = PythonEntry::try_enter() else {
        // The interpreter is exiting; this reference can no longer be released.
        std::mem::forget(waiter);
        return;
    };
    Python::attach(|py| {
        if let Err(error) = waiter.call_method0(py, "notify") {
            error.write_unraisable(py, Some(waiter.bind(py)));
        }
        drop(waiter);
    });
    drop(entry);
}
