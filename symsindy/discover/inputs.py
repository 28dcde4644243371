"""What discovery works on: the model, its space, the candidates and the data.

Every accepted form of input (a fitted ``ps.SINDy``, a ``Pipeline``, a
coefficient matrix with a library, or trajectories) is turned into one
:class:`DiscoveryProblem`, which the continuous, discrete and bootstrap steps
share.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pysindy as ps

from .._validation import check_finite, check_scalar
from ..algebra import LieAlgebra
from ..inference import DEFAULT_ALPHA
from ..regression_data import RegressionData, regression_data
from ..spaces import ModelSpace, resolve_basis
from ..spectrum import FunctionNorm, LieDerivativeMatrix
from ..trajectories import as_trajectory_list, fit_sindy

__all__ = ["DiscoveryProblem", "build_problem", "METHODS"]

#: How a direction is decided: a statistical test on data, a tolerance on
#: relative singular values, or exactness of given coefficients.
METHODS = ("auto", "test", "tolerance", "exact")


@dataclass
class DiscoveryProblem:
    """Everything the discovery steps share.

    Attributes
    ----------
    coef : ndarray (n_targets, n_features)
        The model's coefficients.
    space : ModelSpace
    candidates : LieAlgebra
        Candidate generators with an orthonormal basis.
    norm : FunctionNorm
        How Lie derivatives and models are measured.
    matrix : LieDerivativeMatrix
        ``L_F`` over the candidates.
    method : {"test", "tolerance", "exact"}
    data : RegressionData or None
        The regression rows (only with ``method="test"``).
    names : list of str or None
        Coordinate names.
    sindy : ps.SINDy or None
        The user's (or the fitted) model, for the bootstrap.
    alpha : float
        Level of the tests.
    margin : float or None
        Equivalence margin of the tests (None: ``DERIVATIVE_BIAS_MARGIN`` with
        numerical derivatives, 0 with measured ones).
    """

    coef: np.ndarray
    space: ModelSpace
    candidates: LieAlgebra
    norm: FunctionNorm
    matrix: LieDerivativeMatrix
    method: str
    data: RegressionData | None
    names: list[str] | None
    sindy: ps.SINDy | None
    alpha: float = DEFAULT_ALPHA
    margin: float | None = None

    @property
    def n(self) -> int:
        return self.space.n_vars


def _model_parts(model, library, output):
    """``(coef, basis, theta or None, names, sindy model or None)``."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, ps.SINDy):
        if not hasattr(model.optimizer, "coef_"):
            raise ValueError("model is not fitted; call model.fit(x, t) first")
        if getattr(model, "n_control_features_", 0):
            raise ValueError(
                "models with control inputs are not supported: the symmetry must act "
                "on every library variable"
            )
        coef = np.asarray(model.optimizer.coef_, dtype=float)
        basis = resolve_basis(model.feature_library)
        theta = getattr(model.optimizer, "Theta_", None)
        return coef, basis, theta, model.feature_names, model
    if isinstance(model, Pipeline):
        steps = [step for _, step in model.steps]
        if len(steps) != 2 or not hasattr(steps[-1], "coef_"):
            raise ValueError(
                "a Pipeline must be exactly [polynomial library, fitted optimizer]; "
                "preprocessing steps change coordinates and are not supported here"
            )
        coef = np.atleast_2d(np.asarray(steps[-1].coef_, dtype=float))
        theta = getattr(steps[-1], "Theta_", None)
        return coef, resolve_basis(steps[0]), theta, None, None
    if hasattr(model, "coef_") and hasattr(model, "library_"):
        coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
        return coef, resolve_basis(model.library_), None, None, None
    coef = np.asarray(model, dtype=float) if not isinstance(model, str) else None
    if coef is None or coef.ndim not in (1, 2):
        raise TypeError(
            "model must be a fitted pysindy.SINDy, a Pipeline [library, optimizer], "
            "or a coefficient matrix (n_targets, n_features) with library=..."
        )
    coef = np.atleast_2d(coef)
    if library is None:
        raise ValueError("pass library=... with a raw coefficient matrix")
    n_vars = coef.shape[0] if output == "vector" else None
    return coef, resolve_basis(library, n_vars), None, None, None


