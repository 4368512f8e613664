//! Cancelling a query from JavaScript: the wrapper turns an `AbortSignal` into a call of
//! `CancelToken.cancel()`, which ends the query's task (dropping its HTTP request, so the
//! server sees the connection close, and any retry not yet made).

use std::sync::Arc;

use napi_derive::napi;
use tokio::sync::Notify;

/// A one-shot cancellation handle for one query.
#[napi]
pub struct CancelToken {
    notify: Arc<Notify>,
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self {
            notify: Arc::new(Notify::new()),
        }
    }

    /// Cancels the query this token was given to (at once if it already runs, or as soon as
    /// it starts).
    #[napi]
    pub fn cancel(&self) {
        // notify_one keeps the wake-up if the query is not waiting yet.
        self.notify.notify_one();
    }
}

impl CancelToken {
    /// What the query's task waits on.
    pub(crate) fn cancelled(&self) -> Arc<Notify> {
        self.notify.clone()
    }
}
