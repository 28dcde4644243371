"""Shared machinery of the symmetric optimizers.

pysindy hands an optimizer only the library matrix ``Theta`` and the targets,
never the library itself, so the monomial exponents are inferred from the
number of features and the symmetry's state dimension (and checked against the
data), or taken from an explicit ``library`` argument. Extra polynomial
variables beyond the symmetry's states are control inputs (pysindy puts them
after the states).

Every least-squares step runs on the column-scaled reduced design, in the
square-root form of :mod:`symsindy.optimizers.reduced`; the optimizers can fit
from raw rows (:meth:`SymmetricOptimizer.fit`) or from sufficient statistics
(:meth:`SymmetricOptimizer.fit_statistics`).
"""

from __future__ import annotations

import abc
import numbers
import sys
import warnings

import numpy as np
from pysindy import PolynomialLibrary
from pysindy.optimizers import BaseOptimizer
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.utils.validation import check_is_fitted

from .._validation import (
    check_finite,
    check_sample_weight,
    check_scalar,
    validate_xy,
)
from ..group import SymmetryGroup
from ..inference import enforcement_test
from ..lie_derivative import resolve_basis
from ..polynomials import Monomials, n_monomials
from ..regression_data import ArrayStatistics
from ..tolerances import LIBRARY_MATCH_RTOL, SUPPORT_TOL
from .reduced import ReducedLeastSquares

__all__ = [
    "DirectFitOptimizer",
    "SymmetricOptimizer",
    "check_finite",
    "infer_basis",
    "validate_xy",
]

#: Rows of ``Theta`` used to check that it is the inferred polynomial library.
_VERIFY_ROWS = 200


def _library_matches(n_features: int, n_vars: int) -> list[Monomials]:
    """Full polynomial libraries (with or without bias) with ``n_features`` terms."""
    matches = []
    for bias in (True, False):
        degree = 1
        while n_monomials(n_vars, degree, 0 if bias else 1) < n_features:
            degree += 1
        if n_monomials(n_vars, degree, 0 if bias else 1) == n_features:
            matches.append(Monomials(n_vars, degree, 0 if bias else 1))
    return matches


