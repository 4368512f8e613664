//! Internal helpers for the SDK's own Python and Node packages and CLI: they convert the
//! numbers those languages pass (float seconds, float milliseconds, signed integers) into the
//! core's types. Each returns the reason a value is refused, naming the option as the caller
//! spelled it; the caller makes it a configuration error (a client option) or an invalid
//! request (a per-request option). Not part of the public API (hidden from the docs, behind
//! the `bindings` feature). [`wake`] is the event-loop wake-up both bindings deliver answers
//! with; [`call_log`] keeps each call's events for the thread that made it.

use std::time::Duration;

pub mod call_log;
pub mod wake;

/// Why a value was refused, for `Error::invalid_config` or `Error::invalid_request`.
pub type Reason = String;

/// The error a call meets when the runtime it would run on cannot be started (the process is
/// out of file descriptors or threads): a connection failure, as the sockets it would open
/// would be, so code that falls back on connection errors falls back on this one too.
pub fn runtime_unavailable(cause: std::io::Error) -> crate::Error {
    crate::Error::Connection {
        message: format!("cannot start the Vectorcache runtime: {cause}"),
        attempts: 0,
        source: Some(Box::new(cause)),
        retryable: true,
    }
}

/// `text` with anything shaped like an API key redacted, for a message the binding makes
/// itself that quotes what the caller passed (a Python `TypeError` naming a key of a dict):
/// the errors the core makes do this already.
pub fn without_key_shapes(text: String) -> String {
    crate::scrub::without_key_shapes(text)
}

/// Converts seconds given as a float (as the Python package and the CLI take them) into a
/// `Duration`, refusing negative, NaN and infinite values.
pub fn duration_from_secs_f64(what: &str, secs: f64) -> Result<Duration, Reason> {
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(seconds_out_of_range(what, &secs));
    }
    Ok(at_least_a_nanosecond(secs, Duration::from_secs_f64(secs)))
}

/// `duration`, or a nanosecond when a positive `amount` was too small to hold one: the
/// caller asked for a timeout, and "must be greater than zero" would tell them they did not.
fn at_least_a_nanosecond(amount: f64, duration: Duration) -> Duration {
    if amount > 0.0 && duration.is_zero() {
        Duration::from_nanos(1)
    } else {
        duration
    }
}

/// Why a number of seconds is refused; `shown` is the value as the caller wrote it (a Python
/// int too large for a float is shown whole, not as `inf`).
pub fn seconds_out_of_range(what: &str, shown: &dyn std::fmt::Display) -> Reason {
    format!("`{what}` must be a number of seconds from 0 to 1e9 (about 31 years), got {shown}")
}

/// Like [`duration_from_secs_f64`] for options given in milliseconds (the Node package's
/// `timeout`), so the reason speaks the caller's unit.
pub fn duration_from_millis_f64(what: &str, millis: f64) -> Result<Duration, Reason> {
    if !millis.is_finite() || !(0.0..=1e12).contains(&millis) {
        return Err(format!(
            "`{what}` must be a number of milliseconds from 0 to 1e12 (about 31 years), got \
             {millis}"
        ));
    }
    Ok(at_least_a_nanosecond(
        millis,
        Duration::from_secs_f64(millis / 1000.0),
    ))
}

/// Converts a retry count given as a signed integer (Python `int`, JS `number`) into the
/// `u32` the core takes, refusing negative and absurd values.
pub fn retries_from_i64(what: &str, retries: i64) -> Result<u32, Reason> {
    match u32::try_from(retries) {
        Ok(n) if n <= crate::config::MAX_RETRIES_LIMIT => Ok(n),
        _ => Err(retries_out_of_range(what, &retries)),
    }
}

/// Why a retry count is refused; `shown` is the value as the caller wrote it (a Python int
/// beyond 64 bits is shown whole, not saturated).
pub fn retries_out_of_range(what: &str, shown: &dyn std::fmt::Display) -> Reason {
    crate::config::retries_problem(what, shown)
}

/// Why a similarity threshold is refused (the core's own message), for a value that does not
/// even fit a float.
pub fn threshold_out_of_range(shown: &dyn std::fmt::Display) -> Reason {
    crate::request::threshold_problem(shown)
}

/// Why a text value is refused: it holds a lone UTF-16 surrogate, which has no UTF-8 form
/// (Node would silently turn it into U+FFFD, making two different prompts one cache key).
pub fn lone_surrogate(what: &str) -> Reason {
    format!(
        "`{what}` contains a lone UTF-16 surrogate (half of a character), which cannot be \
         sent as UTF-8; remove it or pair it"
    )
}

