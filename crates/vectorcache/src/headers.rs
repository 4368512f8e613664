//! Reading the response headers that matter: rate limits, retry hints, request ids.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, RETRY_AFTER};

use crate::response::RateLimit;
use crate::scrub::{holds_leak, scrub, scrub_headers, Echoes};

/// Headers kept on an error, at most; a hostile proxy could send thousands.
const MAX_HEADERS: usize = 100;
const MAX_HEADER_VALUE: usize = 1024;

/// Below this, an `X-RateLimit-Reset` value is read as seconds from now rather than a Unix time
/// (some proxies send a delta; no real reset time is before 2001).
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// The headers as a lower-case map; repeated headers are joined with `, `.
pub(crate) fn to_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map = BTreeMap::<String, String>::new();
    for (name, value) in headers {
        if map.len() >= MAX_HEADERS && !map.contains_key(name.as_str()) {
            continue;
        }
        let mut value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        crate::decode::truncate_at_char(&mut value, MAX_HEADER_VALUE);
        map.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

// Names made once: looking a header up by `&str` parses the name on every call.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");

fn get<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// The request id, from `x-request-id` or `request-id`.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    [X_REQUEST_ID, REQUEST_ID]
        .iter()
        .find_map(|name| get(headers, name))
        .map(str::to_owned)
}

/// The `X-RateLimit-*` state, if any of the three headers is present and numeric.
pub(crate) fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    rate_limit_from(|name| get(headers, name))
}

/// [`rate_limit`] from the values `read` gives.
fn rate_limit_from<'a>(read: impl Fn(&HeaderName) -> Option<&'a str>) -> Option<RateLimit> {
    let num = |name| read(name).and_then(parse_whole_seconds);
    let state = RateLimit {
        limit: num(&X_RATELIMIT_LIMIT),
        remaining: num(&X_RATELIMIT_REMAINING),
        reset: num(&X_RATELIMIT_RESET),
    };
    (state != RateLimit::default()).then_some(state)
}

/// An answer's headers as they came, which may echo the key (a proxy that reflects the
/// request's `Authorization`, a debug header). Nothing leaves them unscrubbed: a successful
/// answer passes on only its request id and rate limit, each scrubbed on its own (scrubbing
/// every header of every answer was a third of the instructions the SDK added to a query, over
/// reqwest's own); an error carries every header, scrubbed.
pub(crate) struct Unscrubbed(HeaderMap);

impl Unscrubbed {
    pub fn new(headers: HeaderMap) -> Self {
        Self(headers)
    }

    /// The request id (see [`request_id`]), any echo of the key in it redacted.
    pub fn request_id(&self, key: &Echoes) -> Option<String> {
        let mut id = request_id(&self.0)?;
        scrub(&mut id, key);
        Some(id)
    }

    /// The rate limit (see [`rate_limit`]); a value that echoes the key counts as absent.
    pub fn rate_limit(&self, key: &Echoes) -> Option<RateLimit> {
        rate_limit_from(|name| get(&self.0, name).filter(|v| !holds_leak(v.as_bytes(), key)))
    }

    /// Every header, scrubbed (see [`scrub_headers`]).
    pub fn scrubbed(&self, key: &Echoes) -> HeaderMap {
        let mut headers = self.0.clone();
        scrub_headers(&mut headers, key);
        headers
    }
}

/// Integers, and the fractional forms some servers send (`"1.5"` reads as 1).
fn parse_whole_seconds(value: &str) -> Option<u64> {
    value.parse::<u64>().ok().or_else(|| {
        let f = value.parse::<f64>().ok()?;
        (f.is_finite() && f >= 0.0).then_some(f as u64)
    })
}

/// The longest wait a server's hint is read as (about 31 years): every hint is held to it,
/// whichever header or body field gave it, so the same absurd hint reads the same.
const LONGEST_HINT: Duration = Duration::from_secs(1_000_000_000);

fn seconds(f: f64) -> Option<Duration> {
    (f.is_finite() && f >= 0.0).then(|| Duration::from_secs_f64(f.min(1e9)))
}

/// How long the server asked the client to wait, in order of precision: `retry-after-ms`,
/// `Retry-After` (seconds or an HTTP date), a body `retry_after` (seconds), then
/// `X-RateLimit-Reset` when the answer is a 429 or the window is used up.
pub(crate) fn retry_after(
    status: u16,
    headers: &HeaderMap,
    body: Option<&serde_json::Value>,
) -> Option<Duration> {
    if let Some(ms) = get(headers, &RETRY_AFTER_MS).and_then(|v| v.parse::<f64>().ok()) {
        if let Some(d) = seconds(ms / 1000.0) {
            return Some(d);
        }
    }
    if let Some(value) = get(headers, &RETRY_AFTER) {
        if let Some(d) = value.parse::<f64>().ok().and_then(seconds) {
            return Some(d);
        }
        if let Some(wait) = httpdate::parse_http_date(value).ok().and_then(still_ahead) {
            return Some(wait.min(LONGEST_HINT));
        }
    }
    if !matches!(status, 429 | 503) {
        return None;
    }
    if let Some(d) = body
        .and_then(|b| b.get("retry_after"))
        .and_then(serde_json::Value::as_f64)
        .and_then(seconds)
    {
        return Some(d);
    }
    let limits = rate_limit(headers)?;
    if status == 429 || limits.remaining == Some(0) {
        return limits.reset.map(reset_wait).filter(|wait| !wait.is_zero());
    }
    None
}

