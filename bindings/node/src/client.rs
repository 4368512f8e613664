//! The native client: one core `Client` (shared connection pool, swappable key) per instance.

use napi::bindgen_prelude::{Array, FromNapiValue, Object, PromiseRaw, Unknown};
use napi::Env;
use napi::{JsValue, ValueType};
use napi_derive::napi;
use std::sync::Arc;
use vectorcache::bindings::call_log::CallLog;
use vectorcache::bindings::concurrency_from_i64;

use vectorcache::{ApiKey, Client, ClientBuilder, Error, Level, QueryRequest};

use crate::cancel::CancelToken;
use crate::config::whole_number;
use crate::config::ClientOptions;
use crate::convert::{object_arg, reason, text, Fields};
use crate::delivery::Ticket;
use crate::errors::{in_js_names, NativeError};
use crate::request::{QueryInput, QueryOptions};
use crate::response::{Batch, BatchOutcome, Outcome, QueryOutcome, UsageStats};

/// A Vectorcache client backed by the Rust core. Made by `createClient`; the key lives only
/// in Rust memory.
#[napi]
pub struct NativeClient {
    inner: Client,
    /// Whether the wrapper has a logger: each call then brings its own events back.
    log_events: bool,
}

/// An answer or a retry, for the wrapper's logger.
#[napi(object, object_from_js = false)]
pub struct LogEvent {
    /// `debug` (answers) or `info` (retries).
    pub level: String,
    /// The message (never the key).
    pub message: String,
}

