//! The core's events (answers, retries) into Python's `logging`, logger `vectorcache`.
//!
//! The events happen on the runtime's threads, which must not wait for the GIL (and must not
//! enter Python while the interpreter exits). So they are queued here, and handed to `logging`
//! by the Python thread that gets the outcome of a query: the caller of the sync client, the
//! event loop's thread for the async one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use vectorcache::{Event, EventHook, Level};

/// Events kept at most between two hand-overs; older ones give way.
const CAPACITY: usize = 10_000;

static QUEUE: Mutex<VecDeque<(Level, String)>> = Mutex::new(VecDeque::new());
static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The hook every client of this module is built with.
pub fn hook() -> EventHook {
    Arc::new(|event: &Event| {
        let mut queue = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
        if queue.len() == CAPACITY {
            queue.pop_front();
        }
        queue.push_back((event.level(), event.to_string()));
    })
}

/// Hands the queued events to `logging.getLogger("vectorcache")` (DEBUG for answers, INFO for
/// retries). Called with the GIL, on the thread that receives a query's outcome.
pub fn flush(py: Python<'_>) {
    let events: Vec<(Level, String)> = {
        let mut queue = QUEUE.lock().unwrap_or_else(|p| p.into_inner());
        if queue.is_empty() {
            return;
        }
        queue.drain(..).collect()
    };
    let Ok(logger) = LOGGER.get_or_try_init(py, || {
        py.import("logging")?
            .call_method1("getLogger", ("vectorcache",))
            .map(Bound::unbind)
    }) else {
        return;
    };
    let logger = logger.bind(py);
    for (level, message) in events {
        let level = match level {
            Level::Debug => 10,
            _ => 20,
        };
        // A failing handler is the application's to see; it must not fail the query.
        if let Err(error) = logger.call_method1("log", (level, message)) {
            error.print(py);
        }
    }
}
