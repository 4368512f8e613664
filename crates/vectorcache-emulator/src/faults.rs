//! Fault injection: canned failures that the next `/v1/cache/query` requests receive.
//!
//! A fault is queued with `POST /_emulator/faults` (see the crate docs for the JSON shape) or
//! with [`RunningEmulator::add_fault`](crate::RunningEmulator::add_fault) (a [`Fault`]), and
//! consumed, in order, one per request (`count` repeats it). Both are checked by one parser.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};
use hyper::StatusCode;
use serde_json::{Map, Value};

/// The longest delay a fault may ask for (5 minutes).
const MAX_DELAY_MS: u64 = 300_000;
/// The most answers one fault object may repeat.
const MAX_COUNT: u64 = 1_000_000;
/// The longest body a fault may answer (64 MiB): room to test a client's own limit (the
/// SDK's is 16 MiB) without letting one fault hold unbounded memory.
pub(crate) const MAX_FAULT_BODY: usize = 64 * 1024 * 1024;

/// A fault to queue with [`RunningEmulator::add_fault`](crate::RunningEmulator::add_fault):
/// what the next queries get instead of the cache's answer. It holds the fields of
/// `POST /_emulator/faults` and is checked as that route checks them, when it is added.
///
/// ```
/// use std::time::Duration;
/// use vectorcache_emulator::Fault;
///
/// let outage = Fault::status(503).times(3); // the service's own 503 body, three times
/// let proxy_page = Fault::status(502).body("<html><h1>502 Bad Gateway</h1></html>");
/// let throttled = Fault::status(429).header("Retry-After", "2");
/// let slow = Fault::delay(Duration::from_millis(500)); // then the normal answer
/// let slow_outage = Fault::status(503).delayed(Duration::from_millis(200));
/// let reset = Fault::drop_connection();
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Fault {
    fields: Map<String, Value>,
}

impl Fault {
    /// Answer `status` (200–599) instead of the cache. Without [`body`](Self::body) it is the
    /// service's own answer for the status: its documented `detail`, and for a 429 its
    /// `X-RateLimit-*` headers and `Retry-After: 1`.
    pub fn status(status: u16) -> Self {
        Self::with("status", status.into())
    }

    /// Wait `delay` (at most 5 minutes, in whole milliseconds rounded up), then answer
    /// normally. (Python's and Node's `delay_ms` are whole milliseconds: they refuse fractions.)
    pub fn delay(delay: Duration) -> Self {
        Self::with("delay_ms", whole_millis(delay).into())
    }

    /// Close the connection without any answer.
    pub fn drop_connection() -> Self {
        Self::with("drop_connection", true.into())
    }

    /// The answer's body: a string is sent verbatim, other JSON serialised, `Value::Null` or
    /// `""` sends an empty one; at most 64 MiB.
    ///
    /// A non-finite `f64` has no JSON spelling: serde_json's `Value::from` makes it `null`
    /// before this sees it, so it sends an empty body. (Python's and Node's emulators refuse
    /// NaN and the infinities, which their JSON encoders would write as invalid JSON or `null`.)
    pub fn body(self, body: impl Into<Value>) -> Self {
        self.and("body", body.into())
    }

    /// A header of the answer (it wins over the emulator's own of that name).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let headers = self
            .fields
            .entry("headers")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(headers) = headers {
            headers.insert(name.to_owned(), value.into());
        }
        self
    }

    /// Wait `delay` (as for [`Fault::delay`]) before answering (or dropping the connection).
    pub fn delayed(self, delay: Duration) -> Self {
        self.and("delay_ms", whole_millis(delay).into())
    }

    /// Apply it to the next `count` queries (1 to 1,000,000) instead of one.
    pub fn times(self, count: u64) -> Self {
        self.and("count", count.into())
    }

    fn with(name: &str, value: Value) -> Self {
        Self { fields: Map::new() }.and(name, value)
    }

    fn and(mut self, name: &str, value: Value) -> Self {
        self.fields.insert(name.to_owned(), value);
        self
    }

    /// What it asks for, checked.
    pub(crate) fn plan(&self) -> Result<(PlannedFault, u64), String> {
        parse_one(&self.fields)
    }
}

