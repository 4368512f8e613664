//! Configuration from the environment and the builder. Tests that touch the process
//! environment hold `ENV` so they never race each other (this file is its own process).

mod common;

use std::sync::Mutex;

use common::*;
use vectorcache::{Client, Error, ErrorKind, QueryRequest, API_KEY_ENV, BASE_URL_ENV};
use wiremock::{MockServer, ResponseTemplate};

static ENV: Mutex<()> = Mutex::new(());

/// Runs `f` with the two variables set as given (None = unset), restoring nothing: every test
/// sets what it needs.
fn with_env<T>(key: Option<&str>, base: Option<&str>, f: impl FnOnce() -> T) -> T {
    let _guard = ENV.lock().unwrap_or_else(|p| p.into_inner());
    for (name, value) in [(API_KEY_ENV, key), (BASE_URL_ENV, base)] {
        match value {
            // SAFETY: every test of this binary that reads or writes the environment holds ENV.
            Some(v) => unsafe { std::env::set_var(name, v) },
            None => unsafe { std::env::remove_var(name) },
        }
    }
    f()
}

#[test]
fn missing_key_names_the_variable() {
    for empty in [None, Some("")] {
        let err = with_env(empty, None, Client::from_env).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingApiKey);
        let message = err.to_string();
        assert!(message.contains("VECTORCACHE_API_KEY"), "{message}");
        assert!(message.contains("export VECTORCACHE_API_KEY="), "{message}");
    }
}

#[test]
fn malformed_env_key_is_rejected_without_echo() {
    let bad = "vc_0123456789abcdef0123456789abcdef\n";
    let err = with_env(Some(bad), None, Client::from_env).unwrap_err();
    assert!(matches!(err, Error::InvalidApiKey { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("0123456789abcdef0123"));
}

#[test]
fn env_supplies_key_and_base_url_and_explicit_values_win() {
    let client = with_env(Some(KEY), Some("http://127.0.0.1:9"), Client::from_env).unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9/");
    assert_eq!(client.api_key().to_string(), "vc_0123…");

    let client = with_env(Some(KEY), Some("http://127.0.0.1:9"), || {
        Client::builder()
            .api_key(OTHER_KEY)
            .base_url("https://example.test")
            .build()
    })
    .unwrap();
    assert_eq!(client.base_url(), "https://example.test/");
    assert_eq!(client.api_key().to_string(), "vc_fedc…");

    let client = with_env(Some(KEY), None, Client::from_env).unwrap();
    assert_eq!(client.base_url(), "https://api.vectorcache.ai/");
    assert_eq!(client.timeout(), std::time::Duration::from_secs(30));
    assert_eq!(client.max_retries(), 2);
}

#[test]
fn insecure_env_base_url_is_refused() {
    let err = with_env(
        Some(KEY),
        Some("http://api.vectorcache.ai"),
        Client::from_env,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("use https://"), "{err}");
}

#[tokio::test]
async fn env_configured_client_talks_to_the_env_base_url() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = with_env(Some(KEY), Some(&server.uri()), Client::from_env).unwrap();
    client.query(QueryRequest::new("p", "m")).await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(
        sent[0].headers["authorization"],
        format!("Bearer {KEY}").as_str()
    );
}

/// With plain http (loopback only), an `HTTP_PROXY` from the environment must not be used:
/// the proxy would receive the key in clear text.
#[tokio::test]
async fn loopback_http_bypasses_environment_proxies() {
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = {
        let _guard = ENV.lock().unwrap_or_else(|p| p.into_inner());
        let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
        for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
            // SAFETY: every test of this binary that touches the environment holds ENV.
            unsafe { std::env::set_var(name, &proxy_url) };
        }
        // The proxy never answers: a request sent there fails within the timeout (a test
        // that fails, rather than hangs).
        let client = Client::builder()
            .api_key(KEY)
            .base_url(server.uri())
            .timeout(std::time::Duration::from_secs(2))
            .max_retries(0)
            .build();
        for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
            unsafe { std::env::remove_var(name) };
        }
        client.unwrap()
    };
    client.query(QueryRequest::new("p", "m")).await.unwrap();
    assert_eq!(
        requests(&server).await.len(),
        1,
        "the request went straight to the server"
    );
    assert!(proxy.accept().is_err(), "the proxy saw a connection");
}

