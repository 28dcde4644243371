"""Promote symmetry: nuclear-norm regularised regression over a candidate group.

For candidate generators ``xi_1..xi_q`` the matrix ``L_F(C)`` (column ``j`` the
weighted coefficients of ``L_xi_j F``) is linear in the model ``C``; its rank
counts the broken candidate symmetries. :class:`SymmetryPromotingSR3` fits

    min_C  (1/N) ||Theta C^T - Y||_F^2 + sym_weight ||L_F(C)||_* + l1_weight ||C||_1

optionally followed by sequential thresholding (re-solving on the support) and
a *snap* step that discovers the promoted model's symmetry and refits with it
enforced exactly. ``mode="interpolate"`` instead solves
``min ||L_F(C)||_*  s.t.  Theta C^T = Y`` (noise-free recovery).

Weights: the candidate basis is orthonormalised (Frobenius) and may be scaled by
``candidate_weights``; functions are measured by their coefficients or over the
data (``inner_product="data"``, the L2 norm at the training states).

Solvers: ``"admm"`` (scaled ADMM on the split ``Z = L_F(C)``, whose Z-step is
singular-value soft-thresholding, with residual balancing of the penalty) and
``"cvxpy"`` (the reference formulation).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.linalg import cho_factor, cho_solve, lu_factor, lu_solve
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .algebra import LieAlgebra
from .inner_product import function_weight
from .lie_derivative import lie_derivative_stack, resolve_basis
from .optimizers.base import DirectFitOptimizer, infer_basis, validate_xy

__all__ = ["SymmetryPromotingSR3", "promotion_path", "PromotionPath"]

#: Re-solves on a shrinking support before the thresholding loop gives up.
_MAX_THRESHOLDING_ROUNDS = 20


# ----------------------------------------------------------------- problem
@dataclass
class _Problem:
    """Everything the solvers need, in target-major ``w = vec(C)``."""

    P: np.ndarray  # (2/N) kron(I, Theta^T Theta)
    q: np.ndarray  # (2/N) vec(Theta^T Y)
    const: float  # ||Y||^2 / N
    L: sparse.csr_matrix  # weighted stacked Lie derivative, (n_gen * m, n_coef)
    n_gen: int
    theta: np.ndarray
    y: np.ndarray

    @property
    def m(self) -> int:
        return self.L.shape[0] // self.n_gen

    def as_matrix(self, Lw: np.ndarray) -> np.ndarray:
        """``(m, n_gen)`` matrix with one column per candidate generator."""
        return Lw.reshape(self.n_gen, self.m).T

    def as_vector(self, Z: np.ndarray) -> np.ndarray:
        return Z.T.ravel()

    def singular_values(self, w) -> np.ndarray:
        return np.linalg.svd(self.as_matrix(self.L @ w), compute_uv=False)

    def objective(self, w, sym_weight, l1_weight, sv_weights=None) -> float:
        fit = 0.5 * w @ self.P @ w - self.q @ w + self.const
        s = self.singular_values(w)
        nuc = s.sum() if sv_weights is None else (sv_weights[: s.size] * s).sum()
        return float(fit + sym_weight * nuc + l1_weight * np.abs(w).sum())


def _build_problem(theta, y, basis, candidates, output, inner_product):
    n_samples, t = y.shape
    gram = theta.T @ theta
    P = (2.0 / n_samples) * np.kron(np.eye(t), gram)
    q = (2.0 / n_samples) * (theta.T @ y).T.ravel()
    op = lie_derivative_stack(basis, candidates, output, t)
    L = op.matrix
    if inner_product == "data":
        R = function_weight(op.out_basis, basis.states(theta), "data")
        L = sparse.kron(sparse.identity(candidates.dim * t), sparse.csr_matrix(R)) @ L
    return _Problem(
        P,
        q,
        float((y**2).sum() / n_samples),
        sparse.csr_matrix(L),
        candidates.dim,
        theta,
        y,
    )


def _svt(Z: np.ndarray, tau: float, weights=None) -> np.ndarray:
    """Singular-value soft-thresholding: the prox of ``tau ||.||_*``.

    With ``weights`` (non-decreasing along the descending singular values) it is
    the exact prox of the weighted nuclear norm ``tau sum_i weights_i sigma_i``.
    """
    u, s, vt = np.linalg.svd(Z, full_matrices=False)
    shrink = tau if weights is None else tau * weights[: s.size]
    return (u * np.maximum(s - shrink, 0.0)) @ vt


def _soft(v: np.ndarray, tau: float) -> np.ndarray:
    return np.sign(v) * np.maximum(np.abs(v) - tau, 0.0)


# -------------------------------------------------------------------- ADMM
@dataclass
class _AdmmResult:
    w: np.ndarray
    n_iter: int
    primal_residual: float
    dual_residual: float
    converged: bool


def _admm(
    prob: _Problem,
    active,
    sym_weight,
    l1_weight,
    w0,
    max_iter,
    tol,
    rho,
    interpolate=False,
    sv_weights=None,
):
    """Scaled ADMM for the penalised (or interpolating) problem on ``active``.

    Splits ``Z = L w`` (nuclear norm, prox = SVT) and, with an l1 term,
    ``V = w`` (prox = soft thresholding). The w-step is one linear solve with a
    cached factorisation; the penalty ``rho`` is rebalanced (x2 or /2) every
    ten iterations when the residuals differ by more than 10x.
    """
    idx = np.nonzero(active)[0]
    L = prob.L[:, idx].tocsr()  # sparse: matvecs cost O(nnz), not O(rows * cols)
    Lt = L.T.tocsr()  # transposed once, not in every iteration
    LtL = (Lt @ L).toarray()
    P, q = prob.P[np.ix_(idx, idx)], prob.q[idx]
    n = idx.size
    use_l1 = l1_weight > 0 and not interpolate
    if interpolate:
        A_eq = np.kron(np.eye(prob.y.shape[1]), prob.theta)[:, idx]
        b_eq = prob.y.T.ravel()
    w = w0[idx].copy() if w0 is not None else np.zeros(n)
    z = L @ w
    u = np.zeros_like(z)
    v, yv = w.copy(), np.zeros(n)

    def factor(r):
        if interpolate:
            prox = 1e-6 * r * np.eye(n)  # keeps the KKT system nonsingular
            kkt = np.block(
                [[r * LtL + prox, A_eq.T], [A_eq, np.zeros((len(b_eq),) * 2)]]
            )
            return lu_factor(kkt)
        return cho_factor(P + r * LtL + (r * np.eye(n) if use_l1 else 0.0))

    rho = float(rho)
    fac = factor(rho)
    eps_abs, eps_rel = 1e-9, tol
    r_norm = s_norm = np.inf
    converged = False
    k = 0
    for k in range(1, max_iter + 1):
        if interpolate:
            rhs = np.concatenate([rho * (Lt @ (z - u)) + 1e-6 * rho * w, b_eq])
            w = lu_solve(fac, rhs)[:n]
        else:
            rhs = q + rho * (Lt @ (z - u)) + (rho * (v - yv) if use_l1 else 0.0)
            w = cho_solve(fac, rhs)
        Lw = L @ w
        z_old, v_old = z, v
        z = prob.as_vector(_svt(prob.as_matrix(Lw + u), sym_weight / rho, sv_weights))
        u = u + Lw - z
        r2 = np.sum((Lw - z) ** 2)
        dual = Lt @ (z - z_old)
        if use_l1:
            v = _soft(w + yv, l1_weight / rho)
            yv = yv + w - v
            r2 += np.sum((w - v) ** 2)
            dual = dual + (v - v_old)
        r_norm, s_norm = np.sqrt(r2), rho * np.linalg.norm(dual)
        eps_pri = np.sqrt(z.size) * eps_abs + eps_rel * max(
            np.linalg.norm(Lw), np.linalg.norm(z)
        )
        eps_dual = np.sqrt(n) * eps_abs + eps_rel * rho * np.linalg.norm(Lt @ u)
        if r_norm <= eps_pri and s_norm <= eps_dual:
            converged = True
            break
        if k % 10 == 0 and (r_norm > 10 * s_norm or s_norm > 10 * r_norm):
            scale = 2.0 if r_norm > 10 * s_norm else 0.5
            rho *= scale
            u, yv = u / scale, yv / scale
            fac = factor(rho)
    full = np.zeros(prob.P.shape[0])
    full[idx] = v if use_l1 else w
    return _AdmmResult(full, k, float(r_norm), float(s_norm), converged)


# ------------------------------------------------------------------- cvxpy
def _cvxpy(
    prob: _Problem, active, sym_weight, l1_weight, interpolate=False, solver=None
):
    """Reference formulation of the same problem with cvxpy."""
    import cvxpy as cp

    idx = np.nonzero(active)[0]
    t = prob.y.shape[1]
    design = sparse.kron(sparse.identity(t), sparse.csr_matrix(prob.theta)).tocsc()[
        :, idx
    ]
    target = prob.y.T.ravel()
    w = cp.Variable(idx.size)
    Lw = prob.L[:, idx] @ w
    Z = cp.reshape(Lw, (prob.m, prob.n_gen), order="F")
    if interpolate:
        problem = cp.Problem(cp.Minimize(cp.normNuc(Z)), [design @ w == target])
    else:
        n = prob.y.shape[0]
        obj = cp.sum_squares(design @ w - target) / n + sym_weight * cp.normNuc(Z)
        if l1_weight:
            obj = obj + l1_weight * cp.norm1(w)
        problem = cp.Problem(cp.Minimize(obj))
    problem.solve(solver=solver)
    if w.value is None:
        raise ValueError(
            f"cvxpy failed to solve the promotion problem ({problem.status})"
        )
    full = np.zeros(prob.P.shape[0])
    full[idx] = w.value
    return _AdmmResult(
        full,
        int(problem.solver_stats.num_iters or 0),
        0.0,
        0.0,
        problem.status == "optimal",
    )


# --------------------------------------------------------------- optimizer
class SymmetryPromotingSR3(DirectFitOptimizer):
    """Sparse regression that keeps every candidate symmetry the data allow.

    Parameters
    ----------
    candidates : LieAlgebra, optional
        Candidate symmetry algebra (default ``gl(n)``); affine and polynomial
        algebras work too.
    sym_weight : float, default 1e-3
        Weight of the nuclear norm of the Lie-derivative matrix.
    l1_weight : float, default 0.0
        Weight of an l1 penalty on the coefficients.
    threshold : float, default 0.0
        After solving, coefficients below ``threshold`` are fixed at zero and the
        problem is re-solved on the support, until the support is stable.
    reweight : int, default 3
        Rounds of iteratively reweighted nuclear norm after the first solve: the
        penalty on each singular value becomes ``sigma_max / (sigma_i + delta
        sigma_max)`` times ``sym_weight``, so small (nearly unbroken) directions
        are pushed to exactly zero while strongly broken ones are barely shrunk.
        ``0`` solves the plain convex problem (required for ``solver="cvxpy"``).
        The plain form tends to shrink the whole model toward zero (which is
        perfectly symmetric) before a nearly-unbroken direction reaches zero.
    reweight_delta : float, default 1e-2
        ``delta`` above, relative to the largest singular value.
    mode : {"penalized", "interpolate"}, default "penalized"
        ``"interpolate"`` minimises the nuclear norm subject to ``Theta C^T = Y``.
    inner_product : {"coefficients", "data"}, default "coefficients"
        How Lie derivatives are measured (``"data"``: L2 over training states).
    candidate_weights : array (q,), optional
        Scales of the orthonormalised candidate generators (default all 1).
    output : {"vector", "invariant"}, default "vector"
    library : Monomials or pysindy.PolynomialLibrary, optional
    solver : {"admm", "cvxpy"}, default "admm"
    snap : bool, default False
        Discover the promoted model's symmetry (within ``snap_tol``) and refit
        with it enforced exactly (:class:`EquivariantSTLSQ`, same threshold).
    snap_tol : float, optional
        Tolerance of that discovery (default ``symsindy.discover.DEFAULT_TOL``).
    max_iter : int, default 5000
    tol : float, default 1e-6
        Relative ADMM stopping tolerance on primal and dual residuals.
    rho : float, default 1.0
        Initial ADMM penalty (rebalanced automatically).
    verbose : bool, default False

    Attributes
    ----------
    coef_ : ndarray (n_targets, n_features)
    objective_ : float
        Objective at the returned coefficients (before any snap refit).
    n_iter_, primal_residual_, dual_residual_, converged_ : solver report
    singular_values_ : ndarray
        Singular values of the weighted Lie-derivative matrix at the solution.
    symmetry_ : SymmetryGroup or None
        With ``snap=True``: the symmetry found and enforced.

    Examples
    --------
    >>> import numpy as np, pysindy as ps
    >>> from symsindy import LieAlgebra, datasets
    >>> t = np.arange(0, 5, 0.01)
    >>> xs = datasets.simulate("hopf", 4, t, noise=0.01, seed=0)
    >>> opt = SymmetryPromotingSR3(LieAlgebra.gl(2), sym_weight=1e-2, threshold=0.05)
    >>> model = ps.SINDy(optimizer=opt, feature_library=ps.PolynomialLibrary(degree=3))
    >>> _ = model.fit(xs, t=t)
    """

    def __init__(
        self,
        candidates: LieAlgebra | None = None,
        sym_weight: float = 1e-3,
        l1_weight: float = 0.0,
        threshold: float = 0.0,
        reweight: int = 3,
        reweight_delta: float = 1e-2,
        mode: str = "penalized",
        inner_product: str = "coefficients",
        candidate_weights=None,
        output: str = "vector",
        library=None,
        solver: str = "admm",
        snap: bool = False,
        snap_tol: float | None = None,
        max_iter: int = 5000,
        tol: float = 1e-6,
        rho: float = 1.0,
        normalize_columns: bool = False,
        unbias: bool = False,
        copy_X: bool = True,
        initial_guess=None,
        verbose: bool = False,
    ):
        super().__init__(
            max_iter=max_iter,
            normalize_columns=normalize_columns,
            initial_guess=initial_guess,
            copy_X=copy_X,
            unbias=unbias,
        )
        self.candidates = candidates
        self.sym_weight = sym_weight
        self.l1_weight = l1_weight
        self.threshold = threshold
        self.reweight = reweight
        self.reweight_delta = reweight_delta
        self.mode = mode
        self.inner_product = inner_product
        self.candidate_weights = candidate_weights
        self.output = output
        self.library = library
        self.solver = solver
        self.snap = snap
        self.snap_tol = snap_tol
        self.tol = tol
        self.rho = rho
        self.verbose = verbose

    # ---------------------------------------------------------- validation
    def _check_params(self):
        if self.sym_weight < 0 or self.l1_weight < 0 or self.threshold < 0:
            raise ValueError("sym_weight, l1_weight and threshold must be >= 0")
        if self.mode not in ("penalized", "interpolate"):
            raise ValueError(
                f"mode must be 'penalized' or 'interpolate', got {self.mode!r}"
            )
        if self.solver not in ("admm", "cvxpy"):
            raise ValueError(f"solver must be 'admm' or 'cvxpy', got {self.solver!r}")
        if self.reweight < 0 or self.reweight_delta <= 0:
            raise ValueError("reweight must be >= 0 and reweight_delta > 0")
        if self.solver == "cvxpy" and self.reweight:
            raise ValueError(
                "solver='cvxpy' solves the convex problem only; set reweight=0"
            )
        if self.inner_product not in ("coefficients", "data"):
            raise ValueError(
                "inner_product must be 'coefficients' or 'data', got "
                f"{self.inner_product!r}"
            )
        if self.normalize_columns:
            raise ValueError(
                "normalize_columns=True is not supported: rescaling library columns "
                "changes which models are symmetric"
            )
        if self.unbias:
            raise ValueError(
                "unbias=True would refit without the symmetry penalty; use snap=True "
                "for an exactly symmetric debiased refit"
            )

    def _setup(self, x, y):
        n_targets = y.shape[1]
        if self.candidates is not None:
            if not isinstance(self.candidates, LieAlgebra):
                raise TypeError(
                    "candidates must be a LieAlgebra, got "
                    f"{type(self.candidates).__name__}"
                )
            n = self.candidates.n
        elif self.output == "vector":
            n = n_targets
        elif self.library is not None:
            n = resolve_basis(self.library).n_vars
        else:
            raise ValueError(
                "give candidates=... or library=... for invariant functions"
            )
        if self.output == "vector" and n_targets != n:
            raise ValueError(
                f"candidates act on R^{n} but y has {n_targets} columns; a vector "
                "field needs one derivative per state"
            )
        basis = (
            resolve_basis(self.library, n)
            if self.library is not None
            else (infer_basis(x.shape[1], n, x))
        )
        if len(basis) != x.shape[1]:
            raise ValueError(
                f"library has {len(basis)} features but x has {x.shape[1]}"
            )
        cand = (self.candidates or LieAlgebra.gl(n)).orthonormalized()
        if self.candidate_weights is not None:
            weights = np.asarray(self.candidate_weights, dtype=float)
            if weights.shape != (cand.dim,) or np.any(weights < 0):
                raise ValueError(
                    f"candidate_weights must be {cand.dim} non-negative numbers, got "
                    f"shape {weights.shape}"
                )
            cand = LieAlgebra(cand.coefficients * weights[:, None, None], cand.degree)
        return basis, cand

    # ----------------------------------------------------------------- fit
    def fit(self, x_, y, sample_weight=None):
        """Fit on the library matrix ``x_`` and targets ``y``; returns self."""
        self._check_params()
        x, y = validate_xy(x_, y)
        if sample_weight is not None:
            w = np.sqrt(np.asarray(sample_weight, dtype=float)).reshape(-1, 1)
            x, y = x * w, y * w
        self.Theta_ = x
        basis, cand = self._setup(x, y)
        prob = _build_problem(x, y, basis, cand, self.output, self.inner_product)
        n_coef = prob.P.shape[0]
        w0 = None
        if self.initial_guess is not None:
            w0 = np.asarray(self.initial_guess, dtype=float).ravel()
            if w0.size != n_coef:
                raise ValueError(f"initial_guess must have {n_coef} entries")
        result, history = self._threshold_loop(prob, w0, y.shape[1])
        w = result.w
        self.n_iter_ = result.n_iter
        self.primal_residual_ = result.primal_residual
        self.dual_residual_ = result.dual_residual
        self.converged_ = result.converged
        if not result.converged:
            warnings.warn(
                f"SymmetryPromotingSR3 ({self.solver}) stopped before convergence "
                f"after {result.n_iter} iterations (primal residual "
                f"{result.primal_residual:.1e}, "
                f"dual residual {result.dual_residual:.1e}); raise max_iter or "
                "loosen tol",
                ConvergenceWarning,
                stacklevel=2,
            )
        if self.mode == "interpolate":
            self.objective_ = float(prob.singular_values(w).sum())
        else:
            self.objective_ = prob.objective(
                w, self.sym_weight, self.l1_weight, self.sv_weights_
            )
        self.singular_values_ = np.linalg.svd(
            prob.as_matrix(prob.L @ w), compute_uv=False
        )
        self.candidates_ = cand
        self.library_ = basis
        self.coef_ = w.reshape(y.shape[1], -1)
        self.history_ = history
        self.ind_ = np.abs(self.coef_) > 1e-14
        self.intercept_ = 0.0
        self.n_features_in_ = x.shape[1]
        self.symmetry_ = None
        if self.snap:
            self._snap_refit(x, y, basis, cand)
            self.singular_values_ = prob.singular_values(self.coef_.ravel())
        return self

    def _threshold_loop(self, prob, w0, n_targets):
        """Solve, fix coefficients below ``threshold`` at zero, re-solve, ...

        Stops when the support is stable (every active coefficient is at least
        ``threshold``) or after ``_MAX_THRESHOLDING_ROUNDS`` solves.
        """
        n_coef = prob.P.shape[0]
        active = np.ones(n_coef, dtype=bool)
        history = []
        rounds = _MAX_THRESHOLDING_ROUNDS if self.threshold > 0 else 1
        for _ in range(rounds):
            result = self._solve(prob, active, w0)
            history.append(result.w.reshape(n_targets, -1))
            new_active = active & (np.abs(result.w) >= self.threshold)
            if np.array_equal(new_active, active):
                break
            if not new_active.any():
                warnings.warn("threshold removed every coefficient", stacklevel=3)
                result.w = np.zeros(n_coef)
                break
            active, w0 = new_active, result.w * new_active
        return result, history

    def _solve(self, prob, active, w0):
        interpolate = self.mode == "interpolate"
        self.sv_weights_ = None
        if self.solver == "cvxpy":
            return _cvxpy(prob, active, self.sym_weight, self.l1_weight, interpolate)
        weights, result = None, None
        for _ in range(self.reweight + 1):
            if result is not None:
                s = prob.singular_values(result.w)
                if s.max(initial=0.0) == 0:
                    break
                weights = s.max() / (s + self.reweight_delta * s.max())
                w0 = result.w
            result = _admm(
                prob,
                active,
                self.sym_weight,
                self.l1_weight,
                w0,
                self.max_iter,
                self.tol,
                self.rho,
                interpolate,
                weights,
            )
        self.sv_weights_ = weights
        return result

    def _snap_refit(self, x, y, basis, cand):
        from .discover import DEFAULT_TOL, discover_symmetries
        from .optimizers import EquivariantSTLSQ

        found = discover_symmetries(
            self.coef_,
            library=basis,
            candidates=cand,
            tol=DEFAULT_TOL if self.snap_tol is None else self.snap_tol,
            x=basis.states(x) if self.inner_product == "data" else None,
            inner_product=self.inner_product,
            discrete=None,
            output=self.output,
        )
        self.symmetry_ = found
        if found.dim == 0:
            return
        refit = EquivariantSTLSQ(
            found,
            threshold=self.threshold,
            alpha=0.0,
            library=basis,
            output=self.output,
        ).fit(x, y)
        self.coef_ = refit.coef_
        self.ind_ = np.abs(self.coef_) > 1e-14

    def relative_singular_values(self) -> np.ndarray:
        """Singular values of ``L_F`` divided by the model's coefficient norm."""
        check_is_fitted(self, "coef_")
        norm = np.linalg.norm(self.coef_)
        return self.singular_values_ / norm if norm else self.singular_values_


