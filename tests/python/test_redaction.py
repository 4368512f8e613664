"""The key never shows: not in repr/str of clients, errors or results."""

from __future__ import annotations

import pytest

from conftest import API_KEY, OTHER_KEY
from vectorcache import (
    AsyncVectorcacheClient,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    VectorcacheClient,
)

SECRET_PART = API_KEY[7:]  # everything after the shown `vc_0123`


def _assert_clean(*texts: str) -> None:
    for text in texts:
        assert text, "an empty text is clean without showing anything"
        assert SECRET_PART not in text, text
        assert OTHER_KEY[7:] not in text, text


def test_client_repr(emulator) -> None:
    for cls in (VectorcacheClient, AsyncVectorcacheClient):
        client = cls(API_KEY, base_url=emulator.url)
        text = repr(client)
        _assert_clean(text, str(client))
        assert text == (f"{cls.__name__}(base_url='{emulator.url}/', api_key='vc_0123…', "
                        "timeout=30.0, max_retries=2, project_id=None)")


def test_rotated_key_repr(emulator) -> None:
    client = VectorcacheClient(API_KEY, base_url=emulator.url)
    client.set_api_key(OTHER_KEY)
    assert "api_key='vc_ffff…'" in repr(client)
    _assert_clean(repr(client))


def test_api_errors(make_client) -> None:
    client = make_client(api_key=OTHER_KEY)
    with pytest.raises(AuthenticationError) as raised:
        client.query(prompt="p", model="gpt-4o")
    error = raised.value
    assert error.detail == "Invalid API key"
    assert error.body == '{"detail":"Invalid API key"}'
    assert error.headers["www-authenticate"] == "Bearer"
    _assert_clean(str(error), repr(error), error.body, repr(error.headers), repr(error.args))


@pytest.mark.parametrize("key", ["vc_" + "z" * 32, API_KEY + " ", "Bearer " + API_KEY, API_KEY + "00"])
def test_malformed_key_errors(key) -> None:
    with pytest.raises(ConfigurationError) as raised:
        VectorcacheClient(key)
    assert raised.value.kind == "invalid_api_key"
    assert str(raised.value).startswith("invalid API key: ")
    assert key.strip() not in str(raised.value) and "z" * 8 not in str(raised.value)
    _assert_clean(str(raised.value), repr(raised.value))
    client = VectorcacheClient(API_KEY)
    with pytest.raises(ConfigurationError) as raised:
        client.set_api_key(key)
    assert raised.value.kind == "invalid_api_key"
    assert key.strip() not in str(raised.value) and "z" * 8 not in str(raised.value)
    _assert_clean(str(raised.value), repr(raised.value))


def test_results_and_request_log(make_client, emulator) -> None:
    result = make_client().query(prompt="p", model="gpt-4o", include_debug=True)
    _assert_clean(repr(result), str(result), repr(result.to_dict()), repr(result.debug))
    assert emulator.requests()[0]["headers"]["authorization"] == "Bearer vc_0123…"


def test_config_errors_with_a_key_set(monkeypatch) -> None:
    monkeypatch.setenv("VECTORCACHE_API_KEY", API_KEY)
    with pytest.raises(ConfigurationError) as raised:
        VectorcacheClient(base_url="http://example.com")
    assert raised.value.kind == "invalid_config"
    assert "refusing to send the API key over plain http to example.com" in str(raised.value)
    _assert_clean(str(raised.value), repr(raised.value))


def test_a_key_given_as_a_name_is_not_quoted_back(make_client, emulator) -> None:
    client = make_client()
    swapped = {"Bearer " + API_KEY: "Authorization"}  # name and value swapped
    with pytest.raises(InvalidRequestError) as raised:
        client.query(prompt="p", model="gpt-4o", extra_headers=swapped)
    assert '"Bearer [redacted]"' in str(raised.value)
    _assert_clean(str(raised.value), repr(raised.value), repr(raised.value.args))
    [refused, by_key] = client.query_many([
        {"prompt": "p", "model": "gpt-4o", "extra_headers": swapped},
        {"prompt": "p", "model": "gpt-4o", API_KEY: 1},
    ])
    assert isinstance(refused, InvalidRequestError) and isinstance(by_key, TypeError)
    assert "'[redacted]'" in str(by_key)
    for error in (refused, by_key):
        _assert_clean(str(error), repr(error))
    assert emulator.requests() == []
