"""A plain scikit-learn estimator for symmetric SINDy models.

``ps.SINDy.fit(x, t)`` does not fit scikit-learn's ``fit(X, y)`` contract, so it
cannot be a ``Pipeline`` step. :class:`SymmetricSINDyRegressor` takes states in
and derivatives out (compute them once with
:func:`symsindy.trajectories.stack_trajectories`), so it
composes with ``Pipeline``, ``clone``, ``cross_val_score`` and ``GridSearchCV``.

Symmetries are always stated in the coordinates of the data the user holds.
Inside :class:`SymmetricPipeline` the symmetry is carried through the fitted
(affine) preprocessing steps, so the final model is exactly symmetric in the
original coordinates (:mod:`symsindy.transport`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from .group import SymmetryGroup
from .library import LiePolynomialLibrary

__all__ = ["SymmetricSINDyRegressor", "SymmetricPipeline", "make_symmetric_pipeline"]


class SymmetricSINDyRegressor(RegressorMixin, BaseEstimator):
    """Polynomial SINDy regression ``y = F(X)`` with a symmetry enforced or promoted.

    Parameters
    ----------
    degree : int, default 3
        Degree of the polynomial library.
    include_bias : bool, default True
    symmetry : SymmetryGroup, LieAlgebra or generator matrices, optional
        Enforce this group (in the coordinates of ``X`` as given to the pipeline).
    candidates : LieAlgebra, optional
        Promote symmetry inside this candidate algebra instead
        (:class:`symsindy.SymmetryPromotingSR3`).
    optimizer : {"stlsq", "sr3"}, default "stlsq"
        Sparse regression used when enforcing and for a plain fit: the same
        algorithm (:class:`EquivariantSTLSQ` or an unbiased
        :class:`EquivariantSR3`), without a symmetry run with the trivial group.
    threshold : float, default 0.1
    alpha : float, default 0.05
        Ridge penalty of STLSQ.
    sym_weight : float, default 1e-3
        Nuclear-norm weight when promoting.
    output : {"vector", "invariant"}, default "vector"
        ``"vector"``: ``y`` are time derivatives of the states. ``"invariant"``:
        ``y`` are invariant scalar function values.
    max_iter : int, default 20
        Iterations of STLSQ (SR3 runs at least 1000).

    Attributes
    ----------
    coef_ : ndarray (n_targets, n_features_out)
    library_ : LiePolynomialLibrary
    optimizer_ : the fitted pysindy optimizer
    basis_ : EquivariantBasis or None
        The symmetric basis when a symmetry is enforced.
    n_iter_ : int
        Iterations of the optimizer.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from symsindy import LieAlgebra, datasets
    >>> sys = datasets.get_system("hopf")
    >>> X = np.vstack(datasets.simulate(sys, 3, np.linspace(0, 5, 200)))
    >>> est = SymmetricSINDyRegressor(symmetry=LieAlgebra.so(2)).fit(X, sys.rhs(X))
    >>> round(est.score(X, sys.rhs(X)), 6)
    1.0
    """

    def __init__(
        self,
        degree: int = 3,
        include_bias: bool = True,
        symmetry=None,
        candidates=None,
        optimizer: str = "stlsq",
        threshold: float = 0.1,
        alpha: float = 0.05,
        sym_weight: float = 1e-3,
        output: str = "vector",
        max_iter: int = 20,
    ):
        self.degree = degree
        self.include_bias = include_bias
        self.symmetry = symmetry
        self.candidates = candidates
        self.optimizer = optimizer
        self.threshold = threshold
        self.alpha = alpha
        self.sym_weight = sym_weight
        self.output = output
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # ----------------------------------------------------------------- fit
    def fit(self, X, y, input_map=None):
        """Fit on states ``X`` ``(n_samples, n_states)`` and targets ``y``.

        Parameters
        ----------
        X : array (n_samples, n_states)
        y : array (n_samples,) or (n_samples, n_targets)
        input_map : (M, b), optional
            ``X = M x + b`` relates ``X`` to the coordinates in which
            ``symmetry`` is stated (set by :class:`SymmetricPipeline`).

        Returns
        -------
        self
        """
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64
        )
        if self.degree < 1:
            raise ValueError(f"degree must be >= 1, got {self.degree}")
        self._y_1d = y.ndim == 1
        Y = y.reshape(-1, 1) if self._y_1d else y
        self.library_ = LiePolynomialLibrary(
            degree=self.degree, include_bias=self.include_bias
        ).fit(X)
        theta = np.asarray(self.library_.transform(X))
        self.optimizer_ = self._make_optimizer(X.shape[1], Y.shape[1], input_map)
        self.optimizer_.fit(theta, Y)
        self.coef_ = np.asarray(self.optimizer_.coef_)
        self.basis_ = getattr(self.optimizer_, "basis_", None)
        history = getattr(self.optimizer_, "history_", [None, None])
        self.n_iter_ = int(
            getattr(self.optimizer_, "n_iter_", max(len(history) - 1, 1))
        )
        return self

    def _make_optimizer(self, n, n_targets, input_map):
        from .equivariance import basis_from_constraints, symmetry_constraints
        from .promote import SymmetryPromotingSR3
        from .transport import transported_constraints

        if self.optimizer not in ("stlsq", "sr3"):
            raise ValueError(
                f"optimizer must be 'stlsq' or 'sr3', got {self.optimizer!r}"
            )
        if self.symmetry is not None and self.candidates is not None:
            raise ValueError("give either symmetry (enforce) or candidates (promote)")
        if self.candidates is not None:
            if input_map is not None and not _is_identity(input_map):
                raise ValueError(
                    "promotion inside a preprocessing pipeline is not supported: the "
                    "candidate algebra is stated in the original coordinates"
                )
            return SymmetryPromotingSR3(
                self.candidates,
                sym_weight=self.sym_weight,
                threshold=self.threshold,
                output=self.output,
                library=self.library_,
            )
        # Plain and symmetric fits are the same algorithm; without a symmetry the
        # group is trivial (the symmetric subspace is every model).
        if self.symmetry is None:
            constraint = SymmetryGroup(n=n)
        else:
            group = SymmetryGroup.coerce(self.symmetry)
            if group.n != n:
                raise ValueError(
                    f"the symmetry acts on R^{group.n} but X has {n} columns"
                )
            basis = self.library_.monomials()
            if input_map is None:
                K = symmetry_constraints(basis, group, self.output, n_targets)
            else:
                K = transported_constraints(
                    group, basis, *input_map, self.output, n_targets
                )
            constraint = basis_from_constraints(K, basis)
        return self._sparse_regression(constraint)

    def _sparse_regression(self, constraint):
        from .optimizers import EquivariantSR3, EquivariantSTLSQ

        if self.optimizer == "sr3":
            # unbiased, as the STLSQ path is (ps.SR3's default unbias=False made
            # the training fit of a plain SR3 regressor poor)
            return EquivariantSR3(
                constraint,
                threshold=self.threshold,
                unbias=True,
                max_iter=max(self.max_iter, 1000),
                tol=1e-8,
            )
        return EquivariantSTLSQ(
            constraint,
            threshold=self.threshold,
            alpha=self.alpha,
            max_iter=self.max_iter,
        )

    # ------------------------------------------------------------- predict
    def predict(self, X):
        """Model output ``F(X)``: ``(n_samples,)`` or ``(n_samples, n_targets)``."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = np.asarray(self.library_.transform(X)) @ self.coef_.T
        return out.ravel() if self._y_1d else out

    def equations(self, precision: int = 3) -> list[str]:
        """The fitted equations, one per target."""
        check_is_fitted(self, "coef_")
        names = self.library_.get_feature_names()
        return [
            " + ".join(
                f"{c:.{precision}g} {n}"
                for c, n in zip(row, names, strict=True)
                if c != 0
            )
            or "0"
            for row in self.coef_
        ]

    def discovered_symmetries(self, candidates=None, **kwargs):
        """The symmetry group of the fitted model (:func:`discover_symmetries`)."""
        from .discover import discover_symmetries

        check_is_fitted(self, "coef_")
        if "x_dot" not in kwargs and "t" not in kwargs:
            # Fitted coefficients without their data: the tolerance rule.
            kwargs.setdefault("method", "tolerance")
        return discover_symmetries(
            self.coef_,
            library=self.library_.monomials(),
            candidates=candidates,
            output=self.output,
            **kwargs,
        )


