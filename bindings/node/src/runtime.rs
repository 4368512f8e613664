//! The tokio runtime every query of this addon runs on (napi-rs drives promises with it).
//!
//! One worker thread: JavaScript is single-threaded, so the addon's work arrives from one
//! thread, and every extra worker mostly parks and wakes again (a futex and a context switch
//! per query) or steals work back and forth. `make bench` measured the difference; see the
//! commit that introduced this.

use tokio::runtime::Builder;

#[napi_derive::module_init]
fn init() {
    // If this fails, napi-rs builds its default runtime: queries still work.
    if let Ok(runtime) = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("vectorcache")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}
