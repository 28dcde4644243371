"""ADMM for the interpolation mode: ``min ||L_F(C)||_*  s.t.  Theta C^T = Y``.

The constraint is eliminated once: ``w = w0 + N c`` with ``w0`` the
minimum-norm interpolant and ``N`` an orthonormal basis of the null space of
the design (per target, on its support), so every iterate interpolates the
data to rounding. ADMM then runs on ``Z = L w0 + B c`` with ``B = L N``; the
c-step is an orthogonal projection onto the range of ``B``, which does not
depend on the ADMM penalty, so the penalty can be rebalanced freely and no
linear system is solved inside the loop.
"""

from __future__ import annotations

import numpy as np

from .problem import PromotionProblem
from .prox import SolverResult, svt

__all__ = ["interpolation_admm", "InterpolationConstraint"]

_EPS_ABS = 1e-12

#: Restart factor of the accelerated iteration (Goldstein et al. use 0.999).
_RESTART = 0.999

#: Singular values of the design below this fraction of the largest one span
#: its null space.
_RANK_RCOND = 1e-10


class InterpolationConstraint:
    """``w0`` and the null-space basis of ``Theta w_i = y_i`` on a support.

    Parameters
    ----------
    design : array (n, f)
        Rows whose span is the row space of ``Theta`` (``Theta`` itself, or a
        square root of its Gram matrix).
    targets : array (n, t)
        The matching right-hand sides.
    active : bool array (t * f,)
    """

    def __init__(self, design, targets, active):
        t = targets.shape[1]
        f = design.shape[1]
        masks = active.reshape(t, f)
        self.n_coef = t * f
        self.w0 = np.zeros(self.n_coef)
        blocks, self.residual = [], 0.0
        for i in range(t):
            cols = np.nonzero(masks[i])[0]
            if cols.size == 0:
                continue
            A = design[:, cols]
            u, s, vt = np.linalg.svd(A, full_matrices=True)
            rank = int(np.sum(s > _RANK_RCOND * s[0])) if s.size and s[0] > 0 else 0
            sol = vt[:rank].T @ ((u[:, :rank].T @ targets[:, i]) / s[:rank])
            self.w0[i * f + cols] = sol
            self.residual = max(
                self.residual, float(np.linalg.norm(A @ sol - targets[:, i]))
            )
            for vec in vt[rank:]:
                full = np.zeros(self.n_coef)
                full[i * f + cols] = vec
                blocks.append(full)
        self.N = np.array(blocks).T if blocks else np.zeros((self.n_coef, 0))


def interpolation_admm(
    prob: PromotionProblem,
    constraint: InterpolationConstraint,
    *,
    gen_weights: np.ndarray | None = None,
    state: dict | None = None,
    max_iter: int = 5000,
    tol: float = 1e-6,
    rho: float | None = None,
) -> SolverResult:
    """Minimise ``||L_F(w) W||_*`` over the interpolating models.

    ``gen_weights`` is the optional ``q x q`` right weight ``W`` (identity if
    None); every round of reweighting is a convex problem of this form.
    """
    rho = 1.0 if rho is None else rho
    matvec, _ = prob.restricted(np.arange(prob.n_coef), gen_weights)
    Lw0 = matvec(constraint.w0)
    B = (
        np.column_stack([matvec(col) for col in constraint.N.T])
        if constraint.N.shape[1]
        else np.zeros((Lw0.size, 0))
    )
    if B.shape[1] == 0:  # the data determine the model
        return SolverResult(constraint.w0.copy(), 0, 0.0, 0.0, True, None)
    # Orthonormal basis of range(B) and the least-squares map to c.
    Q, s, vt = np.linalg.svd(B, full_matrices=False)
    keep = s > _RANK_RCOND * s[0] if s[0] > 0 else np.zeros_like(s, dtype=bool)
    Q, s, vt = Q[:, keep], s[keep], vt[keep]
    z, u = Lw0.copy(), np.zeros_like(Lw0)
    if (
        state is not None
        and state.get("z") is not None
        and state["z"].shape == Lw0.shape
    ):
        rho = state["rho"]
    r_norm = s_norm = np.inf
    converged = False
    k = 0
    # Fast ADMM with restart (Goldstein, O'Donoghue, Setzer and Baraniuk 2014,
    # algorithm 8): Nesterov momentum on (z, u), restarted whenever the combined
    # residual grows; the penalty rebalancing restarts it too.
    z_hat, u_hat, z_prev, u_prev = z, u, z, u
    alpha, combined = 1.0, np.inf
    for k in range(1, max_iter + 1):
        Lw = Lw0 + Q @ (Q.T @ (z_hat - u_hat - Lw0))
        z = prob.lie.as_vector(svt(prob.lie.as_matrix(Lw + u_hat), 1.0 / rho))
        u = u_hat + Lw - z
        r_norm = float(np.linalg.norm(Lw - z))
        s_norm = float(rho * np.linalg.norm(B.T @ (z - z_prev)))
        eps_pri = np.sqrt(z.size) * _EPS_ABS + tol * max(
            np.linalg.norm(Lw), np.linalg.norm(z)
        )
        eps_dual = np.sqrt(B.shape[1]) * _EPS_ABS + tol * rho * np.linalg.norm(B.T @ u)
        if r_norm <= eps_pri and s_norm <= eps_dual:
            converged = True
            break
        if k % 10 == 0 and (r_norm > 10 * s_norm or s_norm > 10 * r_norm):
            scale = 2.0 if r_norm > 10 * s_norm else 0.5
            rho *= scale
            u, u_prev = u / scale, u_prev / scale
            alpha, combined = 1.0, np.inf
            z_hat, u_hat, z_prev, u_prev = z, u, z, u
            continue
        new = np.sum((u - u_hat) ** 2) + np.sum((z - z_hat) ** 2)
        if new < _RESTART * combined:
            alpha_next = (1.0 + np.sqrt(1.0 + 4.0 * alpha**2)) / 2.0
            momentum = (alpha - 1.0) / alpha_next
            z_hat = z + momentum * (z - z_prev)
            u_hat = u + momentum * (u - u_prev)
            alpha, combined = alpha_next, new
            z_prev, u_prev = z, u
        else:  # restart from the previous iterate without momentum
            alpha, combined = 1.0, combined / _RESTART
            z_hat, u_hat = z_prev, u_prev
            z, u = z_prev, u_prev
    # The c of the last iterate; w interpolates exactly by construction.
    c = vt.T @ ((Q.T @ (z - u - Lw0)) / s)
    w = constraint.w0 + constraint.N @ c
    return SolverResult(w, k, r_norm, s_norm, converged, {"z": z, "u": u, "rho": rho})
