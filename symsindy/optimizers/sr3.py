"""Relax-and-split (SR3) sparse regression in symmetric coordinates."""

from __future__ import annotations

import numpy as np
from pysindy.utils import capped_simplex_projection, get_prox

from .._validation import check_scalar
from .base import SymmetricOptimizer
from .reduced import ReducedLeastSquares

__all__ = ["EquivariantSR3"]

_REGULARIZERS = ("l0", "l1", "l2", "weighted_l0", "weighted_l1", "weighted_l2")
_DEFAULT_LAM = 0.005


class EquivariantSR3(SymmetricOptimizer):
    """SR3 restricted to models with a given symmetry; suited to noisy data.

    A drop-in for ``ps.SR3`` (same parameters, names and defaults, after the
    extra first argument ``symmetry``). Minimises, over reduced coordinates
    ``c`` and a sparse copy ``w``,

        0.5 ||(I kron Theta) Q c - vec(Y)||^2 + lam R(w) + ||c - w||^2 / (2 nu)

    with ``R`` the l0, l1 or (squared) l2 norm. The relaxation decouples the
    least-squares fit from the sparsity pattern, which makes support selection
    less sensitive to noise than STLSQ. The returned model is ``Q w``: sparse
    and exactly symmetric.

    Parameters
    ----------
    symmetry : SymmetryGroup, LieAlgebra, generator matrices, or EquivariantBasis
    reg_weight_lam : float or array (n_targets, n_features), default 0.005
        Regularisation weight ``lam``. With the l0 penalty the hard threshold is
        ``sqrt(2 lam nu)`` (0.1 by default). Weighted penalties take an array;
        a symmetric term gets the weight at its leading coefficient.
    regularizer : {"L0", "L1", "L2", "weighted_l0", ...}, default "L0"
        Case-insensitive, as in pysindy.
    relax_coeff_nu : float, default 1.0
        Relaxation parameter ``nu``; smaller values tie ``c`` to ``w`` more tightly.
    tol : float, default 1e-5
        Stop when ``||w_k - w_{k-1}|| / nu < tol`` (pysindy's criterion).
    trimming_fraction : float, default 0.0
        Fraction of samples to trim as outliers (robust SR3); needs raw rows.
    trimming_step_size : float, default 1.0
    max_iter : int, default 30
    copy_X, initial_guess, normalize_columns, verbose :
        As in ``ps.SR3``.
    unbias : bool, default False
        Refit without penalty on the final support, inside the symmetric subspace.
    threshold : float, optional
        symsindy's name for the threshold: the hard threshold of the l0 penalty
        (``lam = threshold^2 / (2 nu)``) or the soft threshold of the l1 penalty
        (``lam = threshold / nu``). Give it or ``reg_weight_lam``, not both.
    library, output, input_action :
        As in :class:`EquivariantSTLSQ`.

    Attributes
    ----------
    coef_, reduced_coef_, basis_, symmetry_, history_ : as in EquivariantSTLSQ
    coef_full_ : ndarray (n_targets, n_features)
        The relaxed (non-sparse) iterate ``Q c``.
    n_iter_ : int
    converged_ : bool
    trimming_array : ndarray (n_samples,)
        Sample weights found by trimming (when enabled).
    """

    def __init__(
        self,
        symmetry=None,
        reg_weight_lam=_DEFAULT_LAM,
        regularizer: str = "L0",
        relax_coeff_nu: float = 1.0,
        tol: float = 1e-5,
        trimming_fraction: float = 0.0,
        trimming_step_size: float = 1.0,
        max_iter: int = 30,
        copy_X: bool = True,
        initial_guess=None,
        normalize_columns: bool = False,
        verbose: bool = False,
        unbias: bool = False,
        threshold: float | None = None,
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
        self.reg_weight_lam = reg_weight_lam
        self.regularizer = regularizer
        self.relax_coeff_nu = relax_coeff_nu
        self.tol = tol
        self.trimming_fraction = trimming_fraction
        self.trimming_step_size = trimming_step_size
        self.threshold = threshold

    # ------------------------------------------------------------ trimming
    def enable_trimming(self, trimming_fraction: float) -> None:
        """Trim this fraction of samples as outliers (as ``ps.SR3``)."""
        self.trimming_fraction = trimming_fraction

    def disable_trimming(self) -> None:
        """Fit every sample (as ``ps.SR3``)."""
        self.trimming_fraction = 0.0

    # ---------------------------------------------------------- validation
    def _check_params(self) -> None:
        super()._check_params()
        check_scalar("relax_coeff_nu", self.relax_coeff_nu, low=0, low_inclusive=False)
        check_scalar("tol", self.tol, low=0, low_inclusive=False)
        check_scalar("trimming_fraction", self.trimming_fraction, low=0, high=1)
        check_scalar(
            "trimming_step_size", self.trimming_step_size, low=0, low_inclusive=False
        )
        if self.trimming_fraction > 0 and self.unbias:
            raise ValueError(
                "unbiasing counteracts trimming: set unbias=False or "
                "trimming_fraction=0.0"
            )
        reg = self.regularizer
        if not isinstance(reg, str) or reg.lower() not in _REGULARIZERS:
            raise NotImplementedError(
                f"regularizer must be one of {', '.join(_REGULARIZERS)} (any case), "
                f"got {reg!r}"
            )
        lam = self.reg_weight_lam
        if reg.lower().startswith("weighted"):
            if not isinstance(lam, np.ndarray):
                raise ValueError(
                    f"regularizer={reg!r} needs reg_weight_lam as an array "
                    "(n_targets, n_features)"
                )
        elif isinstance(lam, np.ndarray):
            raise ValueError(
                f"an array reg_weight_lam needs a weighted regularizer, got {reg!r}"
            )
        else:
            check_scalar("reg_weight_lam", lam, low=0)
        if np.any(np.asarray(lam, dtype=float) < 0):
            raise ValueError("reg_weight_lam must be non-negative")
        if self.threshold is not None:
            check_scalar("threshold", self.threshold, low=0)
            if reg.lower() not in ("l0", "l1"):
                raise ValueError(
                    f"threshold applies to the l0 and l1 penalties, not {reg!r}; "
                    "use reg_weight_lam"
                )
            if isinstance(lam, np.ndarray) or lam != _DEFAULT_LAM:
                raise ValueError("give threshold or reg_weight_lam, not both")

    def _weight(self) -> float | np.ndarray:
        """``lam`` as a scalar or one weight per reduced coordinate."""
        nu = self.relax_coeff_nu
        if self.threshold is not None:
            if self.regularizer.lower() == "l0":
                return float(self.threshold) ** 2 / (2 * nu)
            return float(self.threshold) / nu
        lam = self.reg_weight_lam
        if not isinstance(lam, np.ndarray):
            return float(lam)
        expected = (self.basis_.n_targets, len(self.basis_.library))
        if lam.shape != expected:
            raise ValueError(
                f"reg_weight_lam must have shape {expected} (n_targets, "
                f"n_features), got {lam.shape}"
            )
        return lam.astype(float).ravel()[self.basis_.pivots]

    # ------------------------------------------------------------- solving
    def fit(self, x_, y, sample_weight=None):
        """Fit on ``Theta`` and targets; see :meth:`SymmetricOptimizer.fit`."""
        self._rows = (x_, y, sample_weight)
        try:
            return super().fit(x_, y, sample_weight=sample_weight)
        finally:
            del self._rows

    def _solve(self, problem: ReducedLeastSquares, c0):
        nu = self.relax_coeff_nu
        prox = get_prox(self.regularizer.lower())
        lam = self._weight()
        if self.trimming_fraction > 0:
            return self._solve_trimmed(problem, c0, prox, lam)
        step = problem.relaxation(nu)
        w = problem.solve() if c0 is None else c0
        c = w.copy()
        history = [w.copy()]
        change = np.inf
        for k in range(self.max_iter):
            self.n_iter_ = k + 1
            c = step(w)
            w_new = prox(c, lam * nu)
            change = np.linalg.norm(w_new - w) / nu
            w = w_new
            history.append(w.copy())
            if self.verbose:
                print(
                    f"iteration {k}: change {change:.3e}, {np.count_nonzero(w)} terms"
                )
            if change < self.tol:
                self.converged_ = True
                break
        if not self.converged_:
            self._warn_not_converged(f"last change {change:.2e}, tol {self.tol:g}")
        self.coef_full_ = self.basis_.to_coef(c / self._unit(problem))
        return w, history

    def _unit(self, problem) -> np.ndarray:
        return problem.scale if self.normalize_columns else np.ones(problem.n_terms)

    def _solve_trimmed(self, problem, c0, prox, lam):
        """Robust SR3: sample weights on the capped simplex, updated each step."""
        if not hasattr(self, "_rows"):
            raise ValueError(
                "trimming needs the data rows; it is not available in fit_statistics"
            )
        from .._validation import validate_xy

        x, y = validate_xy(*self._rows[:2])
        if self._rows[2] is not None:
            raise ValueError("trimming cannot be combined with sample_weight")
        nu = self.relax_coeff_nu
        unit = self._unit(problem)
        frac = float(self.trimming_fraction)
        trim = np.full(len(x), 1.0 - frac)
        self.history_trimming_ = [trim]
        w = problem.solve() if c0 is None else c0
        c = w.copy()
        history, change = [w.copy()], np.inf
        for k in range(self.max_iter):
            self.n_iter_ = k + 1
            # pysindy's order: the gradient uses the relaxed iterate before update
            resid = y - x @ self.basis_.to_coef(c / unit).T
            grad = 0.5 * np.sum(resid**2, axis=1)
            root = np.sqrt(trim)[:, None]
            weighted = ReducedLeastSquares.from_rows(
                self.basis_.Q, x * root, y * root
            ).rescaled(unit)
            c = weighted.relaxation(nu)(w)
            w_new = prox(c, lam * nu)
            trim_new = capped_simplex_projection(
                trim - self.trimming_step_size * grad, frac
            )
            change = (
                np.linalg.norm(w_new - w) / nu
                + np.linalg.norm(trim_new - trim) / self.trimming_step_size
            )
            w, trim = w_new, trim_new
            history.append(w.copy())
            self.history_trimming_.append(trim)
            if change < self.tol:
                self.converged_ = True
                break
        if not self.converged_:
            self._warn_not_converged(f"last change {change:.2e}, tol {self.tol:g}")
        self.trimming_array = trim
        self.coef_full_ = self.basis_.to_coef(c / unit)
        return w, history
