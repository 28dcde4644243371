"""``discover_symmetries``: a short function over the steps of this package."""

from __future__ import annotations

import warnings

import numpy as np

from ..algebra import LieAlgebra
from ..group import SymmetryGroup
from ..inference import (
    DEFAULT_ALPHA,
    DERIVATIVE_BIAS_MARGIN,
    estimate_noise,
    signal_test,
)
from ..regression_data import CorrectedStatistics, without_edge_rows
from ..tolerances import EXACT_MODEL_TOL
from .bootstrap import bootstrap_spectra
from .continuous import (
    RunsCheck,
    TestContext,
    decide_by_test,
    decide_by_tolerance,
    reference_norm,
    runs_test,
)
from .discrete import decide_discrete_by_test, decide_discrete_by_tolerance
from .inputs import DiscoveryProblem, build_problem
from .report import NOISE_ONLY, ZERO_MODEL, DiscoveryReport

__all__ = ["discover_symmetries", "DEFAULT_TOL", "evidence"]

#: Closure residual above which the discovered span is reported as not closed.
CLOSURE_WARNING = 1e-6

#: The relative tolerance of ``method="tolerance"`` (0.1's only rule).
DEFAULT_TOL = 2e-2


#: How reports name the rows of each kind of regression data.
_ROW_NAMES = {
    "measured": "samples",
    "derivatives": "derivative rows",
    "integral": "integral rows",
}


def evidence(problem: DiscoveryProblem, tau=None) -> TestContext:
    """Noise estimate and power reference of the problem's data.

    With numerical derivatives, rows at trajectory ends whose derivative
    errors dwarf the interior's are left out (:func:`without_edge_rows`; a bootstrap
    replicate, with ``tau`` given, was drawn from those rows already) and the
    tests allow a breaking of ``problem.margin`` (default
    ``DERIVATIVE_BIAS_MARGIN``) per sample for the bias of the derivatives.
    """
    data, n_edges = problem.data, 0
    if tau is None:
        data, n_edges = without_edge_rows(data)
    margin = problem.margin
    if margin is None:
        margin = DERIVATIVE_BIAS_MARGIN if data.targets_kind != "measured" else 0.0
    stats = data.statistics()
    noise = estimate_noise(stats, tau=tau, margin=margin)
    noise.edge_rows = n_edges
    noise.rows = _ROW_NAMES[data.targets_kind]
    if data.test_function is not None:
        window = data.state_noise.window
        noise.rows = f"integral rows ({data.test_function} windows of {window} steps)"
    if data.state_noise is not None and np.any(data.state_noise.variance > 0):
        noise.state_noise = data.state_noise.relative
        noise.state_noise_corrected = isinstance(stats, CorrectedStatistics)
    signal_p = signal_test(stats, noise, problem.alpha)
    if not np.any(problem.coef):
        undecidable = ZERO_MODEL
    elif signal_p > problem.alpha:
        undecidable = NOISE_ONLY
    else:
        undecidable = ""
    ctx = TestContext(
        stats, noise, problem.alpha, reference_norm(stats), undecidable, signal_p
    )
    # The runs are checked in the main discovery only (a bootstrap replicate,
    # with tau given, resamples rows, not runs), and only when the rows carry
    # noise above the margin (noise-free rows decide by themselves).
    if tau is None and problem.series is not None and not np.all(noise.floored):
        ctx.runs = RunsCheck(*problem.series, data.state_noise.variance)
    return ctx


