//! The typed answer of `POST /v1/cache/query`.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

/// The answer to a cache query: a hit (a cached response to a similar prompt) or a miss
/// (a fresh LLM response, now cached).
///
/// Deserialization ignores unknown fields and defaults absent optional ones, so newer
/// servers do not break older clients. Serializing gives the documented wire shape.
///
/// ```
/// let answer: vectorcache::QueryResponse = serde_json::from_str(
///     r#"{"cache_hit": true, "response": "AI is...", "similarity_score": 0.93,
///         "cost_saved": 0.0021, "llm_provider": "cache", "new_field": 1}"#,
/// )?;
/// assert!(answer.cache_hit);
/// assert_eq!(answer.similarity_score, Some(0.93));
/// assert!(answer.debug.is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueryResponse {
    /// Whether a cached entry matched.
    pub cache_hit: bool,
    /// The LLM response text, cached or fresh.
    pub response: String,
    /// Cosine similarity of the match; `None` on a miss.
    #[serde(default)]
    pub similarity_score: Option<f64>,
    /// Estimated USD saved; 0 on a miss.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cost_saved: f64,
    /// `cache` on a hit, else the provider (`openai`, `anthropic`, `google`, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub llm_provider: String,
    /// Timings and match details, only when the request set `include_debug`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<DebugInfo>,
    /// The rate-limit state from the `X-RateLimit-*` headers, if the server sent them.
    #[serde(skip)]
    pub rate_limit: Option<RateLimit>,
    /// The request id header, if the server sent one.
    #[serde(skip)]
    pub request_id: Option<String>,
}

/// The `debug` object of a response (requested with `include_debug`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DebugInfo {
    /// Time spent embedding the prompt, in milliseconds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub embedding_time_ms: f64,
    /// Time spent searching the cache, in milliseconds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub search_time_ms: f64,
    /// Server time for the whole request, in milliseconds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_time_ms: f64,
    /// The id (a UUID) of the matched cache entry, on a hit.
    #[serde(default)]
    pub matched_cache_entry_id: Option<String>,
    /// How many entries the search covered.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cache_entry_count: u64,
}

/// Rate-limit state from the `X-RateLimit-Limit`, `-Remaining` and `-Reset` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: Option<u64>,
    /// Requests left in the window.
    pub remaining: Option<u64>,
    /// When the window resets, in Unix seconds.
    pub reset: Option<u64>,
}

impl RateLimit {
    /// How long until the window resets, from now (zero if it already has). A small `reset`
    /// is read as seconds from now, as some proxies send it.
    pub fn reset_after(&self) -> Option<Duration> {
        Some(crate::headers::reset_wait(self.reset?))
    }
}

/// Treats an explicit JSON `null` like an absent field.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_and_null_fields_default() {
        let r: QueryResponse = serde_json::from_str(
            r#"{"cache_hit":false,"response":"x","similarity_score":null,"cost_saved":null,"llm_provider":null}"#,
        )
        .unwrap();
        assert_eq!(r.cost_saved, 0.0);
        assert_eq!(r.llm_provider, "");
        assert_eq!(r.similarity_score, None);
    }

    #[test]
    fn serializes_the_documented_shape_only() {
        let r: QueryResponse =
            serde_json::from_str(r#"{"cache_hit":true,"response":"x","cost_saved":1.5,"llm_provider":"cache","similarity_score":0.9}"#)
                .unwrap();
        let v = serde_json::to_value(&r).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "cache_hit",
                "cost_saved",
                "llm_provider",
                "response",
                "similarity_score"
            ]
        );
    }
}
