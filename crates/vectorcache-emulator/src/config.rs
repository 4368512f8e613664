//! Emulator configuration: projects, their API keys, rate limiting, body size limit, cache
//! size.
//!
//! A TOML file looks like this:
//!
//! ```toml
//! max_body_bytes = 1048576          # optional, default 1 MiB
//! max_cache_entries = 100000        # optional; beyond it the oldest entry is forgotten
//!
//! [rate_limit]                      # optional; default 100000 per minute, burst 100000
//! per_minute = 100                  # X-RateLimit-Limit
//! burst = 120                       # optional, default per_minute
//! # enabled = false                 # no rate limiting and no X-RateLimit-* headers
//!
//! [[projects]]
//! id = "proj_a"
//! # Each key from an environment variable; `key = "vc_…"` also works, with the secret in the file.
//! keys = [
//!   { key_env = "VECTORCACHE_API_KEY" },
//!   { key_env = "VECTORCACHE_REVOKED_KEY", revoked = true },
//! ]
//! ```

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::errors::EmulatorError;

/// The default maximum request body size: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default bound of the cache: 100,000 entries (about 200 MB).
pub const DEFAULT_MAX_CACHE_ENTRIES: usize = crate::store::DEFAULT_MAX_ENTRIES;

/// The environment variable [`EmulatorConfig::from_env_or_generated`] reads.
pub const API_KEY_ENV: &str = "VECTORCACHE_API_KEY";

/// The project id used by [`EmulatorConfig::with_key`].
pub const DEFAULT_PROJECT_ID: &str = "proj_default";

/// The whole emulator configuration. Start from [`EmulatorConfig::with_key`] or a file and
/// set fields: it is `#[non_exhaustive]`, so a new setting is not a breaking change.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// The projects and their keys; each key belongs to exactly one project.
    pub projects: Vec<ProjectConfig>,
    /// Token-bucket rate limiting per key, [`RateLimitConfig::GENEROUS`] by default (the
    /// service limits every key, so every authenticated answer carries `X-RateLimit-*`);
    /// `None` switches it off.
    #[serde(
        default = "default_rate_limit",
        deserialize_with = "rate_limit_section"
    )]
    pub rate_limit: Option<RateLimitConfig>,
    /// Requests with a larger body are answered 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// The most entries the cache holds; beyond it the oldest is forgotten first
    /// ([`DEFAULT_MAX_CACHE_ENTRIES`] by default).
    #[serde(default = "default_max_cache_entries")]
    pub max_cache_entries: usize,
}

/// One project.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// The project id clients may send as `project_id`.
    pub id: String,
    /// The project's API keys.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
}

/// One API key. Its `Debug` output shows only the key's prefix. In a file, the key is given
/// as `key = "vc_…"` or, to keep the secret out of the file, as `key_env = "NAME"`: the
/// environment variable it is read from when the file is parsed.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(try_from = "KeyInFile")]
pub struct KeyConfig {
    /// The key itself: `vc_` followed by 32 hexadecimal characters.
    pub key: String,
    /// A revoked key is answered 401 `Invalid API key`.
    pub revoked: bool,
}

/// A key as a configuration file writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyInFile {
    key: Option<String>,
    key_env: Option<String>,
    #[serde(default)]
    revoked: bool,
}

impl TryFrom<KeyInFile> for KeyConfig {
    type Error = String;

    fn try_from(entry: KeyInFile) -> Result<Self, String> {
        let key = match (entry.key, entry.key_env) {
            (Some(key), None) => key,
            (None, Some(name)) => match std::env::var(&name) {
                Ok(value) => value.trim().to_owned(),
                Err(_) => return Err(format!("key_env names {name}, which is not set")),
            },
            (None, None) => return Err("a key needs `key` or `key_env`".into()),
            (Some(_), Some(_)) => return Err("a key takes `key` or `key_env`, not both".into()),
        };
        Ok(Self {
            key,
            revoked: entry.revoked,
        })
    }
}

impl fmt::Debug for KeyConfig {
    // Keys are secrets: never let `{:?}` print one in full.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyConfig")
            .field("key", &redact_key(&self.key))
            .field("revoked", &self.revoked)
            .finish()
    }
}

