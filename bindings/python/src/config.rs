//! Python arguments to the core's options: the client's (`VectorcacheClient(...)`) and a
//! query's (`query(...)`), one line per option. The checks themselves (key format, https,
//! ranges) are the core's; this only converts Python values.

use std::path::PathBuf;

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyMapping, PyString};
use vectorcache::bindings::{
    concurrency_from_i64, concurrency_out_of_range, connections_from_i64, connections_out_of_range,
    duration_from_secs_f64, lone_surrogate, retries_from_i64, retries_out_of_range,
    seconds_out_of_range, threshold_out_of_range, Reason,
};
use vectorcache::{Client, ClientBuilder, ClientOptions, Error, QueryRequest};

/// `Ok(Err(e))` returns it from the enclosing function; `Ok(Ok(v))` gives `v`.
macro_rules! ok_or_return {
    ($converted:expr) => {
        match $converted {
            Ok(value) => value,
            Err(error) => return Ok(Err(error)),
        }
    };
}

/// Names this package in the `User-Agent` after the core's own token.
const USER_AGENT_SUFFIX: &str = concat!("vectorcache-python/", env!("CARGO_PKG_VERSION"));

/// What a conversion gives: a Python `TypeError` for a wrong type (the outer `Err`), the
/// core's typed error for a bad value (`Ok(Err(..))`), else the value.
pub type Converted<T> = PyResult<Result<T, Error>>;

/// The keyword arguments of `VectorcacheClient(...)`, as given.
pub struct ClientArgs<'py> {
    pub api_key: Option<Bound<'py, PyAny>>,
    pub base_url: Option<Bound<'py, PyAny>>,
    pub timeout: Option<Bound<'py, PyAny>>,
    pub max_retries: Option<Bound<'py, PyAny>>,
    pub project_id: Option<Bound<'py, PyAny>>,
    pub max_connections: Option<Bound<'py, PyAny>>,
    pub total_timeout: Option<Bound<'py, PyAny>>,
    pub connect_timeout: Option<Bound<'py, PyAny>>,
    pub ca_bundle: Option<PathBuf>,
    pub proxy: Option<Bound<'py, PyAny>>,
}

/// How an untrusted-certificate error tells a Python user to trust a CA.
const TRUST_ADVICE: &str = "to trust its CA, pass ca_bundle=\"path/to/ca.pem\" to the client, \
     or point SSL_CERT_FILE / SSL_CERT_DIR at it";

impl ClientArgs<'_> {
    /// The core's options for these arguments, one line per option.
    fn into_options(self) -> Converted<ClientOptions> {
        let bad = Error::invalid_config;
        let mut options = ClientOptions::default();
        options.user_agent_suffix = Some(USER_AGENT_SUFFIX.to_owned());
        options.api_key = ok_or_return!(optional_text("api_key", self.api_key.as_ref(), bad)?);
        options.base_url = ok_or_return!(optional_text("base_url", self.base_url.as_ref(), bad)?);
        options.project_id =
            ok_or_return!(optional_text("project_id", self.project_id.as_ref(), bad)?);
        options.timeout = ok_or_return!(duration("timeout", self.timeout.as_ref(), bad)?);
        options.max_retries =
            ok_or_return!(retries("max_retries", self.max_retries.as_ref(), bad)?);
        options.max_connections = ok_or_return!(connections(
            "max_connections",
            self.max_connections.as_ref()
        )?);
        options.total_timeout =
            ok_or_return!(duration("total_timeout", self.total_timeout.as_ref(), bad)?);
        options.connect_timeout = ok_or_return!(duration(
            "connect_timeout",
            self.connect_timeout.as_ref(),
            bad
        )?);
        options.ca_bundle = self.ca_bundle;
        options.proxy = ok_or_return!(optional_text("proxy", self.proxy.as_ref(), bad)?);
        options.trust_advice = Some(TRUST_ADVICE.to_owned());
        Ok(Ok(options))
    }
}

/// Builds the core client. Clients with the same connection settings share one pool, which
/// outlives the last of them by its idle timeout: one made per request (a web handler's
/// `with` block) reuses the connection of the one before instead of opening its own.
pub fn build_client(args: ClientArgs<'_>) -> Converted<Client> {
    Ok(args
        .into_options()?
        .and_then(|options| ClientBuilder::from(options).share_connections().build()))
}

