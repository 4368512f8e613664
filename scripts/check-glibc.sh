#!/usr/bin/env bash
# Fails unless every ELF binary given (a .so/.node, or the ones inside a wheel) needs no glibc
# symbol version newer than MAX_GLIBC (default 2.17, manylinux2014). Prints the highest per file.
#   bash scripts/check-glibc.sh dist/*.whl bindings/node/vectorcache.linux-x64-gnu.node
set -euo pipefail
MAX="${MAX_GLIBC:-2.17}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

highest() { # the highest GLIBC_x.y a binary's dynamic symbols need
    objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1
}

status=0
for artifact in "$@"; do
    binaries=("$artifact")
    if [[ "$artifact" == *.whl ]]; then
        dir="$work/$(basename "$artifact")"
        mkdir -p "$dir"
        python3 -m zipfile -e "$artifact" "$dir"
        mapfile -t binaries < <(find "$dir" -name '*.so' | sort)
        [[ ${#binaries[@]} -gt 0 ]] || { echo "$artifact: no .so inside" >&2; exit 1; }
    fi
    for bin in "${binaries[@]}"; do
        top="$(highest "$bin")"
        label="$artifact${bin#"$work/$(basename "$artifact")"}"
        [[ "$bin" == "$artifact" ]] && label="$artifact"
        if [[ -z "$top" ]]; then
            echo "glibc: $label needs no versioned glibc symbol"
        elif [[ "$(printf '%s\n%s\n' "$top" "$MAX" | sort -V | tail -n 1)" != "$MAX" ]]; then
            echo "glibc: $label needs GLIBC_$top, newer than the allowed $MAX:" >&2
            objdump -T "$bin" | grep "GLIBC_$top" | head -n 5 >&2
            status=1
        else
            echo "glibc: $label needs at most GLIBC_$top (allowed: $MAX)"
        fi
    done
done
exit "$status"
