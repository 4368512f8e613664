"""Ctrl-C interrupts a blocked sync query (the wait checks for signals between GIL releases)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import API_KEY

SCRIPT = """
import sys, vectorcache
client = vectorcache.VectorcacheClient(sys.argv[1], base_url=sys.argv[2], max_retries=0)
print("querying", flush=True)
try:
    client.query(prompt="p", model="gpt-4o")
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(42)
"""


def test_sigint_interrupts_a_slow_query(emulator) -> None:
    emulator.fault({"delay_ms": 10_000})
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, API_KEY, emulator.url],
                             stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "querying"
        time.sleep(0.5)  # the request is in flight, held by the delay fault
        start = time.monotonic()
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=5) == 42
        assert time.monotonic() - start < 2.0
        assert child.stdout.read().strip() == "interrupted"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
