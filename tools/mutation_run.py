"""Sampled mutation testing of symsindy's numerical modules (not part of CI).

A mutant is the package with one small change in one module: an arithmetic
operator swapped, a comparison changed or negated, a boolean operator
swapped, a number changed, a statement removed or a return value dropped. A
test suite that still passes on a mutant did not notice the change; either
the change is *equivalent* (the mutant computes the same thing, listed with a
reason in ``tools/mutation_equivalents.json``) or a test is missing.

How it works
------------
* Mutation points are found with the standard library :mod:`ast`; a fixed
  seed samples ``--per-module`` of them per module (docstrings, ``__repr__``,
  ``print`` calls and ``raise`` statements are not mutated).
* Each worker copies the repository (``symsindy/``, ``tests/``, ``setup.cfg``,
  ``pyproject.toml``) to a temporary directory once and writes every mutant
  into that copy: the working tree is never touched. Byte-code caching is off
  so a mutant of the same size and time stamp cannot be shadowed by a stale
  ``.pyc``.
* The module's own test subset (:data:`MODULES`, plus any
  ``tests/test_mutation_killers_<module>.py``) runs with
  ``pytest -x -q -p no:cacheprovider`` under a timeout of
  ``max(3 x baseline, baseline + 30 s)``; a timeout counts as killed.

Usage
-----
::

    python tools/mutation_run.py                      # every module, 40 each
    python tools/mutation_run.py --modules polynomials spectrum --per-module 60
    python tools/mutation_run.py --survivors-of results.jsonl   # re-check survivors
    python tools/mutation_run.py --list polynomials   # show the sampled mutants
    python tools/mutation_run.py --modules state_noise --functions corrections
    python tools/mutation_run.py --summary results.jsonl rerun.jsonl --show-survivors

Results are appended to ``--out`` (JSON lines, one per mutant) and a table of
the kill rate per module is printed: all mutants, and the non-equivalent
ones. It takes about 30 to 60 minutes on two cores with the defaults.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# Set before numpy is imported: forked test runs must not share BLAS threads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.json"

#: Module (path under symsindy/) -> test files that exercise it quickly.
MODULES: dict[str, list[str]] = {
    "polynomials.py": [
        "tests/test_polynomials.py",
        "tests/test_lie_derivative.py",
        "tests/test_properties.py",
    ],
    "lie_derivative.py": [
        "tests/test_lie_derivative.py",
        "tests/test_properties.py",
    ],
    "spaces.py": [
        "tests/test_lie_derivative.py",
        "tests/test_spectrum.py",
        "tests/test_equivariance.py",
    ],
    "spectrum.py": ["tests/test_spectrum.py"],
    "algebra.py": ["tests/test_algebra.py", "tests/test_lie_derivative.py"],
    "finite_groups.py": ["tests/test_finite_groups.py"],
    "equivariance.py": ["tests/test_equivariance.py"],
    "linalg.py": ["tests/test_equivariance.py", "tests/test_discover_statistics.py"],
    "inference.py": ["tests/test_inference.py", "tests/test_discover_statistics.py"],
    "regression_data.py": [
        "tests/test_regression_data.py",
        "tests/test_discover_statistics.py",
        "tests/test_state_noise.py",
    ],
    "state_noise.py": ["tests/test_state_noise.py"],
    "weak_form.py": ["tests/test_regression_data.py"],
    "trajectory_test.py": ["tests/test_trajectory_test.py"],
    "discover/continuous.py": [
        "tests/test_discover.py",
        "tests/test_discover_statistics.py",
        "tests/test_trajectory_test.py",
    ],
    "discover/discrete.py": [
        "tests/test_discover.py",
        "tests/test_discrete_bounds.py",
        "tests/test_discover_statistics.py",
        "tests/test_finite_groups.py",
        "tests/test_discrete_candidates.py",
    ],
    "discover/snapping.py": [
        "tests/test_discover.py",
        "tests/test_discover_statistics.py",
    ],
    "discover/bootstrap.py": ["tests/test_discover.py"],
    "discover/symmetries.py": ["tests/test_discover.py"],
    "discover/inputs.py": [
        "tests/test_discover.py",
        "tests/test_discover_input_errors.py",
    ],
    "discover/report.py": [
        "tests/test_discover.py",
        "tests/test_discover_statistics.py",
    ],
    "optimizers/stlsq.py": [
        "tests/test_optimizers.py",
        "tests/test_optimizer_contract.py",
    ],
    "optimizers/sr3.py": [
        "tests/test_optimizers.py",
        "tests/test_optimizer_contract.py",
    ],
    "optimizers/reduced.py": [
        "tests/test_optimizers.py",
        "tests/test_optimizer_contract.py",
    ],
}

#: Functions whose body is presentation only.
_SKIP_FUNCTIONS = {"__repr__", "__str__", "describe", "to_dict", "summary"}

_BINOP_SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.MatMult: ast.Mult,
}
_CMP_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass
class Mutant:
    module: str
    index: int  # position of the node in ast.walk order
    kind: str
    lineno: int
    function: str
    before: str
    after: str

    occurrence: int = 0  # earlier mutants of the same text in the same function

    @property
    def key(self) -> str:
        """Identity that survives unrelated edits (no line numbers)."""
        text = f"{self.kind}\n{self.before}\n->\n{self.after}".encode()
        digest = hashlib.sha1(text).hexdigest()[:10]
        return f"{self.module}::{self.function}::{digest}#{self.occurrence}"


# ------------------------------------------------------------ mutation points
def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {
        child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
    }


def _enclosing_function(node, parents) -> str:
    names = []
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
    return ".".join(reversed(names)) or "<module>"


def _is_docstring(node, parents) -> bool:
    parent = parents.get(node)
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and isinstance(parent, ast.Module | ast.FunctionDef | ast.ClassDef)
    )


def _skipped(node, parents) -> bool:
    """Presentation code, annotations, docstrings and error paths."""
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.FunctionDef) and parent.name in _SKIP_FUNCTIONS:
            return True
        if isinstance(parent, ast.Raise | ast.JoinedStr | ast.Assert):
            return True
        if isinstance(parent, ast.arg) or (
            isinstance(parent, ast.FunctionDef) and node is parent.returns
        ):
            return True
        if isinstance(parent, ast.AnnAssign) and node is parent.annotation:
            return True
        if isinstance(parent, ast.Call) and _call_name(parent) == "print":
            return True
        if isinstance(parent, ast.keyword) and parent.arg == "stacklevel":
            return True
        node = parent
    return False


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")


def _mutations(node, parents):
    """``(kind, mutate(node) -> new node)`` for one AST node."""
    out = []
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
        new = _BINOP_SWAPS[type(node.op)]
        out.append((f"binop {type(node.op).__name__}->{new.__name__}", _set_op(new)))
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOP_SWAPS:
        new = _BINOP_SWAPS[type(node.op)]
        out.append((f"augop {type(node.op).__name__}->{new.__name__}", _set_op(new)))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = type(node.ops[0])
        if op in _CMP_SWAPS:
            out.append((f"compare {op.__name__}->{_CMP_SWAPS[op].__name__}", _cmp(op)))
    elif isinstance(node, ast.BoolOp):
        out.append(("boolop swap", _swap_boolop))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("remove not", lambda n: n.operand))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        out.append(("remove unary minus", lambda n: n.operand))
    elif isinstance(node, ast.If | ast.While | ast.IfExp):
        out.append(("negate condition", _negate_test))
    elif isinstance(node, ast.Constant) and not isinstance(node.value, str | bytes):
        if isinstance(node.value, bool):
            out.append(("flip bool", lambda n: ast.Constant(not n.value)))
        elif isinstance(node.value, int | float):
            out.append(("change constant", _change_constant))
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            out.append(("return None", lambda n: ast.Return(ast.Constant(None))))
    elif isinstance(node, ast.Break):
        out.append(("break->continue", lambda n: ast.Continue()))
    if _removable(node, parents):
        out.append(("remove statement", lambda n: ast.Pass()))
    return out


def _removable(node, parents) -> bool:
    """Statements whose removal leaves runnable code: calls, updates, rebinding.

    A first binding of a name is not removed (that mutant only raises
    NameError and would inflate the kill rate).
    """
    if isinstance(parents.get(node), ast.Module | ast.ClassDef):
        return False
    if isinstance(node, ast.AugAssign):
        return True
    if isinstance(node, ast.Expr):
        return not _is_docstring(node, parents)
    if not isinstance(node, ast.Assign):
        return False
    names = [t.id for t in node.targets if isinstance(t, ast.Name)]
    if len(names) < len(node.targets):
        return True  # item or attribute assignment, or tuple unpacking
    func = node
    while func in parents and not isinstance(func, ast.FunctionDef):
        func = parents[func]
    if not isinstance(func, ast.FunctionDef):
        return False
    bound = {a.arg for a in func.args.args + func.args.kwonlyargs}
    for other in ast.walk(func):
        if (
            isinstance(other, ast.Name)
            and isinstance(other.ctx, ast.Store)
            and other.lineno < node.lineno
        ):
            bound.add(other.id)
    return all(name in bound for name in names)


def _set_op(new):
    def apply(n):
        n.op = new()
        return n

    return apply


def _cmp(op):
    def apply(n):
        n.ops = [_CMP_SWAPS[op]()]
        return n

    return apply


def _swap_boolop(n):
    n.op = ast.Or() if isinstance(n.op, ast.And) else ast.And()
    return n


def _negate_test(n):
    n.test = ast.UnaryOp(ast.Not(), n.test)
    return n


def _change_constant(n):
    v = n.value
    if v == 0:
        new = 1
    elif v == 1:
        new = 0 if isinstance(v, int) else 2.0
    elif isinstance(v, int):
        new = v + 1
    else:
        new = v * 10
    return ast.Constant(type(v)(new))


def find_mutants(module: str) -> list[Mutant]:
    """Every mutation point of ``symsindy/<module>``."""
    tree = ast.parse((ROOT / "symsindy" / module).read_text())
    parents = _parents(tree)
    out = []
    seen: dict[tuple, int] = {}
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Module) or _skipped(node, parents):
            continue
        if _is_docstring(node, parents):
            continue
        for kind, mutate in _mutations(node, parents):
            before = ast.unparse(node)
            after = ast.unparse(ast.fix_missing_locations(mutate(copy.deepcopy(node))))
            if before == after:
                continue
            function = _enclosing_function(node, parents)
            same = (function, kind, before, after)
            seen[same] = seen.get(same, -1) + 1
            out.append(
                Mutant(
                    module,
                    index,
                    kind,
                    getattr(node, "lineno", 0),
                    function,
                    before,
                    after,
                    seen[same],
                )
            )
    return out


def _apply(source: str, index: int, kind: str) -> str:
    """The module's source with mutation ``kind`` applied at node ``index``."""
    tree = ast.parse(source)
    parents = _parents(tree)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == index)
    new = dict(_mutations(node, parents))[kind](copy.deepcopy(node))
    parent = parents[node]
    for field, value in ast.iter_fields(parent):
        if value is node:
            setattr(parent, field, new)
        elif isinstance(value, list):
            for k, item in enumerate(value):
                if item is node:
                    value[k] = new
    return ast.unparse(ast.fix_missing_locations(tree))


