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

__all__ = ["RegressionData", "ArrayStatistics", "regression_data", "DEFAULT_MAX_LAG"]

#: Lags of the residual autocovariance kept for the effective sample size.
DEFAULT_MAX_LAG = 50


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
    """

    theta: np.ndarray
    targets: np.ndarray
    trajectory_ids: np.ndarray

    @property
    def n_samples(self) -> int:
        return self.theta.shape[0]

    def statistics(self, max_lag: int = DEFAULT_MAX_LAG) -> ArrayStatistics:
        """Sufficient statistics of these rows (see :mod:`symsindy.inference`)."""
        return ArrayStatistics(self.theta, self.targets, self.trajectory_ids, max_lag)

    def resample(self, rows: np.ndarray) -> RegressionData:
        """The rows ``rows`` (e.g. a bootstrap draw), each its own trajectory."""
        return RegressionData(
            self.theta[rows], self.targets[rows], np.arange(len(rows))
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
    ids = np.repeat(np.arange(len(lengths)), lengths)
    if ids.size != theta.shape[0]:
        ids = np.zeros(theta.shape[0], dtype=int)
    keep = np.all(np.isfinite(theta), axis=1) & np.all(np.isfinite(targets), axis=1)
    return RegressionData(theta[keep], targets[keep], ids[keep])


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
