//! The one mapping from the core's [`vectorcache::Error`] to the Python exception classes.
//!
//! The classes are plain Python classes in `vectorcache/_errors.py` (abi3 cannot subclass
//! `Exception` from Rust); they are looked up once and cached. Which class an error becomes is
//! decided here by an exhaustive `match` on the core's `ErrorKind` (the `bindings` feature
//! makes it exhaustive), so a kind added to the core does not compile until it is mapped.

use pyo3::exceptions::{PyConnectionError, PyRuntimeError, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use vectorcache::{Error, ErrorCategory, ErrorKind};

use crate::response::RateLimit;

/// The module that defines the exception classes.
const ERRORS_MODULE: &str = "vectorcache._errors";

/// The exception classes, imported once per interpreter.
struct ErrorClasses {
    base: Py<PyType>,
    api_status: Py<PyType>,
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
    certificate: Py<PyType>,
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
            api_status: class("APIStatusError")?,
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
            certificate: class("APICertificateError")?,
            invalid_request: class("InvalidRequestError")?,
            configuration: class("ConfigurationError")?,
        })
    }

    fn get(py: Python<'_>) -> PyResult<&Self> {
        CLASSES.get_or_try_init(py, || Self::load(py))
    }

    /// The class of `error`.
    fn for_error(&self, error: &Error) -> &Py<PyType> {
        match error.kind() {
            ErrorKind::BadRequest => &self.bad_request,
            ErrorKind::Authentication => &self.authentication,
            ErrorKind::PermissionDenied => &self.permission_denied,
            ErrorKind::NotFound => &self.not_found,
            ErrorKind::UnprocessableEntity => &self.unprocessable_entity,
            ErrorKind::RateLimited => &self.rate_limit,
            ErrorKind::InternalServer => &self.internal_server,
            ErrorKind::BadGateway => &self.bad_gateway,
            ErrorKind::ServiceUnavailable => &self.service_unavailable,
            ErrorKind::Status => match error.category() {
                ErrorCategory::Server => &self.internal_server,
                _ => &self.api_status,
            },
            ErrorKind::Decode => &self.response_validation,
            ErrorKind::Timeout => &self.timeout,
            ErrorKind::Connection => &self.connection,
            ErrorKind::Certificate => &self.certificate,
            ErrorKind::InvalidRequest => &self.invalid_request,
            ErrorKind::MissingApiKey | ErrorKind::InvalidApiKey | ErrorKind::InvalidConfig => {
                &self.configuration
            }
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
    let class = ErrorClasses::get(py)?.for_error(error);
    let kwargs = PyDict::new(py);
    kwargs.set_item("kind", error.kind().as_str())?;
    kwargs.set_item("status_code", error.status())?;
    kwargs.set_item("detail", error.detail())?;
    kwargs.set_item("headers", error.headers())?;
    kwargs.set_item("body", error.body())?;
    kwargs.set_item("retry_after", error.retry_after().map(|d| d.as_secs_f64()))?;
    kwargs.set_item("request_id", error.request_id())?;
    kwargs.set_item("attempts", error.attempts())?;
    let rate_limit = error
        .rate_limit()
        .map(|r| Py::new(py, RateLimit::from(r)))
        .transpose()?;
    kwargs.set_item("rate_limit", rate_limit)?;
    // `str(e)` is the core's Display, which never contains the key.
    let exception = class.bind(py).call((error.to_string(),), Some(&kwargs))?;
    let exception = PyErr::from_value(exception);
    exception.set_cause(py, cause(error));
    Ok(exception)
}

/// The underlying error as a built-in Python exception, for `__cause__`: `TimeoutError` or
/// `ConnectionError` for transport failures, `RuntimeError` otherwise.
fn cause(error: &Error) -> Option<PyErr> {
    let chain = error.source_chain()?;
    Some(match error.category() {
        ErrorCategory::Timeout => PyTimeoutError::new_err(chain),
        ErrorCategory::Connection => PyConnectionError::new_err(chain),
        _ => PyRuntimeError::new_err(chain),
    })
}