#[test]
fn builder_rejects_unusable_settings() {
    let base = || {
        Client::builder()
            .api_key(KEY)
            .base_url("http://localhost:1")
    };
    let cases = [
        base().timeout(std::time::Duration::ZERO).build(),
        base().connect_timeout(std::time::Duration::ZERO).build(),
        base().project_id("  ").build(),
        base()
            .default_header("Authorization", "Bearer vc_x")
            .build(),
        base().default_header("X-Ok", "line\nbreak").build(),
        base().user_agent_suffix("bad\u{7f}").build(),
        base().base_url("http://192.168.1.10:8080").build(),
    ];
    for result in cases {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err:?}");
    }
    let swapped = Client::builder()
        .api_key(KEY)
        .base_url(KEY)
        .build()
        .unwrap_err();
    assert!(!swapped.to_string().contains(&KEY[3..]), "{swapped}");
    let err = Client::builder()
        .api_key("sk-proj-abc")
        .base_url("http://localhost:1")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidApiKey);
}

#[tokio::test]
async fn retry_and_connection_counts_have_the_bindings_bounds() {
    // Python and Node refuse these numbers; the core refuses them the same way, with the
    // same words, so a Rust caller (or the CLI) gets the same outcome.
    let base = || {
        Client::builder()
            .api_key(KEY)
            .base_url("http://localhost:1")
    };
    for (result, message) in [
        (
            base().max_retries(101).build(),
            "`max_retries` must be a whole number from 0 to 100, got 101",
        ),
        (
            base().max_connections(0).build(),
            "`max_connections` must be a whole number from 1 to 100000, got 0",
        ),
        (
            base().max_connections(usize::MAX).build(),
            "must be a whole number from 1 to 100000, got 18446744073709551615",
        ),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err:?}");
        assert!(err.to_string().contains(message), "{err}");
    }
    assert!(base()
        .max_retries(100)
        .max_connections(100_000)
        .build()
        .is_ok());

    let server = MockServer::start().await;
    let client = client(&server);
    let err = client
        .query(QueryRequest::new("p", "m").max_retries(u32::MAX))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err:?}");
    assert!(
        err.to_string().contains("from 0 to 100, got 4294967295"),
        "{err}"
    );
    assert!(requests(&server).await.is_empty(), "nothing was sent");
    // 100 itself is allowed.
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let answer = client
        .query(QueryRequest::new("p", "m").max_retries(100))
        .await
        .unwrap();
    assert!(answer.cache_hit);
}

#[tokio::test]
async fn client_options_as_data_reach_the_wire() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let mut options = vectorcache::ClientOptions::default();
    options.api_key = Some(KEY.into());
    options.base_url = Some(server.uri());
    options.timeout = Some(std::time::Duration::from_millis(1500));
    options.max_retries = Some(0);
    options.project_id = Some("proj_options".into());
    options.default_headers = vec![("x-team".into(), "search".into())];
    options.user_agent_suffix = Some("vectorcache-test/options".into());
    let debug = format!("{options:?}");
    assert!(!debug.contains(&KEY[8..]), "{debug}");
    let client = vectorcache::ClientBuilder::from(options).build().unwrap();
    assert_eq!(client.timeout(), std::time::Duration::from_millis(1500));
    assert_eq!(client.max_retries(), 0);
    assert_eq!(client.project_id(), Some("proj_options"));
    client.query(QueryRequest::new("p", "m")).await.unwrap();
    let sent = &requests(&server).await[0];
    let header = |name: &str| sent.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(header("x-team"), Some("search"));
    assert!(header("user-agent")
        .unwrap()
        .ends_with(" vectorcache-test/options"));
    let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(body["project_id"], "proj_options");
}

