//! Core futures as asyncio awaitables, and the exit barrier that keeps them safe.
//!
//! Most loops get their outcomes in batches through [`crate::delivery`], where runtime
//! threads never enter Python. The rest (a loop that cannot watch a socket, such as Windows'
//! proactor loop) get them one by one, as follows.
//!
//! A runtime thread hands a result to the event loop with `call_soon_threadsafe`, which drops
//! the GIL while it wakes the loop. By the time that thread takes the GIL back and leaves
//! Python, the main thread may have finished `asyncio.run` and started finalizing the
//! interpreter, and leaving Python then aborts the process ("PyGILState_Release: thread state
//! must be current"). So every runtime thread enters Python through [`PythonEntry`], and an
//! `atexit` hook ([`wait_for_runtime_threads`]) first bars new entries and then waits, with
//! the GIL released, for the threads still inside.
//!
//! The same gate keeps Python's daemon threads that wait for a sync query out of Python once
//! the exit began ([`back_into_python`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use pyo3::exceptions::PyRuntimeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::IntoPyObjectExt;
use tokio::task::AbortHandle;

use crate::delivery::LoopState;
use crate::errors::to_py_err;
use crate::logs::CallLog;

/// The longest the interpreter's exit waits for runtime threads inside Python.
const EXIT_WAIT: Duration = Duration::from_secs(5);

