"""vectorcache.testing: a user's own code tested against the in-process emulator."""

from __future__ import annotations

from typing import Any

import pytest

from vectorcache import APIError, VectorcacheClient
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
        assert answer_with_fallback(client, "What is AI?") != "answered by the LLM directly"
        emulator.add_fault(status=503, body={"detail": "down"})
        assert answer_with_fallback(client, "What is AI?") == "answered by the LLM directly"
        sent = emulator.requests()
        assert [entry["status"] for entry in sent] == [200, 503]
        assert sent[0]["headers"]["authorization"].startswith("Bearer vc_")
        assert emulator.api_key not in repr(sent)
        emulator.reset()
        assert emulator.requests() == []
        assert client.query(prompt="What is AI?", model="gpt-4o").cache_hit is False  # reset cache


def test_the_fixture_and_a_chosen_key(vectorcache_emulator: Emulator) -> None:  # noqa: F811
    assert vectorcache_emulator.base_url.startswith("http://127.0.0.1:")
    assert vectorcache_emulator.client().query(prompt="p", model="gpt-4o").response
    key = "vc_" + "ab" * 16
    with Emulator(key) as emulator:
        assert emulator.api_key == key
        assert VectorcacheClient(key, base_url=emulator.base_url).query(prompt="p", model="gpt-4o")


def test_async_client_and_stopping() -> None:
    import asyncio

    emulator = Emulator().start()
    client = emulator.async_client()

    async def run() -> Any:
        async with client:
            return await client.query(prompt="p", model="gpt-4o")

    assert asyncio.run(run()).response
    url = emulator.base_url
    emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        emulator.base_url
    assert "stopped" in repr(emulator)
    with pytest.raises(APIError):  # nothing listens there any more
        VectorcacheClient("vc_" + "0" * 32, base_url=url, max_retries=0).query(
            prompt="p", model="gpt-4o")
