"""The interpreter exits cleanly right after async queries.

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
