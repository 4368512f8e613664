#!/usr/bin/env bash
# `make dist`: every artifact this machine (Linux x86_64) can build, into dist/:
#   - the wheel, manylinux2014 (glibc 2.17) through zig, checked with auditwheel and objdump;
#   - the sdist;
#   - the npm main package `vectorcache` and its platform package `vectorcache-linux-x64-gnu`
#     (addon built through cargo-zigbuild for glibc 2.17, checked with objdump);
#   - the .crate files of the crates published to crates.io (packaged and verified by cargo).
# Installs what it needs: maturin, ziglang and auditwheel into .venv, cargo-zigbuild with
# `cargo install --locked`, the npm dev tools with `npm ci`.
#   bash scripts/dist.sh [python|node|crates|all]    (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
DIST="$ROOT/dist"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
# zig provides the glibc 2.17 stubs both binaries link against.
ZIGLANG_VERSION=0.15.2
# The cargo-zigbuild that maturin 1.16.0 embeds, so both binaries are linked the same way.
CARGO_ZIGBUILD_VERSION=0.24.0
TRIPLE=x86_64-unknown-linux-gnu
GLIBC=2.17
VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"

log() { echo "== dist: $*"; }

python_tools() {
    if [[ ! -x "$PY" ]]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    "$PY" -m pip install -q --disable-pip-version-check \
        maturin==1.16.0 "ziglang==$ZIGLANG_VERSION" \
        'auditwheel==6.8.2; python_version >= "3.10"' \
        'auditwheel==6.4.2; python_version < "3.10"' # the last for 3.9
    # maturin and cargo-zigbuild run `python3 -m ziglang` when there is no `zig` on PATH.
    export PATH="$VENV/bin:$PATH"
}

dist_python() {
    python_tools
    rm -f "$DIST"/vectorcache_python-*
    log "wheel: maturin --zig, manylinux2014 ($TRIPLE.$GLIBC)"
    "$VENV/bin/maturin" build --quiet --release --zig --compatibility manylinux2014 \
        --target "$TRIPLE" -m bindings/python/Cargo.toml -o "$DIST"
    log "sdist"
    "$VENV/bin/maturin" sdist -m bindings/python/Cargo.toml -o "$DIST"
    local wheel
    wheel="$(ls "$DIST"/vectorcache_python-*.whl)"
    log "auditwheel show $(basename "$wheel")"
    local report
    report="$("$VENV/bin/auditwheel" show "$wheel")"
    echo "$report"
    if ! grep -q '"manylinux_2_17_x86_64"' <<<"$report"; then
        echo "dist: $(basename "$wheel") is not manylinux_2_17 (manylinux2014) compliant" >&2
        exit 1
    fi
    bash scripts/check-glibc.sh "$wheel"
}

# @napi-rs/cli, which builds the addon, needs a newer Node than the package's users do (its
# lock entry's engines). On Node 18, the oldest the package supports, it fails inside with "does
# not provide an export named 'styleText'"; this says what to do instead. Run in bindings/node.
node_can_build() {
    node -e '
      const need = require("./package-lock.json").packages["node_modules/@napi-rs/cli"].engines?.node
      if (need && !require("semver").satisfies(process.version, need)) {
        console.error(`dist: building the Node addon needs Node ${need} (for @napi-rs/cli), ` +
          `and this machine'"'"'s node is ${process.version}. Install Node 20.17 or later and put ` +
          `it first on PATH. The package itself runs on Node >= 18: make test also runs its ` +
          `suite on a pinned Node 18.`)
        process.exit(1)
      }'
}

