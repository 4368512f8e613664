"""The core's events reach Python's logging (logger "vectorcache"), never with the key."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from conftest import API_KEY


def test_answers_and_retries_are_logged(make_client, emulator, caplog: pytest.LogCaptureFixture) -> None:
    emulator.fault({"status": 503, "body": {"detail": "busy"}, "headers": {"Retry-After": "0"}, "count": 2})
    with caplog.at_level(logging.DEBUG, logger="vectorcache"):
        make_client(max_retries=2).query(prompt="p", model="gpt-4o")
    records = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name == "vectorcache"]
    levels = [level for _, level, _ in records]
    assert levels == [logging.DEBUG, logging.INFO, logging.DEBUG, logging.INFO, logging.DEBUG]
    assert records[0][2].startswith("Vectorcache answered 503 in ")
    assert "(attempt 1, request req_" in records[0][2]
    assert records[1][2].startswith("retrying the Vectorcache query in 0 ms (retry 1 of 2) after: 503")
    assert records[4][2].startswith("Vectorcache answered 200 in ")
    assert all(API_KEY[8:] not in message for _, _, message in records)
    assert [entry["status"] for entry in emulator.requests()] == [503, 503, 200]


def test_info_level_shows_only_retries(make_client, emulator, caplog: pytest.LogCaptureFixture) -> None:
    emulator.fault({"status": 429, "body": {"detail": "slow"}, "headers": {"Retry-After": "0"}})
    with caplog.at_level(logging.INFO, logger="vectorcache"):
        make_client(max_retries=1).query(prompt="p", model="gpt-4o")
    messages = [r.getMessage() for r in caplog.records if r.name == "vectorcache"]
    assert len(messages) == 1, messages
    assert messages[0].startswith("retrying the Vectorcache query in 0 ms (retry 1 of 1) after: "
                                  "429 Too Many Requests: slow"), messages[0]
    assert [entry["status"] for entry in emulator.requests()] == [429, 200]


def test_the_async_client_logs_on_the_loop(make_async_client, caplog: pytest.LogCaptureFixture) -> None:
    async def run() -> int:
        async with make_async_client() as client:
            await client.query(prompt="p", model="gpt-4o")
        return threading.get_ident()

    with caplog.at_level(logging.DEBUG, logger="vectorcache"):
        loop_thread = asyncio.run(run())
    records = [r for r in caplog.records if r.name == "vectorcache"]
    messages = [r.getMessage() for r in records]
    assert len(messages) == 1 and messages[0].startswith("Vectorcache answered 200")
    # Emitted by the event loop's thread, not by one of the runtime's.
    assert [r.thread for r in records] == [loop_thread]


def test_a_batch_logs_its_answers_when_it_returns(make_client, emulator,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="vectorcache"):
        make_client().query_many([{"prompt": f"q{i}", "model": "gpt-4o"} for i in range(5)])
        messages = [r.getMessage() for r in caplog.records if r.name == "vectorcache"]
    assert len(messages) == 5 and all(m.startswith("Vectorcache answered 200") for m in messages)


def test_events_nobody_would_see_are_not_kept(make_client, emulator,
                                              caplog: pytest.LogCaptureFixture) -> None:
    # At the default level (WARNING) answers and retries are not logged; they must not pile up
    # either (a batch-only program grew by about 1 MB per 5,000 queries), nor flood the log
    # once it is switched on.
    client = make_client()
    client.query_many([{"prompt": f"q{i}", "model": "gpt-4o"} for i in range(300)])
    with caplog.at_level(logging.DEBUG, logger="vectorcache"):
        client.query(prompt="the one", model="gpt-4o")
    messages = [r.getMessage() for r in caplog.records if r.name == "vectorcache"]
    assert len(messages) == 1, len(messages)


def _wait_for(condition, limit_s: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_each_call_logs_on_its_own_thread_and_a_retry_as_its_wait_starts(
        make_client, emulator, caplog: pytest.LogCaptureFixture) -> None:
    # A's first attempt gets a 503 asking for a 1 s wait; B queries meanwhile, on its thread.
    emulator.fault({"status": 503, "body": {"detail": "busy"}, "headers": {"Retry-After": "1"}})
    client = make_client(max_retries=1)
    ended: dict[str, float] = {}

    def call(name: str) -> None:
        client.query(prompt=name, model="gpt-4o")
        ended[name] = __import__("time").time()

    with caplog.at_level(logging.DEBUG, logger="vectorcache"):
        a = threading.Thread(target=call, args=("a",), name="caller-a")
        a.start()
        _wait_for(lambda: [e["status"] for e in emulator.requests()] == [503])
        for _ in range(3):
            b = threading.Thread(target=call, args=("b",), name="caller-b")
            b.start()
            b.join()
        a.join()
    records = [r for r in caplog.records if r.name == "vectorcache"]
    by_thread = {name: [r.getMessage() for r in records if r.threadName == name]
                 for name in ("caller-a", "caller-b")}
    assert len(records) == 6, [(r.threadName, r.getMessage()) for r in records]
    assert [m.split(" in ")[0] for m in by_thread["caller-a"]] == [
        "Vectorcache answered 503", "retrying the Vectorcache query", "Vectorcache answered 200"]
    assert "(attempt 2," in by_thread["caller-a"][2]
    assert len(by_thread["caller-b"]) == 3
    assert all(m.startswith("Vectorcache answered 200") and "(attempt 1," in m for m in by_thread["caller-b"])
    # The retry was logged while A waited its second, not when its call returned.
    retry = next(r for r in records if r.getMessage().startswith("retrying"))
    assert ended["a"] - retry.created > 0.5, ended["a"] - retry.created


def test_the_async_client_logs_in_the_calls_task_context_and_a_cancelled_call_its_own(
        make_async_client, emulator) -> None:
    import contextvars

    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
    seen: list[tuple[str, str]] = []

    created: dict[str, float] = {}

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((request_id.get(), record.getMessage().split(" in ")[0]))
            created.setdefault(request_id.get(), record.created)

    cancelled_at: list[float] = []
    logger = logging.getLogger("vectorcache")
    handler, level = Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    async def run() -> None:
        async with make_async_client(max_retries=1) as client:
            async def call(name: str) -> None:
                request_id.set(name)
                await client.query(prompt=name, model="gpt-4o")

            await asyncio.create_task(call("one"))
            emulator.fault({"status": 503, "body": {"detail": "busy"}, "headers": {"Retry-After": "5"}})
            waiting = asyncio.create_task(call("two"))
            while [e["status"] for e in await asyncio.to_thread(emulator.requests)] != [200, 503]:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the retry is decided
            cancelled_at.append(__import__("time").time())
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await asyncio.create_task(call("three"))

    try:
        asyncio.run(run())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert seen == [
        ("one", "Vectorcache answered 200"),
        ("two", "Vectorcache answered 503"),
        ("two", "retrying the Vectorcache query"),
        ("three", "Vectorcache answered 200"),
    ]
    # Logged at the cancel, dated when the 503 came (over 0.2 s before).
    assert cancelled_at[0] - created["two"] > 0.15, cancelled_at[0] - created["two"]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork()")
def test_a_forked_child_does_not_log_its_parents_call(make_async_client, emulator) -> None:
    import os

    seen: list[tuple[int, str]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((os.getpid(), record.getMessage().split(" in ")[0]))

    logger = logging.getLogger("vectorcache")
    handler, level = Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    loop = asyncio.new_event_loop()
    try:
        client = make_async_client(max_retries=1)
        emulator.fault({"status": 503, "body": {"detail": "busy"}, "headers": {"Retry-After": "1"}})
        pending = loop.create_task(client.query(prompt="p", model="gpt-4o"))

        async def retry_decided() -> None:
            while not emulator.requests():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)

        loop.run_until_complete(retry_decided())
        # Forked with the call pending and the loop stopped: the child runs the loop again.
        child = os.fork()
        if child == 0:
            records = 100  # if anything here fails
            try:
                pending.cancel()  # its done-callbacks (which log) run in the child
                loop.run_until_complete(asyncio.sleep(0.1))
                records = sum(1 for who, _ in seen if who == os.getpid())
            finally:
                os._exit(records)  # never back into pytest
        _, status = os.waitpid(child, 0)
        loop.run_until_complete(pending)
    finally:
        loop.close()
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert os.waitstatus_to_exitcode(status) == 0, "records the child logged"
    assert seen == [(os.getpid(), m) for m in (
        "Vectorcache answered 503", "retrying the Vectorcache query", "Vectorcache answered 200")]
