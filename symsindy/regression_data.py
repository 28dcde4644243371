"""The regression a SINDy model is fitted on: library matrix, targets, trajectories.

Discovery's statistical test, the bootstrap and the warnings of enforcement
must see exactly the rows the user's model was fitted on: the same
differentiation, the same smoothing of the states, the same library.
:func:`regression_data` obtains them from pysindy itself, by refitting a copy of
the user's ``ps.SINDy`` whose optimizer only records its inputs, so every form
of data that ``ps.SINDy.fit`` accepts (one array, a list of trajectories, a
time step or time arrays, measured ``x_dot``) is handled the way pysindy
handles it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from pysindy.optimizers import BaseOptimizer

__all__ = [
    "RegressionData",
    "ArrayStatistics",
    "regression_data",
    "edge_rows",
    "without_edge_rows",
    "DEFAULT_MAX_LAG",
    "EDGE_DEPTH",
    "EDGE_INFLATION",
]

#: Lags of the residual autocovariance kept for the effective sample size.
DEFAULT_MAX_LAG = 50

#: Rows examined at each end of a trajectory for derivative errors.
EDGE_DEPTH = 60

#: An end row is left out of the tests when the residual mean square at its
#: distance from the end (pooled over trajectories and both ends) exceeds this
#: multiple of the interior's, significantly.
EDGE_INFLATION = 4.0

#: Level of "significantly" in :func:`edge_rows`.
_EDGE_ALPHA = 1e-3


class _Recorder(BaseOptimizer):
    """A pysindy optimizer that fits nothing and keeps ``(Theta, x_dot)``."""

    def fit(self, x_, y, sample_weight=None, **kwargs):
        self.theta_ = np.asarray(x_, dtype=float)
        self.targets_ = np.asarray(y, dtype=float)
        self.coef_ = np.zeros((self.targets_.shape[1], self.theta_.shape[1]))
        self.ind_ = np.ones_like(self.coef_, dtype=bool)
        return self

    def _reduce(self, x, y):
        """pysindy's fitting hook: recording is the whole job."""
        self.fit(x, y)


@dataclass
class RegressionData:
    """Rows of a SINDy regression.

    Attributes
    ----------
    theta : ndarray (n_samples, n_features)
    targets : ndarray (n_samples, n_targets)
    trajectory_ids : ndarray (n_samples,) of int
    numerical_derivatives : bool
        Whether the targets were computed from the states (pysindy's
        differentiation) rather than measured.
    edge_distance : ndarray (n_samples,) of int, optional
        Distance of each row from the nearer end of its trajectory.
    """

    theta: np.ndarray
    targets: np.ndarray
    trajectory_ids: np.ndarray
    numerical_derivatives: bool = False
    edge_distance: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return self.theta.shape[0]

    def statistics(self, max_lag: int = DEFAULT_MAX_LAG) -> ArrayStatistics:
        """Sufficient statistics of these rows (see :mod:`symsindy.inference`)."""
        return ArrayStatistics(self.theta, self.targets, self.trajectory_ids, max_lag)

    def resample(self, rows: np.ndarray) -> RegressionData:
        """The rows ``rows`` (e.g. a bootstrap draw), each its own trajectory."""
        return RegressionData(
            self.theta[rows],
            self.targets[rows],
            np.arange(len(rows)),
            self.numerical_derivatives,
        )

    def without(self, rows: np.ndarray) -> RegressionData:
        """These rows left out (e.g. :func:`edge_rows`), trajectories kept."""
        keep = np.ones(self.n_samples, dtype=bool)
        keep[rows] = False
        distance = None if self.edge_distance is None else self.edge_distance[keep]
        return RegressionData(
            self.theta[keep],
            self.targets[keep],
            self.trajectory_ids[keep],
            self.numerical_derivatives,
            distance,
        )


def _trajectory_lengths(x) -> list[int]:
    if isinstance(x, list | tuple):
        return [np.shape(xi)[0] for xi in x]
    return [np.shape(x)[0]]


def regression_data(model, x, t=None, x_dot=None, u=None) -> RegressionData:
    """The exact rows ``model`` (a ``ps.SINDy``) is fitted on for data ``x``.

    Rows with NaN (e.g. dropped end points of finite differences) are removed,
    as pysindy's optimizers do.
    """
    from sklearn.base import clone

    if t is None:
        t = 1.0  # pysindy wants a time step even when x_dot is given
    recorder_model = clone(model)
    recorder_model.optimizer = _Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recorder_model.fit(x, t=t, x_dot=x_dot, u=u)
    rec = recorder_model.optimizer
    theta, targets = rec.theta_, rec.targets_
    lengths = _trajectory_lengths(x)
    if sum(lengths) != theta.shape[0]:
        lengths = [theta.shape[0]]
    ids = np.repeat(np.arange(len(lengths)), lengths)
    distance = np.concatenate(
        [np.minimum(np.arange(k), np.arange(k)[::-1]) for k in lengths]
    )
    keep = np.all(np.isfinite(theta), axis=1) & np.all(np.isfinite(targets), axis=1)
    return RegressionData(
        theta[keep], targets[keep], ids[keep], x_dot is None, distance[keep]
    )


