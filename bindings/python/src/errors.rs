//! The one mapping from the core's [`vectorcache::Error`] to the Python exception classes.
//!
//! The classes are plain Python classes in `vectorcache/_errors.py` (abi3 cannot subclass
//! `Exception` from Rust); they are looked up once and cached. Which class an error becomes is
//! decided by the core's stable `ErrorKind` name, and for `status` by the HTTP status.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use vectorcache::Error;

/// The module that defines the exception classes.
const ERRORS_MODULE: &str = "vectorcache._errors";

/// The exception classes, imported once per interpreter.
struct ErrorClasses {
    base: Py<PyType>,
    api: Py<PyType>,
    bad_request: Py<PyType>,
    authentication: Py<PyType>,
    permission_denied: Py<PyType>,
    not_found: Py<PyType>,
    unprocessable_entity: Py<PyType>,
    rate_limit: Py<PyType>,
    internal_server: Py<PyType>,
    bad_gateway: Py<PyType>,
    service_unavailable: Py<PyType>,
    response_validation: Py<PyType>,
    connection: Py<PyType>,
    timeout: Py<PyType>,
    invalid_request: Py<PyType>,
    configuration: Py<PyType>,
}

static CLASSES: PyOnceLock<ErrorClasses> = PyOnceLock::new();

impl ErrorClasses {
    fn load(py: Python<'_>) -> PyResult<Self> {
        let module = py.import(ERRORS_MODULE)?;
        let class = |name: &str| -> PyResult<Py<PyType>> {
            Ok(module.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok(Self {
            base: class("VectorcacheError")?,
            api: class("APIError")?,
            bad_request: class("BadRequestError")?,
            authentication: class("AuthenticationError")?,
            permission_denied: class("PermissionDeniedError")?,
            not_found: class("NotFoundError")?,
            unprocessable_entity: class("UnprocessableEntityError")?,
            rate_limit: class("RateLimitError")?,
            internal_server: class("InternalServerError")?,
            bad_gateway: class("BadGatewayError")?,
            service_unavailable: class("ServiceUnavailableError")?,
            response_validation: class("APIResponseValidationError")?,
            connection: class("APIConnectionError")?,
            timeout: class("APITimeoutError")?,
            invalid_request: class("InvalidRequestError")?,
            configuration: class("ConfigurationError")?,
        })
    }

    fn get(py: Python<'_>) -> PyResult<&Self> {
        CLASSES.get_or_try_init(py, || Self::load(py))
    }

    /// The class for an error of core kind `kind` (and HTTP `status`, if it had one).
    fn for_kind(&self, kind: &str, status: Option<u16>) -> &Py<PyType> {
        match kind {
            "bad_request" => &self.bad_request,
            "authentication" => &self.authentication,
            "permission_denied" => &self.permission_denied,
            "not_found" => &self.not_found,
            "unprocessable_entity" => &self.unprocessable_entity,
            "rate_limited" => &self.rate_limit,
            "internal_server" => &self.internal_server,
            "bad_gateway" => &self.bad_gateway,
            "service_unavailable" => &self.service_unavailable,
            // Every 5xx is a server error (504 included); 3xx, 408, 409, 413... stay generic.
            "status" if status.is_some_and(|s| (500..600).contains(&s)) => &self.internal_server,
            "status" => &self.api,
            "decode" => &self.response_validation,
            "timeout" => &self.timeout,
            "connection" => &self.connection,
            "invalid_request" | "invalid_api_key" => &self.invalid_request,
            "missing_api_key" | "invalid_config" => &self.configuration,
            // A kind added to the core later still raises something catchable.
            _ => &self.base,
        }
    }
}

/// Converts a core error into the matching Python exception.
pub fn to_py_err(py: Python<'_>, error: &Error) -> PyErr {
    // Failing to build the exception (e.g. the package is half-installed) is itself reported.
    build(py, error).unwrap_or_else(|failure| failure)
}

/// The error raised when a closed client is used.
pub fn closed_client(py: Python<'_>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = ErrorClasses::get(py)?.base.bind(py);
        let message = "this Vectorcache client is closed; create a new one";
        Ok(PyErr::from_value(class.call1((message,))?))
    };
    build().unwrap_or_else(|failure| failure)
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let kind = error.kind().as_str();
    let class = ErrorClasses::get(py)?.for_kind(kind, error.status());
    let kwargs = PyDict::new(py);
    kwargs.set_item("kind", kind)?;
    if let Some(headers) = error.headers() {
        kwargs.set_item("headers", headers)?;
    }
    if let Some(api) = error.api_error() {
        kwargs.set_item("status_code", api.status)?;
        kwargs.set_item("detail", &api.detail)?;
        kwargs.set_item("body", &api.body)?;
        kwargs.set_item("retry_after", api.retry_after.map(|d| d.as_secs_f64()))?;
        kwargs.set_item("request_id", &api.request_id)?;
    } else if let Error::Decode {
        status,
        body_snippet,
        request_id,
        ..
    } = error
    {
        kwargs.set_item("status_code", status)?;
        kwargs.set_item("body", body_snippet)?;
        kwargs.set_item("request_id", request_id)?;
    }
    // `str(e)` is the core's Display, which never contains the key.
    let exception = class.bind(py).call((error.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(exception))
}
