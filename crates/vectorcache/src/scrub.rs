//! Keeps the API key out of everything an answer carries: a server or proxy that echoes the
//! request's `Authorization` (in a body, a `WWW-Authenticate` or a debug header) must not put
//! the key into an error, a log line or a binding's exception.

use reqwest::header::{HeaderMap, HeaderValue};

use crate::api_key::ApiKey;

/// Consecutive characters of the key's secret part that count as a leak on their own: a cut
/// or partly redacted echo still gives an attacker most of the key.
const LEAK_RUN: usize = 16;
/// What a leaked run is replaced with.
const REDACTED: &[u8] = b"[redacted]";

/// Replaces every run of at least [`LEAK_RUN`] consecutive characters of the key's secret
/// (the 32 hexadecimal digits after `vc_`, in any letter case) in `bytes`, the whole key with
/// its prefix included, by `[redacted]`. Returns whether anything was replaced.
pub(crate) fn scrub(bytes: &mut Vec<u8>, key: &ApiKey) -> bool {
    let secret = key.secret_digits().as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0; // bytes[..copied] are in `out` (when it exists)
    let mut at = 0;
    while at + LEAK_RUN <= bytes.len() {
        let Some(len) = leaked_run_at(&bytes[at..], secret) else {
            at += 1;
            continue;
        };
        // Take a `vc_` prefix right before the run with it.
        let start = if at >= 3 && bytes[at - 3..at].eq_ignore_ascii_case(b"vc_") {
            at - 3
        } else {
            at
        };
        let out = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
        out.extend_from_slice(&bytes[copied..start.max(copied)]);
        out.extend_from_slice(REDACTED);
        at += len;
        copied = at;
    }
    match out {
        Some(mut out) => {
            out.extend_from_slice(&bytes[copied..]);
            *bytes = out;
            true
        }
        None => false,
    }
}

/// The length of the longest run of consecutive secret characters starting at `text[0]`, if
/// it is at least [`LEAK_RUN`] long.
fn leaked_run_at(text: &[u8], secret: &[u8]) -> Option<usize> {
    if !text[0].is_ascii_hexdigit() {
        return None;
    }
    (0..=secret.len() - LEAK_RUN)
        .filter_map(|from| {
            let len = text
                .iter()
                .zip(&secret[from..])
                .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
                .count();
            (len >= LEAK_RUN).then_some(len)
        })
        .max()
}

/// [`scrub`] for every header value.
pub(crate) fn scrub_headers(headers: &mut HeaderMap, key: &ApiKey) {
    for value in headers.values_mut() {
        let mut bytes = value.as_bytes().to_vec();
        if scrub(&mut bytes, key) {
            // Only visible ASCII was put in place of visible bytes, so this cannot fail.
            if let Ok(clean) = HeaderValue::from_bytes(&bytes) {
                *value = clean;
            } else {
                *value = HeaderValue::from_static("[redacted]");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "vc_1234567890abcdef1234567890abcdef"; // the docs' published example key

    fn scrubbed(text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        scrub(&mut bytes, &ApiKey::new(KEY).unwrap());
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_whole_key_and_every_long_piece_of_it_go() {
        assert_eq!(scrubbed(&format!("Bearer {KEY}")), "Bearer [redacted]");
        assert_eq!(scrubbed(&format!("{KEY}{KEY}")), "[redacted][redacted]");
        assert_eq!(
            scrubbed(&KEY.to_uppercase()),
            "[redacted]",
            "any letter case"
        );
        // 16 consecutive secret characters anywhere in the key, with or without the prefix.
        let secret = &KEY[3..];
        for from in 0..=16 {
            let piece = &secret[from..from + 16];
            assert_eq!(scrubbed(&format!("x{piece}y")), "x[redacted]y", "{piece}");
        }
        // Cut at the end of a body: `vc_` and 17 digits.
        assert_eq!(
            scrubbed(&format!("echo: {}", &KEY[..20])),
            "echo: [redacted]"
        );
    }

    #[test]
    fn short_pieces_and_other_hex_stay() {
        let secret = &KEY[3..];
        for text in [
            format!("x{}y", &secret[..15]),
            "request id 0123456789abcdef0123".to_owned(),
            "no hex at all".to_owned(),
            String::new(),
        ] {
            assert_eq!(scrubbed(&text), text);
        }
    }

    #[test]
    fn header_values_are_scrubbed() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "www-authenticate",
            HeaderValue::from_str(&format!("Bearer realm=\"api\", token=\"{KEY}\"")).unwrap(),
        );
        headers.insert("x-ok", HeaderValue::from_static("fine"));
        scrub_headers(&mut headers, &ApiKey::new(KEY).unwrap());
        assert_eq!(
            headers["www-authenticate"],
            "Bearer realm=\"api\", token=\"[redacted]\""
        );
        assert_eq!(headers["x-ok"], "fine");
    }
}
