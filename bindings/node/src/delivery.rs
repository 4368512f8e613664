//! Outcomes handed to the JavaScript thread in batches: the fast path of `query`.
//!
//! napi-rs's `spawn_future` makes a thread-safe function (with its own libuv handle) for every
//! promise and spawns two tasks. Here each JavaScript thread (the main one, each worker) has
//! one [`Delivery`] instead: a query pushes its finished outcome, as Rust data, onto the
//! delivery's queue and calls the one thread-safe function only if the queue was empty. The
//! JavaScript thread then settles every promise of the batch in one turn: under load, one
//! wake-up for many answers.
//!
//! Nor does a runtime thread call it as soon as an answer is in: while the JavaScript thread
//! has other queries running, the call waits until the worker runs out of work and parks (5 ms
//! at most), so the answers of one busy stretch wake the JavaScript thread once (the core's
//! `bindings::wake`, which the Python package's asyncio delivery shares).
//!
//! The thread-safe function keeps the event loop alive only while queries are pending, like
//! a socket that is waited on, and not when the process has nothing left to do.
//!
//! `queryMany` is delivered the same way, as one settlement for the whole batch.
//!
//! The other way, a query's work goes to the runtime through [`Ticket::run`]: to the task
//! that answered this thread's last query if it still waits for the next one (one query at a
//! time then wakes no parked worker; see the core's `bindings::wake::linger`), else to a task
//! of its own.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{FromNapiValue, PromiseRaw, ToNapiValue};
use napi::{check_status, sys, Env};
use vectorcache::bindings::wake::linger::{Job, Linger};
use vectorcache::bindings::wake::{self, Signal, Unanswered};

use crate::client::LogEvent;
use crate::names::{Builder, PropertyNames};
use crate::response::{Batch, Outcome};

/// What a promise is settled with: the outcome, and the call's events for the wrapper's
/// logger (none unless the client has one; then on the outcome as `events`).
// The large variant is the common one (a query's answer): boxing it would allocate per query.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Settlement {
    Query(Outcome, Vec<LogEvent>),
    Batch(Batch, Vec<LogEvent>),
}

impl From<(Outcome, Vec<LogEvent>)> for Settlement {
    fn from((outcome, events): (Outcome, Vec<LogEvent>)) -> Self {
        Self::Query(outcome, events)
    }
}

impl From<(Batch, Vec<LogEvent>)> for Settlement {
    fn from((batch, events): (Batch, Vec<LogEvent>)) -> Self {
        Self::Batch(batch, events)
    }
}

/// What a JavaScript thread's queries are delivered through.
struct Delivery {
    /// Touched only on the JavaScript thread (the thread-local owns this value).
    function: sys::napi_threadsafe_function,
    shared: Arc<Shared>,
    /// Promises not settled yet; the thread-safe function is referenced while there are any.
    pending: usize,
    /// The property names the outcomes are built with.
    names: PropertyNames,
}

/// The half of a [`Delivery`] that runtime threads reach.
struct Shared {
    queue: Mutex<Queue>,
    /// Tickets given out and not delivered yet (see `wake::signal_now`).
    unanswered: Unanswered,
    /// Where this thread's next query meets the task that answered its last one.
    linger: Linger,
}

struct Queue {
    function: SendFunction,
    /// `None`: the task ended without an outcome.
    finished: Vec<(SendDeferred, Option<Settlement>)>,
    /// Set when Node finalizes the thread-safe function (its environment ends): from then on
    /// it must not be called, and no promise is left to settle.
    closed: bool,
    /// The function was called for what `finished` holds; cleared when JavaScript takes it.
    signalled: bool,
}

/// The thread-safe function may be called from any thread: that is what it is for.
struct SendFunction(sys::napi_threadsafe_function);
// SAFETY: Node-API allows napi_call_threadsafe_function from any thread.
unsafe impl Send for SendFunction {}

/// A promise's resolver, only ever used on the JavaScript thread that made it (runtime
/// threads only carry it back).
struct SendDeferred(sys::napi_deferred);
// SAFETY: see above; the pointer is never dereferenced off the JavaScript thread.
unsafe impl Send for SendDeferred {}

thread_local! {
    static DELIVERY: RefCell<Option<Delivery>> = const { RefCell::new(None) };
}

/// A promise that the outcome given to [`Ticket::deliver`] settles. A ticket dropped without
/// delivering (a task that panicked, or the runtime shutting down) rejects it, so that no
/// promise is left hanging.
pub struct Ticket {
    deferred: Option<SendDeferred>,
    shared: Arc<Shared>,
}

