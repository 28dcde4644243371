"""The continuous part: which subalgebra of the candidates is a symmetry.

The spectrum of ``L_F`` (Lie-derivative matrix of the model over the
candidates) proposes directions: the span of its ``r`` smallest right singular
vectors for every ``r``. Each proposal, its exact (snapped) neighbour and their
Lie closures are then decided:

* ``method="test"``: the subspace of models symmetric under the proposal is
  fitted to the data and compared with the unconstrained fit by a
  likelihood-ratio test (:mod:`symsindy.inference`); the largest accepted
  subalgebra whose breaking the data could detect is returned. It is closed
  under the bracket by construction (a non-closed span is never tested as is:
  its closure is), and enforcing it reproduces the accepted refit.
* ``method="tolerance"`` / ``"exact"``: directions whose relative singular
  value is at most ``tol`` (0.1's rule, and a multiple of machine precision for
  exact coefficients).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..algebra import LieAlgebra
from ..equivariance import equivariant_basis, unit_scaling
from ..group import SymmetryGroup
from ..inference import (
    DETECTABLE_BREAKING,
    NoiseEstimate,
    SubspaceTest,
    detectable_breaking,
    subspace_test,
)
from ..naming import describe_algebra
from ..trajectory_test import trajectory_test
from .inputs import DiscoveryProblem
from .report import Verdict, power_reason
from .snapping import (
    balanced_neighbours,
    exact_neighbours,
    lie_closure,
    rescaled,
    snap,
)

__all__ = [
    "ContinuousResult",
    "RunsCheck",
    "TestContext",
    "decide_by_tolerance",
    "decide_by_test",
]

#: The runs check accepted candidates when the rows' resolution exceeds this
#: multiple of the tests' margin (see ``runs_test``).
RUNS_CHECK_RESOLUTION = 3.0

#: How the report starts the line of runs that could not carry the test.
NOT_CHECKED = "not checked on the runs"


@dataclass
class RunsCheck:
    """The measured runs behind the rows, and how they checked the accepted
    candidates (see :func:`runs_test`)."""

    trajectories: list
    #: The time of every sample.
    times: list
    #: Noise variance of each state.
    variance: np.ndarray
    #: How the runs checked the candidates, for the report ("": not consulted).
    note: str = ""
    #: Check every accepted candidate (after the returned group failed);
    #: otherwise only the returned group is checked.
    each: bool = False
    #: The tests so far, by symmetric subspace.
    tests: dict = field(default_factory=dict)


@dataclass
class TestContext:
    """Data evidence shared by the continuous and discrete tests."""

    stats: object
    noise: NoiseEstimate
    alpha: float
    reference: np.ndarray | None
    #: Why the data cannot decide any candidate ("" when they can).
    undecidable: str = ""
    #: p-value of "the derivatives are pure noise" (``signal_test``).
    signal_p_value: float = 0.0
    #: The measured runs, to check accepted candidates on (None: no check).
    runs: RunsCheck | None = None

    @property
    def informative(self) -> bool:
        return not self.undecidable


@dataclass
class ContinuousResult:
    singular_values: np.ndarray
    relative: np.ndarray
    algebra: LieAlgebra
    snapped: bool
    verdicts: list[Verdict] = field(default_factory=list)
    test: SubspaceTest | None = None
    #: The symmetric subspace of ``test`` (its ``Q``).
    basis: object = None


def _spectrum(problem: DiscoveryProblem):
    s, vt = problem.matrix.svd(problem.coef)
    norm = problem.matrix.model_norm(problem.coef)
    rel = s / norm if norm > 0 else np.zeros_like(s)
    return s, vt, rel


def _combination(vt_rows: np.ndarray, cands: LieAlgebra) -> LieAlgebra:
    return LieAlgebra(
        np.einsum("kq,qim->kim", vt_rows, cands.coefficients), cands.degree
    )


# ----------------------------------------------------------------- tolerance
def decide_by_tolerance(problem: DiscoveryProblem, tol: float, use_snap: bool):
    """0.1's rule: directions with relative singular value at most ``tol``."""
    s, vt, rel = _spectrum(problem)
    algebra = _combination(vt[rel <= tol], problem.candidates)
    if not use_snap or algebra.dim == 0:
        return ContinuousResult(s, rel, algebra, False)
    exact = snap(algebra)
    if exact is not None:
        values = problem.matrix.relative_lie_derivatives(problem.coef, exact)
        if np.all(values <= tol):
            return ContinuousResult(s, rel, exact, True)
    return ContinuousResult(s, rel, algebra, False)


