//! `query_many`: a batch of queries in one call across the language boundary. Each item is a
//! mapping of `query`'s keyword arguments; the outcome is a list in input order whose items are
//! results or `Exception` instances (a bad item fails alone, before anything is sent).

use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyMapping, PyString};
use vectorcache::bindings::without_key_shapes;
use vectorcache::{Error, ErrorKind, QueryRequest, QueryResponse};

use crate::config::{type_name, QueryArgs};
use crate::errors::to_py_err;
use crate::response::Answer;

/// The keyword arguments `query` takes, and so the keys a batch item may have.
const QUERY_KEYWORDS: &[&str] = &[
    "prompt",
    "model",
    "similarity_threshold",
    "context",
    "include_debug",
    "project_id",
    "timeout",
    "max_retries",
    "total_timeout",
    "extra_headers",
];

/// The requests to send, and for each input item the error that kept it from being sent.
pub struct Prepared {
    pub requests: Vec<QueryRequest>,
    pub refused: Vec<Option<PyErr>>,
    /// The kinds of the errors among `refused`, for the client's statistics (a `TypeError`
    /// counts as an invalid request, as Node counts the same mistake).
    pub refused_kinds: Vec<vectorcache::ErrorKind>,
}

/// Reads every item of `requests` into a core request, or the exception it raises.
pub fn prepare(requests: &Bound<'_, PyAny>) -> PyResult<Prepared> {
    let py = requests.py();
    let mut prepared = Prepared {
        requests: Vec::new(),
        refused: Vec::new(),
        refused_kinds: Vec::new(),
    };
    // A mapping or a text is iterable too, but as keys or characters: a mistake, said as one.
    let not_a_batch = || {
        PyTypeError::new_err(format!(
            "query_many takes an iterable of mappings (one per query), got {}",
            type_name(requests)
        ))
    };
    let text = requests.is_instance_of::<PyString>()
        || requests.is_instance_of::<PyBytes>()
        || requests.is_instance_of::<PyByteArray>();
    if text || requests.cast::<PyMapping>().is_ok() {
        return Err(not_a_batch());
    }
    let items = requests.try_iter().map_err(|error| {
        if error.is_instance_of::<PyTypeError>(py) {
            not_a_batch()
        } else {
            error
        }
    })?;
    for (index, item) in items.enumerate() {
        match request(&item?, index) {
            Ok(Ok(request)) => {
                prepared.requests.push(request);
                prepared.refused.push(None);
            }
            Ok(Err(error)) => {
                prepared.refused_kinds.push(error.kind());
                prepared.refused.push(Some(to_py_err(py, &error)));
            }
            // Ctrl-C (or SystemExit) while reading an item's mapping stops the whole call:
            // an item's outcome is only ever an `Exception`, as the stubs say.
            Err(error) if !error.is_instance_of::<PyException>(py) => return Err(error),
            // A value of the wrong type: a failed query, counted as Node counts it.
            Err(error) => {
                prepared.refused_kinds.push(ErrorKind::InvalidRequest);
                prepared.refused.push(Some(error));
            }
        }
    }
    Ok(prepared)
}

fn request(item: &Bound<'_, PyAny>, index: usize) -> PyResult<Result<QueryRequest, Error>> {
    let mapping = item.cast::<PyMapping>().map_err(|_| {
        PyTypeError::new_err(format!(
            "query_many: item {index} must be a mapping of query()'s keyword arguments"
        ))
    })?;
    // The item's keys say which arguments it gives: only those are looked up (a lookup of
    // an absent key raises and catches a KeyError inside Python).
    let mut given: Vec<&'static str> = Vec::with_capacity(QUERY_KEYWORDS.len());
    for key in mapping.keys()?.iter() {
        let known = key.extract::<String>().ok().and_then(|k| {
            QUERY_KEYWORDS
                .iter()
                .find(|keyword| **keyword == k.as_str())
                .copied()
        });
        match known {
            Some(keyword) => given.push(keyword),
            None => {
                return Err(PyTypeError::new_err(without_key_shapes(format!(
                    "query_many: item {index} has an unexpected key {}",
                    key.repr()?
                ))))
            }
        }
    }
    let get = |name: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        if !given.contains(&name) {
            return Ok(None);
        }
        let value = mapping.get_item(name)?;
        Ok((!value.is_none()).then_some(value))
    };
    let required = |name: &str| -> PyResult<Bound<'_, PyAny>> {
        get(name)?.ok_or_else(|| {
            PyTypeError::new_err(format!("query_many: item {index} has no `{name}`"))
        })
    };
    QueryArgs {
        prompt: required("prompt")?,
        model: required("model")?,
        similarity_threshold: get("similarity_threshold")?,
        context: get("context")?,
        include_debug: get("include_debug")?,
        project_id: get("project_id")?,
        timeout: get("timeout")?,
        max_retries: get("max_retries")?,
        total_timeout: get("total_timeout")?,
        extra_headers: get("extra_headers")?,
    }
    .into_request()
}

/// The outcomes of a batch on their way to Python, merged with the items refused up front.
pub struct Outcomes {
    pub refused: Vec<Option<PyErr>>,
    pub answers: Vec<Result<QueryResponse, Error>>,
}

impl<'py> IntoPyObject<'py> for Outcomes {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let mut answers = self.answers.into_iter();
        let list = PyList::empty(py);
        for refused in self.refused {
            let item = match refused {
                Some(error) => error.into_value(py).into_bound(py).into_any(),
                None => match answers.next() {
                    Some(Ok(answer)) => Answer(answer).into_pyobject(py)?.into_any(),
                    Some(Err(error)) => to_py_err(py, &error)
                        .into_value(py)
                        .into_bound(py)
                        .into_any(),
                    None => py.None().into_bound(py),
                },
            };
            list.append(item)?;
        }
        Ok(list)
    }
}