impl Ticket {
    /// A new promise on `env`'s thread, and the ticket that settles it.
    pub fn new<T>(env: &Env) -> napi::Result<(Self, PromiseRaw<'_, T>)> {
        let raw_env = env.raw();
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        check_status!(unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) })?;
        let shared = DELIVERY.with(|slot| -> napi::Result<Arc<Shared>> {
            let mut slot = slot.borrow_mut();
            if slot.is_none() {
                *slot = Some(Delivery::new(raw_env)?);
            }
            let delivery = slot.as_mut().expect("made above");
            if delivery.pending == 0 {
                check_status!(unsafe {
                    sys::napi_ref_threadsafe_function(raw_env, delivery.function)
                })?;
            }
            delivery.pending += 1;
            delivery.shared.unanswered.asked();
            Ok(delivery.shared.clone())
        })?;
        let ticket = Self {
            deferred: Some(SendDeferred(deferred)),
            shared,
        };
        // SAFETY: `promise` is the promise just made on this env.
        let promise = unsafe { PromiseRaw::from_napi_value(raw_env, promise) }?;
        Ok((ticket, promise))
    }

    /// Settles the promise with `outcome` (from any thread); `true` when no other query of
    /// this thread is left unanswered.
    pub fn deliver(mut self, outcome: impl Into<Settlement>) -> bool {
        match self.deferred.take() {
            Some(deferred) => self.shared.push(deferred, Some(outcome.into())),
            None => false,
        }
    }

    /// Runs the future `work` makes of this ticket (it delivers the ticket, and returns what
    /// [`Ticket::deliver`] did) on the runtime: in the task that answered this thread's last
    /// query if that task still waits for the next one, else in a task of its own.
    pub fn run<F, W>(self, work: W)
    where
        W: FnOnce(Self) -> F,
        F: std::future::Future<Output = bool> + Send + 'static,
    {
        let shared = self.shared.clone();
        let job: Job = Box::pin(work(self));
        if let Err(job) = shared.linger.offer(job) {
            napi::bindgen_prelude::spawn(async move { shared.linger.run(job).await });
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(deferred) = self.deferred.take() {
            self.shared.push(deferred, None);
        }
    }
}

impl Queue {
    /// Calls the thread-safe function (once until JavaScript takes the answers). Called under
    /// the lock, so that the function cannot be finalized meanwhile (see `closed`); the call
    /// only queues, it never waits.
    fn signal(&mut self) {
        if self.closed || self.signalled {
            return;
        }
        self.signalled = true;
        unsafe {
            sys::napi_call_threadsafe_function(
                self.function.0,
                ptr::null_mut(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            );
        }
    }
}

impl Shared {
    /// Queues the outcome for the JavaScript thread; `true` when it was the last one that
    /// thread waited for.
    fn push(self: &Arc<Self>, deferred: SendDeferred, outcome: Option<Settlement>) -> bool {
        let others = self.unanswered.answered();
        let mut queue = self.lock();
        if queue.closed {
            return false;
        }
        queue.finished.push((deferred, outcome));
        if !queue.signalled && wake::signal_now(self, others, queue.finished.len()) {
            queue.signal();
        }
        others == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A panic cannot leave the queue half-changed; go on with it.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Signal for Shared {
    fn signal_pending(&self) {
        let mut queue = self.lock();
        if !queue.finished.is_empty() {
            queue.signal();
        }
    }
}

impl Delivery {
    fn new(env: sys::napi_env) -> napi::Result<Self> {
        let names = PropertyNames::new(env)?;
        let mut name = ptr::null_mut();
        let label = "vectorcache.delivery";
        check_status!(unsafe {
            sys::napi_create_string_utf8(
                env,
                label.as_ptr().cast(),
                label.len() as isize,
                &mut name,
            )
        })?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                // Set below, once made.
                function: SendFunction(ptr::null_mut()),
                finished: Vec::new(),
                closed: false,
                signalled: false,
            }),
            unanswered: Unanswered::default(),
            linger: Linger::default(),
        });
        let resource = async_resource(env)?;
        // The finalizer's own reference to `shared`, given back in `mark_closed`.
        let finalize_data = Arc::into_raw(shared.clone()) as *mut c_void;
        let mut function = ptr::null_mut();
        let created = check_status!(unsafe {
            sys::napi_create_threadsafe_function(
                env,
                ptr::null_mut(),
                resource,
                name,
                0,
                1,
                finalize_data,
                Some(mark_closed),
                ptr::null_mut(),
                Some(settle_finished),
                &mut function,
            )
        });
        if let Err(error) = created {
            drop(unsafe { Arc::from_raw(finalize_data as *const Shared) });
            return Err(error);
        }
        shared.lock().function = SendFunction(function);
        // Referenced only while promises are pending (see `Ticket::new`).
        check_status!(unsafe { sys::napi_unref_threadsafe_function(env, function) })?;
        Ok(Self {
            function,
            shared,
            pending: 0,
            names,
        })
    }
}

/// The object async hooks see for the thread-safe function: `{ hasRef() }`, true while
/// queries are pending, as a timer's or a socket's says whether it holds the event loop. The
/// function lives as long as its thread, so without it jest's `--detectOpenHandles` (which
/// asks `hasRef` where there is one) reported it as left open by a user's first query.
fn async_resource(env: sys::napi_env) -> napi::Result<sys::napi_value> {
    let (mut resource, mut has_ref) = (ptr::null_mut(), ptr::null_mut());
    let name = "hasRef";
    check_status!(unsafe { sys::napi_create_object(env, &mut resource) })?;
    check_status!(unsafe {
        sys::napi_create_function(
            env,
            name.as_ptr().cast(),
            name.len() as isize,
            Some(holds_loop),
            ptr::null_mut(),
            &mut has_ref,
        )
    })?;
    check_status!(unsafe {
        sys::napi_set_named_property(env, resource, c"hasRef".as_ptr(), has_ref)
    })?;
    Ok(resource)
}

