//! Outcomes handed to an event loop in batches: the fast path of [`crate::bridge`].
//!
//! Each running loop gets a [`LoopState`]: a queue that runtime tasks push finished queries
//! onto, and a socket pair whose read end the loop watches (`add_reader`). A task pushes its
//! outcome as Rust data and writes one byte only if the loop was not woken for the queue yet:
//! no GIL, no Python, one wake-up for a whole batch. While the loop has other queries running,
//! the byte waits until the runtime worker runs out of work and parks (5 ms at most; the core's
//! `bindings::wake`, as in the Node package), so the answers of one busy stretch wake the loop
//! once. The loop then calls the state, with the GIL, and it settles every future of the
//! batch. The asyncio futures stay on the Python side, in the state, keyed
//! by a number the task carries: runtime threads never hold, nor drop, a Python object, so
//! the interpreter's exit needs no barrier for them.
//!
//! A loop that cannot watch a socket (Windows' default proactor loop; every loop where there
//! are no Unix sockets) or cannot be weakly referenced gets `None`; bridge.rs then delivers
//! one query at a time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBool;
use tokio::task::AbortHandle;
use vectorcache::bindings::wake::{self, Signal, Unanswered};

/// A finished query, made into its result (`Ok`) or its exception (`Err`) on the loop's thread.
pub type Outcome = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Py<PyAny>> + Send>;

/// Each loop's [`LoopState`], or `False` for a loop that cannot have one; keyed weakly, so
/// the entry goes with the loop.
static REGISTRY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The state of `event_loop`, made on first use; `None` if that loop cannot have one.
pub fn state_for<'py>(event_loop: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, LoopState>>> {
    let py = event_loop.py();
    let registry = REGISTRY
        .get_or_try_init(py, || {
            py.import("weakref")?
                .call_method0("WeakKeyDictionary")
                .map(Bound::unbind)
        })?
        .bind(py);
    let found = match registry.call_method1(intern!(py, "get"), (event_loop,)) {
        Ok(found) => found,
        Err(error) if error.is_instance_of::<PyTypeError>(py) => return Ok(None),
        Err(error) => return Err(error),
    };
    if let Ok(state) = found.cast::<LoopState>() {
        // In a forked child, a loop inherited from the parent gets a state of its own.
        if state.get().pid == std::process::id() {
            return Ok(Some(state.clone()));
        }
    } else if found.is_instance_of::<PyBool>() {
        return Ok(None);
    }
    // A new loop: a good time to let go of the closed ones.
    sweep(registry)?;
    let state = match LoopState::new() {
        Ok(state) => state,
        Err(error) if error.kind() == std::io::ErrorKind::Unsupported => {
            registry.set_item(event_loop, false)?;
            return Ok(None);
        }
        // Out of file descriptors, say: one by one for now, a new try next time.
        Err(_) => return Ok(None),
    };
    let state = Bound::new(py, state)?;
    let fd = state.get().mailbox.pipe.fd();
    if event_loop
        .call_method1(intern!(py, "add_reader"), (fd, &state))
        .is_err()
    {
        registry.set_item(event_loop, false)?;
        return Ok(None);
    }
    registry.set_item(event_loop, &state)?;
    Ok(Some(state))
}

/// Forgets the states of closed loops, aborting the queries they still wait for. (A closed
/// loop that is still referenced stays in the registry otherwise: its waiting futures refer
/// to it.)
fn sweep(registry: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = registry.py();
    let mut closed = Vec::new();
    for item in registry.call_method0(intern!(py, "items"))?.try_iter()? {
        let (event_loop, state): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        let is_closed = event_loop
            .call_method0(intern!(py, "is_closed"))
            .and_then(|c| c.is_truthy())
            .unwrap_or(false);
        if is_closed {
            closed.push((event_loop, state));
        }
    }
    // Deleted after the iteration, which a change of size would end.
    for (event_loop, state) in closed {
        registry.del_item(&event_loop)?;
        if let Ok(state) = state.cast::<LoopState>() {
            state.get().release();
        }
    }
    Ok(())
}