def _check_samples(x, n):
    if x is None:
        return None
    x = check_finite("x (the sample points)", x)
    if x.ndim != 2 or x.shape[1] != n or x.shape[0] == 0:
        raise ValueError(f"x must have shape (n_samples, {n}), got {x.shape}")
    return x


def _candidates(candidates, n: int) -> LieAlgebra:
    candidates = LieAlgebra.gl(n) if candidates is None else candidates
    if not isinstance(candidates, LieAlgebra):
        raise TypeError(
            f"candidates must be a LieAlgebra, got {type(candidates).__name__}"
        )
    if candidates.n != n:
        raise ValueError(
            f"candidate algebra acts on R^{candidates.n} but the model has {n} states"
        )
    return candidates.orthonormalized()


def _regression(sindy, basis, x, t, x_dot, trajectories_mode):
    """Regression rows for the test, or None when no derivatives are known."""
    if x is None or (t is None and x_dot is None):
        return None
    if sindy is None:
        from ..library import LiePolynomialLibrary

        sindy = ps.SINDy(
            feature_library=LiePolynomialLibrary(
                degree=basis.max_degree, include_bias=basis.min_degree == 0
            ),
            differentiation_method=ps.SmoothedFiniteDifference(),
        )
    if trajectories_mode or isinstance(x, list | tuple):
        x = as_trajectory_list(x)
    return regression_data(sindy, x, t=t, x_dot=x_dot)


def build_problem(model, candidates, options) -> DiscoveryProblem:
    """Validate the inputs of :func:`discover_symmetries` into one problem."""
    x, t, x_dot = options["x"], options["t"], options["x_dot"]
    output = options["output"]
    trajectories_mode = (
        t is not None
        and options["library"] is None
        and not isinstance(model, ps.SINDy)
        and not hasattr(model, "coef_")
        and not hasattr(model, "steps")
    )
    if trajectories_mode:
        x = model
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model = fit_sindy(
                model, t, ps.STLSQ(threshold=options["threshold"]), options["degree"]
            )
    coef, basis, theta, names, sindy = _model_parts(model, options["library"], output)
    if not np.all(np.isfinite(coef)):
        raise ValueError("model coefficients contain NaN or inf")
    space = ModelSpace.of(basis, output=output, n_targets=coef.shape[0])
    coef = space.check_coef(coef, "model coefficients")
    data = _regression(sindy, basis, x, t, x_dot, trajectories_mode)
    if data is None and x is not None and not isinstance(x, list | tuple):
        samples = _check_samples(x, space.n_vars)
    elif x is not None:
        samples = _check_samples(np.vstack(as_trajectory_list(x)), space.n_vars)
    elif theta is not None and basis.min_degree <= 1:
        samples = basis.states(theta)
    else:
        samples = None
    norm = FunctionNorm.resolve(
        options["inner_product"], samples, options.get("sample_points")
    )
    method = _method(options, data, sindy is not None or theta is not None)
    cands = _candidates(candidates, space.n_vars)
    matrix = LieDerivativeMatrix(space, cands, norm)
    alpha = check_scalar("alpha", options["alpha"], low=0.0, high=1.0)
    margin = options.get("margin")
    if margin is not None:
        margin = check_scalar("margin", margin, low=0.0)
    return DiscoveryProblem(
        coef, space, cands, norm, matrix, method, data, names, sindy, alpha, margin
    )


def _method(options, data, fitted_from_data: bool) -> str:
    method, tol = options["method"], options["tol"]
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if tol is not None:
        check_scalar("tol", tol, low=0.0)
        if method == "auto":
            method = "tolerance"
    if method == "auto":
        if data is not None:
            return "test"
        if fitted_from_data:
            warnings.warn(
                "the model was fitted to data that discover_symmetries was not "
                "given: deciding with the relative tolerance DEFAULT_TOL; pass the "
                "training data (x=..., t=... or x_dot=...) for a statistical test",
                UserWarning,
                stacklevel=4,
            )
            return "tolerance"
        return "exact"
    if method == "test" and data is None:
        raise ValueError(
            "method='test' needs the training data: pass x=... with t=... or x_dot=..."
        )
    return method
