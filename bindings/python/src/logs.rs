//! The core's events (answers, retries) into Python's `logging`, logger `vectorcache`.
//!
//! The events happen on the runtime's threads, which must not wait for the GIL (and must not
//! enter Python while the interpreter exits). So they are queued here, and handed to `logging`
//! by the Python thread that gets the outcome of a query: the caller of the sync client, the
//! event loop's thread for the async one.

use std::sync::atomic::{AtomicU8, Ordering};
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

/// `logging`'s numbers for the two levels the core's events have.
const DEBUG: u8 = 10;
const INFO: u8 = 20;
/// Events below this level are not queued at all: the lowest level the logger handled when a
/// Python thread last looked ([`refresh`], as each call starts). So a logger left at its
/// default (WARNING) costs the runtime no formatting and no queue, and events nobody would
/// see never pile up.
static THRESHOLD: AtomicU8 = AtomicU8::new(DEBUG);

fn number(level: Level) -> u8 {
    match level {
        Level::Debug => DEBUG,
        _ => INFO,
    }
}

fn logger(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    LOGGER
        .get_or_try_init(py, || {
            py.import("logging")?
                .call_method1("getLogger", ("vectorcache",))
                .map(Bound::unbind)
        })
        .map(|logger| logger.bind(py))
}

/// Reads which of the core's levels the `vectorcache` logger handles now; called with the
/// GIL as a call starts, so the events of that call are queued only if someone may see them.
pub fn refresh(py: Python<'_>) {
    let Ok(logger) = logger(py) else {
        return;
    };
    let handles = |level: u8| {
        logger
            .call_method1("isEnabledFor", (level,))
            .and_then(|yes| yes.is_truthy())
            .unwrap_or(true)
    };
    let threshold = if handles(DEBUG) {
        DEBUG
    } else if handles(INFO) {
        INFO
    } else {
        u8::MAX
    };
    THRESHOLD.store(threshold, Ordering::Relaxed);
}

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
        if number(event.level()) < THRESHOLD.load(Ordering::Relaxed) {
            return;
        }
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
    let Ok(logger) = logger(py) else {
        return;
    };
    for (level, message) in events {
        // A failing handler is the application's to see; it must not fail the query.
        if let Err(error) = logger.call_method1("log", (number(level), message)) {
            error.print(py);
        }
    }
}
