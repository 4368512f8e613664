//! Client configuration: the builder, its defaults, and what it checks before a client exists.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT,
};
use reqwest::Url;

use crate::api_key::{ApiKey, API_KEY_ENV};
use crate::client::Client;
use crate::error::Error;
use crate::events::EventHook;
use crate::retry::RetryPolicy;
use crate::transport::{HttpSettings, PoolKey, DEFAULT_MAX_CONNECTIONS, DEFAULT_POOL_IDLE_TIMEOUT};
use tokio::sync::Semaphore;

/// The environment variable that overrides the base URL.
pub const BASE_URL_ENV: &str = "VECTORCACHE_BASE_URL";
/// The documented production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.vectorcache.ai";
/// Per-attempt timeout, as in the documented clients.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The most retries a client or a request may ask for: more is a mistake, not a policy.
pub(crate) const MAX_RETRIES_LIMIT: u32 = 100;
/// The most connections a client may be allowed to open.
pub(crate) const MAX_CONNECTIONS_LIMIT: usize = 100_000;
// Each connection is a permit of the pool's semaphore.
const _: () = assert!(MAX_CONNECTIONS_LIMIT <= Semaphore::MAX_PERMITS);

/// Why a retry count is refused; `shown` is the value as the caller wrote it.
pub(crate) fn retries_problem(what: &str, shown: &dyn std::fmt::Display) -> String {
    format!("`{what}` must be a whole number from 0 to {MAX_RETRIES_LIMIT}, got {shown}")
}

/// Why a connection count is refused; `shown` is the value as the caller wrote it.
pub(crate) fn connections_problem(what: &str, shown: &dyn std::fmt::Display) -> String {
    format!("`{what}` must be a whole number from 1 to {MAX_CONNECTIONS_LIMIT}, got {shown}")
}

/// Why a batch's `concurrency` is refused; `shown` is the value as the caller wrote it. (No
/// upper bound: a batch never runs more at once than it has requests, nor opens more
/// connections than the client's bound.)
pub(crate) fn concurrency_problem(shown: &dyn std::fmt::Display) -> String {
    format!("`concurrency` must be a whole number of at least 1, got {shown}")
}
/// The longest server-requested wait the client will sit through before retrying.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// The `User-Agent` product token of this crate.
pub(crate) const USER_AGENT_BASE: &str = concat!("vectorcache-rust/", env!("CARGO_PKG_VERSION"));

