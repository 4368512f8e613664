"""The asyncio client: real awaitables on the running loop, concurrent under gather."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from vectorcache import AuthenticationError, QueryResponse, RateLimitError
from conftest import OTHER_KEY


def test_gather_200_queries(make_async_client, emulator) -> None:
    async def run() -> list[QueryResponse]:
        async with make_async_client() as client:
            return await asyncio.gather(
                *(client.query(prompt=f"question number {i}", model="gpt-4o") for i in range(200))
            )

    results = asyncio.run(run())
    assert len(results) == 200
    assert all(isinstance(r, QueryResponse) for r in results)
    assert not results[0].cache_hit
    # In order: a miss is the answer to its own prompt (the stand-in quotes it). (Some of these
    # prompts are similar enough to hit one another, depending on which arrives first.)
    for i, result in enumerate(results):
        if not result.cache_hit:
            assert f'"question number {i}"' in result.response, (i, result.response)
    sent = emulator.requests()
    assert sorted(entry["body"]["prompt"] for entry in sent) == sorted(
        f"question number {i}" for i in range(200))
    assert {entry["status"] for entry in sent} == {200}


def test_gather_overlaps_slow_requests(make_async_client, emulator) -> None:
    emulator.fault({"delay_ms": 300, "count": 20})

    async def run() -> float:
        client = make_async_client()
        start = time.monotonic()
        await asyncio.gather(*(client.query(prompt=f"q{i}", model="gpt-4o") for i in range(20)))
        return time.monotonic() - start

    elapsed = asyncio.run(run())
    # Every query took its 0.3 s delay...
    assert [(entry["status"], entry["fault"]) for entry in emulator.requests()] == [(200, True)] * 20
    assert elapsed >= 0.29, elapsed
    assert elapsed < 4 * 0.3, elapsed  # ...at once: sequentially it would take 20 × 0.3 s


def test_queries_are_coroutines_for_create_task(make_async_client) -> None:
    async def run() -> tuple[bool, bool]:
        client = make_async_client()
        call = client.query(prompt="p", model="gpt-4o")
        assert asyncio.iscoroutine(call)
        first = await asyncio.create_task(call)
        second = await client.query(prompt="p", model="gpt-4o")
        return first.cache_hit, second.cache_hit

    assert asyncio.run(run()) == (False, True)


def test_loop_keeps_running_during_a_query(make_async_client, emulator) -> None:
    emulator.fault({"delay_ms": 300})

    async def run() -> int:
        client = make_async_client()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        await client.query(prompt="p", model="gpt-4o")
        task.cancel()
        return ticks

    assert asyncio.run(run()) >= 10


def test_errors_raise_from_await(make_async_client, emulator) -> None:
    emulator.fault({"status": 429, "body": {"detail": "slow down"}, "headers": {"Retry-After": "5"}})

    async def run() -> None:
        await make_async_client(max_retries=0).query(prompt="p", model="gpt-4o")

    with pytest.raises(RateLimitError) as raised:
        asyncio.run(run())
    assert (raised.value.status_code, raised.value.message, raised.value.retry_after) == (
        429, "slow down", 5.0)

    async def bad_key() -> None:
        await make_async_client(api_key=OTHER_KEY).query(prompt="p", model="gpt-4o")

    with pytest.raises(AuthenticationError) as rejected:
        asyncio.run(bad_key())
    assert (rejected.value.status_code, rejected.value.message) == (401, "Invalid API key")
    assert [entry["status"] for entry in emulator.requests()] == [429, 401]


def test_cancellation(make_async_client, emulator) -> None:
    emulator.fault({"delay_ms": 2000})

    async def run() -> float:
        client = make_async_client()
        task = asyncio.create_task(client.query(prompt="p", model="gpt-4o"))
        await asyncio.sleep(0.1)
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    assert asyncio.run(run()) < 0.5
    assert emulator.pending_faults() == 0  # the cancelled query was in flight, held by the delay


def test_one_client_across_event_loops(make_async_client) -> None:
    client = make_async_client()

    async def once() -> bool:
        return (await client.query(prompt="p", model="gpt-4o")).cache_hit

    assert asyncio.run(once()) is False
    assert asyncio.run(once()) is True


def _os_threads() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_no_thread_per_call(make_async_client, emulator) -> None:
    emulator.fault({"delay_ms": 400, "count": 100})

    async def run() -> tuple[int, int]:
        client = make_async_client()
        await client.query(prompt="warm up the runtime", model="gpt-4o")
        before = _os_threads()
        calls = [asyncio.ensure_future(client.query(prompt=f"q{i}", model="gpt-4o"))
                 for i in range(100)]
        await asyncio.sleep(0.2)  # all 100 in flight, held by the delay
        during = _os_threads()
        await asyncio.gather(*calls)
        return before, during

    before, during = asyncio.run(run())
    assert during - before < 10, (before, during)  # no thread per call
    # All 101 were answered; 100 of them (the warm-up among them) took the 0.4 s delay.
    sent = emulator.requests()
    assert [entry["status"] for entry in sent] == [200] * 101
    assert sum(entry["fault"] for entry in sent) == 100
