//! The native client: one core `Client` (shared connection pool, swappable key) per instance.

use napi::bindgen_prelude::{PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;
use vectorcache::{ApiKey, Client, ClientBuilder, Error, QueryRequest};

use crate::cancel::CancelToken;
use crate::config::ClientOptions;
use crate::convert::{object_arg, text};
use crate::errors::NativeError;
use crate::request::{QueryInput, QueryOptions};
use crate::response::QueryOutcome;

/// A Vectorcache client backed by the Rust core. Made by `createClient`; the key lives only
/// in Rust memory.
#[napi]
pub struct NativeClient {
    inner: Client,
}

/// What `createClient` returns: `client` or `error`, never both.
#[napi(object, object_from_js = false)]
pub struct CreateClientOutcome {
    /// The new client, on success.
    pub client: Option<NativeClient>,
    /// Why the options were refused (`missing_api_key`, `invalid_api_key`, `invalid_config`).
    pub error: Option<NativeError>,
}

/// Builds a client from `options` (all optional; the core reads `VECTORCACHE_API_KEY` and
/// `VECTORCACHE_BASE_URL` for what is not given). Never throws for bad options.
#[napi(ts_args_type = "options?: ClientOptions | undefined | null")]
pub fn create_client(options: Unknown) -> CreateClientOutcome {
    match build(options) {
        Ok(inner) => CreateClientOutcome {
            client: Some(NativeClient { inner }),
            error: None,
        },
        Err(error) => CreateClientOutcome {
            client: None,
            error: Some(error.into()),
        },
    }
}

fn build(options: Unknown) -> Result<Client, Error> {
    let options = match object_arg(options, "the client options").map_err(Error::invalid_config)? {
        Some(obj) => ClientOptions::read(&obj)?,
        None => ClientOptions::read_none(),
    };
    ClientBuilder::from(options).build()
}

/// The request object and the per-call options as one core request.
fn read_query(request: Unknown, options: Option<Unknown>) -> Result<QueryRequest, String> {
    let mut query = object_arg(request, "the query")?
        .ok_or_else(|| "the query must be an object".to_owned())
        .and_then(|obj| QueryInput::read(&obj))?;
    if let Some(options) = options {
        if let Some(obj) = object_arg(options, "the query options")? {
            QueryOptions::read_into(&obj, &mut query)?;
        }
    }
    Ok(query)
}

#[napi]
impl NativeClient {
    /// Looks the request up in the cache on the shared tokio runtime, with the per-call
    /// `options` if given; `cancel` ends it early. The promise always resolves, to
    /// `{ result }`, `{ error }` or (cancelled) `{ aborted: true }`; a bad request is refused
    /// before any I/O.
    #[napi(
        ts_args_type = "request: QueryInput, options?: QueryOptions | undefined | null, cancel?: CancelToken | undefined | null",
        ts_return_type = "Promise<QueryOutcome>"
    )]
    pub fn query<'env>(
        &self,
        env: &'env Env,
        request: Unknown,
        options: Option<Unknown>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, QueryOutcome>> {
        let client = self.inner.clone();
        let request = read_query(request, options);
        let cancelled = cancel.map(CancelToken::cancelled);
        env.spawn_future(async move {
            let request = match request {
                Ok(request) => request,
                Err(reason) => {
                    return Ok(QueryOutcome::failed(Error::invalid_request(reason).into()))
                }
            };
            Ok(match cancelled {
                None => client.query(request).await.into(),
                Some(cancelled) => tokio::select! {
                    outcome = client.query(request) => outcome.into(),
                    () = cancelled.notified() => QueryOutcome::aborted(),
                },
            })
        })
    }

    /// Rotates the key on this client (in-flight requests keep the old one). Returns the
    /// `invalid_api_key` error instead of throwing when the key is malformed.
    #[napi(ts_args_type = "key: string")]
    pub fn set_api_key(&self, key: Unknown) -> Option<NativeError> {
        // The reason never repeats the value: it may be a secret.
        let key = match text(key, "apiKey") {
            Ok(key) => key,
            Err(_) => {
                return Some(
                    Error::invalid_api_key("the key must be a string of `vc_` and hex digits")
                        .into(),
                )
            }
        };
        match ApiKey::new(key) {
            Ok(key) => {
                self.inner.set_api_key(key);
                None
            }
            Err(error) => Some(error.into()),
        }
    }

    /// The key in redacted form, e.g. `vc_1234…`.
    #[napi(getter)]
    pub fn redacted_api_key(&self) -> String {
        self.inner.api_key().to_string()
    }

    /// The base URL requests go to.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
    }

    /// The per-attempt timeout, in milliseconds.
    #[napi(getter)]
    pub fn timeout(&self) -> f64 {
        self.inner.timeout().as_secs_f64() * 1000.0
    }

    /// Retries after the first attempt.
    #[napi(getter)]
    pub fn max_retries(&self) -> u32 {
        self.inner.max_retries()
    }

    /// The default project id, if one was set.
    #[napi(getter)]
    pub fn project_id(&self) -> Option<String> {
        self.inner.project_id().map(str::to_owned)
    }
}
