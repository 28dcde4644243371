"""Sequentially thresholded least squares in symmetric coordinates."""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import check_scalar
from .base import SymmetricOptimizer
from .reduced import ReducedLeastSquares

__all__ = ["EquivariantSTLSQ"]

#: ``ridge_kw`` keys that choose how sklearn's ``ridge_regression`` computes the
#: ridge solution; here it is always solved exactly (QR), so they change nothing.
_SOLVER_ONLY_RIDGE_KW = {"solver", "tol", "max_iter", "random_state", "check_input"}


class EquivariantSTLSQ(SymmetricOptimizer):
    """STLSQ restricted to models with a given symmetry.

    A drop-in for ``ps.STLSQ`` (same parameters, names and defaults, after the
    extra first argument ``symmetry``). Fits ``vec(C) = Q c`` with ``Q`` the
    interpretable basis of :func:`symsindy.equivariance.equivariant_basis`,
    alternating ridge regression and thresholding of ``c``. Each ``c_j`` is the
    coefficient of one symmetric term's leading monomial, so thresholding drops
    whole symmetric terms and every iterate is exactly symmetric. Every
    least-squares step is solved by QR on the column-scaled reduced design.

    Parameters
    ----------
    symmetry : SymmetryGroup, LieAlgebra, generator matrices, or EquivariantBasis
        The group to enforce, e.g. the result of
        :func:`symsindy.discover_symmetries`, or a precomputed symmetric basis
        (for constraints built by hand, see
        :func:`symsindy.equivariance.basis_from_constraints`). A trivial group
        (``SymmetryGroup(n=...)``) constrains nothing and accepts any library.
    threshold : float, default 0.1
        Terms whose (leading) coefficient is smaller in magnitude are removed.
    alpha : float, default 0.05
        Ridge penalty ``alpha ||c||^2``.
    max_iter : int, default 20
        At most this many threshold-and-refit rounds; ``0`` returns the
        initial ridge fit (with a ConvergenceWarning).
    ridge_kw : dict, optional
        As in ``ps.STLSQ``. Keys that only choose sklearn's ridge solver
        (``solver``, ``tol``, ``max_iter``, ``random_state``) are accepted and do
        not change the exact ridge solution computed here; others raise.
    normalize_columns : bool, default False
        Threshold in units where every symmetric term's design column has unit
        norm (the symmetric analogue of pysindy's option).
    copy_X : bool, default True
    initial_guess : array (n_targets, n_features), optional
        Projected onto the symmetric models and used as the first iterate.
    verbose : bool, default False
        Print the residual, ridge term and support size at every round.
    sparse_ind : list of int, optional
        Library columns subject to thresholding and ridge. A symmetric term is
        thresholded only when every column it uses is listed. Unlike
        ``ps.STLSQ``, ``coef_`` keeps all columns.
    unbias : bool, default True
        Refit without ridge on the final support, inside the symmetric subspace.
    library : Monomials or pysindy library, optional
        Needed only when the library cannot be inferred from the data (e.g.
        ``fit_statistics``, or a weak-form library fitted outside ``ps.SINDy``:
        pass the ``WeakPDELibrary``; inside ``ps.SINDy`` the model's weak library
        is read).
    output : {"vector", "invariant"}, default "vector"
        ``"invariant"`` fits invariant scalar function(s) instead of vector fields.
    input_action : SymmetryGroup or LieAlgebra, optional
        How the group acts on control inputs (default: inputs unchanged); see
        :func:`symsindy.control.control_action`.

    Attributes
    ----------
    coef_ : ndarray (n_targets, n_features)
    reduced_coef_ : ndarray (n_terms,)
    basis_ : EquivariantBasis
    symmetry_ : SymmetryGroup
    n_iter_ : int
    converged_ : bool
        Whether the support stopped changing before ``max_iter``.
    history_ : list of ndarray

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
        ridge_kw: dict | None = None,
        normalize_columns: bool = False,
        copy_X: bool = True,
        initial_guess=None,
        verbose: bool = False,
        sparse_ind=None,
        unbias: bool = True,
        library=None,
        output="vector",
        input_action=None,
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
            verbose=verbose,
            input_action=input_action,
        )
        self.threshold = threshold
        self.alpha = alpha
        self.ridge_kw = ridge_kw
        self.sparse_ind = sparse_ind

    def _check_params(self) -> None:
        super()._check_params()
        check_scalar("threshold", self.threshold, low=0)
        check_scalar("alpha", self.alpha, low=0)
        kw = self.ridge_kw or {}
        if not isinstance(kw, dict):
            raise TypeError(f"ridge_kw must be a dict or None, got {kw!r}")
        unsupported = sorted(set(kw) - _SOLVER_ONLY_RIDGE_KW)
        if unsupported:
            raise ValueError(
                f"ridge_kw keys {unsupported} are not supported: the ridge step is "
                "solved exactly in symmetric coordinates (accepted keys: "
                f"{sorted(_SOLVER_ONLY_RIDGE_KW)})"
            )

    def _sparse_terms(self) -> np.ndarray:
        """Which reduced coordinates are thresholded (``sparse_ind``)."""
        Q = self.basis_.Q.tocsc()
        if self.sparse_ind is None:
            return np.ones(Q.shape[1], dtype=bool)
        f = len(self.basis_.library)
        listed = np.zeros(f, dtype=bool)
        try:
            listed[np.asarray(self.sparse_ind, dtype=int)] = True
        except (IndexError, ValueError, TypeError):
            raise ValueError(
                f"sparse_ind must list library columns in [0, {f}), got "
                f"{self.sparse_ind!r}"
            ) from None
        features = Q.indices % f
        per_column = np.split(listed[features], Q.indptr[1:-1])
        return np.array([bool(np.all(col)) for col in per_column])

    def _solve(self, problem: ReducedLeastSquares, c0):
        sparse_terms = self._sparse_terms()
        ridge = self.alpha * sparse_terms
        active = np.ones(problem.n_terms, dtype=bool)
        c = problem.solve(active, ridge) if c0 is None else c0
        history = [c.copy()]
        for k in range(self.max_iter):
            self.n_iter_ = k + 1
            new_active = active & ((np.abs(c) >= self.threshold) | ~sparse_terms)
            if not new_active.any():
                warnings.warn(
                    f"threshold {self.threshold} removed every symmetric term; "
                    "the fitted model is zero",
                    stacklevel=4,
                )
                c = np.zeros(problem.n_terms)
                history.append(c)
                self.converged_ = True
                break
            c = problem.solve(new_active, ridge)
            history.append(c.copy())
            if self.verbose:
                print(
                    f"iteration {k}: |y - Xw|^2 = {problem.residual(c):.4e}, "
                    f"a |w|^2 = {self.alpha * np.sum(c[sparse_terms] ** 2):.4e}, "
                    f"{int(new_active.sum())} active terms"
                )
            if np.array_equal(new_active, active):
                self.converged_ = True
                break
            active = new_active
        if not self.converged_:
            self._warn_not_converged("the support was still changing")
        return c, history
