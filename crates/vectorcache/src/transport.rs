//! The HTTP side of a client: the reqwest client with its connection pool, the bound on open
//! connections, and what lets a call tell a fresh connection from a reused one.

use std::collections::HashMap;
use std::ffi::OsString;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, CONNECTION};
use reqwest::Version;

use tokio::runtime::Id as RuntimeId;
use tokio::sync::Semaphore;

use crate::error::Error;
use crate::trust::{CaBundle, SharedBundle};

/// Connections a client opens at most, like httpx's and aiohttp's default of 100.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;
/// How long an idle keep-alive connection is kept: below the common server keep-alive
/// timeouts (uvicorn and Node 5 s, nginx 75 s), so the server rarely closes one under us.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// What the reqwest client is built from, kept so that it can be built again (after a fork).
#[derive(Clone)]
pub(crate) struct HttpSettings {
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub max_connections: usize,
    /// Plain http (loopback only): no proxy may see the key in clear text.
    pub plain_http: bool,
    /// CA certificates trusted beside the system's and the bundled roots: those given in
    /// code, and a bundle file's (shared by every client that names the file).
    pub root_certificates: Vec<reqwest::Certificate>,
    pub ca_bundle: Option<Arc<CaBundle>>,
    /// The proxy option; without one, the environment's proxies apply (https only).
    pub proxy: Option<reqwest::Proxy>,
    /// What an untrusted-certificate error advises.
    pub trust_advice: String,
    /// A caller-configured client, used as it is.
    pub custom: Option<reqwest::Client>,
    /// Set when this client shares its pool with the other clients of the process built
    /// with the same settings (the bindings' clients); `None`: a pool of its own.
    pub shared: Option<PoolKey>,
}

/// What makes two clients' pools interchangeable: everything [`Transport::new`] builds one
/// from, and the environment reqwest reads while building (proxies, the CA store's files).
/// Pools are shared per runtime too (see [`current_runtime`]): in the bindings, every client
/// runs on one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    connect_timeout: Duration,
    pool_idle_timeout: Duration,
    max_connections: usize,
    plain_http: bool,
    /// The PEM of every CA certificate given in code.
    certificates: Vec<Vec<u8>>,
    /// The bundle file's content (equal content, equal key, whichever read it came from).
    bundle: Option<SharedBundle>,
    proxy: Option<String>,
    environment: Vec<Option<OsString>>,
}

/// What reqwest (system proxies; `REQUEST_METHOD` turns `HTTP_PROXY` off under CGI) and
/// rustls-native-certs read from the environment when a client is built.
const BUILD_ENVIRONMENT: [&str; 11] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

impl PoolKey {
    pub fn new(settings: &HttpSettings, certificates: Vec<Vec<u8>>, proxy: Option<String>) -> Self {
        Self {
            connect_timeout: settings.connect_timeout,
            pool_idle_timeout: settings.pool_idle_timeout,
            max_connections: settings.max_connections,
            plain_http: settings.plain_http,
            certificates,
            bundle: settings.ca_bundle.clone().map(SharedBundle),
            proxy,
            environment: BUILD_ENVIRONMENT.iter().map(std::env::var_os).collect(),
        }
    }
}

/// The pools that clients share, in the process that built them: a forked child starts
/// afresh (the parent's connections are tasks of a runtime that has no threads there).
static SHARED_POOLS: Mutex<Option<SharedPools>> = Mutex::new(None);

/// The process id the pools belong to, and the pools by their settings and runtime.
type SharedPools = (u32, HashMap<(PoolKey, Option<RuntimeId>), Registered>);

/// The runtime this code runs on, if any: a pool's connections are tasks of the runtime that
/// opened them, so each runtime a client is used from gets a pool of its own.
pub(crate) fn current_runtime() -> Option<RuntimeId> {
    tokio::runtime::Handle::try_current()
        .ok()
        .map(|handle| handle.id())
}

/// A shared pool. Kept while a client holds it, and for its idle timeout after a client was
/// last made with it: a client made per request, and gone with it (Python's `with` block), still
/// finds the connection of the one before, as its pool would have kept it that long.
struct Registered {
    pool: Arc<Transport>,
    handed_out: Instant,
    linger: Duration,
}

impl Registered {
    fn wanted(&self, now: Instant) -> bool {
        self.held() || now.duration_since(self.handed_out) < self.linger
    }

    /// Whether a client holds the pool (the registry's own reference aside).
    fn held(&self) -> bool {
        Arc::strong_count(&self.pool) > 1
    }
}

