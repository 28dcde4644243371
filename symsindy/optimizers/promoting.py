"""Promote symmetry: nuclear-norm regularised regression over a candidate group.

For candidate generators ``xi_1..xi_q`` the matrix ``L_F(C)`` (column ``j`` the
measured ``L_xi_j F``, :class:`symsindy.spectrum.LieDerivativeMatrix`) is linear
in the model ``C``; its rank counts the broken candidate symmetries.
:class:`SymmetryPromotingSR3` fits

    min_C  ||Theta C^T - Y||^2 / ||Y||^2 + sym_weight ||L_F(C)||_* + l1 ||C||_1

in *normalised units* (states divided by their RMS ``s``, targets by their RMS
``c``), so ``sym_weight`` has no units: rescaling the states or the time gives
the same model in the original units. ``mode="interpolate"`` solves
``min ||L_F(C)||_*  s.t.  Theta C^T = Y`` (noise-free recovery).

``sym_weight="auto"`` (the default) walks the weights from strong to weak with
warm starts; at each weight it takes the exact symmetry of the promoted model
(:func:`symsindy.discover_symmetries` with a tight tolerance), refits with it
enforced (:class:`symsindy.EquivariantSTLSQ`) and keeps the first (largest)
symmetry that a test against the noise level accepts.

Solvers live in :mod:`symsindy.optimizers.nuclear_norm`; the problem is built
once from sufficient statistics (``Theta^T Theta``, ``Theta^T Y``, ``Y^T Y``,
``N``), so :meth:`SymmetryPromotingSR3.fit_statistics` and
:func:`promotion_path` reuse it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from scipy import stats as scipy_stats
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .._validation import check_finite, check_sample_weight, validate_xy
from ..algebra import LieAlgebra
from ..control import check_input_action, control_space, extended_candidates
from ..group import SymmetryGroup
from ..linalg import residual_sums
from ..regression_data import DEFAULT_MAX_LAG
from ..spaces import ModelSpace, resolve_basis
from ..spectrum import FunctionNorm, LieDerivativeMatrix
from ..threads import blas_threads_for
from ..tolerances import PROMOTED_SYMMETRY_TOL, SUPPORT_TOL
from .base import (
    DirectFitOptimizer,
    infer_basis,
    infer_basis_with_inputs,
    library_basis,
)
from .nuclear_norm import (
    InterpolationConstraint,
    PromotionProblem,
    cvxpy_solve,
    interpolation_admm,
    penalized_admm,
)

__all__ = ["SymmetryPromotingSR3", "promotion_path", "PromotionPath"]

#: Re-solves on a shrinking support before the thresholding loop gives up.
_MAX_THRESHOLDING_ROUNDS = 20

#: The weights ``sym_weight="auto"`` walks (strong to weak, dimensionless).
AUTO_WEIGHTS = np.logspace(0, -6, 13)

#: The noise warning needs the extra residual to reach this fraction of the
#: targets' RMS (shrinking by a fraction of a percent on exact data is no cause).
MUCH_WORSE_RMS = 0.01

#: ADMM tolerance while ``sym_weight="auto"`` walks the weights (relative
#: singular values of exact symmetries then sit far below the snap tolerance).
AUTO_WALK_TOL = 1e-4


# ------------------------------------------------------------- statistics
def _statistics(x, y, weights) -> SimpleNamespace:
    """Sufficient statistics; weights act like repeated rows."""
    xw = x if weights is None else x * weights[:, None]
    yw = y if weights is None else y * weights[:, None]
    n = float(x.shape[0] if weights is None else weights.sum())
    return SimpleNamespace(gram=xw.T @ x, xty=xw.T @ y, yty=yw.T @ y, n_samples=n)


def _check_statistics(stats) -> SimpleNamespace:
    """Validate duck-typed statistics (``gram``, ``xty``, ``yty``, ``n_samples``)."""
    for name in ("gram", "xty", "yty", "n_samples"):
        if not hasattr(stats, name):
            raise TypeError(
                f"stats must have attributes gram, xty, yty and n_samples; "
                f"missing {name!r}"
            )
    gram = check_finite("stats.gram", stats.gram)
    xty = check_finite("stats.xty", stats.xty)
    if xty.ndim == 1:
        xty = xty[:, None]
    if gram.ndim != 2 or gram.shape != (xty.shape[0],) * 2:
        raise ValueError(
            f"stats.gram must be ({xty.shape[0]}, {xty.shape[0]}) to match "
            f"stats.xty {xty.shape}, got {gram.shape}"
        )
    yty = check_finite("stats.yty", stats.yty)
    t = xty.shape[1]
    per_target = np.diag(yty) if yty.ndim == 2 else yty.ravel()
    if per_target.size != t:  # a scalar total: spread evenly for the noise test
        per_target = np.full(t, per_target.sum() / t)
    total = float(per_target.sum())
    if yty.ndim != 2:
        yty = np.diag(per_target)
    n = float(stats.n_samples)
    if not np.isfinite(n) or n <= 0:
        raise ValueError(f"stats.n_samples must be positive, got {stats.n_samples}")
    return SimpleNamespace(
        gram=gram, xty=xty, yty=total, yty_matrix=yty, n_samples=n, source=stats
    )


def _square_root_data(stats) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` with ``X^T X = gram`` and ``X^T Y = xty``: data-free refits."""
    lam, V = np.linalg.eigh(stats.gram)
    keep = lam > 1e-13 * max(lam.max(initial=0.0), 1e-300)
    root = np.sqrt(lam[keep])
    return root[:, None] * V[:, keep].T, (V[:, keep].T @ stats.xty) / root[:, None]


