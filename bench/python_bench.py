"""The Python side of `make bench`: the installed wheel beside requests, httpx and aiohttp.

Run by scripts/bench.sh with VECTORCACHE_BENCH_URL and VECTORCACHE_API_KEY pointing at the shared
emulator; prints one `BENCH {json}` line per figure. CPU time is the whole process's (the
native client's threads included).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any, Awaitable, Callable

import aiohttp
import httpx
import requests

import vectorcache

URL = os.environ["VECTORCACHE_BENCH_URL"]
KEY = os.environ["VECTORCACHE_API_KEY"]
ENDPOINT = URL + "/v1/cache/query"
HEADERS = {"Authorization": f"Bearer {KEY}"}
QUERY = {"prompt": "What is machine learning?", "model": "gpt-4o"}
SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "2000"))
TOTAL = int(os.environ.get("BENCH_TOTAL", "20000"))
# Every figure is measured in this many rounds, the clients taking turns (summary.py takes
# the median): a 2-core machine running its own server is noisy.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# Sequential figures are taken this many times a round: one query at a time waits on every
# wake-up of the virtual machine, whose latency changes from one second to the next.
SEQUENTIAL_TURNS = 3
IN_FLIGHT = 64


# BENCH_ONLY=<text> runs only the figures whose "client mode" contains it; BENCH_SKIP=<text>
# leaves out those that do (scripts/bench.sh measures query_many apart, see there).
ONLY = os.environ.get("BENCH_ONLY", "")
SKIP = os.environ.get("BENCH_SKIP", "")


def selected(client: str, mode: str) -> bool:
    figure = f"{client} {mode}"
    return ONLY in figure and not (SKIP and SKIP in figure)


def report(client: str, mode: str, queries: int, wall: float, cpu: float) -> None:
    line = {"lang": "python", "client": client, "mode": mode, "queries": queries,
            "qps": queries / wall, "cpu_us_per_query": cpu * 1e6 / queries}
    print("BENCH " + json.dumps(line), flush=True)


def measure(client: str, mode: str, queries: int, run: Callable[[], Any]) -> None:
    if not selected(client, mode):
        return
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    report(client, mode, queries, time.perf_counter() - wall, time.process_time() - cpu)


def sequential(client: str, one: Callable[[], bool]) -> None:
    if not selected(client, "sequential"):
        return
    for _ in range(100):
        assert one()

    def run() -> None:
        for _ in range(SEQUENTIAL):
            assert one()

    measure(client, "sequential", SEQUENTIAL, run)


OneQuery = Callable[[], Awaitable[bool]]


def in_flight(client: str, open_client: Callable[[], Awaitable[tuple[OneQuery, Callable[[], Awaitable[Any]]]]]) -> None:
    """64 tasks on one event loop, each making queries one after another on a shared client
    that `open_client` makes inside the loop (it returns the query and the closing function)."""
    each = TOTAL // IN_FLIGHT
    if not selected(client, "64 in flight"):
        return

    async def main() -> None:
        one, close = await open_client()

        async def worker(n: int) -> None:
            for _ in range(n):
                assert await one()

        await worker(100)
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(each) for _ in range(IN_FLIGHT)))
        report(client, "64 in flight", each * IN_FLIGHT, time.perf_counter() - wall,
               time.process_time() - cpu)
        await close()

    asyncio.run(main())


async def open_vectorcache() -> tuple[OneQuery, Callable[[], Awaitable[Any]]]:
    client = vectorcache.AsyncVectorcacheClient(KEY, base_url=URL)

    async def one() -> bool:
        return (await client.query(**QUERY)).cache_hit

    return one, client.aclose


async def open_aiohttp() -> tuple[OneQuery, Callable[[], Awaitable[Any]]]:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT))

    async def one() -> bool:
        async with session.post(ENDPOINT, json=QUERY, headers=HEADERS) as answer:
            answer.raise_for_status()
            return bool((await answer.json())["cache_hit"])

    return one, session.close


async def open_httpx() -> tuple[OneQuery, Callable[[], Awaitable[Any]]]:
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=IN_FLIGHT))

    async def one() -> bool:
        answer = await http.post(ENDPOINT, json=QUERY, headers=HEADERS)
        answer.raise_for_status()
        return bool(answer.json()["cache_hit"])

    return one, http.aclose


def main() -> None:
    from importlib.metadata import version
    import platform

    packages = ["vectorcache-python", "requests", "httpx", "aiohttp"]
    versions = {"python": platform.python_version(), **{p: version(p) for p in packages}}
    print("VERSIONS " + json.dumps(versions), flush=True)
    client = vectorcache.VectorcacheClient(KEY, base_url=URL)
    session = requests.Session()
    http = httpx.Client()
    client.query(**QUERY)

    def many() -> None:
        answers = client.query_many([QUERY] * TOTAL, concurrency=IN_FLIGHT)
        assert all(a.cache_hit for a in answers)

    if selected("vectorcache", "query_many 64"):
        many()
    for _ in range(ROUNDS):
        for _ in range(SEQUENTIAL_TURNS):
            sequential("vectorcache", lambda: client.query(**QUERY).cache_hit)
            sequential("requests", lambda: session.post(ENDPOINT, json=QUERY, headers=HEADERS)
                       .json()["cache_hit"])
            sequential("httpx", lambda: http.post(ENDPOINT, json=QUERY, headers=HEADERS)
                       .json()["cache_hit"])
        measure("vectorcache", "query_many 64", TOTAL, many)
        in_flight("vectorcache async", open_vectorcache)
        in_flight("aiohttp", open_aiohttp)
        in_flight("httpx async", open_httpx)
    client.close()
    session.close()
    http.close()


if __name__ == "__main__":
    main()
