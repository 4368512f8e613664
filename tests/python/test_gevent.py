"""The sync client in a gevent program (gunicorn's and Celery's gevent workers): a query
waits in the hub, so the other greenlets run meanwhile, and gevent can time it out or kill it.

Before, the wait blocked the hub's thread: four greenlets querying at once took four times
as long, nothing else ran, and ``gevent.Timeout`` never fired. Monkey-patching changes the
whole interpreter, hence a subprocess; it tests the user's way, with the package's own
``vectorcache.testing.Emulator``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

SCRIPT = r"""
from gevent import monkey; monkey.patch_all()
import json, time
import gevent
from vectorcache import VectorcacheClient
from vectorcache.testing import Emulator

out = {}
with Emulator() as emulator:
    client = VectorcacheClient(emulator.api_key, base_url=emulator.base_url, max_retries=0)
    ticks = 0
    def ticker():
        global ticks
        while True:
            gevent.sleep(0.01)
            ticks += 1
    ticking = gevent.spawn(ticker)

    # Eight greenlets, each a query the server holds 0.5 s.
    emulator.add_fault(delay_ms=500, count=8)
    started, before = time.perf_counter(), ticks
    eight = [gevent.spawn(client.query, prompt=f"slow {i}", model="gpt-4o") for i in range(8)]
    gevent.joinall(eight, raise_error=True)
    out["overlap"] = {"seconds": time.perf_counter() - started, "ticks": ticks - before,
                      "answers": sum(g.value.cache_hit is False for g in eight)}

    emulator.add_fault(delay_ms=1500)
    started = time.perf_counter()
    try:
        with gevent.Timeout(0.2):
            client.query(prompt="timed out", model="gpt-4o")
        out["timeout"] = None
    except gevent.Timeout:
        out["timeout"] = time.perf_counter() - started

    emulator.add_fault(delay_ms=1500)
    doomed = gevent.spawn(client.query, prompt="killed", model="gpt-4o")
    gevent.sleep(0.1)
    started = time.perf_counter()
    doomed.kill()
    out["kill"] = {"seconds": time.perf_counter() - started, "value": type(doomed.value).__name__}

    stranger = VectorcacheClient("vc_" + "f" * 32, base_url=emulator.base_url, max_retries=0)
    refused = gevent.spawn(stranger.query, prompt="who am I", model="gpt-4o")
    refused.join()
    out["error"] = type(refused.exception).__name__

    crowd = [gevent.spawn(client.query, prompt=f"crowd {i}", model="gpt-4o",
                          similarity_threshold=1.0) for i in range(300)]
    gevent.joinall(crowd, raise_error=True)
    out["crowd"] = sum(f'"crowd {i}"' in g.value.response for i, g in enumerate(crowd))

    emulator.add_fault(delay_ms=300, count=20)
    started, before = time.perf_counter(), ticks
    batch = client.query_many([{"prompt": f"batch {i}", "model": "gpt-4o"} for i in range(20)])
    out["query_many"] = {"seconds": time.perf_counter() - started, "ticks": ticks - before,
                         "answers": sum(type(r).__name__ == "QueryResponse" for r in batch)}

    # A native thread of the pool runs no hub: it waits the plain way.
    answer = gevent.get_hub().threadpool.apply(
        client.query, kwds={"prompt": "thread", "model": "gpt-4o"})
    out["thread"] = type(answer).__name__

    ticking.kill()
    time.sleep(1.6)  # past the 1.5 s the server would have taken to answer them
    prompts = {entry["body"]["prompt"] for entry in emulator.requests()}
    out["answered"] = sorted(prompts & {"timed out", "killed"})
    # Every watcher a wait started is gone: else the loop never runs out of work.
    out["loop_finished"] = gevent.wait(timeout=5)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def under_gevent() -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VECTORCACHE_")}
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def test_greenlets_overlap_their_queries_and_the_hub_keeps_running(under_gevent) -> None:
    overlap = under_gevent["overlap"]
    assert overlap["answers"] == 8
    # One after another they would take 8 × 0.5 s.
    assert 0.49 <= overlap["seconds"] < 2.0, overlap
    # A greenlet ticking every 10 ms ran throughout (about 50 times).
    assert overlap["ticks"] >= 10, overlap


def test_gevent_timeout_ends_a_query_and_cancels_it(under_gevent) -> None:
    assert under_gevent["timeout"] is not None, "the timeout never fired"
    assert 0.19 <= under_gevent["timeout"] < 1.0, under_gevent["timeout"]


def test_a_killed_greenlet_stops_waiting_at_once(under_gevent) -> None:
    kill = under_gevent["kill"]
    assert kill["value"] == "GreenletExit", kill
    assert kill["seconds"] < 0.5, kill


def test_the_cancelled_queries_were_never_answered(under_gevent) -> None:
    # The server logs a query once it answers it: these two connections were closed first.
    assert under_gevent["answered"] == []


def test_errors_are_the_typed_errors(under_gevent) -> None:
    assert under_gevent["error"] == "AuthenticationError"


def test_300_greenlets_each_get_their_own_answer(under_gevent) -> None:
    assert under_gevent["crowd"] == 300


def test_query_many_waits_in_the_hub_too(under_gevent) -> None:
    batch = under_gevent["query_many"]
    assert batch["answers"] == 20
    assert batch["ticks"] >= 5, batch  # 20 answers of 0.3 s, 16 at a time: about 0.6 s


def test_a_thread_without_a_hub_waits_the_plain_way(under_gevent) -> None:
    assert under_gevent["thread"] == "QueryResponse"


def test_no_watcher_is_left_behind(under_gevent) -> None:
    assert under_gevent["loop_finished"] is True
