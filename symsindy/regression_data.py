"""The rows of a SINDy regression: library matrix, targets, trajectories.

Two kinds of rows serve discovery's statistical tests, the bootstrap and the
warnings of enforcement:

* :func:`regression_data`: exactly the rows the user's model was fitted on
  (the same differentiation, the same smoothing of the states, the same
  library), obtained from pysindy itself by refitting a copy of the user's
  ``ps.SINDy`` whose optimizer only records its inputs, so every form of data
  that ``ps.SINDy.fit`` accepts is handled the way pysindy handles it. Their
  trajectory ends can carry derivative errors that dwarf the interior's
  (:func:`edge_rows`).
* :func:`integral_data`: the integral form of the model over windows of the
  measured states, with the same coefficients and no derivative at all (the
  default of the tests when the derivatives are not measured).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from pysindy.optimizers import BaseOptimizer

from .state_noise import StateNoise, state_noise_variance
from .weak_form import TEST_FUNCTIONS, resolve_test_function

__all__ = [
    "RegressionData",
    "ArrayStatistics",
    "CorrectedStatistics",
    "regression_data",
    "edge_rows",
    "without_edge_rows",
    "integral_data",
    "integral_row_count",
    "INTEGRAL_WINDOW",
    "INTEGRAL_WINDOW_MOTION",
    "INTEGRAL_ROWS_PER_TERM",
    "SIGNAL_FRACTION",
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

#: Smallest and largest number of samples (steps) per window of the integral
#: rows (:func:`integral_data`); always even, for Simpson's rule.
INTEGRAL_WINDOW = (2, 50)

#: The window is the longest over which the states move by at most this
#: fraction of their spread (RMS increment over RMS deviation).
INTEGRAL_WINDOW_MOTION = 0.5

#: The default window leaves at least this many rows per library term.
INTEGRAL_ROWS_PER_TERM = 10

#: Smallest fraction of a library direction's spread over the samples that
#: the state-noise correction leaves as signal (see
#: :class:`CorrectedStatistics`). 0.5 changed no verdict of the calibration
#: benchmark for the worse; dropping such directions instead (those below 0.5,
#: or below 0.1) left true reflections undetermined on rays and dysts flows.
SIGNAL_FRACTION = 0.5

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
    targets_kind : {"measured", "derivatives", "integral"}
        Measured derivatives, derivatives computed from the states by pysindy's
        differentiation, or the increments of :func:`integral_data`.
    edge_distance : ndarray (n_samples,) of int, optional
        Distance of each row from the nearer end of its trajectory.
    state_noise : StateNoise, optional
        The samples behind integral rows and their noise, whose
        errors-in-variables terms the statistics subtract.
    test_function : str, optional
        The test function of integral rows (see :func:`integral_data`).
    """

    theta: np.ndarray
    targets: np.ndarray
    trajectory_ids: np.ndarray
    targets_kind: str = "measured"
    edge_distance: np.ndarray | None = None
    state_noise: StateNoise | None = None
    test_function: str | None = None

    @property
    def n_samples(self) -> int:
        return self.theta.shape[0]

    def statistics(self, max_lag: int = DEFAULT_MAX_LAG) -> ArrayStatistics:
        """Sufficient statistics of these rows (see :mod:`symsindy.inference`)."""
        noise = self.state_noise
        if noise is not None and noise.applies:
            return CorrectedStatistics(
                self.theta,
                self.targets,
                self.trajectory_ids,
                max_lag,
                *noise.corrections(),
            )
        return ArrayStatistics(self.theta, self.targets, self.trajectory_ids, max_lag)

    def _rows(self, rows, trajectory_ids, edge_distance=None) -> RegressionData:
        noise = None if self.state_noise is None else self.state_noise.select(rows)
        return RegressionData(
            self.theta[rows],
            self.targets[rows],
            trajectory_ids,
            self.targets_kind,
            edge_distance,
            noise,
            self.test_function,
        )

    def resample(self, rows: np.ndarray) -> RegressionData:
        """The rows ``rows`` (e.g. a bootstrap draw), each its own trajectory."""
        return self._rows(rows, np.arange(len(rows)))

    def without(self, rows: np.ndarray) -> RegressionData:
        """These rows left out (e.g. :func:`edge_rows`), trajectories kept."""
        keep = np.ones(self.n_samples, dtype=bool)
        keep[rows] = False
        distance = None if self.edge_distance is None else self.edge_distance[keep]
        return self._rows(keep, self.trajectory_ids[keep], distance)


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
        theta[keep],
        targets[keep],
        ids[keep],
        "measured" if x_dot is not None else "derivatives",
        distance[keep],
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
    if data.targets_kind != "derivatives" or distance is None:
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


