"""The asyncio client: real awaitables on the running loop, concurrent under gather."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
import weakref
from typing import Iterator

import pytest
import uvloop

from vectorcache import AuthenticationError, QueryResponse, RateLimitError
from conftest import OTHER_KEY


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs on asyncio's own loop and on uvloop, the loop uvicorn (and so
    gunicorn's uvicorn workers) runs whenever it is installed."""
    if request.param == "uvloop":
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        yield request.param
    finally:
        asyncio.set_event_loop_policy(None)


def test_the_loop_is_the_one_asked_for(loop_kind: str) -> None:
    async def running() -> str:
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    assert asyncio.run(running()) == loop_kind


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


def test_answers_settle_while_another_query_still_waits(make_async_client, emulator) -> None:
    # The runtime wakes the loop once per busy stretch rather than per answer; an answer must
    # still settle as soon as the runtime has nothing left to run, not when the last query
    # outstanding (here one held 2 s by the server) ends.
    emulator.fault({"delay_ms": 2000, "count": 1})

    async def run() -> tuple[list[QueryResponse], list[QueryResponse], float, bool, QueryResponse]:
        client = make_async_client()
        slow = asyncio.create_task(client.query(prompt="slow", model="gpt-4o"))
        while emulator.pending_faults():  # until the slow query is at the server
            await asyncio.sleep(0.01)
        start = time.monotonic()
        together = await asyncio.gather(
            *(client.query(prompt=f"fast question {i}", model="gpt-4o") for i in range(20)))
        one_by_one = [
            await client.query(prompt=f"fast question {i}", model="gpt-4o") for i in range(5)]
        elapsed = time.monotonic() - start
        return together, one_by_one, elapsed, slow.done(), await slow

    together, one_by_one, elapsed, slow_done, slow = asyncio.run(run())
    assert [type(r) for r in together] == [QueryResponse] * 20
    assert [r.cache_hit for r in one_by_one] == [True] * 5
    assert not slow_done, "the fast answers came first"
    assert elapsed < 1.0, f"25 answers took {elapsed:.2f} s beside a query of 2 s"
    assert slow.cache_hit is False
    # Logged as answered: the slow one last.
    assert [entry["fault"] for entry in emulator.requests()] == [False] * 25 + [True]


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


#: Only the same prompt hits (so that each answer names its own prompt).
EXACT = 1.0


def _answers(prompts: list[str], results: list[object]) -> None:
    """Each result is the answer to its own prompt (the emulator echoes the prompt)."""
    for prompt, result in zip(prompts, results):
        assert isinstance(result, QueryResponse), (prompt, result)
        assert f'"{prompt}"' in result.response, (prompt, result.response)


def test_200_in_flight_each_get_their_own_outcome(make_async_client, emulator) -> None:
    # The first 20 requests fail: errors and answers arrive in the same batches.
    emulator.fault({"status": 429, "body": {"detail": "slow down"}, "count": 20})
    prompts = [f"question number {i}" for i in range(200)]

    async def run() -> list[object]:
        async with make_async_client(max_retries=0) as client:
            return await asyncio.gather(
                *(client.query(prompt=p, model="gpt-4o", similarity_threshold=EXACT) for p in prompts),
                return_exceptions=True,
            )

    results = asyncio.run(run())
    answered = [(p, r) for p, r in zip(prompts, results) if not isinstance(r, RateLimitError)]
    assert len(answered) == 180
    _answers([p for p, _ in answered], [r for _, r in answered])
    assert len(emulator.requests()) == 200


