"""vectorcache.testing: a user's own code tested against the in-process emulator."""

from __future__ import annotations

from typing import Any

import pytest

from vectorcache import APIConnectionError, APIError, RateLimitError, VectorcacheClient
from vectorcache.testing import Emulator
from vectorcache.testing import vectorcache_emulator  # noqa: F401  (the pytest fixture)


def answer_with_fallback(client: VectorcacheClient, prompt: str) -> str:
    """A user's function: the cache's answer, or a fallback when the cache is down."""
    try:
        return client.query(prompt=prompt, model="gpt-4o").response
    except APIError:
        return "answered by the LLM directly"


def test_a_users_function_with_a_fault_injected() -> None:
    with Emulator() as emulator:
        client = emulator.client(max_retries=0)
        # The cache's own answer (the emulator's stand-in for this prompt), not the fallback.
        answer = answer_with_fallback(client, "What is AI?")
        assert answer.startswith("[emulated gpt-4o answer] ") and '"What is AI?"' in answer
        emulator.add_fault(status=503, body={"detail": "down"})
        assert answer_with_fallback(client, "What is AI?") == "answered by the LLM directly"
        sent = emulator.requests()
        assert [(entry["status"], entry["fault"]) for entry in sent] == [(200, False), (503, True)]
        assert sent[0]["headers"]["authorization"] == f"Bearer {emulator.api_key[:7]}…"
        assert emulator.api_key not in repr(sent)
        emulator.reset()
        assert emulator.requests() == []
        assert client.query(prompt="What is AI?", model="gpt-4o").cache_hit is False  # reset cache


def test_the_fixture_and_a_chosen_key(vectorcache_emulator: Emulator) -> None:  # noqa: F811
    assert vectorcache_emulator.base_url.startswith("http://127.0.0.1:")
    assert vectorcache_emulator.client().query(prompt="p", model="gpt-4o").cache_hit is False
    assert [e["status"] for e in vectorcache_emulator.requests()] == [200]
    key = "vc_" + "ab" * 16
    with Emulator(key) as emulator:
        assert emulator.api_key == key
        result = VectorcacheClient(key, base_url=emulator.base_url).query(prompt="p", model="gpt-4o")
        assert result.cache_hit is False
        sent = emulator.requests()
        assert [(e["status"], e["headers"]["authorization"]) for e in sent] == [(200, "Bearer vc_abab…")]


def _outcomes(emulator: Emulator, queries: int) -> list[Any]:
    client = emulator.client(max_retries=0)
    outcomes: list[Any] = []
    for i in range(queries):
        try:
            outcomes.append(client.query(prompt=f"p{i}", model="gpt-4o"))
        except APIError as error:
            outcomes.append(error)
    return outcomes


def test_rate_limiting_by_default_your_own_or_off() -> None:
    with Emulator() as emulator:
        [by_default] = _outcomes(emulator, 1)
    assert by_default.rate_limit is not None
    assert (by_default.rate_limit.limit, by_default.rate_limit.remaining) == (100_000, 99_999)
    with Emulator(rate_limit=False) as emulator:
        [off] = _outcomes(emulator, 1)
    assert off.rate_limit is None and off.cache_hit is False
    with Emulator(rate_limit={"per_minute": 2, "burst": 1}) as emulator:
        first, refused = _outcomes(emulator, 2)
    assert (first.rate_limit.limit, first.rate_limit.remaining) == (2, 0)
    assert isinstance(refused, RateLimitError) and refused.status_code == 429
    assert refused.retry_after is not None and 1 <= refused.retry_after <= 30


def test_a_fault_of_a_status_alone_answers_as_the_service_does() -> None:
    with Emulator() as emulator:
        emulator.add_fault(status=429)
        emulator.add_fault(status=429, body=None)
        limited, empty = _outcomes(emulator, 2)
    assert isinstance(limited, RateLimitError)
    assert limited.message == "Rate limit exceeded. Please try again later."
    assert limited.retry_after == 1
    assert limited.rate_limit is not None
    assert (limited.rate_limit.limit, limited.rate_limit.remaining) == (100_000, 0)
    assert limited.headers["x-ratelimit-remaining"] == "0"
    # Asked for, the body is empty and the headers are only the fault's.
    assert isinstance(empty, RateLimitError) and empty.retry_after is None
    assert "x-ratelimit-limit" not in empty.headers


