//! The query JavaScript passes, turned into the core's `QueryRequest` (which validates it).

use napi::bindgen_prelude::Object;
use napi::ValueType;
use napi_derive::napi;
use vectorcache::QueryRequest;

use vectorcache::bindings::{duration_from_millis_f64, retries_from_i64};

use crate::config::whole_number;
use crate::convert::Fields;

/// A cache query. `prompt` and `model` are required; the core rejects a missing or blank one
/// before anything is sent. (This struct gives the generated types; the values are read into
/// the core's `QueryRequest`.)
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
    /// Reads the request object into the core's request, field by field, so a wrong type
    /// names the field. A missing prompt or model becomes empty, which the core's validation
    /// rejects with its own message. Each option is one line here.
    pub(crate) fn read(obj: &Object) -> Result<QueryRequest, String> {
        Self::from_fields(&Fields::read(obj, REQUEST_FIELDS, "query field")?)
    }

    /// Reads one item of a `queryMany` batch: the query's fields and, beside them, the
    /// per-call options `query` takes as its second argument (as a Python batch item holds
    /// `query`'s keyword arguments, and a Rust `QueryRequest` its own settings).
    pub(crate) fn read_batch_item(obj: &Object) -> Result<QueryRequest, String> {
        let fields = Fields::read(obj, &BATCH_ITEM_FIELDS, "query field")?;
        let mut request = Self::from_fields(&fields)?;
        QueryOptions::apply(&fields, &mut request)?;
        Ok(request)
    }

    fn from_fields(fields: &Fields) -> Result<QueryRequest, String> {
        let prompt = fields.text("prompt")?;
        let model = fields.text("model")?;
        let mut request = QueryRequest::new(prompt.unwrap_or_default(), model.unwrap_or_default());
        request.context = fields.text("context")?;
        // The documented wire names (snake_case) are accepted beside the camelCase ones.
        request.similarity_threshold =
            fields.either("similarityThreshold", "similarity_threshold", number)?;
        request.include_debug = fields.either("includeDebug", "include_debug", boolean)?;
        request.project_id = fields.either("projectId", "project_id", Fields::text)?;
        Ok(request)
    }
}

/// Every key a query object may have.
const REQUEST_FIELDS: &[&str] = &[
    "prompt",
    "model",
    "context",
    "similarityThreshold",
    "similarity_threshold",
    "includeDebug",
    "include_debug",
    "projectId",
    "project_id",
];

/// Every key the per-call options may have (`signal` is the wrapper's).
const QUERY_OPTIONS: &[&str] = &[
    "timeout",
    "maxRetries",
    "totalTimeout",
    "headers",
    "projectId",
    "signal",
];

/// Every key an item of a batch may have: the query's and the per-call options' (a batch
/// has one `signal`, in the batch's options; `projectId` is a query field already).
static BATCH_ITEM_FIELDS: std::sync::LazyLock<Vec<&str>> = std::sync::LazyLock::new(|| {
    let options = QUERY_OPTIONS
        .iter()
        .filter(|name| !matches!(**name, "signal" | "projectId"));
    REQUEST_FIELDS.iter().chain(options).copied().collect()
});

fn number(fields: &Fields, name: &str) -> Result<Option<f64>, String> {
    fields.get(name, ValueType::Number)
}

fn boolean(fields: &Fields, name: &str) -> Result<Option<bool>, String> {
    fields.get(name, ValueType::Boolean)
}

/// Per-call settings, the second argument of `query`. (This struct gives the generated
/// types; `signal` is handled by the JavaScript wrapper.)
#[derive(Default)]
#[napi(object, object_to_js = false)]
pub struct QueryOptions {
    /// This call's per-attempt timeout in milliseconds, instead of the client's.
    pub timeout: Option<f64>,
    /// This call's retries after the first attempt, instead of the client's.
    pub max_retries: Option<f64>,
    /// Milliseconds this whole call may take (connection wait, attempts, waits between).
    pub total_timeout: Option<f64>,
    /// Headers sent with this call only (not `Authorization`).
    pub headers: Option<std::collections::HashMap<String, String>>,
    /// The project to query; overrides the request's and the client's.
    pub project_id: Option<String>,
}

impl QueryOptions {
    /// Reads the per-call settings into `request`, one line per option; a bad value is the
    /// reason for an invalid-request error.
    pub(crate) fn read_into(obj: &Object, request: &mut QueryRequest) -> Result<(), String> {
        Self::apply(&Fields::read(obj, QUERY_OPTIONS, "query option")?, request)
    }

    fn apply(fields: &Fields, request: &mut QueryRequest) -> Result<(), String> {
        if let Some(ms) = fields.get("timeout", ValueType::Number)? {
            request.timeout = Some(duration_from_millis_f64("timeout", ms)?);
        }
        if let Some(n) = fields.get("maxRetries", ValueType::Number)? {
            request.max_retries = Some(retries_from_i64(
                "maxRetries",
                whole_number("maxRetries", n)?,
            )?);
        }
        if let Some(ms) = fields.get("totalTimeout", ValueType::Number)? {
            request.total_timeout = Some(duration_from_millis_f64("totalTimeout", ms)?);
        }
        request.headers.extend(fields.string_map("headers")?);
        if let Some(project) = fields.text("projectId")? {
            request.project_id = Some(project);
        }
        Ok(())
    }
}
