//! Turning response bodies into typed values: the success JSON, and the many shapes an error
//! body takes (FastAPI's `detail` string or list, `{"error","message"}`, proxy HTML, nothing).

use reqwest::header::{HeaderMap, LOCATION};
use serde_json::Value;

use crate::error::{ApiError, DecodeError, Error};
use crate::headers::{self, Unscrubbed};
use crate::response::QueryResponse;
use crate::scrub::Echoes;

/// How much of an error body is kept.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;
/// The longest `detail` message kept.
const MAX_DETAIL: usize = 1000;
/// How much of an undecodable body a decode error quotes.
const MAX_SNIPPET: usize = 500;

/// Cuts `s` to at most `max` bytes, on a character boundary, marking the cut with `…`.
pub(crate) fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push('…');
}

fn bounded(s: &str, max: usize) -> String {
    let mut s = s.to_owned();
    truncate_at_char(&mut s, max);
    s
}

/// `text` fit for one line of a log or a terminal: line breaks and tabs become spaces, other
/// control characters (a terminal's escape sequences, NUL) `\u{FFFD}`. A server's words reach
/// every error message and log line through here.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Whether a body decoded as text, its whitespace collapsed, is mostly not text (a compressed
/// or binary answer): more than a tenth of its characters are replacements for bytes that were
/// not UTF-8, or controls.
fn looks_binary(text: &str) -> bool {
    let (mut odd, mut all) = (0usize, 0usize);
    for c in text.chars() {
        all += 1;
        if c == '\u{FFFD}' || c.is_control() {
            odd += 1;
        }
    }
    odd * 10 > all
}

/// Decodes a success body into a [`QueryResponse`], with the header-borne state attached
/// (`request_id` is already scrubbed).
pub(crate) fn success(
    status: u16,
    headers: &Unscrubbed,
    key: &Echoes,
    body: &[u8],
    request_id: Option<String>,
) -> Result<QueryResponse, Error> {
    let decode_error = |message: String| {
        let body = bounded(&String::from_utf8_lossy(body), MAX_SNIPPET);
        undecodable(
            status,
            message,
            body,
            &headers.scrubbed(key),
            request_id.clone(),
        )
    };
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(decode_error("the body is empty".into())),
        // serde would read an array's items as the fields in order: `[false, "x"]` is no answer.
        Some(b'{') => {}
        Some(_) => {
            return Err(decode_error(
                "not the documented JSON (not an object)".into(),
            ))
        }
    }
    let mut response: QueryResponse = serde_json::from_slice(body).map_err(|e| {
        // serde quotes the offending value, which a broken server may make megabytes long
        // (and fill with control characters).
        decode_error(format!(
            "not the documented JSON ({})",
            bounded(&printable(&e.to_string()), MAX_SNIPPET)
        ))
    })?;
    response.rate_limit = headers.rate_limit();
    response.request_id = request_id;
    Ok(response)
}

/// A successful answer that could not be used (`message` says why), with what it carried.
pub(crate) fn undecodable(
    status: u16,
    message: String,
    body: String,
    headers: &HeaderMap,
    request_id: Option<String>,
) -> Error {
    Error::from(DecodeError {
        status,
        message,
        body,
        headers: headers::to_map(headers),
        request_id,
        rate_limit: headers::rate_limit(headers),
        attempts: 1,
    })
}

/// Decodes an error answer. Never fails: an unreadable body still yields a readable detail.
pub(crate) fn api_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    truncated: bool,
) -> ApiError {
    let text = String::from_utf8_lossy(body);
    let json = serde_json::from_str::<Value>(&text).ok();
    let mut detail = json
        .as_ref()
        .and_then(detail_from_json)
        .unwrap_or_else(|| detail_from_text(status, &text));
    // The API never redirects: where to is what tells a wrong base URL (or a proxy's login
    // page) apart. The client does not follow it, so the key never goes there.
    if (300..400).contains(&status) {
        if let Some(target) = headers.get(LOCATION).and_then(|l| l.to_str().ok()) {
            detail = format!(
                "{detail}; redirected to {}, not followed: check the base URL",
                bounded(target, 200)
            );
        }
    }
    ApiError {
        status,
        detail: bounded(&printable(&detail), MAX_DETAIL),
        headers: headers::to_map(headers),
        body: text.into_owned(),
        body_truncated: truncated,
        retry_after: headers::retry_after(status, headers, json.as_ref()),
        request_id: headers::request_id(headers),
        rate_limit: headers::rate_limit(headers),
        attempts: 1,
    }
}