/// Every client setting as plain data: each field left `None` (or empty) takes its default.
///
/// This is what the Python and Node packages and the CLI fill in, one field per option, so
/// an option is added in one place per language; Rust code usually prefers the
/// [`ClientBuilder`] setters, which write these same fields.
///
/// ```
/// use std::time::Duration;
/// use vectorcache::{ClientBuilder, ClientOptions};
///
/// # std::env::set_var("VECTORCACHE_API_KEY", format!("vc_{}", "5e".repeat(16)));
/// let mut options = ClientOptions::default();
/// options.api_key = std::env::var("VECTORCACHE_API_KEY").ok(); // never a key in the code
/// options.base_url = Some("http://127.0.0.1:8787".into());
/// options.timeout = Some(Duration::from_secs(5));
/// let client = ClientBuilder::from(options).build()?;
/// assert_eq!(client.timeout(), Duration::from_secs(5));
/// assert_eq!(client.max_retries(), vectorcache::DEFAULT_MAX_RETRIES);
/// # Ok::<(), vectorcache::Error>(())
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The API key (`vc_` + 32 hex). Default: `VECTORCACHE_API_KEY`.
    pub api_key: Option<String>,
    /// The service's base URL. Default: `VECTORCACHE_BASE_URL`, else [`DEFAULT_BASE_URL`].
    pub base_url: Option<String>,
    /// Timeout of one attempt, connection to last byte. Default: [`DEFAULT_TIMEOUT`].
    pub timeout: Option<Duration>,
    /// Timeout for establishing a connection. Default: [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Option<Duration>,
    /// Retries after the first attempt. Default: [`DEFAULT_MAX_RETRIES`].
    pub max_retries: Option<u32>,
    /// First backoff between attempts when the server gives no hint. Default: 0.5 s.
    pub initial_backoff: Option<Duration>,
    /// Cap of the doubling backoff. Default: 8 s.
    pub max_backoff: Option<Duration>,
    /// The longest server-requested wait honoured. Default: [`DEFAULT_MAX_RETRY_WAIT`].
    pub max_retry_wait: Option<Duration>,
    /// The project every request targets unless it names its own. Default: the key's.
    pub project_id: Option<String>,
    /// Headers sent with every request (`Authorization` cannot be set this way).
    pub default_headers: Vec<(String, String)>,
    /// Appended to the `User-Agent` (`vectorcache-rust/<version> <suffix>`).
    pub user_agent_suffix: Option<String>,
    /// Connections open at once, at most; queries beyond wait their turn. Default:
    /// [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: Option<usize>,
    /// How long an idle keep-alive connection is kept. Default: [`DEFAULT_POOL_IDLE_TIMEOUT`].
    pub pool_idle_timeout: Option<Duration>,
    /// Bounds every call as a whole (waiting for a connection, attempts, waits). Default: none.
    pub total_timeout: Option<Duration>,
    /// CA certificates (PEM, one or more each) trusted beside the system's trust store and
    /// the bundled roots: a TLS-inspecting proxy's CA, a private gateway's.
    pub root_certificates: Vec<Vec<u8>>,
    /// A PEM file of CA certificates to trust as well (read when the client is built).
    pub ca_bundle: Option<PathBuf>,
    /// The proxy for every request (`http://[user:password@]host:port`), instead of the
    /// `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` environment. Its credentials are never shown.
    pub proxy: Option<String>,
    /// How an untrusted-certificate error tells the user to trust a CA; the Python and Node
    /// packages name their own option and variable here.
    pub trust_advice: Option<String>,
    /// Called with every answer and retry of every call (beside the `tracing` events); a
    /// request may have a hook of its own too
    /// ([`QueryRequest::on_event`](crate::QueryRequest::on_event)).
    pub on_event: Option<EventHook>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key may not be validated yet, so show only whether one is set.
        f.debug_struct("ClientOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url.as_deref().map(shown_base_url))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("project_id", &self.project_id)
            .field(
                "default_headers",
                &self
                    .default_headers
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("max_connections", &self.max_connections)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("root_certificates", &self.root_certificates.len())
            .field("ca_bundle", &self.ca_bundle)
            .field("proxy", &self.proxy.as_deref().map(redact_userinfo))
            .field("on_event", &self.on_event.is_some())
            .finish_non_exhaustive()
    }
}

/// A base URL as `Debug` shows it: hidden whole when it holds a run of 16 or more hexadecimal
/// digits, which may be (part of) a key (the builder refuses one holding its own key, but a
/// `Debug` of the options may come first).
fn shown_base_url(url: &str) -> &str {
    let longest_hex_run = url
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if longest_hex_run >= 16 {
        "<hidden: it holds what may be an API key>"
    } else {
        url
    }
}

/// Builds a [`Client`]. Every setting has a default; explicit values beat the environment
/// (`VECTORCACHE_API_KEY`, `VECTORCACHE_BASE_URL`), which beats the built-in defaults.
/// Problems are reported by [`build`](Self::build), never by the setters. The setters write
/// the fields of [`ClientOptions`]; `ClientBuilder::from(options)` starts from a filled one.
///
/// One call takes at most `(max_retries + 1) × timeout` plus the waits between attempts, each
/// at most `max_retry_wait`, so the total time of a call is bounded.
///
/// ```
/// use std::time::Duration;
///
/// # std::env::set_var("VECTORCACHE_API_KEY", format!("vc_{}", "5e".repeat(16)));
/// // The key comes from VECTORCACHE_API_KEY (`.api_key(...)` sets another).
/// let client = vectorcache::Client::builder()
///     .base_url("http://127.0.0.1:8787")
///     .timeout(Duration::from_secs(10))
///     .max_retries(3)
///     .project_id("proj_123")
///     .build()?;
/// assert!(!format!("{client:?}").contains(&"5e".repeat(16)));
/// # Ok::<(), vectorcache::Error>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ClientBuilder {
    options: ClientOptions,
    http_client: Option<reqwest::Client>,
    /// See [`ClientBuilder::share_connections`].
    share_connections: bool,
}

