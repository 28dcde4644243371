"""Helpers shared by the benchmark scripts."""

import argparse
import time
import warnings
from contextlib import contextmanager

import numpy as np
import pysindy as ps

import symsindy as ss


@contextmanager
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def timed(fn, repeat=3):
    """Best wall time of ``repeat`` calls and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def library_data(xs, t, degree):
    """Stacked library matrix and smoothed derivatives of several trajectories."""
    x, xdot, _ = ss.stack_trajectories(xs, t)
    lib = ps.PolynomialLibrary(degree=degree)
    return np.asarray(lib.fit_transform(x)), xdot, lib


def quick_flag() -> bool:
    """Whether the benchmark was started with ``--quick`` (smaller runs)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer seeds and cases")
    return parser.parse_args().quick


def rel_err(coef, true):
    return float(np.linalg.norm(np.asarray(coef) - true) / np.linalg.norm(true))