/// The message of a JSON error body, for every documented shape.
fn detail_from_json(body: &Value) -> Option<String> {
    let object = body.as_object()?;
    // An empty or blank message says nothing: the next shape, or the status, says more.
    let said = |text: &String| !text.trim().is_empty();
    match object.get("detail") {
        Some(Value::String(s)) if said(s) => return Some(s.clone()),
        Some(Value::Array(items)) if !items.is_empty() => {
            return Some(
                items
                    .iter()
                    .map(validation_item)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        }
        // An empty list says nothing either: look at the other shapes.
        Some(Value::Null | Value::Array(_) | Value::String(_)) | None => {}
        Some(other) => return Some(other.to_string()),
    }
    // The `{"error": "...", "message": "..."}` shape of one guide.
    match (object.get("message"), object.get("error")) {
        (Some(Value::String(m)), _) if said(m) => Some(m.clone()),
        (_, Some(Value::String(e))) if said(e) => Some(e.clone()),
        (_, Some(Value::Object(inner))) => inner
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(said),
        _ => None,
    }
}

/// One FastAPI validation entry: `body.prompt: Field required`.
fn validation_item(item: &Value) -> String {
    let msg = item
        .get("msg")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| item.to_string());
    let loc = item
        .get("loc")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(".")
        })
        .filter(|loc| !loc.is_empty());
    match loc {
        Some(loc) => format!("{loc}: {msg}"),
        None => msg,
    }
}

/// A readable message for a body that is not JSON: empty, HTML from a proxy, plain text.
/// The page's own words are kept (a corporate proxy's "Request blocked by policy"), without
/// the status line it repeats (`<title>` and `<h1>` both say "502 Bad Gateway").
fn detail_from_text(status: u16, text: &str) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("HTTP error");
    let plain = strip_tags(text);
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if looks_binary(&plain) {
        // A gzip body nobody asked for reads as garbage: say what it is instead.
        return format!("{reason} (binary response body)");
    }
    let said = without_status_lines(&plain, status, reason, text.contains('<'));
    if said.is_empty() {
        let what = if plain.is_empty() {
            "empty"
        } else {
            "non-JSON"
        };
        return format!("{reason} ({what} response body)");
    }
    format!("{reason}: {}", bounded(said, 200))
}

/// `plain` without the status lines it starts with (`502 Bad Gateway`, once or more, or the
/// reason alone, as "Unauthorized: go away" has it). On a page (`markup`) whose status line
/// went, a lone short ASCII word left over is the server's signature ("nginx",
/// "nginx/1.18.0", "cloudflare") and tells the user nothing; anything else is kept: a plain
/// text's "ECONNRESET", a path, a page in another script.
fn without_status_lines<'a>(plain: &'a str, status: u16, reason: &str, markup: bool) -> &'a str {
    // Pages say it as "502 Bad Gateway", or "502 Error", or "Error 502".
    let status_lines = [
        format!("{status} {reason}"),
        format!("{status} Error"),
        format!("Error {status}"),
    ];
    let mut rest = plain;
    let mut whole_line = false;
    loop {
        if let Some(after) = status_lines
            .iter()
            .find_map(|line| strip_word_ci(rest, line))
        {
            (rest, whole_line) = (after, true);
        } else if let Some(after) = strip_word_ci(rest, reason) {
            rest = after;
        } else {
            break;
        }
    }
    let signature = rest.len() <= 30
        && !rest.starts_with('/')
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
    if markup && whole_line && signature {
        return "";
    }
    rest
}

/// `text` after `prefix` (matched ignoring ASCII case, as a whole word) and the separators
/// that follow it, if it starts with it.
fn strip_word_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    let after = &text[prefix.len()..];
    let whole = after.is_empty() || after.starts_with([' ', ':', '-', '|', '.', ',', '(']);
    (head.eq_ignore_ascii_case(prefix) && whole)
        .then(|| after.trim_start_matches([' ', ':', '-', '|', '.', ',']))
}

