"""What discovery works on: the model, its space, the candidates and the data.

Every accepted form of input (a fitted ``ps.SINDy``, a ``Pipeline``, a
coefficient matrix with a library, or trajectories) is turned into one
:class:`DiscoveryProblem`, which the continuous, discrete and bootstrap steps
share.

Control inputs (SINDYc) are handled here and only here: the problem's space is
:func:`symsindy.control.control_space` over the states and inputs ``(x, u)``,
and its candidates are the user's state candidates extended to ``(x, u)`` by
:func:`symsindy.control.control_action`. The steps after this module work on
``(x, u)`` unchanged; :meth:`DiscoveryProblem.restrict` turns their answer
back into a group of the states.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass

import numpy as np
import pysindy as ps
from scipy.linalg import block_diag

from .._validation import check_choice, check_finite, check_scalar
from ..algebra import LieAlgebra
from ..control import check_input_action, control_space, extended_candidates
from ..group import SymmetryGroup
from ..inference import DEFAULT_ALPHA
from ..regression_data import (
    INTEGRAL_ROWS_PER_TERM,
    INTEGRAL_WINDOW,
    RegressionData,
    integral_data,
    integral_row_count,
    regression_data,
)
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
    n_inputs : int
        Control inputs ``m``: the library, ``candidates`` and ``names`` run over
        ``(x, u)`` (``n`` states then ``m`` inputs).
    input_elements : list of (m, m) arrays or None
        How the given discrete candidates act on the inputs (in order; None:
        the inputs are unchanged).
    series : tuple (trajectories, times) or None
        The measured runs behind integral rows (each run's states and sample
        times), for the check of accepted symmetries on the runs themselves
        (:mod:`symsindy.trajectory_test`).
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
    n_inputs: int = 0
    input_elements: list | None = None
    series: tuple | None = None

    @property
    def n(self) -> int:
        """Variables of the library (states, then control inputs)."""
        return self.space.n_vars

    @property
    def n_states(self) -> int:
        return self.space.n_vars - self.n_inputs

    def extend(self, R: np.ndarray, i: int | None = None) -> np.ndarray:
        """A discrete candidate of the states as an element of ``(x, u)``."""
        if not self.n_inputs:
            return R
        Ru = np.eye(self.n_inputs)
        if self.input_elements is not None and i is not None:
            Ru = self.input_elements[i]
        return block_diag(R, Ru)

    def restrict(self, algebra: LieAlgebra, elements) -> tuple:
        """``(state algebra, state elements, input action or None)``.

        The input action is a SymmetryGroup on ``R^m`` with one generator per
        state generator and one element per state element, or None when the
        inputs are unchanged.
        """
        if not self.n_inputs:
            return algebra, list(elements), None
        n = self.n_states
        mats = algebra.matrices if algebra.dim else np.zeros((0, self.n, self.n))
        state = (
            LieAlgebra.from_matrices(mats[:, :n, :n], algebra.names)
            if algebra.dim
            else LieAlgebra.trivial(n)
        )
        inputs, input_elems = mats[:, n:, n:], [R[n:, n:] for R in elements]
        unchanged = not np.any(inputs) and all(
            np.array_equal(R, np.eye(self.n_inputs)) for R in input_elems
        )
        action = None
        if not unchanged:
            input_algebra = LieAlgebra.from_matrices(inputs) if algebra.dim else None
            action = SymmetryGroup(input_algebra, input_elems, n=self.n_inputs)
        return state, [R[:n, :n] for R in elements], action


def _model_parts(model, library, output, n_inputs):
    """``(coef, basis, theta or None, names, sindy model or None, n_inputs)``."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, ps.SINDy):
        if not hasattr(model.optimizer, "coef_"):
            raise ValueError("model is not fitted; call model.fit(x, t) first")
        m = int(getattr(model, "n_control_features_", 0) or 0)
        if n_inputs is not None and n_inputs != m:
            raise ValueError(
                f"n_inputs={n_inputs} but the model was fitted with {m} control inputs"
            )
        coef = np.asarray(model.optimizer.coef_, dtype=float)
        basis = resolve_basis(model.feature_library)
        theta = getattr(model.optimizer, "Theta_", None)
        return coef, basis, theta, model.feature_names, model, m
    if n_inputs:
        if isinstance(model, Pipeline) or hasattr(model, "coef_"):
            raise ValueError(
                "control inputs are supported for a fitted ps.SINDy or a coefficient "
                "matrix with library=...; got a "
                f"{type(model).__name__}"
            )
    if isinstance(model, Pipeline):
        steps = [step for _, step in model.steps]
        if len(steps) != 2 or not hasattr(steps[-1], "coef_"):
            raise ValueError(
                "a Pipeline must be exactly [polynomial library, fitted optimizer]; "
                "preprocessing steps change coordinates and are not supported here"
            )
        coef = np.atleast_2d(np.asarray(steps[-1].coef_, dtype=float))
        theta = getattr(steps[-1], "Theta_", None)
        return coef, resolve_basis(steps[0]), theta, None, None, 0
    if hasattr(model, "coef_") and hasattr(model, "library_"):
        coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
        return coef, resolve_basis(model.library_), None, None, None, 0
    coef = np.asarray(model, dtype=float) if not isinstance(model, str) else None
    if coef is None or coef.ndim not in (1, 2):
        raise TypeError(
            "model must be a fitted pysindy.SINDy, a Pipeline [library, optimizer], "
            "or a coefficient matrix (n_targets, n_features) with library=..."
        )
    coef = np.atleast_2d(coef)
    if library is None:
        raise ValueError(
            "pass library=... with a raw coefficient matrix (or, if these are the "
            "states (n_times, n_states) of a trajectory, their times t=...)"
        )
    m = n_inputs or 0
    n_vars = coef.shape[0] + m if output == "vector" else None
    if m and output == "vector" and _library_vars(library) not in (None, n_vars):
        raise ValueError(
            f"the library has {_library_vars(library)} variables, but the model has "
            f"{coef.shape[0]} states and {m} control inputs: the library must run "
            "over the states followed by the inputs (x, u)"
        )
    return coef, resolve_basis(library, n_vars), None, None, None, m