# ------------------------------------------------------------------ units
@dataclass
class _Units:
    """States ``x = s x~``, targets ``y = c y~``; monomial ``j`` scales by ``s^d_j``.

    The fit term in normalised units is ``||Theta C^T - Y||^2 / (N c^2)``.
    """

    state: float
    output: float
    powers: np.ndarray

    @classmethod
    def of(cls, basis, stats) -> _Units:
        """``s^2 = mean ||x||^2`` (the states' RMS norm) and ``c^2 = ||Y||^2 / (N t)``
        (the mean square of the target entries)."""
        linear = basis.degrees == 1
        s2 = np.diag(stats.gram)[linear].sum() / stats.n_samples
        c2 = stats.yty / (stats.n_samples * stats.xty.shape[1])
        s = float(np.sqrt(s2)) if s2 > 0 else 1.0
        c = float(np.sqrt(c2)) if c2 > 0 else 1.0
        return cls(s, c, s ** basis.degrees.astype(float))

    def to_original(self, coef):
        return self.output * coef / self.powers

    def to_normalised(self, coef):
        return coef * self.powers / self.output

    def normalised_statistics(self, stats) -> SimpleNamespace:
        n = stats.n_samples
        p = self.powers
        return SimpleNamespace(
            gram=stats.gram / n / np.outer(p, p),
            xty=stats.xty / n / p[:, None] / self.output,
            yty=stats.yty / n / self.output**2,
            n_samples=n,
        )

    def algebra(self, algebra: LieAlgebra, inverse: bool = False) -> LieAlgebra:
        """Generators in the other units: ``xi~(x~) = xi(s x~) / s``."""
        if algebra.is_linear:
            return algebra
        power = algebra.basis.degrees.astype(float) - 1.0
        scale = self.state ** (-power if inverse else power)
        return LieAlgebra(algebra.coefficients * scale, algebra.degree, algebra.names)


class _DataNorm(FunctionNorm):
    """The (weighted) L2 norm over the training states.

    Over the library basis it comes from the Gram matrix (so it also works from
    sufficient statistics and honours sample weights exactly); over other bases
    (polynomial candidates raise the degree) from the weighted states.
    """

    def __init__(self, basis, gram_mean, points=None, weights=None):
        self.kind = "data"
        self.points = points
        self.weights = weights
        self._factors = {basis: _gram_factor(gram_mean)}

    def factor(self, basis):
        if basis not in self._factors:
            if self.points is None:
                raise ValueError(
                    "inner_product='data' with these candidates needs the training "
                    "states: fit on data (x, y), not on statistics"
                )
            w = np.ones(len(self.points)) if self.weights is None else self.weights
            theta = basis.evaluate(self.points) * np.sqrt(w / w.sum())[:, None]
            self._factors[basis] = np.linalg.qr(theta, mode="r")
        return self._factors[basis]


def _gram_factor(gram_mean):
    """``R`` with ``R^T R = gram_mean`` (rank-revealing; no Cholesky breakdown)."""
    lam, V = np.linalg.eigh(gram_mean)
    keep = lam > 1e-14 * max(lam.max(initial=0.0), 1e-300)
    return np.sqrt(lam[keep])[:, None] * V[:, keep].T


class _CachedSpace(ModelSpace):
    """A model space whose Lie-derivative operators are built once per algebra.

    A path, a binary search or ``sym_weight="auto"`` fits the same space and
    candidates many times; the exact operators depend on nothing else.
    """

    _cache: dict = {}

    def lie_derivative(self, algebra):
        key = (self.key(), algebra.degree, algebra.coefficients.tobytes())
        if key not in self._cache:
            if len(self._cache) >= 16:  # bounded: drop the oldest
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = super().lie_derivative(algebra)
        return self._cache[key]


# -------------------------------------------------------------- the setup
@dataclass
class _Setup:
    """Everything built once per data set: reused along a path."""

    basis: object
    space: ModelSpace
    units: _Units
    stats: SimpleNamespace  # original units
    problem: PromotionProblem  # normalised units
    candidates: LieAlgebra  # orthonormal, original units
    reporting: LieDerivativeMatrix  # original units, the user's norm
    states: np.ndarray | None  # normalised states (None from statistics)
    design: tuple | None  # normalised (Theta, Y) rows, weighted
    thresholds: np.ndarray  # per coefficient, normalised units
    extras: dict = field(default_factory=dict)

    def to_original(self, w):
        return self.units.to_original(w.reshape(self.space.shape))


