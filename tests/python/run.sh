#!/usr/bin/env bash
# The whole Python job on a fresh machine, from the repo root: a venv with the tools, the
# emulator binary, the release wheel, mypy --strict on the examples (and the package), and
# pytest against the INSTALLED wheel, run from outside the source tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

if [[ ! -x "$PY" ]]; then
    echo "== creating $VENV"
    python3 -m venv "$VENV"
fi
"$PY" -m pip install -q --disable-pip-version-check maturin==1.16.0 pytest==9.2.0 mypy==2.4.1

echo "== building the emulator (cargo build -p vectorcache-cli)"
cargo build -q -p vectorcache-cli
export VECTORCACHE_EMULATOR_BIN="${VECTORCACHE_EMULATOR_BIN:-$TARGET/debug/vectorcache}"

echo "== building the wheel (maturin, release)"
WHEELS="$TARGET/wheels"
rm -f "$WHEELS"/vectorcache_python-*.whl  # so the wheel installed below is this build's
"$VENV/bin/maturin" build --quiet --release -m bindings/python/Cargo.toml -o "$WHEELS"
WHEEL=$(ls "$WHEELS"/vectorcache_python-*.whl)
echo "== installing $(basename "$WHEEL")"
"$PY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"

echo "== mypy --strict"
export MYPY_CACHE_DIR="$TARGET/mypy-cache"
"$VENV/bin/mypy" --strict examples/python                 # against the installed package
"$VENV/bin/mypy" --strict bindings/python/python/vectorcache  # the package and its stubs

# From outside the source tree, so `vectorcache` is the installed copy.
RUN_DIR="$(mktemp -d)"
trap 'rm -rf "$RUN_DIR"' EXIT
cd "$RUN_DIR"

echo "== stubtest (the stubs match the compiled module)"
"$PY" -m mypy.stubtest vectorcache --allowlist "$ROOT/tests/python/stubtest-allowlist.txt"

echo "== pytest (the installed wheel)"
"$PY" -m pytest "$ROOT/tests/python"
