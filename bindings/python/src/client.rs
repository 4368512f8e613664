//! The sync and async clients: thin wrappers over one core `vectorcache::Client` each, sharing
//! the process's tokio runtime (runtime.rs). The pure-Python package subclasses
//! them to add the context-manager protocols.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use vectorcache::{ApiKey, ErrorKind, QueryRequest};

use crate::batch::{Outcomes, Prepared};
use crate::bridge::into_awaitable;
use crate::config::{api_key_arg, batch_concurrency, build_client, ClientArgs, QueryArgs};
use crate::errors::{closed_client, to_py_err};
use crate::logs::CallLog;
use crate::response::Answer;
use crate::runtime::wait_logged;

/// Requests of a batch in flight at once, unless the caller says.
const DEFAULT_CONCURRENCY: i64 = 16;

/// What both clients share: the core client, its settings, and whether it was closed.
#[pyclass(frozen, subclass, module = "vectorcache._native")]
pub struct ClientBase {
    core: vectorcache::Client,
    closed: AtomicBool,
    /// The process the connection pool belongs to; another one (a forked child) builds its own.
    pid: AtomicU32,
    pid_change: Mutex<()>,
}

impl ClientBase {
    fn new(py: Python<'_>, args: ClientArgs<'_>) -> PyResult<Self> {
        let core = build_client(args)?.map_err(|e| to_py_err(py, &e))?;
        Ok(Self {
            core,
            closed: AtomicBool::new(false),
            pid: AtomicU32::new(std::process::id()),
            pid_change: Mutex::new(()),
        })
    }

    /// A handle on the core client for one call (a cheap `Arc` clone), unless closed. In a
    /// forked child, the parent's pooled connections are set aside first: they are the
    /// parent's sockets, served by tasks of a runtime that has no threads here.
    fn open_client(&self, py: Python<'_>) -> PyResult<vectorcache::Client> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed_client(py));
        }
        let pid = std::process::id();
        if self.pid.load(Ordering::Acquire) != pid {
            let _one_at_a_time = self.pid_change.lock().unwrap_or_else(|p| p.into_inner());
            if self.pid.load(Ordering::Acquire) != pid {
                self.core
                    .reset_connections()
                    .map_err(|e| to_py_err(py, &e))?;
                self.pid.store(pid, Ordering::Release);
            }
        }
        Ok(self.core.clone())
    }

    /// The batch's requests and the client to send them with, plus the concurrency.
    fn prepare_batch(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
        concurrency: &Bound<'_, PyAny>,
    ) -> PyResult<(vectorcache::Client, Prepared, usize, Option<Arc<CallLog>>)> {
        let client = self.open_client(py)?;
        let concurrency = batch_concurrency(concurrency)?.map_err(|e| to_py_err(py, &e))?;
        let mut prepared = crate::batch::prepare(requests)?;
        for kind in &prepared.refused_kinds {
            client.count_refused(*kind);
        }
        let log = CallLog::for_call(py);
        if let Some(log) = &log {
            let hook = log.hook();
            for request in &mut prepared.requests {
                request.on_event = Some(hook.clone());
            }
        }
        Ok((client, prepared, concurrency, log))
    }

    /// The core request for `args`, the client to send it with, and the log of its events.
    fn prepare(
        &self,
        py: Python<'_>,
        args: QueryArgs<'_>,
    ) -> PyResult<(vectorcache::Client, QueryRequest, Option<Arc<CallLog>>)> {
        let client = self.open_client(py)?;
        let converted = args.into_request().inspect_err(|error| {
            // A value of the wrong type (Python's TypeError) is refused as a failed query, as
            // Node refuses it (an invalid request); Ctrl-C while converting is not one.
            if error.is_instance_of::<PyException>(py) {
                client.count_refused(ErrorKind::InvalidRequest);
            }
        })?;
        let mut request = converted.map_err(|e| {
            client.count_refused(e.kind());
            to_py_err(py, &e)
        })?;
        let log = CallLog::for_call(py);
        request.on_event = log.as_deref().map(CallLog::hook);
        Ok((client, request, log))
    }
}

#[pymethods]
impl ClientBase {
    /// The base URL requests go to.
    #[getter]
    fn base_url(&self) -> &str {
        self.core.base_url()
    }

    /// The per-attempt timeout, in seconds.
    #[getter]
    fn timeout(&self) -> f64 {
        self.core.timeout().as_secs_f64()
    }

    /// Retries after the first attempt.
    #[getter]
    fn max_retries(&self) -> u32 {
        self.core.max_retries()
    }

