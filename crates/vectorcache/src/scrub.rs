//! Keeps the API key out of everything an answer carries: a server or proxy that echoes the
//! request's `Authorization` (in a body, a `WWW-Authenticate` or a debug header) must not put
//! the key into an error, a log line or a binding's exception.

use std::ops::Range;

use reqwest::header::{HeaderMap, HeaderValue};

use crate::api_key::ApiKey;

/// Consecutive characters of the key's secret part that count as a leak on their own: a cut
/// or partly redacted echo still gives an attacker most of the key.
const LEAK_RUN: usize = 16;
/// The secret's windows of [`LEAK_RUN`] digits (a key's secret is 32 digits long).
const WINDOWS: usize = crate::api_key::SECRET_LEN - LEAK_RUN + 1;
/// What a leaked run is replaced with.
const REDACTED: &[u8] = b"[redacted]";

/// Replaces every run of at least [`LEAK_RUN`] consecutive characters of the key's secret
/// (the 32 hexadecimal digits after `vc_`, in any letter case) in `bytes`, the whole key with
/// its prefix included, by `[redacted]`. Returns whether anything was replaced.
pub(crate) fn scrub(bytes: &mut Vec<u8>, key: &ApiKey) -> bool {
    match without_leaks(bytes, key) {
        Some(clean) => {
            *bytes = clean;
            true
        }
        None => false,
    }
}

/// `bytes` with every leaked run replaced (see [`scrub`]), or `None` when there is none: the
/// common case looks at a fraction of the bytes and allocates nothing.
fn without_leaks(bytes: &[u8], key: &ApiKey) -> Option<Vec<u8>> {
    let secret = key.secret_digits().as_bytes();
    // Every leak starts with one of the secret's 16-digit windows; compare whole windows
    // (made, on the stack, when the first run of 16 hex digits turns up).
    let mut windows: Option<[u128; WINDOWS]> = None;
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0; // bytes[..copied] are in `out` (when it exists)
    let mut at = 0;
    // Only LEAK_RUN hex digits in a row can be a leak.
    while let Some(run) = next_hex_run(bytes, at) {
        at = run.start;
        while at + LEAK_RUN <= run.end {
            let windows = windows.get_or_insert_with(|| {
                std::array::from_fn(|from| folded(&secret[from..][..LEAK_RUN]))
            });
            if !windows.contains(&folded(&bytes[at..at + LEAK_RUN])) {
                at += 1;
                continue;
            }
            let len = leaked_run_len(&bytes[at..], secret);
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
        at = run.end;
    }
    let mut out = out?;
    out.extend_from_slice(&bytes[copied..]);
    Some(out)
}

/// The first run of at least [`LEAK_RUN`] hexadecimal digits in `bytes[from..]` (its start
/// cut at `from`). Any such run covers one of every [`LEAK_RUN`] consecutive positions, so
/// only those are probed, and only around a probe are neighbours read: a shorter run around
/// one ends before the next probe.
fn next_hex_run(bytes: &[u8], from: usize) -> Option<Range<usize>> {
    (from + LEAK_RUN - 1..bytes.len())
        .step_by(LEAK_RUN)
        .map(|probe| {
            let start = probe - hex_digits(bytes[from..probe].iter().rev());
            let end = probe + hex_digits(bytes[probe..].iter());
            start..end
        })
        .find(|run| run.len() >= LEAK_RUN)
}

/// How many hexadecimal digits `bytes` starts with.
fn hex_digits<'a>(bytes: impl Iterator<Item = &'a u8>) -> usize {
    bytes.take_while(|b| b.is_ascii_hexdigit()).count()
}

/// 16 hexadecimal digits as one number, letter case folded (`| 0x20` lowers `A`-`F` and
/// leaves the digits as they are).
fn folded(window: &[u8]) -> u128 {
    let mut digits = [0u8; LEAK_RUN];
    digits.copy_from_slice(window);
    u128::from_le_bytes(digits) | u128::from_le_bytes([0x20; LEAK_RUN])
}

/// The length of the longest run of the secret's characters at the start of `text`, which
/// is known to begin with one of its 16-digit windows.
fn leaked_run_len(text: &[u8], secret: &[u8]) -> usize {
    (0..=secret.len() - LEAK_RUN)
        .map(|from| {
            text.iter()
                .zip(&secret[from..])
                .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
                .count()
        })
        .max()
        .unwrap_or(LEAK_RUN)
}