impl From<ClientOptions> for ClientBuilder {
    fn from(options: ClientOptions) -> Self {
        Self {
            options,
            http_client: None,
            share_connections: false,
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The API key (`vc_` + 32 hex). Defaults to `VECTORCACHE_API_KEY`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.options.api_key = Some(key.into());
        self
    }

    /// The service's base URL. Defaults to `VECTORCACHE_BASE_URL`, else
    /// `https://api.vectorcache.ai`. Plain `http://` is accepted for loopback hosts only.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.options.base_url = Some(url.into());
        self
    }

    /// Timeout of one attempt, connection to last byte (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Timeout for establishing a connection (default 10 s). Not applied to a client given
    /// with [`http_client`](Self::http_client), which keeps its own.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt (default 2; 0 disables retrying; at most 100).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.options.max_retries = Some(retries);
        self
    }

    /// Backoff between attempts when the server gives no hint: `initial`, doubling each time,
    /// capped at `max`, with jitter (defaults 0.5 s and 8 s).
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.options.initial_backoff = Some(initial);
        self.options.max_backoff = Some(max);
        self
    }

    /// The longest wait a server may ask for (`Retry-After`, `X-RateLimit-Reset`) that the
    /// client sits through; a longer one fails at once with the typed error (default 60 s).
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.options.max_retry_wait = Some(wait);
        self
    }

    /// The project every request targets unless it names its own (default: the key's).
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.options.project_id = Some(project_id.into());
        self
    }

    /// A header sent with every request. `Authorization` cannot be overridden this way.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options
            .default_headers
            .push((name.into(), value.into()));
        self
    }

    /// Appended to the `User-Agent` (`vectorcache-rust/<version> <suffix>`); the Python and
    /// Node packages name themselves here.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.options.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Connections open at once, at most (default 100, from 1 to 100,000); queries beyond
    /// wait their turn, and that wait counts toward the total timeout, not the per-attempt one.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.options.max_connections = Some(max);
        self
    }

    /// How long an idle keep-alive connection is kept for reuse (default 4 s, below common
    /// server keep-alive timeouts).
    pub fn pool_idle_timeout(mut self, idle: Duration) -> Self {
        self.options.pool_idle_timeout = Some(idle);
        self
    }

    /// Bounds every call as a whole: waiting for a connection, every attempt, every backoff
    /// and server-requested wait (default: no bound beyond the per-attempt timeout and the
    /// retries). A call that runs out ends with [`Error::Timeout`].
    pub fn total_timeout(mut self, total: Duration) -> Self {
        self.options.total_timeout = Some(total);
        self
    }

    /// Trusts the CA certificate(s) in `pem` as well as the system's trust store and the
    /// bundled roots (a TLS-inspecting proxy's CA, a private gateway's). The environment's
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` replace the system store, as in OpenSSL.
    pub fn add_root_certificate(mut self, pem: &[u8]) -> Self {
        self.options.root_certificates.push(pem.to_vec());
        self
    }

    /// Trusts the CA certificates of a PEM file as well (read by [`build`](Self::build)).
    pub fn ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.ca_bundle = Some(path.into());
        self
    }

    /// Sends every request through this proxy (`http://[user:password@]host:port`; HTTPS
    /// goes through a `CONNECT` tunnel) instead of the one the environment names
    /// (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, which apply otherwise).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.options.proxy = Some(url.into());
        self
    }

    /// Tells `hook` every answer and retry of every call of the client (and of its clones),
    /// beside the `tracing` events: for metrics or logs of one's own. A request may have a
    /// hook of its own too ([`QueryRequest::on_event`](crate::QueryRequest::on_event)).
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use vectorcache::{Client, Event};
    ///
    /// // The key comes from VECTORCACHE_API_KEY.
    /// let client = Client::builder()
    ///     .on_event(Arc::new(|event: &Event| eprintln!("{event}")))
    ///     .build()?;
    /// # Ok::<(), vectorcache::Error>(())
    /// ```
    pub fn on_event(mut self, hook: EventHook) -> Self {
        self.options.on_event = Some(hook);
        self
    }

    /// Uses a caller-configured `reqwest::Client` (proxies, TLS roots, pool settings). The
    /// timeout set here still applies per request. With a plain `http://` (loopback) base URL,
    /// such a client must not use a proxy: it would see the key in clear text.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Shares the connection pool with every other client of this process built so, with
    /// the same connection settings, as undici's global dispatcher does in Node: a client
    /// made per request then reuses the pool's connections instead of opening (and, in a
    /// garbage-collected language, leaving open) its own. `max_connections` bounds the
    /// shared pool. Shared per tokio runtime (a pool's connections are tasks of the runtime
    /// that opened them): the Python and Node packages' clients all run on one.
    #[cfg(feature = "bindings")]
    #[doc(hidden)]
    pub fn share_connections(mut self) -> Self {
        self.share_connections = true;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let ClientOptions {
            api_key,
            base_url,
            timeout,
            connect_timeout,
            max_retries,
            initial_backoff,
            max_backoff,
            max_retry_wait,
            project_id,
            default_headers,
            user_agent_suffix,
            max_connections,
            pool_idle_timeout,
            total_timeout,
            root_certificates,
            ca_bundle,
            proxy,
            trust_advice,
            on_event,
        } = self.options;
        let key = match api_key {
            Some(key) => key,
            None => env_var(API_KEY_ENV).ok_or(Error::MissingApiKey)?,
        };
        let key = ApiKey::new(key)?;
        let base_url = match base_url {
            Some(url) => url,
            None => env_var(BASE_URL_ENV).unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        };
        // Before it is parsed: a refusal may name the URL's host, and no message may hold the
        // key. A key in the URL would also be in every transport error, log line and `repr`.
        if crate::scrub::holds_leak(base_url.as_bytes(), &crate::scrub::Echoes::of(&key)) {
            return Err(Error::invalid_config(
                "the base URL contains the API key (or part of it): keep the key out of the \
                 URL and pass it as `api_key` (it is sent in the Authorization header)",
            ));
        }
        let base_url = parse_base_url(&base_url)?;
        let query_url = endpoint(&base_url, "v1/cache/query");
        let timeout = timeout.unwrap_or(DEFAULT_TIMEOUT);
        let connect_timeout = connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        check_duration("timeout", timeout)?;
        check_duration("connect_timeout", connect_timeout)?;
        if let Some(total) = total_timeout {
            check_duration("total_timeout", total)?;
        }
        let max_connections = max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
        // The same bounds the bindings check their numbers against.
        if !(1..=MAX_CONNECTIONS_LIMIT).contains(&max_connections) {
            return Err(Error::invalid_config(connections_problem(
                "max_connections",
                &max_connections,
            )));
        }
        if let Some(retries) = max_retries.filter(|r| *r > MAX_RETRIES_LIMIT) {
            return Err(Error::invalid_config(retries_problem(
                "max_retries",
                &retries,
            )));
        }
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            max_retries: max_retries.unwrap_or(defaults.max_retries),
            initial_backoff: initial_backoff.unwrap_or(defaults.initial_backoff),
            max_backoff: max_backoff.unwrap_or(defaults.max_backoff),
            max_wait: max_retry_wait.unwrap_or(defaults.max_wait),
        };
        if let Some(project) = &project_id {
            if project.trim().is_empty() {
                return Err(Error::invalid_config(
                    "`project_id` must not be empty or blank",
                ));
            }
        }
        let headers = request_headers(&default_headers, user_agent_suffix.as_deref())?;
        let plain_http = base_url.scheme() == "http";
        // Without a proxy option, an https client takes the environment's proxy.
        if proxy.is_none() && !plain_http && self.http_client.is_none() {
            check_proxy_environment(base_url.host_str().unwrap_or_default())?;
        }
        let mut http = HttpSettings {
            connect_timeout,
            pool_idle_timeout: pool_idle_timeout.unwrap_or(DEFAULT_POOL_IDLE_TIMEOUT),
            max_connections,
            plain_http,
            root_certificates: crate::trust::given_certificates(&root_certificates)?,
            ca_bundle: ca_bundle.as_deref().map(crate::trust::bundle).transpose()?,
            proxy: proxy
                .as_deref()
                .map(|p| parse_proxy(p, plain_http))
                .transpose()?,
            trust_advice: trust_advice.unwrap_or_else(|| DEFAULT_TRUST_ADVICE.to_owned())
                + &unusable_trust_variables()
                + cas_given_advice(!root_certificates.is_empty() || ca_bundle.is_some()),
            shared: None,
            custom: self.http_client,
        };
        // A caller's own reqwest client is shared already, as the caller arranged.
        if self.share_connections && http.custom.is_none() {
            http.shared = Some(PoolKey::new(&http, root_certificates, proxy));
        }
        Client::from_parts(crate::client::Parts {
            http,
            base_url,
            query_url,
            key,
            headers,
            timeout,
            total_timeout,
            retry,
            project_id,
            on_event,
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("options", &self.options)
            .field("http_client", &self.http_client.is_some())
            .field("share_connections", &self.share_connections)
            .finish()
    }
}

