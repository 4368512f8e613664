"""Fixtures: the real emulator binary on a free port, its admin API, and client factories.

The emulator is `target/debug/vectorcache emulator --port 0` (override the binary with
VECTORCACHE_EMULATOR_BIN); it accepts exactly the shared fixture's key. Every test starts from
an empty cache, fault queue and request log.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import tempfile
import threading
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

import vectorcache

REPO = Path(__file__).resolve().parents[2]

# The emulator's admin routes, on loopback: never through a proxy the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ERROR_CASES = json.loads((REPO / "tests" / "fixtures" / "error_cases.json").read_text())
API_KEY: str = ERROR_CASES["api_key"]
# Well-formed, but not a key the emulator accepts.
OTHER_KEY = "vc_ffffffffffffffffffffffffffffffff"
STARTUP_TIMEOUT_S = 30.0


class Emulator:
    """The running emulator: its URL and its `/_emulator` admin routes."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with _DIRECT.open(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset", {})

    def fault(self, *faults: dict[str, Any]) -> None:
        """Queues faults, consumed one per `/v1/cache/query` request."""
        self._call("POST", "/_emulator/faults", list(faults))

    def requests(self) -> list[dict[str, Any]]:
        """The log of `/v1/cache/query` requests, oldest first (a request is logged when it is
        answered: one whose client gave up before the answer is not there)."""
        log = self._call("GET", "/_emulator/requests")
        if not isinstance(log, list):
            raise AssertionError(f"GET /_emulator/requests: not a list: {log!r}")
        return log

    def pending_faults(self) -> int:
        """How many more `/v1/cache/query` requests the queued faults will affect: each request
        that reaches the emulator takes one, answered or not (so timed-out attempts count)."""
        answer = self._call("GET", "/_emulator/faults")
        pending = answer.get("pending") if isinstance(answer, dict) else None
        if not isinstance(pending, int):
            raise AssertionError(f"GET /_emulator/faults: no pending count: {answer!r}")
        return pending


def _emulator_binary() -> Path:
    override = os.environ.get("VECTORCACHE_EMULATOR_BIN")
    binary = Path(override) if override else REPO / "target" / "debug" / "vectorcache"
    if not binary.exists():
        pytest.exit(
            f"emulator binary {binary} not found: run `cargo build -p vectorcache-cli`",
            returncode=2,
        )
    return binary


def _read_url(process: subprocess.Popen[str]) -> str:
    """Reads stdout until the `listening on http://…` line, then keeps draining it."""
    lines: queue.Queue[Optional[str]] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            raise RuntimeError(f"emulator printed no URL in {STARTUP_TIMEOUT_S}s: {seen}")
        if line is None:
            raise RuntimeError(f"emulator exited ({process.wait()}) before listening: {seen}")
        seen.append(line)
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match:
            return match.group(1)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    env = {**os.environ, "VECTORCACHE_API_KEY": API_KEY}
    env.pop("VECTORCACHE_BASE_URL", None)
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [str(_emulator_binary()), "emulator", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
        try:
            yield Emulator(_read_url(process))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(autouse=True)
def clean_emulator(request: pytest.FixtureRequest) -> None:
    # Only tests that use the emulator (directly or through a client factory) reset it.
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").reset()


@pytest.fixture(autouse=True)
def no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests configure clients explicitly unless they set the environment themselves."""
    monkeypatch.delenv("VECTORCACHE_API_KEY", raising=False)
    monkeypatch.delenv("VECTORCACHE_BASE_URL", raising=False)


@pytest.fixture
def make_client(emulator: Emulator) -> Callable[..., vectorcache.VectorcacheClient]:
    """A sync client for the emulator; keyword arguments override the defaults."""

    def make(**overrides: Any) -> vectorcache.VectorcacheClient:
        settings: dict[str, Any] = {"api_key": API_KEY, "base_url": emulator.url}
        settings.update(overrides)
        return vectorcache.VectorcacheClient(**settings)

    return make


@pytest.fixture
def make_async_client(emulator: Emulator) -> Callable[..., vectorcache.AsyncVectorcacheClient]:
    """An asyncio client for the emulator; keyword arguments override the defaults."""

    def make(**overrides: Any) -> vectorcache.AsyncVectorcacheClient:
        settings: dict[str, Any] = {"api_key": API_KEY, "base_url": emulator.url}
        settings.update(overrides)
        return vectorcache.AsyncVectorcacheClient(**settings)

    return make
