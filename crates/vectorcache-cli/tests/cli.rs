//! The `vectorcache` binary: exit codes and output of `query`, the `emulator` command's
//! lifecycle, and the demo. Servers run in-process on a runtime of their own; the binary runs
//! as a real child process.

use std::io::{BufRead, BufReader};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};
use vectorcache_emulator::{Emulator, EmulatorConfig, RunningEmulator};

const KEY: &str = "vc_0123456789abcdef0123456789abcdef";
const SECRET: &str = "0123456789abcdef0123456789abcdef";

struct Server {
    emulator: RunningEmulator,
    /// The emulator's tasks run on it: it lives as long as the server.
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emulator = runtime
            .block_on(Emulator::start_local(EmulatorConfig::with_key(KEY), 0))
            .unwrap();
        Self {
            emulator,
            _runtime: runtime,
        }
    }

    fn url(&self) -> String {
        self.emulator.url()
    }

    fn fault(&self, fault: Value) {
        self.emulator
            .add_fault_json(fault.to_string().as_bytes())
            .unwrap();
    }

    fn logged_requests(&self) -> usize {
        self.emulator.requests().len()
    }

    /// `vectorcache query <args>` against this server with the test key.
    fn query(&self, args: &[&str]) -> Output {
        vectorcache()
            .env("VECTORCACHE_API_KEY", KEY)
            .env("VECTORCACHE_BASE_URL", self.url())
            .arg("query")
            .args(args)
            .output()
            .unwrap()
    }
}