/// How the Rust crate trusts another CA; the bindings say it in their own terms.
const DEFAULT_TRUST_ADVICE: &str =
    "to trust its CA, pass it to ClientBuilder::add_root_certificate or \
     ClientBuilder::ca_bundle, or point SSL_CERT_FILE / SSL_CERT_DIR at it";

/// What the trust advice must add when `SSL_CERT_FILE` or `SSL_CERT_DIR` is set to something
/// that gives no certificate: the trust store skips it without a word, and advice to "point
/// SSL_CERT_FILE at it" would send the user back to what they did. Empty when both are fine.
fn unusable_trust_variables() -> String {
    let file = env_var("SSL_CERT_FILE").and_then(|path| {
        let problem = match std::fs::read(&path) {
            Err(error) => format!("cannot be read ({})", error.kind()),
            Ok(pem) if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") => {
                "holds no PEM certificate".to_owned()
            }
            Ok(_) => return None,
        };
        Some(format!("SSL_CERT_FILE is set, but {path} {problem}"))
    });
    // A list, as OpenSSL takes it: usable when any of its directories is there.
    let dir = env_var("SSL_CERT_DIR")
        .filter(|paths| {
            !paths
                .split(':')
                .any(|path| std::path::Path::new(path).is_dir())
        })
        .map(|paths| format!("SSL_CERT_DIR is set, but {paths} is not a directory"));
    let problems: Vec<String> = file.into_iter().chain(dir).collect();
    if problems.is_empty() {
        return String::new();
    }
    format!(" (note: {})", problems.join("; "))
}