def _library_vars(library) -> int | None:
    """Variables of a Monomials basis or a fitted pysindy library."""
    n = getattr(library, "n_vars", None)
    return n if n is not None else getattr(library, "n_features_in_", None)


def _n_inputs(options) -> int | None:
    """The number of control inputs the user declared (None: not declared)."""
    n_inputs, action = options.get("n_inputs"), options.get("input_action")
    if n_inputs is not None:
        check_scalar("n_inputs", n_inputs, low=0, integer=True)
    check_input_action(action)
    if action is not None and n_inputs is None:
        return int(action.n)
    return None if n_inputs is None else int(n_inputs)


def _check_samples(x, n, what="x (the sample points)"):
    if x is None:
        return None
    x = check_finite(what, x)
    if x.ndim != 2 or x.shape[1] != n or x.shape[0] == 0:
        raise ValueError(f"{what} must have shape (n_samples, {n}), got {x.shape}")
    return x


def _trajectories(name, data, n_states=None, n_inputs=0) -> list[np.ndarray]:
    """``data`` as trajectories (:func:`as_trajectory_list`), with
    ``n_states``, the model's states."""
    trajs = as_trajectory_list(data, name)
    if n_states is not None and trajs[0].shape[1] != n_states:
        inputs = f"; its {n_inputs} control input(s) go in u=..." if n_inputs else ""
        raise ValueError(
            f"{name} has {trajs[0].shape[1]} state columns but the model has "
            f"{n_states} states{inputs}"
        )
    return trajs


def _form(data) -> str:
    if isinstance(data, list | tuple):
        return f"a list of {len(data)} arrays"
    return "a single array"


def _check_derivatives(x_dot, x, xs, name="x") -> None:
    """``x_dot``: one derivative per sample and state of ``x``, in the same form."""
    many = isinstance(x, list | tuple)
    if isinstance(x_dot, list | tuple) != many or (many and len(x_dot) != len(xs)):
        raise ValueError(
            f"x_dot must have the form of {name}, one array per trajectory: "
            f"{_form(x)}, got {_form(x_dot)}"
        )
    for k, (d, xi) in enumerate(zip(_trajectories("x_dot", x_dot), xs, strict=True)):
        sub = f"[{k}]" if many else ""
        if len(d) != len(xi):
            raise ValueError(
                f"x_dot{sub} must have the same number of samples as {name}{sub} "
                f"({len(xi)}), got {len(d)}"
            )
        if d.shape[1] != xi.shape[1]:
            raise ValueError(
                f"x_dot{sub} must have {xi.shape[1]} columns, one derivative per "
                f"state, got {d.shape[1]}"
            )


