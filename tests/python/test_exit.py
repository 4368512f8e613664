"""The interpreter exits cleanly right after async queries, and with sync queries still
running in daemon threads.

A runtime thread that hands a result to the event loop could still be inside Python when the
main thread finishes `asyncio.run` and finalizes; that aborted the process about one run in
six (SIGSEGV / "PyGILState_Release: thread state must be current"). The native module's
atexit barrier prevents it; a crash needs a fresh interpreter to show, hence subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import API_KEY

SCRIPT = """
import asyncio
from vectorcache import AsyncVectorcacheClient

async def main():
    async with AsyncVectorcacheClient() as client:
        await asyncio.gather(*(client.query(prompt=f"q{i % 3}", model="gpt-4o") for i in range(6)))

asyncio.run(main())
"""

RUNS = 30


def test_exit_after_async_queries_never_crashes(emulator) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VECTORCACHE_")}
    env.update({"VECTORCACHE_BASE_URL": emulator.url, "VECTORCACHE_API_KEY": API_KEY})
    codes = [
        subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                       text=True, timeout=60).returncode
        for _ in range(RUNS)
    ]
    assert codes == [0] * RUNS
    # Each run's six queries were sent and answered before it exited.
    assert [entry["status"] for entry in emulator.requests()] == [200] * (6 * RUNS)


DAEMON_SCRIPT = """
import threading, time
from vectorcache import VectorcacheClient

client = VectorcacheClient(max_retries=0)

def busy():
    while True:
        client.query(prompt="q", model="gpt-4o")

for _ in range(4):
    threading.Thread(target=busy, daemon=True).start()
time.sleep(0.3)
"""

DAEMON_RUNS = 6


def test_exit_with_sync_queries_in_daemon_threads_never_crashes(emulator) -> None:
    # A daemon thread waits for its answer without the GIL and takes it back every 100 ms to
    # look for signals. Once the interpreter finalizes, CPython ends such a thread with
    # pthread_exit as it takes the GIL, unwinding through the extension: SIGSEGV in most
    # runs. One of the four waits on an answer held 10 s, the others keep querying.
    env = {k: v for k, v in os.environ.items() if not k.startswith("VECTORCACHE_")}
    env.update({"VECTORCACHE_BASE_URL": emulator.url, "VECTORCACHE_API_KEY": API_KEY})
    outcomes = []
    for _ in range(DAEMON_RUNS):
        emulator.reset()
        emulator.fault({"delay_ms": 10_000})
        run = subprocess.run([sys.executable, "-c", DAEMON_SCRIPT], env=env,
                             capture_output=True, text=True, timeout=60)
        outcomes.append((run.returncode, run.stderr))
    assert outcomes == [(0, "")] * DAEMON_RUNS