# -------------------------------------------------------------------- path
@dataclass
class PromotionPath:
    """Solutions along a decreasing sequence of ``sym_weight`` values.

    Attributes
    ----------
    sym_weights : ndarray (k,)
    coefs : ndarray (k, n_targets, n_features)
    singular_values : ndarray (k, q)
        Relative singular values of the Lie-derivative matrix at each solution.
    dims : ndarray (k,)
        Number of singular values below ``tol`` (unbroken candidate symmetries).
    tol : float
    """

    sym_weights: np.ndarray
    coefs: np.ndarray
    singular_values: np.ndarray
    dims: np.ndarray
    tol: float

    def breaking_order(self) -> list[tuple[float, int]]:
        """``(sym_weight, dim)`` each time the number of symmetries changes."""
        out = [(float(self.sym_weights[0]), int(self.dims[0]))]
        for lam, d in zip(self.sym_weights[1:], self.dims[1:], strict=True):
            if d != out[-1][1]:
                out.append((float(lam), int(d)))
        return out

    def plot(self, ax=None):
        """Singular values against ``sym_weight`` (log-log) with ``tol`` drawn."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        sv = np.maximum(self.singular_values, 1e-17)
        for j in range(sv.shape[1]):
            ax.loglog(self.sym_weights, sv[:, j], "-", lw=1.2)
        ax.axhline(self.tol, color="k", ls="--", lw=1, label=f"tol = {self.tol:.0e}")
        ax.invert_xaxis()
        ax.set_xlabel("sym_weight (decreasing)")
        ax.set_ylabel(r"$\sigma_i / \|C\|$")
        ax.set_title("symmetries break as the penalty weakens")
        ax.legend(fontsize="small")
        return ax.figure


def promotion_path(
    optimizer: SymmetryPromotingSR3,
    x,
    y,
    sym_weights=None,
    tol: float | None = None,
    progress: bool = True,
    n_jobs: int | None = None,
) -> PromotionPath:
    """Fit along ``sym_weights`` from large to small.

    Parameters
    ----------
    optimizer : SymmetryPromotingSR3
        Template; cloned for every weight (its ``snap`` is ignored).
    x, y : library matrix and targets
    sym_weights : array, optional
        Default: 20 log-spaced values from 1 to 1e-6.
    tol : float, optional
        Threshold on relative singular values defining ``dims``.
    progress : bool
        tqdm progress bar.
    n_jobs : int, optional
        ``None`` or 1: one process with warm starts (each fit starts from the
        previous solution). Otherwise the fits run in parallel through joblib
        (any joblib backend, e.g. Dask's), each from a cold start.
    """
    from joblib import Parallel, delayed

    from .discover import DEFAULT_TOL

    tol = DEFAULT_TOL if tol is None else tol
    default = np.logspace(0, -6, 20)
    weights = np.sort(
        np.asarray(default if sym_weights is None else sym_weights, dtype=float)
    )[::-1]
    bar = tqdm(weights, desc="sym_weight path", disable=not progress)
    if n_jobs in (None, 1):
        fits, guess = [], None
        for lam in bar:
            fits.append(_path_fit(optimizer, lam, guess, x, y))
            guess = fits[-1][0]
    else:
        fits = Parallel(n_jobs=n_jobs)(
            delayed(_path_fit)(optimizer, lam, None, x, y) for lam in bar
        )
    coefs = np.array([c for c, _ in fits])
    svs = np.array([s for _, s in fits])
    return PromotionPath(weights, coefs, svs, (svs <= tol).sum(axis=1), tol)


def _path_fit(template, sym_weight, guess, x, y):
    from sklearn.base import clone

    opt = clone(template).set_params(
        sym_weight=sym_weight, snap=False, initial_guess=guess
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        opt.fit(x, y)
    return opt.coef_, opt.relative_singular_values()
