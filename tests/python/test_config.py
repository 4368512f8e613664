"""Configuration: the environment, explicit arguments, and the core's checks on them."""

from __future__ import annotations

import pytest

import vectorcache

from conftest import API_KEY, OTHER_KEY
from vectorcache import (
    AsyncVectorcacheClient,
    ConfigurationError,
    InvalidRequestError,
    VectorcacheClient,
)


def test_key_and_base_url_from_the_environment(monkeypatch, emulator) -> None:
    monkeypatch.setenv("VECTORCACHE_API_KEY", API_KEY)
    monkeypatch.setenv("VECTORCACHE_BASE_URL", emulator.url)
    client = VectorcacheClient()
    assert client.base_url == emulator.url + "/"
    assert client.query(prompt="p", model="gpt-4o").cache_hit is False
    assert AsyncVectorcacheClient().base_url == emulator.url + "/"
    sent = emulator.requests()
    assert [(e["status"], e["headers"]["authorization"]) for e in sent] == [(200, "Bearer vc_0123…")]


def test_explicit_values_beat_the_environment(monkeypatch, emulator) -> None:
    monkeypatch.setenv("VECTORCACHE_API_KEY", OTHER_KEY)
    monkeypatch.setenv("VECTORCACHE_BASE_URL", "https://api.vectorcache.ai")
    client = VectorcacheClient(api_key=API_KEY, base_url=emulator.url)
    assert client.base_url == emulator.url + "/"
    assert client.query(prompt="p", model="gpt-4o").cache_hit is False
    # One request, to the explicit URL, with the explicit key (the environment's is vc_ffff…).
    sent = emulator.requests()
    assert [(e["status"], e["headers"]["authorization"]) for e in sent] == [(200, "Bearer vc_0123…")]


@pytest.mark.parametrize("cls", [VectorcacheClient, AsyncVectorcacheClient])
def test_missing_key_names_the_variable(cls) -> None:
    with pytest.raises(ConfigurationError) as raised:
        cls()
    assert "VECTORCACHE_API_KEY" in str(raised.value)
    assert raised.value.kind == "missing_api_key"


def test_empty_key_variable_counts_as_missing(monkeypatch) -> None:
    monkeypatch.setenv("VECTORCACHE_API_KEY", "")
    with pytest.raises(ConfigurationError, match="VECTORCACHE_API_KEY") as raised:
        VectorcacheClient()
    assert raised.value.kind == "missing_api_key"


def test_defaults() -> None:
    client = VectorcacheClient(API_KEY)
    assert client.base_url == "https://api.vectorcache.ai/"
    assert client.timeout == 30.0
    assert client.max_retries == 2
    assert client.project_id is None
    assert client.closed is False


def test_settings_are_read_only_properties() -> None:
    client = VectorcacheClient(API_KEY, timeout=2.5, max_retries=5, project_id="proj_1",
                               base_url="http://localhost:1")
    assert (client.timeout, client.max_retries, client.project_id, client.base_url) == (
        2.5, 5, "proj_1", "http://localhost:1/")
    for name in ["timeout", "max_retries", "project_id", "base_url"]:
        with pytest.raises(AttributeError):
            setattr(client, name, None)
    assert (client.timeout, client.max_retries, client.project_id, client.base_url) == (
        2.5, 5, "proj_1", "http://localhost:1/")


@pytest.mark.parametrize(
    "settings",
    [
        {"base_url": "http://api.vectorcache.ai"},  # plain http beyond loopback
        {"base_url": "not a url"},
        {"timeout": 0},
        {"timeout": -1.0},
        {"timeout": float("nan")},
        {"timeout": float("inf")},
        {"timeout": 10**400},  # too big for a float: still the typed error, not OverflowError
        {"connect_timeout": 0},
        {"connect_timeout": -0.5},
        {"max_retries": -1},
        {"max_retries": 101},
        {"max_retries": 10**30},  # too big for i64: still the typed error
        {"project_id": "  "},
    ],
)
def test_bad_settings_raise_configuration_error(settings) -> None:
    with pytest.raises(ConfigurationError) as raised:
        VectorcacheClient(API_KEY, **settings)
    assert raised.value.kind == "invalid_config"


def test_insecure_base_url_message() -> None:
    with pytest.raises(ConfigurationError, match="use https://") as raised:
        VectorcacheClient(API_KEY, base_url="http://api.vectorcache.ai")
    assert str(raised.value).startswith(
        "invalid configuration: refusing to send the API key over plain http to api.vectorcache.ai")


@pytest.mark.parametrize("key", ["sk-1234", "vc_123", " " + API_KEY, API_KEY + "\n", "vc_" + "g" * 32])
def test_malformed_key_is_a_configuration_error(key) -> None:
    with pytest.raises(ConfigurationError) as raised:
        VectorcacheClient(key)
    assert not isinstance(raised.value, (InvalidRequestError, vectorcache.APIError))
    assert raised.value.kind == "invalid_api_key"


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"api_key": 123}, "`api_key` must be a str, got int"),
     ({"timeout": "30"}, "`timeout` must be a number of seconds, got str"),
     ({"connect_timeout": "5"}, "`connect_timeout` must be a number of seconds, got str"),
     ({"max_retries": 2.0}, "`max_retries` must be an int, got float"),
     ({"max_retries": True}, "`max_retries` must be an int, got bool"),
     ({"base_url": b"http://localhost"}, "`base_url` must be a str, got bytes")],
)
def test_wrong_python_types_raise_type_error(settings, message) -> None:
    with pytest.raises(TypeError) as raised:
        VectorcacheClient(**{"api_key": API_KEY, **settings})
    assert str(raised.value) == message


def test_only_api_key_is_positional() -> None:
    with pytest.raises(TypeError, match="positional argument"):
        VectorcacheClient(API_KEY, "http://localhost:1")  # type: ignore[misc]