class CorrectedStatistics(ArrayStatistics):
    """Statistics of rows whose features carry the states' noise.

    With ``G`` and ``b`` the plain ``Theta^T Theta`` and ``Theta^T Y``, and
    ``K``, ``k`` the errors-in-variables terms of
    :class:`~symsindy.state_noise.StateNoise`, the corrected normal equations
    ``(G - K) c = b - k`` estimate the coefficients of the noise-free features
    without bias, but their solution scatters like ``G_c^-1 G G_c^-1`` times
    the residual variance (``G_c = G - K``), not ``G_c^-1``. So the tests
    compare ``J(c) = (b_c - G_c c)^T G^+ (b_c - G_c c)`` (the efficient
    quadratic form of those equations, exactly ``RSS(c) - min RSS`` when
    ``K = 0``): ``gram`` and ``xty`` are its ``G_c G^+ G_c`` and
    ``G_c G^+ b_c``, and ``rss(c)`` is ``J(c)`` per target. ``noise_rss`` is
    the plain residual sum of squares, whose spread (feature noise included)
    is the noise variance of the tests.

    In the whitened eigenbasis of ``G``, ``G^-1/2 G_c G^-1/2`` has eigenvalues
    ``mu <= 1``: the fraction of each direction's spread over the samples that
    is signal rather than noise. Directions seen through the noise alone (a
    polynomial that vanishes on the noise-free states, e.g. on rays) have
    ``mu`` near 0 or, by chance, below it, where the corrected estimate would
    be wildly unstable; ``mu`` is therefore floored at ``SIGNAL_FRACTION``
    (a regularised adjusted least squares: such directions are corrected
    only part of the way and count as weakly seen).
    """

    def __init__(
        self,
        theta,
        targets,
        trajectory_ids,
        max_lag,
        gram_correction: np.ndarray,
        xty_correction: np.ndarray,
    ):
        from .inference import scaled_eigh

        super().__init__(theta, targets, trajectory_ids, max_lag)
        d, vals, vecs, keep = scaled_eigh(self.gram)
        lam = vals[keep]
        inverse_root = vecs[:, keep] / (d[:, None] * np.sqrt(lam))  # G^-1/2
        root = vecs[:, keep] * (d[:, None] * np.sqrt(lam))  # G^1/2
        signal = np.eye(lam.size) - inverse_root.T @ gram_correction @ inverse_root
        mu, U = np.linalg.eigh(signal)
        self._mu = np.maximum(mu, SIGNAL_FRACTION)
        self._root = root @ U  # c -> whitened signal coordinates
        # b_c in the same coordinates: the targets' part the model can explain.
        self._b = (inverse_root @ U).T @ (self.xty - xty_correction)
        self.gram = (self._root * self._mu**2) @ self._root.T
        self.xty = self._root @ (self._mu[:, None] * self._b)

    def rss(self, coef) -> np.ndarray:
        fitted = self._mu[:, None] * (self._root.T @ np.asarray(coef, dtype=float).T)
        return np.sum((self._b - fitted) ** 2, axis=0)

    def noise_rss(self, coef) -> np.ndarray:
        return super().rss(coef)


def without_edge_rows(data: RegressionData) -> tuple[RegressionData, int]:
    """``data`` without its :func:`edge_rows`, and how many were left out."""
    from .inference import least_squares

    coef, _ = least_squares(data.statistics(max_lag=0))
    edges = edge_rows(data, data.targets - data.theta @ coef.T)
    return data.without(edges), int(edges.size)