/// Scrubs every header value (see [`scrub`]); a value that no longer forms a valid header
/// becomes `[redacted]` whole.
pub(crate) fn scrub_headers(headers: &mut HeaderMap, key: &ApiKey) {
    for value in headers.values_mut() {
        if let Some(clean) = without_leaks(value.as_bytes(), key) {
            *value = HeaderValue::from_bytes(&clean)
                .unwrap_or_else(|_| HeaderValue::from_static("[redacted]"));
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
    fn control_characters_that_fold_like_digits_are_no_leak() {
        // `folded` ORs 0x20 into every byte, so 0x10..=0x19 fold into '0'..='9': only runs of
        // hexadecimal digits may reach the window comparison.
        let lookalike: Vec<u8> = b"1234567890"
            .iter()
            .map(|digit| digit - 0x20)
            .chain(*b"abcdef")
            .collect();
        assert_eq!(folded(&lookalike), folded(b"1234567890abcdef"));
        let mut bytes = [b"x".as_slice(), &lookalike, b"y"].concat();
        let before = bytes.clone();
        assert!(!scrub(&mut bytes, &ApiKey::new(KEY).unwrap()));
        assert_eq!(bytes, before);
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
    fn leaks_inside_long_hex_runs_go_and_the_rest_of_the_run_stays() {
        let secret = &KEY[3..];
        // The run's last `f` begins the secret's window "f1234567890abcde", so it goes too.
        let text = format!("{}{}", "f".repeat(100), &secret[..16]);
        assert_eq!(scrubbed(&text), format!("{}[redacted]", "f".repeat(99)));
        let text = format!(
            "{}{}{}",
            "0".repeat(1 << 20),
            KEY.to_uppercase(),
            "0".repeat(7)
        );
        assert_eq!(
            scrubbed(&text),
            format!("{}[redacted]{}", "0".repeat(1 << 20), "0".repeat(7))
        );
    }

    #[test]
    fn leaks_are_found_wherever_the_probes_fall() {
        let secret = &KEY[3..];
        let piece = &secret[5..21];
        // Exactly 16 digits at the very start and at the very end; after a short hex run
        // that a probe lands in; after text with no hex digit at all.
        for (text, expected) in [
            (piece.to_owned(), "[redacted]".to_owned()),
            (format!("x{piece}"), "x[redacted]".to_owned()),
            (
                format!("{}cafe, later: {KEY}.", " ".repeat(14)),
                format!("{}cafe, later: [redacted].", " ".repeat(14)),
            ),
            (
                format!("{}{piece}", "z".repeat(40)),
                format!("{}[redacted]", "z".repeat(40)),
            ),
        ] {
            assert_eq!(scrubbed(&text), expected, "{text}");
        }
    }

    #[test]
    fn every_piece_of_a_key_without_repeats_goes() {
        // The docs' key repeats its first 16 digits; this one has 17 different windows.
        let key = ApiKey::new(format!("vc_{}{}", "0123456789abcdef", "fedcba9876543210")).unwrap();
        let secret = key.secret_digits();
        for from in 0..=16 {
            let mut bytes = format!("x{}y", &secret[from..from + 16]).into_bytes();
            assert!(scrub(&mut bytes, &key), "window {from}");
            assert_eq!(bytes, b"x[redacted]y");
        }
    }

    /// The plain scan, position by position, that `without_leaks` must agree with.
    fn reference(bytes: &[u8], key: &ApiKey) -> Vec<u8> {
        let secret = key.secret_digits().as_bytes();
        let (mut out, mut at) = (Vec::new(), 0);
        while at < bytes.len() {
            let window = bytes.get(at..at + LEAK_RUN);
            let leak =
                window.is_some_and(|w| secret.windows(LEAK_RUN).any(|s| w.eq_ignore_ascii_case(s)));
            if !leak {
                out.push(bytes[at]);
                at += 1;
                continue;
            }
            if out.len() >= 3 && out[out.len() - 3..].eq_ignore_ascii_case(b"vc_") {
                out.truncate(out.len() - 3);
            }
            out.extend_from_slice(REDACTED);
            at += leaked_run_len(&bytes[at..], secret);
        }
        out
    }

    #[test]
    fn texts_mixing_hex_runs_and_key_pieces_agree_with_the_plain_scan() {
        let key = ApiKey::new(KEY).unwrap();
        let secret = &KEY[3..];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..rng.usize(0..8) {
                match rng.u8(0..4) {
                    0 => text.push_str(&" .x:z,".repeat(rng.usize(0..5))),
                    1 => (0..rng.usize(1..24)).for_each(|_| {
                        text.push(char::from(b"0123456789abcdefABCDEF"[rng.usize(0..22)]))
                    }),
                    2 => {
                        let from = rng.usize(0..16);
                        let to = rng.usize(from + 1..=32);
                        text.push_str(&secret[from..to]);
                    }
                    _ => text.push_str(if rng.bool() { "vc_" } else { KEY }),
                }
            }
            let mut bytes = text.as_bytes().to_vec();
            let expected = reference(&bytes, &key);
            assert_eq!(
                scrub(&mut bytes, &key),
                expected != text.as_bytes(),
                "{text}"
            );
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
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
