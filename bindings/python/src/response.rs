//! The answer of a query as Python objects: attribute access plus the read-only mapping
//! protocol, so code written against the documented JSON (`result["cache_hit"]`) keeps working.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyIterator, PyList, PyMapping, PyType};
use pyo3::IntoPyObjectExt;

/// The answer to a cache query (`vectorcache::QueryResponse`), immutable.
#[pyclass(frozen, module = "vectorcache._native")]
pub struct QueryResponse {
    #[pyo3(get)]
    cache_hit: bool,
    #[pyo3(get)]
    response: String,
    #[pyo3(get)]
    similarity_score: Option<f64>,
    #[pyo3(get)]
    cost_saved: f64,
    #[pyo3(get)]
    llm_provider: String,
    #[pyo3(get)]
    debug: Option<Py<DebugInfo>>,
    #[pyo3(get)]
    rate_limit: Option<Py<RateLimit>>,
    #[pyo3(get)]
    request_id: Option<String>,
}

/// The `debug` object of an answer (requested with `include_debug=True`).
#[pyclass(frozen, module = "vectorcache._native")]
pub struct DebugInfo {
    #[pyo3(get)]
    embedding_time_ms: f64,
    #[pyo3(get)]
    search_time_ms: f64,
    #[pyo3(get)]
    total_time_ms: f64,
    #[pyo3(get)]
    matched_cache_entry_id: Option<String>,
    #[pyo3(get)]
    cache_entry_count: u64,
}

/// The `X-RateLimit-*` state sent with an answer.
#[pyclass(frozen, module = "vectorcache._native")]
pub struct RateLimit {
    #[pyo3(get)]
    limit: Option<u64>,
    #[pyo3(get)]
    remaining: Option<u64>,
    #[pyo3(get)]
    reset: Option<u64>,
}

/// A core answer on its way to Python: converted when the GIL is held (for the async client,
/// on the event loop's thread).
pub struct Answer(pub vectorcache::QueryResponse);

impl<'py> IntoPyObject<'py> for Answer {
    type Target = QueryResponse;
    type Output = Bound<'py, QueryResponse>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let core = self.0;
        let debug = core.debug.map(|d| Py::new(py, DebugInfo::from(d)));
        let rate_limit = core.rate_limit.map(|r| Py::new(py, RateLimit::from(r)));
        Bound::new(
            py,
            QueryResponse {
                cache_hit: core.cache_hit,
                response: core.response,
                similarity_score: core.similarity_score,
                cost_saved: core.cost_saved,
                llm_provider: core.llm_provider,
                debug: debug.transpose()?,
                rate_limit: rate_limit.transpose()?,
                request_id: core.request_id,
            },
        )
    }
}

impl From<vectorcache::DebugInfo> for DebugInfo {
    fn from(d: vectorcache::DebugInfo) -> Self {
        Self {
            embedding_time_ms: d.embedding_time_ms,
            search_time_ms: d.search_time_ms,
            total_time_ms: d.total_time_ms,
            matched_cache_entry_id: d.matched_cache_entry_id,
            cache_entry_count: d.cache_entry_count,
        }
    }
}

impl From<vectorcache::RateLimit> for RateLimit {
    fn from(r: vectorcache::RateLimit) -> Self {
        Self {
            limit: r.limit,
            remaining: r.remaining,
            reset: r.reset,
        }
    }
}

type Entries<'py> = Vec<(&'static str, Bound<'py, PyAny>)>;

/// A record whose documented fields, in wire order, are also its mapping keys.
trait Record {
    const NAME: &'static str;

    /// The fields as Python values (nested records as objects).
    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Entries<'py>>;

    /// The fields as a plain dict, nested records as dicts too.
    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (key, value) in self.entries(py)? {
            dict.set_item(key, value)?;
        }
        Ok(dict)
    }
}

impl Record for QueryResponse {
    const NAME: &'static str = "QueryResponse";

    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Entries<'py>> {
        let mut entries = vec![
            ("cache_hit", self.cache_hit.into_bound_py_any(py)?),
            ("response", self.response.as_str().into_bound_py_any(py)?),
            (
                "similarity_score",
                self.similarity_score.into_bound_py_any(py)?,
            ),
            ("cost_saved", self.cost_saved.into_bound_py_any(py)?),
            (
                "llm_provider",
                self.llm_provider.as_str().into_bound_py_any(py)?,
            ),
        ];
        // As on the wire: `debug` is there only when it was asked for and sent.
        if let Some(debug) = &self.debug {
            entries.push(("debug", debug.bind(py).clone().into_any()));
        }
        Ok(entries)
    }

    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (key, value) in self.entries(py)? {
            match value.cast::<DebugInfo>() {
                Ok(debug) => dict.set_item(key, debug.get().as_dict(py)?)?,
                Err(_) => dict.set_item(key, value)?,
            }
        }
        Ok(dict)
    }
}

