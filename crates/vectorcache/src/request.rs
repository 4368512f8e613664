//! The cache query request and its local validation.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::error::Error;
use crate::events::{Event, EventHook};

/// The documented default similarity threshold, applied by the server when none is sent.
pub const DEFAULT_SIMILARITY_THRESHOLD: f64 = 0.85;

/// A `POST /v1/cache/query` request. Options left unset are omitted from the body, so the
/// server's defaults apply.
///
/// Build it with the chained setters, or fill its public fields (the Python and Node packages
/// and the CLI do, one line per option):
///
/// ```
/// use vectorcache::QueryRequest;
///
/// let request = QueryRequest::new("What is AI?", "gpt-4o")
///     .similarity_threshold(0.9)
///     .context("faq")
///     .include_debug(true);
/// assert_eq!(request.prompt(), "What is AI?");
///
/// let mut same = QueryRequest::new("What is AI?", "gpt-4o");
/// same.similarity_threshold = Some(0.9);
/// same.context = Some("faq".into());
/// same.include_debug = Some(true);
/// assert_eq!(same, request);
/// ```
///
/// Requests with their own event hooks ([`QueryRequest::on_event`]) are equal only when they
/// share the same hook.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct QueryRequest {
    /// The prompt to look up (and cache on a miss). Required, not blank.
    pub prompt: String,
    /// The LLM model id, e.g. `gpt-4o`. Required, not blank.
    pub model: String,
    /// Minimum cosine similarity (0..=1) for a hit; the server's default is 0.85.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity_threshold: Option<f64>,
    /// Segments the cache: the same prompt under another context is another entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Asks for the `debug` object (timings, matched entry) in the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_debug: Option<bool>,
    /// The project to query; overrides the client's project id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// This call's per-attempt timeout, instead of the client's.
    #[serde(skip)]
    pub timeout: Option<Duration>,
    /// This call's retries after the first attempt (at most 100), instead of the client's.
    #[serde(skip)]
    pub max_retries: Option<u32>,
    /// This call's bound on everything (waiting for a connection, every attempt, every
    /// wait between them), instead of the client's.
    #[serde(skip)]
    pub total_timeout: Option<Duration>,
    /// Headers sent with this call only, after the client's (`Authorization` cannot be set).
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
    /// Told this call's events (answers, retries), besides the client's hook.
    #[serde(skip)]
    pub on_event: Option<CallHook>,
}

/// A call's own event hook (see [`QueryRequest::on_event`]). Two are equal when they are
/// the same hook (clones of one another).
#[derive(Clone)]
pub struct CallHook(EventHook);

impl CallHook {
    /// Wraps `hook` for [`QueryRequest::on_event`].
    pub fn new(hook: EventHook) -> Self {
        Self(hook)
    }

    /// Tells the hook `event`.
    pub fn call(&self, event: &Event) {
        (self.0)(event)
    }
}

impl From<EventHook> for CallHook {
    fn from(hook: EventHook) -> Self {
        Self(hook)
    }
}

impl PartialEq for CallHook {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for CallHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallHook(..)")
    }
}

