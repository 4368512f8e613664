//! The one tokio runtime of the module (pyo3-async-runtimes' multi-threaded one), and the
//! blocking wait of the sync client on it.

use std::future::Future;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// How often a blocked call looks for signals (Ctrl-C) while it waits.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Runs `future` on the shared runtime and waits for its output with the GIL released, so
/// other Python threads run meanwhile. Between waits of `SIGNAL_CHECK_INTERVAL` it checks for
/// signals: Ctrl-C raises `KeyboardInterrupt` at once and cancels the future.
pub fn wait_detached<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (sender, mut receiver) = mpsc::sync_channel(1);
    let task = pyo3_async_runtimes::tokio::get_runtime().spawn(async move {
        // The receiver is gone only if the caller was interrupted: nobody to tell then.
        let _ = sender.send(future.await);
    });
    loop {
        // A `Receiver` is not `Sync`, so it moves into the detached closure and back out.
        let received;
        (receiver, received) = py.detach(move || {
            let received = receiver.recv_timeout(SIGNAL_CHECK_INTERVAL);
            (receiver, received)
        });
        match received {
            Ok(output) => return Ok(output),
            Err(RecvTimeoutError::Timeout) => {
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