def infer_basis(
    n_features: int, n_vars: int, theta: np.ndarray | None = None
) -> Monomials:
    """The full polynomial library in ``n_vars`` variables with ``n_features`` terms.

    With ``theta`` (the library matrix) the guess is verified: its degree-1
    columns are taken as the states and every other column must equal the
    corresponding monomial. This catches custom libraries.

    Raises
    ------
    ValueError
        When no polynomial library (with or without bias) has ``n_features``
        terms, or when ``theta`` is not that library.
    """
    matches = _library_matches(n_features, n_vars)
    if not matches:
        raise ValueError(
            f"the library matrix has {n_features} columns, which matches no full "
            f"polynomial library in {n_vars} state variables; pass library=... "
            "(non-polynomial libraries are not supported)"
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


def infer_basis_with_inputs(
    n_features: int, n_states: int, theta: np.ndarray
) -> Monomials:
    """Like :func:`infer_basis`, also trying ``n_states + m`` variables (inputs).

    Control inputs are recognised only at degree >= 2, where the data can
    confirm them: a linear library in ``k`` variables is indistinguishable from
    any ``k`` columns.
    """
    try:
        return infer_basis(n_features, n_states, theta)
    except ValueError as err:
        first = err
    k = n_states + 1
    while n_monomials(k, 2, 1) <= n_features:
        for basis in _library_matches(n_features, k):
            if basis.max_degree >= 2:
                try:
                    _verify_library(basis, theta)
                    return basis
                except ValueError:
                    pass
        k += 1
    raise ValueError(
        f"{first} The columns are not a polynomial library in the {n_states} "
        "states plus control inputs either."
    ) from None


def _verify_library(basis: Monomials, theta: np.ndarray) -> None:
    theta = np.asarray(theta, dtype=float)
    rows = np.unique(np.linspace(0, len(theta) - 1, _VERIFY_ROWS).astype(int))
    theta = theta[rows]
    expected = basis.evaluate(basis.states(theta))
    scale = np.abs(expected).max() + 1e-300
    if not np.allclose(
        theta,
        expected,
        atol=LIBRARY_MATCH_RTOL * scale,
        rtol=LIBRARY_MATCH_RTOL,
    ):
        raise ValueError(
            f"the library matrix is not the polynomial library of degree "
            f"{basis.max_degree} in {basis.n_vars} variables (in pysindy order); "
            "pass library=... or use a PolynomialLibrary/LiePolynomialLibrary"
        )


def library_basis(library, n_vars: int) -> Monomials:
    """The monomials of ``library``: a Monomials, a polynomial library, or a
    weak-form library (pysindy ``WeakPDELibrary``) whose function library is
    polynomial. A fitted library keeps its own variable count (states and
    inputs); an unfitted one is taken to run over ``n_vars`` variables."""
    inner = getattr(library, "function_library", None)
    if inner is not None:
        if not isinstance(inner, Monomials | PolynomialLibrary):
            raise TypeError(
                f"the weak-form library's function_library is a "
                f"{type(inner).__name__}; a symmetric optimizer needs a polynomial "
                "function library (PolynomialLibrary or LiePolynomialLibrary). "
                "Non-polynomial libraries work only with the trivial symmetry"
            )
        extra = getattr(library, "derivative_order", 0) or getattr(
            library, "implicit_terms", False
        )
        if extra or getattr(library, "include_bias", False):
            raise ValueError(
                "a weak-form library is supported when it is the plain weak form of "
                "a polynomial library (derivative_order=0, include_bias=False, no "
                "implicit terms)"
            )
        library = inner
    if isinstance(library, Monomials):
        return library
    fitted = getattr(library, "n_features_in_", None)
    return resolve_basis(library, None if fitted is not None else n_vars)


class _PlainFeatures:
    """Columns with no polynomial structure (used with the trivial symmetry)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def names(self, variables=None) -> list[str]:
        return [f"f{j}" for j in range(self.n)]


def _trivial_basis(features, n_targets: int):
    from ..equivariance import EquivariantBasis

    size = n_targets * len(features)
    Q = sparse.identity(size, format="csc")
    return EquivariantBasis(
        Q, np.arange(size), features, n_targets, sparse.csr_matrix((0, size))
    )


def is_trivial(group: SymmetryGroup) -> bool:
    """A group with no generators and no discrete elements constrains nothing."""
    return group.dim == 0 and not group.discrete


class DirectFitOptimizer(BaseOptimizer):
    """A pysindy optimizer that implements ``fit`` itself.

    ``__init__`` only stores arguments (pysindy's validates in ``__init__``,
    against scikit-learn's contract); ``set_params`` returns ``self`` as
    scikit-learn requires (pysindy's returns None, which breaks
    ``GridSearchCV``).
    """

    def __init__(
        self,
        max_iter: int = 20,
        normalize_columns: bool = False,
        initial_guess=None,
        copy_X: bool = True,
        unbias: bool = True,
    ):
        LinearRegression.__init__(self, fit_intercept=False, copy_X=copy_X)
        self.max_iter = max_iter
        self.normalize_columns = normalize_columns
        self.initial_guess = initial_guess
        self.unbias = unbias

    def set_params(self, **params):
        super(BaseOptimizer, self).set_params(**params)
        return self

    def _reduce(self, x, y):
        """pysindy's fitting hook; ``fit`` here does the whole job, so delegate."""
        self.fit(x, y)


class SymmetricOptimizer(DirectFitOptimizer):
    """Base class: validation, library inference and the symmetric subspace.

    Subclasses implement :meth:`_solve` on a :class:`ReducedLeastSquares`
    problem ``min ||(I kron Theta) Q c - vec(Y)||^2`` and :meth:`_check_params`.

    ``BaseOptimizer.fit`` is replaced, not extended: it drops NaN samples
    silently and unbiases coefficient-wise, which would leave the symmetric
    subspace; here NaN is an error and unbiasing happens in reduced coordinates.

    Convergence contract (all subclasses): ``n_iter_`` iterations were run,
    ``converged_`` says whether the stopping rule was met before ``max_iter``,
    and a ``sklearn.exceptions.ConvergenceWarning`` is issued when it was not.
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
        verbose: bool = False,
        input_action=None,
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
        self.verbose = verbose
        self.input_action = input_action

    # --------------------------------------------------------- validation
    def _check_params(self) -> None:
        """Validate the parameters (called by ``fit``, as scikit-learn does)."""
        check_scalar("max_iter", self.max_iter, low=0, integer=True)
        for name in ("normalize_columns", "unbias", "copy_X", "verbose"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                value = getattr(self, name)
                raise TypeError(f"{name} must be True or False, got {value!r}")

    # ------------------------------------------------------------- fitting
    def _resolve(self, n_features: int, n_targets: int, theta, weak=None):
        """The group and the symmetric basis for ``Theta``'s shape.

        ``weak`` is the weak-form library of the enclosing ``ps.SINDy`` (see
        :func:`_enclosing_weak_library`), used when ``library`` is not given.
        """
        from ..control import control_action, control_constraints
        from ..equivariance import (
            EquivariantBasis,
            basis_from_constraints,
            equivariant_basis,
        )

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
        if is_trivial(group) and self.input_action is None:
            features = (
                library_basis(self.library, group.n)
                if self.library is not None
                else _PlainFeatures(n_features)
            )
            _check_feature_count(features, n_features)
            return group, _trivial_basis(features, n_targets)
        if self.output == "vector" and n_targets != group.n:
            raise ValueError(
                f"the symmetry acts on R^{group.n} but y has {n_targets} columns; "
                "a vector field needs one derivative per state (use "
                "output='invariant' for scalar functions)"
            )
        library = self.library if self.library is not None else weak
        if library is not None:
            basis = library_basis(library, group.n + self._n_inputs_hint())
        elif theta is None:
            basis = infer_basis(n_features, group.n + self._n_inputs_hint())
        else:
            basis = infer_basis_with_inputs(n_features, group.n, theta)
        _check_feature_count(basis, n_features)
        n_inputs = basis.n_vars - group.n
        if n_inputs < 0:
            raise ValueError(
                f"the library has {basis.n_vars} variables but the symmetry acts on "
                f"R^{group.n}"
            )
        if n_inputs == 0 and self.input_action is None:
            return group, equivariant_basis(basis, group, self.output, n_targets)
        action = control_action(group, n_inputs, self.input_action)
        K = control_constraints(basis, action, self.output, n_targets)
        return group, basis_from_constraints(K, basis)

    def _n_inputs_hint(self) -> int:
        action = self.input_action
        return 0 if action is None else int(action.n)

    def fit(self, x_, y, sample_weight=None):
        """Fit on the library matrix ``x_`` and targets ``y``.

        Parameters
        ----------
        x_ : array (n_samples, n_features)
            Library matrix ``Theta``.
        y : array (n_samples, n_targets) or (n_samples,)
            Time derivatives (or function values).
        sample_weight : array (n_samples,), optional
            Non-negative weights; an integer weight equals repeating the sample.

        Returns
        -------
        self
        """
        x, y = validate_xy(x_, y)
        weights = check_sample_weight(sample_weight, x.shape[0])
        self._check_params()
        caller = sys._getframe(1)
        _join_ensemble(self, caller)
        weak = _enclosing_weak_library(self, caller)
        self.Theta_ = x
        group, basis = self._resolve(x.shape[1], y.shape[1], x, weak)
        if weights is not None:
            root = np.sqrt(weights)[:, None]
            x, y = x * root, y * root
        problem = ReducedLeastSquares.from_rows(basis.Q, x, y)
        self._fit_problem(problem, group, basis, x.shape[1])
        if hasattr(self.library, "function_library") or weak is not None:
            # Weak-form rows are integrals over overlapping subdomains in random
            # order: strongly correlated, with no time order to estimate the
            # correlation from, so the test's noise estimate would be far too
            # small (it rejects true symmetries at 1% noise, more so as K grows).
            self.enforcement_test_ = None
        else:
            self._check_enforcement(group, basis, lambda: ArrayStatistics(x, y))
        return self

    def fit_statistics(self, stats):
        """Fit from sufficient statistics instead of raw rows.

        Parameters
        ----------
        stats : object with attributes
            ``gram`` (f, f) ``= Theta^T W Theta``, ``xty`` (f, t) ``= Theta^T W Y``,
            ``yty`` (t, t) ``= Y^T W Y`` and ``n_samples`` (int), e.g. accumulated
            over chunks of data that never fit in memory together. The library
            cannot be checked against data here: pass ``library=`` when the
            feature count is ambiguous.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> from symsindy import EquivariantSTLSQ, LieAlgebra, Monomials
        >>> x = np.random.default_rng(0).normal(size=(100, 2))
        >>> theta = Monomials(2, 1, 1).evaluate(x)
        >>> y = x @ np.array([[-1.0, 2.0], [-2.0, -1.0]])   # a I + b J, symmetric
        >>> stats = SimpleNamespace(gram=theta.T @ theta, xty=theta.T @ y,
        ...                         yty=y.T @ y, n_samples=100)
        >>> opt = EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.1)
        >>> opt.fit_statistics(stats).coef_.round(6).tolist()
        [[-1.0, -2.0], [2.0, -1.0]]
        """
        gram, xty, yty = _check_statistics(stats)
        self._check_params()
        group, basis = self._resolve(gram.shape[0], xty.shape[1], None)
        problem = ReducedLeastSquares.from_statistics(
            basis.Q, gram, xty, float(np.trace(yty))
        )
        self._fit_problem(problem, group, basis, gram.shape[0])
        if hasattr(stats, "rss") and hasattr(stats, "residual_autocovariance"):
            self._check_enforcement(group, basis, lambda: stats)
        else:
            self.enforcement_test_ = None
        return self

    def _check_enforcement(self, group, basis, make_stats) -> None:
        """Warn when the data contradict the enforced symmetry (``enforcement_test_``).

        The likelihood-ratio test of discovery (:mod:`symsindy.inference`)
        compares the least-squares fits with and without the symmetry; a
        rejection at level 1e-3 means the symmetry does not hold for these data
        (a wrong group, wrong coordinates, or a broken symmetry).
        """
        self.enforcement_test_ = None
        n_features = len(basis.library)
        if group is None or is_trivial(group) or n_features > _MAX_CHECKED_FEATURES:
            return
        test = enforcement_test(make_stats(), basis.Q)
        self.enforcement_test_ = test
        if test is not None and not test.accepted:
            warnings.warn(
                "the data contradict the enforced symmetry: "
                f"{test.sentence()}. Check the group, the coordinates it acts on "
                "and the library's degree",
                UserWarning,
                stacklevel=3,
            )

    def _fit_problem(self, problem, group, basis, n_features: int):
        unit = problem.scale if self.normalize_columns else np.ones(problem.n_terms)
        scaled = problem.rescaled(unit)
        c0 = self._initial_reduced(basis, unit)
        self.symmetry_ = group
        self.basis_ = basis
        self.n_iter_, self.converged_ = 0, False
        c, history = self._solve(scaled, c0)
        if self.unbias:
            c = scaled.solve(c != 0)
        c = c / unit
        self.reduced_coef_ = c
        self.coef_ = basis.to_coef(c)
        self.history_ = [basis.to_coef(h / unit) for h in history]
        self.ind_ = np.abs(self.coef_) > SUPPORT_TOL
        self.intercept_ = 0.0
        self.n_features_in_ = n_features
        self.iters = self.n_iter_
        return self

    def _initial_reduced(self, basis, unit):
        if self.initial_guess is None:
            return None
        guess = check_finite("initial_guess", self.initial_guess)
        expected = (basis.n_targets, len(basis.library))
        if guess.ndim == 1 and expected[0] == 1:
            guess = guess.reshape(1, -1)
        if guess.shape != expected:
            raise ValueError(
                f"initial_guess must have shape {expected}, got {guess.shape}"
            )
        return basis.project(guess) * unit

    @abc.abstractmethod
    def _solve(self, problem: ReducedLeastSquares, c0):
        """Reduced coordinates and their history (start ``c0``, or None).

        Must set ``n_iter_`` and ``converged_`` (and warn through
        :meth:`_warn_not_converged`).
        """

    def _warn_not_converged(self, detail: str) -> None:
        warnings.warn(
            f"{type(self).__name__} did not converge in {self.max_iter} iterations "
            f"({detail}); increase max_iter",
            ConvergenceWarning,
            stacklevel=4,
        )

    # ------------------------------------------------------------ reporting
    def equivariance_residual(self) -> float:
        """``||K vec(coef_)|| / ||coef_||``: 0 up to rounding for every fit.

        Measured on ``coef_`` as it is now, so it stays honest when a wrapper
        (such as ``ps.EnsembleOptimizer``) replaces the coefficients.
        """
        check_is_fitted(self, "coef_")
        return self.basis_.residual(np.asarray(self.coef_))

    def symmetric_terms(self, feature_names=None, target_names=None) -> list[str]:
        """The active symmetric terms with their fitted coefficients."""
        check_is_fitted(self, "coef_")
        terms = self.basis_.terms(feature_names, target_names)
        return [
            f"{c:+.4g} * [{term}]"
            for c, term in zip(self.reduced_coef_, terms, strict=True)
            if c != 0
        ]


def _enclosing(optimizer, frame, cls, attr: str):
    """The ``cls`` instance whose method called ``optimizer.fit``, and its frame.

    ``frame`` is the caller of ``optimizer.fit``; frames of ``optimizer``'s own
    methods (subclasses' fit wrappers) are skipped. The caller counts only when
    it is a ``cls`` holding ``optimizer`` as its ``attr``; otherwise ``(None,
    None)``.
    """
    while frame is not None and frame.f_locals.get("self") is optimizer:
        frame = frame.f_back
    caller = frame.f_locals.get("self") if frame is not None else None
    if isinstance(caller, cls) and getattr(caller, attr, None) is optimizer:
        return caller, frame
    return None, None


def _enclosing_weak_library(optimizer, frame):
    """The weak-form feature library of the ``ps.SINDy`` fitting ``optimizer``.

    pysindy hands the optimizer only the weak-form feature matrix (integrals
    of the library's functions against test functions), which cannot be
    checked against monomials of the states; the monomials come from the
    enclosing model's ``WeakPDELibrary.function_library`` instead. The model
    calls ``optimizer.fit`` directly or through a ``ps.EnsembleOptimizer``.
    Only a weak-form library (one with a ``function_library``) is returned:
    any other library keeps the inference and verification from ``Theta``.
    """
    from pysindy import DiscreteSINDy, SINDy
    from pysindy.optimizers import EnsembleOptimizer

    ensemble, ensemble_frame = _enclosing(optimizer, frame, EnsembleOptimizer, "opt")
    if ensemble is not None:
        optimizer, frame = ensemble, ensemble_frame
    model, _ = _enclosing(optimizer, frame, SINDy | DiscreteSINDy, "optimizer")
    library = getattr(model, "feature_library", None)
    return library if hasattr(library, "function_library") else None


def _join_ensemble(optimizer, frame) -> None:
    """Make a calling ``ps.EnsembleOptimizer`` aggregate in symmetric coordinates.

    pysindy's ensemble calls ``opt.fit`` once per member and then takes the
    coordinate-wise median of the members' ``coef_``, which leaves the
    symmetric subspace (the median does not commute with constraints such as
    ``a = b + c``), and it offers no hook for its inner optimizer. So when the
    caller is an ``EnsembleOptimizer`` wrapping this optimizer, its aggregator
    is replaced by :class:`SymmetricAggregate` (a median in reduced
    coordinates, or the user's aggregator projected onto the subspace).
    Library ensembles drop single columns, which a symmetric term spans
    together, so they are refused.
    """
    from pysindy.optimizers import EnsembleOptimizer

    caller, _ = _enclosing(optimizer, frame, EnsembleOptimizer, "opt")
    if caller is None:
        return
    from ..equivariance import EquivariantBasis

    symmetry = optimizer.symmetry
    if not isinstance(symmetry, EquivariantBasis):
        symmetry = SymmetryGroup.coerce(symmetry)
        if is_trivial(symmetry) and optimizer.input_action is None:
            return  # no constraint to keep: pysindy's ensembles work unchanged
    if caller.library_ensemble:
        raise ValueError(
            "library_ensemble=True is not supported with a symmetric optimizer: it "
            "drops single library columns, but a symmetric term spans several "
            "columns together; use bagging=True"
        )
    agg = caller.ensemble_aggregator
    if isinstance(agg, SymmetricAggregate):
        if agg.optimizer is optimizer:
            return
        agg = agg.inner
    caller.ensemble_aggregator = SymmetricAggregate(optimizer, agg)


class SymmetricAggregate:
    """Aggregate ensemble members without leaving the symmetric subspace.

    With no ``inner`` aggregator this is the median of the members' reduced
    coordinates (pysindy's default median, taken in symmetric coordinates);
    otherwise ``inner``'s result projected onto the symmetric models. The
    aggregate also becomes the optimizer's ``coef_``, so
    ``equivariance_residual`` measures the coefficients the model uses.
    """

    def __init__(self, optimizer: SymmetricOptimizer, inner=None):
        self.optimizer = optimizer
        self.inner = inner

    def __call__(self, coef_list) -> np.ndarray:
        opt = self.optimizer
        basis = opt.basis_
        members = np.asarray(coef_list, dtype=float)
        if self.inner is None:
            flat = members.reshape(len(members), -1)
            reduced = np.median(flat[:, basis.pivots], axis=0)
        else:
            reduced = basis.project(np.asarray(self.inner(coef_list), dtype=float))
        opt.reduced_coef_ = reduced
        opt.coef_ = basis.to_coef(reduced)
        opt.ind_ = np.abs(opt.coef_) > SUPPORT_TOL
        return opt.coef_


#: Above this many library features the enforcement check is skipped (its
#: least-squares reference fit would dominate the cost of the fit itself).
_MAX_CHECKED_FEATURES = 1000


def _check_feature_count(basis, n_features: int) -> None:
    if len(basis) != n_features:
        raise ValueError(
            f"library has {len(basis)} features but x has {n_features} columns"
        )


def _check_statistics(stats):
    """Finite, consistently shaped sufficient statistics."""
    missing = [a for a in ("gram", "xty", "yty", "n_samples") if not hasattr(stats, a)]
    if missing:
        raise TypeError(
            "stats must have attributes gram, xty, yty and n_samples; missing "
            + ", ".join(missing)
        )
    gram = check_finite("stats.gram", stats.gram)
    xty = check_finite("stats.xty", stats.xty)
    yty = check_finite("stats.yty", stats.yty)
    if xty.ndim == 1:
        xty = xty[:, None]
    yty = np.atleast_2d(yty)
    f = gram.shape[0] if gram.ndim == 2 else -1
    if gram.ndim != 2 or gram.shape != (f, f):
        raise ValueError(f"stats.gram must be square (f, f), got {gram.shape}")
    if xty.shape[0] != f:
        raise ValueError(
            f"stats.xty must have {f} rows (one per feature), got {xty.shape}"
        )
    t = xty.shape[1]
    if yty.shape != (t, t):
        raise ValueError(f"stats.yty must be ({t}, {t}), got {yty.shape}")
    n = stats.n_samples
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"stats.n_samples must be a positive integer, got {n!r}")
    if not np.allclose(gram, gram.T, rtol=1e-10, atol=0.0):
        raise ValueError("stats.gram must be symmetric")
    return gram, xty, yty