    /// The default project id, if one was set.
    #[getter]
    fn project_id(&self) -> Option<&str> {
        self.core.project_id()
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Swaps the API key (rotation); requests already in flight keep the old one.
    fn set_api_key(&self, py: Python<'_>, api_key: Bound<'_, PyAny>) -> PyResult<()> {
        let key = api_key_arg(&api_key)?
            .and_then(ApiKey::new)
            .map_err(|e| to_py_err(py, &e))?;
        self.core.set_api_key(key);
        Ok(())
    }

    /// A snapshot of this client's usage as a dict (the package wraps it in `Stats`).
    #[pyo3(name = "_stats")]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.core.stats();
        let dict = PyDict::new(py);
        dict.set_item("queries", stats.queries)?;
        dict.set_item("hits", stats.hits)?;
        dict.set_item("misses", stats.misses)?;
        dict.set_item("hit_rate", stats.hit_rate)?;
        dict.set_item("cost_saved", stats.cost_saved)?;
        let errors = PyDict::new(py);
        for (kind, count) in &stats.errors {
            errors.set_item(kind.as_str(), count)?;
        }
        dict.set_item("errors", errors)?;
        dict.set_item("retries", stats.retries)?;
        let latency = PyDict::new(py);
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        latency.set_item("p50", ms(stats.latency.p50))?;
        latency.set_item("p95", ms(stats.latency.p95))?;
        latency.set_item("p99", ms(stats.latency.p99))?;
        dict.set_item("latency_ms", latency)?;
        Ok(dict)
    }

    /// Starts the statistics afresh.
    fn reset_stats(&self) {
        self.core.reset_stats();
    }

    /// Refuses further queries. The connection pool goes with the object.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let this = slf.get();
        let core = &this.core;
        // Python reprs for the strings; the key's Display is redacted by the core (`vc_1234…`).
        Ok(format!(
            "{}(base_url={}, api_key='{}', timeout={}, max_retries={}, project_id={}{})",
            slf.get_type().name()?,
            core.base_url().into_pyobject(py)?.repr()?,
            core.api_key(),
            core.timeout().as_secs_f64().into_pyobject(py)?.repr()?,
            core.max_retries(),
            core.project_id().into_pyobject(py)?.repr()?,
            if this.closed() { ", closed=True" } else { "" },
        ))
    }
}

/// The blocking client. `query` runs on the shared runtime and waits with the GIL released,
/// so threads overlap; Ctrl-C interrupts it. A greenlet of a gevent hub waits in the hub.
#[pyclass(frozen, extends = ClientBase, subclass, module = "vectorcache._native")]
pub struct Client {}

#[pymethods]
impl Client {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (api_key = None, *, base_url = None, timeout = None, max_retries = None, project_id = None, max_connections = None, total_timeout = None, connect_timeout = None, ca_bundle = None, proxy = None))]
    fn new<'py>(
        py: Python<'py>,
        api_key: Option<Bound<'py, PyAny>>,
        base_url: Option<Bound<'py, PyAny>>,
        timeout: Option<Bound<'py, PyAny>>,
        max_retries: Option<Bound<'py, PyAny>>,
        project_id: Option<Bound<'py, PyAny>>,
        max_connections: Option<Bound<'py, PyAny>>,
        total_timeout: Option<Bound<'py, PyAny>>,
        connect_timeout: Option<Bound<'py, PyAny>>,
        ca_bundle: Option<PathBuf>,
        proxy: Option<Bound<'py, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let args = ClientArgs {
            api_key,
            base_url,
            timeout,
            max_retries,
            project_id,
            max_connections,
            total_timeout,
            connect_timeout,
            ca_bundle,
            proxy,
        };
        Ok(PyClassInitializer::from(ClientBase::new(py, args)?).add_subclass(Self {}))
    }

    /// Looks `prompt` up in the cache (`POST /v1/cache/query`) for `model` and waits for the
    /// answer with the GIL released. `similarity_threshold` (0..1), `context`,
    /// `include_debug` and `project_id` are optional; the core validates every value before
    /// anything is sent. Returns a `QueryResponse`; raises the `VectorcacheError` subclass
    /// that `errors.rs` maps the core's error to.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (prompt, model, *, similarity_threshold = None, context = None, include_debug = None, project_id = None, timeout = None, max_retries = None, total_timeout = None, extra_headers = None))]
    fn query<'py>(
        slf: PyRef<'py, Self>,
        py: Python<'py>,
        prompt: Bound<'py, PyAny>,
        model: Bound<'py, PyAny>,
        similarity_threshold: Option<Bound<'py, PyAny>>,
        context: Option<Bound<'py, PyAny>>,
        include_debug: Option<Bound<'py, PyAny>>,
        project_id: Option<Bound<'py, PyAny>>,
        timeout: Option<Bound<'py, PyAny>>,
        max_retries: Option<Bound<'py, PyAny>>,
        total_timeout: Option<Bound<'py, PyAny>>,
        extra_headers: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Answer> {
        let args = QueryArgs {
            prompt,
            model,
            similarity_threshold,
            context,
            include_debug,
            project_id,
            timeout,
            max_retries,
            total_timeout,
            extra_headers,
        };
        let (client, request, log) = slf.as_super().prepare(py, args)?;
        let outcome = wait_logged(py, async move { client.query(request).await }, log)?;
        outcome.map(Answer).map_err(|e| to_py_err(py, &e))
    }

    /// Looks every request up, at most `concurrency` at once, in one call; see the stub.
    #[pyo3(signature = (requests, *, concurrency = None))]
    fn query_many<'py>(
        slf: PyRef<'py, Self>,
        py: Python<'py>,
        requests: Bound<'py, PyAny>,
        concurrency: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let concurrency = concurrency
            .unwrap_or_else(|| DEFAULT_CONCURRENCY.into_pyobject(py).unwrap().into_any());
        let (client, prepared, concurrency, log) =
            slf.as_super().prepare_batch(py, &requests, &concurrency)?;
        let Prepared {
            requests, refused, ..
        } = prepared;
        let answers = wait_logged(
            py,
            async move { client.query_many(requests, concurrency).await },
            log,
        )?;
        Outcomes { refused, answers }.into_pyobject(py)
    }
}