/// What the trust advice adds when CAs were given (an option, or Node's
/// `NODE_EXTRA_CA_CERTS`) and a server's issuer is still unknown: the likeliest cause then is
/// a server (or TLS-inspecting proxy) that sends its certificate without the intermediate one
/// between it and the CA given. (`SSL_CERT_FILE` does not count: many systems set it to
/// their own bundle.)
fn cas_given_advice(given: bool) -> &'static str {
    if given {
        " (if its CA is among those given already, the server may be leaving out an \
         intermediate certificate: it must send its whole chain)"
    } else {
        ""
    }
}

/// The proxy option, checked. Its value is never quoted: it may hold a password.
fn parse_proxy(raw: &str, plain_http: bool) -> Result<reqwest::Proxy, Error> {
    if plain_http {
        return Err(Error::invalid_config(
            "a proxy would see the API key in clear text over a plain http base URL; \
             use an https base URL with a proxy",
        ));
    }
    // `host:port` alone means an http proxy, as in HTTPS_PROXY (and curl).
    let raw = raw.trim();
    let with_scheme;
    let raw = if raw.contains("://") {
        raw
    } else {
        with_scheme = format!("http://{raw}");
        &with_scheme
    };
    let url = Url::parse(raw)
        .map_err(|e| Error::invalid_config(format!("the proxy is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::invalid_config(PROXY_URL_FORM));
    }
    reqwest::Proxy::all(url.as_str())
        .map_err(|_| Error::invalid_config("the proxy URL is not usable"))
}

/// What a proxy URL must be (this client speaks HTTP and HTTPS proxies, not SOCKS).
const PROXY_URL_FORM: &str = "the proxy must be an http:// or https:// URL with a host (SOCKS \
     proxies are not supported)";

/// The first of `names` that is set, even to nothing, as hyper-util's proxy matcher (under
/// reqwest) takes them: a set `HTTPS_PROXY` hides `https_proxy`.
fn first_set(names: [&'static str; 2]) -> Option<(&'static str, String)> {
    names
        .into_iter()
        .find_map(|name| std::env::var(name).ok().map(|value| (name, value)))
}

/// Refuses a proxy from the environment that the HTTP stack would skip, when skipping it means
/// no proxy at all for `host`: hyper-util's matcher ignores a value it cannot parse (a
/// trailing space from a `.env` file, `htp://`) and connects directly, which behind a firewall
/// fails as "connection refused" without a word of the proxy, and elsewhere quietly bypasses
/// a required proxy; a SOCKS URL it takes, and reqwest (without SOCKS here) fails to use.
/// The matcher's own rules decide what applies: `HTTPS_PROXY` (or `https_proxy`), else
/// `ALL_PROXY` (or `all_proxy`), unless `NO_PROXY` covers the host, and none under CGI. The
/// value is never shown: it may hold a password.
fn check_proxy_environment(host: &str) -> Result<(), Error> {
    if std::env::var_os("REQUEST_METHOD").is_some() {
        return Ok(());
    }
    let candidates = [
        first_set(["HTTPS_PROXY", "https_proxy"]),
        first_set(["ALL_PROXY", "all_proxy"]),
    ];
    let set: Vec<(&str, String)> = candidates
        .into_iter()
        .flatten()
        .filter(|(_, value)| !value.is_empty())
        .collect();
    // The first usable one is used (the matcher falls back from HTTPS_PROXY to ALL_PROXY);
    // the first unusable one is the one to name.
    let mut unusable = None;
    for (name, value) in &set {
        match env_proxy_problem(value) {
            None => return Ok(()),
            Some(ProxyProblem::Skipped(problem)) => {
                unusable.get_or_insert((*name, problem));
            }
            // The matcher takes it, so it goes no further; only this client cannot use it.
            Some(ProxyProblem::Unsupported(problem)) => {
                unusable.get_or_insert((*name, problem));
                break;
            }
        }
    }
    let Some((name, problem)) = unusable else {
        return Ok(());
    };
    let bypassed = first_set(["NO_PROXY", "no_proxy"])
        .is_some_and(|(_, no_proxy)| no_proxy_covers(&no_proxy, host));
    if bypassed {
        return Ok(());
    }
    Err(Error::invalid_config(format!(
        "the {name} environment variable is not a usable proxy ({problem}): fix or unset it, \
         or give the proxy option"
    )))
}

/// Whether `NO_PROXY` exempts `host` from the proxy, in its common forms: `*`, a host name,
/// a `.domain` suffix (or a bare domain, which covers its subdomains too), an IP address.
/// CIDR ranges are not evaluated here: such a host counts as not covered (an unusable proxy
/// variable is then refused, where the stack might not have used it).
fn no_proxy_covers(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            let domain = entry.trim_start_matches('.');
            let subdomain = host
                .len()
                .checked_sub(domain.len() + 1)
                .and_then(|dot| host.get(dot..))
                .and_then(|tail| tail.strip_prefix('.'))
                .is_some_and(|tail| tail.eq_ignore_ascii_case(domain));
            entry == "*" || host.eq_ignore_ascii_case(domain) || subdomain
        })
}

/// Why a proxy variable's value cannot serve this client.
enum ProxyProblem {
    /// The HTTP stack skips it, as if it were not set.
    Skipped(&'static str),
    /// The HTTP stack takes it, and then cannot connect through it.
    Unsupported(&'static str),
}

/// What is wrong with `value` as a proxy from the environment, if anything.
fn env_proxy_problem(value: &str) -> Option<ProxyProblem> {
    if value.trim() != value {
        return Some(ProxyProblem::Skipped("it has spaces around the URL"));
    }
    let Ok(uri) = value.parse::<http::Uri>() else {
        return Some(ProxyProblem::Skipped("it is not a valid URL"));
    };
    if uri.host().is_none_or(str::is_empty) {
        return Some(ProxyProblem::Skipped("it names no host"));
    }
    match uri.scheme_str() {
        None | Some("http" | "https") => None,
        Some("socks4" | "socks4a" | "socks5" | "socks5h") => Some(ProxyProblem::Unsupported(
            "only http:// and https:// proxies are supported",
        )),
        Some(_) => Some(ProxyProblem::Skipped(
            "only http:// and https:// proxies are supported",
        )),
    }
}

/// A URL with any `user:password@` removed, for display.
pub(crate) fn redact_userinfo(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            format!("{url} (credentials hidden)")
        }
        Ok(url) => url.to_string(),
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// An environment variable, treating empty as unset.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn check_duration(what: &str, d: Duration) -> Result<(), Error> {
    if d.is_zero() {
        return Err(Error::invalid_config(format!(
            "`{what}` must be greater than zero"
        )));
    }
    Ok(())
}

/// Parses and vets the base URL: https anywhere, plain http only on loopback, no credentials.
pub(crate) fn parse_base_url(raw: &str) -> Result<Url, Error> {
    // The raw value is never quoted: a key passed where the URL belongs would be printed.
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid_config(format!("the base URL is not a valid URL ({e})")))?;
    let host = url
        .host_str()
        .ok_or_else(|| Error::invalid_config("the base URL has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(Error::invalid_config(format!(
                "refusing to send the API key over plain http to {host}: use https:// \
                 (http:// is allowed only for localhost, 127.0.0.0/8 and [::1])"
            )))
        }
        other => {
            return Err(Error::invalid_config(format!(
                "base URL scheme must be https (or http for localhost), got {other}://"
            )))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_config(
            "base URL must not contain credentials; the API key is sent in the Authorization header",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_config(
            "base URL must not have a query or fragment",
        ));
    }
    Ok(url)
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `base` + `path`, keeping any path prefix of the base (a gateway mount) and tolerating a
/// base that already ends in `/v1`, as OpenAI-style base URLs do.
fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    let prefix = prefix.strip_suffix("/v1").unwrap_or(prefix);
    url.set_path(&format!("{prefix}/{path}"));
    url
}

