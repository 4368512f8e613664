"""The sync client releases the GIL for the whole request, so threads overlap."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor


def test_threads_overlap(make_client, emulator) -> None:
    emulator.fault({"delay_ms": 300, "count": 8})
    client = make_client()
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: client.query(prompt=f"q{i}", model="gpt-4o"), range(8)))
    elapsed = time.monotonic() - start
    assert [r.cache_hit for r in results] == [False] * 8
    # Every query took its 0.3 s delay...
    assert [(e["status"], e["fault"]) for e in emulator.requests()] == [(200, True)] * 8
    assert elapsed >= 0.29, elapsed
    assert elapsed < 4 * 0.3, elapsed  # ...at once: sequentially 8 × 0.3 s


def test_python_runs_while_a_query_waits(make_client, emulator) -> None:
    emulator.fault({"delay_ms": 300})
    client = make_client()
    counter = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal counter
        while not done.is_set():
            counter += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        before = counter
        client.query(prompt="p", model="gpt-4o")
        during = counter - before
    finally:
        done.set()
        spinner.join()
    assert during > 10_000  # the spinner got the interpreter while the query waited
    assert [(e["status"], e["fault"]) for e in emulator.requests()] == [(200, True)]  # it waited
