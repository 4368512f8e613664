"""Every exception class from a real HTTP answer (the shared fixture), and their attributes."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import vectorcache
from conftest import ERROR_CASES
from vectorcache import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    BadGatewayError,
    ConfigurationError,
    InternalServerError,
    InvalidRequestError,
    ServiceUnavailableError,
    VectorcacheError,
)

CASES: list[dict[str, Any]] = ERROR_CASES["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture_case_raises_its_class(case: dict[str, Any], make_client, emulator) -> None:
    emulator.fault(case["fault"])
    expected = getattr(vectorcache, case["python"])
    with pytest.raises(expected) as raised:
        make_client(max_retries=0).query(prompt="What is ML?", model="gpt-4o")
    error = raised.value
    assert isinstance(error, VectorcacheError)
    assert isinstance(error, APIError)
    assert error.kind == case["kind"]
    assert error.status_code == case["status"]
    if case["detail"] is not None:
        assert error.detail == case["detail"]
        assert error.message == case["detail"]
        assert case["detail"] in str(error)
    assert error.retry_after == case.get("retry_after")
    assert error.request_id and error.request_id.startswith("req_")
    assert len(emulator.requests()) == 1  # max_retries=0: one attempt


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


def test_specific_5xx_classes(make_client, emulator) -> None:
    client = make_client(max_retries=0)
    for status, cls in [(502, BadGatewayError), (503, ServiceUnavailableError),
                        (500, InternalServerError), (504, InternalServerError)]:
        emulator.fault({"status": status, "body": {"detail": "x"}})
        with pytest.raises(cls) as raised:
            client.query(prompt="p", model="gpt-4o")
        assert type(raised.value) is cls
        assert isinstance(raised.value, InternalServerError)


def test_non_5xx_other_status_is_plain_api_error(make_client, emulator) -> None:
    emulator.fault({"status": 302, "body": "", "headers": {"Location": "https://elsewhere.example"}})
    with pytest.raises(APIError) as raised:
        make_client(max_retries=0).query(prompt="p", model="gpt-4o")
    assert type(raised.value) is APIError
    assert raised.value.status_code == 302


def test_decode_error(make_client, emulator) -> None:
    emulator.fault({"status": 200, "body": "{\"cache_hit\": tr"})
    with pytest.raises(APIResponseValidationError) as raised:
        make_client().query(prompt="p", model="gpt-4o")
    error = raised.value
    assert error.status_code == 200 and error.detail is None
    assert error.body.startswith('{"cache_hit": tr')
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert error.headers["x-request-id"] == error.request_id
    assert str(error).startswith("could not decode the 200 response")
    assert error.message == str(error)
    assert len(emulator.requests()) == 1  # not retried


def test_hierarchy() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, VectorcacheError)
    assert not issubclass(APIConnectionError, APIError)
    assert issubclass(APIResponseValidationError, APIError)
    assert issubclass(InvalidRequestError, ValueError)
    assert issubclass(ConfigurationError, VectorcacheError)
    for name in vectorcache._errors.__all__:
        assert issubclass(getattr(vectorcache, name), Exception)


def test_every_error_reads_like_the_docs() -> None:
    # `except VectorcacheError as e: e.status_code, e.message, e.retry_after` always works.
    for error in [ConfigurationError("no key"), APIConnectionError("refused"),
                  InvalidRequestError("blank")]:
        assert (error.status_code, error.retry_after, error.request_id) == (None, None, None)
        assert error.message == str(error)


def test_errors_pickle_with_their_attributes(make_client, emulator) -> None:
    emulator.fault({"status": 503, "body": {"detail": "down"}, "headers": {"Retry-After": "2"}})
    with pytest.raises(ServiceUnavailableError) as raised:
        make_client(max_retries=0).query(prompt="p", model="gpt-4o")
    copy = pickle.loads(pickle.dumps(raised.value))
    assert type(copy) is ServiceUnavailableError
    assert (copy.status_code, copy.message, copy.retry_after, copy.headers, str(copy)) == (
        503, "down", 2.0, raised.value.headers, str(raised.value))