def _decide_by_tests(problem: DiscoveryProblem, ctx: TestContext, discrete):
    """Continuous and discrete decisions by the tests, checked on the runs.

    The returned group is checked on the measured runs once (``runs_test``);
    only when the runs reject it is every accepted candidate checked, and
    the decisions are taken again with those checks.
    """

    def decide():
        cont = decide_by_test(problem, ctx)
        disc = None
        if discrete is not None:
            disc = decide_discrete_by_test(
                problem, ctx, cont.algebra, cont.test, discrete, cont.basis
            )
        return cont, disc

    cont, disc = decide()
    test, basis = (disc.test, disc.basis) if disc is not None else (None, None)
    if test is None:
        test, basis = cont.test, cont.basis
    group_runs = None if test is None else runs_test(problem, ctx, test, basis)
    if group_runs is not None and not group_runs.accepted:
        ctx.runs.each = True
        cont, disc = decide()
        group_runs = None
    return cont, disc, group_runs


def _tolerance(problem: DiscoveryProblem, tol) -> float:
    if tol is not None:
        return float(tol)
    if problem.method == "exact":
        return EXACT_MODEL_TOL * np.sqrt(problem.space.n_coef)
    return DEFAULT_TOL


def discover_symmetries(
    model,
    candidates: LieAlgebra | None = None,
    *,
    library=None,
    discrete="auto",
    method: str = "auto",
    alpha: float = DEFAULT_ALPHA,
    margin: float | None = None,
    rows: str = "auto",
    trajectory_check: bool = True,
    tol: float | None = None,
    discrete_tol: float | None = None,
    inner_product: str = "auto",
    sample_points=None,
    output="vector",
    x=None,
    t=None,
    x_dot=None,
    u=None,
    n_inputs: int | None = None,
    input_action=None,
    snap: bool = True,
    n_bootstrap: int = 0,
    n_jobs: int | None = None,
    random_state: int | None = 0,
    degree: int = 3,
    threshold: float = 0.05,
    progress: bool = False,
) -> SymmetryGroup:
    """The symmetry group of a fitted model inside a candidate group.

    Parameters
    ----------
    model : pysindy.SINDy, Pipeline, array, or trajectories
        A fitted ``ps.SINDy`` with a polynomial library; a fitted
        ``Pipeline([library, optimizer])``; a coefficient matrix
        ``(n_targets, n_features)`` together with ``library``; or, when ``t`` is
        given without ``library``, trajectory data (array or list of arrays)
        from which a SINDy model is first fitted (``degree``, ``threshold``).
    candidates : LieAlgebra, optional
        Candidate generators; default ``gl(n)``. Affine and polynomial algebras
        work too.
    library : Monomials or pysindy.PolynomialLibrary, optional
        Needed with a raw coefficient matrix.
    discrete : "auto", None, or sequence of (n, n) arrays
        Discrete candidates: ``"auto"`` searches all signed permutations up to
        six states (and a documented family beyond); ``None`` skips the search.
    method : {"auto", "test", "tolerance", "exact"}
        How a candidate is decided. ``"test"`` (the default when training data
        are given: ``x`` with ``t`` or ``x_dot``, or trajectories): a candidate
        is accepted only if enforcing it does not significantly worsen the fit
        (likelihood-ratio test at level ``alpha``, see
        :mod:`symsindy.inference`). ``"exact"`` (the default for coefficients
        without data): the model is taken as exact, a direction is a symmetry
        when its relative singular value is a small multiple of machine
        precision. ``"tolerance"`` (also chosen by giving ``tol``): 0.1's rule,
        relative singular value at most ``tol`` (default ``DEFAULT_TOL``); it is
        the fallback, with a warning, for a fitted model given without its data.
    alpha : float, default 1e-3
        Level of the tests.
    margin : float, optional
        Equivalence margin of the tests, as a fraction of each derivative's
        RMS per sample: a symmetry broken by less counts as holding. Default:
        ``DERIVATIVE_BIAS_MARGIN`` (0.3 %) when the derivatives are computed
        from the states (their bias is not noise), 0 with measured ``x_dot``.
    rows : {"auto", "integral", "derivatives"}
        The regression rows of the test. ``"integral"``: the integral form
        ``x(t_b) - x(t_a) = C int Theta dt`` over windows of the measured
        states (:func:`symsindy.regression_data.integral_data`), free of the
        bias of numerical derivatives, which otherwise decides the test on
        smooth noise-free data (a smoothing filter's error is a non-polynomial
        function of the state, and its least-squares fit on a non-symmetric
        sample of states is not symmetric). ``"derivatives"``: exactly the rows
        the model was fitted on (pysindy's differentiation of ``x``, or
        ``x_dot``). ``"auto"``: integral rows when states and times are given
        without measured derivatives or control inputs, else derivatives.
    trajectory_check : bool, default True
        With integral rows of noisy states, check every accepted subalgebra
        and discrete element on the measured runs themselves as well: a
        shooting fit of the symmetric model to the runs and a score test of
        the symmetry there (:mod:`symsindy.trajectory_test`), which sees
        breakings that build up along the runs and escape the rows' short
        windows. A candidate is then accepted only when both tests accept it
        (each at level ``alpha``). The runs are consulted when the rows leave
        breakings of more than twice the margin unseen, and abstain, saying
        why in the report, on chaotic runs, noise-free states, or a model
        that cannot reproduce the runs.
    tol, discrete_tol : float, optional
        Thresholds of the tolerance rule (``discrete_tol`` defaults to ``tol``).
    inner_product : {"auto", "data", "coefficients", "samples"}
        How functions are measured. ``"auto"`` uses the data when sample points
        are known (from the fitted model or ``x``), else coefficients;
        ``"samples"`` uses ``sample_points``.
    sample_points : array (n_points, n), optional
    output : "vector" or "invariant"
    x : array or list of arrays, optional
        Training states (with ``t`` or ``x_dot``: the data of the test), or
        sample points for the data inner product.
    t : float or array, optional
        Time step or times of the training data.
    x_dot : array or list of arrays, optional
        Measured derivatives of the training data.
    u : array or list of arrays, optional
        Control inputs of the training data (SINDYc: a model fitted with
        ``model.fit(x, t, u=u)``; required with data for such a model).
    n_inputs : int, optional
        Number of control inputs of a raw coefficient matrix (its library runs
        over the states followed by the inputs); read from a fitted model.
    input_action : LieAlgebra or SymmetryGroup on R^m, optional
        How the candidates act on the control inputs: one input generator per
        candidate generator (matched in order), and, for a SymmetryGroup with
        discrete elements, one per explicit discrete candidate. Default: the
        inputs are unchanged. Candidates and discrete candidates always act on
        the ``n`` states.
    snap : bool, default True
        Propose exact neighbours (simple fractions in a pivoted basis) of the
        numerically found generators. Enforcing a slightly-off generator would
        exclude almost every model, so this is what makes discover -> enforce
        work on noisy fits.
    n_bootstrap : int, default 0
        Refit on this many bootstrap resamples of the training rows and record
        each replicate's spectrum (and, with the test, its dimension).
    n_jobs : int, optional
        Bootstrap refits run in parallel through joblib.
    random_state : int, optional
        Seed of the bootstrap.
    degree, threshold : used when ``model`` is trajectory data, fitted in
        unit-free coordinates (:mod:`symsindy.units`): ``threshold`` is a
        fraction of the typical derivative, so the answer does not depend on
        the units of the states or of time.
    progress : bool, default False
        Show a tqdm progress bar for the bootstrap.

    Returns
    -------
    SymmetryGroup
        Acting on the ``n`` states, with an orthonormal algebra basis; as
        ``discrete``, a generating set of the discrete symmetries found, modulo
        those already implied by the continuous part; and a
        :class:`DiscoveryReport` in ``.report`` with the evidence for every
        tested candidate. With control inputs the report's
        candidates, verdicts and discrete residuals are on ``(x, u)``, and
        ``report.input_action`` says how the inputs transform (None:
        unchanged; pass it as ``input_action=`` to the enforcing optimizers).

    Examples
    --------
    >>> import numpy as np
    >>> from symsindy import Monomials
    >>> C = np.array([[-0.1, -1.0], [1.0, -0.1]])     # damped oscillator
    >>> G = discover_symmetries(C, library=Monomials(2, 1, 1), discrete=None)
    >>> G.dim
    2
    """
    options = dict(
        library=library,
        x=x,
        t=t,
        x_dot=x_dot,
        u=u,
        n_inputs=n_inputs,
        input_action=input_action,
        discrete=discrete,
        output=output,
        inner_product=inner_product,
        sample_points=sample_points,
        method=method,
        tol=tol,
        discrete_tol=discrete_tol,
        alpha=alpha,
        margin=margin,
        rows=rows,
        trajectory_check=trajectory_check,
        degree=degree,
        threshold=threshold,
    )
    problem = build_problem(model, candidates, options)
    ctx = evidence(problem) if problem.method == "test" else None
    if not np.any(problem.coef):
        # Usually a fit whose threshold removed every term (too large for the
        # units of the derivatives).
        consequence = (
            "every candidate is undetermined"
            if ctx is not None
            else "every candidate is a symmetry"
        )
        warnings.warn(
            f"the model is zero (did the fit's threshold remove every term?): "
            f"{consequence}",
            stacklevel=2,
        )
    if ctx is not None:
        cont, disc, group_runs = _decide_by_tests(problem, ctx, discrete)
    else:
        cont = decide_by_tolerance(problem, _tolerance(problem, tol), snap)
        group_runs = None
    algebra = cont.algebra
    consts, closure = algebra.structure_constants()
    if closure > CLOSURE_WARNING and algebra.dim > 1:
        warnings.warn(
            f"discovered generators are not closed under the bracket (residual "
            f"{closure:.1e}); tol may be too loose or the candidates truncated",
            stacklevel=2,
        )
    if discrete is not None and ctx is None:
        dtol = _tolerance(problem, tol) if discrete_tol is None else discrete_tol
        disc = decide_discrete_by_tolerance(problem, algebra, discrete, dtol)
    elif ctx is None:
        disc = None
    boot, boot_dims = None, None
    if n_bootstrap:
        tau = None if ctx is None else ctx.noise.tau
        boot, boot_dims = bootstrap_spectra(
            problem, n_bootstrap, random_state, progress, n_jobs, tau
        )
    report = DiscoveryReport(
        singular_values=cont.singular_values,
        relative_singular_values=cont.relative,
        tol=float("nan") if ctx is not None else _tolerance(problem, tol),
        inner_product=problem.norm.kind,
        candidates=problem.candidates,
        closure_residual=closure,
        structure_constants=consts,
        discrete_tol=float("nan") if disc is None or ctx else _tolerance(problem, tol),
        discrete_residuals=[] if disc is None else disc.residuals,
        discrete_order=1 if disc is None else disc.order,
        bootstrap_relative_singular_values=boot,
        snapped=cont.snapped,
        method=problem.method,
        alpha=problem.alpha if ctx is not None else float("nan"),
        noise=None if ctx is None else ctx.noise,
        verdicts=cont.verdicts + ([] if disc is None else disc.verdicts),
        group_test=disc.test if disc is not None and ctx else cont.test,
        signal_p_value=None if ctx is None else ctx.signal_p_value,
        undecidable="" if ctx is None else ctx.undecidable,
        discrete_family="" if disc is None else disc.family,
        bootstrap_dims=boot_dims,
        trajectory_check="" if ctx is None or ctx.runs is None else ctx.runs.note,
        group_trajectory=group_runs,
    )
    discrete_found = [] if disc is None else disc.generators
    algebra, discrete_found, inputs = problem.restrict(algebra, discrete_found)
    report.n_inputs = problem.n_inputs
    report.input_action = inputs
    names = problem.names[: problem.n_states] if problem.names else None
    return SymmetryGroup(
        algebra,
        discrete_found,
        n=problem.n_states,
        coordinate_names=names,
        report=report,
    )