impl QueryRequest {
    /// A request for `prompt` answered by `model` (e.g. `gpt-4o`, `claude-3-5-sonnet-20241022`).
    pub fn new(prompt: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            model: model.into(),
            similarity_threshold: None,
            context: None,
            include_debug: None,
            project_id: None,
            timeout: None,
            max_retries: None,
            total_timeout: None,
            headers: Vec::new(),
            on_event: None,
        }
    }

    /// Minimum cosine similarity (0..=1) for a hit; the server's default is 0.85.
    pub fn similarity_threshold(mut self, threshold: f64) -> Self {
        self.similarity_threshold = Some(threshold);
        self
    }

    /// Segments the cache: the same prompt under another context is another entry.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    /// Asks for the `debug` object (timings, matched entry) in the response.
    pub fn include_debug(mut self, include: bool) -> Self {
        self.include_debug = Some(include);
        self
    }

    /// The project to query; overrides the client's project id.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// This call's per-attempt timeout, instead of the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// This call's retries after the first attempt (at most 100), instead of the client's.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Bounds this whole call: waiting for a connection, every attempt and every wait
    /// between attempts. When it runs out the call ends with [`Error::Timeout`]; a wait the
    /// server asks for that would overrun it ends the call at once with the server's error.
    pub fn total_timeout(mut self, total: Duration) -> Self {
        self.total_timeout = Some(total);
        self
    }

    /// Tells `hook` this call's events (each answer, each retry), besides the client's
    /// [`on_event`](crate::ClientOptions::on_event) hook: the Python and Node packages log a
    /// call's events where the call was made.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vectorcache::{Event, QueryRequest};
    ///
    /// let request = QueryRequest::new("What is AI?", "gpt-4o")
    ///     .on_event(Arc::new(|event: &Event| eprintln!("{event}")));
    /// assert!(request.on_event.is_some());
    /// ```
    pub fn on_event(mut self, hook: EventHook) -> Self {
        self.on_event = Some(CallHook::new(hook));
        self
    }

    /// A header sent with this call only (after the client's default headers).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// The model.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Checks the request as the server would, so a bad one fails before any I/O.
    pub fn validate(&self) -> Result<(), Error> {
        for (field, value) in [("prompt", &self.prompt), ("model", &self.model)] {
            if value.trim().is_empty() {
                return Err(Error::invalid_request(format!(
                    "`{field}` is required and must not be empty or blank"
                )));
            }
        }
        if let Some(t) = self.similarity_threshold {
            if !t.is_finite() || !(0.0..=1.0).contains(&t) {
                return Err(Error::invalid_request(threshold_problem(&t)));
            }
        }
        for (field, value) in [
            ("timeout", self.timeout),
            ("total_timeout", self.total_timeout),
        ] {
            if value.is_some_and(|d| d.is_zero()) {
                return Err(Error::invalid_request(format!(
                    "`{field}` must be greater than zero"
                )));
            }
        }
        if let Some(retries) = self
            .max_retries
            .filter(|r| *r > crate::config::MAX_RETRIES_LIMIT)
        {
            return Err(Error::invalid_request(crate::config::retries_problem(
                "max_retries",
                &retries,
            )));
        }
        if self
            .project_id
            .as_deref()
            .is_some_and(|p| p.trim().is_empty())
        {
            return Err(Error::invalid_request(
                "`project_id` must not be empty or blank when given",
            ));
        }
        Ok(())
    }

    /// Validates and serializes the body, filling in the client's default project id.
    pub(crate) fn to_body(&self, default_project: Option<&str>) -> Result<Vec<u8>, Error> {
        self.validate()?;
        let body = if self.project_id.is_none() && default_project.is_some() {
            let mut with_project = self.clone();
            with_project.project_id = default_project.map(str::to_owned);
            serde_json::to_vec(&with_project)
        } else {
            serde_json::to_vec(self)
        };
        body.map_err(|e| Error::invalid_request(format!("cannot encode the request: {e}")))
    }
}

/// Why a similarity threshold is refused; `shown` is the value as the caller wrote it.
pub(crate) fn threshold_problem(shown: &dyn std::fmt::Display) -> String {
    format!("`similarity_threshold` must be a number between 0 and 1, got {shown}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn accessors_give_back_what_was_set() {
        let r = QueryRequest::new("What is AI?", "gpt-4o");
        assert_eq!((r.prompt(), r.model()), ("What is AI?", "gpt-4o"));
    }

    fn body(r: &QueryRequest, project: Option<&str>) -> Value {
        serde_json::from_slice(&r.to_body(project).unwrap()).unwrap()
    }

    #[test]
    fn unset_options_are_omitted() {
        let r = QueryRequest::new("p", "m");
        assert_eq!(body(&r, None), json!({"prompt": "p", "model": "m"}));
    }

    #[test]
    fn every_option_is_sent_snake_case() {
        let r = QueryRequest::new("p", "m")
            .similarity_threshold(0.9)
            .context("c")
            .include_debug(true)
            .project_id("proj");
        assert_eq!(
            body(&r, Some("other")),
            json!({"prompt": "p", "model": "m", "similarity_threshold": 0.9, "context": "c",
                   "include_debug": true, "project_id": "proj"})
        );
        let r = QueryRequest::new("p", "m");
        assert_eq!(body(&r, Some("dflt"))["project_id"], "dflt");
    }

    #[test]
    fn validation() {
        let bad = [
            QueryRequest::new("  \n", "gpt-4o"),
            QueryRequest::new("p", ""),
            QueryRequest::new("p", "m").similarity_threshold(1.01),
            QueryRequest::new("p", "m").similarity_threshold(-0.1),
            QueryRequest::new("p", "m").similarity_threshold(f64::NAN),
            QueryRequest::new("p", "m").similarity_threshold(f64::INFINITY),
            QueryRequest::new("p", "m").project_id(" "),
        ];
        for r in bad {
            assert!(
                matches!(r.validate(), Err(Error::InvalidRequest { .. })),
                "{r:?}"
            );
        }
        for t in [0.0, 1.0, DEFAULT_SIMILARITY_THRESHOLD] {
            QueryRequest::new("p", "m")
                .similarity_threshold(t)
                .validate()
                .unwrap();
        }
    }
}
