//! How results and errors look on a terminal, and as JSON.

use std::fmt::Write as _;

use serde_json::{json, Value};
use vectorcache::{Error, ErrorKind, QueryResponse};

use crate::console::{errln, outln};

/// A readable, multi-line summary of an answer, response text last.
pub fn describe(answer: &QueryResponse) -> String {
    let mut out = String::new();
    let outcome = match answer.similarity_score {
        Some(score) if answer.cache_hit => format!("HIT (similarity {score:.4})"),
        _ if answer.cache_hit => "HIT".to_owned(),
        _ => "MISS (fresh answer, now cached)".to_owned(),
    };
    let _ = writeln!(out, "cache:      {outcome}");
    let _ = writeln!(out, "provider:   {}", answer.llm_provider);
    let _ = writeln!(out, "cost saved: ${:.6}", answer.cost_saved);
    if let Some(limits) = &answer.rate_limit {
        if let (Some(remaining), Some(limit)) = (limits.remaining, limits.limit) {
            let _ = writeln!(out, "rate limit: {remaining}/{limit} left");
        }
    }
    if let Some(id) = &answer.request_id {
        let _ = writeln!(out, "request id: {id}");
    }
    if let Some(debug) = &answer.debug {
        let _ = writeln!(
            out,
            "debug:      embedding {:.3} ms, search {:.3} ms, total {:.3} ms, {} entries searched{}",
            debug.embedding_time_ms,
            debug.search_time_ms,
            debug.total_time_ms,
            debug.cache_entry_count,
            debug
                .matched_cache_entry_id
                .as_deref()
                .map(|id| format!(", matched {id}"))
                .unwrap_or_default()
        );
    }
    let _ = write!(out, "\n{}", answer.response);
    out
}

/// The documented response shape, plus the header-borne state when present.
pub fn answer_json(answer: &QueryResponse) -> Value {
    let mut value = serde_json::to_value(answer).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        if let Some(limits) = &answer.rate_limit {
            object.insert("rate_limit".into(), json!(limits));
        }
        if let Some(id) = &answer.request_id {
            object.insert("request_id".into(), json!(id));
        }
    }
    value
}

/// The error as JSON: kind, status, detail, message, retry_after.
pub fn error_json(error: &Error) -> Value {
    json!({ "error": {
        "kind": error.kind().as_str(),
        "status": error.status(),
        "detail": error.detail(),
        "message": error.to_string(),
        "retry_after": error.retry_after().map(|d| d.as_secs_f64()),
        "request_id": error.request_id(),
    }})
}

/// What to do about `error`, in one line.
pub fn hint(error: &Error) -> String {
    match error.kind() {
        ErrorKind::Authentication => {
            "check that VECTORCACHE_API_KEY holds an active key (dashboard → API Keys); revoked keys get 401".into()
        }
        ErrorKind::PermissionDenied => {
            "the key belongs to another project: use that project's key, or drop --project".into()
        }
        ErrorKind::RateLimited => match error.retry_after() {
            Some(wait) => format!("rate limited: wait {:.0} s before retrying", wait.as_secs_f64().ceil()),
            None => "rate limited: slow down and retry later".into(),
        },
        ErrorKind::Timeout | ErrorKind::Connection => {
            "could not reach the service: check VECTORCACHE_BASE_URL (or --base-url), the network, and any proxy (HTTPS_PROXY) the error names".into()
        }
        // The client refused the server's certificate; the error says what to do about it.
        ErrorKind::Certificate => {
            "this machine does not trust the server's certificate: see the advice above".into()
        }
        ErrorKind::MissingApiKey | ErrorKind::InvalidApiKey => {
            "set VECTORCACHE_API_KEY to your key (vc_ followed by 32 hex characters)".into()
        }
        ErrorKind::InvalidConfig => "fix the configuration (base URL, timeout) and run again".into(),
        ErrorKind::InvalidRequest => "fix the arguments; nothing was sent".into(),
        ErrorKind::Decode => "the server answered with something that is not the Vectorcache API".into(),
        _ => match error.status() {
            Some(status) if status >= 500 => {
                "the service (or a proxy in front of it) failed after retries; try again later".into()
            }
            _ => "the server rejected the request; see the detail above".into(),
        },
    }
}

/// Prints `error` to stderr (or as JSON to stdout) and returns its exit code.
pub fn report_error(error: &Error, as_json: bool) -> u8 {
    if as_json {
        outln!("{}", error_json(error));
    } else {
        errln!("error: {error}");
        errln!("hint:  {}", hint(error));
    }
    crate::exit::code(error)
}