def integral_data(
    basis,
    x,
    t,
    window: int | None = None,
    state_noise="auto",
    test_function: str = "auto",
) -> RegressionData:
    """Rows of the weak (integral) form of the model, free of derivative bias.

    Over consecutive windows of each trajectory and a test function ``phi``
    that vanishes at the window's ends, ``int phi x' dt = -int phi' x dt``, so
    ``-int phi' x dt = C int phi Theta(x) dt`` holds exactly for the model
    ``x' = C Theta(x)``: the targets are weighted sums of the measured states
    and the features weighted sums of the library over them, and no
    derivative is estimated. Every row is divided by ``int phi dt``: the
    targets are weighted mean derivatives and the features weighted mean
    library values, on the scale of the derivative form (what optimizers
    refitted on these rows, e.g. by the bootstrap, expect of their ridge and
    threshold parameters), and the coefficients ``C`` are those of the
    derivative form, so every symmetric subspace is the same. Windows share
    no sample, so the rows' errors are independent.

    * ``"parabola"``: ``phi = 1 - s^2`` over the window (``s`` from -1 to 1),
      whose target is the least-noise combination of the states equal to the
      parabola-weighted mean derivative for states polynomial in time (see
      :func:`symsindy.weak_form.parabola_weights`): it averages the noise of
      every sample instead of two, with about ``steps / 6`` times less
      variance than the box's.
    * ``"box"``: ``phi = 1`` on the window, the plain integral form
      ``x(t_b) - x(t_a) = C int Theta``: the targets are the increments of the
      states, the features Simpson integrals (error ``h^4 / 180`` times the
      fourth time derivative).
    * ``"auto"`` (default): the parabola for windows of at least
      ``PARABOLA_MIN_WINDOW`` steps, the box for shorter ones (see
      :mod:`symsindy.weak_form`).

    Longer windows carry more signal per unit of noise (the weighted change of
    the states grows with the window, its noise does not), so by default the
    window is the longest (within ``INTEGRAL_WINDOW``) over which the states
    move by at most ``INTEGRAL_WINDOW_MOTION`` of their spread, and short
    enough to leave ``INTEGRAL_ROWS_PER_TERM`` rows per library term.

    Parameters
    ----------
    basis : Monomials
        The library (over the states).
    x : array (n_times, n) or list of arrays
        Measured states.
    t : float, array or list of arrays
        Time step or times (see :func:`symsindy.trajectories.as_time_list`).
    window : int, optional
        Steps per window (even); default: chosen as above.
    state_noise : "auto", None, float or array (n,)
        Variance of white noise in the measured states, whose entry into the
        library (errors in the variables, see :mod:`symsindy.state_noise`) the
        features and the statistics of the rows correct for. ``"auto"``
        estimates it from differences of the samples; ``None`` corrects
        nothing.
    test_function : {"auto", "parabola", "box"}
        The test function ``phi`` (see above).

    Returns
    -------
    RegressionData
        With ``targets_kind="integral"``, no end rows to leave out, and the
        windows' samples in ``state_noise``.

    Examples
    --------
    >>> import numpy as np
    >>> from symsindy import Monomials
    >>> t = np.linspace(0, 2, 201)
    >>> x = np.exp(-t)[:, None]                       # x' = -x
    >>> rows = integral_data(Monomials(1, 1, 1), x, t, window=20)
    >>> coef = np.linalg.lstsq(rows.theta, rows.targets, rcond=None)[0]
    >>> np.round(coef.ravel(), 6).tolist()
    [-1.0]
    """
    from .trajectories import as_trajectory_list, time_arrays

    trajs = as_trajectory_list(x)
    times = time_arrays(t, trajs)
    if window is None:
        window = _integral_window(trajs, INTEGRAL_ROWS_PER_TERM * len(basis))
    elif isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an even integer >= 2, got {window!r}")
    requested, window = window, window + window % 2
    if integral_row_count(trajs, window) == 0:
        raise ValueError(
            f"window of {requested} steps needs trajectories of more than "
            f"{window} samples, the longest has {max(len(xk) for xk in trajs)}"
        )
    test_function = resolve_test_function(test_function, window)
    states, weights, target_weights, ids = [], [], [], []
    for k, (xk, tk) in enumerate(zip(trajs, times, strict=True)):
        # Windows share no sample, so that the rows' errors are independent.
        starts = np.arange(0, len(xk) - window, window + 1)
        inside = starts[:, None] + np.arange(window + 1)  # (n_windows, window + 1)
        feature_w, target_w = TEST_FUNCTIONS[test_function](tk[inside])
        states.append(xk[inside])
        weights.append(feature_w)
        target_weights.append(target_w)
        ids.append(np.full(len(starts), k))
    states = np.concatenate(states)
    target_weights = np.concatenate(target_weights)
    noise = StateNoise(
        _requested_variance(state_noise, trajs),
        basis,
        states,
        np.concatenate(weights),
        target_weights,
    )
    return RegressionData(
        noise.window_means(),
        np.einsum("rw,rwn->rn", target_weights, states),
        np.concatenate(ids),
        "integral",
        state_noise=noise,
        test_function=test_function,
    )


def _requested_variance(state_noise, trajectories) -> np.ndarray:
    """The variance per state that ``state_noise`` of :func:`integral_data` asks for."""
    n = trajectories[0].shape[1]
    if isinstance(state_noise, str) and state_noise == "auto":
        return state_noise_variance(trajectories)
    if state_noise is None:
        return np.zeros(n)
    variance = np.broadcast_to(np.asarray(state_noise, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(variance)) or np.any(variance < 0):
        raise ValueError(
            "state_noise must be 'auto', None or non-negative finite variances "
            f"(one per state or one for all), got {state_noise!r}"
        )
    return variance


def integral_row_count(trajectories, window: int) -> int:
    """Rows of :func:`integral_data` for windows of ``window`` steps."""
    return sum(len(x) // (window + 1) for x in trajectories)


def _integral_window(trajs, min_rows: int) -> int:
    """The default window of :func:`integral_data` (see there)."""
    lowest, highest = INTEGRAL_WINDOW
    spread = np.std(np.vstack(trajs), axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    best = lowest
    for w in range(lowest, highest + 1, 2):
        rows = integral_row_count(trajs, w)
        steps = [(xk[w:] - xk[:-w]) / spread for xk in trajs if len(xk) > w]
        if rows < min_rows or not steps:
            break
        if np.sqrt(np.mean(np.vstack(steps) ** 2)) > INTEGRAL_WINDOW_MOTION:
            break
        best = w
    return best
