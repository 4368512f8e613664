//! The task that hands a loop its last outstanding answer waits a moment for that loop's next
//! query, and runs it itself.
//!
//! One query at a time (`for … { await client.query(…) }`) costs thread hand-overs that a
//! pure-JavaScript client does not make: the answer goes to the loop's thread, and the next
//! query comes back as a task spawned from outside the runtime. That spawn wakes a parked
//! worker, and the worker that finds the task wakes a second one to keep searching (tokio's
//! rule), which finds nothing and parks again: on a 2-CPU virtual machine about two futex
//! calls and an eventfd write per query, and a sequential query about 150 µs against undici's
//! 110. The loop's thread typically asks again within 30 to 40 µs, so the finishing task spins
//! for [`LINGER_FOR`] first: a query offered meanwhile ([`Linger::offer`]) is handed to it and
//! runs in that task, on a worker that never parked.
//!
//! A spin that sees no query is wasted CPU, so after one that came to nothing the next 1, 3,
//! 7, … (at most [`MAX_SKIPPED`]) chances to linger are skipped: code that asks one query now
//! and then costs a spin every 64 answers at most, a sequential loop spins for each answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a finishing task waits for the loop's next query.
pub const LINGER_FOR: Duration = Duration::from_micros(50);

/// Chances to linger skipped at most after spins that came to nothing.
pub const MAX_SKIPPED: u32 = 63;

/// Spins between two looks at the clock (and two yields of the CPU, so that on a single CPU
/// the loop's thread gets to run and ask).
const SPINS_PER_LOOK: u32 = 64;

/// A query's work: runs it and hands its outcome over; `true` when that was the last answer
/// the loop was waiting for (so its next query may follow at once).
pub type Job = Pin<Box<dyn Future<Output = bool> + Send>>;

const IDLE: u8 = 0;
const WAITING: u8 = 1;
const HANDED: u8 = 2;

/// Where one loop's queries meet a task that waits for them (one per loop's queue).
#[derive(Default)]
pub struct Linger {
    /// [`IDLE`], [`WAITING`] (a task spins), [`HANDED`] (a job is in `slot`).
    state: AtomicU8,
    slot: Mutex<Option<Job>>,
    policy: Mutex<Policy>,
}

impl Linger {
    /// Hands `job` to the task waiting for it, or gives it back to be spawned.
    pub fn offer(&self, job: Job) -> Result<(), Job> {
        if self.state.load(Ordering::Acquire) != WAITING {
            return Err(job);
        }
        let mut slot = self.slot();
        // Under the lock: the waiting task takes the slot only after it sees HANDED and takes
        // the lock, by which time the job is in.
        if self
            .state
            .compare_exchange(WAITING, HANDED, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(job);
        }
        *slot = Some(job);
        Ok(())
    }

    /// Runs `first`, then, for as long as each job answers the loop's last outstanding query,
    /// the next query offered within [`LINGER_FOR`]. Jobs run one after another in this task
    /// (never nested), so a long sequential loop keeps to one task of constant depth.
    pub async fn run(&self, first: Job) {
        let mut last = first.await;
        while last {
            let Some(next) = self.wait() else {
                return;
            };
            last = next.await;
        }
    }

    /// The next job offered within [`LINGER_FOR`], if the policy lets this task wait and no
    /// other task waits already.
    fn wait(&self) -> Option<Job> {
        if !self.policy().lingers() {
            return None;
        }
        if self
            .state
            .compare_exchange(IDLE, WAITING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return None;
        }
        spin_until(LINGER_FOR, || self.state.load(Ordering::Acquire) == HANDED);
        let job = {
            let mut slot = self.slot();
            // Either nobody came (WAITING -> IDLE) or a job was handed and is in the slot.
            match self
                .state
                .compare_exchange(WAITING, IDLE, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => None,
                Err(_) => {
                    self.state.store(IDLE, Ordering::Release);
                    slot.take()
                }
            }
        };
        self.policy().lingered(job.is_some());
        job
    }

