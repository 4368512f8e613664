//! Waking a language's event-loop thread once per busy stretch of the runtime, not once per
//! answer.
//!
//! The Node and Python bindings hand finished queries to the thread of the event loop that
//! asked (Node's JavaScript thread, an asyncio loop's thread) through a queue and a signal: a
//! thread-safe function call, a byte on a socket the loop watches. Signalled per answer, that
//! thread and a runtime worker took turns per query under load, a context switch each way.
//! So, while the loop's thread has other queries running, a worker only notes the queue and
//! signals it when it runs out of work and parks: the runtime must be built with
//! [`on_thread_park`] as its `on_thread_park` hook. Signalled at once, as [`signal_now`]
//! decides: the last answer outstanding (nothing would share its wake-up, so one query at a
//! time is not delayed), the [`SIGNAL_AT`]th answer waiting (a bound on what a busy runtime
//! holds back), and an answer finished on a thread that does not park through the hook (not
//! a worker, or a runtime built without it).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A queue of answers for one event loop's thread, and its way to wake that thread.
pub trait Signal: Send + Sync + 'static {
    /// Wakes the loop's thread if answers wait that it has not been woken for yet.
    fn signal_pending(&self);
}

/// Answers waiting in one queue that make a runtime thread signal at once, without waiting to
/// park.
pub const SIGNAL_AT: usize = 32;

thread_local! {
    /// Whether this thread has parked through [`on_thread_park`] (so it will again).
    static PARKS: Cell<bool> = const { Cell::new(false) };
    /// The queues this thread gave answers to and has not signalled yet.
    static UNSIGNALLED: RefCell<Vec<Arc<dyn Signal>>> = const { RefCell::new(Vec::new()) };
}

/// The runtime's `on_thread_park` hook: signals the queues this worker gave answers to, now
/// that it has nothing left to run.
pub fn on_thread_park() {
    PARKS.with(|parks| parks.set(true));
    let noted = UNSIGNALLED.with(|list| std::mem::take(&mut *list.borrow_mut()));
    for queue in noted {
        queue.signal_pending();
    }
}

/// Whether the answer just added to `queue` must be signalled now. `others`: the queue's
/// queries still without an answer ([`Unanswered::answered`]); `waiting`: the answers in the
/// queue, this one included. When it returns `false`, this thread signals the queue when it
/// next parks.
pub fn signal_now<S: Signal>(queue: &Arc<S>, others: usize, waiting: usize) -> bool {
    if others == 0 || waiting >= SIGNAL_AT || !PARKS.with(Cell::get) {
        return true;
    }
    UNSIGNALLED.with(|list| {
        let mut list = list.borrow_mut();
        let noted = Arc::as_ptr(queue).cast::<()>();
        if !list.iter().any(|q| Arc::as_ptr(q).cast::<()>() == noted) {
            list.push(queue.clone());
        }
    });
    false
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
        self.0.fetch_sub(1, Ordering::Relaxed).saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

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

    #[test]
    fn a_thread_that_never_parked_through_the_hook_signals_at_once() {
        std::thread::spawn(|| {
            let queue = Arc::new(Counted::default());
            assert!(queue.add(5));
            assert_eq!(queue.signals(), 1);
            assert!(UNSIGNALLED.with(|l| l.borrow().is_empty()));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_parking_thread_signals_each_queue_once_when_it_parks_again() {
        std::thread::spawn(|| {
            on_thread_park();
            let (a, b) = (Arc::new(Counted::default()), Arc::new(Counted::default()));
            for _ in 0..3 {
                assert!(!a.add(7));
            }
            assert!(!b.add(1));
            assert_eq!((a.signals(), b.signals()), (0, 0));
            assert_eq!(
                UNSIGNALLED.with(|l| l.borrow().len()),
                2,
                "each queue noted once"
            );
            on_thread_park();
            assert_eq!((a.signals(), b.signals()), (1, 1));
            assert!(UNSIGNALLED.with(|l| l.borrow().is_empty()));
            on_thread_park();
            assert_eq!((a.signals(), b.signals()), (1, 1), "nothing new: no signal");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_last_answer_outstanding_and_a_full_queue_are_signalled_at_once() {
        std::thread::spawn(|| {
            on_thread_park();
            let queue = Arc::new(Counted::default());
            assert!(queue.add(0), "no other query: nothing shares the wake-up");
            assert_eq!(queue.signals(), 1);
            for waiting in 1..SIGNAL_AT {
                assert!(!queue.add(9), "{waiting} waiting");
            }
            assert!(queue.add(9), "the {SIGNAL_AT}th answer waiting");
            assert_eq!(queue.signals(), 2);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn unanswered_counts_the_others() {
        let unanswered = Unanswered::default();
        unanswered.asked();
        unanswered.asked();
        assert_eq!(unanswered.answered(), 1);
        assert_eq!(unanswered.answered(), 0);
        assert_eq!(unanswered.answered(), 0, "never below zero");
    }

    #[test]
    fn a_runtime_with_the_hook_signals_a_deferred_answer_when_its_worker_parks() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_park(on_thread_park)
            .build()
            .unwrap();
        let queue = Arc::new(Counted::default());
        // A worker may run the first tasks before it ever parked: those signal at once.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let before = queue.signals();
            let task_queue = queue.clone();
            let now = runtime.block_on(async move {
                tokio::spawn(async move { task_queue.add(3) })
                    .await
                    .unwrap()
            });
            if !now {
                while queue.signals() == before {
                    assert!(
                        Instant::now() < deadline,
                        "the parked worker never signalled"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no task ran on a worker that parks"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
