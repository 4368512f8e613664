//! The conventional variables: SSL_CERT_FILE trusts a private CA, HTTPS_PROXY picks a proxy. Its own test binary (one
//! test, one thread): it sets the process environment.

mod common;

use std::time::Duration;

use common::ca::{ca_with_a_duplicate_extension, connect_proxy, private_ca};
use common::raw::{Behaviour, RawServer};
use common::KEY;
use vectorcache::{Client, ErrorKind, QueryRequest};

#[tokio::test]
async fn ssl_cert_file_adds_a_trusted_ca() {
    let (ca_pem, acceptor) = private_ca();
    let server = RawServer::start_tls(Behaviour::HitAfter(Duration::ZERO), acceptor).await;
    let client = || {
        Client::builder()
            .api_key(KEY)
            .base_url(&server.url)
            .max_retries(0)
            .build()
            .unwrap()
    };
    let err = client()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Certificate);
    assert!(!err.to_string().contains("note:"), "{err}");

    // Set to what gives no certificate, the variables are skipped by the trust store: the
    // advice says so rather than telling the user to set them.
    let missing = std::env::temp_dir().join("vectorcache-no-such-bundle.pem");
    // SAFETY: the only test of this binary; no other thread reads the environment now.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &missing);
        std::env::set_var("SSL_CERT_DIR", "/no/such/dir:/neither");
    }
    let err = client()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Certificate);
    let shown = err.to_string();
    assert!(
        shown.ends_with(&format!(
            "(note: SSL_CERT_FILE is set, but {} cannot be read (entity not found); \
             SSL_CERT_DIR is set, but /no/such/dir:/neither is not a directory)",
            missing.display()
        )),
        "{shown}"
    );
    unsafe { std::env::remove_var("SSL_CERT_DIR") };

    let file = std::env::temp_dir().join(format!(
        "vectorcache-ssl-cert-file-{}.pem",
        std::process::id()
    ));
    // Set to a file whose only certificate rustls refuses: reqwest's "builder error" alone
    // said nothing of why, nor where to look.
    std::fs::write(&file, ca_with_a_duplicate_extension()).unwrap();
    // SAFETY: the only test of this binary; no other thread reads the environment now.
    unsafe { std::env::set_var("SSL_CERT_FILE", &file) };
    let err = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(
        err.to_string().ends_with(
            "cannot build the HTTP client: builder error: zero valid certificates found in \
             native root store (SSL_CERT_FILE and SSL_CERT_DIR, when set, replace the system's \
             store: check the certificates they point at)"
        ),
        "{err}"
    );

    std::fs::write(&file, &ca_pem).unwrap();
    let outcome = client().query(QueryRequest::new("p", "m")).await;
    assert!(outcome.unwrap().cache_hit);

    // And HTTPS_PROXY still routes through a proxy when no proxy option is given.
    let (proxy, seen) = connect_proxy().await;
    unsafe { std::env::set_var("HTTPS_PROXY", &proxy) };
    let outcome = client().query(QueryRequest::new("p", "m")).await;
    unsafe {
        std::env::remove_var("HTTPS_PROXY");
        std::env::remove_var("SSL_CERT_FILE");
    }
    std::fs::remove_file(&file).unwrap();
    assert!(outcome.unwrap().cache_hit);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("CONNECT 127.0.0.1:"), "{}", seen[0]);
}