# --------------------------------------------------------------- optimizer
class SymmetryPromotingSR3(DirectFitOptimizer):
    """Sparse regression that keeps every candidate symmetry the data allow.

    Parameters
    ----------
    candidates : LieAlgebra, optional
        Candidate symmetry algebra (default ``gl(n)``); affine and polynomial
        algebras work too.
    sym_weight : float or "auto", default "auto"
        Weight of the nuclear norm of the Lie-derivative matrix, dimensionless
        (the fit term is divided by the mean square of the targets and the Lie
        derivative is measured in normalised states). ``"auto"`` chooses it from
        the data: see the module docstring.
    l1_weight : float, default 0.0
        Weight of an l1 penalty on the (normalised) coefficients.
    threshold : float, default 0.0
        After solving, coefficients below ``threshold`` (original units) are
        fixed at zero and the problem is re-solved on the support, until the
        support is stable.
    reweight : int, default 3
        Rounds of iteratively reweighted nuclear norm after the first solve (a
        broken direction with singular value ``sigma_i`` is weighted by about
        ``sigma_max / (sigma_i + delta sigma_max)``): small singular values go to
        exactly zero while strongly broken directions are barely shrunk. ``0``
        solves the plain convex problem (required for ``solver="cvxpy"``).
    reweight_delta : float, default 3e-2
        ``delta`` above, relative to the largest singular value.
    mode : {"penalized", "interpolate"}, default "penalized"
        ``"interpolate"`` minimises the nuclear norm subject to ``Theta C^T = Y``.
    inner_product : {"coefficients", "data", "samples"} or FunctionNorm
        How Lie derivatives are measured: coefficients (in normalised states),
        the L2 norm over the training states, or over ``sample_points`` (the
        objective of Otto et al.; a :class:`~symsindy.spectrum.FunctionNorm`,
        e.g. ``FunctionNorm.from_box(-1, 1, 50)``, is accepted too).
    sample_points : array (n_points, n), optional
        Points for ``inner_product="samples"`` (original units).
    candidate_weights : array (q,), optional
        Scales of the orthonormalised candidate generators (default all 1).
    output : {"vector", "invariant"}, default "vector"
    library : Monomials or pysindy.PolynomialLibrary, optional
    input_action : LieAlgebra or SymmetryGroup on R^m, optional
        With control inputs (SINDYc, ``ps.SINDy.fit(x, u=u)``): how each
        candidate generator acts on the ``m`` inputs (one input generator per
        candidate generator, matched in order). Default: the inputs are
        unchanged. Candidates act on the states; the penalised Lie derivatives
        are those of the candidates extended to ``(x, u)``
        (:func:`symsindy.control.control_action`).
    solver : {"admm", "cvxpy"}, default "admm"
    snap : bool, default False
        With a numeric ``sym_weight``: discover the promoted model's symmetry
        (within ``snap_tol``) and refit with it enforced exactly. ``"auto"``
        always does this.
    snap_tol : float, optional
        Tolerance of that discovery on relative singular values (default
        ``symsindy.discover.DEFAULT_TOL`` for ``snap=True``, the tight
        ``symsindy.tolerances.PROMOTED_SYMMETRY_TOL`` for ``"auto"``).
    alpha : float, default 1e-3
        Level of the test that accepts a symmetry (``"auto"``) and of the warning
        that a weight fits much worse than the noise level.
    max_iter : int, default 5000
    tol : float, default 1e-6
        Relative stopping tolerance on primal and dual residuals.
    rho : float, optional
        Initial ADMM penalty (rebalanced automatically; default ``10 *
        sym_weight`` in the penalised mode, 1 for interpolation).
    verbose : bool, default False

    Attributes
    ----------
    coef_ : ndarray (n_targets, n_features)
    sym_weight_ : float
        The weight used (chosen, with ``"auto"``).
    objective_ : float
        Objective (normalised units) at the promoted solution.
    n_iter_, primal_residual_, dual_residual_, converged_ : solver report
    singular_values_ : ndarray
        Singular values of the Lie-derivative matrix (original units, the
        chosen function norm) at ``coef_``.
    symmetry_ : SymmetryGroup or None
        The symmetry found and enforced (``snap=True`` or ``"auto"``).
    path_ : PromotionPath or None
        With ``"auto"``: the weights visited and their test results.

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
        sym_weight: float | str = "auto",
        l1_weight: float = 0.0,
        threshold: float = 0.0,
        reweight: int = 3,
        reweight_delta: float = 3e-2,
        mode: str = "penalized",
        inner_product="coefficients",
        sample_points=None,
        candidate_weights=None,
        output: str = "vector",
        library=None,
        input_action=None,
        solver: str = "admm",
        snap: bool = False,
        snap_tol: float | None = None,
        alpha: float = 1e-3,
        max_iter: int = 5000,
        tol: float = 1e-6,
        rho: float | None = None,
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
        self.sample_points = sample_points
        self.candidate_weights = candidate_weights
        self.output = output
        self.library = library
        self.input_action = input_action
        self.solver = solver
        self.snap = snap
        self.snap_tol = snap_tol
        self.alpha = alpha
        self.tol = tol
        self.rho = rho
        self.verbose = verbose

    # ---------------------------------------------------------- validation
    @property
    def _auto(self) -> bool:
        return isinstance(self.sym_weight, str) and self.mode == "penalized"

    def _check_params(self):
        if isinstance(self.sym_weight, str):
            if self.sym_weight != "auto":
                raise ValueError(
                    f"sym_weight must be a non-negative number or 'auto', got "
                    f"{self.sym_weight!r}"
                )
        elif not np.isfinite(self.sym_weight) or self.sym_weight < 0:
            raise ValueError(f"sym_weight must be >= 0, got {self.sym_weight}")
        if self.l1_weight < 0 or self.threshold < 0:
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
        if not isinstance(self.inner_product, FunctionNorm) and (
            self.inner_product not in ("coefficients", "data", "samples")
        ):
            raise ValueError(
                "inner_product must be 'coefficients', 'data', 'samples' or a "
                f"FunctionNorm, got {self.inner_product!r}"
            )
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.normalize_columns:
            raise ValueError(
                "normalize_columns=True is not supported: rescaling library columns "
                "changes which models are symmetric (sym_weight is already "
                "dimensionless)"
            )
        if self.unbias:
            raise ValueError(
                "unbias=True would refit without the symmetry penalty; use snap=True "
                "for an exactly symmetric debiased refit"
            )

    def _basis(self, n_features: int, n_targets: int, theta):
        """The library's monomials; sets ``n_inputs_`` (control inputs)."""
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
                "field needs one derivative per state (with control inputs the "
                "candidates act on the states only: give the inputs' action as "
                "input_action=...)"
            )
        action = self.input_action
        check_input_action(action)
        hint = 0 if action is None else int(action.n)
        if self.library is not None:
            basis = library_basis(self.library, n + hint)
        elif theta is None:
            basis = infer_basis(n_features, n + hint)
        else:
            try:  # the data say how many inputs there are (degree >= 2)
                basis = infer_basis_with_inputs(n_features, n, theta)
            except ValueError:
                if not hint:
                    raise
                basis = infer_basis(n_features, n + hint, theta)
        if len(basis) != n_features:
            raise ValueError(
                f"library has {len(basis)} features but x has {n_features}"
            )
        self.n_inputs_ = basis.n_vars - n
        if self.n_inputs_ < 0:
            raise ValueError(
                f"the library has {basis.n_vars} variables but the candidates act "
                f"on R^{n}"
            )
        if action is not None and self.n_inputs_ != action.n:
            raise ValueError(
                f"input_action acts on R^{action.n} but the library has "
                f"{self.n_inputs_} control inputs (variables after the {n} states)"
            )
        return basis

    def _state_candidates(self, n: int) -> LieAlgebra:
        return self.candidates or LieAlgebra.gl(n)

    def _candidates(self, n: int, units: _Units) -> tuple[LieAlgebra, LieAlgebra]:
        """Orthonormal candidates in original and in normalised units, extended
        to the control inputs (if any)."""
        base = self._extended(self._state_candidates(n))
        original = base.orthonormalized()
        normalised = units.algebra(base).orthonormalized()
        if self.candidate_weights is not None:
            weights = np.asarray(self.candidate_weights, dtype=float)
            if weights.shape != (original.dim,) or np.any(weights < 0):
                raise ValueError(
                    f"candidate_weights must be {original.dim} non-negative numbers, "
                    f"got shape {weights.shape}"
                )
            scale = weights[:, None, None]
            original = LieAlgebra(original.coefficients * scale, original.degree)
            normalised = LieAlgebra(normalised.coefficients * scale, base.degree)
        return original, normalised

    def _extended(self, candidates: LieAlgebra) -> LieAlgebra:
        """State candidates as generators of ``(x, u)`` (unchanged without inputs)."""
        if not self.n_inputs_:
            return candidates
        return extended_candidates(candidates, self.n_inputs_, self.input_action)

    def _norms(self, basis, stats, units, states, weights):
        """The function norm in normalised and in original units."""
        kind = self.inner_product
        if isinstance(kind, FunctionNorm):
            if kind.kind == "samples":
                return (
                    FunctionNorm("samples", kind.points / units.state),
                    kind,
                )
            kind = kind.kind
        if kind == "coefficients":
            return FunctionNorm(), FunctionNorm()
        if kind == "samples":
            points = FunctionNorm("samples", self.sample_points).points
            if points.shape[1] != basis.n_vars:
                raise ValueError(
                    f"sample_points must have {basis.n_vars} columns, got "
                    f"{points.shape[1]}"
                )
            return FunctionNorm("samples", points / units.state), FunctionNorm(
                "samples", points
            )
        norm_stats = units.normalised_statistics(stats)
        orig = states * units.state if states is not None else None
        return (
            _DataNorm(basis, norm_stats.gram, states, weights),
            _DataNorm(basis, stats.gram / stats.n_samples, orig, weights),
        )

    def _prepare(self, stats, basis, states=None, weights=None, design=None):
        """Build the problem once (normalised units) for ``stats``."""
        units = _Units.of(basis, stats)
        n, t = basis.n_vars - self.n_inputs_, stats.xty.shape[1]
        if self.n_inputs_:
            plain = control_space(basis, n, self.n_inputs_, self.output, t)
        else:
            plain = ModelSpace.of(basis, basis.n_vars, self.output, t)
        space = _CachedSpace(plain.basis, plain.n_targets, plain.output)
        cand, cand_n = self._candidates(n, units)
        norm_n, norm = self._norms(
            basis,
            stats,
            units,
            None if states is None else states / units.state,
            weights,
        )
        ns = units.normalised_statistics(stats)
        problem = PromotionProblem(
            ns.gram,
            ns.xty,
            ns.yty,
            LieDerivativeMatrix(space, cand_n, norm_n),
        )
        raw = design
        thresholds = np.tile(
            self.threshold * units.powers / units.output, space.n_targets
        )
        if design is not None:
            x, y, w = design
            root = np.ones(len(x)) if w is None else np.sqrt(w)
            design = (
                x * root[:, None] / units.powers,
                y * root[:, None] / units.output,
            )
        setup = _Setup(
            basis,
            space,
            units,
            stats,
            problem,
            cand,
            LieDerivativeMatrix(space, cand, norm),
            None if states is None else states / units.state,
            design,
            thresholds,
        )
        setup.extras["candidates_normalised"] = cand_n
        setup.extras["state_candidates"] = units.algebra(self._state_candidates(n))
        setup.extras["inference"] = _inference_statistics(stats, raw, weights)
        if raw is not None:  # weighted rows: the enforced refits use them
            root = np.ones(len(raw[0])) if raw[2] is None else np.sqrt(raw[2])
            setup.extras["rows"] = (raw[0] * root[:, None], raw[1] * root[:, None])
        return setup

    # ----------------------------------------------------------------- fit
    def fit(self, x_, y, sample_weight=None):
        """Fit on the library matrix ``x_`` and targets ``y``; returns self.

        ``sample_weight`` acts like repeating rows (weight 2 = the row twice).
        """
        self._check_params()
        x, y = validate_xy(x_, y)
        weights = check_sample_weight(sample_weight, x.shape[0])
        basis = self._basis(x.shape[1], y.shape[1], x)  # on the unweighted rows
        self.Theta_ = x
        stats = _check_statistics(_statistics(x, y, weights))
        setup = self._prepare(stats, basis, basis.states(x), weights, (x, y, weights))
        return self._fit_setup(setup)

    def fit_statistics(self, stats):
        """Fit from sufficient statistics; returns self.

        Parameters
        ----------
        stats : object with ``gram`` (f, f), ``xty`` (f, t), ``yty`` ((t, t),
            (t,) or scalar) and ``n_samples``
            ``Theta^T Theta``, ``Theta^T Y``, ``Y^T Y`` and the number of
            samples (sums, not means), e.g. accumulated over chunks of data.

        Notes
        -----
        ``inner_product="data"`` uses the Gram matrix; with polynomial candidates
        it needs the states and is refused. ``library=`` is needed when the
        feature count matches more than one polynomial library.
        """
        self._check_params()
        stats = _check_statistics(stats)
        basis = self._basis(stats.gram.shape[0], stats.xty.shape[1], None)
        return self._fit_setup(self._prepare(stats, basis))

    def _fit_setup(self, setup: _Setup):
        prob = setup.problem
        w0 = self._initial_vector(setup)
        self.symmetry_ = None
        self.path_ = None
        if self._auto:
            result, weights, lam, symmetry, path = _auto_weight(self, setup, w0)
            self.path_ = path
        else:
            lam = 0.0 if self.mode == "interpolate" else float(self.sym_weight)
            result, weights, _ = self._solve_weight(setup, lam, w0, None)
            symmetry = None
        self.sym_weight_ = lam
        self.generator_weights_ = weights
        self._report_convergence(result)
        w = result.w
        if self.mode == "interpolate":
            self.objective_ = float(prob.singular_values(w).sum())
        else:
            self.objective_ = prob.objective(w, lam, self.l1_weight, weights)
        self.candidates_ = setup.candidates
        self.library_ = setup.basis
        self.coef_ = setup.to_original(w)
        self.history_ = setup.extras.get("history", [])
        if symmetry is not None:
            self.symmetry_, self.coef_ = symmetry
        elif self.snap and self.mode == "penalized":
            found = _snap(self, setup, w, self.snap_tol)
            if found is not None:
                self.symmetry_ = found
                if found.dim:
                    self.coef_ = _enforced_refit(self, setup, found)
        if not self._auto and self.mode == "penalized":
            _warn_if_worse_than_noise(self, setup, w)
        self.singular_values_ = setup.reporting.singular_values(self.coef_)
        self.ind_ = np.abs(self.coef_) > SUPPORT_TOL
        self.intercept_ = 0.0
        self.n_features_in_ = setup.space.n_features
        self._setup = setup
        return self

    def _initial_vector(self, setup):
        if self.initial_guess is None:
            return None
        guess = np.asarray(self.initial_guess, dtype=float)
        if guess.size != setup.space.n_coef:
            raise ValueError(f"initial_guess must have {setup.space.n_coef} entries")
        return setup.units.to_normalised(guess.reshape(setup.space.shape)).ravel()

    def _report_convergence(self, result):
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
                stacklevel=3,
            )

    # ------------------------------------------------------------- solving
    def _solve_weight(self, setup, sym_weight, w0, state):
        """Threshold loop at one weight: solve, drop small terms, re-solve."""
        prob = setup.problem
        active = prob.full_mask()
        history = []
        rounds = _MAX_THRESHOLDING_ROUNDS if self.threshold > 0 else 1
        result = weights = None
        for _ in range(rounds):
            result, weights = self._solve(setup, active, sym_weight, w0, state)
            state = result.state
            history.append(setup.to_original(result.w))
            new_active = active & (np.abs(result.w) >= setup.thresholds)
            if np.array_equal(new_active, active):
                break
            if not new_active.any():
                warnings.warn("threshold removed every coefficient", stacklevel=4)
                result.w = np.zeros(prob.n_coef)
                break
            active, w0 = new_active, result.w * new_active
        setup.extras["history"] = history
        return result, weights, state

    def _solve(self, setup, active, sym_weight, w0, state):
        """One support: the convex solve and the reweighting rounds after it."""
        lie = setup.problem.lie
        with blas_threads_for(lie.n_rows * lie.n_generators):
            return self._solve_support(setup, active, sym_weight, w0, state)

    def _solve_support(self, setup, active, sym_weight, w0, state):
        prob = setup.problem
        interpolate = self.mode == "interpolate"
        if self.solver == "cvxpy":
            kw = {}
            if interpolate:
                kw = dict(zip(("design", "targets"), _design(setup), strict=True))
            return cvxpy_solve(prob, active, sym_weight, self.l1_weight, **kw), None
        constraint = (
            InterpolationConstraint(*_design(setup), active) if interpolate else None
        )
        weights = result = None
        rounds = self.reweight + 1 if sym_weight > 0 or interpolate else 1
        for _ in range(rounds):
            if result is not None:
                weights = _generator_weights(prob, result.w, self.reweight_delta)
                if weights is None:
                    break
                w0, state = result.w, result.state
            kw = dict(gen_weights=weights, state=state, max_iter=self.max_iter)
            kw.update(tol=setup.extras.get("tol", self.tol), rho=self.rho)
            if interpolate:
                result = interpolation_admm(prob, constraint, **kw)
            else:
                result = penalized_admm(
                    prob, active, sym_weight, self.l1_weight, w0=w0, **kw
                )
        return result, weights

    def __getstate__(self):
        # The built problem holds operators (closures) and solver caches: it is
        # rebuilt by fit, never pickled. Reports need only the measuring matrix.
        state = self.__dict__.copy()
        setup = state.pop("_setup", None)
        if setup is not None:
            state["_reporting"] = setup.reporting
        return state

    # ------------------------------------------------------------ reports
    def relative_singular_values(self) -> np.ndarray:
        """Singular values of ``L_F`` divided by ``||F||`` in the same norm.

        Measured in the original units with the chosen function norm, so with
        ``inner_product="data"`` the values do not change when the data are
        rescaled.
        """
        check_is_fitted(self, "coef_")
        reporting = self._setup.reporting if hasattr(self, "_setup") else None
        reporting = reporting or self._reporting
        return reporting.relative_singular_values(self.coef_)


