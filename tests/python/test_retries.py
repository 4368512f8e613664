"""Retries: the core's policy, seen through the emulator's request log and the clock."""

from __future__ import annotations

import time

import pytest

from vectorcache import BadRequestError, RateLimitError, ServiceUnavailableError

RATE_LIMITED = {"status": 429, "body": {"detail": "Rate limit exceeded. Please try again later."}}


def _attempts(emulator) -> list[int]:
    return [entry["status"] for entry in emulator.requests()]


def test_retry_after_seconds_is_honoured(make_client, emulator) -> None:
    emulator.fault({**RATE_LIMITED, "headers": {"Retry-After": "1"}, "count": 2})
    start = time.monotonic()
    result = make_client(max_retries=2).query(prompt="p", model="gpt-4o")
    elapsed = time.monotonic() - start
    assert result.cache_hit is False
    assert _attempts(emulator) == [429, 429, 200]
    assert 2.0 <= elapsed < 6.0, elapsed


def test_retry_after_ms_on_503(make_client, emulator) -> None:
    emulator.fault({"status": 503, "body": {"detail": "Service temporarily unavailable"},
                    "headers": {"retry-after-ms": "400"}, "count": 2})
    start = time.monotonic()
    result = make_client(max_retries=2).query(prompt="p", model="gpt-4o")
    elapsed = time.monotonic() - start
    assert result.cache_hit is False
    assert _attempts(emulator) == [503, 503, 200]
    assert 0.8 <= elapsed < 4.0, elapsed


def test_x_ratelimit_reset_is_honoured(make_client, emulator) -> None:
    # A reset two seconds ahead (Unix time): the wait is at most 2 s and more than 1 s.
    reset = str(int(time.time()) + 2)
    emulator.fault({**RATE_LIMITED, "headers": {"X-RateLimit-Limit": "100",
                                                "X-RateLimit-Remaining": "0",
                                                "X-RateLimit-Reset": reset}})
    start = time.monotonic()
    result = make_client(max_retries=1).query(prompt="p", model="gpt-4o")
    elapsed = time.monotonic() - start
    assert result.cache_hit is False
    assert _attempts(emulator) == [429, 200]
    assert 0.9 <= elapsed < 4.0, elapsed


def test_gives_up_after_max_retries(make_client, emulator) -> None:
    emulator.fault({**RATE_LIMITED, "headers": {"retry-after-ms": "10"}, "count": 5})
    with pytest.raises(RateLimitError) as raised:
        make_client(max_retries=2).query(prompt="p", model="gpt-4o")
    assert (raised.value.status_code, raised.value.attempts) == (429, 3)
    assert _attempts(emulator) == [429, 429, 429]
    assert emulator.pending_faults() == 2  # no fourth attempt


def test_zero_retries_means_one_attempt(make_client, emulator) -> None:
    emulator.fault({"status": 503, "headers": {"retry-after-ms": "10"}, "count": 2})
    with pytest.raises(ServiceUnavailableError) as raised:
        make_client(max_retries=0).query(prompt="p", model="gpt-4o")
    assert raised.value.attempts == 1
    assert _attempts(emulator) == [503]
    assert emulator.pending_faults() == 1  # no second attempt


def test_client_errors_are_not_retried(make_client, emulator) -> None:
    emulator.fault({"status": 400, "body": {"detail": "Invalid JSON format"}, "count": 3})
    with pytest.raises(BadRequestError) as raised:
        make_client(max_retries=2).query(prompt="p", model="gpt-4o")
    assert (raised.value.status_code, raised.value.detail, raised.value.attempts) == (
        400, "Invalid JSON format", 1)
    assert _attempts(emulator) == [400]
    assert emulator.pending_faults() == 2


def test_too_long_a_wait_fails_at_once_with_retry_after(make_client, emulator) -> None:
    emulator.fault({**RATE_LIMITED, "headers": {"Retry-After": "3600"}})
    start = time.monotonic()
    with pytest.raises(RateLimitError) as raised:
        make_client(max_retries=2).query(prompt="p", model="gpt-4o")
    assert time.monotonic() - start < 2.0
    assert raised.value.retry_after == 3600.0
    assert raised.value.attempts == 1
    assert _attempts(emulator) == [429]