#[test]
fn unset_options_take_the_documented_defaults() {
    let mut options = vectorcache::ClientOptions::default();
    options.api_key = Some(KEY.into());
    options.base_url = Some("http://127.0.0.1:9".into());
    let client = vectorcache::ClientBuilder::from(options).build().unwrap();
    assert_eq!(client.timeout(), vectorcache::DEFAULT_TIMEOUT);
    assert_eq!(client.max_retries(), vectorcache::DEFAULT_MAX_RETRIES);
    assert_eq!(client.project_id(), None);
}

#[test]
fn a_proxy_is_refused_over_plain_http_and_accepted_over_https() {
    let err = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:1")
        .proxy("http://127.0.0.1:3128")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("clear text"), "{err}");
    Client::builder()
        .api_key(KEY)
        .base_url("https://api.example.com")
        .proxy("http://127.0.0.1:3128")
        .build()
        .expect("https through a proxy is fine");
}

#[test]
fn debug_hides_proxy_credentials_and_only_those() {
    let shown = |proxy: &str| {
        let mut options = vectorcache::ClientOptions::default();
        options.proxy = Some(proxy.to_owned());
        format!("{options:?}")
    };
    for with_credentials in [
        "http://alice:s3cret@proxy.corp:3128",
        "http://alice@proxy.corp:3128",
        "http://:s3cret@proxy.corp:3128",
    ] {
        let debug = shown(with_credentials);
        assert!(
            debug.contains("http://proxy.corp:3128/ (credentials hidden)"),
            "{debug}"
        );
        assert!(
            !debug.contains("alice") && !debug.contains("s3cret"),
            "{debug}"
        );
    }
    let plain = shown("http://proxy.corp:3128");
    assert!(plain.contains("http://proxy.corp:3128/"), "{plain}");
    assert!(!plain.contains("credentials hidden"), "{plain}");
}

