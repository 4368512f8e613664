//! Python constructor arguments to the core's `ClientBuilder`. The checks themselves (key
//! format, https, timeout and retry ranges) are the core's; this only converts Python numbers.

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};
use vectorcache::bindings::{duration_from_secs_f64, retries_from_i64};
use vectorcache::{Client, ClientBuilder, ClientOptions, Error};

/// Names this package in the `User-Agent` after the core's own token.
const USER_AGENT_SUFFIX: &str = concat!("vectorcache-python/", env!("CARGO_PKG_VERSION"));

/// The keyword arguments of `VectorcacheClient(...)`, as given.
pub struct ClientArgs<'py> {
    pub api_key: Option<String>,
    pub base_url: Option<String>,
    pub timeout: Option<Bound<'py, PyAny>>,
    pub max_retries: Option<Bound<'py, PyAny>>,
    pub project_id: Option<String>,
}

impl ClientArgs<'_> {
    /// The core's options for these arguments, one line per option; `Err` is a Python
    /// `TypeError` for a wrong type, `Ok(Err(..))` the core's typed error for a bad value.
    fn into_options(self) -> PyResult<Result<ClientOptions, Error>> {
        let mut options = ClientOptions::default();
        options.user_agent_suffix = Some(USER_AGENT_SUFFIX.to_owned());
        options.api_key = self.api_key;
        options.base_url = self.base_url;
        options.project_id = self.project_id;
        if let Some(timeout) = self.timeout {
            match duration_from_secs_f64("timeout", seconds(&timeout)?) {
                Ok(timeout) => options.timeout = Some(timeout),
                Err(e) => return Ok(Err(e)),
            }
        }
        if let Some(retries) = self.max_retries {
            match retries_from_i64("max_retries", whole_number(&retries)?) {
                Ok(retries) => options.max_retries = Some(retries),
                Err(e) => return Ok(Err(e)),
            }
        }
        Ok(Ok(options))
    }
}

/// Builds the core client; `Err` carries the core's typed error or a Python `TypeError`.
pub fn build_client(args: ClientArgs<'_>) -> PyResult<Result<Client, Error>> {
    Ok(args
        .into_options()?
        .and_then(|options| ClientBuilder::from(options).build()))
}

/// A number of seconds; a value too large for a float reads as infinite so that the core
/// rejects it with its typed error rather than Python raising `OverflowError`.
fn seconds(value: &Bound<'_, PyAny>) -> PyResult<f64> {
    match value.extract::<f64>() {
        Ok(secs) => Ok(secs),
        Err(e) if e.is_instance_of::<PyOverflowError>(value.py()) => Ok(f64::INFINITY),
        Err(_) => Err(PyTypeError::new_err(format!(
            "`timeout` must be a number of seconds, got {}",
            type_name(value)
        ))),
    }
}

/// A whole number; one beyond `i64` saturates so that the core rejects it with its typed error.
fn whole_number(value: &Bound<'_, PyAny>) -> PyResult<i64> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "`max_retries` must be an int, got {}",
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