dist_node() {
    python_tools  # zig, for cargo-zigbuild
    if ! command -v cargo-zigbuild >/dev/null || [[ "$(cargo-zigbuild --version)" != *" $CARGO_ZIGBUILD_VERSION"* ]]; then
        log "cargo install --locked cargo-zigbuild@$CARGO_ZIGBUILD_VERSION"
        cargo install --quiet --locked "cargo-zigbuild@$CARGO_ZIGBUILD_VERSION"
    fi
    local pkg="$ROOT/bindings/node" platform=linux-x64-gnu
    rm -f "$DIST"/vectorcache-*.tgz "$pkg"/vectorcache.*.node "$pkg/npm/$platform"/*.node
    log "addon: napi build -x (cargo-zigbuild) --target $TRIPLE.$GLIBC"
    (
        cd "$pkg"
        npm ci --no-audit --no-fund --silent
        node_can_build
        # A target dir of its own inside target/: cargo fingerprints the linker, and maturin's zig
        # wrapper (`maturin zig cc`) and cargo-zigbuild's are different paths, so in one dir each
        # build would recompile every dependency the other built.
        CARGO_TARGET_DIR="$CARGO_TARGET_DIR/napi-zig" npx napi build --platform --release --no-js --dts native.d.ts \
            -x --target "$TRIPLE.$GLIBC"
    )
    bash scripts/check-glibc.sh "$pkg/vectorcache.$platform.node"
    # napi-rs convention: the binary goes into its platform package (what `napi artifacts` does
    # with the release workflow's downloads).
    mv "$pkg/vectorcache.$platform.node" "$pkg/npm/$platform/"
    log "npm pack: vectorcache, vectorcache-$platform"
    mkdir -p "$DIST"
    # The main package as published: packed, then its optionalDependencies written in (see
    # scripts/npm-optional-deps.cjs), then packed again.
    local stage="$CARGO_TARGET_DIR/npm-stage"
    rm -rf "$stage" && mkdir -p "$stage"
    (cd "$pkg" && npm pack --silent --pack-destination "$stage" >/dev/null)
    tar -xzf "$stage/vectorcache-$VERSION.tgz" -C "$stage"
    node scripts/npm-optional-deps.cjs "$stage/package"
    (cd "$stage/package" && npm pack --silent --pack-destination "$DIST" >/dev/null)
    (cd "$pkg/npm/$platform" && npm pack --silent --pack-destination "$DIST" >/dev/null)
    if tar -tzf "$DIST/vectorcache-$VERSION.tgz" | grep -q '\.node$'; then
        echo "dist: the main npm package must not carry a binary" >&2
        exit 1
    fi
}

dist_crates() {
    # --allow-dirty: `make dist` packs the working tree; the release workflow packs a clean tag.
    log "cargo package (and verify): vectorcache, vectorcache-emulator, vectorcache-cli"
    rm -f "$DIST"/*.crate
    # Verifying vectorcache-cli builds its workspace dependencies from cargo's temporary overlay
    # registry, which cargo unpacks under $CARGO_HOME/registry/src/-<hash>/ and never unpacks again
    # while that directory exists; and it fingerprints a registry package by name and version, not
    # by its files. So after the first run, verification reused stale copies of vectorcache and
    # vectorcache-emulator. Forget both: the unpacked sources (local registries' directories start
    # with "-"; crates.io's is index.crates.io-<hash>) and what was compiled from them.
    local crate dep_info
    for crate in vectorcache vectorcache-emulator vectorcache-cli; do
        rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/"$crate-$VERSION"
    done
    for dep_info in $(grep -l -- "/registry/src/-" "$CARGO_TARGET_DIR"/debug/deps/*.d 2>/dev/null); do
        crate="$(basename "$dep_info" .d)"
        rm -rf "$CARGO_TARGET_DIR/debug/.fingerprint/${crate//_/-}"
    done
    cargo package --quiet --locked --allow-dirty -p vectorcache -p vectorcache-emulator -p vectorcache-cli
    mkdir -p "$DIST"
    for crate in vectorcache vectorcache-emulator vectorcache-cli; do
        cp "$CARGO_TARGET_DIR/package/$crate-$VERSION.crate" "$DIST/"
    done
}

what="${1:-all}"
mkdir -p "$DIST"
case "$what" in
    python) dist_python ;;
    node) dist_node ;;
    crates) dist_crates ;;
    all) dist_python; dist_node; dist_crates ;;
    *) echo "usage: $0 [python|node|crates|all]" >&2; exit 2 ;;
esac
python3 scripts/check-versions.py --dist "$DIST"
log "$(cd "$DIST" && ls -l | awk 'NR > 1 { printf "%s (%s bytes)  ", $9, $5 }')"
