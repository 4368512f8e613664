//! Exit codes: one per class of failure, so scripts can tell them apart.

use vectorcache::{Error, ErrorCategory, ErrorKind};

pub const SUCCESS: u8 = 0;
/// Anything not listed below (also: the emulator could not start).
pub const FAILURE: u8 = 1;
// 2 is clap's usage error.
/// Missing or malformed key, unusable configuration.
pub const CONFIG: u8 = 3;
/// The request failed local validation; nothing was sent.
pub const INVALID_REQUEST: u8 = 4;
/// 401.
pub const AUTHENTICATION: u8 = 5;
/// 403.
pub const PERMISSION_DENIED: u8 = 6;
/// 429.
pub const RATE_LIMITED: u8 = 7;
/// Other 4xx (and 3xx) answers.
pub const CLIENT_ERROR: u8 = 8;
/// 5xx answers.
pub const SERVER_ERROR: u8 = 9;
/// Timeouts, connection failures and untrusted certificates.
pub const UNREACHABLE: u8 = 10;
/// A success answer whose body could not be decoded.
pub const DECODE: u8 = 11;
/// stdout or stderr was a pipe that its reader closed (`| head`): 128 + SIGPIPE, what a shell
/// reports for a tool that SIGPIPE ended (see console.rs).
pub const CLOSED_PIPE: u8 = 141;

/// The exit code for `error`: by its kind, and for other statuses by the core's category
/// (every 5xx is a server error).
pub fn code(error: &Error) -> u8 {
    match error.kind() {
        ErrorKind::MissingApiKey | ErrorKind::InvalidApiKey | ErrorKind::InvalidConfig => CONFIG,
        ErrorKind::InvalidRequest => INVALID_REQUEST,
        ErrorKind::Authentication => AUTHENTICATION,
        ErrorKind::PermissionDenied => PERMISSION_DENIED,
        ErrorKind::RateLimited => RATE_LIMITED,
        ErrorKind::Timeout | ErrorKind::Connection | ErrorKind::Certificate => UNREACHABLE,
        ErrorKind::Decode => DECODE,
        ErrorKind::InternalServer | ErrorKind::BadGateway | ErrorKind::ServiceUnavailable => {
            SERVER_ERROR
        }
        ErrorKind::BadRequest | ErrorKind::NotFound | ErrorKind::UnprocessableEntity => {
            CLIENT_ERROR
        }
        ErrorKind::Status => match error.category() {
            ErrorCategory::Server => SERVER_ERROR,
            _ => CLIENT_ERROR,
        },
    }
}
