//! One call's events, kept for the language thread that made the call: the Python and Node
//! packages log each call's answers and retries where it was made (its thread, its context),
//! not with whichever call ends next. A call's request(s) get [`CallLog::hook`]; the caller
//! takes the events with [`CallLog::take`] (as it waits, or once the call has ended).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::events::{Event, Level};
use crate::request::CallHook;

/// Events a call keeps at most (a huge batch at debug level); older ones give way.
pub const CAPACITY: usize = 10_000;

/// An event as kept: its level, its message (never the key) and when it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub level: Level,
    pub message: String,
    pub at: SystemTime,
}

/// One call's events.
#[derive(Default)]
pub struct CallLog {
    /// Pushed by runtime threads, taken by the caller's; held only to push or take.
    events: Mutex<VecDeque<Kept>>,
}

impl CallLog {
    /// The hook for the call's request(s) (one for all of a batch's): keeps the events that
    /// `wanted` says someone may see (a logger's level), and only those are formatted.
    pub fn hook(self: &Arc<Self>, wanted: fn(Level) -> bool) -> CallHook {
        let log = self.clone();
        CallHook::new(Arc::new(move |event: &Event| {
            if !wanted(event.level()) {
                return;
            }
            // Made before the lock is taken.
            let kept = Kept {
                level: event.level(),
                message: event.to_string(),
                at: SystemTime::now(),
            };
            let mut events = log.events();
            if events.len() == CAPACITY {
                events.pop_front();
            }
            events.push_back(kept);
        }))
    }

    /// The events so far, oldest first.
    pub fn take(&self) -> Vec<Kept> {
        self.events().drain(..).collect()
    }

    fn events(&self) -> MutexGuard<'_, VecDeque<Kept>> {
        // A panic cannot leave the queue half-changed; go on with it.
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(attempt: u32) -> Event {
        Event::Answer {
            status: 200,
            request_id: None,
            duration: Duration::from_millis(1),
            attempt,
        }
    }

    #[test]
    fn keeps_the_wanted_events_in_order_up_to_the_capacity() {
        let log = Arc::new(CallLog::default());
        let hook = log.hook(|level| level == Level::Debug);
        let retry = Event::Retry {
            reason: "503".into(),
            retry: 1,
            max_retries: 2,
            wait: Duration::ZERO,
        };
        hook.call(&answer(1));
        hook.call(&retry);
        hook.call(&answer(2));
        let taken = log.take();
        assert_eq!(
            taken.iter().map(|k| k.message.clone()).collect::<Vec<_>>(),
            [answer(1).to_string(), answer(2).to_string()]
        );
        assert!(taken.iter().all(|k| k.level == Level::Debug));
        assert!(log.take().is_empty(), "taken once");

        for attempt in 0..CAPACITY as u32 + 5 {
            hook.call(&answer(attempt));
        }
        let taken = log.take();
        assert_eq!(taken.len(), CAPACITY);
        assert_eq!(
            taken[0].message,
            answer(5).to_string(),
            "the oldest gave way"
        );
    }
}
