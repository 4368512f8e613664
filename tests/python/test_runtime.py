"""The runtime in production settings: fork() (gunicorn --preload, Celery, multiprocessing),
a bounded connection pool under a low open-file limit, per-request settings and the total
timeout."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import signal
import threading
import time
from typing import Any, Callable, Optional

import pytest

import vectorcache
from conftest import API_KEY
from vectorcache import (
    APIConnectionError,
    APITimeoutError,
    AsyncVectorcacheClient,
    ConfigurationError,
    InvalidRequestError,
    VectorcacheClient,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")

#: Set before forking; the worker processes inherit it.
_INHERITED: Optional[VectorcacheClient] = None


def _wait_child(pid: int, limit_s: float) -> int:
    """The child's exit status; kills it (and fails the test) if it runs past `limit_s`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child hung for {limit_s}s")


def _in_child(check: Callable[[], None]) -> int:
    """Runs `check` in a forked child; the child exits 0 if it passed, 1 if it raised."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            check()
            code = 0
        except BaseException as e:  # report, then exit without running the parent's cleanup
            print(f"child failed: {e!r}", flush=True)
        os._exit(code)
    return pid


def _timed(limit_s: float, what: str, call: Callable[[], Any]) -> Any:
    started = time.monotonic()
    result = call()
    elapsed = time.monotonic() - started
    assert elapsed < limit_s, f"{what} took {elapsed:.2f}s"
    return result


@pytest.mark.parametrize("round_", range(5))
def test_clients_work_in_a_forked_child(round_: int, make_client, make_async_client, emulator) -> None:
    parent = make_client()
    parent_async = make_async_client()
    parent.query(prompt="before the fork", model="gpt-4o")
    asyncio.run(parent_async.query(prompt="async before the fork", model="gpt-4o"))

    def check() -> None:
        hit = _timed(1.0, "inherited sync", lambda: parent.query(prompt="before the fork", model="gpt-4o"))
        assert hit.cache_hit
        fresh = make_client()
        _timed(1.0, "new sync", lambda: fresh.query(prompt="in the child", model="gpt-4o"))
        _timed(1.0, "inherited async", lambda: asyncio.run(
            parent_async.query(prompt="async in the child", model="gpt-4o")))
        fresh_async = make_async_client()
        _timed(1.0, "new async", lambda: asyncio.run(
            fresh_async.query(prompt="new async in the child", model="gpt-4o")))

    assert _wait_child(_in_child(check), limit_s=20) == 0
    # The parent goes on with its own connections and runtime.
    assert parent.query(prompt="in the child", model="gpt-4o").cache_hit is True
    assert asyncio.run(parent_async.query(prompt="new async in the child", model="gpt-4o")).cache_hit is True
    # Two queries before the fork, four in the child, two after: all sent and answered.
    assert [e["status"] for e in emulator.requests()] == [200] * 8


def test_a_child_out_of_file_descriptors_gets_a_connection_error_then_recovers(make_client,
                                                                              emulator) -> None:
    # A forked child starts its own runtime on its first query: with no descriptor left that
    # fails, as an APIConnectionError (so `except APIError` fallbacks catch it), not a bare
    # RuntimeError; once descriptors are free again, the next query starts it.
    client = make_client(max_retries=0)
    client.query(prompt="before the fork", model="gpt-4o")

    def check() -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, soft), hard))
        held = []
        try:
            while True:
                held.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        try:
            client.query(prompt="out of descriptors", model="gpt-4o")
            raise AssertionError("the query got through without a descriptor")
        except APIConnectionError as error:
            assert "cannot start the Vectorcache runtime" in str(error), str(error)
            assert error.kind == "connection" and error.status_code is None
            assert error.attempts == 0  # nothing was sent
        finally:
            for fd in held:
                os.close(fd)
        assert client.query(prompt="before the fork", model="gpt-4o").cache_hit

    assert _wait_child(_in_child(check), limit_s=20) == 0
    assert [e["body"]["prompt"] for e in emulator.requests()] == ["before the fork"] * 2


def test_a_child_forked_while_queries_are_in_flight(make_client, emulator) -> None:
    client = make_client()
    client.query(prompt="warm", model="gpt-4o")
    emulator.fault({"delay_ms": 300, "count": 4})
    outcomes: dict[int, Any] = {}

    def busy_query(i: int) -> None:
        try:
            outcomes[i] = client.query(prompt=f"busy {i}", model="gpt-4o")
        except BaseException as e:  # recorded, and asserted on below
            outcomes[i] = e

    busy = [threading.Thread(target=busy_query, args=(i,)) for i in range(4)]
    for thread in busy:
        thread.start()
    time.sleep(0.05)  # the four are waiting for their answers when the fork happens
    pid = _in_child(lambda: _timed(2.0, "query in the child", lambda: client.query(
        prompt="warm", model="gpt-4o")))
    assert _wait_child(pid, limit_s=20) == 0
    for thread in busy:
        thread.join(10)
        assert not thread.is_alive()
    # The parent's four in-flight queries were answered despite the fork.
    assert sorted(outcomes) == [0, 1, 2, 3]
    for i, outcome in outcomes.items():
        assert isinstance(outcome, vectorcache.QueryResponse), (i, outcome)
        assert f'"busy {i}"' in outcome.response
    assert client.query(prompt="warm", model="gpt-4o").cache_hit is True
    # warm, the four busy ones (each delayed), the child's, the last one.
    sent = emulator.requests()
    assert [e["status"] for e in sent] == [200] * 7
    assert sorted(e["body"]["prompt"] for e in sent) == sorted(
        ["warm", "warm", "warm", "busy 0", "busy 1", "busy 2", "busy 3"])
    assert sum(e["fault"] for e in sent) == 4


def _worker(i: int) -> bool:
    assert _INHERITED is not None
    return _INHERITED.query(prompt=f"worker question {i % 7}", model="gpt-4o").response != ""


@pytest.mark.parametrize("round_", range(3))
def test_multiprocessing_fork_pool(round_: int, make_client, emulator) -> None:
    global _INHERITED
    _INHERITED = make_client()
    _INHERITED.query(prompt="the parent asks first", model="gpt-4o")
    with multiprocessing.get_context("fork").Pool(4) as pool:
        answers = pool.map_async(_worker, range(200), chunksize=50).get(timeout=60)
    assert answers == [True] * 200
    assert len(emulator.requests()) == 201


def _sockets_to(port: int) -> set[str]:
    """The inodes of this process's TCP connections to `port`."""
    inodes = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    if int(fields[2].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except FileNotFoundError:
            pass
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            mine.add(link[8:-1])
    return mine


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_2000_concurrent_queries_under_a_1024_file_limit(make_async_client, emulator) -> None:
    max_connections = 400
    emulator.fault({"delay_ms": 1000, "count": 2000})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    port = int(emulator.url.rsplit(":", 1)[1])
    # Idle connections of earlier tests' clients are not this client's.
    earlier = _sockets_to(port)
    peak = [0]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], len(_sockets_to(port) - earlier))
            time.sleep(0.02)

    async def run() -> list[Any]:
        async with make_async_client(max_connections=max_connections, max_retries=0) as client:
            return await asyncio.gather(
                *(client.query(prompt=f"question {i}", model="gpt-4o") for i in range(2000)),
                return_exceptions=True,
            )

    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        started = time.monotonic()
        outcomes = asyncio.run(run())
        elapsed = time.monotonic() - started
    finally:
        sampling.set()
        sampler.join()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    print(f"2000 queries in {elapsed:.1f}s, at most {peak[0]} sockets open at once")
    assert errors == []
    assert 0 < peak[0] <= max_connections
    # 2000 answers of 1 s each through 400 connections take at least 5 s.
    assert elapsed >= 2000 / max_connections * 1.0 * 0.95


