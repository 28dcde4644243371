"""Trajectory data: validation, stacking with derivatives, splits, default fits.

Derivatives are always computed within each trajectory, so they never straddle
two trajectories, and cross-validation splits keep trajectories whole. The
default derivative smooths each trajectory with a Savitzky-Golay filter written
in the actual time stamps (so irregular sampling is handled exactly) and then
takes finite differences; the regression uses the *smoothed* states, exactly as
``ps.SINDy`` does.
"""

from __future__ import annotations

import numpy as np
import pysindy as ps
from scipy.signal import savgol_filter
from sklearn.model_selection import GroupKFold

from ._validation import check_finite
from .tolerances import UNIFORM_STEP_RTOL

__all__ = [
    "as_trajectory_list",
    "as_time_list",
    "sample_times",
    "time_arrays",
    "SavitzkyGolayDifference",
    "stack_trajectories",
    "trajectory_cv",
    "fit_sindy",
]


def as_trajectory_list(trajectories, name: str = "trajectories") -> list[np.ndarray]:
    """A list of real, finite 2-D float arrays ``(n_times, n_states)``, all with
    the same states.

    A list or tuple holds one trajectory per item, named ``name[k]`` in errors.

    Raises
    ------
    ValueError
        For an empty list, a trajectory that is not 2-D with at least one
        sample, contains NaN or inf, or has other states than the first.
    TypeError
        For complex values.
    """
    many = isinstance(trajectories, list | tuple)
    items = list(trajectories) if many else [trajectories]
    if not items:
        raise ValueError(f"{name} is an empty list: give at least one trajectory")
    labels = [f"{name}[{k}]" if many else name for k in range(len(items))]
    trajs = [check_finite(label, tr) for label, tr in zip(labels, items, strict=True)]
    for label, tr in zip(labels, trajs, strict=True):
        if tr.ndim != 2 or not len(tr):
            raise ValueError(
                f"{label} must be a 2-D array (n_times, n_states) with at least "
                f"one sample, got shape {tr.shape}"
            )
        if tr.shape[1] != trajs[0].shape[1]:
            raise ValueError(
                f"{label} has {tr.shape[1]} states but {labels[0]} has "
                f"{trajs[0].shape[1]}: every trajectory must have the same states"
            )
    return trajs


def as_time_list(t, trajectories: list[np.ndarray]) -> list[np.ndarray | float]:
    """One time step (float) or strictly increasing time array per trajectory.

    Raises
    ------
    ValueError
        For a non-positive step, a length mismatch, or times that are not finite
        and strictly increasing (naming the trajectory and the sample).
    """
    times = list(t) if isinstance(t, list | tuple) else [t] * len(trajectories)
    if len(times) != len(trajectories):
        raise ValueError(
            f"t: got {len(times)} time arrays for {len(trajectories)} trajectories"
        )
    out = []
    for k, (ti, tr) in enumerate(zip(times, trajectories, strict=True)):
        if np.ndim(ti) == 0:
            if not np.isfinite(ti) or ti <= 0:
                raise ValueError(f"t: the time step must be positive, got {ti!r}")
            out.append(float(ti))
            continue
        ti = np.asarray(ti, dtype=float)
        if ti.shape != (len(tr),):
            raise ValueError(
                f"t: trajectory {k} has {len(tr)} samples but {ti.shape} times"
            )
        steps = np.diff(ti)
        bad = np.flatnonzero(~(steps > 0))
        if not np.all(np.isfinite(ti)) or bad.size:
            where = int(bad[0]) + 1 if bad.size else 0
            raise ValueError(
                f"t: times of trajectory {k} must be finite and strictly increasing; "
                f"sample {where} has t = {ti[where]:g} after {ti[max(where - 1, 0)]:g}"
            )
        out.append(ti)
    return out


def sample_times(t, n_samples: int) -> np.ndarray:
    """The time of every sample, from a step or a time array (one entry of
    :func:`as_time_list`)."""
    if np.ndim(t) == 0:
        return t * np.arange(n_samples)
    return np.asarray(t, dtype=float)


