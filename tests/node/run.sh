#!/usr/bin/env bash
# The whole Node job on a fresh machine; run from the repository root:
#   bash tests/node/run.sh
# Builds the emulator (debug) and the addon (release), packs the npm package, installs the
# tarball into an empty temp project, type-checks the TypeScript example against the
# installed copy, and runs the node:test suite against it and the real emulator binary.
set -euo pipefail

REPO="$(pwd)"
NODE_PKG="$REPO/bindings/node"
if [[ ! -f "$NODE_PKG/package.json" || ! -f "$REPO/Cargo.toml" ]]; then
  echo "run this from the repository root: bash tests/node/run.sh" >&2
  exit 2
fi

echo "==> emulator: cargo build -p vectorcache-cli"
cargo build -p vectorcache-cli
export VECTORCACHE_EMULATOR_BIN="${VECTORCACHE_EMULATOR_BIN:-$REPO/target/debug/vectorcache}"

echo "==> bindings/node: npm ci + release build of the addon"
# The workspace's shared target/ (cargo metadata's target_directory), unless the caller set one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
(
  cd "$NODE_PKG"
  npm ci --no-audit --no-fund
  npx napi build --platform --release --js native.js --dts native.d.ts
)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vectorcache-node.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "==> npm pack"
TARBALL="$(cd "$NODE_PKG" && npm pack --silent --pack-destination "$WORK" | tail -n 1)"
TARBALL="$WORK/$TARBALL"

echo "==> install $(basename "$TARBALL") into an empty project"
PROJECT="$WORK/project"
mkdir -p "$PROJECT"
(
  cd "$PROJECT"
  echo '{ "name": "vectorcache-node-tests", "private": true }' > package.json
  npm install --no-audit --no-fund --no-package-lock "$TARBALL"
)

echo "==> tsc --noEmit --strict examples/node/quickstart.ts against the installed package"
cp "$REPO/examples/node/quickstart.ts" "$PROJECT/quickstart.ts"
(
  cd "$PROJECT"
  node "$NODE_PKG/node_modules/typescript/bin/tsc" --noEmit --strict --target es2022 \
    --module node16 --moduleResolution node16 --types node \
    --typeRoots "$NODE_PKG/node_modules/@types" quickstart.ts
)

echo "==> node --test (installed package, real emulator)"
# A copy of the suite inside the project, so `vectorcache` resolves to the installed package
# for both require() and import (ESM ignores NODE_PATH).
cp -R "$REPO/tests/node" "$PROJECT/node-tests"
cd "$PROJECT"
export VECTORCACHE_REPO="$REPO" VECTORCACHE_TEST_PROJECT="$PROJECT"
unset VECTORCACHE_API_KEY VECTORCACHE_BASE_URL
node --test node-tests/*.test.mjs node-tests/*.test.cjs
