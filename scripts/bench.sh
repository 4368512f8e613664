#!/usr/bin/env bash
# `make bench`: the clients of all three languages and their competitors against an emulator
# process on loopback, in one run (in two CPU placements, see below); prints every figure and
# the ratios the SDK targets. Uses the dist/ artifacts (what users install) and installs the
# competitors itself: requests, httpx and aiohttp into target/bench/venv, undici into
# target/bench/node. Figures, not tests: nothing here fails on a slow machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/target/bench
mkdir -p "$WORK"

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

# Every figure is measured in two placements, each with an emulator process of its own:
# - shared: the scheduler places the client and the emulator on any CPU (how the issue's
#   baseline was measured; a client may use every core, but it competes with the server for
#   them, and where the scheduler puts whom moved figures by ±30 % between runs on a 2-core VM);
# - pinned: the emulator on the last CPU, the clients on the others (reproducible; with two
#   CPUs a client has one core, so throughput there is the client's CPU cost per query).
# BENCH_PLACEMENTS="shared" or "pinned" runs one of them.
CPUS=$(nproc)
PLACEMENTS=${BENCH_PLACEMENTS:-shared pinned}
if [ "$CPUS" -lt 2 ] || ! command -v taskset >/dev/null; then
  PLACEMENTS=${PLACEMENTS//pinned/}
fi

# Rounds of the query_many comparison across languages (see measure_placement).
BATCH_ROUNDS=${BENCH_BATCH_ROUNDS:-5}

# Each language's benchmark, on the placement's clients' CPUs.
rust_bench() { "${clients_on[@]}" cargo bench --quiet -p vectorcache-cli --bench client; }
python_bench() { "${clients_on[@]}" "$WORK/venv/bin/python" bench/python_bench.py; }
node_bench() { (cd "$WORK/node" && "${clients_on[@]}" node node_bench.mjs); }

# One emulator for everyone in a placement, with a limit no run reaches (the X-RateLimit-*
# headers are still sent, as the service sends them). $1: shared or pinned.
measure_placement() {
  local placement=$1 results=$WORK/results-$1.txt
  local server_on=() clients_on=() described="the scheduler's choice, $CPUS CPUs"
  if [ "$placement" = pinned ]; then
    local clients=0
    [ "$CPUS" -gt 2 ] && clients="0-$((CPUS - 2))"
    server_on=(taskset -c "$((CPUS - 1))")
    clients_on=(taskset -c "$clients")
    described="emulator on CPU $((CPUS - 1)), clients on CPU $clients of $CPUS"
  fi
  echo "PLACEMENT $placement: $described" > "$results"
  coproc EMULATOR { exec "${server_on[@]}" target/release/vectorcache emulator --port 0 --rate-limit 1000000000 --burst 1000000000 2>/dev/null; }
  # shellcheck disable=SC2064 # the pid of this placement's emulator, now
  trap "kill $EMULATOR_PID 2>/dev/null || true" EXIT
  local first
  read -r first <&"${EMULATOR[0]}"
  export VECTORCACHE_BENCH_URL=${first##*listening on }
  echo "== bench ($placement: $described): emulator at $VECTORCACHE_BENCH_URL"
  echo "== bench ($placement): Rust (core client, raw reqwest + serde_json)"
  BENCH_SKIP=query_many rust_bench | tee -a "$results"
  echo "== bench ($placement): Python (wheel, requests, httpx, aiohttp)"
  BENCH_SKIP=query_many python_bench | tee -a "$results"
  echo "== bench ($placement): Node (npm package, undici)"
  BENCH_SKIP=query_many node_bench | tee -a "$results"
  # query_many is compared across languages, and the benchmarks above run one after the
  # other, minutes apart, while this machine's speed drifts by a third within minutes. So the
  # batches are measured here in turns instead: each round runs one batch per language (a
  # process each, after an unmeasured batch), and summary.py pairs the languages by round.
  echo "== bench ($placement): query_many, the three languages in turns"
  for round in $(seq "$BATCH_ROUNDS"); do
    for run in rust_bench python_bench node_bench; do
      BENCH_ONLY=query_many BENCH_ROUNDS=1 "$run" | sed "s/^BENCH {/BENCH {\"round\": $round, /"
    done
  done | tee -a "$results"
  kill "$EMULATOR_PID" 2>/dev/null || true
  wait "$EMULATOR_PID" 2>/dev/null || true
}

KEY="vc_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
export VECTORCACHE_API_KEY=$KEY
cargo bench --quiet -p vectorcache-cli --bench client --no-run
for placement in $PLACEMENTS; do
  measure_placement "$placement"
done

for placement in $PLACEMENTS; do
  echo
  python3 bench/summary.py "$WORK/results-$placement.txt"
done