def test_a_request_timeout_beats_the_clients(make_client, make_async_client, emulator) -> None:
    emulator.fault({"delay_ms": 1500, "count": 2})
    client = make_client(timeout=30, max_retries=0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as raised:
        client.query(prompt="p", model="gpt-4o", timeout=0.2)
    elapsed = time.monotonic() - started
    assert raised.value.attempts == 1
    assert 0.19 <= elapsed < 1.2, elapsed  # the 0.2 s, not the 30 s nor the 1.5 s answer

    async def run() -> None:
        async with make_async_client(timeout=30, max_retries=0) as aclient:
            await aclient.query(prompt="p", model="gpt-4o", timeout=0.2)

    started = time.monotonic()
    with pytest.raises(APITimeoutError) as raised:
        asyncio.run(run())
    elapsed = time.monotonic() - started
    assert raised.value.attempts == 1
    assert 0.19 <= elapsed < 1.2, elapsed
    assert emulator.pending_faults() == 0  # both requests reached the emulator and took a delay


def test_the_total_timeout_bounds_the_whole_call(make_client, emulator) -> None:
    # 503 after 0.9 s, 1 s per attempt, 5 retries: the 2.5 s total ends it.
    emulator.fault({"status": 503, "body": {"detail": "down"}, "delay_ms": 900, "count": 10})
    client = make_client(timeout=1.0, max_retries=5)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as raised:
        client.query(prompt="p", model="gpt-4o", total_timeout=2.5)
    elapsed = time.monotonic() - started
    print(f"total_timeout=2.5 ended the call after {elapsed:.3f}s")
    assert "total timeout" in str(raised.value)
    assert raised.value.attempts in (2, 3)
    assert 2.5 <= elapsed < 3.2


def test_the_clients_total_timeout_and_a_server_wait_past_it(make_client, emulator) -> None:
    emulator.fault({"status": 429, "body": {"detail": "slow down"}, "headers": {"Retry-After": "5"},
                    "count": 5})
    client = make_client(max_retries=3, total_timeout=2.0)
    started = time.monotonic()
    with pytest.raises(vectorcache.RateLimitError) as raised:
        client.query(prompt="p", model="gpt-4o")
    assert time.monotonic() - started < 1.0
    assert raised.value.retry_after == 5.0
    assert raised.value.attempts == 1
    assert [e["status"] for e in emulator.requests()] == [429]


def test_request_retries_and_headers(make_client, emulator) -> None:
    emulator.fault({"status": 503, "body": {"detail": "down"}, "headers": {"Retry-After": "0"},
                    "count": 3})
    client = make_client(max_retries=0)
    result = client.query(prompt="p", model="gpt-4o", max_retries=3,
                          extra_headers={"X-Trace": "abc", "X-Team": "search"})
    assert result.cache_hit is False
    sent = emulator.requests()
    # The per-call max_retries (3), not the client's (0): three retries, the third answered.
    assert [r["status"] for r in sent] == [503, 503, 503, 200]
    assert [(r["headers"]["x-trace"], r["headers"]["x-team"]) for r in sent] == [("abc", "search")] * 4


@pytest.mark.parametrize("kwargs", [
    {"timeout": -1}, {"timeout": 0}, {"total_timeout": float("nan")}, {"max_retries": -1},
    {"max_retries": 101}, {"extra_headers": {"Authorization": "Bearer x"}},
    {"extra_headers": {"bad name": "v"}},
])
def test_bad_request_settings_send_nothing(kwargs: dict[str, Any], make_client, emulator) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        make_client().query(prompt="p", model="gpt-4o", **kwargs)
    assert raised.value.kind == "invalid_request"
    assert str(raised.value).startswith("invalid request: ")
    name = next(iter(kwargs))
    if name == "extra_headers":
        assert "header" in str(raised.value)
    else:
        assert f"`{name}`" in str(raised.value)
    assert emulator.requests() == []


@pytest.mark.parametrize("kwargs", [{"max_connections": 0}, {"max_connections": -5},
                                    {"total_timeout": -1.0}, {"total_timeout": 0}])
def test_bad_client_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        VectorcacheClient(API_KEY, base_url="http://127.0.0.1:9", **kwargs)
    assert raised.value.kind == "invalid_config"
    assert f"`{next(iter(kwargs))}`" in str(raised.value)


@pytest.mark.parametrize("kwargs", [{"max_connections": "10"}, {"max_connections": True},
                                    {"extra_headers": [("a", "b")]}, {"extra_headers": {"a": 1}}])
def test_wrong_types_are_type_errors(kwargs: dict[str, Any]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(TypeError, match=f"^`{name}` must be "):
        if "extra_headers" in kwargs:
            VectorcacheClient(API_KEY, base_url="http://127.0.0.1:9").query(
                prompt="p", model="gpt-4o", **kwargs)
        else:
            AsyncVectorcacheClient(API_KEY, base_url="http://127.0.0.1:9", **kwargs)