/// Pools kept for their idle timeout with no client holding them, at most: each is a whole
/// reqwest client (about 120 kB, and its idle sockets). A program that makes clients with
/// ever new settings (a connect timeout per call, say) gets a pool for each; without a bound
/// they piled up until their idle timeout ran out and the next client was made.
const MAX_UNHELD_POOLS: usize = 16;

/// Forgets the pools no client holds, the longest unused first, until `kept` are left.
fn forget_the_oldest_unheld<K>(pools: &mut HashMap<K, Registered>, kept: usize)
where
    K: Clone + Eq + std::hash::Hash,
{
    let mut unheld: Vec<(Instant, K)> = pools
        .iter()
        .filter(|(_, registered)| !registered.held())
        .map(|(key, registered)| (registered.handed_out, key.clone()))
        .collect();
    if unheld.len() <= kept {
        return;
    }
    unheld.sort_by_key(|(handed_out, _)| *handed_out);
    for (_, key) in &unheld[..unheld.len() - kept] {
        pools.remove(key);
    }
}

/// The connection pool and the permits that bound it; replaced whole by [`Transport::new`].
#[derive(Clone)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    /// One permit per request in flight, so no more than `max_connections` connections are
    /// ever busy at once (and the pool, which keeps at most that many idle, never grows past).
    pub permits: Arc<Semaphore>,
    /// When a connection last went back to the pool (see [`NewConnections`]).
    pub handovers: Arc<Handovers>,
    /// The runtime whose tasks its connections are: the one it was made on, or (made outside
    /// any runtime) the first one it is used from.
    pub runtime: OnceLock<RuntimeId>,
}

impl Transport {
    /// The pool for a client on `runtime`: the registered one for the same shared settings
    /// and runtime, or a new one.
    pub fn for_client(
        settings: &HttpSettings,
        runtime: Option<RuntimeId>,
    ) -> Result<Arc<Self>, Error> {
        Self::registered(settings, runtime, false)
    }

    /// A new pool (see `Client::reset_connections`); with shared settings, the one later
    /// clients on `runtime` get.
    pub fn fresh(settings: &HttpSettings, runtime: Option<RuntimeId>) -> Result<Arc<Self>, Error> {
        Self::registered(settings, runtime, true)
    }

    fn registered(
        settings: &HttpSettings,
        runtime: Option<RuntimeId>,
        fresh: bool,
    ) -> Result<Arc<Self>, Error> {
        let Some(key) = &settings.shared else {
            return Ok(Arc::new(Self::new(settings, runtime)?));
        };
        let key = (key.clone(), runtime);
        let pid = std::process::id();
        let mut registry = SHARED_POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        let (owner, pools) = registry.get_or_insert_with(|| (pid, HashMap::new()));
        if *owner != pid {
            // The parent's pools are leaked, not dropped (see `Client::reset_connections`).
            *owner = pid;
            std::mem::forget(std::mem::take(pools));
        }
        let now = Instant::now();
        pools.retain(|_, registered| registered.wanted(now));
        forget_the_oldest_unheld(pools, MAX_UNHELD_POOLS - 1);
        if !fresh {
            if let Some(registered) = pools.get_mut(&key) {
                registered.handed_out = now;
                return Ok(registered.pool.clone());
            }
        }
        // Built under the lock: clients made at once with the same settings get one pool.
        let pool = Arc::new(Self::new(settings, runtime)?);
        let registered = Registered {
            pool: pool.clone(),
            handed_out: now,
            linger: settings.pool_idle_timeout,
        };
        pools.insert(key, registered);
        Ok(pool)
    }