/// `hasRef()`: whether this thread's queries hold its event loop (some are pending).
unsafe extern "C" fn holds_loop(
    env: sys::napi_env,
    _info: sys::napi_callback_info,
) -> sys::napi_value {
    let pending = DELIVERY
        .try_with(|slot| {
            slot.try_borrow()
                .is_ok_and(|delivery| delivery.as_ref().is_some_and(|d| d.pending > 0))
        })
        .unwrap_or(false);
    let mut value = ptr::null_mut();
    // SAFETY: called by Node on `env`'s thread; a failure leaves `value` null (undefined).
    unsafe { sys::napi_get_boolean(env, pending, &mut value) };
    value
}

/// Runs on the JavaScript thread when its environment ends: the function goes away.
unsafe extern "C" fn mark_closed(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the reference `Delivery::new` gave away for this.
    let shared = unsafe { Arc::from_raw(data as *const Shared) };
    let mut queue = shared.lock();
    queue.closed = true;
    queue.finished.clear();
    drop(queue);
    // Gone already when the thread itself is ending.
    let _ = DELIVERY.try_with(|slot| slot.borrow_mut().take());
}

/// Runs on the JavaScript thread: settles every promise whose outcome has arrived.
unsafe extern "C" fn settle_finished(
    env: sys::napi_env,
    _callback: sys::napi_value,
    _context: *mut c_void,
    _data: *mut c_void,
) {
    // A null env: the environment is going away, and the promises with it.
    if env.is_null() {
        return;
    }
    let Some((function, shared, builder)) = DELIVERY.with(|slot| {
        slot.borrow().as_ref().map(|delivery| {
            let builder = delivery.names.builder(env);
            (delivery.function, delivery.shared.clone(), builder)
        })
    }) else {
        return;
    };
    let batch = {
        let mut queue = shared.lock();
        queue.signalled = false;
        std::mem::take(&mut queue.finished)
    };
    let settled = batch.len();
    match builder {
        Ok(mut builder) => {
            for (deferred, outcome) in batch {
                // SAFETY: on the JavaScript thread of `env`, which made `deferred`.
                unsafe { settle(&mut builder, deferred.0, outcome) };
            }
        }
        Err(error) => {
            for (deferred, _) in batch {
                // SAFETY: as above.
                unsafe {
                    reject(
                        env,
                        deferred.0,
                        napi::Error::new(error.status, error.reason.clone()),
                    )
                };
            }
        }
    }
    DELIVERY.with(|slot| {
        if let Some(delivery) = slot.borrow_mut().as_mut() {
            delivery.pending = delivery.pending.saturating_sub(settled);
            if delivery.pending == 0 {
                unsafe { sys::napi_unref_threadsafe_function(env, function) };
            }
        }
    });
}

/// Resolves `deferred` with the outcome as a JavaScript object, or rejects it with an `Error`
/// when there is none or it cannot be made.
unsafe fn settle(js: &mut Builder, deferred: sys::napi_deferred, outcome: Option<Settlement>) {
    let (value, events) = match outcome {
        Some(Settlement::Query(outcome, events)) => (outcome.into_js(js), events),
        Some(Settlement::Batch(batch, events)) => (batch.into_js(js), events),
        None => (
            Err(napi::Error::from_reason(
                "the task ended without an answer (a panic, or the runtime shut down)",
            )),
            Vec::new(),
        ),
    };
    let value = match value {
        Ok(value) if !events.is_empty() => unsafe { with_events(js.env, value, events) },
        other => other,
    };
    match value {
        Ok(value) => {
            let _ = unsafe { sys::napi_resolve_deferred(js.env, deferred, value) };
        }
        Err(error) => unsafe { reject(js.env, deferred, error) },
    }
}

/// `outcome` with `events` set on it (only with a logger, so napi-rs's conversion will do).
unsafe fn with_events(
    env: sys::napi_env,
    outcome: sys::napi_value,
    events: Vec<LogEvent>,
) -> napi::Result<sys::napi_value> {
    // SAFETY: on the JavaScript thread of `env`, during its turn.
    let events = unsafe { Vec::<LogEvent>::to_napi_value(env, events) }?;
    check_status!(unsafe {
        sys::napi_set_named_property(env, outcome, c"events".as_ptr(), events)
    })?;
    Ok(outcome)
}

unsafe fn reject(env: sys::napi_env, deferred: sys::napi_deferred, error: napi::Error) {
    let _ = unsafe {
        let rejection = napi::JsError::from(error).into_value(env);
        sys::napi_reject_deferred(env, deferred, rejection)
    };
}