/// Headers that frame the message or steer the connection: the client sets them (or must
/// not send them). Given by a caller they stall a call (a `Content-Length` longer than the
/// body waits out every attempt's timeout), cut the body short, or mislabel it.
const CLIENT_OWNED_HEADERS: [&str; 10] = [
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// A caller's header, checked: a valid name and value, never `Authorization` (the key's),
/// none of the [`CLIENT_OWNED_HEADERS`], and a `Content-Type` only of JSON.
pub(crate) fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))?;
    if header == AUTHORIZATION {
        return Err(
            "the Authorization header is set from the API key and cannot be given as a header"
                .to_owned(),
        );
    }
    if CLIENT_OWNED_HEADERS.contains(&header.as_str()) {
        return Err(format!(
            "the {name} header is set by the client (it frames the request or steers the \
             connection) and cannot be given as a header"
        ));
    }
    // The body is JSON: a Content-Type may restate that (a `Headers` made for fetch often
    // does), not say otherwise.
    let essence = value.split(';').next().unwrap_or_default().trim();
    if header == CONTENT_TYPE && !essence.eq_ignore_ascii_case("application/json") {
        return Err(
            "the request body is JSON: a Content-Type header must be application/json".to_owned(),
        );
    }
    let value = HeaderValue::from_str(value).map_err(|_| {
        format!("the value of header {name:?} contains characters not allowed in a header")
    })?;
    Ok((header, value))
}

