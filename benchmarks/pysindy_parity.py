"""Run pysindy's own tests with symsindy's parts substituted (trivial symmetry).

A pysindy user should be able to swap ``ps.STLSQ`` for ``ss.EquivariantSTLSQ(G)``,
``ps.SR3`` for ``ss.EquivariantSR3(G)`` and ``ps.PolynomialLibrary`` for
``ss.LiePolynomialLibrary``. This script runs pysindy's test files twice, as
shipped and with those three names replaced (the optimizers with the trivial
symmetry on however many targets the data have), and prints the pass counts
side by side. Remaining failures are deliberate limits listed in the README.

pysindy's tests are not part of symsindy: point the script at a checkout of
pysindy's ``test`` directory for the installed version, e.g.::

    git -C pysindy archive v2.1.0 test | tar -x -C /tmp/ps21
    python benchmarks/pysindy_parity.py /tmp/ps21/test [--quick]

``--quick`` runs the optimizer tests only. The same file is loaded by pytest
as a plugin (``-p pysindy_parity``) to do the substitution; jax (needed only by
pysindy's SBR optimizer) is replaced by a stub when it is not installed, so
those tests fail in both columns.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

FILES = [
    "test_optimizers/test_optimizers.py",
    "test_pysindy.py",
    "test_sindyc.py",
    "test_feature_library.py",
]
_ENV_FLAG = "SYMSINDY_PARITY_SUBSTITUTE"


# ------------------------------------------------------------- the plugin
def _stub_jax() -> None:
    try:
        import jax  # noqa: F401
    except ImportError:
        stub = types.ModuleType("jax")
        stub.config = types.SimpleNamespace(update=lambda *a, **k: None)
        sys.modules["jax"] = stub


def _placeholders() -> None:
    """Names of pysindy optimizers whose optional dependencies are missing
    (gurobipy, jax): collectable placeholders that fail when used, so a test
    file still collects and such tests fail in both columns alike."""
    import pysindy.optimizers

    def unavailable(*args, **kwargs):
        raise ImportError("optional dependency of this pysindy optimizer missing")

    for name in pysindy.optimizers.__all__:
        if not hasattr(pysindy.optimizers, name):
            placeholder = type(
                name,
                (),
                {"__init__": lambda self, *a, **k: None, "fit": unavailable},
            )
            setattr(pysindy.optimizers, name, placeholder)


def _adapter(base, pysindy_cls, optimizer: bool):
    """A subclass of ``base`` with ``pysindy_cls``'s constructor signature.

    Arguments ``base`` does not take are stored (so ``get_params`` matches
    pysindy) but not passed on; optimizers get the trivial symmetry at fit.
    """
    params = list(inspect.signature(pysindy_cls.__init__).parameters.values())[1:]
    accepted = set(inspect.signature(base.__init__).parameters)
    if optimizer:
        params.append(
            inspect.Parameter(
                "symmetry", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None
            )
        )

    def __init__(self, *args, **kwargs):
        bound = inspect.Signature(
            [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
            + params
        ).bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        values.pop("self")
        base.__init__(self, **{k: v for k, v in values.items() if k in accepted})
        for k, v in values.items():
            setattr(self, k, v)

    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + params
    )
    namespace = {"__init__": __init__, "__module__": __name__}
    if optimizer:

        def fit(self, x_, y, sample_weight=None, **kwargs):
            from symsindy import SymmetryGroup

            if self.symmetry is not None:
                return base.fit(self, x_, y, sample_weight=sample_weight)
            n = 1 if len(getattr(y, "shape", ())) < 2 else y.shape[1]
            self.symmetry = SymmetryGroup(n=n)
            try:
                return base.fit(self, x_, y, sample_weight=sample_weight)
            finally:
                self.symmetry = None

        namespace["fit"] = fit
    cls = type(pysindy_cls.__name__, (base,), namespace)
    setattr(sys.modules[__name__], cls.__name__, cls)  # so that pickle finds it
    return cls


def _substitute() -> None:
    import pysindy
    import pysindy._core
    import pysindy.feature_library
    import pysindy.optimizers

    import symsindy as ss

    stlsq = _adapter(ss.EquivariantSTLSQ, pysindy.STLSQ, True)
    sr3 = _adapter(ss.EquivariantSR3, pysindy.SR3, True)
    lib = _adapter(ss.LiePolynomialLibrary, pysindy.PolynomialLibrary, False)
    for module in (pysindy, pysindy.optimizers, pysindy._core):
        module.STLSQ = stlsq
        if hasattr(module, "SR3"):
            module.SR3 = sr3
    for module in (pysindy, pysindy.feature_library, pysindy._core):
        module.PolynomialLibrary = lib


class _LazyFixture:
    """Minimal ``pytest.lazy_fixture`` (pysindy's tests use the unmaintained
    pytest-lazy-fixture plugin, which does not load on pytest 8)."""

    def __init__(self, name: str):
        self.name = name


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield
    funcargs = getattr(item, "funcargs", {})
    for key, value in list(funcargs.items()):
        if isinstance(value, _LazyFixture):
            funcargs[key] = item._request.getfixturevalue(value.name)


def pytest_configure(config) -> None:
    _placeholders()
    if os.environ.get(_ENV_FLAG) == "1":
        _substitute()


if __name__ != "__main__":  # loaded by pytest as a plugin, before conftest.py
    _stub_jax()
    if not hasattr(pytest, "lazy_fixture"):
        pytest.lazy_fixture = _LazyFixture


# ------------------------------------------------------------- the runner
def _run(tests_dir: Path, file: str, substitute: bool) -> dict[str, int]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join([here, env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env[_ENV_FLAG] = "1" if substitute else "0"
    env.setdefault("MPLBACKEND", "Agg")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "pysindy_parity",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore",
        "--rootdir",
        str(tests_dir),
        str(tests_dir / file),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tests_dir)
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    counts = {k: 0 for k in ("passed", "failed", "error", "skipped")}
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", last):
        counts["error" if word.startswith("error") else word] += int(number)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tests_dir", type=Path, help="pysindy's test directory")
    parser.add_argument("--quick", action="store_true", help="optimizer tests only")
    args = parser.parse_args()
    files = FILES[:1] if args.quick else FILES
    print(f"{'test file':40s} {'pysindy':>14s} {'symsindy':>14s}")
    for file in files:
        base = _run(args.tests_dir, file, substitute=False)
        ours = _run(args.tests_dir, file, substitute=True)
        total = sum(base[k] for k in ("passed", "failed", "error"))
        total_ours = sum(ours[k] for k in ("passed", "failed", "error"))
        print(
            f"{file:40s} {base['passed']:>6d}/{total:<7d} "
            f"{ours['passed']:>6d}/{total_ours:<7d}"
        )


if __name__ == "__main__":
    main()
