"""Usage statistics, batches and the documentation's names, against the emulator."""

from __future__ import annotations

import asyncio
import json
import pickle
import types
from collections.abc import Mapping
from typing import Any, Iterator

import pytest

import vectorcache
from vectorcache import (
    AuthenticationError,
    InvalidRequestError,
    LatencyMs,
    QueryResponse,
    Stats,
    VectorcacheResponse,
)


def _known_sequence(client: Any, emulator: Any) -> list[QueryResponse]:
    """Runs the sequence; returns the four answers."""
    answers = [client.query(prompt="What is machine learning?", model="gpt-4o")  # miss, 2 hits
               for _ in range(3)]
    emulator.fault({"status": 503, "body": {"detail": "busy"}, "headers": {"Retry-After": "0"}, "count": 2})
    answers.append(client.query(prompt="What is deep learning?", model="gpt-4o"))  # 2 retries, a miss
    emulator.fault({"status": 401, "body": {"detail": "Invalid API key"}})
    with pytest.raises(AuthenticationError):
        client.query(prompt="x", model="gpt-4o")
    with pytest.raises(InvalidRequestError):
        client.query(prompt=" ", model="gpt-4o")
    assert [a.cache_hit for a in answers] == [False, True, True, False]
    assert [e["status"] for e in emulator.requests()] == [200, 200, 200, 503, 503, 200, 401]
    return answers


def test_stats_count_a_known_sequence_exactly(make_client, emulator) -> None:
    client = make_client(max_retries=2)
    answers = _known_sequence(client, emulator)
    stats = client.stats()
    assert isinstance(stats, Stats)
    assert (stats.queries, stats.hits, stats.misses, stats.retries) == (6, 2, 2, 2)
    assert stats["queries"] == 6 and stats["hit_rate"] == stats.hit_rate == 0.5
    assert stats.errors == {"authentication": 1, "invalid_request": 1}
    # What the two hits saved, and nothing for the misses.
    assert answers[1].cost_saved > 0
    assert stats.cost_saved == pytest.approx(2 * answers[1].cost_saved, abs=1e-12)
    assert 0 < stats.latency_ms.p50 <= stats.latency_ms.p95 <= stats.latency_ms["p99"]
    assert set(stats) == {"queries", "hits", "misses", "hit_rate", "cost_saved", "errors",
                          "retries", "latency_ms"}
    assert stats.to_dict()["latency_ms"]["p50"] == stats.latency_ms.p50
    with pytest.raises(AttributeError):
        stats.queries = 0  # type: ignore[misc]
    client.reset_stats()
    fresh = client.stats()
    assert (fresh.queries, fresh.hits, fresh.retries, fresh.errors) == (0, 0, 0, {})


def test_cost_saved_is_the_sum_of_the_answers(make_client) -> None:
    client = make_client()
    answers = [client.query(prompt="What is AI?", model="gpt-4o") for _ in range(3)]
    # A miss saves nothing; the two hits do (so the sum is not 0 == 0).
    assert [a.cost_saved > 0 for a in answers] == [False, True, True]
    assert client.stats().cost_saved == pytest.approx(sum(a.cost_saved for a in answers), abs=1e-12)


def test_async_client_stats(make_async_client, emulator) -> None:
    async def run() -> Stats:
        async with make_async_client() as client:
            await client.query(prompt="same", model="gpt-4o")
            await client.query(prompt="same", model="gpt-4o")
            return client.stats()

    stats = asyncio.run(run())
    assert (stats.queries, stats.hits, stats.misses, stats.retries) == (2, 1, 1, 0)
    assert stats.errors == {}
    assert len(emulator.requests()) == 2


BATCH: list[dict[str, Any]] = [
    {"prompt": "What is AI?", "model": "gpt-4o"},
    {"prompt": " ", "model": "gpt-4o"},
    {"prompt": "What is AI?", "model": "gpt-4o", "similarity_threshold": 0.9},
    {"prompt": "What is ML?", "model": "gpt-4o", "unknown": 1},
    {"prompt": "What is ML?"},
    "not a mapping",
    {"prompt": "x", "model": "gpt-4o", "project_id": "proj_someone_else"},
]


