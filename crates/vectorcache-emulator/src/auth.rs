//! API key authentication: `Authorization: Bearer vc_…` mapped to a project.

use std::collections::HashMap;

use hyper::header::HeaderValue;

use crate::config::{is_valid_key_format, redact_key, EmulatorConfig};

/// Why a request was refused (both are 401s with different `detail`s, as documented).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No header, not a Bearer header, or a token that is not of the key format.
    MissingOrMalformed,
    /// A well-formed key that is unknown or revoked.
    UnknownOrRevoked,
}

impl AuthError {
    /// The documented `detail` text.
    pub fn detail(self) -> &'static str {
        match self {
            AuthError::MissingOrMalformed => "Invalid or missing API key",
            AuthError::UnknownOrRevoked => "Invalid API key",
        }
    }
}

/// An authenticated caller. Its `Debug` output shows only the key's prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct Caller {
    /// The API key (a secret: never log it, use [`Caller::key_prefix`]).
    pub key: String,
    /// The project the key belongs to.
    pub project: String,
}

impl Caller {
    /// A printable prefix of the key, such as `vc_1234…`.
    pub fn key_prefix(&self) -> String {
        redact_key(&self.key)
    }
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("key", &self.key_prefix())
            .field("project", &self.project)
            .finish()
    }
}

#[derive(Clone)]
struct KeyInfo {
    project: String,
    revoked: bool,
}

/// All configured keys. Deliberately not `Debug`: it would print them.
#[derive(Clone, Default)]
pub struct KeyRegistry {
    keys: HashMap<String, KeyInfo>,
}

impl KeyRegistry {
    /// Indexes the keys of a (validated) configuration.
    pub fn new(config: &EmulatorConfig) -> Self {
        let keys = config
            .projects
            .iter()
            .flat_map(|project| {
                project.keys.iter().map(|k| {
                    (
                        k.key.clone(),
                        KeyInfo {
                            project: project.id.clone(),
                            revoked: k.revoked,
                        },
                    )
                })
            })
            .collect();
        KeyRegistry { keys }
    }

    /// Checks an `Authorization` header.
    pub fn authenticate(&self, header: Option<&HeaderValue>) -> Result<Caller, AuthError> {
        let token = header
            .and_then(|h| h.to_str().ok())
            .and_then(bearer_token)
            .filter(|t| is_valid_key_format(t))
            .ok_or(AuthError::MissingOrMalformed)?;
        match self.keys.get(token) {
            Some(info) if !info.revoked => Ok(Caller {
                key: token.to_owned(),
                project: info.project.clone(),
            }),
            _ => Err(AuthError::UnknownOrRevoked),
        }
    }
}

/// The token of a `Bearer` header (the scheme is case-insensitive, as in RFC 7235).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A loggable form of an `Authorization` header value: `Bearer vc_1234…`.
pub fn redact_authorization(value: &[u8]) -> String {
    match std::str::from_utf8(value).ok().and_then(bearer_token) {
        Some(token) => format!("Bearer {}", redact_key(token)),
        None => "[redacted]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "vc_0123456789abcdef0123456789abcdef";

    fn auth(registry: &KeyRegistry, header: &str) -> Result<Caller, AuthError> {
        let value = HeaderValue::from_str(header).expect("header");
        registry.authenticate(Some(&value))
    }

    #[test]
    fn cases() {
        let mut config = EmulatorConfig::with_key(KEY);
        config.projects[0].keys.push(crate::config::KeyConfig {
            key: "vc_ffffffffffffffffffffffffffffffff".into(),
            revoked: true,
        });
        let registry = KeyRegistry::new(&config);
        assert_eq!(
            registry.authenticate(None),
            Err(AuthError::MissingOrMalformed)
        );
        assert_eq!(auth(&registry, KEY), Err(AuthError::MissingOrMalformed));
        assert_eq!(
            auth(&registry, "Basic abc"),
            Err(AuthError::MissingOrMalformed)
        );
        assert_eq!(
            auth(&registry, "Bearer vc_123"),
            Err(AuthError::MissingOrMalformed)
        );
        assert_eq!(
            auth(&registry, "Bearer vc_00000000000000000000000000000000"),
            Err(AuthError::UnknownOrRevoked)
        );
        assert_eq!(
            auth(&registry, "Bearer vc_ffffffffffffffffffffffffffffffff"),
            Err(AuthError::UnknownOrRevoked)
        );
        let caller = auth(&registry, &format!("Bearer {KEY}")).expect("valid");
        assert_eq!(caller.project, "proj_default");
        assert_eq!(caller.key_prefix(), "vc_0123…");
        assert_eq!(
            redact_authorization(format!("Bearer {KEY}").as_bytes()),
            "Bearer vc_0123…"
        );
        assert_eq!(redact_authorization(b"Basic c2VjcmV0"), "[redacted]");
    }
}