    fn new(settings: &HttpSettings, runtime: Option<RuntimeId>) -> Result<Self, Error> {
        let permits = Arc::new(Semaphore::new(settings.max_connections));
        let handovers = Arc::new(Handovers::new());
        let layer_permits = permits.clone();
        let layer_handovers = handovers.clone();
        let handover_grace = handover_grace(settings.connect_timeout);
        let http = match &settings.custom {
            Some(http) => http.clone(),
            None => {
                let mut http = reqwest::Client::builder()
                    .connect_timeout(settings.connect_timeout)
                    .pool_idle_timeout(settings.pool_idle_timeout)
                    .pool_max_idle_per_host(settings.max_connections)
                    .connector_layer(tower::layer::layer_fn(move |inner| NewConnections {
                        shared: Arc::new(Bound {
                            inner,
                            permits: layer_permits.clone(),
                            handovers: layer_handovers.clone(),
                            handover_grace,
                        }),
                    }))
                    // A redirect could carry the key elsewhere; the API never redirects.
                    .redirect(reqwest::redirect::Policy::none());
                let bundled = settings.ca_bundle.iter().flat_map(|b| b.certificates());
                for certificate in settings.root_certificates.iter().chain(bundled) {
                    http = http.add_root_certificate(certificate.clone());
                }
                if let Some(proxy) = &settings.proxy {
                    http = http.proxy(proxy.clone());
                } else if settings.plain_http {
                    // Plain http is allowed only to loopback; an HTTP_PROXY from the
                    // environment would otherwise receive the key in clear text.
                    http = http.no_proxy();
                }
                http.build().map_err(|e| {
                    Error::invalid_config(format!(
                        "cannot build the HTTP client: {}",
                        build_problem(&e)
                    ))
                })?
            }
        };
        Ok(Self {
            http,
            permits,
            handovers,
            runtime: runtime.map(OnceLock::from).unwrap_or_default(),
        })
    }
}

/// Why reqwest could not build a client: its error says only "builder error", its causes say
/// what failed.
fn build_problem(error: &reqwest::Error) -> String {
    let problem = crate::client::error_chain(error);
    if problem.contains("native root store") {
        // reqwest read certificates from the system's store, none of which rustls takes.
        format!(
            "{problem} (SSL_CERT_FILE and SSL_CERT_DIR, when set, replace the system's store: \
             check the certificates they point at)"
        )
    } else {
        problem
    }
}

/// Until when a connection may still be on its way back to the pool: an exchange whose
/// connection is kept alive hands it back moments after it ends. A connect at the bound waits
/// for one only then; after a server closed its connections there is nothing to wait for.
pub(crate) struct Handovers {
    epoch: Instant,
    /// Microseconds after `epoch`; 0 before the first exchange.
    until: AtomicU64,
}

impl Handovers {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            until: AtomicU64::new(0),
        }
    }

    /// Notes an exchange that ended with its whole answer read: its connection goes back to
    /// the pool if the answer keeps it alive (see [`keeps_alive`]).
    pub fn exchange_ended(&self, keeps_alive: bool) {
        if keeps_alive {
            let until = self.epoch.elapsed() + HANDOVER_GRACE;
            self.until.store(micros(until), Ordering::Relaxed);
        }
    }

    /// Whether a connection may be on its way back to the pool now.
    fn expected(&self) -> bool {
        let now = micros(self.epoch.elapsed());
        // `now < until`, as a difference: `<` and `<=` differ at one microsecond only, which
        // no test (and no mutation test) can tell apart.
        self.until.load(Ordering::Relaxed).saturating_sub(now) != 0
    }
}

fn micros(since_epoch: Duration) -> u64 {
    u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX)
}