def test_cancelling_half_of_50_in_flight(make_async_client, emulator) -> None:
    emulator.fault({"delay_ms": 300, "count": 50})
    prompts = [f"q{i}" for i in range(50)]

    async def run() -> tuple[list[object], object]:
        client = make_async_client()
        tasks = [asyncio.create_task(client.query(prompt=p, model="gpt-4o", similarity_threshold=EXACT))
                 for p in prompts]
        await asyncio.sleep(0.1)  # all 50 sent, held by the delay
        for task in tasks[::2]:
            task.cancel()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
        # The loop's delivery still works afterwards.
        again = client.query(prompt="q1", model="gpt-4o", similarity_threshold=EXACT)
        after = await asyncio.wait_for(again, 10)
        return results, after

    results, after = asyncio.run(run())
    assert all(isinstance(r, asyncio.CancelledError) for r in results[::2])
    _answers(prompts[1::2], results[1::2])
    assert isinstance(after, QueryResponse) and after.cache_hit


def test_two_loops_in_two_threads(make_async_client) -> None:
    client = make_async_client()
    outcomes: dict[int, object] = {}

    def thread(n: int) -> None:
        prompts = [f"thread {n} question {i}" for i in range(100)]

        async def run() -> list[QueryResponse]:
            return await asyncio.gather(
                *(client.query(prompt=p, model="gpt-4o", similarity_threshold=EXACT) for p in prompts))

        try:
            _answers(prompts, asyncio.run(run()))
            outcomes[n] = "ok"
        except BaseException as e:
            outcomes[n] = e

    threads = [threading.Thread(target=thread, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == {0: "ok", 1: "ok"}


def test_a_loop_closed_with_queries_in_flight(make_async_client, emulator) -> None:
    emulator.fault({"delay_ms": 300, "count": 10})
    client = make_async_client()
    loop = asyncio.new_event_loop()
    destroyed: list[str] = []
    loop.set_exception_handler(lambda _, context: destroyed.append(context["message"]))
    tasks = [loop.create_task(client.query(prompt=f"q{i}", model="gpt-4o")) for i in range(10)]
    loop.run_until_complete(asyncio.sleep(0.1))
    loop.close()  # the ten never get their answers
    time.sleep(0.4)  # which arrive for a loop that is closed
    closed = weakref.ref(loop)
    del tasks, loop

    async def again() -> QueryResponse:
        return await client.query(prompt="after", model="gpt-4o")

    assert asyncio.run(again()).response  # a new loop: the closed one's state is let go
    gc.collect()
    assert closed() is None
    assert destroyed == ["Task was destroyed but it is pending!"] * 10


class _NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop that cannot watch file descriptors (like Windows' proactor loop)."""

    def add_reader(self, *args: object) -> None:  # type: ignore[override]
        raise NotImplementedError


def test_a_loop_without_add_reader(make_async_client, emulator) -> None:
    prompts = [f"question {i}" for i in range(50)]
    client = make_async_client()

    async def gather() -> list[QueryResponse]:
        return await asyncio.gather(
            *(client.query(prompt=p, model="gpt-4o", similarity_threshold=EXACT) for p in prompts))

    async def cancel() -> float:
        slow = asyncio.create_task(client.query(prompt="slow", model="gpt-4o", similarity_threshold=EXACT))
        await asyncio.sleep(0.1)
        start = time.monotonic()
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        return time.monotonic() - start

    loop = _NoReaderLoop()
    try:
        _answers(prompts, loop.run_until_complete(gather()))
        emulator.fault({"delay_ms": 2000})
        assert loop.run_until_complete(cancel()) < 0.5
    finally:
        loop.close()


def test_awaited_without_an_asyncio_loop_says_what_to_do(make_async_client, emulator) -> None:
    # What trio (or driving the coroutine by hand) gets: no asyncio loop runs in this thread.
    call = make_async_client().query(prompt="p", model="gpt-4o")
    with pytest.raises(RuntimeError) as raised:
        call.send(None)
    message = str(raised.value)
    assert "AsyncVectorcacheClient runs on asyncio" in message, message
    assert "VectorcacheClient" in message and "trio.to_thread.run_sync" in message, message
    assert isinstance(raised.value.__cause__, RuntimeError)  # asyncio's own, kept as the cause
    time.sleep(0.1)
    assert emulator.requests() == []  # nothing was sent