def edge_rows(data: RegressionData, residuals: np.ndarray) -> np.ndarray:
    """Rows near trajectory ends whose derivative errors dwarf the interior's.

    Numerical derivatives are least accurate at the ends of a trajectory
    (one-sided stencils, a smoothing window that runs out of data): on
    noise-free Hopf data the first rows carry 1e4 times the interior error.
    Such rows are systematic errors, not noise, and would decide every test.
    For each distance ``d < EDGE_DEPTH`` from an end, the residual mean square
    of the rows at that distance (pooled over trajectories, both ends and
    targets, each target in units of its interior mean square) is compared with
    the interior's; every row up to the deepest distance where it exceeds
    ``EDGE_INFLATION`` times the interior, significantly at level 1e-3, is
    returned. Measured derivatives and short trajectories give none.

    Parameters
    ----------
    data : RegressionData
    residuals : ndarray (n_samples, n_targets)
        Residuals of the unconstrained least-squares fit.

    Returns
    -------
    ndarray of int
        Row indices.
    """
    from scipy.stats import chi2

    distance = data.edge_distance
    none = np.zeros(0, dtype=int)
    if not data.numerical_derivatives or distance is None:
        return none
    interior = distance >= EDGE_DEPTH
    if interior.sum() < max(EDGE_DEPTH, data.n_samples // 4):
        return none
    scale = np.mean(residuals[interior] ** 2, axis=0)
    scale = np.where(scale > 0, scale, np.inf)
    per_row = np.sum(residuals**2 / scale, axis=1)  # ~ n_targets in the interior
    t = residuals.shape[1]
    deepest = -1
    for d in range(EDGE_DEPTH):
        at = per_row[distance == d]
        if at.size == 0:
            continue
        inflated = at.mean() > EDGE_INFLATION * t
        significant = chi2.sf(at.sum(), at.size * t) < _EDGE_ALPHA
        if inflated and significant:
            deepest = d
    return np.flatnonzero(distance <= deepest)


class ArrayStatistics:
    """Sufficient statistics computed from rows held in memory.

    Provides what :mod:`symsindy.inference` needs: ``gram``, ``xty``, ``yty``,
    ``n_samples``, ``rss(coef)``, ``residual_autocovariance(coef)`` and
    ``pair_counts`` (pairs ``k`` apart within a trajectory, ``k <= max_lag``).
    """

    def __init__(self, theta, targets, trajectory_ids=None, max_lag=DEFAULT_MAX_LAG):
        self.theta = np.asarray(theta, dtype=float)
        self.targets = np.asarray(targets, dtype=float)
        n = self.theta.shape[0]
        ids = np.zeros(n, dtype=int) if trajectory_ids is None else trajectory_ids
        self.trajectory_ids = np.asarray(ids)
        self.gram = self.theta.T @ self.theta
        self.xty = self.theta.T @ self.targets
        self.yty = self.targets.T @ self.targets
        self.n_samples = n
        self.max_lag = int(min(max_lag, max(n - 1, 0)))
        same = [
            self.trajectory_ids[k:] == self.trajectory_ids[: n - k]
            for k in range(self.max_lag + 1)
        ]
        self._same = same
        self.pair_counts = np.array([s.sum() for s in same], dtype=float)

    def residuals(self, coef) -> np.ndarray:
        return self.targets - self.theta @ np.asarray(coef, dtype=float).T

    def rss(self, coef) -> np.ndarray:
        return np.sum(self.residuals(coef) ** 2, axis=0)

    def residual_autocovariance(self, coef) -> np.ndarray:
        r = self.residuals(coef)
        n = r.shape[0]
        out = np.zeros((self.max_lag + 1, r.shape[1]))
        for k, same in enumerate(self._same):
            if k >= n:
                break
            out[k] = np.sum(r[k:][same] * r[: n - k][same], axis=0)
        return out


def without_edge_rows(data: RegressionData) -> tuple[RegressionData, int]:
    """``data`` without its :func:`edge_rows`, and how many were left out."""
    from .inference import least_squares

    coef, _ = least_squares(data.statistics(max_lag=0))
    edges = edge_rows(data, data.targets - data.theta @ coef.T)
    return data.without(edges), int(edges.size)
