"""Local validation (the core's): bad arguments raise before anything is sent."""

from __future__ import annotations

import asyncio

import pytest

from vectorcache import InvalidRequestError

BAD_QUERIES = [
    {"prompt": "", "model": "gpt-4o"},
    {"prompt": "  \n", "model": "gpt-4o"},
    {"prompt": "p", "model": ""},
    {"prompt": "p", "model": "gpt-4o", "similarity_threshold": 1.01},
    {"prompt": "p", "model": "gpt-4o", "similarity_threshold": -0.1},
    {"prompt": "p", "model": "gpt-4o", "similarity_threshold": float("nan")},
    {"prompt": "p", "model": "gpt-4o", "project_id": " "},
]

# The arguments, and the one of the wrong type.
WRONG_TYPES = [
    ({"prompt": None, "model": "gpt-4o"}, "prompt"),
    ({"prompt": 123, "model": "gpt-4o"}, "prompt"),
    ({"prompt": "p", "model": None}, "model"),
    ({"prompt": "p", "model": "gpt-4o", "similarity_threshold": "high"}, "similarity_threshold"),
    ({"prompt": "p", "model": "gpt-4o", "context": 5}, "context"),
    ({"prompt": "p", "model": "gpt-4o", "include_debug": 1}, "include_debug"),
    ({"prompt": "p", "model": "gpt-4o", "include_debug": "yes"}, "include_debug"),
    ({"prompt": "p", "model": "gpt-4o", "timeout": "5"}, "timeout"),
    ({"prompt": "p", "model": "gpt-4o", "similarity_threshold": True}, "similarity_threshold"),
]


@pytest.mark.parametrize("kwargs", BAD_QUERIES)
def test_sync_invalid_request_sends_nothing(kwargs, make_client, emulator) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        make_client().query(**kwargs)
    assert isinstance(raised.value, ValueError)
    assert raised.value.kind == "invalid_request"
    assert str(raised.value).startswith("invalid request: ")
    assert emulator.requests() == []


@pytest.mark.parametrize("kwargs", BAD_QUERIES)
def test_async_invalid_request_sends_nothing(kwargs, make_async_client, emulator) -> None:
    async def run() -> None:
        async with make_async_client() as client:
            await client.query(**kwargs)

    with pytest.raises(InvalidRequestError) as raised:
        asyncio.run(run())
    assert raised.value.kind == "invalid_request"
    assert str(raised.value).startswith("invalid request: ")
    assert emulator.requests() == []


@pytest.mark.parametrize(("kwargs", "name"), WRONG_TYPES)
def test_wrong_python_types_raise_type_error(kwargs, name, make_client, make_async_client,
                                             emulator) -> None:
    # The message names the argument of the wrong type.
    with pytest.raises(TypeError, match=f"^`{name}` must be "):
        make_client().query(**kwargs)

    async def run() -> None:
        await make_async_client().query(**kwargs)

    with pytest.raises(TypeError, match=f"^`{name}` must be "):
        asyncio.run(run())
    assert emulator.requests() == []


def test_threshold_bounds_are_inclusive(make_client, emulator) -> None:
    client = make_client()
    client.query(prompt="p", model="gpt-4o", similarity_threshold=0.0)
    client.query(prompt="p", model="gpt-4o", similarity_threshold=1)
    sent = emulator.requests()
    assert [(e["status"], e["body"]["similarity_threshold"]) for e in sent] == [(200, 0.0), (200, 1.0)]


def test_numbers_are_read_alike_and_too_large_ones_are_shown_as_given(make_client, emulator) -> None:
    from decimal import Decimal
    from fractions import Fraction

    client = make_client()
    # Any real number Python converts to a float, for the threshold as for the timeouts.
    client.query(prompt="p", model="gpt-4o", similarity_threshold=Decimal("0.5"), timeout=Decimal("5"))
    client.query(prompt="p", model="gpt-4o", similarity_threshold=Fraction(3, 4), total_timeout=Fraction(10))
    client.query(prompt="p", model="gpt-4o", include_debug=None)
    sent = emulator.requests()
    assert [e["body"].get("similarity_threshold") for e in sent] == [0.5, 0.75, None]
    assert "include_debug" not in sent[2]["body"]
    for name in ("timeout", "total_timeout"):
        with pytest.raises(InvalidRequestError, match=rf"`{name}` must be a number of seconds from 0 to 1e9 \(about 31 years\), got 1000"):
            client.query(prompt="p", model="gpt-4o", **{name: 10**400})
    with pytest.raises(InvalidRequestError, match="got 1E[+]400"):
        client.query(prompt="p", model="gpt-4o", similarity_threshold=Decimal("1e400"))
    assert len(emulator.requests()) == 3