/// Rate limiting: a token bucket per key holding `burst` tokens, refilled at `per_minute`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per minute (also sent as `X-RateLimit-Limit`).
    pub per_minute: u32,
    /// Bucket capacity: how many requests may be sent at once.
    pub burst: u32,
}

impl RateLimitConfig {
    /// The default: far above the service's tiers (free 100/min, pro 1,000/min), so tests and
    /// demos never meet a 429 unless they ask for one, yet see the headers the service sends.
    pub const GENEROUS: RateLimitConfig = RateLimitConfig {
        per_minute: 100_000,
        burst: 100_000,
    };

    /// The limits as written in a configuration (TOML, CLI, the bindings' testing emulators):
    /// `per_minute` defaults to the generous one, `burst` to `per_minute`.
    pub fn from_parts(per_minute: Option<u32>, burst: Option<u32>) -> Self {
        let per_minute = per_minute.unwrap_or(Self::GENEROUS.per_minute);
        RateLimitConfig {
            per_minute,
            burst: burst.unwrap_or(per_minute),
        }
    }
}

fn default_max_body_bytes() -> usize {
    DEFAULT_MAX_BODY_BYTES
}

fn default_max_cache_entries() -> usize {
    DEFAULT_MAX_CACHE_ENTRIES
}

fn default_rate_limit() -> Option<RateLimitConfig> {
    Some(RateLimitConfig::GENEROUS)
}

/// The `[rate_limit]` table as written: every field optional, `enabled = false` to switch off.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitSection {
    enabled: Option<bool>,
    per_minute: Option<u32>,
    burst: Option<u32>,
}

fn rate_limit_section<'de, D>(deserializer: D) -> Result<Option<RateLimitConfig>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let section = RateLimitSection::deserialize(deserializer)?;
    match section {
        RateLimitSection {
            enabled: Some(false),
            per_minute: None,
            burst: None,
        } => Ok(None),
        RateLimitSection {
            enabled: Some(false),
            ..
        } => Err(serde::de::Error::custom(
            "rate_limit: `enabled = false` takes no per_minute or burst",
        )),
        RateLimitSection {
            per_minute, burst, ..
        } => Ok(Some(RateLimitConfig::from_parts(per_minute, burst))),
    }
}

/// Whether `key` has the documented API key format: `vc_` followed by 32 hexadecimal characters.
pub fn is_valid_key_format(key: &str) -> bool {
    key.len() == 35
        && key.starts_with("vc_")
        && key.as_bytes()[3..].iter().all(u8::is_ascii_hexdigit)
}

/// A printable form of a key or token: the `vc_` prefix and 4 more characters, then `…`.
/// Anything that does not look like a key is fully hidden.
pub fn redact_key(key: &str) -> String {
    match key.get(..7) {
        Some(prefix) if key.starts_with("vc_") && key.len() > 7 => format!("{prefix}…"),
        _ => "[redacted]".to_owned(),
    }
}

