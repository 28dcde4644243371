"""Proximal maps shared by the nuclear-norm solvers, and their common report."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SolverResult", "svt", "soft_threshold", "weighted_nuclear_norm"]


@dataclass
class SolverResult:
    """What a solver returns: the coefficients and how it stopped.

    ``state`` carries the solver's split and dual variables so that a following
    solve (the next reweighting round, the next weight on a path) can start warm.
    """

    w: np.ndarray
    n_iter: int
    primal_residual: float
    dual_residual: float
    converged: bool
    state: dict | None = None


def svt(Z: np.ndarray, tau: float, weights: np.ndarray | None = None) -> np.ndarray:
    """Singular-value soft-thresholding: the prox of ``tau ||Z||_*``.

    With ``weights`` (non-decreasing along the descending singular values) it is
    the exact prox of the weighted nuclear norm ``tau sum_i weights_i sigma_i``.

    Examples
    --------
    >>> import numpy as np
    >>> svt(np.diag([3.0, 1.0]), 2.0)
    array([[1., 0.],
           [0., 0.]])
    """
    if Z.shape[0] > 2 * Z.shape[1] and Z.size > 20_000:
        # Tall: the eigendecomposition of the small Gram matrix Z^T Z gives V and
        # sigma; U diag(shrunk) V^T = Z V diag(shrunk / sigma) V^T, so the tall U
        # is never formed (two matrix products instead of a tall QR/SVD). The
        # Gram matrix resolves sigma down to about sqrt(eps) sigma_max; smaller
        # singular values only matter when tau is below that.
        lam, V = np.linalg.eigh(Z.T @ Z)
        s = np.sqrt(np.clip(lam[::-1], 0.0, None))
        V = V[:, ::-1]
        shrink = _shrunk(s, tau, weights)
        keep = shrink > 0
        if not keep.any():
            return np.zeros_like(Z)
        factor = np.zeros_like(s)
        factor[keep] = shrink[keep] / s[keep]
        if keep.sum() <= Z.shape[1] // 2:  # low rank: two thin products
            v = V[:, keep]
            return (Z @ v) @ (factor[keep][:, None] * v.T)
        return Z @ ((V * factor) @ V.T)
    u, s, vt = np.linalg.svd(Z, full_matrices=False)
    return (u * _shrunk(s, tau, weights)) @ vt


def _shrunk(s, tau, weights):
    shrink = tau if weights is None else tau * weights[: s.size]
    return np.maximum(s - shrink, 0.0)


def weighted_nuclear_norm(s: np.ndarray, weights: np.ndarray | None = None) -> float:
    """``sum_i weights_i sigma_i`` (plain nuclear norm without weights)."""
    return float(s.sum() if weights is None else (weights[: s.size] * s).sum())


def soft_threshold(v: np.ndarray, tau: float) -> np.ndarray:
    """The prox of ``tau ||v||_1``."""
    return np.sign(v) * np.maximum(np.abs(v) - tau, 0.0)