/// Drops `<...>` tags and the contents of `<style>`/`<script>`, enough to read a proxy's page.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let after = &rest[start..];
        // Byte-wise, so a multi-byte character near the `<` costs nothing extra.
        let head = after.as_bytes();
        let starts = |tag: &str| {
            head.get(..tag.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(tag.as_bytes()))
        };
        let close = if starts("<style") {
            "</style>"
        } else if starts("<script") {
            "</script>"
        } else {
            ">"
        };
        rest = match find_ascii_ci(after, close) {
            Some(i) => &after[i + close.len()..],
            None => "",
        };
        if out.len() > 4096 {
            return out;
        }
    }
    out.push_str(rest);
    out
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::success`] on headers that echo no key.
    fn success(
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        request_id: Option<String>,
    ) -> Result<QueryResponse, Error> {
        // Made here, not written out: any key does, as the headers echo none.
        let key = crate::api_key::ApiKey::new(format!("vc_{}", "ab12".repeat(8))).unwrap();
        let echoes = Echoes::of(&key);
        let headers = Unscrubbed::new(headers.clone(), &echoes);
        super::success(status, &headers, &echoes, body, request_id)
    }

    #[test]
    fn truncation_steps_back_to_a_character_boundary() {
        let mut s = "aé".to_owned(); // `é` is bytes 1..3
        truncate_at_char(&mut s, 2);
        assert_eq!(s, "a…");
        let mut s = "abc".to_owned();
        truncate_at_char(&mut s, 3);
        assert_eq!(s, "abc", "at the limit nothing is cut");
    }

    #[test]
    fn other_json_shapes_when_detail_says_nothing() {
        assert_eq!(
            detail(400, r#"{"detail":[],"message":"bad prompt"}"#),
            "bad prompt"
        );
        assert_eq!(
            detail(502, r#"{"error":{"message":"upstream down","code":7}}"#),
            "upstream down"
        );
        assert_eq!(
            detail(502, r#"{"error":{"code":7}}"#),
            "Bad Gateway: {\"error\":{\"code\":7}}"
        );
        // Blank messages say nothing either.
        assert_eq!(
            detail(401, r#"{"detail":" ","message":"key revoked"}"#),
            "key revoked"
        );
        assert_eq!(
            detail(
                429,
                r#"{"detail":"","message":" ","error":"quota exceeded"}"#
            ),
            "quota exceeded"
        );
        assert_eq!(
            detail(429, r#"{"message":"","error":" "}"#),
            "Too Many Requests: {\"message\":\"\",\"error\":\" \"}"
        );
        assert_eq!(
            detail(401, r#"{"detail":"","error":{"message":""}}"#),
            "Unauthorized: {\"detail\":\"\",\"error\":{\"message\":\"\"}}"
        );
    }

    #[test]
    fn only_an_object_is_an_answer_and_a_decode_error_stays_short() {
        let headers = HeaderMap::new();
        for body in [r#"[false, "x"]"#, r#"  "text""#, "1", "null"] {
            let err = success(200, &headers, body.as_bytes(), None).unwrap_err();
            assert!(err.to_string().contains("not an object"), "{body}: {err}");
        }
        let huge = format!(r#"{{"cache_hit": "{}"}}"#, "x".repeat(1 << 20));
        let err = success(200, &headers, huge.as_bytes(), None).unwrap_err();
        assert!(
            err.to_string().len() < 2 * MAX_SNIPPET,
            "{}",
            err.to_string().len()
        );
        assert!(success(
            200,
            &headers,
            br#" {"cache_hit": true, "response": "x"}"#,
            None
        )
        .is_ok());
    }

    #[test]
    fn only_the_first_4_kib_of_a_page_are_read() {
        // 4,095 spaces and the space a tag becomes: exactly 4 KiB so far, so reading goes on.
        let at_the_limit = format!("{}<b>visible", " ".repeat(4095));
        assert_eq!(detail(502, &at_the_limit), "Bad Gateway: visible");
        // Past 4 KiB of page text, the rest is not read.
        let past_it = format!("{}<b>hidden", " ".repeat(5000));
        assert_eq!(detail(502, &past_it), "Bad Gateway (empty response body)");
    }

    fn detail(status: u16, body: &str) -> String {
        api_error(status, &HeaderMap::new(), body.as_bytes(), false).detail
    }

    #[test]
    fn documented_shapes() {
        assert_eq!(
            detail(401, r#"{"detail":"Invalid or missing API key"}"#),
            "Invalid or missing API key"
        );
        assert_eq!(
            detail(
                422,
                r#"{"detail":[{"loc":["body","prompt"],"msg":"Field required","type":"missing"},{"loc":["body",0],"msg":"bad"}]}"#
            ),
            "body.prompt: Field required; body.0: bad"
        );
        assert_eq!(
            detail(
                429,
                r#"{"error":"rate_limit_exceeded","message":"Too many requests","retry_after":60}"#
            ),
            "Too many requests"
        );
        assert_eq!(detail(500, r#"{"error":"boom"}"#), "boom");
        assert_eq!(detail(400, r#"{"detail":{"code":7}}"#), r#"{"code":7}"#);
    }

    #[test]
    fn non_json_bodies() {
        assert_eq!(detail(502, ""), "Bad Gateway (empty response body)");
        assert_eq!(
            detail(502, "<html><head><title>502 Bad Gateway</title><style>p{}</style></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"),
            "Bad Gateway (non-JSON response body)"
        );
        assert_eq!(
            detail(503, "<p>Down for <b>maintenance</b></p>"),
            "Service Unavailable: Down for maintenance"
        );
        assert_eq!(detail(500, "[1,2]"), "Internal Server Error: [1,2]");
        // A proxy's block page keeps its words, without the status line it repeats; a text
        // that starts with the reason does not get it twice.
        assert_eq!(
            detail(403, "<html><title>403 Forbidden</title><h1>403 Forbidden</h1><p>Request blocked by corporate proxy policy</p></html>"),
            "Forbidden: Request blocked by corporate proxy policy"
        );
        assert_eq!(
            detail(401, "Unauthorized: go away"),
            "Unauthorized: go away"
        );
        assert_eq!(
            detail(
                502,
                "<title>502 Error</title><h1>502 Error</h1><p>nginx/1.18.0</p>"
            ),
            "Bad Gateway (non-JSON response body)"
        );
        // What a reader needs is kept: a plain text's cause, a path, another script.
        assert_eq!(
            detail(502, "Error 502: ECONNRESET"),
            "Bad Gateway: ECONNRESET"
        );
        assert_eq!(
            detail(503, "503 service unavailable: maintenance"),
            "Service Unavailable: maintenance"
        );
        assert_eq!(
            detail(404, "<h1>404 Not Found</h1><p>/v2/cache/query</p>"),
            "Not Found: /v2/cache/query"
        );
        assert_eq!(
            detail(403, "<h1>403 Forbidden</h1><p>アクセスが拒否されました</p>"),
            "Forbidden: アクセスが拒否されました"
        );
        assert_eq!(
            detail(401, "unauthorized"),
            "Unauthorized (non-JSON response body)"
        );
        assert_eq!(detail(403, "Forbidden: blocked"), "Forbidden: blocked");
        assert_eq!(
            detail(404, "Not Foundation here"),
            "Not Found: Not Foundation here"
        );
        // A stray byte that is not UTF-8 stays readable text; a compressed body does not.
        let bytes = b"upstream \xff failed: try later";
        let e = api_error(500, &HeaderMap::new(), bytes, false);
        assert_eq!(
            e.detail,
            "Internal Server Error: upstream \u{FFFD} failed: try later"
        );
        let gzip = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x56,
        ];
        let e = api_error(401, &HeaderMap::new(), &gzip, false);
        assert_eq!(e.detail, "Unauthorized (binary response body)");
        // Controls that are UTF-8 count as well; a tenth exactly is still text.
        let e = api_error(502, &HeaderMap::new(), b"\x01\x02\x03 ok", false);
        assert_eq!(e.detail, "Bad Gateway (binary response body)");
        let e = api_error(502, &HeaderMap::new(), b"abcdefghi\xff", false);
        assert_eq!(e.detail, "Bad Gateway: abcdefghi\u{FFFD}");
    }

    #[test]
    fn server_words_reach_messages_on_one_line_without_control_characters() {
        let e = api_error(
            403,
            &HeaderMap::new(),
            br#"{"detail": "denied\n[FAKE] admin login ok\u001b[31m red\u0000"}"#,
            false,
        );
        assert_eq!(
            e.detail,
            "denied [FAKE] admin login ok\u{FFFD}[31m red\u{FFFD}"
        );
        let text = api_error(502, &HeaderMap::new(), b"bad\x1b[2J gateway", false);
        assert_eq!(text.detail, "Bad Gateway: bad\u{FFFD}[2J gateway");
        let err = success(
            200,
            &HeaderMap::new(),
            b"{\"cache_hit\": \"a\\nb\\u0007\"}",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(!err.chars().any(char::is_control), "{err:?}");
    }

    #[test]
    fn multibyte_text_next_to_tags() {
        assert_eq!(
            detail(503, "<é>Down <b>for</b> maintenanceé<"),
            "Service Unavailable: Down for maintenanceé"
        );
        let many = "<ééééé>".repeat(5000);
        assert_eq!(detail(502, &many), "Bad Gateway (empty response body)");
    }

    #[test]
    fn huge_details_are_bounded() {
        let long = format!(r#"{{"detail":"{}"}}"#, "é".repeat(100_000));
        let d = detail(400, &long);
        assert!(d.len() <= MAX_DETAIL + '…'.len_utf8(), "{}", d.len());
        assert!(d.ends_with('…'));
    }

    #[test]
    fn success_decode_errors_are_typed() {
        let h = HeaderMap::new();
        for body in [
            "",
            "<html>oops</html>",
            r#"{"cache_hit":"yes","response":"x"}"#,
            r#"{"cache_hit":true"#,
        ] {
            match success(200, &h, body.as_bytes(), Some("req_1".into())) {
                Err(Error::Decode(e)) if e.status == 200 => {
                    assert_eq!(e.body, body);
                    assert_eq!(e.request_id.as_deref(), Some("req_1"));
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
