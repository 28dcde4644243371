"""Stability of a discovery under resampling of the regression rows.

Each replicate refits the user's optimizer on a bootstrap draw of the *same*
rows the model was fitted on (same differentiation, same smoothing of the
states: :mod:`symsindy.regression_data`), and records the spectrum of the
refitted model and, with the statistical test, the dimension it would accept.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from tqdm.auto import tqdm

from ..regression_data import without_edge_rows
from .inputs import DiscoveryProblem

__all__ = ["bootstrap_spectra"]


def bootstrap_spectra(
    problem: DiscoveryProblem, n_boot: int, seed, progress: bool, n_jobs=None, tau=None
):
    """``(spectra (n_boot, q), dims (n_boot,) or None)``.

    ``tau``: autocorrelation times of the original rows, reused by every
    replicate (a draw of rows has lost the time order).
    """
    if problem.sindy is None or problem.data is None:
        raise ValueError(
            "n_bootstrap needs a ps.SINDy model together with its training data "
            "x=... and t=... (or call with trajectory data and t)"
        )
    data = problem.data
    if problem.method == "test":
        data, _ = without_edge_rows(data)  # the rows the main test used
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, data.n_samples, data.n_samples) for _ in range(n_boot)]
    if progress:
        draws = tqdm(draws, desc="bootstrap")
    results = Parallel(n_jobs=n_jobs)(
        delayed(_replicate)(problem, data.resample(rows), _draw_tau(tau, rows))
        for rows in draws
    )
    spectra = np.array([r[0] for r in results])
    dims = None if results[0][1] is None else np.array([r[1] for r in results])
    return spectra, dims


def _draw_tau(tau, rows: np.ndarray):
    """Variance inflation of a replicate's test: the autocorrelation times of
    the original rows times ``sum c^2 / sum c`` over the draw's row counts ``c``.

    A row drawn ``c`` times enters both residual sums ``c`` times, so the
    statistic's noise part scales with ``c^2`` while its expectation assumes
    ``c``: without this factor (about 2 for a draw with replacement) a
    replicate rejects a true symmetry far more often than ``alpha``.
    """
    if tau is None:
        return None
    counts = np.bincount(rows)
    return np.asarray(tau) * float(np.sum(counts**2) / np.sum(counts))


def _replicate(problem: DiscoveryProblem, data, tau):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = clone(problem.sindy.optimizer)
        if opt.get_params().get("library", False) is None:
            # Integral rows are not monomials of the states: name the library.
            opt.set_params(library=problem.space.basis)
        opt.fit(data.theta, data.targets)
    coef = np.asarray(opt.coef_, dtype=float)
    rel = problem.matrix.relative_singular_values(coef)
    if problem.method != "test":
        return rel, None
    from .continuous import TestContext, decide_by_test
    from .symmetries import evidence

    replica = replace(problem, coef=coef, data=data)
    ctx: TestContext = evidence(replica, tau)
    return rel, decide_by_test(replica, ctx).algebra.dim