def _check_data(x, t, x_dot, n_states=None, n_inputs=0, name="x") -> None:
    """One clear error for training data that do not fit together or the model.

    Complex values are refused (numpy would drop their imaginary parts with only
    a warning); every trajectory must have the model's states (``n_states``,
    when known) and ``x_dot`` the shape of ``x``.
    """
    if x is None:
        given = [key for key, v in (("t", t), ("x_dot", x_dot)) if v is not None]
        if given:
            raise ValueError(
                f"{' and '.join(given)} given without the states x: pass the "
                "training data as x=... with t=... or x_dot=..."
            )
        return
    xs = _trajectories(name, x, n_states, n_inputs)
    if t is not None:
        many = isinstance(t, list | tuple)
        for k, ti in enumerate(t if many else [t]):
            check_finite(f"t[{k}]" if many else "t", ti)
    if x_dot is not None:
        _check_derivatives(x_dot, x, xs, name)


def _is_state_data(model) -> bool:
    """Whether ``model`` is a list of 2-D arrays: trajectories, not a model."""
    if not isinstance(model, list | tuple) or not model:
        return False
    try:
        return all(np.ndim(item) == 2 for item in model)
    except ValueError:  # ragged nested lists are no arrays at all
        return False


#: Options of discover_symmetries that configure only the fit of trajectories.
_FIT_OPTIONS = ("degree", "threshold")


def _warn_unused_fit_options(options) -> None:
    """Warn when the fit options are changed for a model that needs no fit.

    Only values other than the defaults can be told from no value at all.
    """
    from .symmetries import discover_symmetries  # whose signature has the defaults

    params = inspect.signature(discover_symmetries).parameters
    changed = [
        f"{key}={options[key]!r}"
        for key in _FIT_OPTIONS
        if options[key] != params[key].default
    ]
    if changed:
        warnings.warn(
            f"{' and '.join(changed)} ignored: degree and threshold configure the "
            "SINDy fit of trajectories passed with t=..., and this model needs "
            "no fit",
            UserWarning,
            stacklevel=4,
        )


def _check_options(options) -> tuple[float, float | None]:
    """``(alpha, margin)``, and ``method`` and ``tol`` checked, before any fit."""
    alpha = check_scalar(
        "alpha",
        options["alpha"],
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
    )
    margin = options.get("margin")
    if margin is not None:
        margin = check_scalar("margin", margin, low=0.0)
    check = options.get("trajectory_check", True)
    if not isinstance(check, bool | np.bool_):
        raise ValueError(f"trajectory_check must be True or False, got {check!r}")
    method = options["method"]
    check_choice("method", method, METHODS)
    for name in ("tol", "discrete_tol"):
        value = options.get(name)
        if value is None:
            continue
        check_scalar(name, value, low=0.0)
        if method == "test":
            raise ValueError(
                f"{name} applies to method='tolerance' (or 'exact', whose threshold "
                "it replaces), not to method='test', which decides by a statistical "
                f"test at level alpha: drop {name}=... or choose method='tolerance'"
            )
    return alpha, margin


def _fit_trajectories(x, t, u, threshold, degree):
    """The SINDy model of trajectories, fitted in unit-free coordinates.

    As the command line does (:mod:`symsindy.units`): states divided by their
    RMS and time scaled to unit-RMS derivatives, so ``threshold`` is a fraction
    of the typical derivative and the model, mapped back exactly, is the same
    in any units of the states and of time (with control inputs, in the data's
    own units).
    """
    from ..trajectories import as_time_list
    from ..units import UnitScales

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        optimizer = ps.STLSQ(threshold=threshold)
        if u is not None:
            return fit_sindy(x, t, optimizer, degree, u=u)
        trajs = as_trajectory_list(x)
        times = as_time_list(t, trajs)
        scales = UnitScales.from_data(trajs, times)
        z, tau = scales.scale(trajs, times)
        return scales.model(fit_sindy(z, tau, optimizer, degree))


def _stacked(x, u, n_inputs):
    """Sample points ``(x, u)`` of every trajectory, stacked."""
    xs = as_trajectory_list(x)
    if u is None:
        raise ValueError(
            f"the model has {n_inputs} control input(s): pass their values u=... with x"
        )
    us = list(u) if isinstance(u, list | tuple) else [u]
    if len(us) != len(xs):
        raise ValueError(
            f"u has {len(us)} trajectories but x has {len(xs)}; give one input "
            "array per trajectory"
        )
    us = [np.reshape(ui, (len(ui), -1)) for ui in us]
    for xi, ui in zip(xs, us, strict=True):
        if len(ui) != len(xi) or ui.shape[1] != n_inputs:
            raise ValueError(
                f"u must have shape (n_samples, {n_inputs}) matching x, got "
                f"{ui.shape} for x of shape {np.shape(xi)}"
            )
    return np.hstack([np.vstack(xs), np.vstack(us)])