/// The keyword arguments of `query(...)`, as given.
pub struct QueryArgs<'py> {
    pub prompt: Bound<'py, PyAny>,
    pub model: Bound<'py, PyAny>,
    pub similarity_threshold: Option<Bound<'py, PyAny>>,
    pub context: Option<Bound<'py, PyAny>>,
    pub include_debug: Option<Bound<'py, PyAny>>,
    pub project_id: Option<Bound<'py, PyAny>>,
    pub timeout: Option<Bound<'py, PyAny>>,
    pub max_retries: Option<Bound<'py, PyAny>>,
    pub total_timeout: Option<Bound<'py, PyAny>>,
    pub extra_headers: Option<Bound<'py, PyAny>>,
}

impl QueryArgs<'_> {
    /// The core request for these arguments, one line per option.
    pub fn into_request(self) -> Converted<QueryRequest> {
        let bad = Error::invalid_request;
        let prompt = ok_or_return!(text("prompt", &self.prompt, bad)?);
        let model = ok_or_return!(text("model", &self.model, bad)?);
        let mut request = QueryRequest::new(prompt, model);
        request.similarity_threshold =
            ok_or_return!(threshold(self.similarity_threshold.as_ref())?);
        request.context = ok_or_return!(optional_text("context", self.context.as_ref(), bad)?);
        request.include_debug = flag("include_debug", self.include_debug.as_ref())?.then_some(true);
        request.project_id =
            ok_or_return!(optional_text("project_id", self.project_id.as_ref(), bad)?);
        request.timeout = ok_or_return!(duration("timeout", self.timeout.as_ref(), bad)?);
        request.max_retries =
            ok_or_return!(retries("max_retries", self.max_retries.as_ref(), bad)?);
        request.total_timeout =
            ok_or_return!(duration("total_timeout", self.total_timeout.as_ref(), bad)?);
        request.headers = ok_or_return!(headers(self.extra_headers.as_ref())?);
        Ok(Ok(request))
    }
}

fn duration(
    what: &str,
    value: Option<&Bound<'_, PyAny>>,
    bad: fn(Reason) -> Error,
) -> Converted<Option<std::time::Duration>> {
    let Some(value) = value else {
        return Ok(Ok(None));
    };
    Ok(match real(what, "a number of seconds", value)? {
        Real::Fits(secs) => duration_from_secs_f64(what, secs),
        Real::Huge(shown) => Err(seconds_out_of_range(what, &shown)),
    }
    .map(Some)
    .map_err(bad))
}

fn retries(
    what: &str,
    value: Option<&Bound<'_, PyAny>>,
    bad: fn(Reason) -> Error,
) -> Converted<Option<u32>> {
    let Some(value) = value else {
        return Ok(Ok(None));
    };
    Ok(match whole_number(what, value)? {
        Whole::Fits(n) => retries_from_i64(what, n),
        Whole::Huge(shown) => Err(retries_out_of_range(what, &shown)),
    }
    .map(Some)
    .map_err(bad))
}

fn connections(what: &str, value: Option<&Bound<'_, PyAny>>) -> Converted<Option<usize>> {
    let Some(value) = value else {
        return Ok(Ok(None));
    };
    Ok(match whole_number(what, value)? {
        Whole::Fits(n) => connections_from_i64(what, n),
        Whole::Huge(shown) => Err(connections_out_of_range(what, &shown)),
    }
    .map(Some)
    .map_err(Error::invalid_config))
}

/// `extra_headers`: a mapping of header names to values, both `str`.
fn headers(value: Option<&Bound<'_, PyAny>>) -> Converted<Vec<(String, String)>> {
    let Some(value) = value else {
        return Ok(Ok(Vec::new()));
    };
    let mapping = value.cast::<PyMapping>().map_err(|_| {
        PyTypeError::new_err(format!(
            "`extra_headers` must be a mapping of str to str, got {}",
            type_name(value)
        ))
    })?;
    let mut headers = Vec::new();
    for item in mapping.items()?.iter() {
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let name = ok_or_return!(text("extra_headers", &name, Error::invalid_request)?);
        let value = ok_or_return!(text("extra_headers", &value, Error::invalid_request)?);
        headers.push((name, value));
    }
    Ok(Ok(headers))
}

