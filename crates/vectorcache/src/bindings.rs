//! Internal helpers for the SDK's own Python and Node packages and CLI: they convert the
//! numbers those languages pass (float seconds, float milliseconds, signed integers) into the
//! core's types, with the core's typed errors and the option named as the caller spelled it.
//! Not part of the public API (hidden from the docs, behind the `bindings` feature).

use std::time::Duration;

use crate::error::Error;

/// Converts seconds given as a float (as the Python and Node packages take them) into a
/// `Duration`, rejecting negative, NaN and infinite values with a typed error.
pub fn duration_from_secs_f64(what: &str, secs: f64) -> Result<Duration, Error> {
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(Error::invalid_config(format!(
            "`{what}` must be a finite, non-negative number of seconds, got {secs}"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Converts a retry count given as a signed integer (Python `int`, JS `number`) into the
/// `u32` the builder takes, rejecting negative and absurd values with a typed error that
/// names the option as the caller spelled it (`max_retries`, `maxRetries`).
pub fn retries_from_i64(what: &str, retries: i64) -> Result<u32, Error> {
    match u32::try_from(retries) {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err(Error::invalid_config(format!(
            "`{what}` must be a whole number from 0 to 100, got {retries}"
        ))),
    }
}

/// Like [`duration_from_secs_f64`] for options given in milliseconds (the Node package's
/// `timeout`), so the error speaks the caller's unit.
pub fn duration_from_millis_f64(what: &str, millis: f64) -> Result<Duration, Error> {
    if !millis.is_finite() || !(0.0..=1e12).contains(&millis) {
        return Err(Error::invalid_config(format!(
            "`{what}` must be a finite, non-negative number of milliseconds, got {millis}"
        )));
    }
    Ok(Duration::from_secs_f64(millis / 1000.0))
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
            assert!(e.to_string().contains("`timeout`"), "{e}");
        }
        for bad in [-1.0, f64::NAN, 2e12] {
            assert!(duration_from_millis_f64("timeout", bad).is_err());
        }
        assert_eq!(retries_from_i64("maxRetries", 100).unwrap(), 100);
        let err = retries_from_i64("maxRetries", -1).unwrap_err().to_string();
        assert!(err.contains("`maxRetries`") && err.contains("-1"), "{err}");
        let err = duration_from_millis_f64("timeout", -5.0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("milliseconds, got -5"), "{err}");
        for bad in [-1, 101, i64::MAX] {
            let e = retries_from_i64("maxRetries", bad).unwrap_err();
            assert!(e.to_string().contains("`maxRetries`"), "{e}");
        }
    }
}
