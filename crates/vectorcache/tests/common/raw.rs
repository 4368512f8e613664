//! A tiny HTTP/1.1 keep-alive server on loopback whose misbehaviour the tests choose, and
//! which counts connections (open now, the most at once, in all) and requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the server answers each request.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// A cache hit after `delay`.
    HitAfter(Duration),
    /// A 503 after `delay`.
    UnavailableAfter(Duration),
    /// Answers the first request of each connection; on the second, closes the connection
    /// without a byte of answer: what a server that closed an idle keep-alive connection just
    /// as it was reused looks like to the client.
    CloseReusedConnections,
    /// Answers the first request of each connection at once and later ones after the delay:
    /// a pooled connection whose server has become slow.
    SlowOnReusedConnections(Duration),
    /// A hit with `connection: close`, then the connection is closed: every request needs a
    /// new connection.
    HitAndClose,
    /// A 500 whose body (announced at 10 MB) stops after its first `n` bytes and never ends.
    EndlessErrorBody(usize),
}

#[derive(Default, Debug)]
pub struct Counts {
    pub open: AtomicUsize,
    pub peak_open: AtomicUsize,
    pub connections: AtomicUsize,
    pub requests: AtomicUsize,
    /// Connections the client closed while its request was unanswered.
    pub abandoned: AtomicUsize,
}

impl Counts {
    pub fn get(&self, n: &AtomicUsize) -> usize {
        n.load(Ordering::SeqCst)
    }
}

pub struct RawServer {
    pub url: String,
    pub counts: Arc<Counts>,
}

impl RawServer {
    pub async fn start(behaviour: Behaviour) -> Self {
        Self::start_with(behaviour, None).await
    }

    /// The same server behind TLS (`https://`), with the acceptor's certificate.
    pub async fn start_tls(behaviour: Behaviour, tls: tokio_rustls::TlsAcceptor) -> Self {
        Self::start_with(behaviour, Some(tls)).await
    }

    async fn start_with(behaviour: Behaviour, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let counts = shared.clone();
                let open = counts.open.fetch_add(1, Ordering::SeqCst) + 1;
                counts.peak_open.fetch_max(open, Ordering::SeqCst);
                counts.connections.fetch_add(1, Ordering::SeqCst);
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => serve(socket, behaviour, &counts).await,
                        Some(tls) => {
                            // A client that refuses the certificate ends the handshake.
                            if let Ok(stream) = tls.accept(socket).await {
                                serve(stream, behaviour, &counts).await;
                            }
                        }
                    }
                    counts.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self { url, counts }
    }
}

async fn serve<S: AsyncRead + AsyncWrite>(socket: S, behaviour: Behaviour, counts: &Counts) {
    let (read, mut write) = tokio::io::split(socket);
    let mut reader = BufReader::new(read);
    let mut served = 0;
    loop {
        let Some(()) = read_request(&mut reader).await else {
            return;
        };
        counts.requests.fetch_add(1, Ordering::SeqCst);
        served += 1;
        let (delay, status, body) = match behaviour {
            Behaviour::HitAfter(d) => (d, "200 OK", HIT),
            Behaviour::UnavailableAfter(d) => (d, "503 Service Unavailable", DOWN),
            Behaviour::CloseReusedConnections if served > 1 => return,
            Behaviour::CloseReusedConnections => (Duration::ZERO, "200 OK", HIT),
            Behaviour::SlowOnReusedConnections(d) if served > 1 => (d, "200 OK", HIT),
            Behaviour::SlowOnReusedConnections(_) => (Duration::ZERO, "200 OK", HIT),
            Behaviour::HitAndClose => {
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{HIT}",
                    HIT.len()
                );
                let _ = write.write_all(answer.as_bytes()).await;
                return;
            }
            Behaviour::EndlessErrorBody(n) => {
                let head = "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\n\
                            content-length: 10000000\r\n\r\n";
                let _ = write.write_all(head.as_bytes()).await;
                let _ = write.write_all(&vec![b'x'; n]).await;
                // Keep the connection open without another byte until the client hangs up.
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest).await;
                return;
            }
        };
        // Waiting, but noticing when the client hangs up meanwhile.
        let mut probe = [0u8; 1];
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            n = reader.read(&mut probe) => {
                if matches!(n, Ok(0) | Err(_)) {
                    counts.abandoned.fetch_add(1, Ordering::SeqCst);
                }
                return;
            }
        }
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             x-request-id: req_raw\r\n\r\n{body}",
            body.len()
        );
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

const HIT: &str = r#"{"cache_hit":true,"response":"r","similarity_score":0.9,"cost_saved":0.001,"llm_provider":"cache"}"#;
const DOWN: &str = r#"{"detail":"down"}"#;

/// Reads one request (head and `content-length` body); `None` at end of stream.
async fn read_request<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Option<()> {
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(())
}
