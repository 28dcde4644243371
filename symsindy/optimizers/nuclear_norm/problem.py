"""The promotion problem in sufficient statistics, and its linear solves.

Every nuclear-norm solver works on

    f(w) = w^T (I kron G) w - 2 b^T w + yy,      w = vec(C) = C.ravel()

(the mean squared residual written with the per-target Gram matrix ``G`` of the
library, ``b = vec((Theta^T Y / N)^T)`` and ``yy = ||Y||^2 / N``) plus a
penalty on the Lie-derivative matrix ``L_F(C)`` of
:class:`symsindy.spectrum.LieDerivativeMatrix`. Only ``G`` (``f x f``) is
stored: ``kron(I, G)`` is applied target by target and never formed.

The ADMM w-step solves ``(H + rho K) w = r`` with ``H = 2 (I kron G)`` and
``K = L^T L`` (plus ``I`` with an l1 split). Two solvers, both reusable when the
ADMM penalty ``rho`` changes:

* :class:`DirectSolve` (small problems): one generalised eigendecomposition
  ``K V = (H + K) V diag(lam)``; then ``(H + rho K)^{-1} = V diag(1 / (1 + (rho
  - 1) lam)) V^T`` for every ``rho`` at ``O(n^2)``.
* :class:`ConjugateGradientSolve` (large problems): matrix-free preconditioned
  CG (``scipy.sparse.linalg.cg``), warm-started from the previous iterate. The
  preconditioner is exact for the data term: per target ``(2 G + rho d I)^{-1}``
  through one eigendecomposition of ``G`` (``d``: mean diagonal of ``K``).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy import sparse
from scipy.sparse.linalg import LinearOperator, cg

from ...spectrum import LieDerivativeMatrix

__all__ = [
    "PromotionProblem",
    "DirectSolve",
    "ConjugateGradientSolve",
    "DIRECT_MAX_COEFFICIENTS",
]

#: Up to this many active coefficients the w-step is solved directly (one dense
#: eigendecomposition per support); above it, by preconditioned CG.
DIRECT_MAX_COEFFICIENTS = 1500

#: A weighted Lie-derivative operator restricted to a support is stored as a
#: dense matrix up to this many entries (40 MB).
_DENSE_ENTRIES = 5_000_000

#: Below this many entries even a sparse operator is applied as a dense matrix.
_SMALL_DENSE_ENTRIES = 200_000


class PromotionProblem:
    """Sufficient statistics of a fit plus the Lie-derivative matrix.

    Parameters
    ----------
    gram : array (f, f)
        ``Theta^T Theta / N`` (mean over samples).
    xty : array (f, t)
        ``Theta^T Y / N``.
    yty : float
        ``||Y||_F^2 / N``.
    lie : LieDerivativeMatrix
        On a model space with ``t`` targets and ``f`` features.
    yty_targets : array (t,), optional
        ``||Y_i||^2 / N`` per target (default: ``yty`` spread evenly).
    """

    def __init__(
        self, gram, xty, yty: float, lie: LieDerivativeMatrix, yty_targets=None
    ):
        self.gram = np.asarray(gram, dtype=float)
        self.xty = np.asarray(xty, dtype=float)
        self.yty = float(yty)
        t = self.xty.shape[1]
        self.yty_targets = (
            np.full(t, self.yty / t)
            if yty_targets is None
            else np.asarray(yty_targets, dtype=float)
        )
        self.lie = lie
        self.n_features, self.n_targets = self.xty.shape
        self.operator = lie.model_operator()
        self._normal = None
        self._least_squares = None
        self._solves: dict = {}

    # ----------------------------------------------------------- shapes
    @property
    def n_coef(self) -> int:
        return self.n_features * self.n_targets

    @property
    def b(self) -> np.ndarray:
        return self.xty.T.ravel()

    def full_mask(self) -> np.ndarray:
        return np.ones(self.n_coef, dtype=bool)

    def least_squares(self) -> np.ndarray:
        """Minimum-norm least-squares coefficients (the ADMM cold start)."""
        if self._least_squares is None:
            lam, V = np.linalg.eigh(self.gram)
            keep = lam > 1e-12 * max(lam.max(initial=0.0), 1e-300)
            V = V[:, keep]
            W = V @ ((V.T @ self.xty) / lam[keep][:, None])
            self._least_squares = W.T.ravel()
        return self._least_squares

    # -------------------------------------------------------- functions
    def fit_value(self, w: np.ndarray) -> float:
        """Mean squared residual ``||Theta C^T - Y||^2 / N``."""
        W = w.reshape(self.n_targets, self.n_features)
        quad = np.sum(W * (W @ self.gram))
        return float(quad - 2.0 * np.sum(W * self.xty.T) + self.yty)

    def gram_times(self, w: np.ndarray) -> np.ndarray:
        """``(I kron G) w`` target by target."""
        W = w.reshape(self.n_targets, self.n_features)
        return (W @ self.gram).ravel()

    def lie_matrix(self, w: np.ndarray, gen_weights=None) -> np.ndarray:
        """``L_F(C) W`` as an ``(n_rows, q)`` matrix (``W``: generator weights)."""
        Z = self.lie.as_matrix(self.operator.matvec(w))
        return Z if gen_weights is None else Z @ gen_weights

    def singular_values(self, w: np.ndarray, gen_weights=None) -> np.ndarray:
        if gen_weights is None:
            return self.lie.singular_values(w.reshape(self.n_targets, self.n_features))
        return np.linalg.svd(self.lie_matrix(w, gen_weights), compute_uv=False)

    def objective(self, w, sym_weight, l1_weight=0.0, gen_weights=None) -> float:
        nuc = self.singular_values(w, gen_weights).sum()
        return float(self.fit_value(w) + sym_weight * nuc + l1_weight * np.abs(w).sum())

    # ---------------------------------------------------- restricted ops
    def normal_matrix(self):
        """``L^T L`` (sparse for the coefficient norm), computed once."""
        if self._normal is None:
            self._normal = self.lie.normal_matrix()
        return self._normal

    def restricted(self, idx: np.ndarray, gen_weights=None):
        """``(matvec, rmatvec)`` of ``w -> vec(L_F(w) W)`` on the coefficients ``idx``.

        Small problems get an explicit matrix (sparse for the coefficient norm,
        dense otherwise) to avoid per-call operator overhead. Generator weights
        ``W`` (``q x q``) act on the generator-major blocks: ``vec(Z W) = (W^T
        kron I) vec(Z)``, applied as a ``q x q`` product, never as a Kronecker.
        """
        q = self.lie.n_generators
        rows = q * self.lie.n_rows
        matvec, rmatvec, dense = self._unweighted(idx, rows)
        if gen_weights is None:
            return matvec, rmatvec
        Wt = np.ascontiguousarray(gen_weights.T)
        if dense is not None:  # fold the weights into the explicit matrix
            Lw = (Wt @ dense.reshape(q, -1)).reshape(dense.shape)
            return (lambda w: Lw @ w), (lambda z: Lw.T @ z)
        return (
            lambda w: (Wt @ matvec(w).reshape(q, -1)).ravel(),
            lambda z: rmatvec((gen_weights @ z.reshape(q, -1)).ravel()),
        )

    def _unweighted(self, idx, rows):
        if self.lie.norm.kind == "coefficients":
            L = self.lie.stack.matrix[:, idx].tocsr()
            if rows * idx.size <= _SMALL_DENSE_ENTRIES:  # dense is faster here
                L = L.toarray()
                return (lambda w: L @ w), (lambda z: L.T @ z), L
            Lt = L.T.tocsr()
            return (lambda w: L @ w), (lambda z: Lt @ z), None
        if rows * idx.size <= _DENSE_ENTRIES:
            cols = np.zeros((self.n_coef, idx.size))
            cols[idx, np.arange(idx.size)] = 1.0
            L = self.operator.matmat(cols)
            return (lambda w: L @ w), (lambda z: L.T @ z), L
        n = self.n_coef

        def matvec(w):
            full = np.zeros(n)
            full[idx] = w
            return self.operator.matvec(full)

        def rmatvec(z):
            return self.operator.rmatvec(z)[idx]

        return matvec, rmatvec, None

    def linear_solve(self, active: np.ndarray, with_identity: bool, gen_weights=None):
        """The w-step solver for a support and weights (cached: a path reuses it)."""
        key = (
            active.tobytes(),
            with_identity,
            None if gen_weights is None else gen_weights.tobytes(),
        )
        if key not in self._solves:
            idx = np.nonzero(active)[0]
            if idx.size <= DIRECT_MAX_COEFFICIENTS:
                solver = DirectSolve(self, idx, with_identity, gen_weights)
            else:
                solver = ConjugateGradientSolve(self, idx, with_identity, gen_weights)
            self._solves = {key: solver}  # one at a time: bounded memory
        return self._solves[key]

    def restricted_normal(self, idx: np.ndarray, gen_weights=None):
        """``(L^T L)[idx, idx]`` (with generator weights), sparse or dense."""
        if gen_weights is None and (
            self.lie.norm.kind == "coefficients"
            or self.n_coef <= 4 * DIRECT_MAX_COEFFICIENTS
        ):
            K = self.normal_matrix()
            return K[idx][:, idx] if sparse.issparse(K) else K[np.ix_(idx, idx)]
        # Only the active columns, through the (weighted) operator.
        matvec, rmatvec = self.restricted(idx, gen_weights)
        eye = np.eye(idx.size)
        return np.column_stack([rmatvec(matvec(e)) for e in eye])


class DirectSolve:
    """``(2 G_active + rho K) x = r`` for any ``rho`` from one eigendecomposition."""

    def __init__(self, prob, idx, with_identity: bool, gen_weights=None):
        K = prob.restricted_normal(idx, gen_weights)
        K = K.toarray() if sparse.issparse(K) else np.array(K)
        if with_identity:
            K[np.diag_indices_from(K)] += 1.0
        H = _block_gram(prob, idx)
        B = H + K
        # A common null direction (no data, no Lie derivative) would make B
        # singular; a ridge far below rounding of the scale removes it.
        B[np.diag_indices_from(B)] += 1e-12 * max(np.trace(B) / max(len(B), 1), 1e-300)
        self.lam, self.V = scipy.linalg.eigh(K, B)
        self.lam = np.clip(self.lam, 0.0, 1.0)

    def __call__(self, rhs, rho, x0=None, rtol=None):
        return self.V @ ((self.V.T @ rhs) / (1.0 + (rho - 1.0) * self.lam))


class ConjugateGradientSolve:
    """Matrix-free, warm-started preconditioned CG for the w-step."""

    def __init__(self, prob, idx, with_identity: bool, gen_weights=None):
        self.prob = prob
        self.idx = idx
        self.with_identity = with_identity
        t, f = prob.n_targets, prob.n_features
        self.mask = np.zeros(prob.n_coef, dtype=bool)
        self.mask[idx] = True
        sparse_normal = prob.lie.norm.kind == "coefficients" and gen_weights is None
        K = prob.normal_matrix() if sparse_normal else None
        if K is not None:
            self.K = K[idx][:, idx].tocsr()
            diag = np.zeros(prob.n_coef)
            diag[idx] = self.K.diagonal()
        else:
            self.K = None
            self.matvec, self.rmatvec = prob.restricted(idx, gen_weights)
            diag = self._estimated_diagonal()
        masks = self.mask.reshape(t, f)
        self.d = np.array(
            [
                diag.reshape(t, f)[i][masks[i]].mean() if masks[i].any() else 0.0
                for i in range(t)
            ]
        )
        # One eigendecomposition of the Gram matrix per distinct target support.
        self.eig = {}
        for i in range(t):
            key = masks[i].tobytes()
            if key not in self.eig and masks[i].any():
                sub = prob.gram[np.ix_(masks[i], masks[i])]
                self.eig[key] = np.linalg.eigh(sub)
        self.masks = masks
        self.groups = {}
        for i in range(t):
            if masks[i].any():
                self.groups.setdefault(masks[i].tobytes(), []).append(i)
        self.groups = {k: np.array(v) for k, v in self.groups.items()}
        self.n_cg = 0

    def _estimated_diagonal(self):
        """Mean diagonal of a weighted ``L^T L`` (a scale for the preconditioner)."""
        rng = np.random.default_rng(0)
        probes = rng.choice([-1.0, 1.0], size=(4, self.idx.size))
        trace = np.mean([np.sum(self.matvec(z) ** 2) for z in probes])
        full = np.zeros(self.prob.n_coef)
        full[self.idx] = trace / self.idx.size
        return full

    def _apply(self, x, rho):
        full = np.zeros(self.prob.n_coef)
        full[self.idx] = x
        out = 2.0 * self.prob.gram_times(full)[self.idx]
        Kx = self.K @ x if self.K is not None else self.rmatvec(self.matvec(x))
        out += rho * Kx
        if self.with_identity:
            out += rho * x
        return out

    def _precondition(self, x, rho):
        full = np.zeros(self.prob.n_coef)
        full[self.idx] = x
        X = full.reshape(self.masks.shape)
        out = np.zeros_like(X)
        shift = 1.0 if self.with_identity else 0.0
        for key, targets in self.groups.items():  # one GEMM pair per support
            lam, V = self.eig[key]
            m = self.masks[targets[0]]
            denom = 2.0 * lam[:, None] + rho * (self.d[targets] + shift)[None, :]
            denom = np.maximum(denom, 1e-12 * max(denom.max(), 1e-300))
            block = X[np.ix_(targets, m)].T
            out[np.ix_(targets, m)] = (V @ ((V.T @ block) / denom)).T
        return out.ravel()[self.idx]

    def __call__(self, rhs, rho, x0=None, rtol=1e-8):
        n = self.idx.size
        A = LinearOperator((n, n), matvec=lambda x: self._apply(x, rho), dtype=float)
        M = LinearOperator(
            (n, n), matvec=lambda x: self._precondition(x, rho), dtype=float
        )
        counter = _Counter()
        x, _ = cg(
            A, rhs, x0=x0, rtol=rtol, atol=0.0, maxiter=500, M=M, callback=counter
        )
        self.n_cg += counter.n
        return x


class _Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, _):
        self.n += 1


def _block_gram(prob: PromotionProblem, idx: np.ndarray) -> np.ndarray:
    """``2 (I kron G)`` restricted to ``idx``, built block by block."""
    f = prob.n_features
    targets, feats = np.divmod(idx, f)
    H = np.zeros((idx.size, idx.size))
    for i in np.unique(targets):
        pos = np.nonzero(targets == i)[0]
        H[np.ix_(pos, pos)] = 2.0 * prob.gram[np.ix_(feats[pos], feats[pos])]
    return H
