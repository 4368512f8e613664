//! Reading the response headers that matter: rate limits, retry hints, request ids.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

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
    headers.get(name).and_then(text)
}

fn text(value: &HeaderValue) -> Option<&str> {
    value.to_str().ok().map(str::trim)
}

/// The first value of each of `names`, in one pass over the headers: an answer has a few, and
/// a lookup by name hashes the name.
fn first_values<'a, const N: usize>(
    headers: &'a HeaderMap,
    names: [&HeaderName; N],
) -> [Option<&'a HeaderValue>; N] {
    let mut found = [None; N];
    for (name, value) in headers {
        if let Some(at) = names.iter().position(|wanted| *wanted == name) {
            found[at].get_or_insert(value);
        }
    }
    found
}

/// The request id, from `x-request-id` or `request-id`.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    let [x_request_id, request_id] = first_values(headers, [&X_REQUEST_ID, &REQUEST_ID]);
    request_id_of(x_request_id, request_id)
}

fn request_id_of(
    x_request_id: Option<&HeaderValue>,
    request_id: Option<&HeaderValue>,
) -> Option<String> {
    x_request_id
        .and_then(text)
        .or_else(|| request_id.and_then(text))
        .map(str::to_owned)
}

/// The `X-RateLimit-*` state, if any of the three headers is present and numeric.
pub(crate) fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    let [limit, remaining, reset] = first_values(
        headers,
        [
            &X_RATELIMIT_LIMIT,
            &X_RATELIMIT_REMAINING,
            &X_RATELIMIT_RESET,
        ],
    );
    rate_limit_of([limit, remaining, reset])
}

/// [`rate_limit`] from the three headers' values (limit, remaining, reset).
fn rate_limit_of(values: [Option<&HeaderValue>; 3]) -> Option<RateLimit> {
    let [limit, remaining, reset] = values.map(|value| value.and_then(whole_seconds));
    let state = RateLimit {
        limit,
        remaining,
        reset,
    };
    (state != RateLimit::default()).then_some(state)
}

/// An answer's headers as they came, which may echo the key (a proxy that reflects the
/// request's `Authorization`, a debug header). Nothing leaves them unscrubbed: a successful
/// answer passes on only its request id and rate limit, read in one pass and each scrubbed on
/// its own (scrubbing every header of every answer was a third of the instructions the SDK
/// added to a query, over reqwest's own); an error carries every header, scrubbed.
pub(crate) struct Unscrubbed {
    headers: HeaderMap,
    request_id: Option<String>,
    rate_limit: Option<RateLimit>,
}

impl Unscrubbed {
    pub fn new(headers: HeaderMap, key: &Echoes) -> Self {
        let [x_request_id, request_id, limit, remaining, reset] = first_values(
            &headers,
            [
                &X_REQUEST_ID,
                &REQUEST_ID,
                &X_RATELIMIT_LIMIT,
                &X_RATELIMIT_REMAINING,
                &X_RATELIMIT_RESET,
            ],
        );
        let request_id = request_id_of(x_request_id, request_id).map(|mut id| {
            scrub(&mut id, key);
            id
        });
        // A value that echoes the key counts as absent.
        let rate_limit = rate_limit_of(
            [limit, remaining, reset].map(|value| value.filter(|v| !holds_leak(v.as_bytes(), key))),
        );
        Self {
            headers,
            request_id,
            rate_limit,
        }
    }

    /// The request id (see [`request_id`]), any echo of the key in it redacted: handed
    /// over, not copied (an answer's error or result keeps it).
    pub fn take_request_id(&mut self) -> Option<String> {
        self.request_id.take()
    }

    /// The rate limit (see [`rate_limit`]); a value that echoes the key counts as absent.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    /// Every header, scrubbed (see [`scrub_headers`]).
    pub fn scrubbed(&self, key: &Echoes) -> HeaderMap {
        let mut headers = self.headers.clone();
        scrub_headers(&mut headers, key);
        headers
    }
}

