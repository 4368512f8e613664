#!/usr/bin/env python3
"""The declared MSRV holds for what Cargo.lock resolves: fails (exit 1, naming each package)
when a locked package that the workspace builds says it needs a newer Rust than
workspace.package.rust-version.

This machine has one toolchain, so the MSRV cannot be built here; the packages' own
`rust-version` fields are what can be checked, and they are what broke before (the lock moved
to `icu_*` 2.4 and `napi-sys` 3.4, which need 1.88, while the workspace said 1.85). Clippy's
`incompatible_msrv` lint covers the other half: our own code using newer standard library APIs.
"""
import json
import os
import subprocess
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import pip._vendor.tomli as tomllib  # type: ignore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def version(text):
    """'1.88' or '1.88.0' as a comparable tuple (a missing patch is 0)."""
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        declared = tomllib.load(f)["workspace"]["package"]["rust-version"]
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--quiet",
             "--filter-platform", "x86_64-unknown-linux-gnu"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )
    # Only what the workspace's crates build on this platform (their dev- and build-
    # dependencies included: the MSRV user runs the tests too).
    built = {node["id"] for node in metadata["resolve"]["nodes"]}
    too_new = sorted(
        (package["name"], package["version"], package["rust_version"])
        for package in metadata["packages"]
        if package["id"] in built
        and package.get("rust_version")
        and version(package["rust_version"]) > version(declared)
    )
    for name, package_version, needs in too_new:
        print(f"check-msrv: {name} {package_version} needs Rust {needs}, above the workspace's "
              f"rust-version {declared}: raise it, or hold {name} back", file=sys.stderr)
    if too_new:
        return 1
    print(f"check-msrv: every locked package builds with Rust {declared}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
