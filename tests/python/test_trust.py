"""Trust, proxies, secrets and strict input: a local HTTPS server whose CA is made at test
time, a CONNECT proxy, a server echoing the key, and input that is not what it seems."""

from __future__ import annotations

import base64
import http.server
import json
import pickle
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

import vectorcache
from conftest import API_KEY, REPO
from vectorcache import (
    APICertificateError,
    APIConnectionError,
    ConfigurationError,
    InvalidRequestError,
    VectorcacheClient,
)

HIT = json.dumps({"cache_hit": True, "response": "r", "similarity_score": 0.9,
                  "cost_saved": 0.001, "llm_provider": "cache"}).encode()
TAIL = API_KEY[-24:]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(HIT)))
        self.end_headers()
        self.wfile.write(HIT)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ca")
    subprocess.run(["bash", str(REPO / "tests/fixtures/make-test-ca.sh"), str(out)], check=True)
    return out


@pytest.fixture
def https_url(ca: Path) -> Iterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca / "server.pem", ca / "server.key")

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> Any:
            sock, addr = self.socket.accept()
            try:
                return context.wrap_socket(sock, server_side=True), addr
            except (ssl.SSLError, OSError):
                sock.close()
                raise

    server = Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_untrusted_certificate_fails_once(https_url: str, ca: Path) -> None:
    client = VectorcacheClient(API_KEY, base_url=https_url, max_retries=3)
    with pytest.raises(APICertificateError) as raised:
        client.query(prompt="p", model="gpt-4o")
    error = raised.value
    assert isinstance(error, APIConnectionError)
    assert error.kind == "certificate"
    assert error.attempts == 1
    assert "not trusted" in str(error) and "ca_bundle" in str(error) and "SSL_CERT_FILE" in str(error)


def test_one_connection_for_an_untrusted_certificate(ca: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca / "server.pem", ca / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept() -> None:
        listener.settimeout(3)
        try:
            while True:
                sock, _ = listener.accept()
                accepted.append(sock)
                try:
                    context.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    pass
        except OSError:
            return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    client = VectorcacheClient(API_KEY, base_url=f"https://127.0.0.1:{listener.getsockname()[1]}",
                               max_retries=3)
    with pytest.raises(APICertificateError):
        client.query(prompt="p", model="gpt-4o")
    thread.join(5)
    listener.close()
    assert len(accepted) == 1, "a certificate failure is not retried"


def test_ca_bundle_trusts_the_private_ca(https_url: str, ca: Path) -> None:
    for bundle in (str(ca / "ca.pem"), ca / "ca.pem"):
        result = VectorcacheClient(API_KEY, base_url=https_url, ca_bundle=bundle).query(
            prompt="p", model="gpt-4o")
        assert result.to_dict() == json.loads(HIT)  # the HTTPS server's answer


def test_ssl_cert_file_trusts_the_private_ca(https_url: str, ca: Path, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca / "ca.pem"))
    result = VectorcacheClient(API_KEY, base_url=https_url).query(prompt="p", model="gpt-4o")
    assert result.to_dict() == json.loads(HIT)  # the HTTPS server's answer


def test_a_bad_ca_bundle_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate")
    for bundle, problem in ((tmp_path / "junk.pem", "is not usable"),
                            (tmp_path / "missing.pem", "cannot read the CA bundle")):
        with pytest.raises(ConfigurationError) as raised:
            VectorcacheClient(API_KEY, base_url="https://api.example.com", ca_bundle=bundle)
        assert raised.value.kind == "invalid_config"
        assert problem in str(raised.value) and str(bundle) in str(raised.value), str(raised.value)


class _ConnectProxy:
    """A CONNECT proxy on loopback that records each request head and tunnels."""

    def __init__(self) -> None:
        self.heads: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        text = head.decode()
        self.heads.append(text)
        host, port = text.split()[1].rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")

        def pipe(a: socket.socket, b: socket.socket) -> None:
            try:
                while data := a.recv(65536):
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self) -> None:
        self.listener.close()