def _generator_weights(prob, w, delta):
    """Reweighting as a convex problem: ``||L_F(C) W||_*`` with
    ``W = V diag(s_max / sqrt(s^2 + (delta s_max)^2)) V^T`` from the SVD of the
    previous solution (the log-det heuristic of Fazel, Hindi and Boyd 2003).

    Directions that were nearly unbroken get weight ~1/delta and are pushed to
    exact zero; strongly broken ones get weight ~1 and are barely shrunk. Unlike
    weights on the sorted singular values, this keeps each round convex, so
    ADMM converges in every round.
    """
    s, vt = prob.lie.svd(w.reshape(prob.n_targets, prob.n_features))
    if s.max(initial=0.0) == 0:
        return None
    omega = s.max() / np.sqrt(s**2 + (delta * s.max()) ** 2)
    return (vt.T * omega) @ vt


def _design(setup):
    """Normalised design and targets for interpolation (rows of Theta or a root)."""
    if setup.design is not None:
        return setup.design
    ns = setup.units.normalised_statistics(setup.stats)
    return _square_root_data(ns)


# ---------------------------------------------------------------- snapping
def _snap(opt, setup, w, tol):
    """The exact symmetry of the promoted model ``w`` (normalised units)."""
    from ..discover import DEFAULT_TOL, discover_symmetries

    tol = DEFAULT_TOL if tol is None else tol
    coef = w.reshape(setup.space.shape)
    if not np.any(coef):
        return None
    kind = setup.problem.lie.norm.kind
    x = setup.states if kind == "data" else setup.problem.lie.norm.points
    kwargs = dict(inner_product="coefficients")
    if kind in ("data", "samples") and x is not None:
        kwargs = dict(inner_product="data", x=x)
    candidates = setup.extras["candidates_normalised"]
    m = opt.n_inputs_
    if m:  # discovery extends the state candidates to the inputs itself
        candidates = setup.extras["state_candidates"]
        kwargs.update(n_inputs=m, input_action=opt.input_action)
        if "x" in kwargs:
            kwargs.update(x=x[:, :-m], u=x[:, -m:])
    found = discover_symmetries(
        coef,
        library=setup.basis,
        candidates=candidates,
        tol=tol,
        discrete=None,
        output=opt.output,
        **kwargs,
    )
    if found.dim and not found.algebra.is_linear:
        algebra = setup.units.algebra(found.algebra, inverse=True)
        found = SymmetryGroup(algebra, report=found.report)
    return found


