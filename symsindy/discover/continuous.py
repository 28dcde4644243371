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

from ..algebra import LieAlgebra
from ..equivariance import equivariant_basis
from ..group import SymmetryGroup
from ..inference import (
    DETECTABLE_BREAKING,
    NoiseEstimate,
    SubspaceTest,
    detectable_breaking,
    subspace_test,
)
from ..naming import describe_algebra
from .inputs import DiscoveryProblem
from .report import Verdict, power_reason
from .snapping import exact_neighbours, lie_closure, snap

__all__ = ["ContinuousResult", "TestContext", "decide_by_tolerance", "decide_by_test"]


@dataclass
class TestContext:
    """Data evidence shared by the continuous and discrete tests."""

    stats: object
    noise: NoiseEstimate
    alpha: float
    reference: np.ndarray | None
    #: Why the data cannot decide any candidate ("" when they can).
    undecidable: str = ""

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
    return (np.round(proj, 6) + 0.0).tobytes()


def _proposals(vt_rows, cands) -> list[tuple[LieAlgebra, bool]]:
    """``(algebra, is_exact)``: snapped neighbours, closures, the numerical span."""
    numeric = _combination(vt_rows, cands)
    exact = exact_neighbours(numeric)
    # The exact neighbours and their closures; the numerical span itself is
    # slightly off and would only be rejected for it.
    options = [(h, True) for e in exact for h in (e, lie_closure(e, cands.dim))]
    if not exact:
        options = [(lie_closure(numeric, cands.dim), False)]
    out = []
    for alg, is_exact in options:
        if alg is not None and alg.dim:
            out.append((alg, is_exact))
    return out


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
    the user's thresholding and of the units of the states).
    """
    s, vt, rel = _spectrum(problem)
    trivial = LieAlgebra.trivial(problem.n).with_degree(problem.candidates.degree)
    verdicts: list[Verdict] = []
    accepted: list = []
    seen: set[bytes] = set()
    _, vt_free = problem.matrix.svd(ctx.noise.coef)
    for rows in (vt, vt_free):
        _search(problem, ctx, rows, seen, accepted, verdicts)
    for _dim, _, h, is_exact, test, basis, verdict in sorted(
        accepted, key=lambda a: (-a[0], a[1])
    ):
        power = _power(problem, ctx, test, basis)
        verdict.detectable_breaking = power
        if power is not None and power > DETECTABLE_BREAKING:
            verdict.undetermine(power_reason(power))
            continue
        return ContinuousResult(s, rel, h, is_exact, verdicts, test)
    return ContinuousResult(s, rel, trivial, False, verdicts, None)


def _search(problem, ctx, vt, seen, accepted, verdicts) -> None:
    """Test the spans of the ``r`` last right singular vectors, ``r = 1, 2, ...``.

    Stops at the first ``r`` beyond every accepted dimension where nothing is
    accepted (larger spans only add constraints).
    """
    q = problem.candidates.dim
    for r in range(1, q + 1):
        found_here = False
        for h, is_exact in _proposals(vt[q - r :], problem.candidates):
            key = _key(h)
            if key in seen:
                continue
            seen.add(key)
            test, basis = _test_algebra(problem, ctx, h)
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
