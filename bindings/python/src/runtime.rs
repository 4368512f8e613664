//! The tokio runtime of this process, and the blocking wait of the sync client on it.
//!
//! A forked child inherits the parent's runtime object but none of its worker threads, so
//! anything spawned on it would wait forever (gunicorn `--preload`, Celery's prefork pool,
//! `multiprocessing` with `fork`). The runtime is therefore kept per process id: the first
//! call in a new process builds a new one, and the parent's is leaked there, never dropped
//! (dropping it would wait for threads that do not exist in the child).

use std::future::Future;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::{Handle, Runtime};

use crate::logs::CallLog;

/// How often a blocked call looks for signals (Ctrl-C) while it waits.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// The runtime and the process it was built in.
struct ProcessRuntime {
    pid: u32,
    runtime: &'static Runtime,
}

// Only taken with the GIL held (every caller holds it), so a fork, which Python makes with
// the GIL held, never leaves it locked in the child.
static RUNTIME: Mutex<Option<ProcessRuntime>> = Mutex::new(None);

/// A handle on this process's runtime, built on first use in each process. When it cannot be
/// built (no file descriptor or thread left), an `APIConnectionError`.
pub fn handle(py: Python<'_>) -> PyResult<Handle> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(current) = slot.as_ref().filter(|r| r.pid == pid) {
        return Ok(current.runtime.handle().clone());
    }
    // With the hook that wakes asyncio loops once per busy stretch (see delivery.rs).
    let runtime = match vectorcache::bindings::wake::runtime_builder()
        .thread_name("vectorcache")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            // Released first: making the exception runs Python code, which may hand the GIL
            // to a thread that then waits for this lock (or fork, leaving it taken).
            drop(slot);
            let error = vectorcache::bindings::runtime_unavailable(e);
            return Err(crate::errors::to_py_err(py, &error));
        }
    };
    // 'static: the runtime lives as long as the process (and is leaked in a forked child).
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    // The parent's runtime, if this is a forked child, is forgotten with the old slot value.
    *slot = Some(ProcessRuntime { pid, runtime });
    Ok(runtime.handle().clone())
}

/// Runs `future` on the runtime and waits for its output with the GIL released, so other
/// Python threads run meanwhile (a greenlet of a gevent hub yields to the hub instead; see
/// cooperative.rs). Between waits of `SIGNAL_CHECK_INTERVAL` it checks for
/// signals: Ctrl-C raises `KeyboardInterrupt` at once and cancels the future.
pub fn wait_detached<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    wait_logged(py, future, None)
}

/// [`wait_detached`] for a call whose events `log` collects: this thread logs them as it
/// waits (every `SIGNAL_CHECK_INTERVAL`, so a retry's wait shows as it starts) and once the
/// call ends, however it ends.
pub fn wait_logged<F>(py: Python<'_>, future: F, log: Option<Arc<CallLog>>) -> PyResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let output = wait(py, future, log.as_deref());
    if let Some(log) = &log {
        log.flush(py);
    }
    output
}

fn wait<F>(py: Python<'_>, future: F, log: Option<&CallLog>) -> PyResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if let Some(waiter) = crate::cooperative::hub_waiter(py)? {
        return crate::cooperative::wait_in_hub(py, waiter, future);
    }
    let (sender, mut receiver) = mpsc::sync_channel(1);
    let task = handle(py)?.spawn(async move {
        // The receiver is gone only if the caller was interrupted: nobody to tell then.
        let _ = sender.send(future.await);
    });
    loop {
        // A `Receiver` is not `Sync`, so it moves into the detached closure and back out.
        let received;
        let entry;
        (receiver, received, entry) = py.detach(move || {
            let received = receiver.recv_timeout(SIGNAL_CHECK_INTERVAL);
            // Held until the GIL is ours again, so the exit hook waits for this thread.
            (receiver, received, crate::bridge::back_into_python())
        });
        drop(entry);
        match received {
            Ok(output) => return Ok(output),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(log) = log {
                    log.flush(py);
                }
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    return Err(interrupt);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the Vectorcache task ended without an answer",
                ))
            }
        }
    }
}
