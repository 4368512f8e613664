//! Shared helpers for the wiremock suites.
#![allow(dead_code)]

pub mod ca;
pub mod raw;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use vectorcache::{Client, ClientBuilder};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const KEY: &str = "vc_0123456789abcdef0123456789abcdef";
pub const OTHER_KEY: &str = "vc_fedcba9876543210fedcba9876543210";
pub const QUERY_PATH: &str = "/v1/cache/query";

/// A builder aimed at `server` with the test key and millisecond backoff.
pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

pub fn client(server: &MockServer) -> Client {
    builder(server).build().expect("test client builds")
}

pub fn hit_body() -> Value {
    json!({
        "cache_hit": true,
        "response": "Machine learning is a subset of AI.",
        "similarity_score": 0.93,
        "cost_saved": 0.0021,
        "llm_provider": "cache"
    })
}

/// Answers every query with `template`.
pub async fn answer(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(QUERY_PATH))
        .respond_with(template)
        .mount(server)
        .await;
}

/// Answers the next `times` queries with `template`, ahead of anything mounted later.
pub async fn answer_times(server: &MockServer, times: u64, template: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(QUERY_PATH))
        .respond_with(template)
        .up_to_n_times(times)
        .mount(server)
        .await;
}

/// What the server received. Recording is on for every MockServer here; a missing log fails
/// the test rather than passing for "nothing was sent".
pub async fn requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("wiremock records requests")
}

/// Serves `template` to every query, runs one query with `max_retries`, and returns the error
/// and how many attempts reached the server.
pub async fn failed_query(
    template: ResponseTemplate,
    max_retries: u32,
) -> (vectorcache::Error, usize) {
    let server = MockServer::start().await;
    answer(&server, template).await;
    let err = builder(&server)
        .max_retries(max_retries)
        .build()
        .expect("test client builds")
        .query(vectorcache::QueryRequest::new("What is AI?", "gpt-4o"))
        .await
        .expect_err("the query fails");
    (err, requests(&server).await.len())
}

pub fn json_error(status: u16, detail: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "detail": detail }))
}

/// What the crate logged (through `tracing`) on this thread while the guard of
/// [`capture_logs`] lived: the query's own task runs here on a current-thread runtime.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every event at `level` and above until the guard is dropped.
pub fn capture_logs(level: tracing::Level) -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}