/// Runtime threads inside Python (or about to be).
static INSIDE: AtomicUsize = AtomicUsize::new(0);
/// Set by the exit hook: no runtime thread may enter Python any more.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// The thread that ran the exit hook: the one finalizing the interpreter.
static EXIT_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Permission for a thread to be inside Python; dropped after it has left (or, for a thread
/// coming back from a wait without the GIL, once it holds the GIL again).
pub(crate) struct PythonEntry;

impl PythonEntry {
    /// `None` once the interpreter is exiting: the caller must not touch Python.
    pub(crate) fn try_enter() -> Option<Self> {
        INSIDE.fetch_add(1, Ordering::SeqCst);
        if CLOSED.load(Ordering::SeqCst) {
            INSIDE.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Self)
    }
}

impl Drop for PythonEntry {
    fn drop(&mut self) {
        INSIDE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// For a Python thread about to take the GIL back after a wait without it: permission, or
/// `None` for the thread finalizing the interpreter (an `atexit` function may still query).
/// Any other thread once the exit began is a daemon thread (the others were joined before
/// `atexit`), which CPython ends with `pthread_exit` as it takes the GIL; that forced unwind
/// through this extension's frames crashes the process. Such a thread never returns from
/// here: it sleeps until the process is gone, as CPython 3.14 makes them do itself.
pub(crate) fn back_into_python() -> Option<PythonEntry> {
    if let Some(entry) = PythonEntry::try_enter() {
        return Some(entry);
    }
    if EXIT_THREAD.get() == Some(&std::thread::current().id()) {
        return None;
    }
    loop {
        std::thread::park();
    }
}

/// Registered with `os.register_at_fork(after_in_child=...)`: the parent's runtime threads
/// that were inside Python do not exist in the child, so they no longer count.
#[pyfunction]
pub fn forget_parent_threads() {
    INSIDE.store(0, Ordering::SeqCst);
}

/// Registered with `atexit`: bars runtime threads from entering Python and waits (GIL
/// released, at most `EXIT_WAIT`) for those already inside to leave.
#[pyfunction]
pub fn wait_for_runtime_threads(py: Python<'_>) {
    let _ = EXIT_THREAD.set(std::thread::current().id());
    py.detach(|| {
        CLOSED.store(true, Ordering::SeqCst);
        // Seconds at most, at exit only: polling keeps the gate free of locks, so a fork can
        // never leave it held.
        let deadline = Instant::now() + EXIT_WAIT;
        while INSIDE.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// The running loop's `asyncio.get_running_loop`, looked up once.
static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Runs `future` on the runtime and returns an asyncio future of the running loop
/// that resolves with its output (or raises its typed error). Cancelling the asyncio future
/// aborts the runtime task.
pub fn into_awaitable<'py, F, T>(
    py: Python<'py>,
    log: Option<Arc<CallLog>>,
    future: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, vectorcache::Error>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let event_loop = GET_RUNNING_LOOP
        .import(py, "asyncio", "get_running_loop")?
        .call0()
        .map_err(|e| no_running_loop(py, e))?;
    let runtime = crate::runtime::handle(py)?;
    let py_future = event_loop.call_method0(intern!(py, "create_future"))?;
    let Some(state) = crate::delivery::state_for(&event_loop)? else {
        return one_by_one(runtime, event_loop, py_future, log, future);
    };
    let sender = state.get().sender();
    let id = sender.id();
    let task = runtime.spawn(async move {
        let outcome = future.await;
        sender.send(Box::new(move |py| match outcome {
            Ok(value) => value.into_py_any(py),
            Err(error) => Err(to_py_err(py, &error)),
        }));
    });
    // The loop's thread is this one, and it holds the GIL: the outcome cannot be taken
    // from the queue before the future waits for it.
    state
        .get()
        .wait(id, py_future.clone().unbind(), task.abort_handle());
    py_future.call_method1(
        intern!(py, "add_done_callback"),
        (CallDone {
            cancel: Cancel::Waiting {
                state: state.unbind(),
                id,
            },
            log,
        },),
    )?;
    Ok(py_future)
}

/// asyncio's bare "no running event loop", said for this client (awaited under trio, say).
fn no_running_loop(py: Python<'_>, error: PyErr) -> PyErr {
    if !error.is_instance_of::<PyRuntimeError>(py) {
        return error;
    }
    let clear = PyRuntimeError::new_err(
        "AsyncVectorcacheClient runs on asyncio (or uvloop), and no asyncio event loop is \
         running in this thread: await it inside asyncio.run(...), or use VectorcacheClient \
         (under trio or anyio's trio backend: trio.to_thread.run_sync with the sync client)",
    );
    clear.set_cause(py, Some(error));
    clear
}

/// The delivery of one outcome at a time, through `call_soon_threadsafe`.
fn one_by_one<'py, F, T>(
    runtime: tokio::runtime::Handle,
    event_loop: Bound<'py, PyAny>,
    py_future: Bound<'py, PyAny>,
    log: Option<Arc<CallLog>>,
    future: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, vectorcache::Error>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let target = Target {
        event_loop: event_loop.unbind(),
        future: py_future.clone().unbind(),
    };
    let task = runtime.spawn(async move {
        let outcome = future.await;
        // Python work happens off the async workers, which must never wait for the GIL.
        let _ = tokio::task::spawn_blocking(move || target.deliver(outcome)).await;
    });
    py_future.call_method1(
        "add_done_callback",
        (CallDone {
            cancel: Cancel::Task(task.abort_handle()),
            log,
        },),
    )?;
    Ok(py_future)
}

/// Where an outcome goes: an asyncio future and the loop that owns it.
struct Target {
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
}

impl Target {
    fn deliver<T>(self, outcome: Result<T, vectorcache::Error>)
    where
        T: for<'a> IntoPyObject<'a>,
    {
        let Some(entry) = PythonEntry::try_enter() else {
            // The interpreter is exiting; these references can no longer be released.
            std::mem::forget(self);
            return;
        };
        Python::attach(|py| {
            let settle = match outcome {
                Ok(value) => value.into_py_any(py).map(Settle::Value),
                Err(error) => Ok(Settle::Error(
                    to_py_err(py, &error).into_value(py).into_any(),
                )),
            };
            let settle = settle.unwrap_or_else(|e| Settle::Error(e.into_value(py).into_any()));
            let callback = SettleFuture {
                future: self.future.clone_ref(py),
                settle: Mutex::new(Some(settle)),
            };
            // A closed loop (the caller gave up on it) has nobody left to tell.
            let _ = self
                .event_loop
                .call_method1(py, "call_soon_threadsafe", (callback,));
            drop(self);
        });
        drop(entry);
    }
}

enum Settle {
    Value(Py<PyAny>),
    Error(Py<PyAny>),
}

/// Runs on the loop's thread: settles the future unless it was cancelled meanwhile.
#[pyclass(frozen)]
struct SettleFuture {
    future: Py<PyAny>,
    settle: Mutex<Option<Settle>>,
}

#[pymethods]
impl SettleFuture {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let future = self.future.bind(py);
        let settle = self.settle.lock().unwrap_or_else(|p| p.into_inner()).take();
        if future.call_method0("done")?.is_truthy()? {
            return Ok(());
        }
        match settle {
            Some(Settle::Value(value)) => future.call_method1("set_result", (value,))?,
            Some(Settle::Error(error)) => future.call_method1("set_exception", (error,))?,
            None => return Ok(()),
        };
        Ok(())
    }
}

/// The asyncio future's done-callback, run in a copy of the context the call was made in
/// (asyncio's rule for a callback added without one) and before the awaiting task resumes:
/// a cancelled query stops its runtime task, and the call's events are logged.
#[pyclass(frozen)]
struct CallDone {
    cancel: Cancel,
    log: Option<Arc<CallLog>>,
}

enum Cancel {
    /// Delivered one by one.
    Task(AbortHandle),
    /// Delivered through the loop's state, which holds the task.
    Waiting { state: Py<LoopState>, id: u64 },
}

#[pymethods]
impl CallDone {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = future.py();
        if future.call_method0(intern!(py, "cancelled"))?.is_truthy()? {
            match &self.cancel {
                Cancel::Task(task) => task.abort(),
                Cancel::Waiting { state, id } => state.get().cancel(*id),
            }
        }
        // After the abort: a cancelled call's records so far, and no more.
        if let Some(log) = &self.log {
            log.flush(py);
        }
        Ok(())
    }
}
