//! The query result in the documented snake_case shape, plus the outcome wrapper.
//!
//! The structs here give the generated TypeScript types; the answers themselves are built by
//! [`Outcome::into_js`] and [`Batch::into_js`] (see `names.rs` for why).

use napi::bindgen_prelude::{Either, Null, ToNapiValue};
use napi::sys;
use napi_derive::napi;
use vectorcache::{Error, QueryResponse, RateLimit};

use crate::client::LogEvent;
use crate::errors::{in_js_names, NativeError};
use crate::names::{Builder, Name};

/// The answer to a cache query, in the documented wire shape (snake_case fields), with the
/// answer's metadata as non-enumerable properties.
#[napi(object, object_to_js = false, object_from_js = false)]
pub struct QueryResult {
    /// Whether a cached entry matched.
    #[napi(js_name = "cache_hit")]
    pub cache_hit: bool,
    /// The LLM response text, cached or fresh.
    pub response: String,
    /// Cosine similarity of the match; `null` on a miss.
    #[napi(js_name = "similarity_score")]
    pub similarity_score: Either<f64, Null>,
    /// Estimated USD saved; 0 on a miss.
    #[napi(js_name = "cost_saved")]
    pub cost_saved: f64,
    /// `cache` on a hit, else the provider (`openai`, `anthropic`, `google`, ...).
    #[napi(js_name = "llm_provider")]
    pub llm_provider: String,
    /// Timings and match details; present only when the query set `includeDebug`.
    pub debug: Option<DebugInfo>,
    /// The `X-RateLimit-*` state of the answer, if the server sent it (non-enumerable).
    pub rate_limit: Option<RateLimitInfo>,
    /// The answer's request id, if the server sent one (non-enumerable).
    pub request_id: Option<String>,
}

/// The `debug` object of a result.
#[napi(object, object_to_js = false, object_from_js = false)]
pub struct DebugInfo {
    /// Time spent embedding the prompt, in milliseconds.
    #[napi(js_name = "embedding_time_ms")]
    pub embedding_time_ms: f64,
    /// Time spent searching the cache, in milliseconds.
    #[napi(js_name = "search_time_ms")]
    pub search_time_ms: f64,
    /// Server time for the whole request, in milliseconds.
    #[napi(js_name = "total_time_ms")]
    pub total_time_ms: f64,
    /// The id (a UUID) of the matched cache entry; `null` on a miss.
    #[napi(js_name = "matched_cache_entry_id")]
    pub matched_cache_entry_id: Either<String, Null>,
    /// How many entries the search covered.
    #[napi(js_name = "cache_entry_count")]
    pub cache_entry_count: f64,
}

/// Rate-limit state from the `X-RateLimit-*` headers.
#[napi(object, object_from_js = false)]
pub struct RateLimitInfo {
    /// Requests allowed per window.
    pub limit: Option<f64>,
    /// Requests left in the window.
    pub remaining: Option<f64>,
    /// When the window resets, in Unix seconds.
    pub reset: Option<f64>,
}

/// What `NativeClient.query` resolves to: `result` (its metadata attached), `error`, or
/// `aborted` when cancelled (the wrapper has rejected already).
#[napi(object, object_to_js = false, object_from_js = false)]
pub struct QueryOutcome {
    /// The answer, on success.
    pub result: Option<QueryResult>,
    /// The failure, as data.
    pub error: Option<NativeError>,
    /// Set when the query was cancelled.
    pub aborted: Option<bool>,
    /// The call's answers and retries, oldest first, when the client logs them.
    pub events: Option<Vec<LogEvent>>,
}

/// A query's outcome on its way to JavaScript (built as a [`QueryOutcome`]).
pub(crate) enum Outcome {
    Answer(QueryResponse),
    Failed(NativeError),
    Aborted,
}

impl From<Result<QueryResponse, Error>> for Outcome {
    fn from(outcome: Result<QueryResponse, Error>) -> Self {
        match outcome {
            Ok(answer) => Self::Answer(answer),
            Err(error) => Self::Failed(in_js_names(error).into()),
        }
    }
}

impl Outcome {
    /// `{ result }`, `{ error }` or `{ aborted: true }`.
    pub(crate) fn into_js(self, js: &mut Builder) -> napi::Result<sys::napi_value> {
        let outcome = js.object()?;
        match self {
            Self::Answer(answer) => {
                let result = answer_to_js(answer, js)?;
                js.set(outcome, Name::Result, result)?;
            }
            Self::Failed(error) => js.set(outcome, Name::Error, error_to_js(error, js)?)?,
            Self::Aborted => js.set(outcome, Name::Aborted, js.boolean(true)?)?,
        }
        Ok(outcome)
    }
}

