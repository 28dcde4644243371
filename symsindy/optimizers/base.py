"""Shared machinery of the symmetric optimizers.

pysindy hands an optimizer only the library matrix ``Theta`` and the targets,
never the library itself, so the monomial exponents are inferred from the
number of features and the symmetry's state dimension (and checked against the
data), or taken from an explicit ``library`` argument.
"""

from __future__ import annotations

import abc

import numpy as np
from pysindy.optimizers import BaseOptimizer
from sklearn.utils.validation import check_is_fitted

from .._validation import check_finite, validate_xy
from ..group import SymmetryGroup
from ..lie_derivative import resolve_basis
from ..polynomials import Monomials, n_monomials

__all__ = [
    "DirectFitOptimizer",
    "SymmetricOptimizer",
    "check_finite",
    "infer_basis",
    "validate_xy",
]


def infer_basis(
    n_features: int, n_vars: int, theta: np.ndarray | None = None
) -> Monomials:
    """The full polynomial library in ``n_vars`` variables with ``n_features`` terms.

    With ``theta`` (the library matrix) the guess is verified: its degree-1
    columns are taken as the states and every other column must equal the
    corresponding monomial. This catches control inputs and custom libraries.

    Raises
    ------
    ValueError
        When no polynomial library (with or without bias) has ``n_features``
        terms, or when ``theta`` is not that library.
    """
    matches = []
    for bias in (True, False):
        degree = 1
        while n_monomials(n_vars, degree, 0 if bias else 1) < n_features:
            degree += 1
        if n_monomials(n_vars, degree, 0 if bias else 1) == n_features:
            matches.append(Monomials(n_vars, degree, 0 if bias else 1))
    if not matches:
        raise ValueError(
            f"the library matrix has {n_features} columns, which matches no full "
            f"polynomial library in {n_vars} state variables; pass library=... "
            "(control inputs and non-polynomial libraries are not supported)"
        )
    if theta is None:
        if len(matches) > 1:
            raise ValueError(
                f"{n_features} features fit more than one polynomial library in "
                f"{n_vars} variables ({matches}); pass library=..."
            )
        return matches[0]
    errors = []
    for basis in matches:  # e.g. n = 1: degree d with bias vs d + 1 without
        try:
            _verify_library(basis, theta)
            return basis
        except ValueError as err:
            errors.append(err)
    raise errors[0]


def _verify_library(basis: Monomials, theta: np.ndarray) -> None:
    theta = np.asarray(theta, dtype=float)[:50]
    expected = basis.evaluate(basis.states(theta))
    scale = np.abs(expected).max() + 1e-300
    if not np.allclose(theta, expected, atol=1e-8 * scale, rtol=1e-8):
        raise ValueError(
            f"the library matrix is not the polynomial library of degree "
            f"{basis.max_degree} in {basis.n_vars} variables (in pysindy order); "
            "pass library=... or use a PolynomialLibrary/LiePolynomialLibrary"
        )


class DirectFitOptimizer(BaseOptimizer):
    """A pysindy optimizer that implements ``fit`` itself.

    ``set_params`` returns ``self`` as scikit-learn requires (pysindy's returns
    None, which breaks ``GridSearchCV``).
    """

    def set_params(self, **params):
        super(BaseOptimizer, self).set_params(**params)
        return self

    def _reduce(self, x, y):
        """pysindy's fitting hook; ``fit`` here does the whole job, so delegate."""
        self.fit(x, y)