# ---------------------------------------------------------------------- test
def orbit_dimension(h: LieAlgebra, cands: LieAlgebra) -> int:
    """Dimension of the family of subalgebras conjugate to ``h`` in the candidates.

    ``dim(candidates) - dim(normaliser of h)``: the parameters a search over
    equivalent directions effectively fits, subtracted from the test's degrees
    of freedom. Non-linear algebras use the Grassmannian dimension
    ``r (q - r)`` instead.
    """
    r, q = h.dim, cands.dim
    if not (h.is_linear and cands.is_linear):
        return r * (q - r)
    H = h.matrices.reshape(r, -1)
    proj = np.eye(H.shape[1]) - np.linalg.pinv(H) @ H
    rows = []
    for C in cands.matrices:
        brackets = [C @ A - A @ C for A in h.matrices]
        rows.append(np.concatenate([proj @ b.ravel() for b in brackets]))
    return int(np.linalg.matrix_rank(np.array(rows), tol=1e-8))


def _key(h: LieAlgebra) -> bytes:
    flat = h.coefficients.reshape(h.dim, -1)
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    proj = vt.T @ vt
    # Fine enough to tell a generator with an entry of 1e-8 from one without.
    return (np.round(proj, 12) + 0.0).tobytes()


@dataclass
class _Proposal:
    """A candidate subalgebra; ``balanced`` (exact) and ``scales`` when it is
    ``D balanced D^-1`` with estimated scales (see ``balanced_neighbours``)."""

    algebra: LieAlgebra
    is_exact: bool
    balanced: LieAlgebra | None = None
    scales: np.ndarray | None = None


def _proposals(vt_rows, cands) -> list[_Proposal]:
    """Snapped neighbours and their closures, else the numerical span's closure."""
    numeric = _combination(vt_rows, cands)
    # The numerical span itself is slightly off and would only be rejected for
    # it. States in different units also get the neighbours found in balanced
    # coordinates.
    options = [
        _Proposal(h, True)
        for e in exact_neighbours(numeric)
        for h in (e, lie_closure(e, cands.dim))
    ]
    balanced, d = balanced_neighbours(numeric)
    for e in balanced:
        for h in (e, lie_closure(e, cands.dim)):
            if h is not None:
                options.append(_Proposal(rescaled(h, d, cands.degree), False, h, d))
    if not options:
        options = [_Proposal(lie_closure(numeric, cands.dim), False)]
    return [
        p
        for p in options
        if p.algebra is not None and p.algebra.dim and _within(p.algebra, cands)
    ]


#: A balanced proposal is refined only when its statistic is within this
#: factor of the critical value (a wrong structure misses by orders of
#: magnitude; wrong scales by a little).
REFINE_SCALES_FACTOR = 3.0


def _refined(problem, ctx, proposal: _Proposal):
    """``(algebra, test, basis)`` with the scales that minimise the statistic.

    The data fix the ratio of the states' units only to their precision, and
    the test tells a 1 % wrong aspect of a rotation's ellipse from the right
    one: the scales are fitted (Nelder-Mead in their logarithms, the first
    fixed). They are conjugations within the candidates, so the test's search
    correction (the orbit dimension) already counts them. The symmetric basis
    at any scales is the balanced one's times a diagonal (``unit_scaling``),
    so it is built once.
    """
    from scipy.optimize import minimize

    space, degree = problem.space, problem.candidates.degree
    balanced = equivariant_basis(
        space.basis, SymmetryGroup(proposal.balanced), space.output, space.n_targets
    ).Q
    dof = orbit_dimension(proposal.algebra, problem.candidates)

    def scales(z):
        return proposal.scales * np.exp(np.concatenate([[0.0], z]))

    def statistic(z):
        Q = sparse.diags(unit_scaling(space, scales(z))) @ balanced
        return subspace_test(ctx.stats, Q, ctx.noise, dof, ctx.alpha).statistic

    n = len(proposal.scales)
    best = minimize(
        statistic,
        np.zeros(n - 1),
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-3, "maxfev": 30 * (n - 1)},
    )
    h = rescaled(proposal.balanced, scales(best.x), degree)
    return (h, *_test_algebra(problem, ctx, h))


