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
