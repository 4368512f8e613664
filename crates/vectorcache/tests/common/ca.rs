//! A private CA made at test time with a server certificate it issued, and a CONNECT proxy.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A CA and a certificate it issued for 127.0.0.1 and localhost: the CA's PEM, and an
/// acceptor serving the certificate.
pub fn private_ca() -> (String, tokio_rustls::TlsAcceptor) {
    private_ca_for(&["127.0.0.1", "localhost"])
}

/// A self-signed CA certificate for 127.0.0.1 served as the server's own (what a plain
/// `openssl req -x509` makes): its PEM, and an acceptor serving it.
pub fn ca_as_server() -> (String, tokio_rustls::TlsAcceptor) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), acceptor(cert.der().clone(), &key))
}

/// A CA certificate that lists basicConstraints twice, as `openssl req -x509 -addext
/// basicConstraints=...` makes with OpenSSL 1.1 (its default config adds one already). X.509
/// forbids it and rustls refuses it as a trust anchor; OpenSSL takes it. Its PEM.
pub fn ca_with_a_duplicate_extension() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    // basicConstraints (2.5.29.19), critical: SEQUENCE { BOOLEAN TRUE } (cA).
    let mut again = rcgen::CustomExtension::from_oid_content(
        &[2, 5, 29, 19],
        vec![0x30, 0x03, 0x01, 0x01, 0xff],
    );
    again.set_criticality(true);
    params.custom_extensions.push(again);
    params.self_signed(&key).unwrap().pem()
}

fn acceptor(
    cert: rustls::pki_types::CertificateDer<'static>,
    key: &rcgen::KeyPair,
) -> tokio_rustls::TlsAcceptor {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A CA and a certificate it issued for `names`: the CA's PEM, and an acceptor serving the
/// certificate.
pub fn private_ca_for(names: &[&str]) -> (String, tokio_rustls::TlsAcceptor) {
    issued(names, |_| {}, false)
}

/// A CA, and a certificate for 127.0.0.1 issued by an intermediate CA that the CA issued, served
/// without the intermediate (a misconfigured server or proxy): the CA's PEM, and an acceptor.
#[allow(dead_code)] // not every test binary uses it
pub fn private_ca_without_intermediate() -> (String, tokio_rustls::TlsAcceptor) {
    issued(&["127.0.0.1"], |_| {}, true)
}

/// A CA and a certificate it issued for 127.0.0.1 that expired at the start of 2021.
#[allow(dead_code)] // not every test binary uses it
pub fn private_ca_expired() -> (String, tokio_rustls::TlsAcceptor) {
    issued(
        &["127.0.0.1"],
        |params| {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        },
        false,
    )
}

/// The parameters of a CA certificate named `name`.
fn ca_parameters(name: &str) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params
}

/// A CA and a certificate it issued for `names`, with `adjust` applied to its parameters;
/// with `intermediate`, through an intermediate CA that is not served.
fn issued(
    names: &[&str],
    adjust: impl FnOnce(&mut rcgen::CertificateParams),
    intermediate: bool,
) -> (String, tokio_rustls::TlsAcceptor) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_params = ca_parameters("vectorcache test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let mut issuer = rcgen::Issuer::new(ca_params, ca_key);
    if intermediate {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = ca_parameters("vectorcache test intermediate CA");
        params.signed_by(&key, &issuer).unwrap();
        issuer = rcgen::Issuer::new(params, key);
    }

    let server_key = rcgen::KeyPair::generate().unwrap();
    let names = names
        .iter()
        .map(|name| (*name).to_owned())
        .collect::<Vec<_>>();
    let mut server_params = rcgen::CertificateParams::new(names).unwrap();
    adjust(&mut server_params);
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
    (
        ca_cert.pem(),
        acceptor(server_cert.der().clone(), &server_key),
    )
}

/// A CONNECT proxy on loopback: records each request head, then tunnels.
pub async fn connect_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://alice:hunter2@{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(socket);
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                log.lock().unwrap().push(head.clone());
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let mut client = reader.into_inner();
                let Ok(mut upstream) = TcpStream::connect(&target).await else {
                    return;
                };
                client
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, seen)
}