def time_arrays(t, trajectories: list[np.ndarray]) -> list[np.ndarray]:
    """The time of every sample of every trajectory, checked as
    :func:`as_time_list` checks ``t``."""
    times = as_time_list(t, trajectories)
    return [sample_times(tk, len(x)) for tk, x in zip(times, trajectories, strict=True)]


def is_uniform(t) -> bool:
    """Whether ``t`` is a scalar step or an evenly spaced time array."""
    if np.ndim(t) == 0:
        return True
    steps = np.diff(np.asarray(t, dtype=float))
    return bool(np.ptp(steps) <= UNIFORM_STEP_RTOL * abs(steps.mean()))


def _local_polynomial_smooth(x, t, window_length: int, polyorder: int):
    """Savitzky-Golay smoothing in the actual times ``t``.

    Each sample is replaced by the value at its own time of the least-squares
    polynomial over the ``window_length`` samples around it (windows are
    shifted, not shrunk, at the ends, as scipy's ``mode="interp"``). On an
    evenly spaced grid this is ``scipy.signal.savgol_filter``, which is used
    there; scipy has no irregular-grid version, hence this one.
    """
    if is_uniform(t):
        return savgol_filter(x, window_length, polyorder, axis=0)
    n, half = len(t), window_length // 2
    start = np.clip(np.arange(n) - half, 0, n - window_length)
    idx = start[:, None] + np.arange(window_length)
    tau = t[idx] - t[:, None]
    tau /= np.ptp(t[idx], axis=1, keepdims=True)  # conditioning: |tau| <= 1
    vander = tau[..., None] ** np.arange(polyorder + 1)
    weights = np.linalg.pinv(vander)[:, 0, :]  # value of the fit at tau = 0
    return np.einsum("nw,nw...->n...", weights, x[idx])


class SavitzkyGolayDifference(ps.FiniteDifference):
    """Savitzky-Golay smoothing in the actual time stamps, then finite differences.

    On evenly spaced samples this is exactly ``ps.SmoothedFiniteDifference()``
    (scipy's ``savgol_filter`` followed by second-order finite differences).
    On irregular time stamps pysindy's smoother works on sample indices, which
    turns timing jitter into derivative noise of the size of the jitter; here
    the local polynomials are fitted in time instead, so a cubic is smoothed
    exactly however it is sampled. ``smoothed_x_`` holds the smoothed states.

    Parameters
    ----------
    window_length : int, default 11
        Samples per local polynomial (odd).
    polyorder : int, default 3
    order : int, default 2
        Accuracy order of the finite differences.

    Examples
    --------
    >>> t = np.sort(np.random.default_rng(0).uniform(0, 1, 40))
    >>> x = np.stack([t**3, t], axis=1)
    >>> xdot = SavitzkyGolayDifference()(x, t)
    >>> bool(np.allclose(xdot[:, 1], 1.0))
    True
    """

    def __init__(self, window_length: int = 11, polyorder: int = 3, order: int = 2):
        super().__init__(order=order)
        self.window_length = window_length
        self.polyorder = polyorder

    def _differentiate(self, x, t):
        x = np.asarray(x, dtype=float)
        if len(x) < self.window_length:
            raise ValueError(
                f"a trajectory of {len(x)} samples is too short for the smoothed "
                f"derivative: need at least window_length={self.window_length}"
            )
        grid = sample_times(t, len(x))
        smooth = _local_polynomial_smooth(x, grid, self.window_length, self.polyorder)
        xdot = super()._differentiate(smooth, t)
        self.smoothed_x_ = smooth
        return xdot


def _check_lengths(trajs, diff) -> None:
    need = getattr(diff, "window_length", None)
    if need is None:
        need = getattr(diff, "smoother_kws", {}).get("window_length", 3)
    for k, tr in enumerate(trajs):
        if len(tr) < need:
            raise ValueError(
                f"trajectory {k} has {len(tr)} samples; the smoothed derivative "
                f"needs at least {need} per trajectory (window_length)"
            )


