"""Every exception class from the shared fixture (real emulator answers, transport failures and
local mistakes): class, hierarchy and every attribute; and the attributes' behaviour."""

from __future__ import annotations

import json
import pickle
import typing
from typing import Any

import pytest

import vectorcache
from conftest import API_KEY, ERROR_CASES
from vectorcache import (
    APIConnectionError,
    ConfigurationError,
    InvalidRequestError,
    ServiceUnavailableError,
)

CASES: list[dict[str, Any]] = ERROR_CASES["cases"]
ANCESTORS: dict[str, list[str]] = ERROR_CASES["python_classes"]


def _raise_case(case: dict[str, Any], emulator: Any) -> vectorcache.VectorcacheError:
    """Sets the case up (fault, client settings, query fields) and returns what it raised."""
    if "fault" in case:
        emulator.fault(case["fault"])
    settings: dict[str, Any] = {"api_key": API_KEY, "base_url": emulator.url, "max_retries": 0}
    for name, value in case.get("client", {}).items():
        if name == "timeout_ms":
            settings["timeout"] = value / 1000
        elif value is None:
            settings.pop(name)
        else:
            settings[name] = value
    query: dict[str, Any] = {"prompt": "What is ML?", "model": "gpt-4o", **case.get("query", {})}
    with pytest.raises(vectorcache.VectorcacheError) as raised:
        vectorcache.VectorcacheClient(**settings).query(**query)
    return raised.value


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture_case(case: dict[str, Any], emulator) -> None:
    error = _raise_case(case, emulator)
    # The class, exactly, and the hierarchy: an instance of its ancestors and of nothing else.
    assert type(error).__name__ == case["python"], repr(error)
    expected_families = {case["python"], *ANCESTORS[case["python"]]}
    for family in ANCESTORS:
        assert isinstance(error, getattr(vectorcache, family)) == (family in expected_families), family
    assert isinstance(error, ValueError) == (case["python"] == "InvalidRequestError")

    assert error.kind == case["kind"]
    assert error.status_code == case["status"]
    assert error.detail == case["detail"]
    assert str(error).startswith(case["message_prefix"]), str(error)
    assert error.message == (case["detail"] if case["detail"] is not None else str(error))
    assert error.retry_after == case.get("retry_after")
    assert error.attempts == case["attempts"]
    if case["status"] is None:
        assert (error.headers, error.body, error.request_id) == ({}, None, None)
    else:
        fault_body = case["fault"].get("body", "")
        if isinstance(fault_body, str):
            assert error.body == fault_body
        else:
            assert error.body is not None and json.loads(error.body) == fault_body
        assert error.request_id is not None and error.request_id.startswith("req_")
        assert error.headers["x-request-id"] == error.request_id
        assert all(name == name.lower() for name in error.headers)
    for name, value in case.get("headers", {}).items():
        assert error.headers[name] == value
    expected_rate_limit = case.get("rate_limit")
    if expected_rate_limit is None:
        assert error.rate_limit is None
    else:
        assert error.rate_limit is not None and error.rate_limit.to_dict() == expected_rate_limit
    if case.get("has_cause"):
        assert isinstance(error.__cause__, ConnectionError), repr(error.__cause__)
        assert str(error.__cause__)
    else:
        assert error.__cause__ is None
    if case["requests"] is not None:
        assert len(emulator.requests()) == case["requests"]
    if "fault" in case:
        # Every queued fault was taken by an attempt, also where the log cannot show it (a
        # timed-out request is logged only once answered).
        assert emulator.pending_faults() == 0


def test_every_class_against_every_family() -> None:
    for name, ancestors in ANCESTORS.items():
        cls = getattr(vectorcache, name)
        for family in ANCESTORS:
            expected = family == name or family in ancestors
            assert issubclass(cls, getattr(vectorcache, family)) == expected, (name, family)
    assert set(ANCESTORS) == {n for n in vectorcache._errors.__all__ if n != "ErrorKind"}


def test_every_kind_literal_is_a_kind_the_fixture_or_core_uses() -> None:
    kinds = set(typing.get_args(vectorcache.ErrorKind))
    assert {c["kind"] for c in CASES} <= kinds
    assert len(kinds) == 18


def test_api_error_attributes(make_client, emulator) -> None:
    emulator.fault({"status": 429, "body": {"detail": "Rate limit exceeded. Please try again later."},
                    "headers": {"Retry-After": "7", "X-Custom": "yes"}})
    with pytest.raises(vectorcache.RateLimitError) as raised:
        make_client(max_retries=0).query(prompt="p", model="gpt-4o")
    error = raised.value
    assert str(error) == "429 Too Many Requests: Rate limit exceeded. Please try again later."
    assert error.headers["retry-after"] == "7"
    assert error.headers["x-custom"] == "yes"
    assert all(name == name.lower() for name in error.headers)
    assert error.body == '{"detail":"Rate limit exceeded. Please try again later."}'
    assert error.retry_after == 7.0 and isinstance(error.retry_after, float)
    assert repr(error) == (
        "RateLimitError(status_code=429, message='Rate limit exceeded. Please try again later.')"
    )


def test_every_error_reads_like_the_docs() -> None:
    # `except VectorcacheError as e: e.status_code, e.message, e.retry_after` always works.
    for error in [ConfigurationError("no key"), APIConnectionError("refused"),
                  InvalidRequestError("blank")]:
        assert (error.status_code, error.retry_after, error.request_id) == (None, None, None)
        assert (error.detail, error.body, error.attempts, error.rate_limit) == (None,) * 4
        assert error.headers == {}
        assert error.message == str(error)


def test_errors_pickle_with_their_attributes(make_client, emulator) -> None:
    emulator.fault({"status": 503, "body": {"detail": "down"},
                    "headers": {"Retry-After": "2", "X-RateLimit-Limit": "10",
                                "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"}})
    with pytest.raises(ServiceUnavailableError) as raised:
        make_client(max_retries=0).query(prompt="p", model="gpt-4o")
    copy = pickle.loads(pickle.dumps(raised.value))
    assert type(copy) is ServiceUnavailableError
    fields = ("status_code", "message", "detail", "retry_after", "headers", "body", "request_id",
              "attempts", "kind")
    assert [getattr(copy, f) for f in fields] == [getattr(raised.value, f) for f in fields]
    assert (copy.status_code, copy.message, copy.retry_after, copy.attempts) == (503, "down", 2.0, 1)
    assert str(copy) == str(raised.value)
    assert copy.rate_limit == {"limit": 10, "remaining": 0, "reset": 4102444800}
    assert type(copy.rate_limit) is vectorcache.RateLimit
