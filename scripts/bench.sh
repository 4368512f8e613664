#!/usr/bin/env bash
# `make bench`: the clients of all three languages and their competitors against one emulator
# process on loopback, in one run; prints every figure and the ratios the SDK targets. Uses the
# dist/ artifacts (what users install) and installs the competitors itself: requests, httpx and
# aiohttp into target/bench/venv, undici into target/bench/node. Figures, not tests: nothing
# here fails on a slow machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/target/bench
RESULTS=$WORK/results.txt
mkdir -p "$WORK"
: > "$RESULTS"

wheel=$(ls dist/vectorcache_python-*manylinux*.whl | head -n 1)
main_tgz=$(ls dist/vectorcache-[0-9]*.tgz | head -n 1)
platform_tgz=$(ls dist/vectorcache-linux-x64-gnu-*.tgz | head -n 1)

echo "== bench: installing the clients and their competitors"
cargo build --quiet --release -p vectorcache-cli --bin vectorcache
[ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --upgrade pip
"$WORK/venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"
"$WORK/venv/bin/pip" install --quiet --upgrade requests httpx aiohttp
mkdir -p "$WORK/node"
echo '{ "name": "vectorcache-bench", "private": true, "type": "module" }' > "$WORK/node/package.json"
(cd "$WORK/node" && npm install --silent --no-audit --no-fund --no-package-lock \
  "$ROOT/$main_tgz" "$ROOT/$platform_tgz" undici@7 >/dev/null)
cp bench/node_bench.mjs "$WORK/node/"

# One emulator process for everyone, with a limit no run reaches (the X-RateLimit-* headers
# are still sent, as the service sends them).
KEY="vc_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
export VECTORCACHE_API_KEY=$KEY
coproc EMULATOR { exec target/release/vectorcache emulator --port 0 --rate-limit 1000000000 --burst 1000000000 2>/dev/null; }
trap 'kill "$EMULATOR_PID" 2>/dev/null || true' EXIT
read -r first <&"${EMULATOR[0]}"
export VECTORCACHE_BENCH_URL=${first##*listening on }
echo "== bench: emulator at $VECTORCACHE_BENCH_URL ($(nproc) CPUs)"

echo "== bench: Rust (core client, raw reqwest + serde_json)"
cargo bench --quiet -p vectorcache-cli --bench client | tee -a "$RESULTS"
echo "== bench: Python (wheel, requests, httpx, aiohttp)"
"$WORK/venv/bin/python" bench/python_bench.py | tee -a "$RESULTS"
echo "== bench: Node (npm package, undici)"
(cd "$WORK/node" && node node_bench.mjs) | tee -a "$RESULTS"

echo
python3 bench/summary.py "$RESULTS"
