//! The core's events (answers, retries) into Python's `logging`, logger `vectorcache`.
//!
//! The events happen on the runtime's threads, which must not wait for the GIL (and must not
//! enter Python while the interpreter exits). So each call collects its own in a [`CallLog`]
//! (the core tells a request's own hook its events), and the Python thread that made the call
//! hands them to `logging`: the sync client's caller while it waits (so a retry's wait is
//! logged as it starts) and when the call ends, the event loop's thread for the async client
//! as it settles the call's future. Each record then carries the calling thread, and a call
//! abandoned (cancelled, interrupted) takes its records with it, not into another's.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use vectorcache::{CallHook, Event, Level};

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

/// One call's events, for the Python thread that made it.
#[derive(Default)]
pub struct CallLog {
    /// Pushed by runtime threads, taken by the caller's (with the GIL); never held across
    /// anything else.
    events: Mutex<Vec<(Level, String)>>,
}

impl CallLog {
    /// A log for a call starting now, unless the logger handles none of the core's levels
    /// (its default, WARNING): then the call carries no hook, and its events are not even
    /// made. Called with the GIL as the call starts (see [`refresh`]).
    pub fn for_call(py: Python<'_>) -> Option<Arc<Self>> {
        refresh(py);
        (THRESHOLD.load(Ordering::Relaxed) != u8::MAX).then(Arc::default)
    }

    /// The hook for the call's request(s).
    pub fn hook(self: &Arc<Self>) -> CallHook {
        let log = self.clone();
        CallHook(Arc::new(move |event: &Event| {
            if number(event.level()) < THRESHOLD.load(Ordering::Relaxed) {
                return;
            }
            log.taken().push((event.level(), event.to_string()));
        }))
    }

    fn taken(&self) -> std::sync::MutexGuard<'_, Vec<(Level, String)>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands the events so far to `logging.getLogger("vectorcache")` (DEBUG for answers, INFO
    /// for retries), on this thread.
    pub fn flush(&self, py: Python<'_>) {
        let events = std::mem::take(&mut *self.taken());
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
}
