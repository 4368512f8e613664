"""The tested copy is the installed wheel, and the package exposes its typed public API."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import vectorcache


def test_the_installed_copy_is_tested() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert site_packages in Path(vectorcache.__file__).resolve().parents, vectorcache.__file__


def test_compiled_module_is_private_and_abi3() -> None:
    native = Path(vectorcache._native.__file__)  # type: ignore[attr-defined]
    assert native.name.startswith("_native.") and ".abi3." in native.name


def test_typed_package_ships_marker_and_stubs() -> None:
    package = Path(vectorcache.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()


def test_public_names() -> None:
    for name in vectorcache.__all__:
        assert hasattr(vectorcache, name), name
    assert vectorcache.__version__.count(".") == 2
    assert vectorcache.DEFAULT_BASE_URL == "https://api.vectorcache.ai"
    assert vectorcache.API_KEY_ENV == "VECTORCACHE_API_KEY"


def test_the_installed_copy_is_the_dist_wheel() -> None:
    """run.sh installs the wheel `make dist` built (manylinux2014): the compiled module in
    site-packages is byte for byte the one in that wheel."""
    import importlib.metadata
    import os
    import zipfile

    import pytest

    wheel = os.environ.get("VECTORCACHE_TESTED_WHEEL")
    if not wheel:
        pytest.skip("VECTORCACHE_TESTED_WHEEL not set (run through tests/python/run.sh)")
    assert "manylinux_2_17_x86_64" in Path(wheel).name or "manylinux2014_x86_64" in Path(wheel).name
    assert importlib.metadata.version("vectorcache-python") == vectorcache.__version__
    assert f"-{vectorcache.__version__}-" in Path(wheel).name
    native = Path(vectorcache._native.__file__)  # type: ignore[attr-defined]
    with zipfile.ZipFile(wheel) as z:
        packed = z.read(f"vectorcache/{native.name}")
    assert native.read_bytes() == packed