@pytest.mark.parametrize(
    ("rate_limit", "error", "message"),
    [
        ({"per_minute": 0}, ValueError, "per_minute must be at least 1"),
        ({"per_minute": -1}, ValueError, "whole number"),
        ({"per_minute": 5, "burts": 1}, TypeError, "'burts'"),
        ({"per_minute": True}, TypeError, "rate_limit must be"),
        ("yes", TypeError, "rate_limit must be"),
    ],
)
def test_bad_rate_limits_are_refused(rate_limit: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Emulator(rate_limit=rate_limit).start()


def test_async_client_and_stopping() -> None:
    import asyncio

    emulator = Emulator().start()
    client = emulator.async_client()

    async def run() -> Any:
        async with client:
            return await client.query(prompt="p", model="gpt-4o")

    assert asyncio.run(run()).cache_hit is False
    assert [e["status"] for e in emulator.requests()] == [200]
    url = emulator.base_url
    emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        emulator.base_url
    assert "stopped" in repr(emulator)
    with pytest.raises(APIConnectionError) as raised:  # nothing listens there any more
        VectorcacheClient("vc_" + "0" * 32, base_url=url, max_retries=0).query(
            prompt="p", model="gpt-4o")
    assert (raised.value.kind, raised.value.status_code) == ("connection", None)


def test_a_fault_the_emulator_cannot_make_raises_its_reason() -> None:
    circular: list[Any] = []
    circular.append(circular)
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"status": "x"}, "status"),
        ({"stauts": 503}, "stauts"),
        ({"count": 0}, "count"),
        ({"status": 503, "count": float("nan")}, "NaN"),
        ({"delay_ms": float("inf")}, "infinity"),
        ({"status": 503, "body": circular}, "contains itself"),
        ({"status": 200, "body": "x" * ((64 << 20) + 1)}, "body must be at most 64 MiB"),
    ]
    with Emulator() as emulator:
        for fault, message in refusals:
            with pytest.raises(ValueError, match=message) as refused:
                emulator.add_fault(**fault)
            assert str(refused.value).startswith("the emulator refused the fault: ")
        with pytest.raises(TypeError, match=r"^the emulator refused the fault: it cannot be written as JSON \(.*set"):
            emulator.add_fault(status=503, body={1, 2})
        # Nothing was queued by the refused ones.
        assert emulator.client().query(prompt="p", model="gpt-4o").cache_hit is False


@pytest.mark.parametrize(
    ("port", "error"), [(-1, ValueError), (70000, ValueError), (10**30, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_a_bad_port_is_refused(port: Any, error: type) -> None:
    with pytest.raises(error, match="`port`"):
        Emulator(port=port).start()


def test_an_emulator_runs_until_stopped_even_when_no_longer_referenced() -> None:
    import gc
    import weakref

    def started_client() -> tuple[VectorcacheClient, weakref.ref[Emulator]]:
        emulator = Emulator().start()
        return emulator.client(max_retries=0), weakref.ref(emulator)

    client, emulator = started_client()
    gc.collect()
    alive = emulator()
    assert alive is not None, "an emulator running, though unreferenced, was collected"
    assert client.query(prompt="after the collection", model="gpt-4o").cache_hit is False
    assert [e["body"]["prompt"] for e in alive.requests()] == ["after the collection"]
    alive.stop()
    del alive
    gc.collect()
    assert emulator() is None, "a stopped emulator is not kept"


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork()")
def test_a_forked_child_drives_the_parents_emulator_and_leaves_it_running() -> None:
    import os
    import time

    with Emulator() as emulator:
        client = emulator.client(max_retries=0, timeout=3)
        client.query(prompt="before the fork", model="gpt-4o")
        pid = os.fork()
        if pid == 0:  # the child: its query works, and leaving the block (stop) returns
            code = 1
            try:
                client.query(prompt="from the child", model="gpt-4o")
                # The child's calls reach the parent's server (its own copy of the state is not
                # what that server serves), directly, whatever proxy the environment names.
                os.environ["http_proxy"] = "http://127.0.0.1:9"
                def answers_503(prompt: str) -> None:
                    with pytest.raises(APIError) as faulted:
                        client.query(prompt=prompt, model="gpt-4o")
                    assert faulted.value.status_code == 503, "the child's fault was not served"

                emulator.add_fault(status=503)
                answers_503("faulted in the child")
                assert [e["fault"] for e in emulator.requests()] == [False, False, True]
                try:
                    emulator.add_fault(status=42)
                except ValueError as refused:
                    assert str(refused).startswith("the emulator refused the fault: status must")
                else:
                    raise AssertionError("a bad fault from the child was not refused")
                # A body past the admin route's old 1 MiB (in process there was no limit).
                emulator.add_fault(status=503, body={"detail": "x" * (2 << 20)})
                answers_503("a large fault in the child")
                emulator.stop()
                code = 0
            finally:
                os._exit(code)
        deadline = time.monotonic() + 20
        while not (done := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < deadline:
            time.sleep(0.01)
        if not done[0]:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the child's stop() hung")
        assert os.waitstatus_to_exitcode(done[1]) == 0
        # The parent's emulator still serves, and it saw the child's query.
        assert client.query(prompt="after the child", model="gpt-4o").cache_hit is False
        prompts = [e["body"]["prompt"] for e in emulator.requests()]
        assert prompts == [
            "before the fork", "from the child", "faulted in the child", "a large fault in the child", "after the child"
        ]


def test_faults_the_log_and_reset_never_go_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a corporate proxy (`HTTP_PROXY` set, loopback not in `NO_PROXY`) the emulator is
    driven in process, as the client reaches it directly: nothing goes to the proxy."""
    import socket

    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen(8)
    proxy.setblocking(False)
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.getsockname()[1]}")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    try:
        with Emulator() as emulator:
            emulator.add_fault(status=503, headers={"retry-after-ms": "1"})
            client = emulator.client(max_retries=1)
            assert client.query(prompt="p", model="gpt-4o").cache_hit is False
            assert [(e["status"], e["fault"]) for e in emulator.requests()] == [
                (503, True), (200, False)]
            emulator.reset()
            assert emulator.requests() == []
        with pytest.raises(BlockingIOError):
            proxy.accept()  # nobody connected to the proxy
    finally:
        proxy.close()