def _check_batch(outcomes: list[Any], emulator: Any) -> None:
    assert len(outcomes) == len(BATCH)
    assert isinstance(outcomes[0], QueryResponse)
    assert isinstance(outcomes[1], InvalidRequestError) and "`prompt`" in str(outcomes[1])
    assert isinstance(outcomes[2], QueryResponse)
    assert '"What is AI?"' in outcomes[0].response and outcomes[2].response == outcomes[0].response
    assert isinstance(outcomes[3], TypeError) and "unknown" in str(outcomes[3])
    assert isinstance(outcomes[4], TypeError) and "model" in str(outcomes[4])
    assert type(outcomes[5]) is TypeError and str(outcomes[5]), repr(outcomes[5])
    assert isinstance(outcomes[6], vectorcache.PermissionDeniedError)
    assert outcomes[6].status_code == 403
    # Only the well-formed ones were sent, 0, 2 and 6, each as itself.
    def in_order(bodies: list[Any]) -> list[Any]:
        return sorted(bodies, key=lambda body: json.dumps(body, sort_keys=True))

    assert in_order([e["body"] for e in emulator.requests()]) == in_order(
        [BATCH[0], BATCH[2], {"prompt": "x", "model": "gpt-4o", "project_id": "proj_someone_else"}])


def test_a_batch_keeps_order_and_each_items_error(make_client, emulator) -> None:
    outcomes = make_client(max_retries=0).query_many(BATCH, concurrency=2)
    _check_batch(outcomes, emulator)


def test_the_async_batch(make_async_client, emulator) -> None:
    async def run() -> list[Any]:
        async with make_async_client(max_retries=0) as client:
            return await client.query_many(BATCH)

    _check_batch(asyncio.run(run()), emulator)


def test_batch_items_may_be_any_mapping_and_none_means_absent(make_client, emulator) -> None:
    # Only the keys an item has are looked up (lookups of absent keys were KeyErrors inside).
    items: list[Any] = [
        types.MappingProxyType({"prompt": "What is AI?", "model": "gpt-4o", "context": "a"}),
        {"prompt": "What is AI?", "model": "gpt-4o", "context": None, "timeout": None},
    ]
    outcomes = make_client(max_retries=0).query_many(items, concurrency=1)
    assert [type(o) for o in outcomes] == [QueryResponse, QueryResponse]
    assert [e["body"] for e in emulator.requests()] == [
        {"prompt": "What is AI?", "model": "gpt-4o", "context": "a"},
        {"prompt": "What is AI?", "model": "gpt-4o"},
    ]


