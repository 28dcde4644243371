"""The cvxpy reference formulation (small problems; for testing the solvers)."""

from __future__ import annotations

import numpy as np

from .problem import PromotionProblem
from .prox import SolverResult

__all__ = ["cvxpy_solve"]


def cvxpy_solve(
    prob: PromotionProblem,
    active: np.ndarray,
    sym_weight: float = 0.0,
    l1_weight: float = 0.0,
    *,
    design=None,
    targets=None,
    solver: str | None = None,
) -> SolverResult:
    """Solve the same convex problem with cvxpy.

    Penalised: ``f(w) + sym_weight ||L_F(w)||_* + l1_weight ||w||_1`` with the fit
    term through a square root of the Gram matrix. Interpolation (``design`` and
    ``targets`` given): ``min ||L_F(w)||_*  s.t.  design w_i = targets_i``.
    ``solver`` defaults to Clarabel (interior point, accurate) when installed;
    the authors of the promotion objective used ``"SCS"``.
    """
    import cvxpy as cp

    idx = np.nonzero(active)[0]
    t, f = prob.n_targets, prob.n_features
    w = cp.Variable(idx.size)
    cols = np.eye(prob.n_coef)[:, idx]
    Lmat = prob.operator.matmat(cols)  # dense: reference problems are small
    Z = cp.reshape(Lmat @ w, (prob.lie.n_rows, prob.lie.n_generators), order="F")
    full = cols @ w
    if design is not None:
        W = cp.reshape(full, (t, f), order="C")
        constraints = [design @ W.T == targets]
        problem = cp.Problem(cp.Minimize(cp.normNuc(Z)), constraints)
    else:
        lam, V = np.linalg.eigh(prob.gram)
        root = np.sqrt(np.clip(lam, 0.0, None))[:, None] * V.T  # root^T root = G
        W = cp.reshape(full, (t, f), order="C")
        fit = cp.sum_squares(root @ W.T) - 2 * cp.sum(cp.multiply(prob.xty.T, W))
        obj = fit + prob.yty + sym_weight * cp.normNuc(Z)
        if l1_weight:
            obj = obj + l1_weight * cp.norm1(w)
        problem = cp.Problem(cp.Minimize(obj))
    if solver is None and "CLARABEL" in cp.installed_solvers():
        solver = "CLARABEL"  # interior point: accurate enough to test against
    problem.solve(solver=solver)
    if w.value is None:
        raise ValueError(
            f"cvxpy failed to solve the promotion problem ({problem.status})"
        )
    out = np.zeros(prob.n_coef)
    out[idx] = w.value
    n_iter = int(getattr(problem.solver_stats, "num_iters", 0) or 0)
    return SolverResult(out, n_iter, 0.0, 0.0, problem.status == "optimal")
