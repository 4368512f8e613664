//! Keeps the API key out of everything an answer carries: a server or proxy that echoes the
//! request's `Authorization` (in a body, a `WWW-Authenticate` or a debug header) must not put
//! the key into an error, a log line or a binding's exception.

use std::ops::Range;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::api_key::ApiKey;

/// Consecutive characters of the key's secret part that count as a leak on their own: a cut
/// or partly redacted echo still gives an attacker most of the key.
const LEAK_RUN: usize = 16;
/// The secret's windows of [`LEAK_RUN`] digits (a key's secret is 32 digits long).
const WINDOWS: usize = crate::api_key::SECRET_LEN - LEAK_RUN + 1;
/// What a leaked run is replaced with.
const REDACTED: &[u8] = b"[redacted]";

/// What echoes of one key look like, worked out once per key (a client keeps it beside the
/// key): every answer's headers and body are searched for them, and most answers are short.
pub(crate) struct Echoes {
    /// The secret's 32 hexadecimal digits.
    secret: [u8; crate::api_key::SECRET_LEN],
    /// Each of the secret's windows of [`LEAK_RUN`] digits, folded (see [`folded`]).
    windows: [u128; WINDOWS],
    base64: Base64Spellings,
    /// The whole key's length, `vc_` included.
    key_len: usize,
}

impl Echoes {
    pub fn of(key: &ApiKey) -> Self {
        let mut secret = [0u8; crate::api_key::SECRET_LEN];
        secret.copy_from_slice(key.secret_digits().as_bytes());
        Self {
            windows: std::array::from_fn(|from| folded(&secret[from..][..LEAK_RUN])),
            secret,
            base64: Base64Spellings::of(key),
            key_len: key.expose_secret().len(),
        }
    }

    /// The key's length: how much longer a text grows (at most) when a leak is redacted.
    pub fn key_len(&self) -> usize {
        self.key_len
    }
}

/// Replaces every run of at least [`LEAK_RUN`] consecutive characters of the key's secret
/// (the 32 hexadecimal digits after `vc_`, in any letter case) in `bytes`, the whole key with
/// its prefix included, by `[redacted]`. Returns whether anything was replaced.
pub(crate) fn scrub(bytes: &mut impl Redactable, key: &Echoes) -> bool {
    match without_leaks(bytes.as_ref(), key) {
        Some(clean) => {
            bytes.replace(clean);
            true
        }
        None => false,
    }
}

/// What [`scrub`] works on: bytes, or a text (which redaction keeps a text: it replaces ASCII
/// runs with ASCII).
pub(crate) trait Redactable: AsRef<[u8]> {
    fn replace(&mut self, clean: Vec<u8>);
}

/// The unit tests' texts.
#[cfg(test)]
impl Redactable for Vec<u8> {
    fn replace(&mut self, clean: Vec<u8>) {
        *self = clean;
    }
}

impl Redactable for Bytes {
    fn replace(&mut self, clean: Vec<u8>) {
        *self = clean.into();
    }
}

impl Redactable for String {
    fn replace(&mut self, clean: Vec<u8>) {
        *self = String::from_utf8_lossy(&clean).into_owned();
    }
}

/// Whether `bytes` hold an echo of the key (see [`scrub`]).
pub(crate) fn holds_leak(bytes: &[u8], key: &Echoes) -> bool {
    without_leaks(bytes, key).is_some()
}

/// `bytes` with every leaked run replaced (see [`scrub`]), or `None` when there is none: the
/// common case looks at a fraction of the bytes and allocates nothing.
///
/// Every echo, in every spelling, lies in a run of at least [`LEAK_RUN`] [`ECHO_CHARS`]: only
/// such runs are searched (in an answer, an id or a long word), each on its own. Searching all
/// of every answer cost about 3,000 instructions a query (3.5 % of one, with reqwest's).
fn without_leaks(bytes: &[u8], key: &Echoes) -> Option<Vec<u8>> {
    let mut runs = Vec::new();
    let mut at = 0;
    while let Some(run) = next_run(bytes, at, LEAK_RUN, is_echo_char) {
        at = run.end;
        let text = &bytes[run.clone()];
        // Shorter than a base64 echo and without escapes, a run echoes only in hexadecimal
        // digits: JSON's field names (`similarity_score`), most words and request ids are done
        // with here.
        let found = if text.len() < BASE64_RUN && memchr::memchr3(b'\\', b'%', b'&', text).is_none()
        {
            leaked_runs(text, key)
        } else {
            echoes_in(text, key)
        };
        runs.extend(
            found
                .into_iter()
                .map(|echo| echo.start + run.start..echo.end + run.start),
        );
    }
    if runs.is_empty() {
        return None;
    }
    Some(redacted(bytes, &runs))
}

