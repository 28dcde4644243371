"""Sequentially thresholded least squares in symmetric coordinates."""

from __future__ import annotations

import warnings

import numpy as np

from .base import SymmetricOptimizer

__all__ = ["EquivariantSTLSQ"]


class EquivariantSTLSQ(SymmetricOptimizer):
    """STLSQ restricted to models with a given symmetry.

    Fits ``vec(C) = Q c`` with ``Q`` the interpretable basis of
    :func:`symsindy.equivariance.equivariant_basis`, alternating ridge regression
    and thresholding of ``c``. Each ``c_j`` is the coefficient of one symmetric
    term's leading monomial, so thresholding drops whole symmetric terms and
    every iterate is exactly symmetric.

    Parameters
    ----------
    symmetry : SymmetryGroup, LieAlgebra, generator matrices, or EquivariantBasis
        The group to enforce, e.g. the result of
        :func:`symsindy.discover_symmetries`, or a precomputed symmetric basis
        (for constraints built by hand, see
        :func:`symsindy.equivariance.basis_from_constraints`).
    threshold : float, default 0.1
        Terms whose (leading) coefficient is smaller in magnitude are removed.
    alpha : float, default 0.05
        Ridge penalty ``alpha ||c||^2``.
    max_iter : int, default 20
    library : Monomials or pysindy.PolynomialLibrary, optional
        Needed only when the library cannot be inferred from the feature count.
    output : {"vector", "invariant"}, default "vector"
        ``"invariant"`` fits invariant scalar function(s) instead of vector fields.
    normalize_columns : bool, default False
        Threshold in units where every symmetric term's design column has unit
        norm (the symmetric analogue of pysindy's option).
    unbias : bool, default True
        Refit without ridge on the final support, inside the symmetric subspace.

    Attributes
    ----------
    coef_ : ndarray (n_targets, n_features)
    reduced_coef_ : ndarray (n_terms,)
    basis_ : EquivariantBasis
    symmetry_ : SymmetryGroup
    n_iter_ : int

    Examples
    --------
    >>> import numpy as np, pysindy as ps
    >>> from symsindy import LieAlgebra, datasets
    >>> t = np.arange(0, 5, 0.01)
    >>> xs = datasets.simulate("hopf", 4, t, seed=0)
    >>> model = ps.SINDy(optimizer=EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.1),
    ...                  feature_library=ps.PolynomialLibrary(degree=3))
    >>> _ = model.fit(xs, t=t)
    >>> bool(model.optimizer.equivariance_residual() < 1e-10)
    True
    """

    def __init__(
        self,
        symmetry=None,
        threshold: float = 0.1,
        alpha: float = 0.05,
        max_iter: int = 20,
        library=None,
        output="vector",
        normalize_columns: bool = False,
        unbias: bool = True,
        copy_X: bool = True,
        initial_guess=None,
        verbose: bool = False,
    ):
        super().__init__(
            symmetry=symmetry,
            library=library,
            output=output,
            max_iter=max_iter,
            normalize_columns=normalize_columns,
            unbias=unbias,
            copy_X=copy_X,
            initial_guess=initial_guess,
        )
        self.threshold = threshold
        self.alpha = alpha
        self.verbose = verbose

    def _solve(self, H, b, c0):
        if self.threshold < 0:
            raise ValueError(f"threshold must be >= 0, got {self.threshold}")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        r = len(b)
        active = np.ones(r, dtype=bool)
        c = _ridge(H, b, active, self.alpha) if c0 is None else c0
        history = [c.copy()]
        self.n_iter_ = 0
        for k in range(self.max_iter):
            self.n_iter_ = k + 1
            new_active = active & (np.abs(c) >= self.threshold)
            if not new_active.any():
                warnings.warn(
                    f"threshold {self.threshold} removed every symmetric term; "
                    "the fitted model is zero",
                    stacklevel=3,
                )
                c = np.zeros(r)
                history.append(c)
                break
            c = _ridge(H, b, new_active, self.alpha)
            history.append(c.copy())
            if self.verbose:
                print(f"iteration {k}: {new_active.sum()} active terms")
            if np.array_equal(new_active, active):
                break
            active = new_active
        return c, history


def _ridge(H, b, active, alpha):
    c = np.zeros(len(b))
    idx = np.nonzero(active)[0]
    if idx.size:
        A = H[np.ix_(idx, idx)] + alpha * np.eye(idx.size)
        c[idx] = np.linalg.lstsq(A, b[idx], rcond=None)[0]
    return c
