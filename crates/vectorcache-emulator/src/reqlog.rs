//! The log of requests to `/v1/cache/query`, served by `GET /_emulator/requests`.
//!
//! Secrets never enter it: the `Authorization` header is stored redacted (`Bearer vc_1234…`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use hyper::HeaderMap;
use serde::Serialize;
use serde_json::Value;

use crate::auth::redact_authorization;

/// How many requests the log keeps (the oldest are dropped first).
pub const LOG_CAPACITY: usize = 1000;

/// How much of a body that is not JSON is kept, in characters.
const MAX_LOGGED_BODY_CHARS: usize = 4096;

/// One logged request.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// The `X-Request-Id` of the answer.
    pub request_id: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// The answer's status; `null` when a fault dropped the connection.
    pub status: Option<u16>,
    /// Request headers by lower-case name (repeated headers joined with `, `), secrets redacted.
    pub headers: BTreeMap<String, String>,
    /// The body: parsed JSON when it is JSON, else the (possibly truncated) text, `null` if empty.
    pub body: Value,
    /// Whether a queued fault was applied.
    pub fault: bool,
    /// The connection it came on, numbered from 1 in the order the emulator accepted them
    /// (requests on one kept-alive connection share it).
    pub connection: u64,
}

/// Headers as logged: lower-case names, secrets redacted, non-UTF-8 shown lossily.
pub fn loggable_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let shown = match name.as_str() {
            "authorization" | "proxy-authorization" => redact_authorization(value.as_bytes()),
            "cookie" | "x-api-key" | "api-key" => "[redacted]".to_owned(),
            _ => String::from_utf8_lossy(value.as_bytes()).into_owned(),
        };
        out.entry(name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&shown);
            })
            .or_insert(shown);
    }
    out
}

/// A body as logged (see [`LoggedRequest::body`]).
pub fn loggable_body(body: &[u8], truncated: bool) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    if !truncated {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            return value;
        }
    }
    let text = String::from_utf8_lossy(body);
    if truncated || text.chars().count() > MAX_LOGGED_BODY_CHARS {
        let head: String = text.chars().take(MAX_LOGGED_BODY_CHARS).collect();
        Value::String(format!("{head}…(truncated)"))
    } else {
        Value::String(text.into_owned())
    }
}

/// The bounded log.
#[derive(Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    /// Appends a request, dropping the oldest beyond [`LOG_CAPACITY`].
    pub fn push(&self, entry: LoggedRequest) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= LOG_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// All logged requests, oldest first.
    pub fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Empties the log and returns how many entries it held.
    pub fn clear(&self) -> usize {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let n = entries.len();
        entries.clear();
        n
    }
}
