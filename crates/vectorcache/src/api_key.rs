//! The API key type: validated on construction, never printed in full.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The environment variable the client reads its key from.
pub const API_KEY_ENV: &str = "VECTORCACHE_API_KEY";

const PREFIX: &str = "vc_";
/// The hexadecimal digits after the prefix.
pub(crate) const SECRET_LEN: usize = 32;
/// How much of the key the redacted form shows: the prefix and four hex digits, like the dashboard.
const SHOWN: usize = PREFIX.len() + 4;

/// A Vectorcache API key: `vc_` followed by 32 hexadecimal characters.
///
/// Construction validates the format, so a key with whitespace, control characters (which
/// would let it smuggle extra HTTP headers), a wrong prefix or a wrong length never reaches
/// the wire. `Debug` and `Display` show only a redacted prefix such as `vc_1234…`.
///
/// ```
/// use vectorcache::ApiKey;
///
/// # std::env::set_var("VECTORCACHE_API_KEY", format!("vc_{}", "5e".repeat(16)));
/// let key: ApiKey = ApiKey::new(std::env::var("VECTORCACHE_API_KEY").unwrap_or_default())?;
/// assert_eq!(key.to_string(), "vc_5e5e…");
/// assert_eq!(format!("{key:?}"), "ApiKey(vc_5e5e…)");
/// assert!("sk-not-a-vectorcache-key".parse::<ApiKey>().is_err());
/// # Ok::<(), vectorcache::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(Box<str>);

impl ApiKey {
    /// Validates `key` and wraps it. The error never contains the key.
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        match format_problem(&key) {
            None => Ok(Self(key.into_boxed_str())),
            Some(reason) => Err(Error::InvalidApiKey {
                reason: reason.to_owned(),
            }),
        }
    }

    /// The redacted form shown in logs and errors, e.g. `vc_1234…`.
    pub fn redacted(&self) -> String {
        format!("{}…", &self.0[..SHOWN])
    }

    /// The full secret, for the `Authorization` header only.
    pub(crate) fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The 32 hexadecimal digits after `vc_`, for finding echoes of the key (scrub.rs).
    pub(crate) fn secret_digits(&self) -> &str {
        &self.0[3..]
    }
}

/// Why `key` is not a well-formed API key, in words that never repeat the key itself.
fn format_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("the key is empty");
    }
    // The whole header value pasted as the key (from the docs' curl line, say).
    if key
        .get(..7)
        .is_some_and(|start| start.eq_ignore_ascii_case("bearer "))
    {
        return Some("the key starts with `Bearer `: give the key alone (the client adds it)");
    }
    if key.chars().any(char::is_whitespace) {
        return Some(
            "the key contains whitespace (a stray space or newline, e.g. from a .env file?)",
        );
    }
    if key.chars().any(char::is_control) {
        return Some("the key contains control characters");
    }
    if !key.is_ascii() {
        return Some("the key contains non-ASCII characters");
    }
    let Some(hex) = key.strip_prefix(PREFIX) else {
        return Some("the key does not start with `vc_`");
    };
    match hex.len().cmp(&SECRET_LEN) {
        std::cmp::Ordering::Less => return Some("the key is too short"),
        std::cmp::Ordering::Greater => return Some("the key is too long"),
        std::cmp::Ordering::Equal => {}
    }
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some("the characters after `vc_` are not all hexadecimal");
    }
    None
}

impl FromStr for ApiKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for ApiKey {
    type Error = Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<&str> for ApiKey {
    type Error = Error;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.redacted())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example key of the product's authentication docs (not a real key).
    const GOOD: &str = "vc_1234567890abcdef1234567890abcdef"; // documented example

    #[test]
    fn accepts_the_documented_format() {
        let key = ApiKey::new(GOOD).unwrap();
        assert_eq!(key.expose_secret(), GOOD);
        assert!(ApiKey::new("vc_ABCDEF7890abcdef1234567890ABCDEF").is_ok());
    }

    #[test]
    fn rejects_malformed_keys_without_echoing_them() {
        // Each case is the good key with one thing wrong.
        let last_replaced = |c: &str| format!("{}{c}", &GOOD[..GOOD.len() - 1]);
        let cases = [
            (String::new(), "empty"),
            (last_replaced(" "), "whitespace"),
            (format!(" {GOOD}"), "whitespace"),
            (format!("{GOOD}\r\nX-Evil: 1"), "whitespace"),
            (format!("Bearer {GOOD}"), "starts with `Bearer `"),
            (format!("bearer  {GOOD}"), "starts with `Bearer `"),
            (last_replaced("\u{0}"), "control"),
            (last_replaced("é"), "non-ASCII"),
            (GOOD.replacen("vc_", "sk_", 1), "does not start"),
            (GOOD[..19].to_owned(), "too short"),
            (format!("{GOOD}00"), "too long"),
            (last_replaced("g"), "hexadecimal"),
        ];
        for (input, why) in &cases {
            let input = input.as_str();
            let err = ApiKey::new(input).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(why), "{input:?}: {shown}");
            assert!(shown.contains("vc_` followed by 32 hexadecimal"), "{shown}");
            if input.len() > 8 {
                assert!(
                    !shown.contains(&input[3..]),
                    "error echoes the key: {shown}"
                );
            }
        }
    }

    #[test]
    fn debug_and_display_are_redacted() {
        let key = ApiKey::new(GOOD).unwrap();
        for shown in [format!("{key}"), format!("{key:?}"), format!("{key:#?}")] {
            assert!(!shown.contains(GOOD), "{shown}");
            assert!(shown.contains("vc_1234…"), "{shown}");
        }
    }
}
