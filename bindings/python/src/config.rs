//! Python arguments to the core's options: the client's (`VectorcacheClient(...)`) and a
//! query's (`query(...)`), one line per option. The checks themselves (key format, https,
//! ranges) are the core's; this only converts Python values.

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyMapping};
use vectorcache::bindings::{
    connections_from_i64, duration_from_secs_f64, retries_from_i64, Reason,
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
    pub api_key: Option<String>,
    pub base_url: Option<String>,
    pub timeout: Option<Bound<'py, PyAny>>,
    pub max_retries: Option<Bound<'py, PyAny>>,
    pub project_id: Option<String>,
    pub max_connections: Option<Bound<'py, PyAny>>,
    pub total_timeout: Option<Bound<'py, PyAny>>,
}

impl ClientArgs<'_> {
    /// The core's options for these arguments, one line per option.
    fn into_options(self) -> Converted<ClientOptions> {
        let bad = Error::invalid_config;
        let mut options = ClientOptions::default();
        options.user_agent_suffix = Some(USER_AGENT_SUFFIX.to_owned());
        options.api_key = self.api_key;
        options.base_url = self.base_url;
        options.project_id = self.project_id;
        options.timeout = ok_or_return!(duration("timeout", self.timeout.as_ref(), bad)?);
        options.max_retries =
            ok_or_return!(retries("max_retries", self.max_retries.as_ref(), bad)?);
        options.max_connections = ok_or_return!(connections(
            "max_connections",
            self.max_connections.as_ref()
        )?);
        options.total_timeout =
            ok_or_return!(duration("total_timeout", self.total_timeout.as_ref(), bad)?);
        Ok(Ok(options))
    }
}

/// Builds the core client.
pub fn build_client(args: ClientArgs<'_>) -> Converted<Client> {
    Ok(args
        .into_options()?
        .and_then(|options| ClientBuilder::from(options).build()))
}

/// The keyword arguments of `query(...)`, as given.
pub struct QueryArgs<'py> {
    pub prompt: String,
    pub model: String,
    pub similarity_threshold: Option<f64>,
    pub context: Option<String>,
    pub include_debug: bool,
    pub project_id: Option<String>,
    pub timeout: Option<Bound<'py, PyAny>>,
    pub max_retries: Option<Bound<'py, PyAny>>,
    pub total_timeout: Option<Bound<'py, PyAny>>,
    pub extra_headers: Option<Bound<'py, PyAny>>,
}

impl QueryArgs<'_> {
    /// The core request for these arguments, one line per option.
    pub fn into_request(self) -> Converted<QueryRequest> {
        let bad = Error::invalid_request;
        let mut request = QueryRequest::new(self.prompt, self.model);
        request.similarity_threshold = self.similarity_threshold;
        request.context = self.context;
        request.include_debug = self.include_debug.then_some(true);
        request.project_id = self.project_id;
        request.timeout = ok_or_return!(duration("timeout", self.timeout.as_ref(), bad)?);
        request.max_retries =
            ok_or_return!(retries("max_retries", self.max_retries.as_ref(), bad)?);
        request.total_timeout =
            ok_or_return!(duration("total_timeout", self.total_timeout.as_ref(), bad)?);
        request.headers = headers(self.extra_headers.as_ref())?;
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
    Ok(duration_from_secs_f64(what, seconds(what, value)?)
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
    Ok(retries_from_i64(what, whole_number(what, value)?)
        .map(Some)
        .map_err(bad))
}

fn connections(what: &str, value: Option<&Bound<'_, PyAny>>) -> Converted<Option<usize>> {
    let Some(value) = value else {
        return Ok(Ok(None));
    };
    Ok(connections_from_i64(what, whole_number(what, value)?)
        .map(Some)
        .map_err(Error::invalid_config))
}

/// `extra_headers`: a mapping of header names to values, both `str`.
fn headers(value: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(value) = value else {
        return Ok(Vec::new());
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
        match (name.extract::<String>(), value.extract::<String>()) {
            (Ok(name), Ok(value)) => headers.push((name, value)),
            _ => {
                return Err(PyTypeError::new_err(
                    "`extra_headers` must be a mapping of str to str",
                ))
            }
        }
    }
    Ok(headers)
}

/// A number of seconds; a value too large for a float reads as infinite so that the core
/// rejects it with its typed error rather than Python raising `OverflowError`.
fn seconds(what: &str, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    match value.extract::<f64>() {
        Ok(secs) => Ok(secs),
        Err(e) if e.is_instance_of::<PyOverflowError>(value.py()) => Ok(f64::INFINITY),
        Err(_) => Err(PyTypeError::new_err(format!(
            "`{what}` must be a number of seconds, got {}",
            type_name(value)
        ))),
    }
}

/// A whole number; one beyond `i64` saturates so that the core rejects it with its typed error.
fn whole_number(what: &str, value: &Bound<'_, PyAny>) -> PyResult<i64> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "`{what}` must be an int, got {}",
            type_name(value)
        )));
    }
    match value.extract::<i64>() {
        Ok(n) => Ok(n),
        Err(_) if value.gt(0)? => Ok(i64::MAX),
        Err(_) => Ok(i64::MIN),
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an unknown type".to_owned())
}
