"""`with` and `async with`: the client is usable inside and closed after."""

from __future__ import annotations

import asyncio

import pytest

from vectorcache import AsyncVectorcacheClient, VectorcacheClient, VectorcacheError


def test_with_returns_the_client_and_closes_it(make_client) -> None:
    with make_client() as client:
        assert isinstance(client, VectorcacheClient)
        assert client.query(prompt="p", model="gpt-4o").cache_hit is False
    assert client.closed
    assert "closed=True" in repr(client)
    with pytest.raises(VectorcacheError, match="closed"):
        client.query(prompt="p", model="gpt-4o")


def test_with_propagates_exceptions(make_client) -> None:
    with pytest.raises(KeyError):
        with make_client() as client:
            raise KeyError("boom")
    assert client.closed


def test_close_is_idempotent(make_client) -> None:
    client = make_client()
    client.close()
    client.close()
    assert client.closed


def test_async_with(make_async_client) -> None:
    async def run() -> AsyncVectorcacheClient:
        async with make_async_client() as client:
            assert isinstance(client, AsyncVectorcacheClient)
            first = await client.query(prompt="p", model="gpt-4o")
            second = await client.query(prompt="p", model="gpt-4o")
            assert (first.cache_hit, second.cache_hit) == (False, True)
        return client

    client = asyncio.run(run())
    assert client.closed

    async def after_close() -> None:
        await client.query(prompt="p", model="gpt-4o")

    with pytest.raises(VectorcacheError, match="closed"):
        asyncio.run(after_close())


def test_aclose(make_async_client) -> None:
    async def run() -> bool:
        client = make_async_client()
        await client.aclose()
        return client.closed

    assert asyncio.run(run())
