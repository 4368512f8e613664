"""User code that run.sh type-checks with `mypy --strict` against the installed stubs: what a
caller sees must be the precise type, so a stub that loosens one (to `Any`, say) fails the
check. Never run, and not a test module (pytest does not collect it)."""

from __future__ import annotations

from typing import Optional, Union

from typing_extensions import assert_type

from vectorcache import AsyncVectorcacheClient, QueryResponse, VectorcacheClient

BATCH = [{"prompt": "What is AI?", "model": "gpt-4o"}, {"prompt": " ", "model": "gpt-4o"}]


def hits_of_a_batch(client: VectorcacheClient) -> int:
    outcomes = client.query_many(BATCH, concurrency=2)
    assert_type(outcomes, list[Union[QueryResponse, Exception]])
    hits = 0
    for outcome in outcomes:
        if isinstance(outcome, QueryResponse):
            hits += outcome.cache_hit
        else:
            assert_type(outcome, Exception)  # what `except Exception` and `raise` take
    return hits


async def first_failure_of_an_async_batch(client: AsyncVectorcacheClient) -> Optional[Exception]:
    outcomes = await client.query_many(BATCH)
    assert_type(outcomes, list[Union[QueryResponse, Exception]])
    for outcome in outcomes:
        if not isinstance(outcome, QueryResponse):
            return outcome
        assert_type(outcome.cache_hit, bool)
    return None