# --------------------------------------------------------------------- running
def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("symsindy", "tests"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)


def _test_files(module: str) -> list[str]:
    """The module's test subset and its killer tests (module or package name)."""
    path = Path(module)
    names = {path.stem} | ({path.parent.name} if path.parent.name else set())
    files = list(MODULES[module])
    for name in sorted(names):
        for killer in sorted(
            (ROOT / "tests").glob(f"test_mutation_killers_{name}*.py")
        ):
            files.append(str(killer.relative_to(ROOT)))
    return [f for f in files if (ROOT / f).exists()]


def _preload() -> None:
    """Import the heavy dependencies once; every forked test run inherits them.

    symsindy itself is never imported here: each run imports the (mutated)
    copy fresh. This saves the ~3 s that importing pysindy costs per mutant.
    """
    import matplotlib

    matplotlib.use("Agg")
    import hypothesis  # noqa: F401
    import pysindy  # noqa: F401
    import pytest  # noqa: F401
    import scipy.linalg  # noqa: F401
    import scipy.sparse  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.linear_model  # noqa: F401


def _start(workdir: Path, files: list[str], marker: str) -> int:
    """Fork a child that runs pytest on ``files`` inside ``workdir``."""
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        os.chdir(workdir)
        sys.path.insert(0, str(workdir))
        sys.path.insert(0, str(workdir / "tests"))
        sys.dont_write_bytecode = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        import pytest

        args = ["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=--strict-markers"]
        args += ["-W", "ignore", "-m", marker, *files]
        code = int(pytest.main(args))
    finally:
        os._exit(code)