def fit_sindy(
    trajectories,
    t,
    optimizer,
    degree: int = 3,
    feature_names=None,
    differentiation_method=None,
    u=None,
):
    """A ``ps.SINDy`` model with symsindy's defaults, fitted to trajectories.

    The library is a :class:`LiePolynomialLibrary` of ``degree``; derivatives
    default to :class:`SavitzkyGolayDifference` in the given time stamps (plain
    finite differences amplify noise), and the library is evaluated on the
    smoothed states. ``u``: control inputs (one array per trajectory), as in
    ``ps.SINDy.fit``.
    """
    from .library import LiePolynomialLibrary

    trajs = as_trajectory_list(trajectories)
    times = as_time_list(t, trajs)
    diff = differentiation_method or SavitzkyGolayDifference()
    _check_lengths(trajs, diff)
    model = ps.SINDy(
        feature_library=LiePolynomialLibrary(degree=degree),
        optimizer=optimizer,
        differentiation_method=diff,
    )
    if u is not None and isinstance(u, list | tuple):
        u = [np.asarray(ui, dtype=float) for ui in u]
    return model.fit(trajs, t=times, feature_names=feature_names, u=u)


def stack_trajectories(
    trajectories, t, differentiation_method=None, states: str = "smoothed"
):
    """States, derivatives and trajectory labels for ``fit(X, y)`` estimators.

    Derivatives are computed within each trajectory, so they never straddle two
    trajectories; pass ``groups`` to ``GroupKFold`` or use :func:`trajectory_cv`.

    Parameters
    ----------
    trajectories : array (n_times, n) or list of such arrays
    t : float, array, or list of arrays (one per trajectory)
        A time step or the actual (possibly irregular) time stamps.
    differentiation_method : pysindy differentiation object, optional
        Default :class:`SavitzkyGolayDifference`.
    states : {"smoothed", "raw"}, default "smoothed"
        ``"smoothed"`` returns the states smoothed by the differentiation method
        (its ``smoothed_x_``), which is what ``ps.SINDy`` regresses on: the
        library then sees the same denoised states as the derivatives.
        ``"raw"`` returns the states as given (regressing on noisy states biases
        the coefficients toward zero).

    Returns
    -------
    X : (n_samples, n), Y : (n_samples, n), groups : (n_samples,) int

    Examples
    --------
    >>> t = np.linspace(0, 1, 21)
    >>> X, Y, groups = stack_trajectories([np.c_[t, t**2]] * 2, t)
    >>> X.shape, bool(np.allclose(Y[:, 0], 1.0)), np.unique(groups).tolist()
    ((42, 2), True, [0, 1])
    """
    if states not in ("smoothed", "raw"):
        raise ValueError(f"states must be 'smoothed' or 'raw', got {states!r}")
    trajs = as_trajectory_list(trajectories)
    times = as_time_list(t, trajs)
    diff = differentiation_method or SavitzkyGolayDifference()
    _check_lengths(trajs, diff)
    X, Y = [], []
    for tr, ti in zip(trajs, times, strict=True):
        Y.append(np.asarray(diff(tr, ti)))
        smooth = getattr(diff, "smoothed_x_", tr)
        X.append(np.asarray(smooth) if states == "smoothed" else tr)
    groups = [np.full(len(tr), k) for k, tr in enumerate(trajs)]
    return np.vstack(X), np.vstack(Y), np.concatenate(groups)


def trajectory_cv(groups, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs that keep every trajectory on one side.

    Usable directly as ``cv=`` in ``cross_val_score`` and ``GridSearchCV``.
    """
    groups = np.asarray(groups)
    n_groups = np.unique(groups).size
    if n_groups < n_splits:
        raise ValueError(
            f"need at least n_splits={n_splits} trajectories to split, got {n_groups}"
        )
    return list(GroupKFold(n_splits).split(np.zeros(len(groups)), groups=groups))