def test_the_proxy_option_goes_through_a_connect_proxy(https_url: str, ca: Path) -> None:
    proxy = _ConnectProxy()
    try:
        client = VectorcacheClient(API_KEY, base_url=https_url, ca_bundle=ca / "ca.pem",
                                   proxy=f"http://alice:hunter2@127.0.0.1:{proxy.port}")
        assert client.query(prompt="p", model="gpt-4o").cache_hit is True
        assert "hunter2" not in repr(client)
        target = https_url.removeprefix("https://")
        assert len(proxy.heads) == 1 and proxy.heads[0].startswith(f"CONNECT {target} HTTP/1.1")
        credentials = base64.b64encode(b"alice:hunter2").decode()
        assert f"Basic {credentials}" in proxy.heads[0]
        assert API_KEY not in proxy.heads[0]  # the key travels inside the tunnel
    finally:
        proxy.close()


def test_https_proxy_from_the_environment_still_works(https_url: str, ca: Path, monkeypatch) -> None:
    proxy = _ConnectProxy()
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        client = VectorcacheClient(API_KEY, base_url=https_url, ca_bundle=ca / "ca.pem")
        assert client.query(prompt="p", model="gpt-4o").cache_hit is True
        target = https_url.removeprefix("https://")
        assert len(proxy.heads) == 1 and proxy.heads[0].startswith(f"CONNECT {target} HTTP/1.1")
    finally:
        proxy.close()


