"""End to end against the emulator: miss then hit, the result object, what goes on the wire."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import pytest

import vectorcache
from vectorcache import DebugInfo, QueryResponse, RateLimit


def test_miss_then_hit(make_client, emulator) -> None:
    client = make_client()
    first = client.query(prompt="What is machine learning?", model="gpt-4o")
    second = client.query(prompt="What is machine learning?", model="gpt-4o")
    assert first.cache_hit is False
    assert first.similarity_score is None
    assert first.cost_saved == 0
    assert first.llm_provider == "openai"
    # The emulator's deterministic stand-in answer for this prompt and model.
    assert first.response.startswith("[emulated gpt-4o answer] ")
    assert '"What is machine learning?"' in first.response
    assert second.cache_hit is True
    assert second.similarity_score == 1.0
    assert second.llm_provider == "cache"
    # What the emulator prices this gpt-4o answer at (crates/vectorcache-emulator/src/pricing.rs).
    assert second.cost_saved == 0.000438
    assert second.response == first.response
    assert [(e["status"], e["body"]["prompt"]) for e in emulator.requests()] == [
        (200, "What is machine learning?")] * 2


def test_context_segments_the_cache(make_client, emulator) -> None:
    client = make_client()
    first = client.query(prompt="What is ML?", model="gpt-4o", context="faq")
    other = client.query(prompt="What is ML?", model="gpt-4o", context="support")
    same = client.query(prompt="What is ML?", model="gpt-4o", context="faq")
    assert (first.cache_hit, other.cache_hit, same.cache_hit) == (False, False, True)
    assert [e["body"]["context"] for e in emulator.requests()] == ["faq", "support", "faq"]


def test_attribute_and_mapping_access(make_client, emulator) -> None:
    result = make_client().query(prompt="What is AI?", model="gpt-4o")
    assert isinstance(result, QueryResponse)
    assert issubclass(type(result), Mapping)
    keys = ["cache_hit", "response", "similarity_score", "cost_saved", "llm_provider"]
    assert list(result) == keys
    assert list(result.keys()) == keys
    assert len(result) == 5
    assert "cache_hit" in result and "debug" not in result and 1 not in result
    for key in keys:
        assert result[key] == getattr(result, key)
    assert result.get("response") == result.response
    assert result.get("debug") is None
    assert result.get("nope", "fallback") == "fallback"
    assert dict(result.items()) == result.to_dict()
    assert list(result.values()) == [result[k] for k in keys]
    with pytest.raises(KeyError):
        result["debug"]
    with pytest.raises(KeyError):
        result["rate_limit"]  # metadata is an attribute, not part of the documented JSON
    assert result.debug is None
    assert result.request_id is not None and result.request_id.startswith("req_")
    assert result.request_id == emulator.requests()[0]["request_id"]
    # Like the service, the emulator limits every key (generously by default) and says so.
    assert result.rate_limit is not None and result.rate_limit.limit == 100_000


def test_to_dict_is_the_documented_json(make_client) -> None:
    client = make_client()
    plain = client.query(prompt="What is AI?", model="gpt-4o").to_dict()
    assert list(plain) == ["cache_hit", "response", "similarity_score", "cost_saved", "llm_provider"]
    json.dumps(plain)
    with_debug = client.query(prompt="What is AI?", model="gpt-4o", include_debug=True).to_dict()
    assert isinstance(with_debug["debug"], dict)
    assert set(with_debug["debug"]) == {
        "embedding_time_ms",
        "search_time_ms",
        "total_time_ms",
        "matched_cache_entry_id",
        "cache_entry_count",
    }
    json.dumps(with_debug)


def test_debug_object(make_client) -> None:
    client = make_client()
    client.query(prompt="What is AI?", model="gpt-4o")
    hit = client.query(prompt="What is AI?", model="gpt-4o", include_debug=True)
    debug = hit.debug
    assert isinstance(debug, DebugInfo)
    assert hit.cache_hit is True
    assert hit["debug"] == debug
    assert debug.total_time_ms >= 0 and debug.embedding_time_ms >= 0 and debug.search_time_ms >= 0
    assert debug.cache_entry_count == 1
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        debug.matched_cache_entry_id or ""), debug.matched_cache_entry_id
    assert debug["cache_entry_count"] == 1
    assert "debug" in hit and len(hit) == 6


def test_equality_and_repr(make_client) -> None:
    client = make_client()
    client.query(prompt="What is AI?", model="gpt-4o")
    a = client.query(prompt="What is AI?", model="gpt-4o")
    b = client.query(prompt="What is AI?", model="gpt-4o")
    assert a == b  # same documented fields (request ids differ: transport metadata)
    assert a.request_id != b.request_id
    assert a == a.to_dict() and a.to_dict() == a
    assert a != {**a.to_dict(), "cache_hit": False}
    assert a != "not a result"
    with pytest.raises(TypeError):
        hash(a)
    text = repr(a)
    assert text.startswith("QueryResponse(cache_hit=True, response='[emulated gpt-4o answer]")
    assert "similarity_score=1.0" in text and "llm_provider='cache'" in text
    assert str(a) == text


def test_results_are_read_only(make_client) -> None:
    result = make_client().query(prompt="What is AI?", model="gpt-4o")
    with pytest.raises(AttributeError):
        result.cache_hit = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        result["cache_hit"] = False  # type: ignore[index]


def test_rate_limit_headers(make_client, emulator) -> None:
    body = {"cache_hit": False, "response": "x", "similarity_score": None, "cost_saved": 0,
            "llm_provider": "openai"}
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99",
               "X-RateLimit-Reset": "1900000000"}
    emulator.fault({"status": 200, "body": body, "headers": headers})
    result = make_client().query(prompt="What is AI?", model="gpt-4o")
    limits = result.rate_limit
    assert isinstance(limits, RateLimit)
    assert (limits.limit, limits.remaining, limits.reset) == (100, 99, 1900000000)
    assert limits.to_dict() == {"limit": 100, "remaining": 99, "reset": 1900000000}
    assert repr(limits) == "RateLimit(limit=100, remaining=99, reset=1900000000)"


def test_request_on_the_wire(make_client, emulator) -> None:
    client = make_client(project_id="proj_default")
    client.query(prompt="p1", model="gpt-4o")
    client.query(prompt="p2", model="gpt-4o-mini", similarity_threshold=0.9, context="faq",
                 include_debug=True, project_id="proj_default")
    first, second = emulator.requests()
    assert first["body"] == {"prompt": "p1", "model": "gpt-4o", "project_id": "proj_default"}
    assert second["body"] == {"prompt": "p2", "model": "gpt-4o-mini", "similarity_threshold": 0.9,
                              "context": "faq", "include_debug": True,
                              "project_id": "proj_default"}
    headers = first["headers"]
    assert headers["authorization"] == "Bearer vc_0123…"
    assert headers["content-type"] == "application/json"
    assert f"vectorcache-python/{vectorcache.__version__}" in headers["user-agent"]
    assert headers["user-agent"].startswith("vectorcache-rust/")


def test_other_project_is_denied(make_client, emulator) -> None:
    with pytest.raises(vectorcache.PermissionDeniedError) as raised:
        make_client().query(prompt="p", model="gpt-4o", project_id="proj_other")
    assert raised.value.status_code == 403
    assert raised.value.detail == "API key does not have permission to access this project"
    # The emulator's own answer (no fault) to the one request, which named the project.
    assert [(e["status"], e["fault"], e["body"]["project_id"]) for e in emulator.requests()] == [
        (403, False, "proj_other")]
