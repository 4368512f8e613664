//! The query result in the documented snake_case shape, plus the outcome wrapper.

use napi::bindgen_prelude::{Either, Null};
use napi_derive::napi;
use vectorcache::{Error, QueryResponse, RateLimit};

use crate::errors::NativeError;

/// The answer to a cache query, in the documented wire shape (snake_case fields).
#[napi(object, object_from_js = false)]
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
}

/// The `debug` object of a result.
#[napi(object, object_from_js = false)]
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

/// What `NativeClient.query` resolves to: `result` (with the answer's rate-limit state and
/// request id) or `error`, never both.
#[napi(object, object_from_js = false)]
pub struct QueryOutcome {
    /// The answer, on success.
    pub result: Option<QueryResult>,
    /// The `X-RateLimit-*` state of a successful answer, if the server sent it.
    pub rate_limit: Option<RateLimitInfo>,
    /// The request id of a successful answer, if the server sent one.
    pub request_id: Option<String>,
    /// The failure, as data.
    pub error: Option<NativeError>,
    /// Set when the query was cancelled (the wrapper has rejected already).
    pub aborted: Option<bool>,
}

impl QueryOutcome {
    pub(crate) fn failed(error: NativeError) -> Self {
        Self {
            result: None,
            rate_limit: None,
            request_id: None,
            error: Some(error),
            aborted: None,
        }
    }

    pub(crate) fn aborted() -> Self {
        Self {
            result: None,
            rate_limit: None,
            request_id: None,
            error: None,
            aborted: Some(true),
        }
    }
}

impl From<Result<QueryResponse, Error>> for QueryOutcome {
    fn from(outcome: Result<QueryResponse, Error>) -> Self {
        match outcome {
            Ok(answer) => Self {
                rate_limit: answer.rate_limit.map(RateLimitInfo::from),
                request_id: answer.request_id.clone(),
                result: Some(QueryResult::from(answer)),
                error: None,
                aborted: None,
            },
            Err(error) => Self::failed(error.into()),
        }
    }
}

impl From<QueryResponse> for QueryResult {
    fn from(answer: QueryResponse) -> Self {
        Self {
            cache_hit: answer.cache_hit,
            response: answer.response,
            similarity_score: nullable(answer.similarity_score),
            cost_saved: answer.cost_saved,
            llm_provider: answer.llm_provider,
            debug: answer.debug.map(|d| DebugInfo {
                embedding_time_ms: d.embedding_time_ms,
                search_time_ms: d.search_time_ms,
                total_time_ms: d.total_time_ms,
                matched_cache_entry_id: nullable(d.matched_cache_entry_id),
                // Entry counts stay far below 2^53, so the f64 is exact.
                cache_entry_count: d.cache_entry_count as f64,
            }),
        }
    }
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

/// `None` as JavaScript `null` (not `undefined`), as in the documented JSON.
fn nullable<T>(value: Option<T>) -> Either<T, Null> {
    value.map_or(Either::B(Null), Either::A)
}

/// What `NativeClient.queryMany` resolves to: the outcomes in input order, or the error that
/// refused the whole batch, or `aborted`.
#[napi(object, object_from_js = false)]
pub struct BatchOutcome {
    /// One outcome per request, in input order.
    pub outcomes: Option<Vec<QueryOutcome>>,
    /// Why the batch as a whole was refused (not an array, a bad concurrency).
    pub error: Option<NativeError>,
    /// Set when the batch was cancelled.
    pub aborted: Option<bool>,
}

impl BatchOutcome {
    pub(crate) fn done(outcomes: Vec<QueryOutcome>) -> Self {
        Self {
            outcomes: Some(outcomes),
            error: None,
            aborted: None,
        }
    }

    pub(crate) fn refused(error: Error) -> Self {
        Self {
            outcomes: None,
            error: Some(error.into()),
            aborted: None,
        }
    }

    pub(crate) fn aborted() -> Self {
        Self {
            outcomes: None,
            error: None,
            aborted: Some(true),
        }
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