def test_a_proxy_that_wants_credentials_is_said_plainly_and_not_retried() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    tunnels: list[bytes] = []

    def refuse() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            tunnels.append(client.recv(4096))
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            client.close()

    threading.Thread(target=refuse, daemon=True).start()
    try:
        client = VectorcacheClient(API_KEY, base_url="https://api.example.com", max_retries=2,
                                   proxy=f"http://127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(APIConnectionError) as failed:
            client.query(prompt="p", model="gpt-4o")
    finally:
        listener.close()
    assert (failed.value.kind, failed.value.attempts) == ("connection", 1)
    assert "407 Proxy Authentication Required" in str(failed.value), str(failed.value)
    assert "http://user:password@host:port" in str(failed.value), str(failed.value)
    assert len(tunnels) == 1  # no retry: the next attempt would have no credentials either


def test_proxy_credentials_never_show_in_errors() -> None:
    with pytest.raises(ConfigurationError) as raised:
        VectorcacheClient(API_KEY, base_url="http://127.0.0.1:9", proxy="http://alice:hunter2@127.0.0.1:1")
    assert "a proxy would see the API key in clear text" in str(raised.value)
    assert "hunter2" not in str(raised.value) and "hunter2" not in repr(raised.value)
    client = VectorcacheClient(API_KEY, base_url="https://127.0.0.1:9", max_retries=0,
                               proxy="http://alice:hunter2@127.0.0.1:1")
    with pytest.raises(APIConnectionError) as failed:
        client.query(prompt="p", model="gpt-4o")
    assert failed.value.kind == "connection"
    assert isinstance(failed.value.__cause__, ConnectionError)  # so its text is checked below
    for shown in (str(failed.value), repr(failed.value), repr(vars(failed.value)),
                  str(failed.value.__cause__), repr(client)):
        assert shown and "hunter2" not in shown, shown


def _everything_about(error: BaseException) -> str:
    return "\n".join([str(error), repr(error), repr(vars(error)), repr(error.args),
                      repr(pickle.loads(pickle.dumps(error)).__dict__),
                      pickle.dumps(error).decode("latin-1")])


def test_a_key_echoed_in_headers_and_body_is_nowhere(make_client, emulator) -> None:
    emulator.fault({"status": 401, "body": {"detail": f"Invalid key {API_KEY}", "echo": API_KEY},
                    "headers": {"WWW-Authenticate": f'Bearer error="invalid_token", token="{API_KEY}"',
                                "X-Debug-Authorization": f"Bearer {API_KEY}",
                                "X-Partial": API_KEY[8:30]}})
    with pytest.raises(vectorcache.AuthenticationError) as raised:
        make_client(max_retries=0).query(prompt="p", model="gpt-4o")
    error = raised.value
    assert error.headers["www-authenticate"] == 'Bearer error="invalid_token", token="[redacted]"'
    # The echoed values are still there, with the key cut out (not dropped wholesale).
    assert error.detail == "Invalid key [redacted]"
    assert json.loads(error.body or "") == {"detail": "Invalid key [redacted]", "echo": "[redacted]"}
    assert error.headers["x-debug-authorization"] == "Bearer [redacted]"
    shown = _everything_about(error) + repr(error.headers) + str(error.body) + str(error.detail)
    assert TAIL not in shown and API_KEY[8:30] not in shown


def test_a_key_across_the_body_limit_is_nowhere(make_client, emulator) -> None:
    limit = 64 * 1024
    for offset in (10, 20, 30):
        emulator.fault({"status": 500, "body": "x" * (limit - offset) + API_KEY + "y" * 100})
        with pytest.raises(vectorcache.InternalServerError) as raised:
            make_client(max_retries=0).query(prompt="p", model="gpt-4o")
        # The body is kept up to the limit, the part of the key inside it redacted.
        body = raised.value.body or ""
        assert body.startswith("x" * (limit - offset)) and "[redacted]" in body, (offset, body[-40:])
        shown = _everything_about(raised.value)
        assert TAIL not in shown and API_KEY[:8] not in shown, offset


@pytest.mark.parametrize("field", ["prompt", "model", "context", "project_id"])
def test_a_lone_surrogate_is_an_invalid_request_naming_the_field(field: str, make_client, emulator) -> None:
    arguments: dict[str, Any] = {"prompt": "p", "model": "gpt-4o", field: "bad \ud800 text"}
    with pytest.raises(InvalidRequestError) as raised:
        make_client().query(**arguments)
    assert f"`{field}`" in str(raised.value) and "surrogate" in str(raised.value)
    assert emulator.requests() == []


def test_lone_surrogates_elsewhere(make_client, emulator) -> None:
    with pytest.raises(InvalidRequestError, match="extra_headers"):
        make_client().query(prompt="p", model="gpt-4o", extra_headers={"x-a": "\udc00"})
    for settings in ({"api_key": "vc_\ud800"}, {"base_url": "http://127.0.0.1:9/\ud800"},
                     {"proxy": "http://\ud800"}):
        with pytest.raises(ConfigurationError, match="surrogate"):
            VectorcacheClient(**{"api_key": API_KEY, **settings})
    with pytest.raises(ConfigurationError, match="surrogate"):
        make_client().set_api_key("vc_\udfff")
    assert emulator.requests() == []


def test_booleans_are_not_numbers(make_client) -> None:
    client = make_client()
    with pytest.raises(TypeError, match="similarity_threshold"):
        client.query(prompt="p", model="gpt-4o", similarity_threshold=True)
    with pytest.raises(TypeError, match="similarity_threshold"):
        client.query(prompt="p", model="gpt-4o", similarity_threshold="0.9")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_retries"):
        VectorcacheClient(API_KEY, max_retries=True)
    with pytest.raises(TypeError, match="timeout"):
        client.query(prompt="p", model="gpt-4o", timeout=True)


def test_huge_numbers_get_honest_messages(make_client, emulator) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        make_client().query(prompt="p", model="gpt-4o", similarity_threshold=10**400)
    assert "similarity_threshold" in str(raised.value) and "got 1000000000" in str(raised.value)
    assert "inf" not in str(raised.value)
    with pytest.raises(ConfigurationError) as config:
        VectorcacheClient(API_KEY, max_retries=10**30)
    assert "got 1000000000000000000000000000000" in str(config.value)
    assert "9223372036854775807" not in str(config.value)
    with pytest.raises(InvalidRequestError, match="got -1000000000000000000000"):
        make_client().query(prompt="p", model="gpt-4o", max_retries=-(10**21))
    assert emulator.requests() == []
