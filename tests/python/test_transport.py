"""Timeouts and broken connections, from the emulator's faults."""

from __future__ import annotations

import socket
import time

import pytest

from vectorcache import APIConnectionError, APITimeoutError, VectorcacheClient
from conftest import API_KEY


def test_timeout(make_client, emulator) -> None:
    emulator.fault({"delay_ms": 2000})
    start = time.monotonic()
    with pytest.raises(APITimeoutError) as raised:
        make_client(timeout=0.3, max_retries=0).query(prompt="p", model="gpt-4o")
    elapsed = time.monotonic() - start
    assert 0.29 <= elapsed < 1.5, elapsed  # the 0.3 s timeout, not the 2 s answer
    assert isinstance(raised.value, APIConnectionError)
    assert raised.value.kind == "timeout"
    assert "timed out after 1 attempt(s)" in str(raised.value)
    assert raised.value.status_code is None
    assert raised.value.attempts == 1
    assert emulator.pending_faults() == 0  # the request reached the emulator and took the delay


def test_a_connect_that_runs_out_names_the_connect_timeout() -> None:
    # A listener that never accepts, its queue full: connecting hangs, as it does when a
    # firewall drops the packets. The 0.3 s connect timeout ends the attempt, not the 30 s one.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        host, port = listener.getsockname()
        with socket.create_connection((host, port)):
            client = VectorcacheClient(API_KEY, base_url=f"http://{host}:{port}",
                                       connect_timeout=0.3, timeout=30, max_retries=0)
            started = time.monotonic()
            with pytest.raises(APITimeoutError) as raised:
                client.query(prompt="p", model="gpt-4o")
            elapsed = time.monotonic() - started
    assert 0.29 <= elapsed < 5, elapsed
    assert raised.value.kind == "timeout" and raised.value.attempts == 1
    assert str(raised.value) == (
        "request timed out after 1 attempt(s): connecting to the server took longer than the "
        "connect timeout of 300ms (is a firewall dropping the packets, or the host down?)")


def test_timeout_is_retried(make_client, emulator) -> None:
    # The first attempt times out (its answer would come after 2 s); the retry is answered.
    emulator.fault({"delay_ms": 2000})
    started = time.monotonic()
    result = make_client(timeout=0.3, max_retries=1).query(prompt="p", model="gpt-4o")
    elapsed = time.monotonic() - started
    assert result.cache_hit is False
    assert elapsed >= 0.3, "the first attempt waited out its timeout"
    assert elapsed < 2.0, "and did not wait for the slow answer"
    # The emulator logs a request when it answers, so only the retry is there: the timed-out
    # attempt took the fault (its connection was closed before the answer), the retry did not.
    sent = emulator.requests()
    assert [(entry["status"], entry["fault"]) for entry in sent] == [(200, False)]


def test_dropped_connection(make_client, emulator) -> None:
    emulator.fault({"drop_connection": True})
    with pytest.raises(APIConnectionError) as raised:
        # A pool of its own (other settings): on a connection that an earlier client kept
        # alive, a drop before any answer would look stale and be retried once for free.
        make_client(max_retries=0, max_connections=99).query(prompt="p", model="gpt-4o")
    assert type(raised.value) is APIConnectionError
    assert raised.value.kind == "connection"
    assert raised.value.attempts == 1
    assert [(entry["status"], entry["fault"]) for entry in emulator.requests()] == [(None, True)]


def test_dropped_connection_is_retried(make_client, emulator) -> None:
    emulator.fault({"drop_connection": True})
    result = make_client(max_retries=1).query(prompt="p", model="gpt-4o")
    assert result.cache_hit is False
    assert [(entry["status"], entry["fault"]) for entry in emulator.requests()] == [
        (None, True), (200, False)]


def test_connection_refused() -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = VectorcacheClient(API_KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(APIConnectionError) as raised:
        client.query(prompt="p", model="gpt-4o")
    assert type(raised.value) is APIConnectionError  # not a timeout
    assert (raised.value.kind, raised.value.attempts, raised.value.status_code) == (
        "connection", 1, None)
    assert str(raised.value).startswith("connection error after 1 attempt(s): "), str(raised.value)
    assert isinstance(raised.value.__cause__, ConnectionError)


def test_clients_with_the_same_settings_share_their_connections(emulator) -> None:
    # A web handler that makes a client per request: while any client with the same
    # connection settings lives, the new ones reuse its pool's kept-alive connection.
    keeper = VectorcacheClient(API_KEY, base_url=emulator.url)
    keeper.query(prompt="first", model="gpt-4o")
    for i in range(20):
        per_request = VectorcacheClient(API_KEY, base_url=emulator.url, timeout=5.0 + i)
        per_request.query(prompt=f"question {i}", model="gpt-4o")
    other_settings = VectorcacheClient(API_KEY, base_url=emulator.url, max_connections=7)
    other_settings.query(prompt="last", model="gpt-4o")
    connections = [entry["connection"] for entry in emulator.requests()]
    assert len(connections) == 22
    assert len(set(connections[:21])) == 1, connections  # the request timeout is not the pool's
    assert connections[21] not in connections[:21], connections  # max_connections is


def test_a_client_per_request_in_a_with_block_reuses_the_connection(emulator) -> None:
    # Each client is gone before the next is made; their pool outlives them by its idle
    # timeout (4 s), as its idle connection would. (A bound of their own: no other test's pool.)
    for i in range(10):
        with VectorcacheClient(API_KEY, base_url=emulator.url, max_connections=11) as client:
            client.query(prompt=f"question {i}", model="gpt-4o")
    connections = [entry["connection"] for entry in emulator.requests()]
    assert len(connections) == 10 and len(set(connections)) == 1, connections
