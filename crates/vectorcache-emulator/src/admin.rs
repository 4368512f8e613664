//! The emulator's own routes: `/health` and the `/_emulator/*` inspection and fault routes.
//!
//! They need no API key: the emulator is a local development tool, bound to loopback by default.

use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::faults::parse_faults;
use crate::http::{detail, json_response, read_body, Body, ReadBody};
use crate::server::State;

/// Largest accepted body for the admin routes: a fault's largest body, with room for its JSON
/// escaping and the fault's other fields (the parser then holds the body to its own limit).
const MAX_ADMIN_BODY: usize = 2 * crate::faults::MAX_FAULT_BODY;

/// The answer to a known route with the wrong method.
fn wrong_method(allowed: &'static str) -> Response<Body> {
    let mut response = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allowed));
    response
}

/// Serves an admin route, or `None` when `path` is not one.
pub async fn handle(state: &State, req: Request<Incoming>) -> Option<Response<Body>> {
    let method = req.method().clone();
    let response = match req.uri().path() {
        "/health" => match method {
            Method::GET => json_response(
                StatusCode::OK,
                &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
            ),
            _ => wrong_method("GET"),
        },
        "/_emulator/faults" => match method {
            Method::POST => queue_faults(state, req).await,
            Method::GET => json_response(
                StatusCode::OK,
                &json!({ "pending": state.faults.pending() }),
            ),
            Method::DELETE => {
                state.faults.clear();
                json_response(StatusCode::OK, &json!({ "pending": 0 }))
            }
            _ => wrong_method("GET, POST, DELETE"),
        },
        "/_emulator/reset" => match method {
            Method::POST => {
                state.reset();
                json_response(StatusCode::OK, &json!({ "reset": true }))
            }
            _ => wrong_method("POST"),
        },
        "/_emulator/requests" => match method {
            Method::GET => json_response(StatusCode::OK, &state.log.snapshot()),
            Method::DELETE => {
                let cleared = state.log.clear();
                json_response(StatusCode::OK, &json!({ "cleared": cleared }))
            }
            _ => wrong_method("GET, DELETE"),
        },
        _ => return None,
    };
    Some(response)
}

async fn queue_faults(state: &State, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body, parts.headers.get(CONTENT_LENGTH), MAX_ADMIN_BODY).await {
        Ok(ReadBody::Complete(bytes)) => bytes,
        Ok(ReadBody::TooLarge(_)) => {
            return detail(StatusCode::PAYLOAD_TOO_LARGE, crate::http::TOO_LARGE)
        }
        Err(_) => return detail(StatusCode::BAD_REQUEST, "Could not read the request body"),
    };
    match parse_faults(&bytes) {
        Ok(faults) => {
            let queued = faults.len();
            state.faults.push(faults);
            json_response(
                StatusCode::OK,
                &json!({ "queued": queued, "pending": state.faults.pending() }),
            )
        }
        Err(message) => detail(StatusCode::BAD_REQUEST, &message),
    }
}