def _within(h: LieAlgebra, cands: LieAlgebra) -> bool:
    """Whether ``h`` lies in the span of the candidates (balancing may leave it)."""
    if h.coefficients.shape[1:] != cands.coefficients.shape[1:]:
        h = h.with_degree(cands.degree)
    span = cands.coefficients.reshape(cands.dim, -1)
    flat = h.coefficients.reshape(h.dim, -1)
    coef, *_ = np.linalg.lstsq(span.T, flat.T, rcond=None)
    return bool(np.linalg.norm(flat.T - span.T @ coef) <= 1e-8 * np.linalg.norm(flat))


def _test_algebra(problem, ctx: TestContext, h: LieAlgebra):
    """The test of ``h`` and its symmetric basis (None if only 0 is symmetric)."""
    try:
        basis = equivariant_basis(
            problem.space.basis,
            SymmetryGroup(h),
            problem.space.output,
            problem.space.n_targets,
        )
    except ValueError:
        return None, None
    dof = orbit_dimension(h, problem.candidates)
    return subspace_test(ctx.stats, basis.Q, ctx.noise, dof, ctx.alpha), basis


def _verdict(problem, h, test, names) -> Verdict:
    rel = problem.matrix.relative_lie_derivatives(problem.coef, h)
    description = "; ".join(describe_algebra(h, names)) or "trivial"
    verdict = "symmetric" if test is not None and test.accepted else "broken"
    return Verdict(
        "continuous",
        description,
        verdict,
        test,
        float(rel.max(initial=0.0)),
        dim=h.dim,
    )


def _power(problem, ctx, test, basis) -> float | None:
    if ctx.reference is None or problem.space.n_coef > 1500:
        return None
    return detectable_breaking(
        ctx.stats, ctx.noise, basis.Q, ctx.reference, test.coef, test.dof, ctx.alpha
    )


def decide_by_test(problem: DiscoveryProblem, ctx: TestContext) -> ContinuousResult:
    """The largest accepted, detectable subalgebra among the proposals.

    Directions are proposed from the spectra of two models: the user's (often
    sparse and clean) and the unconstrained least-squares fit (independent of
    the user's thresholding), each snapped as given and in balanced
    coordinates (states in different units, see ``balanced_neighbours``).
    """
    s, vt, rel = _spectrum(problem)
    trivial = LieAlgebra.trivial(problem.n).with_degree(problem.candidates.degree)
    verdicts: list[Verdict] = []
    accepted: list = []
    seen: set[bytes] = set()
    _, vt_free = problem.matrix.svd(ctx.noise.coef)
    near: list = []
    for rows in (vt, vt_free):
        _search(problem, ctx, rows, seen, accepted, verdicts, near)
    _refine_nearest(problem, ctx, near, accepted, verdicts)
    for _dim, _, h, is_exact, test, basis, verdict in sorted(
        accepted, key=lambda a: (-a[0], a[1])
    ):
        power = _power(problem, ctx, test, basis)
        verdict.detectable_breaking = power
        if power is not None and power > DETECTABLE_BREAKING:
            verdict.undetermine(power_reason(power))
            continue
        if not runs_agree(problem, ctx, test, basis, verdict):
            continue
        return ContinuousResult(s, rel, h, is_exact, verdicts, test, basis)
    return ContinuousResult(s, rel, trivial, False, verdicts, None)


def runs_test(problem, ctx, test, basis):
    """The measured runs' score test of an accepted candidate (``test`` on the
    rows, ``basis`` its symmetric subspace), or None when they are not
    consulted or cannot carry it.

    The integral rows see the model through short windows; a breaking that
    builds up along the runs can escape them (:mod:`symsindy.trajectory_test`).
    The runs resolve breakings about three times finer than the rows (on Hopf
    + 0.01 x0^2 at 5 % noise their non-centrality is 33 against 4), so they
    are consulted when the rows' resolution exceeds ``RUNS_CHECK_RESOLUTION``
    times the rows' margin: below that the rows already decide as finely as
    the margin lets any test. The degrees of freedom are the constraint's
    codimension. When the runs cannot carry the test, the first reason is kept
    for the report and they are not tried again.
    """
    runs = ctx.runs
    if runs is None or runs.note.startswith(NOT_CHECKED):
        return None
    if not test.resolution > RUNS_CHECK_RESOLUTION * ctx.noise.margin:
        return None
    Q = sparse.csr_matrix(basis.Q)
    key = (Q.shape, Q.indptr.tobytes(), Q.indices.tobytes(), Q.data.tobytes())
    if key not in runs.tests:  # the same subspace is tested once
        runs.tests[key] = trajectory_test(
            problem.space.basis,
            runs.trajectories,
            runs.times,
            test.coef,
            Q,
            runs.variance,
            test.codimension,
            ctx.alpha,
        )
    outcome = runs.tests[key]
    if isinstance(outcome, str):
        runs.note = f"{NOT_CHECKED}: {outcome}"
        return None
    runs.note = runs.note or f"checked on the runs: {outcome.describe()}"
    return outcome


