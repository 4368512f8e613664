# The two commands a newcomer needs are `make demo` (or `cargo run -p vectorcache-cli -- demo`)
# and `make test`. Everything builds into the one shared ./target.

.PHONY: test lint lint-workflows check-versions check-msrv dist test-rust test-python test-node demo mutants bench

## Every check and test, in all three languages. Installs what it needs (a Python venv with
## maturin, zig, auditwheel, pytest and mypy; the npm packages; cargo-zigbuild), builds every
## release artifact into dist/ and tests those: the wheel and the npm tarballs as installed.
test: lint dist test-rust test-python test-node

lint: lint-workflows check-versions check-msrv
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

## actionlint over .github/workflows.
lint-workflows:
	bash scripts/lint-workflows.sh

## Cargo.toml's workspace version is the one every manifest states.
check-versions:
	python3 scripts/check-versions.py

## No locked dependency needs a newer Rust than the workspace's rust-version.
check-msrv:
	python3 scripts/check-msrv.py

## Every artifact this machine can build, into dist/: the manylinux2014 wheel, the sdist, the
## npm main and linux-x64-gnu packages, the .crate files (see scripts/dist.sh).
dist:
	bash scripts/dist.sh all

## The core client (wiremock), the emulator, the CLI, and the doctests.
test-rust:
	cargo test

test-python:
	bash tests/python/run.sh

test-node:
	bash tests/node/run.sh

demo:
	cargo run -q -p vectorcache-cli -- demo

## Throughput and CPU per query of the Rust, Python and Node clients beside raw reqwest,
## requests/httpx/aiohttp and undici, against an emulator process, in two CPU placements;
## prints figures and the targeted ratios (see scripts/bench.sh). Not part of `make test`:
## figures, not pass/fail.
bench: dist
	bash scripts/bench.sh

## Mutation testing of the core crate (slow: about an hour on 2 cores; not part of
## `make test`). Run it after changing crates/vectorcache: it must report 0 missed.
mutants:
	command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants@^27
	CARGO_PROFILE_DEV_DEBUG=false cargo mutants -p vectorcache -j 2

