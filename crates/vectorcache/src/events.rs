//! What a client tells a logger: each answer and each retry, as data. Rust users get them as
//! `tracing` events, target `vectorcache`, and through a hook: a client's
//! ([`ClientOptions::on_event`](crate::ClientOptions::on_event)) or a call's own
//! ([`QueryRequest::on_event`](crate::QueryRequest::on_event)), which the Python and Node
//! packages use to log each call's events where it was made. No event carries the key.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Something a logger may want to know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The server answered an attempt (logged at debug level).
    Answer {
        /// The HTTP status.
        status: u16,
        /// The server's request id, if it sent one.
        request_id: Option<String>,
        /// From sending the request to the last byte of the answer.
        duration: Duration,
        /// Which attempt of the call this was (1 for the first).
        attempt: u32,
    },
    /// The call will try again (logged at info level).
    Retry {
        /// Why: the failed attempt's error, as its message (never the key).
        reason: String,
        /// The retry about to be made (1 for the first).
        retry: u32,
        /// Retries the call may make in all.
        max_retries: u32,
        /// The wait before it.
        wait: Duration,
    },
}

/// How important an event is, for loggers that filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Level {
    /// Every answer.
    Debug,
    /// Retries.
    Info,
}

impl Event {
    /// The level the event is logged at.
    pub fn level(&self) -> Level {
        match self {
            Self::Answer { .. } => Level::Debug,
            Self::Retry { .. } => Level::Info,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Answer {
                status,
                request_id,
                duration,
                attempt,
            } => {
                write!(
                    f,
                    "Vectorcache answered {status} in {:.1} ms (attempt {attempt}",
                    duration.as_secs_f64() * 1e3
                )?;
                if let Some(id) = request_id {
                    write!(f, ", request {id}")?;
                }
                f.write_str(")")
            }
            Self::Retry {
                reason,
                retry,
                max_retries,
                wait,
            } => write!(
                f,
                "retrying the Vectorcache query in {} ms (retry {retry} of {max_retries}) after: {reason}",
                wait.as_millis()
            ),
        }
    }
}

/// A callback for every [`Event`]; it runs on the runtime's threads, so it must be quick and
/// must not block.
pub type EventHook = Arc<dyn Fn(&Event) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_levels() {
        let answer = Event::Answer {
            status: 200,
            request_id: Some("req_1".into()),
            duration: Duration::from_micros(12_340),
            attempt: 1,
        };
        assert_eq!(
            answer.to_string(),
            "Vectorcache answered 200 in 12.3 ms (attempt 1, request req_1)"
        );
        assert_eq!(answer.level(), Level::Debug);
        let retry = Event::Retry {
            reason: "503 Service Unavailable: down".into(),
            retry: 1,
            max_retries: 2,
            wait: Duration::from_millis(500),
        };
        assert_eq!(
            retry.to_string(),
            "retrying the Vectorcache query in 500 ms (retry 1 of 2) after: 503 Service Unavailable: down"
        );
        assert!(retry.level() > answer.level());
    }
}