/// A duration in milliseconds, rounded up (so that a delay under a millisecond is still one)
/// and saturating (the parser refuses what is too long).
fn whole_millis(delay: Duration) -> u64 {
    u64::try_from(delay.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// What should happen to one request: a queued fault, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedFault {
    /// Answer this status instead of processing the request; `None` = process normally
    /// (after the delay).
    pub status: Option<StatusCode>,
    /// The body of the canned answer: a JSON string is sent verbatim, other JSON serialised,
    /// `None` sends an empty body.
    pub body: Option<Value>,
    /// Extra (or overriding) headers of the canned answer.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Wait this long before answering (or dropping).
    pub delay: Duration,
    /// Close the connection without any answer.
    pub drop_connection: bool,
}

impl PlannedFault {
    /// The canned body as bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(text)) => text.as_bytes().to_vec(),
            Some(other) => other.to_string().into_bytes(),
        }
    }
}

struct Queued {
    fault: PlannedFault,
    remaining: u64,
}

/// The queue of pending faults.
#[derive(Default)]
pub struct FaultQueue {
    queue: Mutex<VecDeque<Queued>>,
}

impl FaultQueue {
    /// Appends faults (each with its repeat count).
    pub fn push(&self, faults: Vec<(PlannedFault, u64)>) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.extend(
            faults
                .into_iter()
                .map(|(fault, remaining)| Queued { fault, remaining }),
        );
    }

    /// Takes the fault for the next request, if any.
    pub fn next(&self) -> Option<PlannedFault> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let front = queue.front_mut()?;
        front.remaining = front.remaining.saturating_sub(1);
        if front.remaining == 0 {
            queue.pop_front().map(|q| q.fault)
        } else {
            Some(front.fault.clone())
        }
    }

    /// How many requests the queued faults will still affect.
    pub fn pending(&self) -> u64 {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            // Saturating: counts are capped, but many queued faults could still add up.
            .fold(0u64, |total, q| total.saturating_add(q.remaining))
    }

    /// Drops every queued fault.
    pub fn clear(&self) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Parses the body of `POST /_emulator/faults`: one fault object or an array of them.
/// The error is a message for a 400 answer.
pub fn parse_faults(body: &[u8]) -> Result<Vec<(PlannedFault, u64)>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("Invalid JSON format: {e}"))?;
    match value {
        Value::Object(map) => Ok(vec![parse_one(&map)?]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => parse_one(map).map_err(|e| format!("fault [{i}]: {e}")),
                _ => Err(format!("fault [{i}]: must be a JSON object")),
            })
            .collect(),
        _ => Err("expected a fault object or an array of fault objects".into()),
    }
}

/// Parses one fault object (JSON text), as [`parse_faults`] parses each; the error says what
/// is wrong with it.
pub(crate) fn parse_fault(json: &[u8]) -> Result<(PlannedFault, u64), String> {
    match serde_json::from_slice(json).map_err(|e| format!("Invalid JSON format: {e}"))? {
        Value::Object(map) => parse_one(&map),
        _ => Err("a fault must be a JSON object".into()),
    }
}

