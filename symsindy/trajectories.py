"""Trajectory data: validation, stacking with derivatives, splits, default fits.

Derivatives are always computed within each trajectory, so they never straddle
two trajectories, and cross-validation splits keep trajectories whole.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupKFold

__all__ = ["as_trajectory_list", "stack_trajectories", "trajectory_cv", "fit_sindy"]


def as_trajectory_list(trajectories) -> list[np.ndarray]:
    """A list of finite 2-D float arrays ``(n_times, n_states)``.

    Raises
    ------
    ValueError
        For a trajectory that is not 2-D or contains NaN or inf.
    """
    if isinstance(trajectories, list | tuple):
        trajs = [np.asarray(tr, dtype=float) for tr in trajectories]
    else:
        trajs = [np.asarray(trajectories, dtype=float)]
    for k, tr in enumerate(trajs):
        if tr.ndim != 2:
            raise ValueError(
                f"each trajectory must be (n_times, n_states), got {tr.shape}"
            )
        if not np.all(np.isfinite(tr)):
            raise ValueError(f"trajectory {k} contains NaN or inf")
    return trajs


def fit_sindy(trajectories, t, optimizer, degree: int = 3, feature_names=None):
    """A ``ps.SINDy`` model with symsindy's defaults, fitted to trajectories.

    The library is a :class:`LiePolynomialLibrary` of ``degree``; derivatives use
    Savitzky-Golay smoothing (plain finite differences amplify noise).
    """
    import pysindy as ps

    from .library import LiePolynomialLibrary

    model = ps.SINDy(
        feature_library=LiePolynomialLibrary(degree=degree),
        optimizer=optimizer,
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    return model.fit(as_trajectory_list(trajectories), t=t, feature_names=feature_names)


def stack_trajectories(trajectories, t, differentiation_method=None):
    """States, derivatives and trajectory labels for ``fit(X, y)`` estimators.

    Derivatives are computed within each trajectory, so they never straddle two
    trajectories; pass ``groups`` to ``GroupKFold`` or use :func:`trajectory_cv`.

    Parameters
    ----------
    trajectories : array (n_times, n) or list of such arrays
    t : float, array, or list of arrays (one per trajectory)
    differentiation_method : pysindy differentiation object, optional
        Default ``ps.SmoothedFiniteDifference()``.

    Returns
    -------
    X : (n_samples, n), Y : (n_samples, n), groups : (n_samples,) int
    """
    import pysindy as ps

    trajs = as_trajectory_list(trajectories)
    times = t if isinstance(t, list | tuple) else [t] * len(trajs)
    diff = differentiation_method or ps.SmoothedFiniteDifference()
    Y = [np.asarray(diff(tr, ti)) for tr, ti in zip(trajs, times, strict=True)]
    groups = [np.full(len(tr), k) for k, tr in enumerate(trajs)]
    return np.vstack(trajs), np.vstack(Y), np.concatenate(groups)


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