/// One loop's queue and waiting futures. The loop calls it when the socket is readable.
#[pyclass(frozen)]
pub struct LoopState {
    /// The process that made it (see `Drop`).
    pid: u32,
    mailbox: Arc<Mailbox>,
    /// Only used with the GIL held, so a fork never finds it locked.
    waiting: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    next_id: u64,
    /// Each asyncio future waiting for its outcome, and its runtime task.
    futures: HashMap<u64, (Py<PyAny>, AbortHandle)>,
}

impl LoopState {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            pid: std::process::id(),
            mailbox: Arc::new(Mailbox {
                queue: Mutex::new(Inbox::default()),
                unanswered: Unanswered::default(),
                pipe: Pipe::new()?,
            }),
            waiting: Mutex::new(Waiting::default()),
        })
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where a runtime task sends the outcome of the query `future` waits for; then
    /// [`LoopState::wait`] with the task.
    pub fn sender(&self) -> Sender {
        let mut waiting = self.waiting();
        waiting.next_id += 1;
        self.mailbox.unanswered.asked();
        Sender {
            mailbox: Some(self.mailbox.clone()),
            id: waiting.next_id,
        }
    }

    /// Keeps `future` until the outcome numbered `id` arrives (or it is cancelled).
    pub fn wait(&self, id: u64, future: Py<PyAny>, task: AbortHandle) {
        self.waiting().futures.insert(id, (future, task));
    }

    /// A cancelled future: stops its task and forgets it.
    pub fn cancel(&self, id: u64) {
        let entry = self.waiting().futures.remove(&id);
        if let Some((future, task)) = entry {
            self.abort(task);
            drop(future);
        }
    }

    /// The loop is closed or gone: aborts the tasks still running for it and drops what
    /// waits, with the GIL (every caller holds it).
    fn release(&self) {
        let waiting = std::mem::take(&mut self.waiting().futures);
        for (_, (future, task)) in waiting {
            self.abort(task);
            drop(future);
        }
        if self.pid == std::process::id() {
            drop(self.mailbox.take_queue());
        }
    }

    fn abort(&self, task: AbortHandle) {
        if self.pid == std::process::id() {
            task.abort();
        } else {
            // A parent's task, in a forked child: its runtime, and any lock one of its
            // threads held, are not to be touched here.
            std::mem::forget(task);
        }
    }
}