/// A rate-limit value (see [`parse_whole_seconds`]); a plain integer, what every answer
/// carries, is read without going through `str`.
fn whole_seconds(value: &HeaderValue) -> Option<u64> {
    let digits = value.as_bytes();
    // 19 digits always fit a u64.
    if (1..=19).contains(&digits.len()) {
        let mut seconds = 0;
        for digit in digits {
            match digit.wrapping_sub(b'0') {
                digit @ 0..=9 => seconds = seconds * 10 + u64::from(digit),
                _ => return parse_whole_seconds(text(value)?),
            }
        }
        return Some(seconds);
    }
    parse_whole_seconds(text(value)?)
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
        let answer = |pairs: &[(&str, &str)]| Unscrubbed::new(headers(pairs), &echoes);
        let mut echoing = answer(&[
            ("x-request-id", &format!("req_{}", &secret[4..20])),
            ("x-ratelimit-limit", &secret[..16]),
            ("x-ratelimit-remaining", "7"),
            ("x-debug", &format!("Bearer {key}")),
        ]);
        assert_eq!(echoing.take_request_id().as_deref(), Some("req_[redacted]"));
        let limits = echoing.rate_limit().unwrap();
        assert_eq!((limits.limit, limits.remaining), (None, Some(7)));
        let scrubbed = echoing.scrubbed(&echoes);
        assert_eq!(scrubbed["x-debug"], "Bearer [redacted]");
        assert_eq!(scrubbed["x-request-id"], "req_[redacted]");
        assert_eq!(rate_limit(&scrubbed), Some(limits));

        // What echoes nothing comes out as it came, 15 digits of the secret included.
        let mut clean = answer(&[
            ("request-id", " req_1 "),
            ("x-ratelimit-limit", &secret[..15]),
            ("x-ratelimit-reset", "30"),
        ]);
        assert_eq!(clean.take_request_id().as_deref(), Some("req_1"));
        let limits = clean.rate_limit().unwrap();
        assert_eq!(limits.limit, Some(secret[..15].parse().unwrap()));
        assert_eq!((limits.remaining, limits.reset), (None, Some(30)));
        assert_eq!(clean.scrubbed(&echoes)["x-ratelimit-reset"], "30");
        assert_eq!(answer(&[]).take_request_id(), None);
    }

    #[test]
    fn integers_read_fast_read_as_any_number_does() {
        let mut values: Vec<String> = [
            "0",
            " 12\t",
            "007",
            "1.5",
            "+5",
            "",
            " ",
            "1e3",
            "-1",
            "١٢",
            "12 13",
            "18446744073709551615",
            "18446744073709551616",
            "9999999999999999999",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut rng = fastrand::Rng::with_seed(3);
        values.extend((0..500).map(|_| {
            (0..rng.usize(1..24))
                .map(|_| char::from(b'0' + rng.u8(0..10)))
                .collect()
        }));
        for value in values {
            let header = HeaderValue::from_str(&value).unwrap();
            assert_eq!(
                whole_seconds(&header),
                header
                    .to_str()
                    .ok()
                    .and_then(|v| parse_whole_seconds(v.trim())),
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_first_value_of_each_header_is_read() {
        let mut answer = headers(&[("request-id", "req_2"), ("x-ratelimit-limit", "10")]);
        answer.append("x-ratelimit-limit", "20".parse().unwrap());
        assert_eq!(request_id(&answer).as_deref(), Some("req_2"));
        assert_eq!(rate_limit(&answer).unwrap().limit, Some(10));
        // `x-request-id` first, wherever it is; one that is not text gives way.
        answer.append("x-request-id", "req_1".parse().unwrap());
        assert_eq!(request_id(&answer).as_deref(), Some("req_1"));
        answer.insert(
            "x-request-id",
            HeaderValue::from_bytes(b"req_\xff").unwrap(),
        );
        assert_eq!(request_id(&answer).as_deref(), Some("req_2"));
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
