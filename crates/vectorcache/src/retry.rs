//! When to try again, and how long to wait first.

use std::time::Duration;

use crate::config::{DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT};
use crate::error::Error;

/// The retry settings of a client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest server-requested wait honoured; a longer one ends the call.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_wait: DEFAULT_MAX_RETRY_WAIT,
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (0-based) after `error`, or `None` to stop.
    pub fn delay(&self, retry: u32, error: &Error) -> Option<Duration> {
        if retry >= self.max_retries || !error.is_retryable() {
            return None;
        }
        match error.retry_after() {
            // The server knows best; but a wait longer than the cap ends the call so the
            // caller gets the typed error (with `retry_after`) instead of a hang.
            Some(wait) if wait > self.max_wait => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(retry)),
        }
    }

    /// Exponential backoff with jitter: the nominal delay scaled by a random 75–100 %, so many
    /// clients failing together do not retry in lockstep.
    fn backoff(&self, retry: u32) -> Duration {
        let nominal = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff);
        nominal.mul_f64(1.0 - 0.25 * fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_with_jitter() {
        let p = RetryPolicy {
            max_retries: 10,
            ..RetryPolicy::default()
        };
        let timeout = Error::Timeout {
            timeout: Duration::from_secs(1),
            attempts: 1,
            total: None,
            connecting: false,
            connect: None,
        };
        for (retry, nominal) in [
            (0, 500),
            (1, 1000),
            (2, 2000),
            (3, 4000),
            (4, 8000),
            (9, 8000),
        ] {
            let d = p.delay(retry, &timeout).unwrap();
            let nominal = Duration::from_millis(nominal);
            assert!(
                d <= nominal && d >= nominal.mul_f64(0.75),
                "retry {retry}: {d:?}"
            );
        }
        assert_eq!(p.delay(10, &timeout), None);
    }

    #[test]
    fn a_server_wait_up_to_the_cap_is_honoured_and_one_past_it_ends_the_call() {
        let p = RetryPolicy::default();
        let asking = |wait: Duration| {
            let mut api = crate::ApiError::new(429, "slow down");
            api.retry_after = Some(wait);
            Error::from(api)
        };
        assert_eq!(p.delay(0, &asking(p.max_wait)), Some(p.max_wait));
        let past = p.max_wait + Duration::from_millis(1);
        assert_eq!(p.delay(0, &asking(past)), None);
    }

    #[test]
    fn local_errors_are_not_retried() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0, &Error::MissingApiKey), None);
        assert_eq!(p.delay(0, &Error::invalid_request("x")), None);
    }
}
