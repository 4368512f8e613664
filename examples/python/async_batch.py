"""Batches of concurrent queries with the asyncio client: hit rate and money saved.

Run it against the local emulator (see quickstart.py for the two exports):

    python examples/python/async_batch.py
"""

from __future__ import annotations

import asyncio
import sys

from vectorcache import AsyncVectorcacheClient, QueryResponse, VectorcacheError

PROMPTS = [
    "What is machine learning?",
    "Explain photosynthesis in one paragraph",
    "How do vaccines work?",
]


async def batch(client: AsyncVectorcacheClient) -> list[QueryResponse]:
    return await asyncio.gather(*(client.query(prompt=p, model="gpt-4o-mini") for p in PROMPTS))


async def main() -> int:
    async with AsyncVectorcacheClient() as client:
        try:
            # The first round fills the cache, the second is answered from it.
            for round_number in (1, 2):
                results = await batch(client)
                hits = sum(r.cache_hit for r in results)
                saved = sum(r.cost_saved for r in results)
                print(f"round {round_number}: {hits}/{len(results)} hits, saved ${saved:.6f}")
        except VectorcacheError as e:
            print(f"error {e.status_code}: {e.message}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