#[tokio::test]
async fn builder_settings_chain_with_pool_idle_timeout_and_a_custom_http_client() {
    use common::raw::{Behaviour, RawServer};
    use std::time::Duration;

    // Idle connections older than the timeout are not reused.
    let server = RawServer::start(Behaviour::HitAfter(Duration::ZERO)).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .pool_idle_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    client.query(QueryRequest::new("a", "m")).await.unwrap();
    client.query(QueryRequest::new("b", "m")).await.unwrap();
    assert_eq!(
        server.counts.get(&server.counts.connections),
        1,
        "reused while fresh"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    client.query(QueryRequest::new("c", "m")).await.unwrap();
    assert_eq!(
        server.counts.get(&server.counts.connections),
        2,
        "not reused once idle too long"
    );

    // A caller's reqwest client carries the requests (its default header reaches the server).
    let mock = wiremock::MockServer::start().await;
    answer(
        &mock,
        wiremock::ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert("x-from-my-client", "yes".parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(defaults)
        .build()
        .unwrap();
    let client = Client::builder()
        .api_key(KEY)
        .base_url(mock.uri())
        .http_client(http)
        .build()
        .unwrap();
    client.query(QueryRequest::new("p", "m")).await.unwrap();
    let sent = requests(&mock).await;
    assert_eq!(sent[0].headers.get("x-from-my-client").unwrap(), "yes");
}

#[test]
fn a_proxy_variable_the_client_would_skip_is_refused_without_showing_it() {
    let _guard = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let build = || {
        Client::builder()
            .api_key(KEY)
            .base_url("https://api.example.com")
            .build()
    };
    for name in ["HTTPS_PROXY", "all_proxy"] {
        for (bad, problem) in [
            (
                "http://user:s3cret@127.0.0.1:18080 ",
                "it has spaces around the URL",
            ),
            (
                "htp://user:s3cret@127.0.0.1:18080",
                "only http:// and https:// proxies are supported",
            ),
            (
                "socks5://user:s3cret@127.0.0.1:1080",
                "only http:// and https:// proxies are supported",
            ),
            ("http://[::1:s3cret", "it is not a valid URL"),
        ] {
            // SAFETY: every test of this binary that touches the environment holds ENV.
            unsafe { std::env::set_var(name, bad) };
            let error = build().unwrap_err();
            unsafe { std::env::remove_var(name) };
            assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{bad}");
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid configuration: the {name} environment variable is not a usable \
                     proxy ({problem}): fix or unset it, or give the proxy option"
                )
            );
        }
    }
    // Usable values, a plain-http loopback client (no proxy applies) and a proxy option
    // (the environment does not apply) build.
    for good in [
        "http://user:s3cret@127.0.0.1:18080",
        "127.0.0.1:18080",
        "https://proxy.corp",
    ] {
        unsafe { std::env::set_var("HTTPS_PROXY", good) };
        let built = build();
        unsafe { std::env::remove_var("HTTPS_PROXY") };
        built.unwrap();
    }
    unsafe { std::env::set_var("HTTPS_PROXY", "htp://nowhere") };
    let loopback = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .build();
    let with_option = Client::builder()
        .api_key(KEY)
        .base_url("https://api.example.com")
        .proxy("http://127.0.0.1:18080")
        .build();
    unsafe { std::env::remove_var("HTTPS_PROXY") };
    loopback.unwrap();
    with_option.unwrap();
    // What the HTTP stack would not use anyway is not refused: an https_proxy that works
    // beside a SOCKS all_proxy (as proxy tools export them), a host NO_PROXY covers, CGI.
    let with_env = |vars: &[(&str, &str)]| {
        for (name, value) in vars {
            unsafe { std::env::set_var(name, value) };
        }
        let built = build();
        for (name, _) in vars {
            unsafe { std::env::remove_var(name) };
        }
        built
    };
    for vars in [
        &[
            ("https_proxy", "http://127.0.0.1:7890"),
            ("all_proxy", "socks5://127.0.0.1:7891"),
        ][..],
        &[
            ("HTTPS_PROXY", "http://127.0.0.1:7890"),
            ("https_proxy", "http://stale "),
        ],
        &[
            ("HTTPS_PROXY", "htp://nowhere"),
            ("ALL_PROXY", "http://127.0.0.1:7890"),
        ],
        &[
            ("HTTPS_PROXY", "socks5://127.0.0.1:1080"),
            ("NO_PROXY", "*"),
        ],
        &[
            ("HTTPS_PROXY", "htp://nowhere"),
            ("no_proxy", "localhost,.example.com"),
        ],
        &[
            ("HTTPS_PROXY", "htp://nowhere"),
            ("NO_PROXY", "example.com"),
        ],
        &[("HTTPS_PROXY", "htp://nowhere"), ("REQUEST_METHOD", "GET")],
    ] {
        with_env(vars).unwrap_or_else(|e| panic!("{vars:?}: {e}"));
    }
    for vars in [
        &[
            ("HTTPS_PROXY", "htp://nowhere"),
            ("NO_PROXY", "other.com,xample.com"),
        ][..],
        &[
            ("HTTPS_PROXY", "htp://nowhere"),
            ("ALL_PROXY", "socks5://127.0.0.1:1080"),
        ],
    ] {
        let error = with_env(vars).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("the HTTPS_PROXY environment variable"),
            "{error}"
        );
    }
    // `host:port` alone is an http proxy, in the option as in HTTPS_PROXY.
    Client::builder()
        .api_key(KEY)
        .base_url("https://api.example.com")
        .proxy("127.0.0.1:18080")
        .build()
        .unwrap();
    // SOCKS as the option is refused when the client is built, not when it first sends.
    let socks = Client::builder()
        .api_key(KEY)
        .base_url("https://api.example.com")
        .proxy("socks5://127.0.0.1:1080")
        .build()
        .unwrap_err();
    assert!(
        socks
            .to_string()
            .contains("SOCKS proxies are not supported"),
        "{socks}"
    );
}