/// The asyncio client: `query` returns an asyncio future driven by the shared tokio
/// runtime (no thread per call).
#[pyclass(frozen, extends = ClientBase, subclass, module = "vectorcache._native")]
pub struct AsyncClient {}

#[pymethods]
impl AsyncClient {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (api_key = None, *, base_url = None, timeout = None, max_retries = None, project_id = None, max_connections = None, total_timeout = None, connect_timeout = None, ca_bundle = None, proxy = None))]
    fn new<'py>(
        py: Python<'py>,
        api_key: Option<Bound<'py, PyAny>>,
        base_url: Option<Bound<'py, PyAny>>,
        timeout: Option<Bound<'py, PyAny>>,
        max_retries: Option<Bound<'py, PyAny>>,
        project_id: Option<Bound<'py, PyAny>>,
        max_connections: Option<Bound<'py, PyAny>>,
        total_timeout: Option<Bound<'py, PyAny>>,
        connect_timeout: Option<Bound<'py, PyAny>>,
        ca_bundle: Option<PathBuf>,
        proxy: Option<Bound<'py, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let args = ClientArgs {
            api_key,
            base_url,
            timeout,
            max_retries,
            project_id,
            max_connections,
            total_timeout,
            connect_timeout,
            ca_bundle,
            proxy,
        };
        Ok(PyClassInitializer::from(ClientBase::new(py, args)?).add_subclass(Self {}))
    }

    /// Looks `prompt` up in the cache; the returned awaitable resolves on the running loop.
    /// Same arguments and errors as the sync client's `query`.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (prompt, model, *, similarity_threshold = None, context = None, include_debug = None, project_id = None, timeout = None, max_retries = None, total_timeout = None, extra_headers = None))]
    fn query<'py>(
        slf: PyRef<'py, Self>,
        py: Python<'py>,
        prompt: Bound<'py, PyAny>,
        model: Bound<'py, PyAny>,
        similarity_threshold: Option<Bound<'py, PyAny>>,
        context: Option<Bound<'py, PyAny>>,
        include_debug: Option<Bound<'py, PyAny>>,
        project_id: Option<Bound<'py, PyAny>>,
        timeout: Option<Bound<'py, PyAny>>,
        max_retries: Option<Bound<'py, PyAny>>,
        total_timeout: Option<Bound<'py, PyAny>>,
        extra_headers: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = QueryArgs {
            prompt,
            model,
            similarity_threshold,
            context,
            include_debug,
            project_id,
            timeout,
            max_retries,
            total_timeout,
            extra_headers,
        };
        let (client, request, log) = slf.as_super().prepare(py, args)?;
        into_awaitable(
            py,
            log,
            async move { client.query(request).await.map(Answer) },
        )
    }

    /// Like the sync client's `query_many`; the returned awaitable resolves on the loop.
    #[pyo3(signature = (requests, *, concurrency = None))]
    fn query_many<'py>(
        slf: PyRef<'py, Self>,
        py: Python<'py>,
        requests: Bound<'py, PyAny>,
        concurrency: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let concurrency = concurrency
            .unwrap_or_else(|| DEFAULT_CONCURRENCY.into_pyobject(py).unwrap().into_any());
        let (client, prepared, concurrency, log) =
            slf.as_super().prepare_batch(py, &requests, &concurrency)?;
        let Prepared {
            requests, refused, ..
        } = prepared;
        into_awaitable(py, log, async move {
            let answers = client.query_many(requests, concurrency).await;
            Ok(Outcomes { refused, answers })
        })
    }
}