/// The result object: the wire fields, then the metadata, hidden.
fn answer_to_js(answer: QueryResponse, js: &mut Builder) -> napi::Result<sys::napi_value> {
    let result = js.object()?;
    js.set(result, Name::CacheHit, js.boolean(answer.cache_hit)?)?;
    js.set(result, Name::Response, js.string(&answer.response)?)?;
    let similarity = match answer.similarity_score {
        Some(score) => js.number(score)?,
        None => js.null()?,
    };
    js.set(result, Name::SimilarityScore, similarity)?;
    js.set(result, Name::CostSaved, js.number(answer.cost_saved)?)?;
    js.set(result, Name::LlmProvider, js.string(&answer.llm_provider)?)?;
    if let Some(debug) = answer.debug {
        let object = js.object()?;
        js.set(
            object,
            Name::EmbeddingTimeMs,
            js.number(debug.embedding_time_ms)?,
        )?;
        js.set(object, Name::SearchTimeMs, js.number(debug.search_time_ms)?)?;
        js.set(object, Name::TotalTimeMs, js.number(debug.total_time_ms)?)?;
        let entry = match &debug.matched_cache_entry_id {
            Some(id) => js.string(id)?,
            None => js.null()?,
        };
        js.set(object, Name::MatchedCacheEntryId, entry)?;
        // Entry counts stay far below 2^53, so the f64 is exact.
        js.set(
            object,
            Name::CacheEntryCount,
            js.number(debug.cache_entry_count as f64)?,
        )?;
        js.set(result, Name::Debug, object)?;
    }
    let rate_limit = match answer.rate_limit {
        Some(state) => {
            let object = js.object()?;
            for (name, value) in [
                (Name::Limit, state.limit),
                (Name::Remaining, state.remaining),
                (Name::Reset, state.reset),
            ] {
                if let Some(n) = value {
                    js.set(object, name, js.number(n as f64)?)?;
                }
            }
            object
        }
        None => js.undefined()?,
    };
    let request_id = match &answer.request_id {
        Some(id) => js.string(id)?,
        None => js.undefined()?,
    };
    js.hide(
        result,
        [(Name::RateLimit, rate_limit), (Name::RequestId, request_id)],
    )?;
    Ok(result)
}

/// An error as data (rare enough for napi-rs's derived conversion).
fn error_to_js(error: NativeError, js: &Builder) -> napi::Result<sys::napi_value> {
    // SAFETY: on the JavaScript thread of `js.env`, during its turn.
    unsafe { NativeError::to_napi_value(js.env, error) }
}

impl From<RateLimit> for RateLimitInfo {
    fn from(rl: RateLimit) -> Self {
        Self {
            limit: rl.limit.map(|n| n as f64),
            remaining: rl.remaining.map(|n| n as f64),
            reset: rl.reset.map(|n| n as f64),
        }
    }
}

/// What `NativeClient.queryMany` resolves to: the outcomes in input order, or the error that
/// refused the whole batch, or `aborted`.
#[napi(object, object_to_js = false, object_from_js = false)]
pub struct BatchOutcome {
    /// One outcome per request, in input order: `{ result }` or `{ error }`.
    pub outcomes: Option<Vec<QueryOutcome>>,
    /// Why the batch as a whole was refused (not an array, a bad concurrency).
    pub error: Option<NativeError>,
    /// Set when the batch was cancelled.
    pub aborted: Option<bool>,
    /// The batch's answers and retries, oldest first, when the client logs them.
    pub events: Option<Vec<LogEvent>>,
}

/// A batch's outcome on its way to JavaScript (built as a [`BatchOutcome`]).
pub(crate) enum Batch {
    Done(Vec<Outcome>),
    Refused(Error),
    Aborted,
}

impl Batch {
    pub(crate) fn into_js(self, js: &mut Builder) -> napi::Result<sys::napi_value> {
        let batch = js.object()?;
        match self {
            Self::Done(outcomes) => {
                let mut array = std::ptr::null_mut();
                napi::check_status!(unsafe {
                    sys::napi_create_array_with_length(js.env, outcomes.len(), &mut array)
                })?;
                for (index, outcome) in outcomes.into_iter().enumerate() {
                    let item = outcome.into_js(js)?;
                    napi::check_status!(unsafe {
                        sys::napi_set_element(js.env, array, index as u32, item)
                    })?;
                }
                js.set(batch, Name::Outcomes, array)?;
            }
            Self::Refused(error) => js.set(batch, Name::Error, error_to_js(error.into(), js)?)?,
            Self::Aborted => js.set(batch, Name::Aborted, js.boolean(true)?)?,
        }
        Ok(batch)
    }
}

/// A snapshot of a client's usage.
#[napi(object, object_from_js = false)]
pub struct UsageStats {
    /// Calls of `query` that finished, successful or not.
    pub queries: f64,
    /// Answers that were cache hits.
    pub hits: f64,
    /// Answers that were misses.
    pub misses: f64,
    /// `hits / (hits + misses)`; 0 before the first answer.
    pub hit_rate: f64,
    /// The `cost_saved` of every answer, summed (USD).
    pub cost_saved: f64,
    /// Failed calls by error kind (`rate_limited`, `timeout`, ...).
    pub errors: std::collections::HashMap<String, f64>,
    /// Retries made (attempts after the first of a call).
    pub retries: f64,
    /// Latency percentiles in milliseconds (within about 5 %).
    pub latency_ms: LatencyMs,
}

/// Latency percentiles in milliseconds.
#[napi(object, object_from_js = false)]
pub struct LatencyMs {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl From<vectorcache::Stats> for UsageStats {
    fn from(stats: vectorcache::Stats) -> Self {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        // Counts stay far below 2^53, so the f64s are exact.
        Self {
            queries: stats.queries as f64,
            hits: stats.hits as f64,
            misses: stats.misses as f64,
            hit_rate: stats.hit_rate,
            cost_saved: stats.cost_saved,
            errors: stats
                .errors
                .iter()
                .map(|(kind, n)| (kind.as_str().to_owned(), *n as f64))
                .collect(),
            retries: stats.retries as f64,
            latency_ms: LatencyMs {
                p50: ms(stats.latency.p50),
                p95: ms(stats.latency.p95),
                p99: ms(stats.latency.p99),
            },
        }
    }
}