fn parse_one(map: &Map<String, Value>) -> Result<(PlannedFault, u64), String> {
    const FIELDS: [&str; 6] = [
        "status",
        "body",
        "headers",
        "delay_ms",
        "count",
        "drop_connection",
    ];
    if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field {unknown:?} (expected one of {})",
            FIELDS.join(", ")
        ));
    }
    let status = match map.get("status") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let code = v
                .as_u64()
                // 1xx are not final answers; HTTP cannot send them as one.
                .filter(|c| (200..=599).contains(c))
                .ok_or("status must be an integer between 200 and 599")?;
            Some(StatusCode::from_u16(code as u16).map_err(|e| e.to_string())?)
        }
    };
    let delay_ms = match map.get("delay_ms") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_u64().filter(|d| *d <= MAX_DELAY_MS).ok_or(format!(
            "delay_ms must be an integer between 0 and {MAX_DELAY_MS}"
        ))?,
    };
    let count = match map.get("count") {
        None | Some(Value::Null) => 1,
        Some(v) => v
            .as_u64()
            .filter(|c| (1..=MAX_COUNT).contains(c))
            .ok_or(format!(
                "count must be an integer between 1 and {MAX_COUNT}"
            ))?,
    };
    let drop_connection = match map.get("drop_connection") {
        None | Some(Value::Null) => false,
        Some(v) => v.as_bool().ok_or("drop_connection must be a boolean")?,
    };
    let mut headers = Vec::new();
    match map.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (name, value) in h {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("header {name:?} must be a string")),
                };
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("invalid header name {name:?}"))?;
                let value = HeaderValue::from_str(&text)
                    .map_err(|_| format!("invalid value for header {name}"))?;
                headers.push((name, value));
            }
        }
        Some(_) => return Err("headers must be an object of name: value".into()),
    }
    let body = map.get("body").cloned();
    let body_len = match &body {
        None | Some(Value::Null) => 0,
        Some(Value::String(text)) => text.len(),
        Some(other) => other.to_string().len(),
    };
    if body_len > MAX_FAULT_BODY {
        return Err(format!(
            "body must be at most {} MiB (it is {body_len} bytes)",
            MAX_FAULT_BODY >> 20
        ));
    }
    if status.is_none() && !drop_connection {
        if body.is_some() || !headers.is_empty() {
            return Err("body and headers need a status".into());
        }
        if delay_ms == 0 {
            return Err("a fault needs a status, a delay_ms or drop_connection".into());
        }
    }
    Ok((
        PlannedFault {
            status,
            body,
            headers,
            delay: Duration::from_millis(delay_ms),
            drop_connection,
        },
        count,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_may_be_64_mib_and_no_more() {
        let largest = "x".repeat(MAX_FAULT_BODY);
        let fault = Fault::status(200).body(largest.as_str());
        assert_eq!(
            fault.plan().expect("64 MiB").0.body_bytes().len(),
            MAX_FAULT_BODY
        );
        let too_long = Fault::status(200).body(largest + "x");
        let refused = too_long.plan().expect_err("over 64 MiB");
        assert!(
            refused.starts_with("body must be at most 64 MiB"),
            "{refused}"
        );
        // JSON bodies are measured as they are sent.
        let items = vec![Value::from("y".repeat(1 << 20)); 64];
        assert!(Fault::status(200).body(items).plan().is_err());
    }

    #[test]
    fn parses_and_consumes_in_order() {
        let faults = parse_faults(
            br#"[{"status": 503, "body": "<html>", "headers": {"Retry-After": 1}, "count": 2},
                 {"delay_ms": 10}, {"drop_connection": true}]"#,
        )
        .expect("valid faults");
        let queue = FaultQueue::default();
        queue.push(faults);
        assert_eq!(queue.pending(), 4);
        let first = queue.next().expect("fault");
        assert_eq!(first.status, Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(first.body_bytes(), b"<html>");
        assert_eq!(first.headers[0].1, "1");
        assert_eq!(
            queue.next().expect("fault").status,
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert_eq!(
            queue.next().expect("fault").delay,
            Duration::from_millis(10)
        );
        assert!(queue.next().expect("fault").drop_connection);
        assert!(queue.next().is_none());
    }

    #[test]
    fn huge_counts_are_refused_and_pending_never_overflows() {
        assert!(parse_faults(br#"{"status": 500, "count": 18446744073709551615}"#).is_err());
        let max = format!(r#"[{{"status": 500, "count": {MAX_COUNT}}}]"#);
        let queue = FaultQueue::default();
        for _ in 0..3 {
            queue.push(parse_faults(max.as_bytes()).expect("the cap itself is fine"));
        }
        assert_eq!(queue.pending(), 3 * MAX_COUNT);
    }

    #[test]
    fn a_built_fault_is_what_its_json_says_and_delays_round_up_to_a_millisecond() {
        let built = Fault::status(503)
            .body("<html>")
            .header("Retry-After", "1")
            .delayed(Duration::from_micros(1_001))
            .times(2);
        let json = br#"{"status": 503, "body": "<html>", "headers": {"Retry-After": "1"},
                        "delay_ms": 2, "count": 2}"#;
        assert_eq!(built.plan(), parse_fault(json));
        let (short, _) = Fault::delay(Duration::from_micros(500))
            .plan()
            .expect("a delay under a millisecond is still a delay");
        assert_eq!(short.delay, Duration::from_millis(1));
        assert!(Fault::delay(Duration::MAX).plan().is_err());
    }

    #[test]
    fn rejects_bad_faults() {
        for bad in [
            &b"nope"[..],
            b"42",
            b"{}",
            b"{\"status\": 42}",
            b"{\"status\": 101}",
            b"{\"status\": 500, \"count\": 0}",
            b"{\"status\": 500, \"headers\": {\"bad name\": \"x\"}}",
            b"{\"body\": \"x\"}",
            b"{\"stauts\": 500}",
            b"[1]",
        ] {
            assert!(
                parse_faults(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