/// How long until an `X-RateLimit-Reset` value: a Unix time, or (below `EPOCH_THRESHOLD`,
/// as some proxies send) a number of seconds from now; at most [`LONGEST_HINT`].
pub(crate) fn reset_wait(reset: u64) -> Duration {
    let wait = if reset < EPOCH_THRESHOLD {
        Duration::from_secs(reset)
    } else {
        until_epoch_secs(reset)
    };
    wait.min(LONGEST_HINT)
}

/// The wait until Unix second `epoch_secs`; a time too far out to represent (a hostile or
/// broken header) saturates rather than overflowing `SystemTime`.
pub(crate) fn until_epoch_secs(epoch_secs: u64) -> Duration {
    match UNIX_EPOCH.checked_add(Duration::from_secs(epoch_secs)) {
        Some(when) => until(when),
        None => Duration::MAX,
    }
}

fn until(when: SystemTime) -> Duration {
    still_ahead(when).unwrap_or(Duration::ZERO)
}

/// The wait until `when`, or `None` once it has come. A time the server named that is
/// already over (a client clock ahead of the server's) asks for no wait of its own: the
/// retry backs off as without a hint, rather than firing at once, again and again.
fn still_ahead(when: SystemTime) -> Option<Duration> {
    when.duration_since(SystemTime::now())
        .ok()
        .filter(|wait| !wait.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unscrubbed_headers_give_out_only_what_is_scrubbed() {
        // A secret of digits only (made here, not written out): an echo of it reads as a number.
        let key = format!("vc_{}", "1234".repeat(8));
        let echoes = Echoes::of(&crate::api_key::ApiKey::new(&key).unwrap());
        let secret = &key[3..];
        let answer = |pairs: &[(&str, &str)]| Unscrubbed::new(headers(pairs));
        let echoing = answer(&[
            ("x-request-id", &format!("req_{}", &secret[4..20])),
            ("x-ratelimit-limit", &secret[..16]),
            ("x-ratelimit-remaining", "7"),
            ("x-debug", &format!("Bearer {key}")),
        ]);
        assert_eq!(
            echoing.request_id(&echoes).as_deref(),
            Some("req_[redacted]")
        );
        let limits = echoing.rate_limit(&echoes).unwrap();
        assert_eq!((limits.limit, limits.remaining), (None, Some(7)));
        let scrubbed = echoing.scrubbed(&echoes);
        assert_eq!(scrubbed["x-debug"], "Bearer [redacted]");
        assert_eq!(scrubbed["x-request-id"], "req_[redacted]");
        assert_eq!(rate_limit(&scrubbed), Some(limits));

        // What echoes nothing comes out as it came, 15 digits of the secret included.
        let clean = answer(&[
            ("request-id", " req_1 "),
            ("x-ratelimit-limit", &secret[..15]),
            ("x-ratelimit-reset", "30"),
        ]);
        assert_eq!(clean.request_id(&echoes).as_deref(), Some("req_1"));
        let limits = clean.rate_limit(&echoes).unwrap();
        assert_eq!(limits.limit, Some(secret[..15].parse().unwrap()));
        assert_eq!((limits.remaining, limits.reset), (None, Some(30)));
        assert_eq!(clean.scrubbed(&echoes)["x-ratelimit-reset"], "30");
        assert_eq!(answer(&[]).request_id(&echoes), None);
    }

    #[test]
    fn whole_seconds_and_the_epoch_threshold() {
        assert_eq!(parse_whole_seconds("12"), Some(12));
        assert_eq!(parse_whole_seconds("2.7"), Some(2));
        for bad in ["-1.5", "inf", "NaN", "-0.5e3", "soon"] {
            assert_eq!(parse_whole_seconds(bad), None, "{bad}");
        }
        // Below 10^9 a reset is a number of seconds; from 10^9 on, a Unix time (in the past here).
        assert_eq!(reset_wait(999_999_999), Duration::from_secs(999_999_999));
        assert_eq!(reset_wait(EPOCH_THRESHOLD), Duration::ZERO);
    }

    #[test]
    fn at_most_100_names_are_kept_and_a_kept_name_keeps_all_its_values() {
        let mut headers = HeaderMap::new();
        for i in 0..150 {
            let name =
                reqwest::header::HeaderName::from_bytes(format!("x-{i:03}").as_bytes()).unwrap();
            headers.append(name.clone(), "a".parse().unwrap());
            if i == 99 {
                // The 100th name: its second value arrives when the map is full.
                headers.append(name, "b".parse().unwrap());
            }
        }
        let map = to_map(&headers);
        assert_eq!(map.len(), MAX_HEADERS);
        assert_eq!(map.get("x-099").map(String::as_str), Some("a, b"));
        assert!(!map.contains_key("x-100"));
    }
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn retry_after_sources_in_order() {
        let h = headers(&[("retry-after-ms", "250"), ("retry-after", "7")]);
        assert_eq!(retry_after(503, &h, None), Some(Duration::from_millis(250)));
        let h = headers(&[("Retry-After", "7")]);
        assert_eq!(retry_after(503, &h, None), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(30);
        let h = headers(&[("Retry-After", &httpdate::fmt_http_date(later))]);
        let d = retry_after(503, &h, None).unwrap();
        assert!(
            d > Duration::from_secs(27) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        let past = headers(&[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(
            retry_after(503, &past, None),
            None,
            "a date gone by asks no wait"
        );
        // An explicit zero is the server's own "now".
        let now = headers(&[("Retry-After", "0")]);
        assert_eq!(retry_after(503, &now, None), Some(Duration::ZERO));
        let body = serde_json::json!({"retry_after": 60});
        assert_eq!(
            retry_after(429, &HeaderMap::new(), Some(&body)),
            Some(Duration::from_secs(60))
        );
        // A body hint on a 500 is not a wait request.
        assert_eq!(retry_after(500, &HeaderMap::new(), Some(&body)), None);
    }

    #[test]
    fn rate_limit_reset_as_epoch_or_delta() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let h = headers(&[("x-ratelimit-reset", &(now + 20).to_string())]);
        let d = retry_after(429, &h, None).unwrap();
        assert!(
            d > Duration::from_secs(18) && d <= Duration::from_secs(20),
            "{d:?}"
        );
        let h = headers(&[("x-ratelimit-reset", "3")]);
        assert_eq!(retry_after(429, &h, None), Some(Duration::from_secs(3)));
        // A reset already past (the client's clock ahead) asks no wait: the backoff applies.
        let h = headers(&[("x-ratelimit-reset", &(now - 5).to_string())]);
        assert_eq!(retry_after(429, &h, None), None);
        assert_eq!(rate_limit(&h).unwrap().reset_after(), Some(Duration::ZERO));
        // On a 503 the reset only matters once the window is used up.
        let h = headers(&[("x-ratelimit-reset", "3"), ("x-ratelimit-remaining", "5")]);
        assert_eq!(retry_after(503, &h, None), None);
        let h = headers(&[("x-ratelimit-reset", "3"), ("x-ratelimit-remaining", "0")]);
        assert_eq!(retry_after(503, &h, None), Some(Duration::from_secs(3)));
        // An absurd hint reads the same from every source: about 31 years at most.
        for absurd in [
            headers(&[("retry-after", "99999999999999999999")]),
            headers(&[("x-ratelimit-reset", "99999999999")]),
            headers(&[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")]),
        ] {
            assert_eq!(retry_after(429, &absurd, None), Some(LONGEST_HINT));
        }
        // The public `RateLimit::reset_after` reads it the same.
        let far = headers(&[("x-ratelimit-reset", "99999999999")]);
        assert_eq!(rate_limit(&far).unwrap().reset_after(), Some(LONGEST_HINT));
        assert_eq!(reset_wait(u64::MAX), LONGEST_HINT);
    }

    #[test]
    fn small_resets_read_as_deltas_everywhere() {
        let h = headers(&[("x-ratelimit-reset", "3")]);
        assert_eq!(retry_after(429, &h, None), Some(Duration::from_secs(3)));
        assert_eq!(
            rate_limit(&h).unwrap().reset_after(),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn absurd_reset_times_do_not_overflow() {
        for reset in ["18446744073709551615", "1e30", "9223372036854775807"] {
            let h = headers(&[("x-ratelimit-reset", reset)]);
            let wait = retry_after(429, &h, None).unwrap();
            assert!(wait > Duration::from_secs(1_000_000), "{reset}: {wait:?}");
            assert!(
                rate_limit(&h).unwrap().reset_after().unwrap() > Duration::from_secs(1_000_000)
            );
        }
    }

    #[test]
    fn garbage_hints_are_ignored() {
        let h = headers(&[("retry-after", "soon"), ("retry-after-ms", "-5")]);
        assert_eq!(retry_after(503, &h, None), None);
        let h = headers(&[("x-ratelimit-limit", "lots")]);
        assert_eq!(rate_limit(&h), None);
    }

    #[test]
    fn header_map_is_bounded_and_joined() {
        let h = headers(&[("x-a", "1"), ("x-a", "2"), ("X-B", "3")]);
        let m = to_map(&h);
        assert_eq!(m["x-a"], "1, 2");
        assert_eq!(m["x-b"], "3");
    }
}
