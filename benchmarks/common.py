"""Helpers shared by the benchmark scripts."""

import time
import warnings
from contextlib import contextmanager

import numpy as np
import pysindy as ps


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
    lib = ps.PolynomialLibrary(degree=degree)
    x = np.vstack(xs)
    xdot = np.vstack([ps.SmoothedFiniteDifference()(tr, t) for tr in xs])
    return np.asarray(lib.fit_transform(x)), xdot, lib


def rel_err(coef, true):
    return float(np.linalg.norm(np.asarray(coef) - true) / np.linalg.norm(true))