/// The fixed headers of every request: JSON in and out, the user agent, the caller's extras.
fn request_headers(
    extra: &[(String, String)],
    ua_suffix: Option<&str>,
) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let ua = match ua_suffix.map(str::trim).filter(|s| !s.is_empty()) {
        Some(suffix) => format!("{USER_AGENT_BASE} {suffix}"),
        None => USER_AGENT_BASE.to_owned(),
    };
    let ua = HeaderValue::from_str(&ua).map_err(|_| {
        Error::invalid_config("user agent suffix contains characters not allowed in a header")
    })?;
    headers.insert(USER_AGENT, ua);
    for (name, value) in extra {
        let (name, value) = header(name, value).map_err(Error::invalid_config)?;
        headers.insert(name, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for ok in [
            "https://api.vectorcache.ai",
            "https://gateway.example.com/vectorcache/",
            "http://localhost:8787",
            "http://LOCALHOST",
            "http://127.0.0.1:1",
            "http://127.5.6.7",
            "http://[::1]:8080",
        ] {
            parse_base_url(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "http://api.vectorcache.ai",
            "http://10.0.0.1",
            "http://localhost.evil.com",
            "http://[::2]",
            "ftp://127.0.0.1",
            "not a url",
            "https://user:pw@api.vectorcache.ai",
            "https://user@api.vectorcache.ai",
            "https://:pw@api.vectorcache.ai",
            "https://api.vectorcache.ai/?x=1",
            "https://api.vectorcache.ai/#top",
        ] {
            let err = parse_base_url(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{bad}");
        }
        let err = parse_base_url("http://api.vectorcache.ai")
            .unwrap_err()
            .to_string();
        assert!(err.contains("use https://"), "{err}");
    }

    #[test]
    fn endpoint_keeps_prefixes() {
        let e = |b: &str| endpoint(&parse_base_url(b).unwrap(), "v1/cache/query").to_string();
        assert_eq!(
            e("https://api.vectorcache.ai"),
            "https://api.vectorcache.ai/v1/cache/query"
        );
        assert_eq!(
            e("https://api.vectorcache.ai/"),
            "https://api.vectorcache.ai/v1/cache/query"
        );
        assert_eq!(
            e("https://api.vectorcache.ai/v1/"),
            "https://api.vectorcache.ai/v1/cache/query"
        );
        assert_eq!(
            e("https://gw.example/vc"),
            "https://gw.example/vc/v1/cache/query"
        );
    }

    #[test]
    fn default_headers_cannot_replace_authorization() {
        let err =
            request_headers(&[("Authorization".into(), "Bearer x".into())], None).unwrap_err();
        assert!(err.to_string().contains("Authorization"));
        assert!(request_headers(&[("bad name".into(), "v".into())], None).is_err());
        assert!(request_headers(&[("x-ok".into(), "a\nb".into())], None).is_err());
        let h = request_headers(&[], Some("vectorcache-python/0.1.0")).unwrap();
        assert_eq!(
            h[USER_AGENT],
            format!("{USER_AGENT_BASE} vectorcache-python/0.1.0").as_str()
        );
    }
}
