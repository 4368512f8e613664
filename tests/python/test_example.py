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
    assert len(lines) == 4, run.stdout
    assert lines[0] == "MISS 'What is machine learning?' answered by openai"
    assert lines[1].startswith("     [emulated gpt-4o answer] ")
    assert lines[2].startswith("HIT  'What is machine learning?' similarity=1.000 saved=$0.000")
    assert lines[3] == lines[1]
    sent = emulator.requests()
    assert [(e["status"], e["body"]["similarity_threshold"]) for e in sent] == [(200, 0.85)] * 2


def test_quickstart_handles_errors(emulator) -> None:
    run = _run({"VECTORCACHE_API_KEY": OTHER_KEY}, emulator.url)
    assert run.returncode == 5, run.stderr
    assert run.stderr == "check VECTORCACHE_API_KEY: Invalid API key\n"
    assert [e["status"] for e in emulator.requests()] == [401]  # the first query, then it stopped
    run = _run({}, emulator.url)
    assert run.returncode == 3, run.stderr
    assert run.stderr.startswith(
        "configuration: no API key: set the VECTORCACHE_API_KEY environment variable")
    assert len(emulator.requests()) == 1  # nothing more was sent without a key


def test_async_batch(emulator) -> None:
    run = _run({"VECTORCACHE_API_KEY": API_KEY}, emulator.url, "async_batch.py")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "round 1: 0/3 hits, saved $0.000000"
    assert lines[1].startswith("round 2: 3/3 hits, saved $0.0")
    assert lines[1] != "round 2: 3/3 hits, saved $0.000000"
    assert len(emulator.requests()) == 6