def _candidates(candidates, n: int, n_inputs: int = 0, input_action=None):
    """Orthonormal candidates on the library variables (states, then inputs)."""
    candidates = LieAlgebra.gl(n) if candidates is None else candidates
    if not isinstance(candidates, LieAlgebra):
        raise TypeError(
            f"candidates must be a LieAlgebra, got {type(candidates).__name__}"
        )
    if candidates.n != n:
        if n_inputs and candidates.n == n + n_inputs:
            raise ValueError(
                f"candidate algebra acts on R^{candidates.n}, the {n} states and "
                f"{n_inputs} control input(s) together; give candidates on the "
                f"{n} states and the action on the inputs as input_action=..."
            )
        inputs = f" (and {n_inputs} control input(s))" if n_inputs else ""
        raise ValueError(
            f"candidate algebra acts on R^{candidates.n} but the model has {n} "
            f"states{inputs}"
        )
    if not n_inputs and input_action is None:
        return candidates.orthonormalized()
    return extended_candidates(candidates, n_inputs, input_action).orthonormalized()


def _input_elements(input_action, discrete, n_inputs):
    """The inputs' part of explicit discrete candidates (None: unchanged)."""
    if not isinstance(input_action, SymmetryGroup) or not input_action.discrete:
        return None
    if isinstance(discrete, str) or discrete is None:
        raise ValueError(
            "input_action has discrete elements: pass the matching discrete "
            "candidates of the states as discrete=[...] (one per element, in order)"
        )
    if len(input_action.discrete) != len(discrete):
        raise ValueError(
            f"input_action has {len(input_action.discrete)} discrete elements but "
            f"{len(discrete)} discrete candidates were given; they are matched "
            "in order"
        )
    return list(input_action.discrete)


#: Which rows the tests use (see :func:`discover_symmetries`).
ROWS = ("auto", "integral", "derivatives")


def _use_integral_rows(rows, x, t, x_dot, u, n_terms: int) -> bool:
    """Whether the tests run on integral rows (see ``rows`` of discovery).

    ``"auto"`` takes them when the states and times are given without measured
    derivatives or inputs, and the shortest windows leave
    ``INTEGRAL_ROWS_PER_TERM`` rows per library term (short data keep the
    derivative rows, three times as many).
    """
    if rows not in ROWS:
        raise ValueError(f"rows must be one of {ROWS}, got {rows!r}")
    if rows == "derivatives":
        return False
    if rows == "integral":
        if t is None or u is not None:
            raise ValueError(
                "rows='integral' needs the times t of the states x (and is not "
                "available with control inputs u)"
            )
        return True
    if t is None or x_dot is not None or u is not None:
        return False
    shortest = integral_row_count(as_trajectory_list(x), INTEGRAL_WINDOW[0])
    return shortest >= INTEGRAL_ROWS_PER_TERM * n_terms


def _regression(sindy, basis, x, t, x_dot, trajectories_mode, u, n_inputs, rows):
    """Regression rows for the test, or None when no derivatives are known."""
    if u is not None and not n_inputs:
        raise ValueError(
            "u= was given but the model has no control inputs; fit it with "
            "model.fit(x, t, u=u) (or pass n_inputs= with a coefficient matrix)"
        )
    if x is None or (t is None and x_dot is None):
        return None
    if n_inputs and u is None:
        raise ValueError(
            f"the model has {n_inputs} control input(s): pass their values u=... "
            "with the training data x"
        )
    if sindy is None:
        from ..library import LiePolynomialLibrary

        sindy = ps.SINDy(
            feature_library=LiePolynomialLibrary(
                degree=basis.max_degree, include_bias=basis.min_degree == 0
            ),
            differentiation_method=ps.SmoothedFiniteDifference(),
        )
    if _use_integral_rows(rows, x, t, x_dot, u, len(basis)):
        return integral_data(basis, x, t)
    if trajectories_mode or isinstance(x, list | tuple):
        x = as_trajectory_list(x)
        if u is not None:
            u = [np.asarray(ui, dtype=float) for ui in u]
    return regression_data(sindy, x, t=t, x_dot=x_dot, u=u)


