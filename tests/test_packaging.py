"""The version has one source (pyproject.toml) and the package ships type hints."""

import importlib.metadata
import tomllib
from pathlib import Path

import pytest

import symsindy

ROOT = Path(__file__).resolve().parent.parent


def _pyproject():
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_version_comes_from_the_package_metadata():
    assert symsindy.__version__ == importlib.metadata.version("symsindy")


def test_version_falls_back_to_pyproject_without_metadata(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert symsindy._read_version() == _pyproject()["project"]["version"]


def test_version_is_not_written_anywhere_else():
    """No second literal to forget when the version in pyproject.toml changes."""
    source = (ROOT / "symsindy" / "__init__.py").read_text()
    assert _pyproject()["project"]["version"] not in source


def test_py_typed_marker_is_shipped_as_package_data():
    assert (ROOT / "symsindy" / "py.typed").is_file()
    package_data = _pyproject()["tool"]["setuptools"]["package-data"]["symsindy"]
    assert "py.typed" in package_data


@pytest.mark.slow
def test_built_wheel_contains_py_typed(tmp_path):
    """The marker reaches the wheel (PEP 561), not only the source tree."""
    import subprocess
    import sys
    import zipfile

    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        pytest.skip(f"cannot build a wheel offline here: {build.stderr[-200:]}")
    (wheel,) = tmp_path.glob("symsindy-*.whl")
    assert "symsindy/py.typed" in zipfile.ZipFile(wheel).namelist()
