//! The client options JavaScript passes, turned into the core's `ClientBuilder`. The core
//! checks every value; this module only converts units (milliseconds, JS numbers).

use napi::bindgen_prelude::Object;
use napi::ValueType;
use napi_derive::napi;
use vectorcache::bindings::{connections_from_i64, duration_from_millis_f64, retries_from_i64};
use vectorcache::Error;

use crate::convert::Fields;

/// Options of a client. Every one is optional; explicit values beat the environment. (This
/// struct gives the generated types; the values are read into the core's `ClientOptions`.)
#[derive(Default)]
#[napi(object, object_to_js = false)]
pub struct ClientOptions {
    /// The API key (`vc_` + 32 hex characters). Defaults to `VECTORCACHE_API_KEY`.
    pub api_key: Option<String>,
    /// The service URL. Defaults to `VECTORCACHE_BASE_URL`, else `https://api.vectorcache.ai`.
    pub base_url: Option<String>,
    /// Timeout of one attempt, in milliseconds (default 30000).
    pub timeout: Option<f64>,
    /// Retries after the first attempt (default 2; 0 disables retrying).
    pub max_retries: Option<f64>,
    /// The project every request targets unless it names its own.
    pub project_id: Option<String>,
    /// Connections open at once, at most (default 100); queries beyond wait their turn.
    pub max_connections: Option<f64>,
    /// Milliseconds every call may take as a whole: waiting for a connection, every attempt,
    /// every wait between attempts (default: no bound beyond `timeout` and the retries).
    pub total_timeout: Option<f64>,
    /// Milliseconds opening a connection may take (default 10000): behind a firewall that
    /// drops the packets, an attempt fails after this rather than after `timeout`.
    pub connect_timeout: Option<f64>,
    /// CA certificates to trust beside the system's (PEM text or Buffer, or an array of them),
    /// as Node's own `https` options take them. `NODE_EXTRA_CA_CERTS` adds a file too.
    #[napi(ts_type = "string | Buffer | Array<string | Buffer>")]
    pub ca: Option<serde_json::Value>,
    /// The proxy for every request (`http://[user:password@]host:port`), instead of the
    /// `HTTPS_PROXY` environment. Its credentials are never shown.
    pub proxy: Option<String>,
}

impl ClientOptions {
    /// The core's options when JavaScript passed none.
    pub(crate) fn read_none() -> vectorcache::ClientOptions {
        let mut options = vectorcache::ClientOptions::default();
        options.user_agent_suffix = Some(USER_AGENT_SUFFIX.to_owned());
        // Node's own variable for extra CAs; Node reads it for its TLS, the core for ours.
        options.ca_bundle = std::env::var_os(NODE_EXTRA_CA_CERTS)
            .filter(|path| !path.is_empty())
            .map(Into::into);
        options.trust_advice = Some(TRUST_ADVICE.to_owned());
        options
    }

    /// Reads the options object into the core's options, field by field, so a wrong type or
    /// value names the field as JavaScript spells it. Each option is one line here.
    pub(crate) fn read(obj: &Object) -> Result<vectorcache::ClientOptions, Error> {
        let mut options = Self::read_none();
        let fields =
            Fields::read(obj, CLIENT_OPTIONS, "client option").map_err(Error::invalid_config)?;
        options.api_key = fields.text("apiKey").map_err(Error::invalid_config)?;
        // `baseURL` is how one documentation guide (and the OpenAI SDK) spells it.
        options.base_url = fields
            .either("baseUrl", "baseURL", Fields::text)
            .map_err(Error::invalid_config)?;
        options.timeout = fields
            .get("timeout", ValueType::Number)
            .map_err(Error::invalid_config)?
            // JavaScript gives milliseconds, the core takes durations.
            .map(|ms| duration_from_millis_f64("timeout", ms))
            .transpose()
            .map_err(Error::invalid_config)?;
        options.max_retries = fields
            .get("maxRetries", ValueType::Number)
            .map_err(Error::invalid_config)?
            .map(|n| retries_from_i64("maxRetries", whole_number("maxRetries", n)?))
            .transpose()
            .map_err(Error::invalid_config)?;
        options.project_id = fields.text("projectId").map_err(Error::invalid_config)?;
        options.max_connections = fields
            .get("maxConnections", ValueType::Number)
            .map_err(Error::invalid_config)?
            .map(|n| connections_from_i64("maxConnections", whole_number("maxConnections", n)?))
            .transpose()
            .map_err(Error::invalid_config)?;
        options.total_timeout = fields
            .get("totalTimeout", ValueType::Number)
            .map_err(Error::invalid_config)?
            .map(|ms| duration_from_millis_f64("totalTimeout", ms))
            .transpose()
            .map_err(Error::invalid_config)?;
        options.connect_timeout = fields
            .get("connectTimeout", ValueType::Number)
            .map_err(Error::invalid_config)?
            .map(|ms| duration_from_millis_f64("connectTimeout", ms))
            .transpose()
            .map_err(Error::invalid_config)?;
        options.root_certificates = fields.pem_list("ca").map_err(Error::invalid_config)?;
        options.proxy = fields.text("proxy").map_err(Error::invalid_config)?;
        Ok(options)
    }
}

/// Every key a client options object may have.
const CLIENT_OPTIONS: &[&str] = &[
    "apiKey",
    "baseUrl",
    "baseURL",
    "timeout",
    "maxRetries",
    "projectId",
    "maxConnections",
    "totalTimeout",
    "connectTimeout",
    "ca",
    "proxy",
];

const NODE_EXTRA_CA_CERTS: &str = "NODE_EXTRA_CA_CERTS";
/// How an untrusted-certificate error tells a Node user to trust a CA.
const TRUST_ADVICE: &str = "to trust its CA, pass its PEM as the client's `ca` option or set \
     NODE_EXTRA_CA_CERTS to a file holding it";

/// Names this package in the `User-Agent` after the core's own token.
const USER_AGENT_SUFFIX: &str = concat!("vectorcache-node/", env!("CARGO_PKG_VERSION"));

/// A JS number that must be a whole number (`maxRetries`, `maxConnections`): 2.5 or NaN is
/// refused rather than silently truncated; the range is the core's to check.
pub(crate) fn whole_number(what: &str, n: f64) -> Result<i64, String> {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 {
        // Exact: a whole number below 2^53 converts without loss.
        Ok(n as i64)
    } else {
        Err(format!("`{what}` must be a whole number, got {n}"))
    }
}