/// Where `bytes` echo the key, in every spelling, sorted by start (they may overlap).
fn echoes_in(bytes: &[u8], key: &Echoes) -> Vec<Range<usize>> {
    let mut runs = leaked_runs(bytes, key);
    runs.extend(base64_runs(bytes, key));
    // A key spelt with escapes (JSON's `\u0076\u0063`, `%76%63`, `&#118;&#99;`) comes back
    // whole once decoded, in a message or a binding's parsed body: find it in the decoded
    // text too and redact the escapes it came from.
    if let Some(decoded) = Unescaped::of(bytes) {
        runs.extend(
            leaked_runs(&decoded.text, key)
                .into_iter()
                .map(|run| decoded.origin(run)),
        );
    }
    runs.sort_by_key(|run| run.start);
    runs
}

/// The characters an echo of the key is spelt with: base64's, in either alphabet (the
/// hexadecimal digits among them), and those of the escapes [`Unescaped`] decodes.
const ECHO_CHARS: [bool; 256] = {
    let mut table = BASE64_CHARS;
    let escapes = [b'\\', b'%', b'&', b'#', b';'];
    let mut i = 0;
    while i < escapes.len() {
        table[escapes[i] as usize] = true;
        i += 1;
    }
    table
};

fn is_echo_char(byte: &u8) -> bool {
    ECHO_CHARS[usize::from(*byte)]
}

/// Where the key leaks in `bytes`: every run of at least [`LEAK_RUN`] of its secret's
/// characters, with a `vc_` prefix right before it, in order.
fn leaked_runs(bytes: &[u8], key: &Echoes) -> Vec<Range<usize>> {
    let secret = &key.secret[..];
    // Every leak starts with one of the secret's 16-digit windows; compare whole windows.
    let mut runs = Vec::new();
    let mut at = 0;
    // Only LEAK_RUN hex digits in a row can be a leak.
    while let Some(run) = next_run(bytes, at, LEAK_RUN, is_hex) {
        at = run.start;
        while at + LEAK_RUN <= run.end {
            if !key.windows.contains(&folded(&bytes[at..at + LEAK_RUN])) {
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
            runs.push(start..at + len);
            at += len;
        }
        at = run.end;
    }
    runs
}

/// Base64 characters of the key in a row that count as a leak (18 of its bytes).
const BASE64_RUN: usize = 24;
/// The window compared at each probe of a long base64 run: 16 characters, one `u128`.
const BASE64_WINDOW: usize = 16;

/// Where the key leaks base64-encoded (a proxy that echoes `Authorization` that way): runs of
/// at least [`BASE64_RUN`] characters of its encoding, in the standard or the URL-safe
/// alphabet, wherever the key fell in the encoded bytes.
fn base64_runs(bytes: &[u8], key: &Echoes) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let spellings = &key.base64;
    let mut at = 0;
    while let Some(run) = next_run(bytes, at, BASE64_RUN, is_base64) {
        // Any leak of BASE64_RUN characters holds a window starting at one of these probes.
        let mut probe = run.start;
        while probe + BASE64_WINDOW <= run.end {
            match base64_leak_at(bytes, &run, probe, spellings) {
                Some(leak) => {
                    probe = leak.end;
                    runs.push(leak);
                }
                None => probe += BASE64_RUN - BASE64_WINDOW + 1,
            }
        }
        at = run.end;
    }
    runs
}