def runs_agree(problem, ctx, test, basis, verdict) -> bool:
    """Whether the runs agree with an accepted candidate, once the returned
    group failed on them (``RunsCheck.each``; see :func:`runs_test`); a
    rejection makes ``verdict`` "broken"."""
    if ctx.runs is None or not ctx.runs.each:
        return True
    outcome = runs_test(problem, ctx, test, basis)
    if outcome is None:
        return True
    verdict.trajectory = outcome
    if outcome.accepted:
        return True
    verdict.verdict = "broken"
    return False


def _refine_nearest(problem, ctx, near, accepted, verdicts) -> None:
    """Refine the scales of the balanced proposal nearest acceptance.

    Only one (each refinement costs tens of refits): the best of those larger
    than every accepted algebra, or of the largest accepted size when no exact
    algebra of that size was accepted (the refit then fits better than at the
    balancing's scales). ``near`` holds ``(statistic / critical value,
    proposal)``.
    """
    best_dim = max((a[0] for a in accepted), default=0)
    exact_best = any(a[0] == best_dim and a[3] for a in accepted)
    near = [
        (ratio, p)
        for ratio, p in near
        if p.algebra.dim > best_dim or (p.algebra.dim == best_dim and not exact_best)
    ]
    if not near or not ctx.informative:
        return
    proposal = min(near, key=lambda item: item[0])[1]
    h, test, basis = _refined(problem, ctx, proposal)
    if test is None:
        return
    verdict = _verdict(problem, h, test, problem.names)
    verdicts.append(verdict)
    if test.accepted:
        accepted.append((h.dim, test.statistic, h, False, test, basis, verdict))


def _search(problem, ctx, vt, seen, accepted, verdicts, near) -> None:
    """Test the spans of the ``r`` last right singular vectors, ``r = 1, 2, ...``.

    Stops at the first ``r`` beyond every accepted dimension where nothing is
    accepted (larger spans only add constraints). Balanced proposals accepted,
    or rejected by less than ``REFINE_SCALES_FACTOR``, go to ``near``.
    """
    cands = problem.candidates
    q = cands.dim
    for r in range(1, q + 1):
        found_here = False
        for proposal in _proposals(vt[q - r :], cands):
            h, is_exact = proposal.algebra, proposal.is_exact
            key = _key(h)
            if key in seen:
                continue
            seen.add(key)
            test, basis = _test_algebra(problem, ctx, h)
            if proposal.balanced is not None and test is not None:
                ratio = test.statistic / ctx.noise.critical_value(test.dof, ctx.alpha)
                if ratio <= REFINE_SCALES_FACTOR:
                    near.append((ratio, proposal))
            verdict = _verdict(problem, h, test, problem.names)
            if not ctx.informative:
                verdict.undetermine(ctx.undecidable)
            verdicts.append(verdict)
            if test is not None and test.accepted and ctx.informative:
                entry = (h.dim, test.statistic, h, is_exact, test, basis, verdict)
                accepted.append(entry)
                found_here = True
        best_dim = max((a[0] for a in accepted), default=0)
        if not found_here and r > best_dim:
            break


def reference_norm(ctx_stats) -> np.ndarray:
    """Factor of the reference norm of the power check.

    Each monomial is measured by its RMS over the data, so a breaking
    perturbation is large when its coefficients are large in those natural
    units. Breaking directions that the data cannot see (a polynomial that
    vanishes on the data, e.g. ``1 - x^2 - y^2`` on a limit cycle) then have a
    tiny data norm against a reference norm of order one: the symmetry is not
    identifiable, and the check reports it as undetermined.
    """
    gram = np.asarray(ctx_stats.gram)
    return np.diag(np.sqrt(np.clip(np.diag(gram), 0, None) / ctx_stats.n_samples))