def _wait(pid: int, timeout: float, start: float) -> str | None:
    """Status of a finished child, "timeout" (killed), or None if still running."""
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            return "survived"
        if code in (1, 2, 3, 4) or code < 0:
            # 1: a test failed; 2-4: the mutant broke collection or imports
            return "killed"
        return "no tests"  # 5: nothing collected (a bad module map)
    if time.perf_counter() - start > timeout:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return "timeout"
    return None


class Worker:
    """A private copy of the repository that mutants are written into."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="symsindy-mut-"))
        _copy_tree(self.dir)
        self.job = None  # (pid, mutant, start, timeout, original source)

    def start(self, mutant: Mutant, timeout: float, marker: str) -> None:
        target = self.dir / "symsindy" / mutant.module
        original = target.read_text()
        source = (ROOT / "symsindy" / mutant.module).read_text()
        target.write_text(_apply(source, mutant.index, mutant.kind))
        pid = _start(self.dir, _test_files(mutant.module), marker)
        self.job = (pid, mutant, time.perf_counter(), timeout, original)

    def poll(self):
        """``(mutant, status, seconds)`` once the running mutant is decided."""
        pid, mutant, start, timeout, original = self.job
        status = _wait(pid, timeout, start)
        if status is None:
            return None
        (self.dir / "symsindy" / mutant.module).write_text(original)
        self.job = None
        return mutant, status, time.perf_counter() - start

    def close(self):
        if self.job is not None:
            os.kill(self.job[0], signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


def _baseline(module: str, worker: Worker, marker: str) -> float:
    start = time.perf_counter()
    pid = _start(worker.dir, _test_files(module), marker)
    while (status := _wait(pid, 3600, start)) is None:
        time.sleep(0.2)
    if status != "survived":
        raise SystemExit(f"the tests of {module} fail without a mutant ({status})")
    return time.perf_counter() - start


def sample(module: str, k: int, seed: int, functions=None) -> list[Mutant]:
    """``k`` mutants of ``module`` (of the named functions only, if given)."""
    mutants = find_mutants(module)
    if functions:
        mutants = [m for m in mutants if m.function.split(".")[-1] in functions]
    rng = random.Random(f"{seed}:{module}")
    return sorted(rng.sample(mutants, min(k, len(mutants))), key=lambda m: m.lineno)


def load_equivalents() -> dict[str, str]:
    """``{key: reason}`` of the mutants judged equivalent.

    ``tools/mutation_equivalents.json`` lists them readably: module, function,
    kind, the original and the mutated snippet (as ``--show-survivors`` prints
    them, in full), an optional occurrence number and the reason.
    """
    if not EQUIVALENTS.exists():
        return {}
    out = {}
    for entry in json.loads(EQUIVALENTS.read_text()):
        mutant = Mutant(
            entry["module"],
            0,
            entry["kind"],
            0,
            entry["function"],
            entry["before"],
            entry["after"],
            entry.get("occurrence", 0),
        )
        out[mutant.key] = entry["reason"]
    return out


def _record(mutant: Mutant, status: str, seconds: float, out: str) -> dict:
    record = asdict(mutant) | {
        "key": mutant.key,
        "status": status,
        "seconds": round(seconds, 1),
    }
    with open(out, "a") as fh:
        fh.write(json.dumps(record) + "\n")
    mark = "S" if status == "survived" else "."
    print(
        f"{mark} {mutant.module}:{mutant.lineno} [{mutant.kind}] "
        f"{mutant.after[:70]!r} {status} {seconds:.0f}s",
        flush=True,
    )
    return record


def summarise(results: list[dict]) -> str:
    equivalents = load_equivalents()
    rows = [
        f"{'module':28s} {'mutants':>7s} {'killed':>6s} {'rate':>6s} "
        f"{'equiv':>5s} {'non-eq rate':>11s}"
    ]
    by_module: dict[str, list[dict]] = {}
    for r in results:
        by_module.setdefault(r["module"], []).append(r)
    for module, rs in sorted(by_module.items()):
        killed = sum(r["status"] in ("killed", "timeout") for r in rs)
        eq = sum(
            r["key"] in equivalents and r["status"] not in ("killed", "timeout")
            for r in rs
        )
        non_eq = len(rs) - eq
        rate = killed / len(rs) if rs else float("nan")
        rate_ne = killed / non_eq if non_eq else float("nan")
        rows.append(
            f"{module:28s} {len(rs):7d} {killed:6d} {100 * rate:5.0f}% {eq:5d} "
            f"{100 * rate_ne:10.0f}%"
        )
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modules", nargs="*", default=list(MODULES))
    parser.add_argument("--per-module", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="mutation_results.jsonl")
    parser.add_argument(
        "--survivors-of", help="re-run only the survivors listed in this results file"
    )
    parser.add_argument(
        "--marker",
        default="not slow",
        help="pytest -m expression of the tests run per mutant (default: not slow)",
    )
    parser.add_argument(
        "--functions",
        nargs="*",
        help="mutate only inside these functions (e.g. the ones a change touched)",
    )
    parser.add_argument("--list", nargs="*", help="print the sampled mutants and stop")
    parser.add_argument(
        "--summary",
        nargs="+",
        help="print the table of results files (later ones override) and stop",
    )
    parser.add_argument(
        "--show-survivors", action="store_true", help="with --summary: list them"
    )
    parser.add_argument(
        "--current",
        action="store_true",
        help="with --summary: leave out mutants that no longer exist in the source",
    )
    args = parser.parse_args(argv)

    if args.summary:
        # Later files (re-runs of survivors) override earlier records by key.
        latest = {}
        for path in args.summary:
            for line in open(path):
                record = json.loads(line)
                latest[record["key"]] = record
        if args.current:
            # Drop mutants whose code has since been edited away.
            exists = {
                m.key
                for module in {r["module"] for r in latest.values()}
                for m in find_mutants(module)
            }
            gone = [k for k in latest if k not in exists]
            for k in gone:
                del latest[k]
            print(f"{len(gone)} mutants no longer exist in the source and are left out")
        print(summarise(list(latest.values())))
        if args.show_survivors:
            equivalents = load_equivalents()
            for r in sorted(latest.values(), key=lambda r: (r["module"], r["lineno"])):
                if r["status"] == "survived":
                    tag = "equivalent" if r["key"] in equivalents else "SURVIVED"
                    print(
                        f"{tag} {r['module']}:{r['lineno']} {r['function']} "
                        f"[{r['kind']}] {r['before'][:60]!r} -> {r['after'][:60]!r}"
                    )
        return 0
    modules = [m if m.endswith(".py") else f"{m}.py" for m in args.modules]
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown modules {unknown}; choose from {sorted(MODULES)}")
    if args.list is not None:
        for module in [f"{m.removesuffix('.py')}.py" for m in args.list] or modules:
            for m in sample(module, args.per_module, args.seed, args.functions):
                print(f"{m.module}:{m.lineno} [{m.kind}] {m.before!r} -> {m.after!r}")
        return 0

    todo: list[Mutant] = []
    if args.survivors_of:
        for line in open(args.survivors_of):
            r = json.loads(line)
            equivalent = r["key"] in load_equivalents()
            if r["status"] == "survived" and r["module"] in modules and not equivalent:
                todo.append(r["key"])
        # Locate each survivor in the current source (line numbers may move).
        current = {
            m.key: m
            for module in {k.split("::")[0] for k in todo}
            for m in find_mutants(module)
        }
        missing = [k for k in todo if k not in current]
        if missing:
            print(f"{len(missing)} survivors no longer exist in the source (edited)")
        todo = [current[k] for k in todo if k in current]
    else:
        for module in modules:
            todo.extend(sample(module, args.per_module, args.seed, args.functions))
    _preload()
    workers = [Worker() for _ in range(max(1, args.jobs))]
    results = []
    try:
        timeouts = {}
        for module in sorted({m.module for m in todo}):
            base = _baseline(module, workers[0], args.marker)
            timeouts[module] = max(3 * base, base + 30)
            print(f"{module}: {base:.1f} s baseline", flush=True)
        queue = list(todo)
        while queue or any(w.job for w in workers):
            for w in workers:
                if w.job is None and queue:
                    m = queue.pop(0)
                    w.start(m, timeouts[m.module], args.marker)
                elif w.job is not None and (done := w.poll()) is not None:
                    results.append(_record(*done, args.out))
            time.sleep(0.05)
    finally:
        for w in workers:
            w.close()
    print(summarise(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