impl Record for DebugInfo {
    const NAME: &'static str = "DebugInfo";

    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Entries<'py>> {
        Ok(vec![
            (
                "embedding_time_ms",
                self.embedding_time_ms.into_bound_py_any(py)?,
            ),
            ("search_time_ms", self.search_time_ms.into_bound_py_any(py)?),
            ("total_time_ms", self.total_time_ms.into_bound_py_any(py)?),
            (
                "matched_cache_entry_id",
                self.matched_cache_entry_id
                    .as_deref()
                    .into_bound_py_any(py)?,
            ),
            (
                "cache_entry_count",
                self.cache_entry_count.into_bound_py_any(py)?,
            ),
        ])
    }
}

impl Record for RateLimit {
    const NAME: &'static str = "RateLimit";

    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Entries<'py>> {
        Ok(vec![
            ("limit", self.limit.into_bound_py_any(py)?),
            ("remaining", self.remaining.into_bound_py_any(py)?),
            ("reset", self.reset.into_bound_py_any(py)?),
        ])
    }
}

/// The value under `key`, if `key` is one of the record's field names.
fn lookup<'py>(entries: Entries<'py>, key: &Bound<'py, PyAny>) -> Option<Bound<'py, PyAny>> {
    let key = key.extract::<String>().ok()?;
    entries
        .into_iter()
        .find_map(|(name, value)| (name == key).then_some(value))
}

static KEYS_VIEW: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static VALUES_VIEW: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ITEMS_VIEW: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `collections.abc.<name>(record)`: a live view built on the record's mapping methods.
fn view<'py>(
    record: &Bound<'py, PyAny>,
    name: &str,
    class: &PyOnceLock<Py<PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    class
        .import(record.py(), "collections.abc", name)?
        .call1((record,))
}

/// The read-only mapping protocol, `to_dict`, equality and `repr`, the same for every record.
/// (One `#[pymethods]` block per class is allowed, hence a macro rather than a trait impl.)
macro_rules! record_methods {
    ($ty:ty $({ $($extra:item)* })?) => {
        #[pymethods]
        impl $ty {
            $($($extra)*)?

            /// The documented fields as a plain dict (nested objects as dicts too).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                self.as_dict(py)
            }

            /// A `KeysView`, as `dict.keys()` gives (and `Mapping.keys()` promises).
            fn keys<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
                view(slf.as_any(), "KeysView", &KEYS_VIEW)
            }

            fn values<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
                view(slf.as_any(), "ValuesView", &VALUES_VIEW)
            }

            fn items<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
                view(slf.as_any(), "ItemsView", &ITEMS_VIEW)
            }

            #[pyo3(signature = (key, default = None, /))]
            fn get<'py>(
                &self,
                py: Python<'py>,
                key: &Bound<'py, PyAny>,
                default: Option<Bound<'py, PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                Ok(lookup(self.entries(py)?, key)
                    .or(default)
                    .unwrap_or_else(|| py.None().into_bound(py)))
            }

            fn __getitem__<'py>(
                &self,
                py: Python<'py>,
                key: &Bound<'py, PyAny>,
            ) -> PyResult<Bound<'py, PyAny>> {
                lookup(self.entries(py)?, key)
                    .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(key.clone().unbind()))
            }

            fn __contains__<'py>(
                &self,
                py: Python<'py>,
                key: &Bound<'py, PyAny>,
            ) -> PyResult<bool> {
                Ok(lookup(self.entries(py)?, key).is_some())
            }

            fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
                let keys: Vec<&str> = self.entries(py)?.into_iter().map(|(k, _)| k).collect();
                PyList::new(py, keys)?.try_iter()
            }

            fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
                Ok(self.entries(py)?.len())
            }

            /// Equal to a record of the same class, or to any mapping, with the same fields.
            fn __eq__<'py>(
                slf: &Bound<'py, Self>,
                other: &Bound<'py, PyAny>,
            ) -> PyResult<Py<PyAny>> {
                let py = slf.py();
                let theirs = if let Ok(record) = other.cast::<Self>() {
                    record.get().as_dict(py)?
                } else if other.cast::<PyMapping>().is_ok() {
                    // dict(other), so any Mapping compares like a dict would.
                    let dict = PyDict::new(py);
                    dict.call_method1("update", (other,))?;
                    dict
                } else {
                    return Ok(py.NotImplemented());
                };
                slf.get().as_dict(py)?.eq(theirs)?.into_py_any(py)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let fields = self
                    .entries(py)?
                    .into_iter()
                    .map(|(key, value)| Ok(format!("{key}={}", value.repr()?)))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(format!("{}({})", <Self as Record>::NAME, fields.join(", ")))
            }
        }
    };
}

