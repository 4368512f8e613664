//! Waking a language's event-loop thread once per busy stretch of the runtime, not once per
//! answer.
//!
//! The Node and Python bindings hand finished queries to the thread of the event loop that
//! asked (Node's JavaScript thread, an asyncio loop's thread) through a queue and a signal: a
//! thread-safe function call, a byte on a socket the loop watches. Signalled per answer, that
//! thread and a runtime worker took turns per query under load, a context switch each way.
//! So, while the loop's thread has other queries running, a worker only notes the queue and
//! signals it when it runs out of work and parks: the runtime must be built with
//! [`on_thread_park`] as its `on_thread_park` hook, and with its timers enabled. Signalled at
//! once, as [`signal_now`] decides: the last answer outstanding (nothing would share its
//! wake-up, so one query at a time is not delayed), the [`SIGNAL_AT`]th answer waiting, and
//! an answer finished on a thread that does not park through the hook (not a worker, or a
//! runtime built without it). And a worker that stays busy (a yield is not a park) holds an
//! answer back [`HOLD_AT_MOST`], a timer's wait, not until its work runs out.
//!
//! The other way round, the task that handed over a loop's last outstanding answer waits a
//! moment for the loop's next query and runs it itself (see [`linger`]).

pub mod linger;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A queue of answers for one event loop's thread, and its way to wake that thread.
pub trait Signal: Send + Sync + 'static {
    /// Wakes the loop's thread if answers wait that it has not been woken for yet.
    fn signal_pending(&self);
}

/// Answers waiting in one queue that make a runtime thread signal at once, without waiting to
/// park.
pub const SIGNAL_AT: usize = 32;

/// How long, at most, a worker that has not parked holds an answer back. Long against a busy
/// stretch (tens of microseconds per answer), short against a query; at most one timer per
/// worker runs at a time, so it costs a few wake-ups a second under constant load.
pub const HOLD_AT_MOST: Duration = Duration::from_millis(5);

thread_local! {
    /// Whether this thread has parked through [`on_thread_park`] (so it will again).
    static PARKS: Cell<bool> = const { Cell::new(false) };
    /// The queues this thread gave answers to and has not signalled yet.
    static HELD: Arc<Held> = Arc::default();
}

/// What one worker holds back; its timer may signal it from another thread.
#[derive(Default)]
struct Held {
    queues: Mutex<Vec<Arc<dyn Signal>>>,
    /// A timer runs that will signal what is held.
    timed: AtomicBool,
}

impl Held {
    fn queues(&self) -> MutexGuard<'_, Vec<Arc<dyn Signal>>> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn signal_all(&self) {
        let held = std::mem::take(&mut *self.queues());
        for queue in held {
            queue.signal_pending();
        }
    }
}

/// The runtime the bindings start from: multi-threaded, with I/O and timers (the hold's timer
/// needs them) and [`on_thread_park`] as its hook.
pub fn runtime_builder() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().on_thread_park(on_thread_park);
    builder
}

/// The runtime's `on_thread_park` hook: signals the queues this worker gave answers to, now
/// that it has nothing left to run.
pub fn on_thread_park() {
    PARKS.with(|parks| parks.set(true));
    HELD.with(|held| held.signal_all());
}

/// Whether the answer just added to `queue` must be signalled now. `others`: the queue's
/// queries still without an answer ([`Unanswered::answered`]); `waiting`: the answers in the
/// queue, this one included. When it returns `false`, this thread signals the queue when it
/// next parks, or a timer does after [`HOLD_AT_MOST`], whichever comes first.
pub fn signal_now<S: Signal>(queue: &Arc<S>, others: usize, waiting: usize) -> bool {
    if others == 0 || waiting >= SIGNAL_AT || !PARKS.with(Cell::get) {
        return true;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        // No runtime to time the hold with: not a worker after all.
        return true;
    };
    HELD.with(|held| {
        {
            let mut queues = held.queues();
            let noted = Arc::as_ptr(queue).cast::<()>();
            if !queues.iter().any(|q| Arc::as_ptr(q).cast::<()>() == noted) {
                queues.push(queue.clone());
            }
        }
        // Noted first: a timer that has not cleared `timed` yet takes the queue after this.
        if !held.timed.swap(true, Ordering::AcqRel) {
            let timer = HoldTimer(held.clone());
            runtime.spawn(async move {
                tokio::time::sleep(HOLD_AT_MOST).await;
                drop(timer);
            });
        }
    });
    false
}

