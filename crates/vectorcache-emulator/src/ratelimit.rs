//! Per-key token-bucket rate limiting.
//!
//! Each key has a bucket of `burst` tokens refilled continuously at `per_minute / 60` tokens
//! per second; a request takes one token. The response headers are:
//!
//! - `X-RateLimit-Limit`: `per_minute`;
//! - `X-RateLimit-Remaining`: whole tokens left after this request;
//! - `X-RateLimit-Reset`: Unix time (seconds, rounded up) at which `Remaining` next grows by
//!   one, i.e. when the next token arrives (now, if the bucket is full). On a 429 this is when a
//!   retry will succeed, consistent with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::config::RateLimitConfig;

/// The rate-limit state reported to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitInfo {
    /// `X-RateLimit-Limit`.
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset` (Unix seconds).
    pub reset: u64,
    /// `Retry-After` seconds, set only when the request was refused.
    pub retry_after: Option<u64>,
}

impl RateLimitInfo {
    /// The response headers for this state.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset.to_string()),
        ];
        if let Some(seconds) = self.retry_after {
            headers.push(("retry-after", seconds.to_string()));
        }
        headers
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets for all keys.
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter with full buckets for every key.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Tokens per second.
    fn rate(&self) -> f64 {
        f64::from(self.config.per_minute.max(1)) / 60.0
    }

    /// Refills the key's bucket, then takes a token when `consume` is set. Returns whether the
    /// request may proceed (always true without `consume`) and the state to report.
    pub fn check(&self, key: &str, consume: bool) -> (bool, RateLimitInfo) {
        let now = Instant::now();
        let capacity = f64::from(self.config.burst.max(1));
        let rate = self.rate();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;

        let mut allowed = true;
        let mut retry_after = None;
        if consume {
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
            } else {
                allowed = false;
                let wait = (1.0 - bucket.tokens) / rate;
                retry_after = Some((wait.ceil() as u64).max(1));
            }
        }
        let tokens = bucket.tokens;
        drop(buckets);

        let until_next = if tokens >= capacity {
            0.0
        } else {
            (tokens.floor() + 1.0 - tokens) / rate
        };
        let unix_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let info = RateLimitInfo {
            limit: self.config.per_minute,
            remaining: tokens.floor().max(0.0) as u32,
            reset: (unix_now + until_next).ceil() as u64,
            retry_after,
        };
        (allowed, info)
    }

    /// What a request refused for want of tokens reports, whoever's bucket it was: the
    /// limit, none remaining, and the next token (and the retry) a second away. An injected
    /// 429 answers with it.
    pub fn exhausted(&self) -> RateLimitInfo {
        let unix_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        RateLimitInfo {
            limit: self.config.per_minute,
            remaining: 0,
            reset: unix_now + 1,
            retry_after: Some(1),
        }
    }

    /// Forgets every bucket (they start full again).
    pub fn reset(&self) {
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse() {
        let limiter = RateLimiter::new(RateLimitConfig {
            per_minute: 6,
            burst: 2,
        });
        let (ok1, i1) = limiter.check("k", true);
        let (ok2, i2) = limiter.check("k", true);
        let (ok3, i3) = limiter.check("k", true);
        assert!(ok1 && ok2 && !ok3);
        assert_eq!((i1.remaining, i2.remaining, i3.remaining), (1, 0, 0));
        // 6/min = one token per 10 s.
        assert!(matches!(i3.retry_after, Some(9..=10)), "{i3:?}");
        assert_eq!(i3.limit, 6);
        // Other keys have their own bucket; peeking does not consume.
        assert!(limiter.check("other", false).0);
        assert_eq!(limiter.check("other", false).1.remaining, 2);
        limiter.reset();
        assert_eq!(limiter.check("k", false).1.remaining, 2);
    }
}