/// `QueryResponse`'s constructor arguments, in order: every field, the hidden ones too.
type QueryResponseArgs = (
    bool,
    String,
    Option<f64>,
    f64,
    String,
    Option<Py<DebugInfo>>,
    Option<Py<RateLimit>>,
    Option<String>,
);

record_methods!(QueryResponse {
    /// An answer as the server would send it; the defaults are the core's for absent fields
    /// (for tests and unpickling).
    #[new]
    #[allow(clippy::too_many_arguments)]
    // (The text signature spells out `llm_provider=''`, which pyo3 would show as `...`.)
    #[pyo3(
        signature = (cache_hit, response, similarity_score = None, cost_saved = 0.0, llm_provider = String::new(), debug = None, rate_limit = None, request_id = None),
        text_signature = "(cache_hit, response, similarity_score=None, cost_saved=0.0, llm_provider='', debug=None, rate_limit=None, request_id=None)"
    )]
    fn new(
        cache_hit: bool,
        response: String,
        similarity_score: Option<f64>,
        cost_saved: f64,
        llm_provider: String,
        debug: Option<Py<DebugInfo>>,
        rate_limit: Option<Py<RateLimit>>,
        request_id: Option<String>,
    ) -> Self {
        Self {
            cache_hit,
            response,
            similarity_score,
            cost_saved,
            llm_provider,
            debug,
            rate_limit,
            request_id,
        }
    }

    /// Pickles as a call of the constructor with every field, so a result can come back from
    /// a worker process (multiprocessing, ProcessPoolExecutor) and `copy.deepcopy` works.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, QueryResponseArgs) {
        let py = slf.py();
        let r = slf.get();
        let args = (
            r.cache_hit,
            r.response.clone(),
            r.similarity_score,
            r.cost_saved,
            r.llm_provider.clone(),
            r.debug.as_ref().map(|d| d.clone_ref(py)),
            r.rate_limit.as_ref().map(|l| l.clone_ref(py)),
            r.request_id.clone(),
        );
        (slf.get_type(), args)
    }
});
record_methods!(DebugInfo {
    /// Debug timings as the server sends them; the defaults are the core's for absent fields
    /// (for tests and unpickling).
    #[new]
    #[pyo3(signature = (embedding_time_ms = 0.0, search_time_ms = 0.0, total_time_ms = 0.0, matched_cache_entry_id = None, cache_entry_count = 0))]
    fn new(
        embedding_time_ms: f64,
        search_time_ms: f64,
        total_time_ms: f64,
        matched_cache_entry_id: Option<String>,
        cache_entry_count: u64,
    ) -> Self {
        Self {
            embedding_time_ms,
            search_time_ms,
            total_time_ms,
            matched_cache_entry_id,
            cache_entry_count,
        }
    }

    /// Pickles as a call of the constructor, so the `debug` of an answer pickles with it.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (Bound<'py, PyType>, (f64, f64, f64, Option<String>, u64)) {
        let d = slf.get();
        let args = (
            d.embedding_time_ms,
            d.search_time_ms,
            d.total_time_ms,
            d.matched_cache_entry_id.clone(),
            d.cache_entry_count,
        );
        (slf.get_type(), args)
    }
});
record_methods!(RateLimit {
    /// Rate-limit state as the `X-RateLimit-*` headers give it (for tests and unpickling).
    #[new]
    #[pyo3(signature = (limit = None, remaining = None, reset = None))]
    fn new(limit: Option<u64>, remaining: Option<u64>, reset: Option<u64>) -> Self {
        Self {
            limit,
            remaining,
            reset,
        }
    }

    /// Pickles as a call of the constructor, so errors that carry one pickle too.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (Bound<'py, PyType>, (Option<u64>, Option<u64>, Option<u64>)) {
        let r = slf.get();
        (slf.get_type(), (r.limit, r.remaining, r.reset))
    }
});