/// Signals what its worker holds when dropped: after its wait, or when its task ends early
/// (a runtime shutting down, a runtime without timers), so that `timed` is never left set.
struct HoldTimer(Arc<Held>);

impl Drop for HoldTimer {
    fn drop(&mut self) {
        // Cleared first: what is held after the signal gets a timer of its own.
        self.0.timed.store(false, Ordering::Release);
        self.0.signal_all();
    }
}

/// The queries of one queue that have not been answered yet.
#[derive(Debug, Default)]
pub struct Unanswered(AtomicUsize);

impl Unanswered {
    /// A query will answer through the queue.
    pub fn asked(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// A query answered (or ended without an answer): how many others still have not.
    pub fn answered(&self) -> usize {
        let before = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            })
            .unwrap_or_else(|n| n);
        before.saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A queue that counts its signals and the answers they were for.
    #[derive(Default)]
    struct Counted {
        waiting: Mutex<usize>,
        signals: AtomicUsize,
    }

    impl Signal for Counted {
        fn signal_pending(&self) {
            let mut waiting = self.waiting.lock().unwrap();
            if *waiting > 0 {
                *waiting = 0;
                self.signals.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    impl Counted {
        /// Adds an answer; signals it if `signal_now` says so.
        fn add(self: &Arc<Self>, others: usize) -> bool {
            let waiting = {
                let mut waiting = self.waiting.lock().unwrap();
                *waiting += 1;
                *waiting
            };
            let now = signal_now(self, others, waiting);
            if now {
                self.signal_pending();
            }
            now
        }

        fn signals(&self) -> usize {
            self.signals.load(Ordering::SeqCst)
        }
    }

    fn held() -> usize {
        HELD.with(|held| held.queues().len())
    }

    /// Runs `test` on a thread of its own inside a runtime that never runs its tasks: a
    /// worker as far as `signal_now` can tell, but no timer ever signals.
    fn on_a_thread(test: impl FnOnce() + Send + 'static) {
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            let _inside = runtime.enter();
            test();
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_thread_that_never_parked_through_the_hook_signals_at_once() {
        on_a_thread(|| {
            let queue = Arc::new(Counted::default());
            assert!(queue.add(5));
            assert_eq!(queue.signals(), 1);
            assert_eq!(held(), 0);
        });
    }

    #[test]
    fn a_thread_outside_any_runtime_signals_at_once() {
        std::thread::spawn(|| {
            on_thread_park();
            let queue = Arc::new(Counted::default());
            assert!(queue.add(5), "no runtime to time the hold with");
            assert_eq!(queue.signals(), 1);
            assert_eq!(held(), 0);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_parking_thread_signals_each_queue_once_when_it_parks_again() {
        on_a_thread(|| {
            on_thread_park();
            let (a, b) = (Arc::new(Counted::default()), Arc::new(Counted::default()));
            for _ in 0..3 {
                assert!(!a.add(7));
            }
            assert!(!b.add(1));
            assert_eq!((a.signals(), b.signals()), (0, 0));
            assert_eq!(held(), 2, "each queue noted once");
            assert!(HELD.with(|held| held.timed.load(Ordering::SeqCst)));
            on_thread_park();
            assert_eq!((a.signals(), b.signals()), (1, 1));
            assert_eq!(held(), 0);
            on_thread_park();
            assert_eq!((a.signals(), b.signals()), (1, 1), "nothing new: no signal");
        });
    }

    #[test]
    fn the_last_answer_outstanding_and_a_full_queue_are_signalled_at_once() {
        on_a_thread(|| {
            on_thread_park();
            let queue = Arc::new(Counted::default());
            assert!(queue.add(0), "no other query: nothing shares the wake-up");
            assert_eq!(queue.signals(), 1);
            for waiting in 1..SIGNAL_AT {
                assert!(!queue.add(9), "{waiting} waiting");
            }
            assert!(queue.add(9), "the {SIGNAL_AT}th answer waiting");
            assert_eq!(queue.signals(), 2);
        });
    }

    #[test]
    fn a_hold_timer_that_ends_signals_what_is_held_and_can_be_started_again() {
        let held = Arc::new(Held::default());
        let queue = Arc::new(Counted::default());
        *queue.waiting.lock().unwrap() = 1;
        held.queues().push(queue.clone());
        held.timed.store(true, Ordering::SeqCst);
        drop(HoldTimer(held.clone()));
        assert_eq!(queue.signals(), 1);
        assert!(held.queues().is_empty());
        assert!(!held.timed.load(Ordering::SeqCst));
    }

    #[test]
    fn unanswered_counts_the_others() {
        let unanswered = Unanswered::default();
        unanswered.asked();
        unanswered.asked();
        assert_eq!(unanswered.answered(), 1);
        assert_eq!(unanswered.answered(), 0);
        assert_eq!(unanswered.answered(), 0, "never below zero");
        unanswered.asked();
        unanswered.asked();
        assert_eq!(unanswered.answered(), 1, "the count did not wrap");
    }

    fn runtime_with_the_hook(workers: usize) -> tokio::runtime::Runtime {
        runtime_builder().worker_threads(workers).build().unwrap()
    }

    /// Spawns `task` on `runtime` until it gives `Some`: a worker may run the first tasks
    /// before it ever parked, and those signal at once.
    fn on_a_worker_that_parks<T, F, Fut>(runtime: &tokio::runtime::Runtime, task: F) -> T
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<T>> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(out) = runtime.block_on(async { tokio::spawn(task()).await.unwrap() }) {
                return out;
            }
            assert!(
                Instant::now() < deadline,
                "no task ran on a worker that parks"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_runtime_with_the_hook_signals_a_deferred_answer_when_its_worker_parks() {
        let runtime = runtime_with_the_hook(2);
        let queue = Arc::new(Counted::default());
        let before = on_a_worker_that_parks(&runtime, || {
            let queue = queue.clone();
            async move {
                // As if a timer ran already: only the park can signal.
                HELD.with(|held| held.timed.store(true, Ordering::SeqCst));
                let before = queue.signals();
                (!queue.add(3)).then_some(before)
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while queue.signals() == before {
            assert!(
                Instant::now() < deadline,
                "the parked worker never signalled"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_worker_that_keeps_busy_still_signals_a_deferred_answer_soon() {
        // One worker, kept busy by a task that yields: it never parks (a yield is not a park),
        // so only the bound on holding an answer back can signal it.
        let runtime = runtime_with_the_hook(1);
        let queue = Arc::new(Counted::default());
        let after = on_a_worker_that_parks(&runtime, || {
            let queue = queue.clone();
            async move {
                let before = queue.signals();
                if queue.add(3) {
                    return None; // this worker had not parked yet: signalled at once
                }
                let noted = Instant::now();
                while noted.elapsed() < Duration::from_secs(2) {
                    if queue.signals() > before {
                        return Some(noted.elapsed());
                    }
                    tokio::task::yield_now().await;
                }
                Some(Duration::MAX)
            }
        });
        assert!(
            after < Duration::from_millis(500),
            "signalled after {after:?}"
        );
        assert!(
            after >= HOLD_AT_MOST / 2,
            "signalled after {after:?}, not held"
        );
    }
}
