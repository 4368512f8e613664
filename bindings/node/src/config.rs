//! The client options JavaScript passes, turned into the core's `ClientBuilder`. The core
//! checks every value; this module only converts units (milliseconds, JS numbers).

use napi::bindgen_prelude::Object;
use napi::ValueType;
use napi_derive::napi;
use vectorcache::{duration_from_millis_f64, retries_from_i64, ClientBuilder, Error};

use crate::convert::field;

/// Options of a client. Every one is optional; explicit values beat the environment.
#[derive(Default)]
#[napi(object, object_to_js = false)]
pub struct ClientOptions {
    /// The API key (`vc_` + 32 hex characters). Defaults to `VECTORCACHE_API_KEY`.
    pub api_key: Option<String>,
    /// The service URL. Defaults to `VECTORCACHE_BASE_URL`, else `https://api.vectorcache.ai`.
    pub base_url: Option<String>,
    /// Timeout of one attempt, in milliseconds (default 30000).
    pub timeout: Option<f64>,
    /// Retries after the first attempt (default 2; 0 disables retrying).
    pub max_retries: Option<f64>,
    /// The project every request targets unless it names its own.
    pub project_id: Option<String>,
}

impl ClientOptions {
    /// Reads the options object field by field, so a wrong type names the field.
    pub(crate) fn read(obj: &Object) -> Result<Self, String> {
        Ok(Self {
            api_key: field(obj, "apiKey", ValueType::String)?,
            base_url: field(obj, "baseUrl", ValueType::String)?,
            timeout: field(obj, "timeout", ValueType::Number)?,
            max_retries: field(obj, "maxRetries", ValueType::Number)?,
            project_id: field(obj, "projectId", ValueType::String)?,
        })
    }

    /// The core builder for these options; bad values get the core's typed error.
    pub(crate) fn into_builder(self) -> Result<ClientBuilder, Error> {
        let mut builder = vectorcache::Client::builder()
            .user_agent_suffix(concat!("vectorcache-node/", env!("CARGO_PKG_VERSION")));
        if let Some(key) = self.api_key {
            builder = builder.api_key(key);
        }
        if let Some(url) = self.base_url {
            builder = builder.base_url(url);
        }
        if let Some(ms) = self.timeout {
            // JavaScript gives milliseconds, the core takes seconds.
            builder = builder.timeout(duration_from_millis_f64("timeout", ms)?);
        }
        if let Some(retries) = self.max_retries {
            builder = builder.max_retries(retries_from_i64("maxRetries", whole_number(retries)?)?);
        }
        if let Some(project) = self.project_id {
            builder = builder.project_id(project);
        }
        Ok(builder)
    }
}

/// A JS number that must be a whole number (`maxRetries`): 2.5 or NaN is refused rather than
/// silently truncated; the range is the core's to check.
fn whole_number(n: f64) -> Result<i64, Error> {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 {
        // Exact: a whole number below 2^53 converts without loss.
        Ok(n as i64)
    } else {
        Err(Error::InvalidConfig {
            reason: format!("`maxRetries` must be a whole number from 0 to 100, got {n}"),
        })
    }
}