    fn slot(&self) -> MutexGuard<'_, Option<Job>> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn policy(&self) -> MutexGuard<'_, Policy> {
        self.policy.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether a task lingers: unless recent spins came to nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Policy {
    /// Chances to linger still to skip.
    skip: u32,
    /// What a spin that comes to nothing makes it skip next.
    backoff: u32,
}

impl Policy {
    /// A task could linger now: whether it does.
    fn lingers(&mut self) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        true
    }

    /// What the spin came to.
    fn lingered(&mut self, found_work: bool) {
        if found_work {
            self.backoff = 0;
        } else {
            self.backoff = (self.backoff * 2 + 1).min(MAX_SKIPPED);
            self.skip = self.backoff;
        }
    }
}

/// Spins until `ready` or `limit` passes (yielding the CPU now and then); whether `ready` came.
fn spin_until(limit: Duration, ready: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    loop {
        for _ in 0..SPINS_PER_LOOK {
            if ready() {
                return true;
            }
            std::hint::spin_loop();
        }
        if started.elapsed() >= limit {
            return false;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    use std::sync::Arc;

    #[test]
    fn spins_that_come_to_nothing_skip_more_and_more_chances_up_to_the_cap() {
        let mut policy = Policy::default();
        assert!(policy.lingers());
        for expected in [1, 3, 7, 15, 31, 63, 63] {
            policy.lingered(false);
            let mut skipped = 0;
            while !policy.lingers() {
                skipped += 1;
            }
            assert_eq!(skipped, expected);
        }
    }

    #[test]
    fn a_spin_that_finds_work_lingers_again_next_time() {
        let mut policy = Policy::default();
        assert!(policy.lingers());
        policy.lingered(false);
        assert!(!policy.lingers(), "skipped once after a failure");
        assert!(policy.lingers());
        for _ in 0..5 {
            policy.lingered(true);
            assert!(policy.lingers(), "a sequential loop lingers every time");
        }
    }

    #[test]
    fn a_spin_ends_when_work_comes_or_its_time_is_up() {
        assert!(spin_until(Duration::from_secs(60), || true));
        let started = Instant::now();
        assert!(!spin_until(Duration::from_millis(20), || false));
        assert!(started.elapsed() >= Duration::from_millis(20));
        let ready = Arc::new(AtomicBool::new(false));
        let setter = {
            let ready = ready.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                ready.store(true, Ordering::SeqCst);
            })
        };
        assert!(
            spin_until(Duration::from_secs(60), || ready.load(Ordering::SeqCst)),
            "work that comes while it spins ends the spin"
        );
        setter.join().unwrap();
    }

    /// A job that counts its runs and says whether it was the last answer.
    fn job(runs: &Arc<AtomicUsize>, last: bool) -> Job {
        let runs = runs.clone();
        Box::pin(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            last
        })
    }

    #[test]
    fn nobody_waiting_gives_the_job_back() {
        let linger = Linger::default();
        let runs = Arc::new(AtomicUsize::new(0));
        assert!(linger.offer(job(&runs, true)).is_err());
    }

    #[test]
    fn a_job_offered_while_a_task_lingers_runs_in_that_task() {
        let linger = Arc::new(Linger::default());
        let (firsts, offered) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let offerer = {
            let (linger, offered) = (linger.clone(), offered.clone());
            std::thread::spawn(move || {
                // Three jobs, each offered as soon as a task waits; the third is not the
                // last answer, so the task that takes it stops lingering.
                for last in [true, true, false] {
                    let mut next = job(&offered, last);
                    let deadline = Instant::now() + Duration::from_secs(30);
                    while let Err(back) = linger.offer(next) {
                        assert!(Instant::now() < deadline, "no task lingered");
                        next = back;
                        std::hint::spin_loop();
                    }
                }
            })
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Each run's first job answers the last query, so the task lingers and runs what is
        // offered meanwhile; a spin that misses is retried by the next run (after the
        // policy's skips).
        let deadline = Instant::now() + Duration::from_secs(30);
        while offered.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
            runtime.block_on(linger.run(job(&firsts, true)));
        }
        offerer.join().unwrap();
        assert_eq!(
            offered.load(Ordering::SeqCst),
            3,
            "every offered job ran once"
        );
        assert_eq!(linger.state.load(Ordering::SeqCst), IDLE);
        assert!(linger.slot().is_none());
    }

    /// Runs one first job (`last`: it answered the last query) through `linger` on a runtime
    /// of its own; how long that took.
    fn run_first(linger: &Linger, last: bool) -> Duration {
        let runs = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let started = Instant::now();
        runtime.block_on(linger.run(job(&runs, last)));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        started.elapsed()
    }

    #[test]
    fn a_task_after_a_job_that_was_not_the_last_does_not_linger() {
        let linger = Linger::default();
        run_first(&linger, false);
        assert_eq!(linger.state.load(Ordering::SeqCst), IDLE);
        assert_eq!(*linger.policy(), Policy::default(), "no spin, no backoff");
    }

    #[test]
    fn a_task_that_waits_in_vain_gives_up_after_its_time_and_backs_off() {
        let linger = Linger::default();
        assert!(run_first(&linger, true) >= LINGER_FOR);
        assert_eq!(linger.state.load(Ordering::SeqCst), IDLE);
        assert_eq!(
            *linger.policy(),
            Policy {
                skip: 1,
                backoff: 1
            }
        );
        let runs = Arc::new(AtomicUsize::new(0));
        assert!(
            linger.offer(job(&runs, true)).is_err(),
            "nobody waits any more"
        );
    }
}