def _input_action(group):
    """How a snapped group acts on the control inputs (None: unchanged)."""
    return getattr(group.report, "input_action", None)


def _enforced_refit(opt, setup, group, full=False):
    """EquivariantSTLSQ with ``group`` on the same data (original units)."""
    from .stlsq import EquivariantSTLSQ

    if setup.extras.get("rows") is not None:
        x, y = setup.extras["rows"]
    else:
        x, y = _square_root_data(setup.stats)
        # Zero rows change no statistic; they keep the refit's own row-based
        # checks (lagged products up to DEFAULT_MAX_LAG) well defined.
        pad = max(DEFAULT_MAX_LAG + 2 - len(x), 0)
        x = np.vstack([x, np.zeros((pad, x.shape[1]))])
        y = np.vstack([y, np.zeros((pad, y.shape[1]))])
    refit = EquivariantSTLSQ(
        group,
        threshold=opt.threshold,
        alpha=0.0,
        library=setup.basis,
        output=opt.output,
        input_action=_input_action(group),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        refit.fit(x, y)
    return refit if full else refit.coef_


# -------------------------------------------------------------- the test
class _GramStatistics:
    """What :mod:`symsindy.inference` needs, from ``gram``, ``xty``, ``yty``, ``N``.

    Without rows in time order there is no residual autocorrelation: the
    autocorrelation time is taken as 1.
    """

    def __init__(self, stats):
        self.gram, self.xty, self.yty = stats.gram, stats.xty, stats.yty_matrix
        self.n_samples = int(round(stats.n_samples))
        self.pair_counts = np.array([float(self.n_samples)])

    def rss(self, coef):
        return residual_sums(self.gram, self.xty, self.yty, coef)

    def residual_autocovariance(self, coef):
        return self.rss(coef)[None, :]


def _inference_statistics(stats, design, weights):
    """Statistics for the noise test, with the residuals' time order if known."""
    from ..regression_data import ArrayStatistics

    source = getattr(stats, "source", stats)
    if hasattr(source, "residual_autocovariance"):
        return source  # e.g. symsindy's own sufficient statistics
    if design is not None:
        x, y, w = design
        if w is None:  # rows in time order (as pysindy stacks trajectories)
            return ArrayStatistics(x, y, max_lag=min(DEFAULT_MAX_LAG, len(x) - 1))
    return _GramStatistics(stats)


def _noise(setup):
    """The least-squares noise estimate of the data (None: cannot be estimated)."""
    from ..inference import estimate_noise

    if "noise" not in setup.extras:
        try:
            setup.extras["noise"] = estimate_noise(setup.extras["inference"])
        except ValueError:
            setup.extras["noise"] = None
    return setup.extras["noise"]


def _model_test(setup, coef, alpha):
    """``T = sum_i (RSS_i(C) - RSS_0,i) / v_i`` of a fixed (shrunk) model.

    The same statistic and noise level as :func:`symsindy.inference.
    subspace_test`, for a model that is no least-squares refit.
    """
    noise = _noise(setup)
    if noise is None:
        return None
    rss = np.clip(setup.extras["inference"].rss(coef), 0.0, None)
    w = noise.weights
    stat = float(max(np.sum(w * (rss - noise.rss)), 0.0))
    dof = max(noise.rank * len(w), 1)
    floor = float(np.sum(w * noise.variance)) * max(noise.residual_dof, 1)
    base = max(float(np.sum(w * noise.rss)), floor)  # as inference.subspace_test
    rel = float(np.sum(w * (rss - noise.rss)) / max(base, 1e-300))
    # Effect size in the targets' units: the RMS of the extra residual relative
    # to the RMS of the targets.
    excess = np.clip(rss - noise.rss, 0.0, None) / noise.n_samples
    scale = float(np.sum(noise.rms**2))
    excess_rms = float(np.sqrt(excess.sum() / scale)) if scale > 0 else 0.0
    return SimpleNamespace(
        statistic=stat,
        dof=dof,
        p_value=float(scipy_stats.chi2.sf(stat, dof)),
        relative_increase=rel,
        excess_rms=excess_rms,
    )


def _warn_if_worse_than_noise(opt, setup, w):
    """Warn when the promoted fit is significantly worse than least squares
    (test at level ``alpha``), the excess residual at least doubles it, and the
    excess is at least ``MUCH_WORSE_RMS`` of the targets' RMS."""
    test = _model_test(setup, setup.to_original(w), opt.alpha)
    if (
        test is not None
        and test.p_value < opt.alpha
        and test.relative_increase > 1.0
        and test.excess_rms > MUCH_WORSE_RMS
    ):
        warnings.warn(
            f"sym_weight={opt.sym_weight:g} fits much worse than the noise level: "
            f"the residual is {100 * test.relative_increase:.0f}% above least "
            f"squares, an extra {100 * test.excess_rms:.1f}% of the targets' RMS "
            f"(p = {test.p_value:.1e}). The symmetry penalty shrinks the "
            "model toward a more symmetric one (the zero model is perfectly "
            "symmetric); lower sym_weight or use sym_weight='auto'",
            UserWarning,
            stacklevel=4,
        )


# ------------------------------------------------------------- auto weight
def _auto_weight(opt, setup, w0):
    """Strong to weak: the largest exact symmetry that the data accept.

    At each weight the promoted model's symmetry is snapped and tested through
    an enforced refit. The walk stops when the symmetry shrinks below the
    largest accepted one (or vanishes); among the accepted refits of that
    dimension the best-fitting one wins. Without any, the result is the plain
    thresholded least-squares fit (weight 0): nothing is promoted.
    """
    tol = PROMOTED_SYMMETRY_TOL if opt.snap_tol is None else opt.snap_tol
    q = setup.candidates.dim
    # The walk only needs each weight's exact symmetry (the answer is an
    # enforced refit), so its solves stop at a looser tolerance.
    setup.extras["tol"] = max(opt.tol, AUTO_WALK_TOL)
    state, visited, tested = None, [], {}
    best = None
    for lam in AUTO_WEIGHTS:
        result, weights, state = opt._solve_weight(setup, float(lam), w0, state)
        w0 = result.w
        group = _snap(opt, setup, result.w, tol)
        dim = q if group is None else group.dim  # None: the zero model
        entry = dict(weight=float(lam), result=result, weights=weights)
        entry.update(group=group, dim=dim, test=None)
        visited.append(entry)
        if dim == 0 or (best is not None and dim < best["dim"]):
            break
        if group is None:
            continue
        for candidate in _snapped_candidates(opt, setup, result.w, group):
            key = np.round(candidate.algebra.coefficients, 8).tobytes()
            if key not in tested:
                tested[key] = _test_group(opt, setup, candidate, q)
            test, coef = tested[key]
            if test is None:
                continue
            if entry["test"] is None or test.relative_increase < (
                entry["test"].relative_increase
            ):
                entry.update(group=candidate, test=test, coef=coef)
        accepted = entry["test"] is not None and entry["test"].accepted
        if accepted and (
            best is None
            or entry["test"].relative_increase < best["test"].relative_increase
        ):
            best = entry
    if best is None:
        result, weights, _ = opt._solve_weight(setup, 0.0, w0, state)
        best = dict(weight=0.0, result=result, weights=weights, group=None, dim=0)
        best["test"] = None
        visited.append(best)
        symmetry = None
    else:
        symmetry = (best["group"], best["coef"])
    path = _path_from_visits(setup, visited, best)
    return best["result"], best["weights"], best["weight"], symmetry, path


def _snapped_candidates(opt, setup, w, group):
    """The exact symmetry of ``w`` and, if different, its snap at the default
    discovery tolerance.

    A model shrunk by a strong weight can have an exact but slightly distorted
    symmetry (an elliptic rotation); the looser snap of discovery rounds it to
    the nearby simple generators, which the test then judges on the data.
    """
    from ..discover import DEFAULT_TOL

    out = [group]
    if opt.snap_tol is None:
        loose = _snap(opt, setup, w, DEFAULT_TOL)
        if loose is not None and loose.dim == group.dim:
            same = np.allclose(loose.algebra.coefficients, group.algebra.coefficients)
            if not same:
                out.append(loose)
    return out


def _test_group(opt, setup, group, q):
    """Enforced refit with ``group`` and the likelihood-ratio test of its subspace.

    The tested subspace is spanned by the refit's active symmetric terms; the
    search over ``d``-dimensional subalgebras of the ``q`` candidates costs
    ``d (q - d)`` degrees of freedom (the dimension of that Grassmannian).
    """
    from ..inference import subspace_test

    noise = _noise(setup)
    if noise is None:
        return None, None
    try:
        refit = _enforced_refit(opt, setup, group, full=True)
    except ValueError:  # e.g. only the zero model has this symmetry
        return None, None
    Q = refit.basis_.Q.tocsc()[:, np.nonzero(refit.reduced_coef_)[0]]
    search = group.dim * (q - group.dim)
    test = subspace_test(setup.extras["inference"], Q, noise, search, opt.alpha)
    return test, refit.coef_


def _path_from_visits(setup, visited, choice) -> PromotionPath:
    coefs = np.array([setup.to_original(v["result"].w) for v in visited])
    svs = np.array([setup.reporting.relative_singular_values(c) for c in coefs])
    dims = np.array([v["dim"] for v in visited])
    p_values = np.array(
        [v["test"].p_value if v.get("test") is not None else np.nan for v in visited]
    )
    return PromotionPath(
        np.array([v["weight"] for v in visited]),
        coefs,
        svs,
        dims,
        PROMOTED_SYMMETRY_TOL,
        p_values=p_values,
        selected=visited.index(choice),
    )


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
    p_values : ndarray (k,), optional
        With ``sym_weight="auto"``: p-value of the test of each weight's exact
        symmetry (NaN where none was tested).
    selected : int, optional
        Index of the chosen weight (``"auto"``).
    """

    sym_weights: np.ndarray
    coefs: np.ndarray
    singular_values: np.ndarray
    dims: np.ndarray
    tol: float
    p_values: np.ndarray | None = None
    selected: int | None = None

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
        if self.selected is not None:
            ax.axvline(self.sym_weights[self.selected], color="C3", lw=1, ls=":")
        ax.invert_xaxis()
        ax.set_xlabel("sym_weight (decreasing)")
        ax.set_ylabel(r"$\sigma_i / \|F\|$")
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
    sample_weight=None,
) -> PromotionPath:
    """Fit along ``sym_weights`` from large to small, building the problem once.

    Parameters
    ----------
    optimizer : SymmetryPromotingSR3
        Template (its ``sym_weight`` and ``snap`` are ignored).
    x, y : library matrix and targets
    sym_weights : array, optional
        Default: 20 log-spaced values from 1 to 1e-6 (dimensionless).
    tol : float, optional
        Threshold on relative singular values defining ``dims`` (default
        ``symsindy.discover.DEFAULT_TOL``).
    progress : bool
        tqdm progress bar.
    n_jobs : int, optional
        ``None`` or 1: one sweep with warm starts (each weight starts from the
        previous solution). Otherwise the weights are solved from cold starts in
        ``n_jobs`` threads (numpy releases the GIL) sharing one problem.
    sample_weight : array (n_samples,), optional

    Examples
    --------
    >>> import numpy as np
    >>> from symsindy import LieAlgebra, Monomials
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2))
    >>> lib = Monomials(2, 1)
    >>> y = x @ np.array([[-0.1, 1.0], [-1.0, -0.1]])       # damped rotation
    >>> opt = SymmetryPromotingSR3(LieAlgebra.gl(2), library=lib)
    >>> path = promotion_path(opt, lib.evaluate(x), y, [1.0, 1e-3], progress=False)
    >>> path.dims.tolist()   # everything at the strong end; rotation + scaling after
    [4, 2]
    """
    from joblib import Parallel, delayed

    from ..discover import DEFAULT_TOL

    tol = DEFAULT_TOL if tol is None else tol
    default = np.logspace(0, -6, 20)
    weights = np.sort(
        np.asarray(default if sym_weights is None else sym_weights, dtype=float)
    )[::-1]
    opt = clone(optimizer).set_params(sym_weight=float(weights[0]), snap=False)
    opt._check_params()
    x, y = validate_xy(x, y)
    sw = check_sample_weight(sample_weight, x.shape[0])
    basis = opt._basis(x.shape[1], y.shape[1], x)
    stats = _check_statistics(_statistics(x, y, sw))
    setup = opt._prepare(stats, basis, basis.states(x), sw, (x, y, sw))
    w0 = opt._initial_vector(setup)
    bar = tqdm(weights, desc="sym_weight path", disable=not progress)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if n_jobs in (None, 1):
            ws, state = [], None
            for lam in bar:
                result, _, state = opt._solve_weight(setup, float(lam), w0, state)
                w0 = result.w
                ws.append(result.w)
        else:
            setup.problem.linear_solve(setup.problem.full_mask(), opt.l1_weight > 0)
            ws = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(_cold_solve)(opt, setup, float(lam)) for lam in bar
            )
    coefs = np.array([setup.to_original(w) for w in ws])
    svs = np.array([setup.reporting.relative_singular_values(c) for c in coefs])
    return PromotionPath(weights, coefs, svs, (svs <= tol).sum(axis=1), tol)


def _cold_solve(opt, setup, lam):
    return opt._solve_weight(setup, lam, None, None)[0].w
