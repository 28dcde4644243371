"""Scaled ADMM for the penalised promotion problem.

    min_w  f(w) + lam ||L_F(w) W||_* + l1 ||w||_1

(``W``: optional ``q x q`` generator weights, which keep every reweighted
round convex) split as ``Z = L_F(w) W`` (prox: singular-value
soft-thresholding) and, with an l1 term, ``V = w`` (prox: soft thresholding).
The w-step is a linear solve from :mod:`.problem` that needs no new
factorisation when the penalty ``rho`` changes, so residual balancing (Boyd
et al. 2011, section 3.4.1) is free.
"""

from __future__ import annotations

import numpy as np

from .problem import PromotionProblem
from .prox import SolverResult, soft_threshold, svt

__all__ = ["penalized_admm"]

#: Absolute part of the stopping tolerances (relative to unit-scale data).
_EPS_ABS = 1e-10


def penalized_admm(
    prob: PromotionProblem,
    active: np.ndarray,
    sym_weight: float,
    l1_weight: float = 0.0,
    *,
    gen_weights: np.ndarray | None = None,
    w0: np.ndarray | None = None,
    state: dict | None = None,
    max_iter: int = 5000,
    tol: float = 1e-6,
    rho: float | None = None,
) -> SolverResult:
    """Solve the penalised problem on the coefficients ``active``.

    Parameters
    ----------
    prob : PromotionProblem
    active : bool array (n_coef,)
        Coefficients allowed to be non-zero.
    sym_weight, l1_weight : float
    gen_weights : array (q, q), optional
        Right weights ``W`` of the Lie-derivative matrix (``None``: identity).
    w0, state : warm start (coefficients; split and dual variables of a
        previous :class:`SolverResult`).
    max_iter : int
    tol : float
        Relative tolerance on the primal and dual residuals.
    rho : float, optional
        Initial penalty (rebalanced every ten iterations). Default ``10 *
        sym_weight``: the balanced penalty is of the order of the weight in
        normalised units, and starting there saves the balancing iterations.
    """
    idx = np.nonzero(active)[0]
    n = idx.size
    if rho is None:
        rho = 10.0 * max(sym_weight, l1_weight, 1e-6)
    matvec, rmatvec = prob.restricted(idx, gen_weights)
    use_l1 = l1_weight > 0
    solve = prob.linear_solve(active, use_l1, gen_weights)
    q = 2.0 * prob.b[idx]
    # Cold start from least squares: the solution is a shrunk version of it.
    start = prob.least_squares() if w0 is None else np.asarray(w0, dtype=float)
    w = start[idx].copy()
    Lw = matvec(w)
    z, u = Lw.copy(), np.zeros_like(Lw)
    if (
        state is not None
        and state.get("z") is not None
        and state["z"].shape == Lw.shape
    ):
        rho = state["rho"]
        if state.get("gen_weights") is gen_weights:  # same problem: dual too
            z, u = state["z"], state["u"]
    v, yv = w.copy(), np.zeros(n)
    if use_l1 and state is not None and state.get("v") is not None:
        v, yv = state["v"][idx], state["yv"][idx]
    r_norm = s_norm = np.inf
    converged = False
    k = 0
    Ltz, Ltu = rmatvec(z), rmatvec(u)
    cg_tol = 1e-4  # inexact early w-steps, tightened with the ADMM residuals
    for k in range(1, max_iter + 1):
        rhs = q + rho * (Ltz - Ltu)
        if use_l1:
            rhs = rhs + rho * (v - yv)
        w = solve(rhs, rho, x0=w, rtol=cg_tol)
        Lw = matvec(w)
        Ltz_old, v_old = Ltz, v
        Zm = prob.lie.as_matrix(Lw + u)
        z = prob.lie.as_vector(svt(Zm, sym_weight / rho))
        u = u + Lw - z
        Ltz, Ltu = rmatvec(z), rmatvec(u)
        r2 = np.sum((Lw - z) ** 2)
        dual = Ltz - Ltz_old
        if use_l1:
            v = soft_threshold(w + yv, l1_weight / rho)
            yv = yv + w - v
            r2 += np.sum((w - v) ** 2)
            dual = dual + (v - v_old)
        r_norm, s_norm = np.sqrt(r2), rho * np.linalg.norm(dual)
        eps_pri = np.sqrt(z.size) * _EPS_ABS + tol * max(
            np.linalg.norm(Lw), np.linalg.norm(z)
        )
        eps_dual = np.sqrt(n) * _EPS_ABS + tol * rho * np.linalg.norm(Ltu)
        if r_norm <= eps_pri and s_norm <= eps_dual:
            converged = True
            break
        progress = max(r_norm / max(eps_pri, 1e-300), s_norm / max(eps_dual, 1e-300))
        cg_tol = min(1e-4, max(1e-12, 0.1 * tol * progress))
        if k % 10 == 0 and (r_norm > 10 * s_norm or s_norm > 10 * r_norm):
            scale = 2.0 if r_norm > 10 * s_norm else 0.5
            rho *= scale
            u, yv, Ltu = u / scale, yv / scale, Ltu / scale
    full = np.zeros(prob.n_coef)
    full[idx] = v if use_l1 else w
    full_v = np.zeros(prob.n_coef)
    full_yv = np.zeros(prob.n_coef)
    full_v[idx], full_yv[idx] = v, yv
    state = dict(z=z, u=u, rho=rho, v=full_v, yv=full_yv, gen_weights=gen_weights)
    return SolverResult(full, k, float(r_norm), float(s_norm), converged, state)
