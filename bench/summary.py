"""Prints `make bench`'s figures side by side and the ratios the SDK targets (issue 12).

Reads the `BENCH {json}` and `VERSIONS {json}` lines the three benchmarks printed (the file
named on the command line). Each figure is measured in several rounds, the clients taking turns
(a 2-core machine running its own server is noisy); the table shows the median round and the
spread. A ratio is taken round by round wherever the rounds pair up: two clients of one
language (one benchmark ran them in turns), or figures of different languages tagged with the
same `round` (scripts/bench.sh measures query_many so, the languages in turns); the median of
those per-round ratios is shown with their range. Otherwise (figures of different languages
measured minutes apart) it is the ratio of the medians. Exit status 0 either way: targets are
reported, not enforced.
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any

# (what, numerator, denominator, target): numerator and denominator are (lang, client, mode).
RATIOS = [
    ("Rust core / reqwest+serde_json, sequential",
     ("rust", "vectorcache", "sequential"), ("rust", "reqwest+serde_json", "sequential"), 0.97),
    ("Rust core / reqwest+serde_json, 64 in flight",
     ("rust", "vectorcache", "64 in flight"), ("rust", "reqwest+serde_json", "64 in flight"), 0.97),
    ("Node / undici Pool.request, sequential",
     ("node", "vectorcache", "sequential"), ("node", "undici Pool.request", "sequential"), 1.0),
    ("Node / undici Pool.request, 64 in flight",
     ("node", "vectorcache", "64 in flight"), ("node", "undici Pool.request", "64 in flight"), 1.0),
    ("Python async / aiohttp, 64 in flight",
     ("python", "vectorcache async", "64 in flight"), ("python", "aiohttp", "64 in flight"), 2.0),
    ("Python query_many / Rust core query_many, 64",
     ("python", "vectorcache", "query_many 64"), ("rust", "vectorcache", "query_many 64"), 0.8),
    ("Node queryMany / Rust core query_many, 64",
     ("node", "vectorcache", "query_many 64"), ("rust", "vectorcache", "query_many 64"), 0.8),
    ("Python sync / requests, sequential",
     ("python", "vectorcache", "sequential"), ("python", "requests", "sequential"), None),
    ("Python async / httpx async, 64 in flight",
     ("python", "vectorcache async", "64 in flight"), ("python", "httpx async", "64 in flight"), None),
]


def main(path: str) -> None:
    rounds: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    versions: dict[str, str] = {}
    placement = "not recorded"
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("BENCH "):
                figure = json.loads(line[6:])
                rounds.setdefault((figure["lang"], figure["client"], figure["mode"]), []).append(figure)
            elif line.startswith("VERSIONS "):
                versions.update(json.loads(line[9:]))
            elif line.startswith("PLACEMENT "):
                placement = line[len("PLACEMENT "):].strip()
    figures = {key: median_round(found) for key, found in rounds.items()}
    print("versions: " + ", ".join(f"{name} {v}" for name, v in sorted(versions.items())))
    print(f"placement: {placement}")
    print()
    print(f"{'lang':<7} {'client':<21} {'mode':<14} {'queries':>9} {'queries/s':>10} "
          f"{'(min-max)':>15} {'CPU µs/query':>13} {'(JS thread)':>11}")
    for (lang, client, mode), f in figures.items():
        spread = f"{f['qps_min']:.0f}-{f['qps_max']:.0f}"
        js_thread = f.get("js_thread_cpu_us_per_query")
        js_thread_shown = "" if js_thread is None else f"{js_thread:.1f}"
        print(f"{lang:<7} {client:<21} {mode:<14} {f['queries']:>9} {f['qps']:>10.0f} "
              f"{spread:>15} {f['cpu_us_per_query']:>13.1f} {js_thread_shown:>11}")
    print()
    print(f"{'ratio (throughput)':<48} {'value':>6} {'target':>7} {'verdict':<8} per round")
    for what, top, bottom, target in RATIOS:
        if top not in figures or bottom not in figures:
            print(f"{what:<48} {'n/a':>6}")
            continue
        ratio, per_round = compare(rounds[top], rounds[bottom], top[0] == bottom[0])
        verdict = "" if target is None else ("met" if ratio >= target else "NOT met")
        shown = "" if target is None else f"≥{target:.2f}"
        spread = f"{min(per_round):.2f}-{max(per_round):.2f}" if per_round else "-"
        print(f"{what:<48} {ratio:>5.2f}× {shown:>7} {verdict:<8} {spread}")


def compare(top: list[dict[str, Any]], bottom: list[dict[str, Any]],
            same_benchmark: bool) -> tuple[float, list[float]]:
    """The ratio of two clients' throughputs and, when their rounds pair up, each round's
    ratio; the ratio is then the median of those."""
    pairs = paired_rounds(top, bottom, same_benchmark)
    if pairs:
        per_round = [t["qps"] / b["qps"] for t, b in pairs]
        return statistics.median(per_round), per_round
    return median_qps(top) / median_qps(bottom), []


def median_qps(found: list[dict[str, Any]]) -> float:
    return statistics.median(f["qps"] for f in found)


def paired_rounds(top: list[dict[str, Any]], bottom: list[dict[str, Any]],
                  same_benchmark: bool) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The rounds of two figures that ran side by side, in pairs: tagged with the same
    `round`, or (one benchmark's own figures) in the order they ran; none otherwise."""
    top_rounds, bottom_rounds = by_round(top), by_round(bottom)
    if top_rounds and bottom_rounds and top_rounds.keys() == bottom_rounds.keys():
        return [(top_rounds[r], bottom_rounds[r]) for r in sorted(top_rounds)]
    if same_benchmark and len(top) == len(bottom):
        return list(zip(top, bottom))
    return []


def by_round(found: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """A figure's rounds by their `round` tag; empty unless every round has a distinct one."""
    tagged = {f["round"]: f for f in found if "round" in f}
    return tagged if len(tagged) == len(found) else {}


def median_round(found: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median throughput, with the rounds' range."""
    ordered = sorted(found, key=lambda f: f["qps"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["qps"] = statistics.median(f["qps"] for f in ordered)
    middle["qps_min"], middle["qps_max"] = ordered[0]["qps"], ordered[-1]["qps"]
    middle["queries"] = f"{len(ordered)}×{middle['queries']}"
    return middle


if __name__ == "__main__":
    main(sys.argv[1])