/// The leak around `probe` in `run`, if the window there is one of the key's spellings' and the
/// characters that match it on both sides make [`BASE64_RUN`] or more.
fn base64_leak_at(
    bytes: &[u8],
    run: &Range<usize>,
    probe: usize,
    spellings: &Base64Spellings,
) -> Option<Range<usize>> {
    let window = u128::from_le_bytes(unified(&bytes[probe..probe + BASE64_WINDOW]));
    let (encoding, offset) = spellings.find(window)?;
    let before = matching(
        bytes[run.start..probe]
            .iter()
            .rev()
            .zip(encoding[..offset].iter().rev()),
    );
    let after = matching(bytes[probe..run.end].iter().zip(&encoding[offset..]));
    (before + after >= BASE64_RUN).then(|| probe - before..probe + after)
}

/// How many pairs in a row hold the same base64 character (either alphabet).
fn matching<'a>(pairs: impl Iterator<Item = (&'a u8, &'a u8)>) -> usize {
    pairs
        .take_while(|(byte, expected)| unified_byte(**byte) == **expected)
        .count()
}

/// A key's length: `vc_` and the secret.
const KEY_LEN: usize = 3 + crate::api_key::SECRET_LEN;
/// The most base64 characters a key and two bytes before it encode to.
const KEY_BASE64_MAX: usize = (KEY_LEN + 2).div_ceil(3) * 4;

/// The key's base64 characters for each of the three places it can start in the encoded
/// bytes: only the characters made of the key's bits alone (the standard alphabet). On the
/// stack.
fn key_in_base64(key: &ApiKey) -> [Base64Key; 3] {
    use base64::Engine as _;
    let key = key.expose_secret().as_bytes();
    std::array::from_fn(|lead| {
        let mut padded = [0u8; KEY_LEN + 2];
        padded[lead..lead + key.len()].copy_from_slice(key);
        let mut encoded = [0u8; KEY_BASE64_MAX];
        let written = base64::engine::general_purpose::STANDARD_NO_PAD
            .encode_slice(&padded[..lead + key.len()], &mut encoded)
            .unwrap_or(0);
        // Character j holds bits 6j..6j+6; the key's are bits 8·lead..8·(lead + len).
        let first = (8 * lead).div_ceil(6).min(written);
        let end = (8 * (lead + key.len()) / 6).clamp(first, written);
        Base64Key {
            encoded,
            chars: first..end,
        }
    })
}

/// The key's base64 spellings and their windows, sorted for a binary search: a 16 MiB answer
/// of letters is one long run, probed millions of times.
struct Base64Spellings {
    keys: [Base64Key; 3],
    /// Each window of [`BASE64_WINDOW`] characters as a number, the spelling it is from and
    /// where in it.
    windows: Vec<(u128, usize, usize)>,
}

impl Base64Spellings {
    fn of(key: &ApiKey) -> Self {
        let keys = key_in_base64(key);
        let mut windows: Vec<(u128, usize, usize)> = keys
            .iter()
            .enumerate()
            .flat_map(|(spelling, key)| {
                key.chars()
                    .windows(BASE64_WINDOW)
                    .enumerate()
                    .map(move |(at, window)| (u128::from_le_bytes(unified(window)), spelling, at))
            })
            .collect();
        windows.sort_unstable();
        Self { keys, windows }
    }

    /// The spelling that holds `window`, and where.
    fn find(&self, window: u128) -> Option<(&[u8], usize)> {
        let found = self
            .windows
            .binary_search_by_key(&window, |(value, _, _)| *value)
            .ok()?;
        let (_, spelling, at) = self.windows[found];
        Some((self.keys[spelling].chars(), at))
    }
}

/// One of [`key_in_base64`]'s spellings: `encoded[chars]`.
struct Base64Key {
    encoded: [u8; KEY_BASE64_MAX],
    chars: Range<usize>,
}

impl Base64Key {
    fn chars(&self) -> &[u8] {
        &self.encoded[self.chars.clone()]
    }
}

/// Which bytes are base64 characters, in either alphabet: a table, as every answer's text is
/// probed for runs of them.
const BASE64_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
        byte += 1;
    }
    table
};

fn is_base64(byte: &u8) -> bool {
    BASE64_CHARS[usize::from(*byte)]
}

/// Which bytes are hexadecimal digits: a table, as `u8::is_ascii_hexdigit`'s three ranges
/// cost more on every byte of every answer.
const HEX_DIGITS: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_hexdigit();
        byte += 1;
    }
    table
};

