"""Results travel between processes: a `QueryResponse` (with its `debug` and `rate_limit`)
pickles and deep-copies with every field, so a multiprocessing or ProcessPoolExecutor worker
can return one."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
from collections.abc import Mapping
from typing import Any

from vectorcache import DebugInfo, QueryResponse, RateLimit, VectorcacheClient
from vectorcache.testing import Emulator

ANSWER_FIELDS = ("cache_hit", "response", "similarity_score", "cost_saved", "llm_provider",
                 "request_id")
DEBUG_FIELDS = ("embedding_time_ms", "search_time_ms", "total_time_ms", "matched_cache_entry_id",
                "cache_entry_count")
RATE_LIMIT_FIELDS = ("limit", "remaining", "reset")


def _assert_same_answer(copied: Any, original: QueryResponse) -> None:
    """`copied` is a new `QueryResponse` equal to `original` field by field, hidden ones too."""
    assert type(copied) is QueryResponse and copied is not original
    assert [getattr(copied, f) for f in ANSWER_FIELDS] == [getattr(original, f) for f in ANSWER_FIELDS]
    assert type(copied.debug) is DebugInfo and original.debug is not None
    assert [getattr(copied.debug, f) for f in DEBUG_FIELDS] == [
        getattr(original.debug, f) for f in DEBUG_FIELDS]
    assert type(copied.rate_limit) is RateLimit and original.rate_limit is not None
    assert [getattr(copied.rate_limit, f) for f in RATE_LIMIT_FIELDS] == [
        getattr(original.rate_limit, f) for f in RATE_LIMIT_FIELDS]
    # Still the documented mapping, `debug` included.
    assert isinstance(copied, Mapping) and list(copied) == list(original)
    assert copied == original and copied.to_dict() == original.to_dict()
    assert copied["debug"]["matched_cache_entry_id"] == original.debug.matched_cache_entry_id


def test_a_result_pickles_and_deep_copies_with_every_field() -> None:
    with Emulator() as emulator:
        client = emulator.client()
        client.query(prompt="What is AI?", model="gpt-4o")
        hit = client.query(prompt="What is AI?", model="gpt-4o", include_debug=True)
    # Every field is set, so a field that is dropped or defaulted shows.
    assert hit.cache_hit and hit.similarity_score == 1.0 and hit.cost_saved > 0
    assert hit.request_id and hit.rate_limit is not None and hit.rate_limit.limit
    assert hit.debug is not None and hit.debug.matched_cache_entry_id
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        _assert_same_answer(pickle.loads(pickle.dumps(hit, protocol)), hit)
    _assert_same_answer(copy.deepcopy(hit), hit)
    debug = pickle.loads(pickle.dumps(hit.debug))
    assert type(debug) is DebugInfo and debug == hit.debug and debug.to_dict() == hit.debug.to_dict()


def test_an_answer_without_debug_pickles_without_it() -> None:
    with Emulator(rate_limit=False) as emulator:
        miss = emulator.client().query(prompt="What is AI?", model="gpt-4o")
    copied = pickle.loads(pickle.dumps(miss))
    assert (copied.debug, copied.rate_limit, copied.similarity_score) == (None, None, None)
    assert "debug" not in copied and copied == miss
    assert (copied.request_id, copied.response) == (miss.request_id, miss.response)


def _query_in_a_worker(api_key: str, base_url: str) -> QueryResponse:
    """Runs in the worker process: the answer goes back to the parent pickled."""
    return VectorcacheClient(api_key, base_url=base_url).query(
        prompt="What is AI?", model="gpt-4o", include_debug=True)


def test_a_result_comes_back_from_a_spawned_worker() -> None:
    with Emulator() as emulator:
        # "spawn": a fresh interpreter, as on macOS and Windows (no state inherited by fork).
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            answer = pool.apply_async(
                _query_in_a_worker, (emulator.api_key, emulator.base_url)).get(timeout=120)
        sent = emulator.requests()
    assert type(answer) is QueryResponse and answer.cache_hit is False
    assert '"What is AI?"' in answer.response and answer.llm_provider == "openai"
    assert [e["request_id"] for e in sent] == [answer.request_id]
    assert answer.rate_limit is not None and answer.rate_limit.limit == 100_000
    assert type(answer.debug) is DebugInfo and answer["debug"]["cache_entry_count"] == 0