class SymmetricOptimizer(DirectFitOptimizer):
    """Base class: validation, library inference and the symmetric subspace.

    Subclasses implement :meth:`_solve`, which works on the reduced normal
    equations ``H c = b`` of ``min ||(I kron Theta) Q c - vec(Y)||^2``.

    ``BaseOptimizer.fit`` is replaced, not extended: it drops NaN samples
    silently and unbiases coefficient-wise, which would leave the symmetric
    subspace; here NaN is an error and unbiasing happens in reduced coordinates.
    """

    def __init__(
        self,
        symmetry=None,
        library=None,
        output="vector",
        max_iter: int = 20,
        normalize_columns: bool = False,
        unbias: bool = True,
        copy_X: bool = True,
        initial_guess=None,
    ):
        super().__init__(
            max_iter=max_iter,
            normalize_columns=normalize_columns,
            initial_guess=initial_guess,
            copy_X=copy_X,
            unbias=unbias,
        )
        self.symmetry = symmetry
        self.library = library
        self.output = output

    # ------------------------------------------------------------- fitting
    def _resolve(self, n_features: int, n_targets: int, theta):
        from ..equivariance import EquivariantBasis, equivariant_basis

        if isinstance(self.symmetry, EquivariantBasis):
            basis = self.symmetry
            expected = (basis.n_targets, len(basis.library))
            if (n_targets, n_features) != expected:
                raise ValueError(
                    f"the symmetric basis is for {expected[0]} targets and "
                    f"{expected[1]} features, got {n_targets} and {n_features}"
                )
            return None, basis
        group = SymmetryGroup.coerce(self.symmetry)
        if self.output == "vector" and n_targets != group.n:
            raise ValueError(
                f"the symmetry acts on R^{group.n} but y has {n_targets} columns; "
                "a vector field needs one derivative per state (use "
                "output='invariant' for scalar functions)"
            )
        if self.library is not None:
            basis = resolve_basis(self.library, group.n)
        else:
            basis = infer_basis(n_features, group.n, theta)
        if len(basis) != n_features:
            raise ValueError(
                f"library has {len(basis)} features but x has {n_features} columns"
            )
        return group, equivariant_basis(basis, group, self.output, n_targets)

    def fit(self, x_, y, sample_weight=None):
        """Fit on the library matrix ``x_`` and targets ``y``.

        Parameters
        ----------
        x_ : array (n_samples, n_features)
            Library matrix ``Theta``.
        y : array (n_samples, n_targets) or (n_samples,)
            Time derivatives (or function values).
        sample_weight : array (n_samples,), optional

        Returns
        -------
        self
        """
        x, y = validate_xy(x_, y)
        self.Theta_ = x
        group, basis = self._resolve(x.shape[1], y.shape[1], x)
        if sample_weight is not None:
            w = np.sqrt(check_finite("sample_weight", sample_weight)).reshape(-1, 1)
            x, y = x * w, y * w
        H, b = _reduced_normal_equations(basis, x, y)
        scale = np.sqrt(np.diag(H)) if self.normalize_columns else np.ones(len(b))
        scale[scale == 0] = 1.0
        Hs, bs = H / np.outer(scale, scale), b / scale
        c, history = self._solve(Hs, bs, self._initial_reduced(basis, scale))
        if self.unbias:
            c = _unbias(Hs, bs, c)
        c = c / scale
        self.symmetry_ = group
        self.basis_ = basis
        self.reduced_coef_ = c
        self.coef_ = basis.to_coef(c)
        self.history_ = [basis.to_coef(h / scale) for h in history]
        self.ind_ = np.abs(self.coef_) > 1e-14
        self.intercept_ = 0.0
        self.n_features_in_ = x.shape[1]
        return self

    def _initial_reduced(self, basis, scale):
        if self.initial_guess is None:
            return None
        guess = np.asarray(self.initial_guess, dtype=float)
        expected = (basis.n_targets, len(basis.library))
        if guess.shape != expected:
            raise ValueError(
                f"initial_guess must have shape {expected}, got {guess.shape}"
            )
        return basis.project(guess) * scale

    @abc.abstractmethod
    def _solve(self, H, b, c0):
        """Reduced coordinates and their history from ``H c = b`` (start ``c0``)."""

    # ------------------------------------------------------------ reporting
    def equivariance_residual(self) -> float:
        """``||K vec(coef_)|| / ||coef_||``: 0 up to rounding for every fit."""
        check_is_fitted(self, "coef_")
        return self.basis_.residual(self.coef_)

    def symmetric_terms(self, feature_names=None, target_names=None) -> list[str]:
        """The active symmetric terms with their fitted coefficients."""
        check_is_fitted(self, "coef_")
        terms = self.basis_.terms(feature_names, target_names)
        return [
            f"{c:+.4g} * [{term}]"
            for c, term in zip(self.reduced_coef_, terms, strict=True)
            if c != 0
        ]


def _reduced_normal_equations(basis, x, y):
    """``H = sum_i Q_i^T X^T X Q_i`` and ``b = sum_i Q_i^T X^T y_i``.

    Only the ``f x f`` Gram matrix of the library is formed, never the
    ``(n_samples * n_targets) x n_terms`` reduced design.
    """
    f, t = x.shape[1], y.shape[1]
    gram, xty = x.T @ x, x.T @ y
    Q = basis.Q.tocsr()
    H = np.zeros((basis.n_terms, basis.n_terms))
    b = np.zeros(basis.n_terms)
    for i in range(t):
        Qi = Q[i * f : (i + 1) * f]
        if Qi.nnz == 0:
            continue
        GQ = Qi.T @ gram  # (r, f) dense
        H += np.asarray(Qi.T @ GQ.T)
        b += Qi.T @ xty[:, i]
    return H, b


def _unbias(H, b, c):
    """Unregularised least squares on the support, inside the subspace."""
    support = np.nonzero(c)[0]
    out = np.zeros_like(c)
    if support.size:
        sol, *_ = np.linalg.lstsq(H[np.ix_(support, support)], b[support], rcond=None)
        out[support] = sol
    return out
