#!/usr/bin/env python3
"""The one version: workspace.package.version in Cargo.toml. Fails (exit 1, naming each
mismatch) unless every other place that states it agrees:

- every crate takes `version.workspace = true`, and the path dependencies in
  [workspace.dependencies] (needed for crates.io) ask for exactly it;
- bindings/python/pyproject.toml leaves the version dynamic (maturin reads Cargo.toml);
- bindings/node/package.json, its package-lock.json and every platform package in
  bindings/node/npm/* (one per napi.targets entry);
- CHANGELOG.md has a section for it;
- with --tag vX.Y.Z: the release tag; with --dist DIR: every artifact in DIR (wheel METADATA,
  sdist PKG-INFO, npm tarballs' package.json and the main one's optionalDependencies, which
  must name every platform package, .crate files).
"""
import argparse
import glob
import json
import os
import re
import sys
import tarfile
import zipfile

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import pip._vendor.tomli as tomllib  # type: ignore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
problems = []
PLATFORM_PACKAGES = set()


def load_toml(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return tomllib.load(f)


def load_json(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return json.load(f)


def expect(where, found, wanted):
    if found != wanted:
        problems.append(f"{where}: {found!r}, expected {wanted!r}")


def check_sources():
    workspace = load_toml("Cargo.toml")
    version = workspace["workspace"]["package"]["version"]
    for name, dep in workspace["workspace"].get("dependencies", {}).items():
        if isinstance(dep, dict) and "path" in dep:
            found = dep.get("version")
            if found not in (version, f"={version}"):
                problems.append(f"Cargo.toml [workspace.dependencies] {name}.version: {found!r}, expected {version!r}")
    for manifest in sorted(glob.glob(os.path.join(ROOT, "crates/*/Cargo.toml")) + glob.glob(os.path.join(ROOT, "bindings/*/Cargo.toml"))):
        rel = os.path.relpath(manifest, ROOT)
        expect(f"{rel} package.version", load_toml(rel)["package"].get("version"), {"workspace": True})

    project = load_toml("bindings/python/pyproject.toml")["project"]
    expect("bindings/python/pyproject.toml project.version", project.get("version"), None)
    if "version" not in project.get("dynamic", []):
        problems.append("bindings/python/pyproject.toml: `version` is not in project.dynamic")

    main = load_json("bindings/node/package.json")
    expect("bindings/node/package.json version", main["version"], version)
    lock = load_json("bindings/node/package-lock.json")
    expect("bindings/node/package-lock.json version", lock.get("version"), version)
    expect("bindings/node/package-lock.json packages[''].version", lock["packages"][""].get("version"), version)
    if main.get("optionalDependencies"):
        problems.append("bindings/node/package.json: optionalDependencies are written at pack time "
                        "(scripts/npm-optional-deps.cjs), not in the repository (npm ci would fetch them)")
    platforms = sorted(glob.glob(os.path.join(ROOT, "bindings/node/npm/*/package.json")))
    if len(platforms) != len(main["napi"]["targets"]):
        problems.append(f"bindings/node/npm: {len(platforms)} platform packages for {len(main['napi']['targets'])} napi.targets")
    for path in platforms:
        rel = os.path.relpath(path, ROOT)
        pkg = load_json(rel)
        expect(f"{rel} version", pkg["version"], version)
        PLATFORM_PACKAGES.add(pkg["name"])

    with open(os.path.join(ROOT, "CHANGELOG.md"), encoding="utf-8") as f:
        if not re.search(rf"^## \[?{re.escape(version)}\]?", f.read(), re.M):
            problems.append(f"CHANGELOG.md: no `## {version}` section")
    return version


def check_dist(dist, version):
    found = 0
    for path in sorted(glob.glob(os.path.join(dist, "*"))):
        name = os.path.basename(path)
        if name.endswith(".whl"):
            with zipfile.ZipFile(path) as z:
                meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
                text = z.read(meta).decode()
        elif name.endswith(".tar.gz"):
            with tarfile.open(path) as t:
                member = next(m for m in t.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
                text = t.extractfile(member).read().decode()
        elif name.endswith(".tgz"):
            with tarfile.open(path) as t:
                pkg = json.load(t.extractfile("package/package.json"))
            expect(f"{name} package.json version", pkg["version"], version)
            if pkg["name"] == "vectorcache":  # the main package names every platform package
                expect(f"{name} optionalDependencies", pkg.get("optionalDependencies"),
                       {dep: version for dep in sorted(PLATFORM_PACKAGES)})
            found += 1
            continue
        elif name.endswith(".crate"):
            expect(f"{name} version", name[: -len(".crate")].rsplit("-", 1)[1], version)
            found += 1
            continue
        else:
            continue
        match = re.search(r"^Version: (.+)$", text, re.M)
        expect(f"{name} metadata Version", match and match.group(1).strip(), version)
        found += 1
    if found == 0:
        problems.append(f"{dist}: no artifact to check")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", help="the release tag, e.g. v0.1.0")
    parser.add_argument("--dist", help="a folder of built artifacts to check too")
    args = parser.parse_args()
    version = check_sources()
    if args.tag is not None:
        expect("the release tag", args.tag, f"v{version}")
    checked = check_dist(args.dist, version) if args.dist else 0
    if problems:
        print(f"version check: {len(problems)} mismatch(es) with Cargo.toml's {version}:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    extra = f" and {checked} artifacts in {args.dist}" if args.dist else ""
    print(f"version check: every manifest{extra} says {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
