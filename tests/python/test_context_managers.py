"""`with` and `async with`: the client is usable inside and closed after."""

from __future__ import annotations

import asyncio

import pytest

from vectorcache import AsyncVectorcacheClient, VectorcacheClient, VectorcacheError


def test_with_returns_the_client_and_closes_it(make_client, emulator) -> None:
    with make_client() as client:
        assert isinstance(client, VectorcacheClient)
        assert client.query(prompt="p", model="gpt-4o").cache_hit is False
    assert client.closed is True
    assert "closed=True" in repr(client)
    with pytest.raises(VectorcacheError, match="this Vectorcache client is closed"):
        client.query(prompt="p", model="gpt-4o")
    assert len(emulator.requests()) == 1  # the query inside the block; none after


def test_with_propagates_exceptions(make_client) -> None:
    with pytest.raises(KeyError, match="boom"):
        with make_client() as client:
            raise KeyError("boom")
    assert client.closed is True


def test_close_is_idempotent(make_client, emulator) -> None:
    client = make_client()
    client.close()
    client.close()
    assert client.closed is True
    with pytest.raises(VectorcacheError, match="this Vectorcache client is closed"):
        client.query(prompt="p", model="gpt-4o")
    assert emulator.requests() == []


def test_async_with(make_async_client, emulator) -> None:
    async def run() -> AsyncVectorcacheClient:
        async with make_async_client() as client:
            assert isinstance(client, AsyncVectorcacheClient)
            first = await client.query(prompt="p", model="gpt-4o")
            second = await client.query(prompt="p", model="gpt-4o")
            assert (first.cache_hit, second.cache_hit) == (False, True)
        return client

    client = asyncio.run(run())
    assert client.closed is True

    async def after_close() -> None:
        await client.query(prompt="p", model="gpt-4o")

    with pytest.raises(VectorcacheError, match="this Vectorcache client is closed"):
        asyncio.run(after_close())
    assert len(emulator.requests()) == 2  # the two inside the block; none after


def test_aclose(make_async_client, emulator) -> None:
    async def run() -> None:
        client = make_async_client()
        assert (await client.query(prompt="p", model="gpt-4o")).cache_hit is False
        await client.aclose()
        assert client.closed is True
        with pytest.raises(VectorcacheError, match="this Vectorcache client is closed"):
            await client.query(prompt="p", model="gpt-4o")

    asyncio.run(run())
    assert len(emulator.requests()) == 1  # the query before aclose, none after