class _ItemThatRaises(Mapping[str, Any]):
    """A batch item whose values raise `error` when read."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __getitem__(self, key: str) -> Any:
        raise self.error

    def __iter__(self) -> Iterator[str]:
        return iter(["prompt", "model"])

    def __len__(self) -> int:
        return 2


def test_a_batch_item_fails_with_an_exception_and_ctrl_c_stops_the_batch(make_client,
                                                                         emulator) -> None:
    # What reading an item raised is that item's outcome: an Exception, as the stubs say...
    ok = {"prompt": "What is AI?", "model": "gpt-4o"}
    broken = RuntimeError("unreadable item")
    outcomes = make_client().query_many([ok, _ItemThatRaises(broken)])
    assert type(outcomes[0]) is QueryResponse and outcomes[1] is broken
    assert len(emulator.requests()) == 1
    # ...but Ctrl-C (or SystemExit) is not an item's failure: it ends the call, nothing sent.
    for stop in (KeyboardInterrupt(), SystemExit(3)):
        with pytest.raises(type(stop)):
            make_client().query_many([ok, _ItemThatRaises(stop)])
    assert len(emulator.requests()) == 1


def test_batch_concurrency_must_be_at_least_one(make_client, emulator) -> None:
    for bad in (0, -1, -(10**30)):
        with pytest.raises(InvalidRequestError) as refused:
            make_client().query_many(BATCH, concurrency=bad)
        assert str(refused.value) == (
            f"invalid request: `concurrency` must be a whole number of at least 1, got {bad}")
    for wrong in ("4", 1.5, True):
        with pytest.raises(TypeError, match="`concurrency` must be an int"):
            make_client().query_many(BATCH, concurrency=wrong)  # type: ignore[arg-type]
    assert emulator.requests() == []
    assert make_client().query_many([]) == []
    # No upper bound: a batch never runs more at once than it holds.
    two = [{"prompt": f"wide {i}", "model": "gpt-4o"} for i in range(2)]
    for wide in (10**6, 10**30):
        assert all(isinstance(o, QueryResponse) for o in make_client().query_many(two, concurrency=wide))


@pytest.mark.parametrize("batch", [{"prompt": "p", "model": "gpt-4o"}, "prompt", b"prompt", None, 5])
def test_a_batch_that_is_not_an_iterable_of_items_is_refused_whole(batch, make_client,
                                                                    make_async_client,
                                                                    emulator) -> None:
    # A mapping or a text would iterate as keys or characters: refused, not read item by item.
    with pytest.raises(TypeError, match="^query_many takes an iterable of mappings"):
        make_client().query_many(batch)

    async def run() -> None:
        await make_async_client().query_many(batch)

    with pytest.raises(TypeError, match="^query_many takes an iterable of mappings"):
        asyncio.run(run())
    assert emulator.requests() == []


def test_the_documentations_result_name() -> None:
    assert VectorcacheResponse is QueryResponse
    assert "VectorcacheResponse" in vectorcache.__all__


def test_stats_and_their_latencies_pickle() -> None:
    # A snapshot travels between processes (multiprocessing, Celery results) as it is.
    stats = Stats({"queries": 3, "hits": 2, "errors": {"timeout": 1},
                   "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0}})
    copy = pickle.loads(pickle.dumps(stats))
    assert type(copy) is Stats and type(copy.latency_ms) is LatencyMs
    assert copy == stats and copy.to_dict() == stats.to_dict()
    assert (copy.queries, copy.latency_ms.p95, copy["errors"]) == (3, 2.0, {"timeout": 1})
    with pytest.raises(AttributeError):
        copy._missing  # private names are never fields


def test_stats_to_dict_is_plain_data_that_pickles() -> None:
    stats = Stats({"queries": 1, "errors": {"timeout": 1}, "latency_ms": {"p50": 1.0}})
    plain = stats.to_dict()
    assert plain == {"queries": 1, "errors": {"timeout": 1}, "latency_ms": {"p50": 1.0}}
    assert (type(plain), type(plain["errors"]), type(plain["latency_ms"])) == (dict, dict, dict)
    assert pickle.loads(pickle.dumps(plain)) == plain


def test_a_refused_call_counts_the_same_whichever_layer_refused_it(make_client) -> None:
    client = make_client()
    # Refused by the core (a blank prompt), by the binding's conversion (a bound of the
    # core's types), and in a batch by both: each is one failed query.
    for arguments in ({"prompt": " "}, {"max_retries": 101}, {"timeout": -1}):
        with pytest.raises(InvalidRequestError):
            client.query(**{"prompt": "p", "model": "gpt-4o", **arguments})
    outcomes = client.query_many([
        {"prompt": " ", "model": "gpt-4o"},
        {"prompt": "p", "model": "gpt-4o", "max_retries": 101},
        {"prompt": "p", "model": "gpt-4o"},
        {"prompt": None, "model": "gpt-4o"},
    ])
    assert [type(o).__name__ for o in outcomes] == [
        "InvalidRequestError", "InvalidRequestError", "QueryResponse", "TypeError"]
    # A TypeError (a value of the wrong type, Python's own way of refusing it) is a failed
    # query too, an invalid request as Node counts the same value.
    with pytest.raises(TypeError):
        client.query(prompt=None, model="gpt-4o")  # type: ignore[arg-type]
    stats = client.stats()
    assert (stats.queries, stats.errors) == (8, {"invalid_request": 7})
