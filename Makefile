# The two commands a newcomer needs are `make demo` (or `cargo run -p vectorcache-cli -- demo`)
# and `make test`. Everything builds into the one shared ./target.

.PHONY: test lint test-rust test-python test-node demo

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
