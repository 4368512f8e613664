#!/usr/bin/env bash
# The whole Python job on a fresh machine, from the repo root: a venv with the tools, the
# emulator binary, the wheel from dist/ (what `make dist` built: manylinux2014, zig; built here
# first if dist/ has none), mypy --strict on the examples, the package and typed_usage.py,
# pytest against the INSTALLED wheel, run from outside the source tree, and the sdist from
# dist/ built by pip in a fresh venv.
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
"$PY" -m pip install -q --disable-pip-version-check -r tests/python/requirements.txt

echo "== building the emulator (cargo build -p vectorcache-cli)"
cargo build -q -p vectorcache-cli
export VECTORCACHE_EMULATOR_BIN="${VECTORCACHE_EMULATOR_BIN:-$TARGET/debug/vectorcache}"

DIST="$ROOT/dist"
if ! ls "$DIST"/vectorcache_python-*.whl >/dev/null 2>&1 || ! ls "$DIST"/vectorcache_python-*.tar.gz >/dev/null 2>&1; then
    echo "== dist/ has no wheel or sdist: building them (scripts/dist.sh python)"
    bash scripts/dist.sh python
fi
WHEEL=$(ls "$DIST"/vectorcache_python-*.whl)
SDIST=$(ls "$DIST"/vectorcache_python-*.tar.gz)
echo "== installing $(basename "$WHEEL") from dist/"
"$PY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"
export VECTORCACHE_TESTED_WHEEL="$WHEEL"

echo "== mypy --strict"
export MYPY_CACHE_DIR="$TARGET/mypy-cache"
"$VENV/bin/mypy" --strict examples/python                 # against the installed package
"$VENV/bin/mypy" --strict bindings/python/python/vectorcache  # the package and its stubs
"$VENV/bin/mypy" --strict tests/python/typed_usage.py        # user code: the precise types

# From outside the source tree, so `vectorcache` is the installed copy.
RUN_DIR="$(mktemp -d)"
trap 'rm -rf "$RUN_DIR"' EXIT
cd "$RUN_DIR"

# The compiled module is the same abi3 build on every Python, so one check of its stubs holds
# for all. On 3.9, the last mypy (1.19) also reports typing's 3.9 internals in the .py modules.
if "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "== stubtest (the stubs match the compiled module)"
    "$PY" -m mypy.stubtest vectorcache --allowlist "$ROOT/tests/python/stubtest-allowlist.txt"
else
    echo "== stubtest: skipped on Python < 3.10 (the stubs are checked where mypy 2 runs)"
fi

echo "== pytest (the installed wheel)"
"$PY" -m pytest "$ROOT/tests/python"

# What a user without a matching wheel gets: pip builds the sdist (maturin, from PyPI, in pip's
# isolated build env) with the plain Rust toolchain (no zig), outside the repository, in a venv
# of its own. In the dev profile: it shares target/debug with `cargo test`, where a release
# build would compile every dependency again for the host linker (about 4 min from a cold
# target on 2 cores); what this checks is that the sdist is complete and builds.
echo "== sdist: pip install $(basename "$SDIST") into a fresh venv"
python3 -m venv "$RUN_DIR/sdist-venv"
SECONDS=0
# --no-cache-dir: else pip reuses the wheel it built from an identical sdist last time.
MATURIN_PEP517_ARGS="--profile dev" \
    "$RUN_DIR/sdist-venv/bin/pip" install -q --disable-pip-version-check --no-cache-dir "$SDIST"
"$RUN_DIR/sdist-venv/bin/python" -c "import vectorcache, sys; v = vectorcache.__version__; print('sdist build: import vectorcache', v, 'ok'); sys.exit(v not in '$(basename "$SDIST")')"
echo "== sdist built and imported in ${SECONDS}s"