/// `text` with every well-formed key in it redacted: TOML type errors quote the offending
/// value, which is a key when one is written where a table was expected.
pub fn redact_keys_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("vc_") {
        out.push_str(&rest[..at]);
        let candidate = rest.get(at..at + 35).filter(|c| is_valid_key_format(c));
        match candidate {
            Some(key) => {
                out.push_str(&redact_key(key));
                rest = &rest[at + 35..];
            }
            None => {
                out.push_str("vc_");
                rest = &rest[at + 3..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Generates a random key of the documented format.
pub fn generate_key() -> String {
    format!("vc_{:032x}", fastrand::u128(..))
}

impl EmulatorConfig {
    /// One project, [`DEFAULT_PROJECT_ID`], with one active key.
    pub fn with_key(key: impl Into<String>) -> Self {
        EmulatorConfig {
            projects: vec![ProjectConfig {
                id: DEFAULT_PROJECT_ID.to_owned(),
                keys: vec![KeyConfig {
                    key: key.into(),
                    revoked: false,
                }],
            }],
            rate_limit: default_rate_limit(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_cache_entries: DEFAULT_MAX_CACHE_ENTRIES,
        }
    }

    /// Reads and validates a TOML configuration file.
    pub fn from_toml_file(path: &Path) -> Result<Self, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::ReadConfig {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and validates a TOML configuration.
    pub fn from_toml_str(text: &str) -> Result<Self, EmulatorError> {
        let config: EmulatorConfig =
            toml::from_str(text).map_err(|e| EmulatorError::Config(redact_keys_in(e.message())))?;
        config.validate()?;
        Ok(config)
    }

    /// Uses `VECTORCACHE_API_KEY` when it is set to a key of the valid format, else a freshly
    /// generated random key. The flag is `true` when the key was generated.
    pub fn from_env_or_generated() -> (Self, bool) {
        match std::env::var(API_KEY_ENV) {
            Ok(key) if is_valid_key_format(key.trim()) => (Self::with_key(key.trim()), false),
            Ok(_) => {
                tracing::warn!(
                    "{API_KEY_ENV} is set but is not of the form vc_ + 32 hex characters; \
                     using a generated key instead"
                );
                (Self::with_key(generate_key()), true)
            }
            Err(_) => (Self::with_key(generate_key()), true),
        }
    }

    /// The first active key of the first project.
    pub fn primary_key(&self) -> Option<&str> {
        self.projects
            .first()?
            .keys
            .iter()
            .find(|k| !k.revoked)
            .map(|k| k.key.as_str())
    }

    /// Checks the rules a configuration must follow; the error names the offending entry.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        let err = |msg: String| Err(EmulatorError::Config(msg));
        if self.projects.is_empty() {
            return err("at least one [[projects]] entry is required".into());
        }
        if self.max_body_bytes == 0 {
            return err("max_body_bytes must be greater than 0".into());
        }
        if self.max_cache_entries == 0 {
            return err("max_cache_entries must be greater than 0".into());
        }
        if let Some(rl) = self.rate_limit {
            if rl.per_minute == 0 {
                return err("rate_limit.per_minute must be at least 1".into());
            }
            if rl.burst == 0 {
                return err("rate_limit.burst must be at least 1".into());
            }
        }
        let mut ids = HashSet::new();
        let mut keys: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for (i, project) in self.projects.iter().enumerate() {
            if project.id.trim().is_empty() {
                return err(format!("projects[{i}].id must not be empty"));
            }
            if !ids.insert(project.id.as_str()) {
                return err(format!("project id {:?} is used twice", project.id));
            }
            for (j, key) in project.keys.iter().enumerate() {
                if !is_valid_key_format(&key.key) {
                    return err(format!(
                        "projects[{i}].keys[{j}] ({}) is not a valid API key: \
                         expected vc_ followed by 32 hexadecimal characters",
                        redact_key(&key.key)
                    ));
                }
                if let Some(other) = keys.insert(&key.key, &project.id) {
                    return err(if other == project.id {
                        format!(
                            "key {} is listed twice in project {:?}",
                            redact_key(&key.key),
                            project.id
                        )
                    } else {
                        format!(
                            "key {} is listed in two projects: {other:?} and {:?}",
                            redact_key(&key.key),
                            project.id
                        )
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "vc_0123456789abcdef0123456789abcdef";
    const K2: &str = "vc_ffffffffffffffffffffffffffffffff";

    #[test]
    fn toml_type_errors_never_quote_a_key() {
        for text in [
            format!("[[projects]]\nid = \"p\"\nkeys = [\"{K1}\"]\n"),
            format!("[[projects]]\nid = \"p\"\nkeys = \"{K1}\"\n"),
            format!(
                "[[projects]]\nid = \"p\"\nkeys = [ {{ key = \"{K2}\", revoked = \"{K1}\" }} ]\n"
            ),
        ] {
            let err = EmulatorConfig::from_toml_str(&text)
                .expect_err("a type error")
                .to_string();
            assert!(!err.contains(&K1[3..]) && !err.contains(&K2[3..]), "{err}");
        }
        assert_eq!(
            redact_keys_in(&format!("a {K1} b vc_xyz")),
            "a vc_0123… b vc_xyz"
        );
    }

    #[test]
    fn parses_the_documented_example() {
        let text = format!(
            r#"
max_body_bytes = 2048
max_cache_entries = 500
[rate_limit]
per_minute = 100
burst = 120
[[projects]]
id = "proj_a"
keys = [ {{ key = "{K1}" }}, {{ key = "{K2}", revoked = true }} ]
"#
        );
        let config = EmulatorConfig::from_toml_str(&text).expect("valid config");
        assert_eq!(config.max_body_bytes, 2048);
        assert_eq!(config.max_cache_entries, 500);
        assert_eq!(
            config.rate_limit,
            Some(RateLimitConfig {
                per_minute: 100,
                burst: 120
            })
        );
        assert_eq!(config.projects[0].id, "proj_a");
        assert!(config.projects[0].keys[1].revoked);
        assert_eq!(config.primary_key(), Some(K1));
    }

    #[test]
    fn defaults_apply() {
        let text = format!("[[projects]]\nid = \"p\"\nkeys = [{{ key = \"{K1}\" }}]\n");
        let config = EmulatorConfig::from_toml_str(&text).expect("valid config");
        assert_eq!(config.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(config.max_cache_entries, DEFAULT_MAX_CACHE_ENTRIES);
        assert_eq!(config.rate_limit, Some(RateLimitConfig::GENEROUS));
        assert_eq!(
            config,
            EmulatorConfig {
                projects: vec![ProjectConfig {
                    id: "p".into(),
                    keys: vec![KeyConfig {
                        key: K1.into(),
                        revoked: false
                    }]
                }],
                ..EmulatorConfig::with_key(K1)
            }
        );
    }

    #[test]
    fn keys_can_come_from_the_environment() {
        // Names of this test's own: the process's environment is shared by the tests.
        std::env::set_var("VC_CONFIG_TEST_ACTIVE", format!(" {K1}\n"));
        std::env::set_var("VC_CONFIG_TEST_REVOKED", K2);
        std::env::set_var("VC_CONFIG_TEST_MALFORMED", "vc_0123456789abcdef0123");
        let config = EmulatorConfig::from_toml_str(
            "[[projects]]\nid = \"a\"\nkeys = [ { key_env = \"VC_CONFIG_TEST_ACTIVE\" }, \
             { key_env = \"VC_CONFIG_TEST_REVOKED\", revoked = true } ]\n",
        )
        .expect("valid config");
        let keys = &config.projects[0].keys;
        assert_eq!((keys[0].key.as_str(), keys[0].revoked), (K1, false));
        assert_eq!((keys[1].key.as_str(), keys[1].revoked), (K2, true));

        let project = |keys: &str| format!("[[projects]]\nid = \"a\"\nkeys = [ {keys} ]\n");
        let unset = error_of(&project("{ key_env = \"VC_CONFIG_TEST_UNSET\" }"));
        assert!(
            unset.contains("key_env names VC_CONFIG_TEST_UNSET, which is not set"),
            "{unset}"
        );
        let both = error_of(&project(&format!(
            "{{ key = \"{K1}\", key_env = \"VC_CONFIG_TEST_ACTIVE\" }}"
        )));
        assert!(both.contains("`key` or `key_env`, not both"), "{both}");
        let neither = error_of(&project("{ revoked = true }"));
        assert!(
            neither.contains("a key needs `key` or `key_env`"),
            "{neither}"
        );
        let malformed = error_of(&project("{ key_env = \"VC_CONFIG_TEST_MALFORMED\" }"));
        assert!(malformed.contains("is not a valid API key"), "{malformed}");
        assert!(!malformed.contains("0123456789abcdef0123"), "{malformed}");
    }

    fn error_of(text: &str) -> String {
        match EmulatorConfig::from_toml_str(text) {
            Ok(_) => panic!("expected an error for {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn rejects_invalid_configs_with_clear_errors() {
        let bad_key = error_of("[[projects]]\nid = \"p\"\nkeys = [{ key = \"vc_123\" }]\n");
        assert!(bad_key.contains("not a valid API key"), "{bad_key}");
        let empty_id = error_of(&format!(
            "[[projects]]\nid = \" \"\nkeys = [{{ key = \"{K1}\" }}]\n"
        ));
        assert!(empty_id.contains("id must not be empty"), "{empty_id}");
        let shared = error_of(&format!(
            "[[projects]]\nid = \"a\"\nkeys = [{{ key = \"{K1}\" }}]\n[[projects]]\nid = \"b\"\nkeys = [{{ key = \"{K1}\" }}]\n"
        ));
        assert!(shared.contains("two projects"), "{shared}");
        assert!(!shared.contains(K1), "errors must not print keys: {shared}");
        let unknown = error_of(&format!(
            "colour = 1\n[[projects]]\nid = \"a\"\nkeys = [{{ key = \"{K1}\" }}]\n"
        ));
        assert!(unknown.contains("colour"), "{unknown}");
        let no_projects = error_of("max_body_bytes = 10\n");
        assert!(no_projects.contains("projects"), "{no_projects}");
        let zero_rate = error_of(&format!(
            "[rate_limit]\nper_minute = 0\nburst = 1\n[[projects]]\nid = \"a\"\nkeys = [{{ key = \"{K1}\" }}]\n"
        ));
        assert!(zero_rate.contains("per_minute"), "{zero_rate}");
        let no_cache = error_of(&format!(
            "max_cache_entries = 0\n[[projects]]\nid = \"a\"\nkeys = [{{ key = \"{K1}\" }}]\n"
        ));
        assert!(no_cache.contains("max_cache_entries"), "{no_cache}");
    }

    #[test]
    fn rate_limit_section_forms() {
        let with = |section: &str| {
            EmulatorConfig::from_toml_str(&format!(
                "{section}\n[[projects]]\nid = \"a\"\nkeys = [{{ key = \"{K1}\" }}]\n"
            ))
            .map(|c| c.rate_limit)
            .map_err(|e| e.to_string())
        };
        let limits = |per_minute, burst| Ok(Some(RateLimitConfig { per_minute, burst }));
        assert_eq!(with("[rate_limit]\nenabled = false"), Ok(None));
        assert_eq!(with("[rate_limit]\nper_minute = 7"), limits(7, 7));
        assert_eq!(
            with("[rate_limit]\nenabled = true\nburst = 3"),
            limits(100_000, 3)
        );
        assert_eq!(with("[rate_limit]"), Ok(Some(RateLimitConfig::GENEROUS)));
        let contradiction = error_of(&format!(
            "[rate_limit]\nenabled = false\nper_minute = 5\n[[projects]]\nid = \"a\"\nkeys = [{{ key = \"{K1}\" }}]\n"
        ));
        assert!(contradiction.contains("enabled = false"), "{contradiction}");
        let typo = error_of(&format!(
            "[rate_limit]\nperminute = 5\n[[projects]]\nid = \"a\"\nkeys = [{{ key = \"{K1}\" }}]\n"
        ));
        assert!(typo.contains("perminute"), "{typo}");
    }

    #[test]
    fn key_helpers() {
        assert!(is_valid_key_format(K1));
        assert!(is_valid_key_format("vc_0123456789ABCDEF0123456789abcdef"));
        assert!(!is_valid_key_format("vc_0123456789abcdef0123456789abcde"));
        assert!(!is_valid_key_format("vc_0123456789abcdef0123456789abcdeg"));
        assert!(!is_valid_key_format("xx_0123456789abcdef0123456789abcdef"));
        assert!(!is_valid_key_format("vc_ééééééééééééééé0123456789abcdef"));
        assert!(is_valid_key_format(&generate_key()));
        assert_eq!(redact_key(K1), "vc_0123…");
        assert_eq!(redact_key("secret"), "[redacted]");
        assert!(!format!("{:?}", EmulatorConfig::with_key(K1)).contains(K1));
    }

    #[test]
    fn env_key_or_generated() {
        // The only test touching this variable, so there is no race with other tests.
        std::env::set_var(API_KEY_ENV, K2);
        let (config, generated) = EmulatorConfig::from_env_or_generated();
        assert_eq!((config.primary_key(), generated), (Some(K2), false));
        std::env::set_var(API_KEY_ENV, "vc_not_a_key");
        let (config, generated) = EmulatorConfig::from_env_or_generated();
        assert!(generated);
        assert!(config.primary_key().is_some_and(is_valid_key_format));
        std::env::remove_var(API_KEY_ENV);
        let (config, generated) = EmulatorConfig::from_env_or_generated();
        assert!(generated);
        assert_ne!(config.primary_key(), Some(K2));
    }

    #[test]
    fn with_key_has_one_default_project() {
        let config = EmulatorConfig::with_key(K1);
        assert_eq!(config.projects.len(), 1);
        assert_eq!(config.projects[0].id, DEFAULT_PROJECT_ID);
        assert_eq!(config.primary_key(), Some(K1));
        assert!(config.validate().is_ok());
    }
}