fn vectorcache() -> Command {
    let mut cmd = Command::cargo_bin("vectorcache").unwrap();
    cmd.env_remove("VECTORCACHE_API_KEY")
        .env_remove("VECTORCACHE_BASE_URL")
        .env_remove("RUST_LOG");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_key(output: &Output) {
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(!all.contains(SECRET), "the key leaked: {all}");
}

#[test]
fn query_prints_a_miss_then_a_hit() {
    let server = Server::start();
    let miss = server.query(&["What is machine learning?", "--model", "gpt-4o"]);
    assert_eq!(miss.status.code(), Some(0), "{}", text(&miss.stderr));
    let out = text(&miss.stdout);
    assert!(
        out.contains("MISS") && out.contains("provider:   openai"),
        "{out}"
    );

    let hit = server.query(&["what is machine learning", "--model", "gpt-4o", "--debug"]);
    let out = text(&hit.stdout);
    assert!(out.contains("HIT (similarity 1.0000)"), "{out}");
    assert!(
        out.contains("provider:   cache") && out.contains("debug:"),
        "{out}"
    );
    assert_no_key(&hit);
}

#[test]
fn query_json_is_the_documented_shape() {
    let server = Server::start();
    let out = server.query(&[
        "What is AI?",
        "-m",
        "claude-3-5-sonnet-20241022",
        "--json",
        "--context",
        "faq",
        "--threshold",
        "0.9",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cache_hit"], false);
    assert_eq!(v["llm_provider"], "anthropic");
    assert_eq!(v["similarity_score"], Value::Null);
    assert!(v["response"].as_str().unwrap().contains("What is AI?"));
    assert!(v["request_id"].as_str().unwrap().starts_with("req_"));
}

#[test]
fn each_error_class_has_its_exit_code() {
    let server = Server::start();
    let cases: &[(Value, u8, &str)] = &[
        (
            json!({"status": 400, "body": {"detail": "Invalid JSON format"}}),
            8,
            "Invalid JSON format",
        ),
        (
            json!({"status": 404, "body": {"detail": "Not Found"}}),
            8,
            "Not Found",
        ),
        (
            json!({"status": 429, "body": {"detail": "Rate limit exceeded. Please try again later."}, "headers": {"Retry-After": "30"}}),
            7,
            "wait 30 s",
        ),
        (
            json!({"status": 500, "body": {"detail": "Internal server error. Please try again or contact support."}}),
            9,
            "Internal server error",
        ),
        (
            json!({"status": 502, "body": "<html><body>bad gateway</body></html>"}),
            9,
            "Bad Gateway",
        ),
        (
            json!({"status": 200, "body": "{\"cache_hit\": tr"}),
            11,
            "could not decode",
        ),
        (json!({"drop_connection": true}), 10, "connection error"),
    ];
    for (fault, code, needle) in cases {
        server.fault(fault.clone());
        let out = server.query(&["What is AI?", "-m", "gpt-4o", "--max-retries", "0"]);
        assert_eq!(
            out.status.code(),
            Some(i32::from(*code)),
            "{fault}: {}",
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{fault}: {err}");
        assert!(err.contains("hint:"), "{err}");
        assert_no_key(&out);
    }
}

/// An HTTPS server on loopback with a self-signed certificate (trusted by no one): it takes
/// each connection through the handshake the client then refuses. Its URL.
fn untrusted_tls_server() -> String {
    use std::sync::Arc;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            let mut tls = rustls::ServerConnection::new(config.clone()).unwrap();
            // The client gives up during the handshake: what it prints is the test's matter.
            let _ = tls.complete_io(&mut socket);
        }
    });
    url
}

#[test]
fn an_untrusted_certificate_says_how_the_cli_trusts_a_ca() {
    let out = vectorcache()
        .env("VECTORCACHE_API_KEY", KEY)
        .env("VECTORCACHE_BASE_URL", untrusted_tls_server())
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .args(["query", "What is AI?", "-m", "gpt-4o"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(10), "{stderr}");
    assert!(
        stderr.contains("TLS certificate is not trusted (UnknownIssuer)"),
        "{stderr}"
    );
    // The CLI's own way to trust a CA (it has no option for one), not the Rust API's.
    assert!(
        stderr.contains("point SSL_CERT_FILE (or SSL_CERT_DIR) at its PEM"),
        "{stderr}"
    );
    assert!(!stderr.contains("ClientBuilder"), "{stderr}");
    assert!(
        stderr.contains("hint:  this machine does not trust the server's certificate"),
        "{stderr}"
    );
    assert_no_key(&out);
}

#[test]
fn auth_and_local_errors_have_their_exit_codes() {
    let server = Server::start();
    let before = server.logged_requests();

    let out = vectorcache()
        .env("VECTORCACHE_API_KEY", "vc_ffffffffffffffffffffffffffffffff")
        .env("VECTORCACHE_BASE_URL", server.url())
        .args(["query", "What is AI?", "-m", "gpt-4o"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(
        text(&out.stderr).contains("401 Unauthorized: Invalid API key"),
        "{}",
        text(&out.stderr)
    );

    let out = server.query(&[
        "What is AI?",
        "-m",
        "gpt-4o",
        "--project",
        "proj_other",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(6));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "permission_denied");
    assert_eq!(
        v["error"]["detail"],
        "API key does not have permission to access this project"
    );
    let requests_sent = server.logged_requests() - before;
    assert_eq!(requests_sent, 2);

    // Local problems: nothing is sent.
    let out = server.query(&["   ", "-m", "gpt-4o"]);
    assert_eq!(out.status.code(), Some(4));
    let out = server.query(&["What is AI?", "-m", "gpt-4o", "--threshold", "1.5"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stderr).contains("similarity_threshold"));
    let out = vectorcache()
        .env("VECTORCACHE_BASE_URL", server.url())
        .args(["query", "x", "-m", "gpt-4o"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("VECTORCACHE_API_KEY"));
    let out = vectorcache()
        .env("VECTORCACHE_API_KEY", KEY)
        .args([
            "query",
            "x",
            "-m",
            "gpt-4o",
            "--base-url",
            "http://example.com",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("use https://"));
    assert_no_key(&out);
    assert_eq!(
        server.logged_requests() - before,
        2,
        "local errors sent nothing"
    );

    // Nothing listening: a connection error.
    let out = vectorcache()
        .env("VECTORCACHE_API_KEY", KEY)
        .args([
            "query",
            "x",
            "-m",
            "gpt-4o",
            "--base-url",
            "http://127.0.0.1:1",
            "--max-retries",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
}

#[test]
fn numeric_options_take_negative_numbers_to_the_cores_checks() {
    let server = Server::start();
    let before = server.logged_requests();
    // Each value reaches the core, which refuses it with its own message; nothing is sent.
    let cases: &[(&[&str], u8, &str)] = &[
        (
            &["--threshold", "-0.1"],
            4,
            "`similarity_threshold` must be a number between 0 and 1, got -0.1",
        ),
        (
            &["--timeout", "-1"],
            3,
            "`--timeout` must be a number of seconds from 0 to 1e9 (about 31 years), got -1",
        ),
        (
            &["--max-retries", "-1"],
            3,
            "`--max-retries` must be a whole number from 0 to 100, got -1",
        ),
        (
            &["--max-retries", "101"],
            3,
            "`--max-retries` must be a whole number from 0 to 100, got 101",
        ),
    ];
    for (flags, code, message) in cases {
        let mut args = vec!["What is AI?", "-m", "gpt-4o"];
        args.extend_from_slice(flags);
        let out = server.query(&args);
        let err = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(i32::from(*code)),
            "{flags:?}: {err}"
        );
        assert!(err.contains(message), "{flags:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{flags:?}: {err}");
    }
    assert_eq!(server.logged_requests(), before, "nothing was sent");
    // The emulator's numbers are clap's to check: a bad value of the option, not a flag.
    let out = vectorcache()
        .args(["emulator", "--port", "-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value '-1' for '--port <PORT>'"),
        "{}",
        text(&out.stderr)
    );
}

/// A pipe whose read end is already closed, as when `| head -c 10` has read all it wants:
/// every write to it fails with EPIPE, from the first one (no race with a reader).
fn closed_pipe() -> Stdio {
    let mut ends = [0; 2];
    // O_CLOEXEC: no child that another test spawns meanwhile inherits the read end.
    assert_eq!(
        unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) },
        0
    );
    let [read_end, write_end] = ends;
    assert_eq!(unsafe { libc::close(read_end) }, 0);
    Stdio::from(unsafe { OwnedFd::from_raw_fd(write_end) })
}

/// Exit status of a process that lost its reader: 128 + SIGPIPE, as a shell reports it.
const CLOSED_PIPE: i32 = 141;

fn assert_stopped_quietly(what: &str, out: &Output) {
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(!err.contains("Broken pipe"), "{what}: {err}");
    assert_eq!(out.status.code(), Some(CLOSED_PIPE), "{what}: {err}");
}

#[test]
fn a_closed_stdout_or_stderr_ends_the_run_quietly() {
    let server = Server::start();
    let query = |args: &[&str], stdout: Stdio, stderr: Stdio| {
        vectorcache()
            .env("VECTORCACHE_API_KEY", KEY)
            .env("VECTORCACHE_BASE_URL", server.url())
            .arg("query")
            .args(args)
            .stdout(stdout)
            .stderr(stderr)
            .output()
            .unwrap()
    };
    let answer = ["What is AI?", "--model", "gpt-4o"];
    let as_json = ["What is AI?", "--model", "gpt-4o", "--json"];
    let out = query(&answer, closed_pipe(), Stdio::piped());
    assert_stopped_quietly("query | head", &out);
    let out = query(&as_json, closed_pipe(), Stdio::piped());
    assert_stopped_quietly("query --json | head", &out);
    // An error: on stdout with --json, else on stderr.
    server.fault(json!({"status": 401, "body": {"detail": "Invalid API key"}}));
    let out = query(&as_json, closed_pipe(), Stdio::piped());
    assert_stopped_quietly("query --json (401) | head", &out);
    server.fault(json!({"status": 401, "body": {"detail": "Invalid API key"}}));
    let out = query(&answer, Stdio::piped(), closed_pipe());
    assert_eq!(
        out.status.code(),
        Some(CLOSED_PIPE),
        "query (401) 2>&1 | head"
    );
    assert!(out.stdout.is_empty());

    let out = vectorcache()
        .arg("demo")
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_stopped_quietly("demo | head", &out);
    let out = vectorcache()
        .args(["emulator", "--port", "0"])
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_stopped_quietly("emulator | head -1", &out);
}

type StdoutLines = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// `vectorcache emulator --port 0 <flags>` with the test key, its URL (from the first line),
/// that first line and the rest of its output.
fn spawn_emulator(flags: &[&str]) -> (std::process::Child, String, String, StdoutLines) {
    let mut child = vectorcache()
        .env("VECTORCACHE_API_KEY", KEY)
        .args(["emulator", "--port", "0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split("listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("{first}"))
        .trim()
        .to_owned();
    (child, url, first, lines)
}

#[test]
fn emulator_command_serves_until_sigterm() {
    let (mut child, url, first, mut lines) = spawn_emulator(&[]);
    let mut banner = vec![first];
    for _ in 0..3 {
        banner.push(lines.next().unwrap().unwrap());
    }
    let banner = banner.join("\n");
    assert!(
        banner.contains("vc_0123…") && !banner.contains(SECRET),
        "{banner}"
    );

    let out = vectorcache()
        .env("VECTORCACHE_API_KEY", KEY)
        .env("VECTORCACHE_BASE_URL", &url)
        .args(["query", "What is AI?", "-m", "gpt-4o"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // SIGTERM: a clean stop with exit code 0.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the emulator did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("/v1/cache/query") && stderr.contains("status=200"),
        "one line per request: {stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");
}

/// The `rate_limit` object `vectorcache query --json` prints against `vectorcache emulator <flags>`.
fn rate_limit_seen_with(flags: &[&str]) -> Value {
    // `_lines` keeps the pipe open: the emulator still prints its banner.
    let (mut child, url, _, _lines) = spawn_emulator(flags);
    let out = vectorcache()
        .env("VECTORCACHE_API_KEY", KEY)
        .env("VECTORCACHE_BASE_URL", &url)
        .args(["query", "What is AI?", "-m", "gpt-4o", "--json"])
        .output()
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.get("rate_limit").cloned().unwrap_or(Value::Null)
}

#[test]
fn emulator_rate_limit_flags() {
    assert_eq!(rate_limit_seen_with(&[])["limit"], 100_000);
    assert_eq!(
        rate_limit_seen_with(&["--rate-limit", "5", "--burst", "3"])["remaining"],
        2
    );
    assert_eq!(rate_limit_seen_with(&["--no-rate-limit"]), Value::Null);
    // Either flag alone: a rate's burst is the rate; a burst keeps the default rate.
    let rate_alone = rate_limit_seen_with(&["--rate-limit", "5"]);
    assert_eq!(
        (&rate_alone["limit"], &rate_alone["remaining"]),
        (&json!(5), &json!(4))
    );
    let burst_alone = rate_limit_seen_with(&["--burst", "3"]);
    assert_eq!(
        (&burst_alone["limit"], &burst_alone["remaining"]),
        (&json!(100_000), &json!(2))
    );
    let out = vectorcache()
        .args([
            "emulator",
            "--port",
            "0",
            "--no-rate-limit",
            "--rate-limit",
            "5",
            "--burst",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn emulator_max_cache_entries_flag() {
    // `_lines` keeps the pipe open: the emulator still prints its banner.
    let (mut child, url, _, _lines) = spawn_emulator(&["--max-cache-entries", "2"]);
    let ask = |prompt: &str| -> bool {
        let out = vectorcache()
            .env("VECTORCACHE_API_KEY", KEY)
            .env("VECTORCACHE_BASE_URL", &url)
            .args(["query", prompt, "-m", "gpt-4o", "--json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["cache_hit"] == true
    };
    let prompts = [
        "What is machine learning?",
        "Best sourdough recipe",
        "How do tides work?",
    ];
    let first_time: Vec<bool> = prompts.iter().map(|p| ask(p)).collect();
    // Two entries at most: the first prompt was forgotten, the last two are still there.
    let again = [ask(prompts[2]), ask(prompts[1]), ask(prompts[0])];
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(first_time, [false, false, false]);
    assert_eq!(again, [true, true, false]);
    let zero = vectorcache()
        .args(["emulator", "--port", "0", "--max-cache-entries", "0"])
        .output()
        .unwrap();
    assert_eq!(zero.status.code(), Some(2), "{}", text(&zero.stderr));
}

#[test]
fn emulator_generates_a_key_when_none_is_set() {
    let mut child = vectorcache()
        .args(["emulator", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
    child.kill().unwrap();
    let _ = child.wait();
    let key_line = banner
        .iter()
        .find(|l| l.contains("export VECTORCACHE_API_KEY="))
        .expect("a generated key is printed");
    let key = key_line
        .split('=')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(vectorcache::ApiKey::new(key).is_ok(), "{key_line}");
}

#[test]
fn emulator_rejects_a_bad_config_file() {
    let dir = std::env::temp_dir().join(format!("vc-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[[projects]]\nid = \"p\"\nkeys = [ { key = \"not-a-key\" } ]\n",
    )
    .unwrap();
    let out = vectorcache()
        .args(["emulator", "--port", "0", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).is_empty());
    // A key written where a table belongs: the TOML error must not quote it.
    std::fs::write(
        &file,
        format!("[[projects]]\nid = \"p\"\nkeys = [\"{KEY}\"]\n"),
    )
    .unwrap();
    let out = vectorcache()
        .args(["emulator", "--port", "0", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_no_key(&out);
    // Flags the emulator refuses are the same class as a bad file.
    let out = vectorcache()
        .args([
            "emulator",
            "--port",
            "0",
            "--rate-limit",
            "0",
            "--burst",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[test]
fn demo_walks_through_miss_hit_context_and_401() {
    let out = vectorcache().arg("demo").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for needle in [
        "MISS",
        "HIT (similarity 0.",
        "HIT (similarity 1.0000)",
        "context \"support\"",
        "status 401",
        "Invalid API key",
        "4 queries, 2 hits, 2 misses, hit rate 50%",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
}
