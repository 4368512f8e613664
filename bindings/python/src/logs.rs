//! The core's events (answers, retries) into Python's `logging`, logger `vectorcache`.
//!
//! The events happen on the runtime's threads, which must not wait for the GIL (and must not
//! enter Python while the interpreter exits). So they are queued here, and handed to `logging`
//! by the Python thread that gets the outcome of a query: the caller of the sync client, the
//! event loop's thread for the async one.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use vectorcache::{Event, EventHook, Level};

/// The queue: runtime threads send without a lock (a lock held by one of them when the
/// process forks would stay held in the child); only Python threads, holding the GIL, take the
/// receiving end.
struct Queue {
    sender: Sender<(Level, String)>,
    receiver: Mutex<Receiver<(Level, String)>>,
}

static QUEUE: OnceLock<Queue> = OnceLock::new();
static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn queue() -> &'static Queue {
    QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel();
        Queue {
            sender,
            receiver: Mutex::new(receiver),
        }
    })
}

/// The hook every client of this module is built with.
pub fn hook() -> EventHook {
    let sender = queue().sender.clone();
    Arc::new(move |event: &Event| {
        // The receiver lives as long as the process.
        let _ = sender.send((event.level(), event.to_string()));
    })
}

/// Hands the queued events to `logging.getLogger("vectorcache")` (DEBUG for answers, INFO for
/// retries). Called with the GIL, on the thread that receives a query's outcome.
pub fn flush(py: Python<'_>) {
    let events: Vec<(Level, String)> = {
        let receiver = queue().receiver.lock().unwrap_or_else(|p| p.into_inner());
        receiver.try_iter().collect()
    };
    if events.is_empty() {
        return;
    }
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
