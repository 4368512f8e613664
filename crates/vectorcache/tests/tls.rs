//! TLS trust and proxies: a local HTTPS server whose CA is made at test time, a CONNECT proxy.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::ca::{
    ca_as_server, ca_with_a_duplicate_extension, connect_proxy, private_ca, private_ca_expired,
    private_ca_for, private_ca_without_intermediate,
};
use common::raw::{Behaviour, RawServer};
use common::KEY;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use vectorcache::{Client, Error, ErrorCategory, ErrorKind, QueryRequest};

fn builder(url: &str) -> vectorcache::ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
}

/// One query to `url` from a client that trusts `ca_pem`.
async fn query_trusting(url: &str, ca_pem: &str) -> Result<vectorcache::QueryResponse, Error> {
    builder(url)
        .add_root_certificate(ca_pem.as_bytes())
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
}

/// The error of one query to `url` by a client that may retry `max_retries` times.
async fn failing_query(url: &str, max_retries: u32) -> Error {
    builder(url)
        .max_retries(max_retries)
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn an_untrusted_certificate_fails_once_with_its_own_error() {
    let (_, acceptor) = private_ca();
    let server = RawServer::start_tls(Behaviour::HitAfter(Duration::ZERO), acceptor).await;
    let err = failing_query(&server.url, 3).await;
    assert_eq!(err.kind(), ErrorKind::Certificate, "{err:?}");
    assert_eq!(err.category(), ErrorCategory::Connection);
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), Some(1));
    let message = err.to_string();
    assert!(message.contains("not trusted"), "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(message.contains("add_root_certificate") && message.contains("SSL_CERT_FILE"));
    // No CA was given: nothing hints at a missing intermediate.
    assert!(!message.contains("intermediate"), "{message}");
    assert_eq!(
        server.counts.get(&server.counts.connections),
        1,
        "not retried"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn a_certificate_that_trusting_a_ca_cannot_fix_says_what_can() {
    // Each trusted through its CA, and still refused: advice to trust the CA would mislead.
    for ((ca_pem, acceptor), problem, advice) in [
        (
            private_ca_for(&["other.example"]),
            "(NotValidForName: it is for other.example, not 127.0.0.1)",
            "issued for another host name: check the base URL's host",
        ),
        (
            private_ca_expired(),
            "(Expired: it was valid until Fri, 01 Jan 2021 00:00:00 GMT, and this machine's \
             clock says ",
            "outside its validity dates",
        ),
        (
            ca_as_server(),
            "(CaUsedAsEndEntity)",
            "presents a CA certificate as its own",
        ),
    ] {
        let server = RawServer::start_tls(Behaviour::HitAfter(Duration::ZERO), acceptor).await;
        let err = query_trusting(&server.url, &ca_pem).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Certificate, "{err:?}");
        let message = err.to_string();
        assert!(message.contains(problem), "{message}");
        assert!(message.contains(advice), "{message}");
        assert!(!message.contains("add_root_certificate"), "{message}");
    }
}

#[tokio::test]
async fn a_server_that_leaves_out_its_intermediate_is_told_apart() {
    // The root is given, and the server sends its certificate without the intermediate one.
    let (ca_pem, acceptor) = private_ca_without_intermediate();
    let server = RawServer::start_tls(Behaviour::HitAfter(Duration::ZERO), acceptor).await;
    let err = query_trusting(&server.url, &ca_pem).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Certificate, "{err:?}");
    let message = err.to_string();
    assert!(message.contains("(UnknownIssuer)"), "{message}");
    assert!(
        message.ends_with(
            "(if its CA is among those given already, the server may be leaving out an \
             intermediate certificate: it must send its whole chain)"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn a_private_ca_is_trusted_through_the_option_or_a_bundle_file() {
    let (ca_pem, acceptor) = private_ca();
    let server = RawServer::start_tls(Behaviour::HitAfter(Duration::ZERO), acceptor).await;
    let answer = query_trusting(&server.url, &ca_pem).await.unwrap();
    assert!(answer.cache_hit);

    let dir = std::env::temp_dir().join(format!("vectorcache-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("ca.pem");
    std::fs::write(&bundle, &ca_pem).unwrap();
    let answer = builder(&server.url)
        .ca_bundle(&bundle)
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap();
    assert!(answer.cache_hit);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_ca_certificate_rustls_cannot_take_is_named_with_its_fault() {
    let (good, _) = private_ca();
    let bad = ca_with_a_duplicate_extension();
    let not_x509 =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    let refused = |builder: vectorcache::ClientBuilder| {
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
        // Not reqwest's bare "builder error", which named neither the file nor the fault.
        let message = err.to_string();
        assert!(!message.contains("builder error"), "{message}");
        message
    };

    let dir = std::env::temp_dir().join(format!("vectorcache-bad-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("corporate.pem");
    std::fs::write(&bundle, format!("{good}{bad}")).unwrap();
    let message = refused(builder("https://api.example.com").ca_bundle(&bundle));
    assert!(
        message.contains(&format!(
            "the CA bundle {} is not usable: its certificate 2 of 2 cannot be trusted as a CA: \
             it lists an extension twice, which X.509 (RFC 5280) forbids",
            bundle.display()
        )),
        "{message}"
    );
    assert!(
        message.contains("issue it again, or leave it out"),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let message = refused(builder("https://api.example.com").add_root_certificate(bad.as_bytes()));
    assert!(
        message.contains(
            "a root certificate is not usable: its certificate 1 of 1 cannot be trusted as a CA: \
             it lists an extension twice"
        ),
        "{message}"
    );
    // Several given: which of them.
    let message = refused(
        builder("https://api.example.com")
            .add_root_certificate(good.as_bytes())
            .add_root_certificate(bad.as_bytes()),
    );
    assert!(
        message.contains("root certificate 2 of 2 given is not usable: its certificate 1 of 1"),
        "{message}"
    );
    let message = refused(
        builder("https://api.example.com")
            .add_root_certificate(b"-----BEGIN CERTIFICATE-----\nbm90IGEg\n".as_slice()),
    );
    assert!(
        message.contains("is not PEM-encoded X.509: a block has no END line"),
        "{message}"
    );
    let message =
        refused(builder("https://api.example.com").add_root_certificate(not_x509.as_bytes()));
    assert!(
        message.contains("its certificate 1 of 1 cannot be trusted as a CA: it is not a well-formed X.509 certificate"),
        "{message}"
    );
}

#[test]
fn unusable_trust_and_proxy_settings_are_configuration_errors() {
    let cases: Vec<(vectorcache::ClientBuilder, &str)> = vec![
        (
            builder("https://api.example.com").add_root_certificate(b"not a certificate"),
            "root certificate",
        ),
        (
            builder("https://api.example.com").ca_bundle("/nonexistent/ca.pem"),
            "/nonexistent/ca.pem",
        ),
        (
            builder("https://api.example.com").proxy("not a url with hunter2"),
            "proxy",
        ),
        (
            builder("https://api.example.com").proxy("ftp://user:hunter2@proxy.example:21"),
            "proxy",
        ),
        (
            builder("http://127.0.0.1:9").proxy("http://proxy.example:3128"),
            "clear text",
        ),
    ];
    for (builder, expected) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
        let message = err.to_string();
        assert!(message.contains(expected), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[test]
fn proxy_credentials_never_show() {
    let builder = builder("https://api.example.com").proxy("http://alice:hunter2@127.0.0.1:3128");
    let client = builder.clone().build().unwrap();
    for shown in [format!("{builder:?}"), format!("{client:?}")] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    assert!(format!("{builder:?}").contains("credentials hidden"));
}

#[tokio::test]
async fn the_proxy_option_tunnels_through_a_connect_proxy_with_its_credentials() {
    let (ca_pem, acceptor) = private_ca();
    let server = RawServer::start_tls(Behaviour::HitAfter(Duration::ZERO), acceptor).await;
    let (proxy, seen) = connect_proxy().await;
    let answer = builder(&server.url)
        .add_root_certificate(ca_pem.as_bytes())
        .proxy(&proxy)
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap();
    assert!(answer.cache_hit);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let target = server.url.trim_start_matches("https://");
    assert!(
        seen[0].starts_with(&format!("CONNECT {target} HTTP/1.1")),
        "{}",
        seen[0]
    );
    // Basic alice:hunter2
    assert!(
        seen[0].contains("YWxpY2U6aHVudGVyMg=="),
        "the proxy got the credentials: {}",
        seen[0]
    );
    // The proxy sees only the tunnel: the key travels inside TLS.
    assert!(!seen[0].contains(KEY));
}

/// A proxy on loopback that answers every tunnel request with `answer`: its address, and
/// how many tunnels it was asked for.
async fn refusing_proxy(answer: &'static [u8]) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let seen = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = socket.write_all(answer).await;
        }
    });
    (addr, tunnels)
}

#[tokio::test]
async fn a_proxy_that_wants_credentials_is_a_connection_error_said_plainly_and_not_retried() {
    let (addr, tunnels) =
        refusing_proxy(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await;
    // Retries allowed: none is made, as the next attempt has no credentials either.
    let err = builder("https://api.example.com")
        .max_retries(3)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .proxy(format!("http://alice:hunter2@{addr}"))
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connection { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    let message = err.to_string();
    assert!(
        message.contains("407 Proxy Authentication Required"),
        "{message}"
    );
    assert!(
        message.contains("http://user:password@host:port"),
        "{message}"
    );
    // The credentials were given here: the advice does not assume they were missing.
    assert!(message.contains("check the ones given"), "{message}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn a_proxy_that_fails_otherwise_is_retried() {
    let (addr, tunnels) = refusing_proxy(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
    let err = builder("https://api.example.com")
        .max_retries(2)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .proxy(format!("http://{addr}"))
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(err.is_retryable());
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(tunnels.load(Ordering::SeqCst), 3);
    // hyper-util says only "unsuccessful"; the message says who refused what.
    assert!(
        err.to_string().contains(
            "the proxy refused to open a tunnel to api.example.com (it answered the CONNECT"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn plain_http_where_tls_was_expected_says_so_and_is_not_retried() {
    // A plain HTTP server (it answers anything with a 400) behind an https:// URL.
    let (addr, connections) =
        refusing_proxy(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
    let err = failing_query(&format!("https://{addr}"), 2).await;
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(!err.is_retryable());
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    assert!(
        err.to_string()
            .contains("the server did not answer in TLS: is it a plain http:// server"),
        "{err}"
    );
}
