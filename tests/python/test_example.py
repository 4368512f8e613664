"""The examples in examples/python, run as the README does, against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import API_KEY, OTHER_KEY, REPO

EXAMPLES = REPO / "examples" / "python"


def _run(env_updates: dict[str, str], emulator_url: str,
         example: str = "quickstart.py") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VECTORCACHE_")}
    env.update({"VECTORCACHE_BASE_URL": emulator_url, **env_updates})
    return subprocess.run([sys.executable, str(EXAMPLES / example)], env=env,
                          capture_output=True, text=True, timeout=60)


def test_quickstart_miss_then_hit(emulator) -> None:
    run = _run({"VECTORCACHE_API_KEY": API_KEY}, emulator.url)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("MISS 'What is machine learning?' answered by openai")
    assert lines[2].startswith("HIT  'What is machine learning?' similarity=1.000")


def test_quickstart_handles_errors(emulator) -> None:
    run = _run({"VECTORCACHE_API_KEY": OTHER_KEY}, emulator.url)
    assert run.returncode == 5
    assert "check VECTORCACHE_API_KEY: Invalid API key" in run.stderr
    run = _run({}, emulator.url)
    assert run.returncode == 3
    assert "VECTORCACHE_API_KEY" in run.stderr


def test_async_batch(emulator) -> None:
    run = _run({"VECTORCACHE_API_KEY": API_KEY}, emulator.url, "async_batch.py")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "round 1: 0/3 hits, saved $0.000000"
    assert lines[1].startswith("round 2: 3/3 hits, saved $0.0")