def build_problem(model, candidates, options) -> DiscoveryProblem:
    """Validate the inputs of :func:`discover_symmetries` into one problem."""
    x, t, x_dot, u = options["x"], options["t"], options["x_dot"], options.get("u")
    output = options["output"]
    alpha, margin = _check_options(options)
    could_be_data = (
        options["library"] is None
        and not isinstance(model, ps.SINDy)
        and not hasattr(model, "coef_")
        and not hasattr(model, "steps")
    )
    trajectories_mode = could_be_data and t is not None
    if could_be_data and t is None and _is_state_data(model):
        raise ValueError(
            f"the first argument is a list of {len(model)} state arrays: pass their "
            "times t=... (a time step or the time stamps) to fit a SINDy model to "
            "these trajectories, or pass a fitted model with the data as x=..., t=..."
        )
    if trajectories_mode:
        check_scalar("degree", options["degree"], low=1, integer=True)
        check_scalar("threshold", options["threshold"], low=0.0)
        _check_data(model, t, x_dot, name="trajectories")
        x = model
        model = _fit_trajectories(x, t, u, options["threshold"], options["degree"])
    else:
        _warn_unused_fit_options(options)
    coef, basis, theta, names, sindy, m = _model_parts(
        model, options["library"], output, _n_inputs(options)
    )
    if not np.all(np.isfinite(coef)):
        raise ValueError("model coefficients contain NaN or inf")
    input_action = options.get("input_action")
    if m:
        n_states = basis.n_vars - m if output != "vector" else coef.shape[0]
        space = control_space(basis, n_states, m, output, coef.shape[0])
    else:
        if input_action is not None:
            raise ValueError(
                "input_action was given but the model has no control inputs"
            )
        space = ModelSpace.of(basis, output=output, n_targets=coef.shape[0])
    coef = space.check_coef(coef, "model coefficients")
    if not trajectories_mode:
        _check_data(x, t, x_dot, space.n_vars - m, m)
    data = _regression(
        sindy, basis, x, t, x_dot, trajectories_mode, u, m, options.get("rows", "auto")
    )
    if x is not None and m:
        samples = _check_samples(
            _stacked(x, u, m), space.n_vars, "the sample points (x, u)"
        )
    elif x is not None and data is None and not isinstance(x, list | tuple):
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
    cands = _candidates(candidates, space.n_vars - m, m, input_action)
    matrix = LieDerivativeMatrix(space, cands, norm)
    elements = _input_elements(input_action, options.get("discrete"), m)
    problem = DiscoveryProblem(
        coef,
        space,
        cands,
        norm,
        matrix,
        method,
        data,
        names,
        sindy,
        alpha,
        margin,
        m,
        elements,
    )
    if (
        options.get("trajectory_check", True)
        and data is not None
        and data.targets_kind == "integral"
        and output == "vector"
    ):
        problem.series = _series(x, t)
    return problem


def _series(x, t) -> tuple[list, list]:
    """The runs ``x`` and the time of each of their samples."""
    from ..trajectories import time_arrays

    trajs = as_trajectory_list(x)
    return trajs, time_arrays(t, trajs)


def _method(options, data, fitted_from_data: bool) -> str:
    """The method that decides (``options`` checked by :func:`_check_options`)."""
    method, x = options["method"], options["x"]
    if options["tol"] is not None and method == "auto":
        method = "tolerance"
    if method == "auto":
        if data is not None:
            return "test"
        if fitted_from_data:
            warnings.warn(
                f"{_no_test_reason(x)}: deciding with the relative tolerance "
                f"DEFAULT_TOL instead; pass {_test_data_hint(x)} for a statistical "
                "test",
                UserWarning,
                stacklevel=4,
            )
            return "tolerance"
        return "exact"
    if method == "test" and data is None:
        raise ValueError(
            f"method='test' needs the training data: pass {_test_data_hint(x)}"
        )
    return method


def _no_test_reason(x) -> str:
    """Why a fitted model gets no test: its data, or their derivatives, are missing."""
    if x is not None:
        return (
            "x was given without its times t or derivatives x_dot, so the "
            "statistical test cannot run (x alone gives no derivatives to test)"
        )
    return "the model was fitted to data that discover_symmetries was not given"


def _test_data_hint(x) -> str:
    return (
        "t=... or x_dot=... with x"
        if x is not None
        else "x=... with t=... or x_dot=..."
    )