fn is_hex(byte: &u8) -> bool {
    HEX_DIGITS[usize::from(*byte)]
}

/// The URL-safe alphabet's two characters as the standard one spells them.
fn unified_byte(byte: u8) -> u8 {
    match byte {
        b'-' => b'+',
        b'_' => b'/',
        other => other,
    }
}

fn unified(window: &[u8]) -> [u8; BASE64_WINDOW] {
    std::array::from_fn(|i| unified_byte(window[i]))
}

/// `bytes` with each of `runs` (sorted by start; they may overlap) replaced by [`REDACTED`].
fn redacted(bytes: &[u8], runs: &[Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut copied = 0; // bytes[..copied] are in `out`, or redacted
    for run in runs {
        if run.start >= copied {
            out.extend_from_slice(&bytes[copied..run.start]);
            out.extend_from_slice(REDACTED);
        }
        // A run overlapping the last one widens its redaction.
        copied = copied.max(run.end);
    }
    out.extend_from_slice(&bytes[copied..]);
    out
}

/// A text with its escapes decoded, and where each decoded byte came from.
struct Unescaped {
    text: Vec<u8>,
    /// `from[i]`: where the escape (or byte) that gave `text[i]` starts in the original;
    /// one more entry, the original's length.
    from: Vec<usize>,
}

impl Unescaped {
    /// `bytes` decoded, or `None` when it holds no escape (the common case: no copy).
    fn of(bytes: &[u8]) -> Option<Self> {
        let first = memchr::memchr3_iter(b'\\', b'%', b'&', bytes)
            .find(|&at| escape_at(&bytes[at..]).is_some())?;
        let mut text = bytes[..first].to_vec();
        let mut from: Vec<usize> = (0..first).collect();
        let mut at = first;
        while at < bytes.len() {
            let (byte, len) = escape_at(&bytes[at..]).unwrap_or((bytes[at], 1));
            text.push(byte);
            from.push(at);
            at += len;
        }
        from.push(bytes.len());
        Some(Self { text, from })
    }

    /// The original bytes behind `run` of the decoded text.
    fn origin(&self, run: Range<usize>) -> Range<usize> {
        self.from[run.start]..self.from[run.end]
    }
}

/// The character an escape at the start of `bytes` stands for, and the escape's length:
/// JSON `\u0041`, URL `%41`, HTML `&#65;` and `&#x41;`. A character outside ASCII (no key
/// has one) decodes to `?`.
fn escape_at(bytes: &[u8]) -> Option<(u8, usize)> {
    let (code, len) = match bytes {
        [b'\\', b'u', rest @ ..] => (number(rest.get(..4)?, 16)?, 6),
        [b'%', rest @ ..] => (number(rest.get(..2)?, 16)?, 3),
        [b'&', b'#', b'x' | b'X', rest @ ..] => {
            let digits = reference_digits(rest, 16)?;
            (number(digits, 16)?, 3 + digits.len() + 1)
        }
        [b'&', b'#', rest @ ..] => {
            let digits = reference_digits(rest, 10)?;
            (number(digits, 10)?, 2 + digits.len() + 1)
        }
        _ => return None,
    };
    let byte = u8::try_from(code).ok().filter(u8::is_ascii).unwrap_or(b'?');
    Some((byte, len))
}

/// The digits of an HTML character reference (`65` of `&#65;`): at most 7, then `;`.
fn reference_digits(bytes: &[u8], radix: u32) -> Option<&[u8]> {
    let len = bytes
        .iter()
        .take(7)
        .take_while(|b| char::from(**b).is_digit(radix))
        .count();
    (len > 0 && bytes.get(len) == Some(&b';')).then(|| &bytes[..len])
}

/// `digits` (all of them digits of `radix`, at most 7) as a number.
fn number(digits: &[u8], radix: u32) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, b| {
        char::from(*b).to_digit(radix).map(|d| n * radix + d)
    })
}

