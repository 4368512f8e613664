//! `vectorcache._native`: the compiled half of the `vectorcache` Python package.
//!
//! Everything the SDK does (configuration, validation, retries, error decoding) is the Rust
//! core's (`crates/vectorcache`); this crate only converts between Python and the core. The
//! public API is the pure-Python package in `python/vectorcache/`, which re-exports these
//! classes and adds the Python-only parts (exception classes, context managers).

mod batch;
mod bridge;
mod client;
mod config;
mod cooperative;
mod delivery;
mod errors;
mod logs;
mod response;
mod runtime;
mod testing;

use pyo3::prelude::*;

#[pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::client::{AsyncClient, Client, ClientBase};
    #[pymodule_export]
    use crate::response::{DebugInfo, QueryResponse, RateLimit};
    #[pymodule_export]
    use crate::testing::EmulatorServer;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("DEFAULT_BASE_URL", vectorcache::DEFAULT_BASE_URL)?;
        m.add("API_KEY_ENV", vectorcache::API_KEY_ENV)?;
        m.add("BASE_URL_ENV", vectorcache::BASE_URL_ENV)?;
        let py = m.py();
        // Before the interpreter finalizes, runtime threads must be out of Python.
        let barrier = wrap_pyfunction!(crate::bridge::wait_for_runtime_threads, m)?;
        py.import("atexit")?.call_method1("register", (barrier,))?;
        // A forked child has none of the parent's runtime threads (the runtime and each
        // client's connections are rebuilt there on first use; see runtime.rs, client.rs).
        let os = py.import("os")?;
        if os.hasattr("register_at_fork")? {
            // (Windows has no fork.)
            let forget = wrap_pyfunction!(crate::bridge::forget_parent_threads, m)?;
            let kwargs = pyo3::types::PyDict::new(py);
            kwargs.set_item("after_in_child", forget)?;
            os.call_method("register_at_fork", (), Some(&kwargs))?;
        }
        Ok(())
    }
}