/// A call's events for the wrapper's logger, oldest first (none without a log): the wrapper
/// logs them as that call settles, in its caller's async context, not with whichever call
/// settles next.
fn log_events(log: Option<Arc<CallLog>>) -> Vec<LogEvent> {
    let Some(log) = log else {
        return Vec::new();
    };
    log.take()
        .into_iter()
        .map(|kept| LogEvent {
            level: match kept.level {
                Level::Debug => "debug",
                _ => "info",
            }
            .to_owned(),
            message: kept.message,
        })
        .collect()
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
/// With `logEvents`, each outcome carries its call's answers and retries as `events`.
#[napi(ts_args_type = "options?: ClientOptions | undefined | null, logEvents?: boolean")]
pub fn create_client(options: Unknown, log_events: Option<bool>) -> CreateClientOutcome {
    match build(options) {
        Ok(inner) => CreateClientOutcome {
            client: Some(NativeClient {
                inner,
                log_events: log_events.unwrap_or(false),
            }),
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
    // Clients with the same connection settings share one pool, as with undici's global
    // dispatcher: one made per request reuses connections, and one left for the garbage
    // collector holds none of its own open.
    ClientBuilder::from(options)
        .share_connections()
        .build()
        .map_err(in_js_names)
}

/// `future`'s output, or `None` if `cancelled` fires first (the future is dropped then, and
/// with it any request in flight).
async fn unless_cancelled<F: std::future::Future>(
    future: F,
    cancelled: Option<Arc<tokio::sync::Notify>>,
) -> Option<F::Output> {
    match cancelled {
        None => Some(future.await),
        Some(cancelled) => tokio::select! {
            output = future => Some(output),
            () = cancelled.notified() => None,
        },
    }
}

/// A batch as read: each item's request or the reason it cannot be sent, and the concurrency.
type BatchInput = (Vec<Result<QueryRequest, String>>, usize);

/// Requests of a batch in flight at once, unless the caller says.
const DEFAULT_CONCURRENCY: f64 = 16.0;

/// From here on (where `whole_number` stops: near 2^53, beyond which JavaScript's numbers are
/// no longer exact integers) a concurrency is "all at once".
const UNBOUNDED: f64 = 9.0e15;

fn read_batch(requests: Unknown, options: Option<Unknown>) -> Result<BatchInput, String> {
    let mut concurrency = DEFAULT_CONCURRENCY;
    if let Some(obj) = options
        .map(|o| object_arg(o, "the queryMany options"))
        .transpose()?
        .flatten()
    {
        // `signal` is the wrapper's; it is read there.
        concurrency = Fields::read(&obj, &["concurrency", "signal"], "queryMany option")?
            .get("concurrency", ValueType::Number)?
            .unwrap_or(DEFAULT_CONCURRENCY);
    }
    // No upper bound (a batch never runs more at once than it holds): `Infinity`, the
    // "no limit" of p-limit and p-map, and whole numbers beyond 2^53 are all at once.
    let concurrency = if concurrency >= UNBOUNDED {
        usize::MAX
    } else {
        whole_number("concurrency", concurrency).and_then(concurrency_from_i64)?
    };
    if !requests.is_array().unwrap_or(false) {
        return Err("queryMany takes an array of queries".to_owned());
    }
    let env = requests.value().env;
    let array = Array::from_unknown(requests).map_err(|e| reason(env, e))?;
    let items = (0..array.len())
        .map(|i| {
            let item: Unknown = array
                .get(i)
                .map_err(|e| format!("query {i}: cannot read it: {}", reason(env, e)))?
                .ok_or_else(|| format!("query {i} is missing"))?;
            query_object(item)
                .and_then(|obj| QueryInput::read_batch_item(&obj))
                .map_err(|reason| format!("query {i}: {reason}"))
        })
        .collect();
    Ok((items, concurrency))
}

/// The request object and the per-call options as one core request.
fn read_query(request: Unknown, options: Option<Unknown>) -> Result<QueryRequest, String> {
    let mut query = QueryInput::read(&query_object(request)?)?;
    if let Some(options) = options {
        if let Some(obj) = object_arg(options, "the query options")? {
            QueryOptions::read_into(&obj, &mut query)?;
        }
    }
    Ok(query)
}

/// A query: a plain object (an array is not one, though JavaScript calls it an object).
fn query_object(value: Unknown) -> Result<Object, String> {
    let obj =
        object_arg(value, "the query")?.ok_or_else(|| "the query must be an object".to_owned())?;
    if obj.is_array().unwrap_or(false) {
        return Err("the query must be an object, got an array".to_owned());
    }
    Ok(obj)
}

/// The outcome of a query the binding refused (`reason` says why), counted in the client's
/// statistics as the core counts the queries it refuses.
fn refusal(client: &Client, reason: String) -> Outcome {
    let error = Error::invalid_request(reason);
    client.count_refused(error.kind());
    Outcome::Failed(error.into())
}

/// Sends the batch's valid requests, and merges their outcomes with the refused ones.
async fn run_batch(
    client: Client,
    items: Vec<Result<QueryRequest, String>>,
    concurrency: usize,
    cancelled: Option<Arc<tokio::sync::Notify>>,
) -> Batch {
    let (refused, requests): (Vec<_>, Vec<_>) = items
        .into_iter()
        .map(|item| match item {
            Ok(request) => (None, Some(request)),
            Err(reason) => (Some(reason), None),
        })
        .unzip();
    let run = client.query_many(requests.into_iter().flatten(), concurrency);
    let Some(answers) = unless_cancelled(run, cancelled).await else {
        return Batch::Aborted;
    };
    let mut answers = answers.into_iter();
    let outcomes = refused
        .into_iter()
        .map(|refused| match refused {
            Some(reason) => refusal(&client, reason),
            // query_many answers every request it was given.
            None => answers.next().map_or(Outcome::Aborted, Outcome::from),
        })
        .collect();
    Batch::Done(outcomes)
}

impl NativeClient {
    /// A log for a call's events, if the wrapper has a logger.
    fn call_log(&self) -> Option<Arc<CallLog>> {
        self.log_events.then(Arc::default)
    }
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
        let log = self.call_log();
        let mut request = read_query(request, options);
        if let (Ok(request), Some(log)) = (&mut request, &log) {
            // Every event: the wrapper's logger filters.
            request.on_event = Some(log.hook(|_| true));
        }
        let cancelled = cancel.map(CancelToken::cancelled);
        let (ticket, promise) = Ticket::new(env)?;
        ticket.run(|ticket| async move {
            let outcome = match request {
                Ok(request) => match unless_cancelled(client.query(request), cancelled).await {
                    Some(outcome) => outcome.into(),
                    None => Outcome::Aborted,
                },
                Err(reason) => refusal(&client, reason),
            };
            // A cancelled call's events so far come too: the wrapper logs them late.
            ticket.deliver((outcome, log_events(log)))
        });
        Ok(promise)
    }

    /// Looks every request up, at most `concurrency` at once, in one native call; resolves to
    /// one outcome per request, in input order, or to the error that refused the batch as a
    /// whole, or to `{ aborted: true }` when cancelled.
    #[napi(
        ts_args_type = "requests: Array<QueryInput & QueryOptions>, options?: { concurrency?: number } | undefined | null, cancel?: CancelToken | undefined | null",
        ts_return_type = "Promise<BatchOutcome>"
    )]
    pub fn query_many<'env>(
        &self,
        env: &'env Env,
        requests: Unknown,
        options: Option<Unknown>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<PromiseRaw<'env, BatchOutcome>> {
        let client = self.inner.clone();
        let log = self.call_log();
        let mut read = read_batch(requests, options);
        if let (Ok((items, _)), Some(log)) = (&mut read, &log) {
            let hook = log.hook(|_| true);
            for request in items.iter_mut().flatten() {
                request.on_event = Some(hook.clone());
            }
        }
        let cancelled = cancel.map(CancelToken::cancelled);
        let (ticket, promise) = Ticket::new(env)?;
        ticket.run(|ticket| async move {
            let batch = match read {
                Ok((items, concurrency)) => run_batch(client, items, concurrency, cancelled).await,
                Err(reason) => Batch::Refused(Error::invalid_request(reason)),
            };
            ticket.deliver((batch, log_events(log)))
        });
        Ok(promise)
    }

    /// A snapshot of this client's usage (shared with clones of the core client).
    #[napi]
    pub fn stats(&self) -> UsageStats {
        UsageStats::from(self.inner.stats())
    }

    /// The error of a call the wrapper refused before handing it over (a `signal` that is no
    /// AbortSignal), counted in the statistics as the core counts its own refusals.
    #[napi]
    pub fn refuse(&self, reason: String) -> NativeError {
        let error = Error::invalid_request(reason);
        self.inner.count_refused(error.kind());
        error.into()
    }

    /// Starts the statistics afresh.
    #[napi]
    pub fn reset_stats(&self) {
        self.inner.reset_stats();
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