/// Converts a connection count given as a signed integer into the `usize` the core takes.
pub fn connections_from_i64(what: &str, n: i64) -> Result<usize, Reason> {
    match usize::try_from(n) {
        Ok(n) if (1..=crate::config::MAX_CONNECTIONS_LIMIT).contains(&n) => Ok(n),
        _ => Err(connections_out_of_range(what, &n)),
    }
}

/// Converts a batch's `concurrency` given as a signed integer into the `usize` the core
/// takes: any whole number from 1 (the batch runs at most as many at once as it has
/// requests).
pub fn concurrency_from_i64(n: i64) -> Result<usize, Reason> {
    match usize::try_from(n) {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(concurrency_out_of_range(&n)),
    }
}

/// Why a batch's `concurrency` is refused; `shown` is the value as the caller wrote it.
pub fn concurrency_out_of_range(shown: &dyn std::fmt::Display) -> Reason {
    crate::config::concurrency_problem(shown)
}

/// Why a connection count is refused; `shown` is the value as the caller wrote it.
pub fn connections_out_of_range(what: &str, shown: &dyn std::fmt::Display) -> Reason {
    crate::config::connections_problem(what, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converters_refuse_what_is_not_a_duration_or_a_count() {
        assert_eq!(
            duration_from_secs_f64("timeout", 1.5).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            duration_from_millis_f64("timeout", 250.0).unwrap(),
            Duration::from_millis(250)
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY, 2e9] {
            let e = duration_from_secs_f64("timeout", bad).unwrap_err();
            assert!(e.contains("`timeout`"), "{e}");
        }
        for bad in [-1.0, f64::NAN, 2e12] {
            assert!(duration_from_millis_f64("timeout", bad).is_err());
        }
        // Too small for a nanosecond, yet positive: the shortest timeout, not zero.
        assert_eq!(
            duration_from_secs_f64("timeout", 1e-12).unwrap(),
            Duration::from_nanos(1)
        );
        assert_eq!(
            duration_from_millis_f64("timeout", 1e-12).unwrap(),
            Duration::from_nanos(1)
        );
        assert!(duration_from_secs_f64("timeout", 0.0).unwrap().is_zero());
        let err = retries_from_i64("maxRetries", -1).unwrap_err();
        assert!(err.contains("`maxRetries`") && err.contains("-1"), "{err}");
        let err = duration_from_millis_f64("timeout", -5.0).unwrap_err();
        assert!(
            err.contains("milliseconds from 0 to 1e12 (about 31 years), got -5"),
            "{err}"
        );
        assert_eq!(retries_from_i64("maxRetries", 100).unwrap(), 100);
        for bad in [-1, 101, i64::MAX] {
            let e = retries_from_i64("maxRetries", bad).unwrap_err();
            assert!(e.contains("`maxRetries`"), "{e}");
        }
        assert_eq!(connections_from_i64("max_connections", 1).unwrap(), 1);
        assert_eq!(
            connections_from_i64("max_connections", 100_000).unwrap(),
            100_000
        );
        for bad in [0, -1, 100_001, i64::MAX] {
            let e = connections_from_i64("max_connections", bad).unwrap_err();
            assert!(e.contains("`max_connections`"), "{e}");
        }
        assert_eq!(concurrency_from_i64(1).unwrap(), 1);
        assert_eq!(concurrency_from_i64(i64::MAX).unwrap(), i64::MAX as usize);
        for bad in [0, -1, i64::MIN] {
            assert_eq!(
                concurrency_from_i64(bad).unwrap_err(),
                format!("`concurrency` must be a whole number of at least 1, got {bad}")
            );
        }
    }

    #[test]
    fn reasons_name_the_option_and_the_value_as_written() {
        assert_eq!(
            threshold_out_of_range(&"1e400"),
            "`similarity_threshold` must be a number between 0 and 1, got 1e400"
        );
        let surrogate = lone_surrogate("prompt");
        assert!(
            surrogate.starts_with("`prompt` contains a lone UTF-16 surrogate"),
            "{surrogate}"
        );
        assert_eq!(
            retries_out_of_range("max_retries", &"10**30"),
            "`max_retries` must be a whole number from 0 to 100, got 10**30"
        );
    }
}