#[pymethods]
impl LoopState {
    /// The loop's reader callback: settles every future whose outcome has arrived.
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        if self.pid != std::process::id() {
            // A forked child running its parent's loop: the queue is the parent's.
            return Ok(());
        }
        self.mailbox.pipe.clear();
        let batch = self.mailbox.take_queue();
        let mut first_error = None;
        for (id, outcome) in batch {
            // None: cancelled meanwhile.
            let entry = self.waiting().futures.remove(&id);
            if let Some((future, _task)) = entry {
                if let Err(error) = settle(future.bind(py), outcome) {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for LoopState {
    /// Python drops it, with the GIL: what is still queued is dropped here too.
    fn drop(&mut self) {
        self.release();
        if self.pid != std::process::id() {
            // The parent's loop may still run here with this socket registered (a fork
            // while a loop runs): the socket stays open so its number is not reused.
            std::mem::forget(self.mailbox.clone());
        }
    }
}

/// Sets the future's result or exception, unless it is done already (cancelled).
fn settle(future: &Bound<'_, PyAny>, outcome: Outcome) -> PyResult<()> {
    let py = future.py();
    if future.call_method0(intern!(py, "done"))?.is_truthy()? {
        return Ok(());
    }
    match outcome(py) {
        Ok(value) => future.call_method1(intern!(py, "set_result"), (value,))?,
        Err(error) => future.call_method1(intern!(py, "set_exception"), (error.into_value(py),))?,
    };
    Ok(())
}

/// A runtime task's way back to the loop, for one query.
pub struct Sender {
    /// Taken by `send`.
    mailbox: Option<Arc<Mailbox>>,
    id: u64,
}

impl Sender {
    /// The number [`LoopState::wait`] and [`LoopState::cancel`] take.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Queues the outcome and wakes the loop, now or when this worker parks, if it was not
    /// woken for the queue yet. Takes no GIL.
    pub fn send(mut self, outcome: Outcome) {
        let Some(mailbox) = self.mailbox.take() else {
            return;
        };
        let others = mailbox.unanswered.answered();
        let mut inbox = mailbox.queue();
        inbox.outcomes.push((self.id, outcome));
        if !inbox.signalled && wake::signal_now(&mailbox, others, inbox.outcomes.len()) {
            inbox.wake(&mailbox.pipe);
        }
    }
}

impl Drop for Sender {
    /// A task aborted (its future was cancelled) or that panicked: one query fewer to wait for.
    fn drop(&mut self) {
        if let Some(mailbox) = self.mailbox.take() {
            mailbox.unanswered.answered();
        }
    }
}

/// What the runtime tasks and the loop share.
struct Mailbox {
    /// Runtime threads lock it briefly; the loop's thread takes the whole batch.
    queue: Mutex<Inbox>,
    /// Queries asked through this mailbox and not answered yet (see `wake::signal_now`).
    unanswered: Unanswered,
    pipe: Pipe,
}

#[derive(Default)]
struct Inbox {
    outcomes: Vec<(u64, Outcome)>,
    /// The byte was written for what `outcomes` holds; cleared when the loop takes them.
    signalled: bool,
}

impl Inbox {
    fn wake(&mut self, pipe: &Pipe) {
        self.signalled = true;
        pipe.wake();
    }
}

impl Mailbox {
    fn queue(&self) -> MutexGuard<'_, Inbox> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The loop's side: takes the batch. The loop clears the socket before, so an outcome
    /// pushed after this wakes it again.
    fn take_queue(&self) -> Vec<(u64, Outcome)> {
        let mut inbox = self.queue();
        inbox.signalled = false;
        std::mem::take(&mut inbox.outcomes)
    }
}

impl Signal for Mailbox {
    fn signal_pending(&self) {
        let mut inbox = self.queue();
        if !inbox.signalled && !inbox.outcomes.is_empty() {
            inbox.wake(&self.pipe);
        }
    }
}

impl Drop for Mailbox {
    /// The last owner may be a runtime thread, without the GIL, and an outcome may own
    /// Python objects (a batch's refused items): what was never delivered is leaked.
    fn drop(&mut self) {
        let inbox = self.queue.get_mut().unwrap_or_else(|p| p.into_inner());
        for entry in inbox.outcomes.drain(..) {
            std::mem::forget(entry);
        }
    }
}

/// The socket pair: the loop watches the read end; runtime threads write one byte to wake it.
/// Both ends close together, so a write never meets a closed peer (no SIGPIPE).
#[cfg(unix)]
struct Pipe {
    reader: std::os::unix::net::UnixStream,
    writer: std::os::unix::net::UnixStream,
}

#[cfg(unix)]
impl Pipe {
    fn new() -> std::io::Result<Self> {
        let (reader, writer) = std::os::unix::net::UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(Self { reader, writer })
    }

    fn fd(&self) -> i32 {
        std::os::unix::io::AsRawFd::as_raw_fd(&self.reader)
    }

    fn wake(&self) {
        // A full socket (EAGAIN) has wake-ups enough pending.
        let _ = std::io::Write::write(&mut &self.writer, &[0]);
    }

    fn clear(&self) {
        let mut bytes = [0u8; 64];
        while matches!(std::io::Read::read(&mut &self.reader, &mut bytes), Ok(n) if n > 0) {}
    }
}

/// No Unix sockets: no state is ever made, every loop gets the one-by-one delivery.
#[cfg(not(unix))]
enum Pipe {}

#[cfg(not(unix))]
impl Pipe {
    fn new() -> std::io::Result<Self> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    fn fd(&self) -> i32 {
        match *self {}
    }

    fn wake(&self) {
        match *self {}
    }

    fn clear(&self) {
        match *self {}
    }
}
