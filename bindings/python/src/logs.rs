//! The core's events (answers, retries) into Python's `logging`, logger `vectorcache`.
//!
//! The events happen on the runtime's threads, which must not wait for the GIL (and must not
//! enter Python while the interpreter exits). So each call collects its own in a [`CallLog`]
//! (the core tells a request's own hook its events), and the Python thread that made the call
//! hands them to `logging`: the sync client's caller while it waits (so a retry's wait is
//! logged as it starts) and when the call ends, the event loop's thread for the async client
//! when the call's future is done (in the context the call was made in). Each record then
//! carries the calling thread, and a cancelled or interrupted call logs its own records so
//! far, never another's.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use vectorcache::bindings::call_log::{self, Kept};
use vectorcache::{CallHook, Level};

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `logging`'s numbers for the two levels the core's events have.
const DEBUG: u8 = 10;
const INFO: u8 = 20;
/// Events below this level are not collected at all: the lowest level the logger handled when a
/// Python thread last looked ([`refresh`], as each call starts). So a logger left at its
/// default (WARNING) costs the runtime no formatting and no log, and events nobody would
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
/// GIL as a call starts, so the events of that call are kept only if someone may see them.
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
pub struct CallLog {
    events: Arc<call_log::CallLog>,
    /// The process that made the call: a forked child inherits the log (an asyncio loop's
    /// pending call, say) but neither the call nor, maybe, the lock in a usable state.
    pid: u32,
}

impl CallLog {
    /// A log for a call starting now, unless the logger handles none of the core's levels
    /// (its default, WARNING): then the call carries no hook, and its events are not even
    /// made. Called with the GIL as the call starts (see [`refresh`]).
    pub fn for_call(py: Python<'_>) -> Option<Arc<Self>> {
        refresh(py);
        (THRESHOLD.load(Ordering::Relaxed) != u8::MAX).then(|| {
            Arc::new(Self {
                events: Arc::default(),
                pid: std::process::id(),
            })
        })
    }

    /// The hook for the call's request(s) (one for all of a batch's).
    pub fn hook(&self) -> CallHook {
        self.events
            .hook(|level| number(level) >= THRESHOLD.load(Ordering::Relaxed))
    }

    /// Hands the events so far to `logging.getLogger("vectorcache")` (DEBUG for answers, INFO
    /// for retries), on this thread, each with the time it happened. Nothing in a forked
    /// child: the call is its parent's, which logs it.
    pub fn flush(&self, py: Python<'_>) {
        if std::process::id() != self.pid {
            return;
        }
        let events = self.events.take();
        if events.is_empty() {
            return;
        }
        let Ok(logger) = logger(py) else {
            return;
        };
        for kept in events {
            // A failing handler is the application's to see; it must not fail the query.
            if let Err(error) = emit(logger, kept) {
                error.print(py);
            }
        }
    }
}

/// Logs one event as `logger.log` would, but dated when it happened: an async call's events
/// are logged as it ends, and a retry's wait may have been seconds before.
fn emit(logger: &Bound<'_, PyAny>, kept: Kept) -> PyResult<()> {
    let py = logger.py();
    let level = number(kept.level);
    let when = kept
        .at
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    let (file, line, function, _stack): (
        Bound<'_, PyAny>,
        Bound<'_, PyAny>,
        Bound<'_, PyAny>,
        Bound<'_, PyAny>,
    ) = logger.call_method0("findCaller")?.extract()?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("func", function)?;
    let record = logger.call_method(
        "makeRecord",
        (
            logger.getattr("name")?,
            level,
            file,
            line,
            kept.message,
            PyTuple::empty(py),
            py.None(),
        ),
        Some(&kwargs),
    )?;
    let now: f64 = record.getattr("created")?.extract()?;
    let relative: f64 = record.getattr("relativeCreated")?.extract()?;
    record.setattr("created", when)?;
    record.setattr("msecs", (when.fract() * 1000.0).floor())?;
    record.setattr("relativeCreated", relative - (now - when) * 1000.0)?;
    logger.call_method1("handle", (record,))?;
    Ok(())
}
