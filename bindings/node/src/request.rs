//! The query JavaScript passes, turned into the core's `QueryRequest` (which validates it).

use napi::bindgen_prelude::Object;
use napi::ValueType;
use napi_derive::napi;
use vectorcache::QueryRequest;

use crate::convert::field;

/// A cache query. `prompt` and `model` are required; the core rejects a missing or blank one
/// before anything is sent.
#[derive(Default)]
#[napi(object, object_to_js = false)]
pub struct QueryInput {
    /// The prompt to look up (and cache on a miss).
    pub prompt: Option<String>,
    /// The LLM model id, e.g. `gpt-4o`.
    pub model: Option<String>,
    /// Segments the cache: the same prompt under another context is another entry.
    pub context: Option<String>,
    /// Minimum cosine similarity (0..1) for a hit; the server's default is 0.85.
    pub similarity_threshold: Option<f64>,
    /// Adds the `debug` object to the result.
    pub include_debug: Option<bool>,
    /// The project to query; overrides the client's `projectId`.
    pub project_id: Option<String>,
}

impl QueryInput {
    /// Reads the request object field by field, so a wrong type names the field.
    pub(crate) fn read(obj: &Object) -> Result<Self, String> {
        Ok(Self {
            prompt: field(obj, "prompt", ValueType::String)?,
            model: field(obj, "model", ValueType::String)?,
            context: field(obj, "context", ValueType::String)?,
            similarity_threshold: field(obj, "similarityThreshold", ValueType::Number)?,
            include_debug: field(obj, "includeDebug", ValueType::Boolean)?,
            project_id: field(obj, "projectId", ValueType::String)?,
        })
    }

    /// The core request. A missing prompt or model becomes empty, which the core's
    /// validation rejects with its own message.
    pub(crate) fn into_request(self) -> QueryRequest {
        let mut request = QueryRequest::new(
            self.prompt.unwrap_or_default(),
            self.model.unwrap_or_default(),
        );
        if let Some(threshold) = self.similarity_threshold {
            request = request.similarity_threshold(threshold);
        }
        if let Some(context) = self.context {
            request = request.context(context);
        }
        if let Some(debug) = self.include_debug {
            request = request.include_debug(debug);
        }
        if let Some(project) = self.project_id {
            request = request.project_id(project);
        }
        request
    }
}