/// Whether the connection of an answer stays open: HTTP/1.1 and HTTP/2 keep it unless told
/// `connection: close`; HTTP/1.0 only when told `keep-alive`.
pub(crate) fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    let says = |token: &str| {
        headers.get_all(CONNECTION).iter().any(|value| {
            value
                .to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if version <= Version::HTTP_10 {
        says("keep-alive")
    } else {
        !says("close")
    }
}

tokio::task_local! {
    /// Set by the connector when the attempt running in this task opens a new connection.
    static NEW_CONNECTION: Arc<AtomicBool>;
}

/// Sends one request (the pool connects, if it must, while sending), telling afterwards
/// whether that opened a new connection (`false`: it reused a pooled one, or failed before
/// connecting).
pub(crate) async fn watch_connections<F: std::future::Future>(sending: F) -> (F::Output, bool) {
    let opened = Arc::new(AtomicBool::new(false));
    let output = NEW_CONNECTION.scope(opened.clone(), sending).await;
    (output, opened.load(Ordering::Relaxed))
}

/// How long, at most, a new connection waits when every permit is taken, for a connection on
/// its way back to the pool (see [`NewConnections`]); it looks every millisecond. On a loaded
/// machine a pooled connection can take a few milliseconds to come back; only a request whose
/// kept-alive connection died on the way pays the whole wait.
const HANDOVER_GRACE: Duration = Duration::from_millis(50);
const HANDOVER_POLL: Duration = Duration::from_millis(1);
/// Logged (at debug) when a connect waits so: a query slowed by the bound shows why.
const HANDOVER_WAIT: &str =
    "at the connection bound: waiting up to 50 ms for a pooled connection on its way back";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The connector layer: marks the running attempt when it connects (the pool calls the
/// connector from the request's own task only when it has no idle connection to hand out),
/// and keeps the pool within `max_connections`.
///
/// The pool races each checkout against a connect; when a pooled connection comes back
/// first, it finishes the connect in the background and keeps that connection too, one more
/// than the bound. So when the bound is reached and an exchange has just ended on a kept-alive
/// connection, a connect first gives that connection a moment to arrive; and at the bound a
/// connect left in the background (its request was served by the pool meanwhile) gives up
/// instead of opening a surplus socket.
///
/// The pool clones the connector for every request, to race a connect it rarely starts; so a
/// clone is one reference count, and the connector inside is cloned only to connect.
#[derive(Clone)]
struct NewConnections<S> {
    shared: Arc<Bound<S>>,
}

struct Bound<S> {
    inner: S,
    permits: Arc<Semaphore>,
    handovers: Arc<Handovers>,
    /// See [`handover_grace`].
    handover_grace: Duration,
}

/// How long a connect at the bound waits for a pooled connection on its way back: reqwest's
/// connect timeout counts that wait too, so a short one leaves the connect at least half.
fn handover_grace(connect_timeout: Duration) -> Duration {
    HANDOVER_GRACE.min(connect_timeout / 2)
}

impl<S, R> tower::Service<R> for NewConnections<S>
where
    S: tower::Service<R> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Into<BoxError>,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    /// Always ready: the connector's own readiness is awaited in the connect (`oneshot`).
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: R) -> Self::Future {
        let watcher = NEW_CONNECTION
            .try_with(|opened| {
                opened.store(true, Ordering::Relaxed);
                opened.clone()
            })
            .ok();
        let bound = &*self.shared;
        let at_the_bound = bound.permits.available_permits() == 0;
        let handover_expected = at_the_bound && bound.handovers.expected();
        let grace = bound.handover_grace;
        let connect = tower::ServiceExt::oneshot(bound.inner.clone(), request);
        Box::pin(async move {
            if handover_expected {
                tracing::debug!(target: "vectorcache", "{HANDOVER_WAIT}");
                let served = async {
                    while still_wanted(watcher.as_ref()) {
                        tokio::time::sleep(HANDOVER_POLL).await;
                    }
                };
                if tokio::time::timeout(grace, served).await.is_ok() {
                    return Err("the pool served the request meanwhile".into());
                }
            }
            let connection = connect.await.map_err(Into::into)?;
            if at_the_bound && !still_wanted(watcher.as_ref()) {
                return Err("the pool served the request meanwhile".into());
            }
            Ok(connection)
        })
    }
}

/// Whether the attempt that asked for a connection still waits for this one: the pool moves a
/// connect that lost the race into a task of its own, where the attempt's mark is not set.
fn still_wanted(watcher: Option<&Arc<AtomicBool>>) -> bool {
    match watcher {
        Some(mine) => NEW_CONNECTION
            .try_with(|current| Arc::ptr_eq(current, mine))
            .unwrap_or(false),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_connect_timeout_keeps_half_of_it_for_connecting() {
        assert_eq!(handover_grace(Duration::from_secs(10)), HANDOVER_GRACE);
        assert_eq!(
            handover_grace(Duration::from_millis(60)),
            Duration::from_millis(30)
        );
    }
    use reqwest::header::HeaderValue;

    fn says(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(CONNECTION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn http_1_1_and_2_keep_the_connection_unless_told_close() {
        for version in [Version::HTTP_11, Version::HTTP_2] {
            assert!(keeps_alive(version, &says(&[])));
            assert!(keeps_alive(version, &says(&["keep-alive"])));
            assert!(!keeps_alive(version, &says(&["close"])));
            assert!(!keeps_alive(version, &says(&["Upgrade, Close"])));
            assert!(!keeps_alive(version, &says(&["upgrade", " close "])));
        }
        // A token that merely contains the word is another token.
        assert!(keeps_alive(Version::HTTP_11, &says(&["closed"])));
    }

    #[test]
    fn http_1_0_keeps_the_connection_only_when_told_keep_alive() {
        for version in [Version::HTTP_10, Version::HTTP_09] {
            assert!(!keeps_alive(version, &says(&[])));
            assert!(!keeps_alive(version, &says(&["close"])));
            assert!(keeps_alive(version, &says(&["Keep-Alive"])));
            assert!(keeps_alive(version, &says(&["upgrade", "keep-alive"])));
        }
    }

    fn shared_settings(max_connections: usize, linger: Duration) -> HttpSettings {
        let mut settings = HttpSettings {
            connect_timeout: Duration::from_secs(1),
            pool_idle_timeout: linger,
            max_connections,
            plain_http: true,
            root_certificates: Vec::new(),
            ca_bundle: None,
            proxy: None,
            trust_advice: String::new(),
            custom: None,
            shared: None,
        };
        settings.shared = Some(PoolKey::new(&settings, Vec::new(), None));
        settings
    }

    /// Held by the tests that count on what the registry keeps: the others' pools could
    /// push theirs out.
    static REGISTRY_TESTS: Mutex<()> = Mutex::new(());

    fn alone() -> std::sync::MutexGuard<'static, ()> {
        REGISTRY_TESTS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn registered(settings: &HttpSettings) -> bool {
        let registry = SHARED_POOLS.lock().unwrap();
        let key = (settings.shared.clone().unwrap(), None);
        registry
            .as_ref()
            .is_some_and(|(_, pools)| pools.contains_key(&key))
    }

    #[test]
    fn a_pool_without_clients_is_kept_for_its_idle_timeout_then_forgotten() {
        let _alone = alone();
        // Bounds of their own, so that no other test shares these pools.
        let linger = Duration::from_millis(200);
        let (gone, other) = (
            shared_settings(90_001, linger),
            shared_settings(90_002, linger),
        );
        let pool = Transport::for_client(&gone, None).unwrap();
        let weak = Arc::downgrade(&pool);
        assert!(Arc::ptr_eq(
            &pool,
            &Transport::for_client(&gone, None).unwrap()
        ));
        drop(pool);
        // No client holds it: the next one made within the idle timeout still gets it.
        let again = Transport::for_client(&gone, None).unwrap();
        assert!(std::ptr::eq(weak.as_ptr(), Arc::as_ptr(&again)));
        drop(again);
        std::thread::sleep(linger + Duration::from_millis(50));
        // Forgotten when the registry is next used, and dropped with it.
        let _other = Transport::for_client(&other, None).unwrap();
        assert!(!registered(&gone));
        assert_eq!(weak.strong_count(), 0);
        assert!(registered(&other));
    }

    #[test]
    fn a_pool_a_client_holds_is_kept_however_long() {
        let _alone = alone();
        let linger = Duration::from_millis(50);
        let (held, other) = (
            shared_settings(90_003, linger),
            shared_settings(90_004, linger),
        );
        let pool = Transport::for_client(&held, None).unwrap();
        std::thread::sleep(linger * 2);
        let _other = Transport::for_client(&other, None).unwrap();
        assert!(registered(&held));
        assert!(Arc::ptr_eq(
            &pool,
            &Transport::for_client(&held, None).unwrap()
        ));
    }

    #[test]
    fn only_the_last_unheld_pools_are_kept() {
        let _alone = alone();
        // Settings of their own for each client, each client gone at once.
        let linger = Duration::from_secs(60);
        let settings: Vec<HttpSettings> = (0..MAX_UNHELD_POOLS + 10)
            .map(|i| shared_settings(91_000 + i, linger))
            .collect();
        let held = Transport::for_client(&shared_settings(90_999, linger), None).unwrap();
        let pools: Vec<_> = settings
            .iter()
            .map(|s| Arc::downgrade(&Transport::for_client(s, None).unwrap()))
            .collect();
        let kept: Vec<bool> = settings.iter().map(registered).collect();
        // The last one was made after the others were counted: up to 16 are kept with it.
        let (forgotten, remembered) = kept.split_at(settings.len() - MAX_UNHELD_POOLS);
        assert!(forgotten.iter().all(|kept| !kept), "{kept:?}");
        assert!(remembered.iter().all(|kept| *kept), "{kept:?}");
        let alive = pools.iter().filter(|pool| pool.strong_count() > 0).count();
        assert_eq!(alive, MAX_UNHELD_POOLS);
        // A pool a client holds is never pushed out.
        assert!(registered(&shared_settings(90_999, linger)));
        drop(held);
    }

    #[test]
    fn a_handover_is_expected_only_after_a_kept_alive_exchange() {
        let handovers = Handovers::new();
        assert!(!handovers.expected(), "nothing has ended yet");
        handovers.exchange_ended(keeps_alive(Version::HTTP_11, &says(&["close"])));
        assert!(!handovers.expected(), "that connection is closed");
        handovers.exchange_ended(keeps_alive(Version::HTTP_11, &says(&[])));
        assert!(handovers.expected());
    }
}
