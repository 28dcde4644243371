"""Least squares in symmetric coordinates, kept in square-root form.

Every fit of the symmetric optimizers is a least-squares problem over the
reduced coordinates ``c`` of the symmetric models (``vec(C) = Q c``):

    min_c ||A c - y||^2,    A = [Theta Q_1; ...; Theta Q_t],   y = vec(Y)

with ``Q_i`` the rows of ``Q`` for target ``i``. Polynomial libraries are badly
conditioned (1e10 at degree 5 on Lorenz), and the normal equations ``A^T A``
square that, which loses every digit. So the problem is held as

    ||A c - y||^2 = ||R d - z||^2 + rss,     d = scale * c,

with ``scale`` the column norms of ``A`` and ``R`` the triangular factor of the
column-scaled design: from a QR factorisation of its rows (tall-skinny QR, one
block of rows at a time, so the reduced design is never held whole), or from
a Cholesky factorisation of the column-scaled Gram matrix when only sufficient
statistics (``Theta^T W Theta``, ``Theta^T W Y``, ``Y^T W Y``) are available.
Every later solve (ridge, relaxation, unbiasing on a support) is a small
``lstsq`` on columns of ``R``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse

from ..linalg import reduced_normal_equations
from ..tolerances import RANK_RCOND

__all__ = ["ReducedLeastSquares"]

#: Rows of the reduced design handled per QR update (bounds the memory used).
_ROW_BLOCK = 20_000

#: Singular values below this fraction of the largest count as zero in a solve
#: (the scaled reduced design of degree-5 Lorenz has condition number ~1e8).
_SOLVE_RCOND = 1e-13


@dataclass(frozen=True)
class ReducedLeastSquares:
    """``||A c - y||^2`` as ``||R (scale * c) - z||^2 + rss``.

    Attributes
    ----------
    R : ndarray (k, r)
        Triangular factor of the column-scaled reduced design ``A / scale``.
    z : ndarray (k,)
    scale : ndarray (r,)
        Column norms of ``A`` (1 for zero columns).
    rss : float
        Part of ``||y||^2`` that no coefficients can explain.
    """

    R: np.ndarray
    z: np.ndarray
    scale: np.ndarray
    rss: float

    @property
    def n_terms(self) -> int:
        return self.R.shape[1]

    # ---------------------------------------------------------- builders
    @classmethod
    def from_rows(
        cls, Q: sparse.spmatrix, theta: np.ndarray, y: np.ndarray
    ) -> ReducedLeastSquares:
        """From the library matrix ``theta`` (s, f) and targets ``y`` (s, t)."""
        Q = sparse.csr_matrix(Q)
        f, t = theta.shape[1], y.shape[1]
        r = Q.shape[1]
        blocks = [(i, Q[i * f : (i + 1) * f]) for i in range(t)]
        blocks = [(i, Qi) for i, Qi in blocks if Qi.nnz]
        sq = np.zeros(r)
        for _, Qi in blocks:
            for rows in _row_chunks(theta.shape[0]):
                sq += np.sum(np.square(theta[rows] @ Qi), axis=0)
        scale = np.sqrt(sq)
        scale[scale == 0] = 1.0
        # Tall-skinny QR of [A / scale | y]: the last column of the factor holds
        # z (top) and sqrt(rss) (bottom-right entry).
        Raug = np.zeros((0, r + 1))
        for i, Qi in blocks:
            for rows in _row_chunks(theta.shape[0]):
                block = np.hstack([(theta[rows] @ Qi) / scale, y[rows, i : i + 1]])
                Raug = np.linalg.qr(np.vstack([Raug, block]), mode="r")
        unexplained = sum(
            float(y[:, i] @ y[:, i]) for i in range(t) if not Q[i * f : (i + 1) * f].nnz
        )
        if Raug.shape[0] == 0:
            return cls(np.zeros((0, r)), np.zeros(0), scale, unexplained)
        k = min(Raug.shape[0], r)
        rss = float(np.sum(Raug[k:, r] ** 2)) + unexplained
        return cls(Raug[:k, :r], Raug[:k, r].copy(), scale, rss)

    @classmethod
    def from_statistics(
        cls, Q: sparse.spmatrix, gram: np.ndarray, xty: np.ndarray, yty_trace: float
    ) -> ReducedLeastSquares:
        """From ``gram = Theta^T W Theta``, ``xty = Theta^T W Y``, ``trace(Y^T W Y)``.

        The reduced Gram ``H = sum_i Q_i^T gram Q_i`` is scaled to unit diagonal
        before it is factored (Cholesky, or a truncated eigendecomposition when
        it is singular), which is what keeps this path as accurate as the
        conditioning of the statistics allows.
        """
        Q = sparse.csr_matrix(Q)
        H, b = reduced_normal_equations(Q, gram, xty)
        scale = np.sqrt(np.clip(np.diag(H), 0.0, None))
        scale[scale == 0] = 1.0
        Hs = H / np.outer(scale, scale)
        Hs = (Hs + Hs.T) / 2
        bs = b / scale
        try:
            R = linalg.cholesky(Hs, lower=False)
            z = linalg.solve_triangular(R, bs, trans="T")
            if not np.all(np.isfinite(z)):
                raise linalg.LinAlgError("non-finite solve")
        except linalg.LinAlgError:
            e, V = linalg.eigh(Hs)
            keep = e > RANK_RCOND * max(e.max(initial=0.0), 0.0)
            R = np.sqrt(e[keep])[:, None] * V[:, keep].T
            z = (V[:, keep].T @ bs) / np.sqrt(e[keep])
        rss = max(float(yty_trace) - float(z @ z), 0.0)
        return cls(R, z, scale, rss)

    # ----------------------------------------------------------- solving
    def rescaled(self, unit: np.ndarray) -> ReducedLeastSquares:
        """The same problem in coordinates ``c' = unit * c`` (design ``A / unit``)."""
        return ReducedLeastSquares(self.R, self.z, self.scale / unit, self.rss)

    def solve(
        self,
        active: np.ndarray | None = None,
        ridge: float | np.ndarray = 0.0,
    ) -> np.ndarray:
        """``argmin ||A c - y||^2 + ridge ||c||^2`` over ``c`` supported on ``active``.

        ``ridge`` may be one weight per coordinate. Rank-deficient problems get
        the minimum-norm solution in scaled coordinates.
        """
        r = self.n_terms
        idx = np.arange(r) if active is None else np.flatnonzero(active)
        c = np.zeros(r)
        if idx.size == 0:
            return c
        s = self.scale[idx]
        M, rhs = self.R[:, idx], self.z
        ridge = np.broadcast_to(np.asarray(ridge, dtype=float), (r,))[idx]
        if np.any(ridge > 0):
            M = np.vstack([M, np.diag(np.sqrt(ridge) / s)])
            rhs = np.concatenate([rhs, np.zeros(idx.size)])
        if M.shape[0] == 0:
            return c
        # A relative cutoff well above rounding: duplicate columns leave a
        # diagonal of ~1e-16 in R, which the default cutoff would invert.
        d = linalg.lstsq(
            M, rhs, cond=_SOLVE_RCOND, lapack_driver="gelsy", check_finite=False
        )[0]
        c[idx] = d / s
        return c

    def relaxation(self, nu: float):
        """A solver for ``argmin_c ||A c - y||^2 + ||c - w||^2 / nu`` (SR3's step).

        The stacked system ``[R; I / (scale sqrt(nu))]`` is factored once by QR,
        so each call costs two triangular products.
        """
        penalty = 1.0 / (self.scale * np.sqrt(nu))
        Qf, Rf = linalg.qr(np.vstack([self.R, np.diag(penalty)]), mode="economic")
        k = self.R.shape[0]
        top = Qf[:k].T @ self.z
        bottom = Qf[k:].T

        def step(w: np.ndarray) -> np.ndarray:
            rhs = top + bottom @ (w / np.sqrt(nu))
            return linalg.solve_triangular(Rf, rhs) / self.scale

        return step

    def residual(self, c: np.ndarray) -> float:
        """``||A c - y||^2``."""
        return float(np.sum((self.R @ (self.scale * c) - self.z) ** 2) + self.rss)


def _row_chunks(n_rows: int):
    for start in range(0, n_rows, _ROW_BLOCK):
        yield slice(start, min(start + _ROW_BLOCK, n_rows))
