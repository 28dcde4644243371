"""Small dense linear algebra shared by the symmetric basis, the naming code and
the tests (normal-equation products)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "null_space",
    "echelon_basis",
    "balancing_scales",
    "diagonal_conjugate",
    "reduced_normal_equations",
    "residual_sums",
]


def null_space(block: np.ndarray, rcond: float = 1e-10) -> np.ndarray:
    """Orthonormal nullspace basis (columns) of a small dense matrix.

    The same computation as ``scipy.linalg.null_space``, called directly on
    numpy's SVD: the symmetric basis solves many tiny blocks, where the wrapper's
    overhead dominated. A tall block (more rows than columns, the usual case for
    stacked constraints) is first reduced to its square ``R`` factor: ``R`` has
    the same nullspace and singular values, and its SVD does not build the
    huge left factor that ``full_matrices=True`` would.

    Examples
    --------
    >>> N = null_space(np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]))
    >>> np.allclose(np.abs(N.ravel()), np.sqrt(0.5))
    True
    """
    rows, cols = block.shape
    if rows > cols:
        block = np.linalg.qr(block, mode="r")
    _, s, vt = np.linalg.svd(block, full_matrices=True)
    rank = int(np.sum(s > rcond * s[0])) if s.size else 0
    return vt[rank:].T


def echelon_basis(N: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rewrite a basis (columns of ``N``) so that rows ``pivots`` form the identity.

    Pivots are chosen greedily in coordinate order (the earliest coordinate that
    is independent of those already chosen), as in a reduced row echelon form,
    with Gram-Schmidt on the rows of ``N`` for numerical stability. This is how a
    person writes a basis: ``I`` and ``J`` rather than two orthonormal mixtures.

    Returns
    -------
    basis : ndarray, same shape as ``N``
    pivots : ndarray of int
    """
    r = N.shape[1]
    chosen, ortho = [], np.zeros((0, r))
    scale = np.abs(N).max()
    for i, row in enumerate(N):
        resid = row - ortho.T @ (ortho @ row)
        norm = np.linalg.norm(resid)
        if norm > 1e-8 * scale:
            chosen.append(i)
            ortho = np.vstack([ortho, resid / norm])
            if len(chosen) == r:
                break
    pivots = np.array(chosen)
    basis = np.linalg.solve(N[pivots].T, N.T).T  # N @ inv(N[pivots])
    basis[np.abs(basis) < 1e-12] = 0.0
    basis[pivots] = np.eye(r)
    return basis, pivots


def balancing_scales(matrices: np.ndarray, sweeps: int = 50) -> np.ndarray:
    """Diagonal ``d`` minimising ``sum_k ||D^-1 A_k D||_F`` (geometric mean 1).

    Osborne's iteration (each ``d_i`` in turn at its exact minimiser, a convex
    problem in ``log d``); written here because scipy's ``matrix_balance``
    balances one matrix with powers of two, and a generator's scales are the
    units of the states, which need not be powers of two.
    """
    M = np.sum(np.asarray(matrices, dtype=float) ** 2, axis=0)
    np.fill_diagonal(M, 0.0)
    d = np.ones(len(M))
    for _ in range(sweeps):
        previous = d.copy()
        for i in range(len(M)):
            row = M[i] @ d**2  # entries (i, j) scale by d_j / d_i
            col = M[:, i] @ d**-2  # entries (j, i) scale by d_i / d_j
            if row > 0 and col > 0:
                d[i] = (row / col) ** 0.25
        if np.allclose(d, previous, rtol=1e-10, atol=0.0):
            break
    return d / np.exp(np.mean(np.log(d)))


def diagonal_conjugate(matrices: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``D A D^-1`` for each matrix ``A`` (``D = diag(d)``): ``A_ij d_i / d_j``.

    A linear map of the states ``x~`` written for ``x = D x~``; ``1 / d`` goes
    back.
    """
    d = np.asarray(d, dtype=float)
    return np.asarray(matrices) * d[:, None] / d[None, :]


def reduced_normal_equations(Q, gram, xty, weights=None):
    """``H = sum_i w_i Q_i^T G Q_i`` and ``b = sum_i w_i Q_i^T (Theta^T y_i)``.

    ``Q`` (sparse, ``(n_targets * n_features, r)``) is a basis of a subspace of
    coefficient matrices (``vec(C) = C.ravel()``), ``G = Theta^T Theta`` and
    ``xty = Theta^T Y``; ``w_i`` weights target ``i`` (default 1). Only
    ``f x f`` and ``r x r`` matrices are formed, never the reduced design.
    """
    from scipy import sparse

    Q = sparse.csr_matrix(Q)
    f, t = xty.shape
    r = Q.shape[1]
    weights = np.ones(t) if weights is None else np.asarray(weights, dtype=float)
    H = np.zeros((r, r))
    b = np.zeros(r)
    for i in range(t):
        Qi = Q[i * f : (i + 1) * f]
        if Qi.nnz == 0:
            continue
        GQ = np.asarray(Qi.T @ gram)  # (r, f)
        H += weights[i] * np.asarray(Qi.T @ GQ.T)
        b += weights[i] * (Qi.T @ xty[:, i])
    return H, b


def residual_sums(gram, xty, yty, coef) -> np.ndarray:
    """``||y_i - Theta c_i||^2`` per target from the normal-equation products.

    ``yty_ii - 2 c_i . xty_i + c_i^T G c_i``, with ``yty`` the ``(t, t)``
    matrix ``Y^T Y`` and ``coef`` the ``(t, f)`` coefficients.
    """
    C = np.asarray(coef, dtype=float)
    quad = np.sum(C * (C @ gram), axis=1)
    return np.diag(yty) - 2.0 * np.sum(C * np.asarray(xty).T, axis=1) + quad
