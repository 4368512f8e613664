# The two commands a newcomer needs are `make demo` (or `cargo run -p vectorcache-cli -- demo`)
# and `make test`. Everything builds into the one shared ./target.

.PHONY: test lint test-rust test-python test-node demo mutants

## Every check and test, in all three languages. Installs what it needs (a Python venv with
## maturin, pytest and mypy; the npm packages), builds the real wheel and npm package, and
## tests the installed copies.
test: lint test-rust test-python test-node

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

## The core client (wiremock), the emulator, the CLI, and the doctests.
test-rust:
	cargo test

test-python:
	bash tests/python/run.sh

test-node:
	bash tests/node/run.sh

demo:
	cargo run -q -p vectorcache-cli -- demo

## Mutation testing of the core crate (slow: about half an hour on 2 cores; not part of
## `make test`). Run it after changing crates/vectorcache: it must report 0 missed.
mutants:
	command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants
	cargo mutants -p vectorcache

