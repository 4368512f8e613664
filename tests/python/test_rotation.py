"""Key rotation on a live client (core `Client::set_api_key`)."""

from __future__ import annotations

import asyncio

import pytest

from conftest import API_KEY, OTHER_KEY
from vectorcache import AuthenticationError, ConfigurationError


def test_rotate_to_a_rejected_key_and_back(make_client, emulator) -> None:
    client = make_client(max_retries=0)
    client.query(prompt="p", model="gpt-4o")
    client.set_api_key(OTHER_KEY)
    with pytest.raises(AuthenticationError) as raised:
        client.query(prompt="p", model="gpt-4o")
    assert raised.value.detail == "Invalid API key"
    client.set_api_key(API_KEY)
    assert client.query(prompt="p", model="gpt-4o").cache_hit is True
    sent = [(e["status"], e["headers"]["authorization"]) for e in emulator.requests()]
    assert sent == [(200, "Bearer vc_0123…"), (401, "Bearer vc_ffff…"), (200, "Bearer vc_0123…")]


def test_rotate_to_the_accepted_key(make_client, emulator) -> None:
    client = make_client(api_key=OTHER_KEY, max_retries=0)
    with pytest.raises(AuthenticationError):
        client.query(prompt="p", model="gpt-4o")
    client.set_api_key(API_KEY)
    assert client.query(prompt="p", model="gpt-4o").cache_hit is False
    sent = [(e["status"], e["headers"]["authorization"]) for e in emulator.requests()]
    assert sent == [(401, "Bearer vc_ffff…"), (200, "Bearer vc_0123…")]


def test_malformed_new_key_keeps_the_old_one(make_client, emulator) -> None:
    client = make_client()
    with pytest.raises(ConfigurationError) as raised:
        client.set_api_key("sk-not-a-vectorcache-key")
    assert raised.value.kind == "invalid_api_key"
    assert "api_key='vc_0123…'" in repr(client)
    assert client.query(prompt="p", model="gpt-4o").cache_hit is False
    sent = [(e["status"], e["headers"]["authorization"]) for e in emulator.requests()]
    assert sent == [(200, "Bearer vc_0123…")]


def test_async_client_rotation(make_async_client, emulator) -> None:
    async def run() -> None:
        client = make_async_client(api_key=OTHER_KEY, max_retries=0)
        with pytest.raises(AuthenticationError):
            await client.query(prompt="p", model="gpt-4o")
        client.set_api_key(API_KEY)
        assert (await client.query(prompt="p", model="gpt-4o")).cache_hit is False

    asyncio.run(run())
    sent = [(e["status"], e["headers"]["authorization"]) for e in emulator.requests()]
    assert sent == [(401, "Bearer vc_ffff…"), (200, "Bearer vc_0123…")]