def _is_identity(input_map) -> bool:
    M, b = input_map
    return np.allclose(M, np.eye(M.shape[0])) and np.allclose(b, 0)


class SymmetricPipeline(Pipeline):
    """A ``Pipeline`` that carries the final step's symmetry through preprocessing.

    Before fitting the final :class:`SymmetricSINDyRegressor`, the fitted
    preprocessing steps are probed for the affine map ``X' = M X + b`` they
    apply (and checked to be affine and invertible), and the regressor fits with
    the symmetry transported into those coordinates; the model is exactly
    symmetric in the original coordinates. Non-affine preprocessing is refused.
    """

    def fit(self, X, y=None, **params):
        """Fit the preprocessing, then the final step with the symmetry carried.

        Fit parameters are not routed (the transport needs the fitted steps
        first); pass none.
        """
        if params:
            raise TypeError(
                f"SymmetricPipeline.fit takes no fit parameters, got {sorted(params)}"
            )
        X = np.asarray(X, dtype=float)
        if len(self.steps) > 1:
            pre = Pipeline(self.steps[:-1])
            Xt = pre.fit_transform(X, y)
            from .transport import affine_map

            input_map = affine_map(pre.transform, X.shape[1], X[:8])
        else:
            Xt, input_map = X, None
        final = self.steps[-1][1]
        if isinstance(final, SymmetricSINDyRegressor):
            final.fit(Xt, y, input_map=input_map)
        else:
            final.fit(Xt, y)
        return self


def make_symmetric_pipeline(*steps) -> SymmetricPipeline:
    """``sklearn.pipeline.make_pipeline``, but returning a SymmetricPipeline."""
    from sklearn.pipeline import make_pipeline

    return SymmetricPipeline(make_pipeline(*steps).steps)