/// The first run of at least `min` (16 or more) bytes that are all `part`s (hexadecimal
/// digits, base64 characters) in `bytes[from..]`, its start cut at `from`.
///
/// Any such run holds one of the words of [`WORD`] bytes at `from`, `from + 8`, ... whole
/// (fifteen bytes in a row do), so only those words are looked at, each at once (see
/// [`all_in_part_range`]); a run is measured only around a word that may be in one. Every
/// answer goes through here: most of its words hold a space or a quote.
fn next_run(
    bytes: &[u8],
    from: usize,
    min: usize,
    part: impl Fn(&u8) -> bool + Copy,
) -> Option<Range<usize>> {
    debug_assert!(min >= 2 * WORD);
    let mut at = from;
    while let Some(word) = bytes.get(at..at + WORD) {
        if !all_in_part_range(word) || !word.iter().all(part) {
            at += WORD;
            continue;
        }
        let mut start = at;
        while start > from && part(&bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + WORD;
        while end < bytes.len() && part(&bytes[end]) {
            end += 1;
        }
        if end - start >= min {
            return Some(start..end);
        }
        // A later run starts past the part that ends this one, and holds a word from there whole.
        at = end + 1;
    }
    None
}

/// The bytes [`next_run`] looks at at once.
const WORD: usize = 8;

/// Whether all 8 `bytes` are in `'#'..='z'`, the range that holds every character of a key's
/// spellings (and not the space, the quote, `!` or anything outside ASCII), worked out on the
/// 8 bytes at once: a byte `b` below 0x80 has its top bit set in `b + (0x80 - lo)` exactly
/// when `b >= lo`. A byte that carries into the next one is 0x80 or above, which fails the
/// whole word anyway.
fn all_in_part_range(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const TOPS: u64 = ONES * 0x80;
    let word = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
    let at_least_lo = word.wrapping_add(ONES * (0x80 - u64::from(b'#')));
    let above_hi = word.wrapping_add(ONES * (0x80 - u64::from(b'z') - 1));
    at_least_lo & !above_hi & !word & TOPS == TOPS
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

/// `text` with whatever looks like an API key, anyone's, replaced by `[redacted]`: `vc_` and
/// 16 or more hexadecimal digits, or 16 or more such digits with a letter among them. For
/// messages that quote what a caller passed (a header or option name, a getter's error): the
/// key swapped into a name must not come back in the error, whichever key it is. Plain
/// decimal numbers (`10**30` quoted back) are left as they are.
pub(crate) fn without_key_shapes(text: String) -> String {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut at = 0;
    while let Some(run) = next_run(bytes, at, LEAK_RUN, is_hex) {
        at = run.end;
        let prefixed =
            run.start >= 3 && bytes[run.start - 3..run.start].eq_ignore_ascii_case(b"vc_");
        if prefixed {
            runs.push(run.start - 3..run.end);
        } else if bytes[run.clone()].iter().any(u8::is_ascii_alphabetic) {
            runs.push(run);
        }
    }
    if runs.is_empty() {
        return text;
    }
    // Only ASCII runs were replaced, by ASCII: still UTF-8.
    String::from_utf8_lossy(&redacted(bytes, &runs)).into_owned()
}

/// Scrubs every header value (see [`scrub`]); a value that no longer forms a valid header
/// becomes `[redacted]` whole. A header whose name holds the key (a server that made one of
/// the echo) is kept under the name `redacted`, its value scrubbed too.
pub(crate) fn scrub_headers(headers: &mut HeaderMap, key: &Echoes) {
    let leaky_names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| holds_leak(name.as_str().as_bytes(), key))
        .cloned()
        .collect();
    for name in leaky_names {
        let values: Vec<HeaderValue> = headers.get_all(&name).iter().cloned().collect();
        headers.remove(&name);
        for value in values {
            headers.append(HeaderName::from_static("redacted"), value);
        }
    }
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

    #[test]
    fn key_shapes_of_any_key_are_redacted() {
        let shown = |text: &str| without_key_shapes(text.to_owned());
        assert_eq!(
            shown("\"Bearer vc_0123456789abcdef0123456789abcdef\" is not a valid header name"),
            "\"Bearer [redacted]\" is not a valid header name"
        );
        assert_eq!(
            shown("unknown option `VC_0123456789ABCDEF`"),
            "unknown option `[redacted]`"
        );
        assert_eq!(shown("a 0123456789abcdef0123 b"), "a [redacted] b");
        // Numbers quoted back, short hex and text stay.
        for kept in [
            "got 1000000000000000000000000000000",
            "vc_0123456789abcde",
            "x-trace-id",
            "é ü",
        ] {
            assert_eq!(shown(kept), kept);
        }
    }

    const KEY: &str = "vc_1234567890abcdef1234567890abcdef"; // the docs' published example key

    fn scrubbed(text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        scrub(&mut bytes, &Echoes::of(&ApiKey::new(KEY).unwrap()));
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
        assert!(!scrub(&mut bytes, &Echoes::of(&ApiKey::new(KEY).unwrap())));
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
            assert!(scrub(&mut bytes, &Echoes::of(&key)), "window {from}");
            assert_eq!(bytes, b"x[redacted]y");
        }
    }

    #[test]
    fn a_text_that_is_one_window_alone_goes() {
        // The shortest leak: a header value of exactly LEAK_RUN of the secret's digits.
        let key = ApiKey::new(KEY).unwrap();
        let mut bytes = KEY.as_bytes()[3 + 5..3 + 5 + LEAK_RUN].to_vec();
        assert!(scrub(&mut bytes, &Echoes::of(&key)));
        assert_eq!(bytes, REDACTED);
        let mut shorter = KEY.as_bytes()[3..3 + LEAK_RUN - 1].to_vec();
        assert!(!scrub(&mut shorter, &Echoes::of(&key)));
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
        let echoes = Echoes::of(&key);
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
                scrub(&mut bytes, &echoes),
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
    fn searching_runs_of_echo_characters_finds_what_searching_everywhere_does() {
        use base64::Engine as _;
        let key = ApiKey::new(KEY).unwrap();
        let echoes = Echoes::of(&key);
        let spellings: [fn(&str) -> String; 7] = [
            str::to_owned,
            // One character in eight escaped: shorter than any base64 echo.
            |t| {
                t.bytes()
                    .enumerate()
                    .map(|(i, b)| match i % 8 {
                        3 => format!("%{b:02x}"),
                        _ => char::from(b).to_string(),
                    })
                    .collect()
            },
            |t| escaped(t, |b| format!("\\u{b:04x}")),
            |t| escaped(t, |b| format!("%{b:02X}")),
            |t| escaped(t, |b| format!("&#{b};")),
            |t| base64::engine::general_purpose::STANDARD.encode(t),
            |t| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("x{t}")),
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        let mut echoing = 0;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..rng.usize(0..6) {
                match rng.u8(0..4) {
                    0 => text.push_str(
                        [
                            " ",
                            "\"",
                            ":",
                            ",",
                            "similarity_score",
                            "%",
                            "&",
                            "#;",
                            "ok",
                        ][rng.usize(0..9)],
                    ),
                    1 => {
                        let chars = b"0123456789abcdefXYZ+/-_\\%&#;";
                        (0..rng.usize(1..30))
                            .for_each(|_| text.push(char::from(chars[rng.usize(..chars.len())])))
                    }
                    _ => {
                        let from = rng.usize(0..KEY.len() - 1);
                        let to = rng.usize(from + 1..=KEY.len());
                        text.push_str(&spellings[rng.usize(..spellings.len())](&KEY[from..to]));
                    }
                }
            }
            // The whole text searched at once.
            let everywhere = echoes_in(text.as_bytes(), &echoes);
            echoing += usize::from(!everywhere.is_empty());
            assert_eq!(
                without_leaks(text.as_bytes(), &echoes),
                (!everywhere.is_empty()).then(|| redacted(text.as_bytes(), &everywhere)),
                "{text}"
            );
        }
        assert!(echoing > 2_000, "only {echoing} texts held an echo");
    }

    #[test]
    fn runs_found_a_word_at_a_time_are_those_found_byte_by_byte() {
        // The first maximal run of at least `min` parts in bytes[from..], its start cut there.
        fn byte_by_byte(bytes: &[u8], from: usize, min: usize, part: Part) -> Option<Range<usize>> {
            let mut start = from;
            while start < bytes.len() {
                let len = bytes[start..].iter().take_while(|b| part(b)).count();
                if len >= min {
                    return Some(start..start + len);
                }
                start += len + 1;
            }
            None
        }
        // Parts of each kind, characters in the word test's range that are no part, and
        // characters outside it (a byte from 0x80 up among them).
        let alphabet = b"0123456789abcdefABCDEFxyzXYZ+/-_\\%&#;$.@[`z\" {\x80\xff";
        type Part = fn(&u8) -> bool;
        let kinds: [(usize, Part); 3] = [(16, is_echo_char), (16, is_hex), (24, is_base64)];
        let mut rng = fastrand::Rng::with_seed(13);
        let mut found = 0;
        for _ in 0..20_000 {
            // Mostly long stretches of one character class, so that long runs are common.
            let mut bytes = Vec::new();
            while bytes.len() < 70 {
                let class = &alphabet[..[16, 22, 32, 37, alphabet.len()][rng.usize(..5)]];
                (0..rng.usize(1..30)).for_each(|_| bytes.push(class[rng.usize(..class.len())]));
            }
            bytes.truncate(rng.usize(..=70));
            for from in 0..=bytes.len() {
                for (min, part) in kinds {
                    let expected = byte_by_byte(&bytes, from, min, part);
                    found += usize::from(expected.is_some());
                    assert_eq!(
                        next_run(&bytes, from, min, part),
                        expected,
                        "{bytes:x?} from {from}, min {min}"
                    );
                }
            }
        }
        assert!(found > 100_000, "only {found} runs");
    }

    #[test]
    fn eight_bytes_at_once_agree_with_one_at_a_time() {
        // Every character of every spelling is in the range the word-at-once test checks.
        for byte in 0..=255u8 {
            if is_echo_char(&byte) {
                assert!((b'#'..=b'z').contains(&byte), "{byte:#x}");
            }
        }
        let one_at_a_time = |bytes: &[u8]| bytes.iter().all(|b| (b'#'..=b'z').contains(b));
        let mut rng = fastrand::Rng::with_seed(5);
        // Each byte value at each place among bytes in range, and random words (a byte from
        // 0x80 up carries into the next one).
        let mut words: Vec<[u8; 8]> = (0..=255u8)
            .flat_map(|byte| (0..8).map(move |at| (byte, at)))
            .map(|(byte, at)| {
                let mut word = *b"abcXYZ09";
                word[at] = byte;
                word
            })
            .collect();
        words.extend((0..100_000).map(|_| std::array::from_fn(|_| rng.u8(0x1e..=0x7c))));
        words.extend((0..10_000).map(|_| std::array::from_fn(|_| rng.u8(..))));
        words.push([0xff, b'"', b'a', b'a', b'a', b'a', b'a', b'a']);
        for word in words {
            assert_eq!(all_in_part_range(&word), one_at_a_time(&word), "{word:x?}");
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

    /// `text` with every character in `spell`'s escape.
    fn escaped(text: &str, spell: fn(u8) -> String) -> String {
        text.bytes().map(spell).collect()
    }

    #[test]
    fn keys_spelt_with_escapes_go_whole() {
        let json = |b: u8| format!("\\u{b:04x}");
        let url = |b: u8| format!("%{b:02X}");
        let decimal = |b: u8| format!("&#{b};");
        let hex = |b: u8| format!("&#x{b:x};");
        for spell in [json, url, decimal, hex] {
            let text = format!("Invalid API key: {}.", escaped(KEY, spell));
            assert_eq!(scrubbed(&text), "Invalid API key: [redacted].", "{text}");
        }
        // Half escaped, half plain, in a JSON body that must stay JSON.
        let body = format!(
            r#"{{"detail": "key {}{}"}}"#,
            escaped(&KEY[..10], json),
            &KEY[10..]
        );
        let clean: serde_json::Value = serde_json::from_str(&scrubbed(&body)).unwrap();
        assert_eq!(clean["detail"], "key [redacted]");
        // 16 escaped secret characters are a leak on their own, as plain ones are.
        let piece = escaped(&KEY[3..19], url);
        assert_eq!(scrubbed(&format!("a={piece}&b=1")), "a=[redacted]&b=1");
    }

    #[test]
    fn escapes_that_hide_no_key_stay_as_they_are() {
        for text in [
            r#"{"response": "caf\u00e9 \"quoted\" \\u00"}"#.to_owned(),
            "50% off, 100%, %zz, %4".to_owned(),
            "&#38; &amp; &#x26; &#; &#x; &#12345678;".to_owned(),
            // 15 escaped secret characters are not enough.
            format!(
                "{}-{}",
                escaped(&KEY[3..18], |b| format!("%{b:02x}")),
                &KEY[18..19]
            ),
        ] {
            assert_eq!(scrubbed(&text), text);
        }
    }

    #[test]
    fn keys_echoed_in_base64_go_wherever_they_fall() {
        use base64::Engine as _;
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        // The key at each of the three places a byte can take in base64's groups of three.
        for (engine, lead) in engines
            .iter()
            .flat_map(|e| ["", "x", "Bearer "].map(|l| (e, l)))
        {
            let encoded = engine.encode(format!("{lead}{KEY}"));
            let text = format!("Invalid token {encoded}, try again");
            let clean = scrubbed(&text);
            assert!(clean.starts_with("Invalid token "), "{clean}");
            assert!(
                clean.contains("[redacted]") && clean.ends_with(", try again"),
                "{clean}"
            );
            // Exactly the characters made of the key's bits alone go: the lead's and those
            // that mix its bits or the padding's with the key's stay.
            let left: String = clean["Invalid token ".len()..clean.len() - ", try again".len()]
                .replace("[redacted]", "");
            let bits = 8 * (lead.len() + KEY.len());
            let key_chars = bits / 6 - (8 * lead.len()).div_ceil(6);
            assert_eq!(left.len(), encoded.len() - key_chars, "{lead:?}: {clean}");
        }
        // Part of the key, in the middle of a longer base64 blob, goes too.
        let blob = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}{}{}",
            "z".repeat(30),
            &KEY[5..30],
            "y".repeat(30)
        ));
        assert!(scrubbed(&blob).contains("[redacted]"), "{blob}");
    }

    #[test]
    fn base64_runs_of_24_of_the_keys_characters_go_and_of_23_stay() {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(KEY);
        for (from, len, leak) in [(0, 24, true), (10, 24, true), (3, 23, false)] {
            let piece = &encoded[from..from + len];
            let expected = if leak {
                "a [redacted] b".to_owned()
            } else {
                format!("a {piece} b")
            };
            assert_eq!(scrubbed(&format!("a {piece} b")), expected, "{from}+{len}");
        }
    }

    #[test]
    fn base64_that_holds_no_key_stays() {
        use base64::Engine as _;
        let other = base64::engine::general_purpose::STANDARD
            .encode(format!("vc_{} and more text", "fedcba9876543210".repeat(2)));
        let short = base64::engine::general_purpose::STANDARD.encode(&KEY[..12]);
        for text in [
            other,
            short,
            "A".repeat(500),
            "abcdefghijklmnopqrstuvwxyz0123456789_-+/".repeat(20),
        ] {
            assert_eq!(scrubbed(&text), text);
        }
    }

    #[test]
    fn a_header_named_after_the_key_is_kept_under_another_name() {
        let mut headers = HeaderMap::new();
        let leaky = HeaderName::from_bytes(format!("x-{KEY}").as_bytes()).unwrap();
        headers.append(&leaky, HeaderValue::from_static("1"));
        headers.append(&leaky, HeaderValue::from_static("2"));
        headers.insert("x-ok", HeaderValue::from_static("fine"));
        scrub_headers(&mut headers, &Echoes::of(&ApiKey::new(KEY).unwrap()));
        assert!(!headers.contains_key(&leaky));
        let kept: Vec<_> = headers.get_all("redacted").iter().collect();
        assert_eq!(kept, ["1", "2"]);
        assert_eq!(headers["x-ok"], "fine");
    }

    #[test]
    fn header_values_are_scrubbed() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "www-authenticate",
            HeaderValue::from_str(&format!("Bearer realm=\"api\", token=\"{KEY}\"")).unwrap(),
        );
        headers.insert("x-ok", HeaderValue::from_static("fine"));
        scrub_headers(&mut headers, &Echoes::of(&ApiKey::new(KEY).unwrap()));
        assert_eq!(
            headers["www-authenticate"],
            "Bearer realm=\"api\", token=\"[redacted]\""
        );
        assert_eq!(headers["x-ok"], "fine");
    }
}