/// `query_many`'s `concurrency`: an int from 1 up (one beyond 64 bits is as many as the batch
/// holds, like any other above its length).
pub fn batch_concurrency(value: &Bound<'_, PyAny>) -> Converted<usize> {
    Ok(match whole_number("concurrency", value)? {
        Whole::Fits(n) => concurrency_from_i64(n),
        Whole::Huge(shown) if shown.starts_with('-') => Err(concurrency_out_of_range(&shown)),
        Whole::Huge(_) => Ok(usize::MAX),
    }
    .map_err(Error::invalid_request))
}

/// The key given to `set_api_key`, as text.
pub fn api_key_arg(value: &Bound<'_, PyAny>) -> Converted<String> {
    text("api_key", value, Error::invalid_config)
}

/// A `str` argument. Not a `str`: `TypeError`; a `str` with a lone surrogate (which has no
/// UTF-8 form): the SDK's error naming the argument.
fn text(what: &str, value: &Bound<'_, PyAny>, bad: fn(Reason) -> Error) -> Converted<String> {
    let text = value.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!("`{what}` must be a str, got {}", type_name(value)))
    })?;
    // (to_cow: abi3 for Python 3.9 has no to_str.)
    Ok(match text.to_cow() {
        Ok(text) => Ok(text.into_owned()),
        Err(_) => Err(bad(lone_surrogate(what))),
    })
}

fn optional_text(
    what: &str,
    value: Option<&Bound<'_, PyAny>>,
    bad: fn(Reason) -> Error,
) -> Converted<Option<String>> {
    match value {
        None => Ok(Ok(None)),
        Some(value) => Ok(text(what, value, bad)?.map(Some)),
    }
}

/// A `bool` argument (numpy's `bool_` too); `None` is not given (`False`), anything else a
/// `TypeError`.
fn flag(what: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    match value {
        None => Ok(false),
        Some(value) if value.is_none() => Ok(false),
        Some(value) => value.extract::<bool>().map_err(|_| {
            PyTypeError::new_err(format!("`{what}` must be a bool, got {}", type_name(value)))
        }),
    }
}

/// `similarity_threshold`: a real number (an int, a float, a `Decimal`...), not a bool, as
/// the timeouts take. One too large for a float is refused with its own value, not as `inf`.
fn threshold(value: Option<&Bound<'_, PyAny>>) -> Converted<Option<f64>> {
    let Some(value) = value else {
        return Ok(Ok(None));
    };
    Ok(match real("similarity_threshold", "a number", value)? {
        Real::Fits(t) => Ok(Some(t)),
        Real::Huge(shown) => Err(Error::invalid_request(threshold_out_of_range(&shown))),
    })
}

/// A real number as a float, or (too large for one) as Python prints it.
enum Real {
    Fits(f64),
    Huge(String),
}

/// A real number: anything Python converts to a float (`int`, `float`, `Decimal`,
/// `Fraction`), except a `bool` or a `str`; `TypeError` for anything else, saying what
/// `what` must be (`a number`, `a number of seconds`).
fn real(what: &str, must_be: &str, value: &Bound<'_, PyAny>) -> PyResult<Real> {
    let wrong = || {
        PyTypeError::new_err(format!(
            "`{what}` must be {must_be}, got {}",
            type_name(value)
        ))
    };
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyString>() {
        return Err(wrong());
    }
    match value.extract::<f64>() {
        // A float itself can be infinite or NaN: the core refuses those, naming them.
        Ok(n) if n.is_finite() || value.is_instance_of::<PyFloat>() => Ok(Real::Fits(n)),
        Ok(_) => Ok(Real::Huge(shown(value)?)),
        Err(e) if e.is_instance_of::<PyOverflowError>(value.py()) => Ok(Real::Huge(shown(value)?)),
        Err(_) => Err(wrong()),
    }
}

/// A value as Python prints it, cut short: an error message shows what was given.
fn shown(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let text = value.str()?.to_string();
    Ok(match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}… ({} digits)", &text[..cut], text.len()),
        None => text,
    })
}

/// An `int` argument: one that fits 64 bits, or one that does not (shown as written).
pub(crate) enum Whole {
    Fits(i64),
    Huge(String),
}

/// An `int` (not a `bool`); `TypeError` for anything else.
pub(crate) fn whole_number(what: &str, value: &Bound<'_, PyAny>) -> PyResult<Whole> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "`{what}` must be an int, got {}",
            type_name(value)
        )));
    }
    match value.extract::<i64>() {
        Ok(n) => Ok(Whole::Fits(n)),
        Err(_) => Ok(Whole::Huge(shown(value)?)),
    }
}

pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an unknown type".to_owned())
}
