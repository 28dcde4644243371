"""The discrete part: which candidate elements ``R`` satisfy ``F(R x) = S F(x)``.

Candidates are signed permutations by default (all of them up to six states).
With data, every candidate is decided by the same likelihood-ratio test as the
continuous part, joined with the accepted algebra, and the accepted elements
are closed greedily into a group:

1. a rigorous lower bound of each candidate's statistic (one vectorised pass
   over all candidates, :func:`statistic_lower_bounds`) rejects the clearly
   broken ones without a refit;
2. the others are taken best first; a candidate that the current accepted
   refit already satisfies exactly is implied (its statistic cannot grow and
   its degrees of freedom only grow); any other is tested jointly with
   everything accepted so far, with an exact constrained refit.

Without data, a candidate holds when its relative residual
``||F(R x) - S F(x)|| / ||F||`` is at most the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import factorial

import numpy as np
from scipy import sparse

from ..discrete_candidates import candidate_discrete_elements as structured_candidates
from ..equivariance import equivariant_basis
from ..finite_groups import (
    FiniteMatrixGroup,
    generating_set,
    generators_modulo_identity_component,
)
from ..group import SymmetryGroup
from ..inference import (
    DETECTABLE_BREAKING,
    SubspaceTest,
    detectable_breaking,
    scaled_eigh,
    subspace_test,
)
from ..naming import describe_discrete
from .inputs import DiscoveryProblem
from .report import Verdict, power_reason

__all__ = [
    "MAX_SIGNED_PERMUTATIONS",
    "MAX_DISCRETE_TESTS",
    "candidate_discrete_elements",
    "candidate_family",
    "DiscreteResult",
    "decide_discrete_by_tolerance",
    "decide_discrete_by_test",
]

#: Signed permutations are searched exhaustively up to this many candidates.
MAX_SIGNED_PERMUTATIONS = 50_000

#: Explicit constrained refits at most; candidates left over are undetermined.
MAX_DISCRETE_TESTS = 64

#: A refit satisfies an element "exactly" below this relative residual.
_IMPLIED_TOL = 1e-9


def candidate_discrete_elements(
    n: int, limit: int = MAX_SIGNED_PERMUTATIONS
) -> list[np.ndarray]:
    """Default discrete candidates without a model (see :func:`candidate_family`)."""
    return candidate_family(n, limit=limit)[0]


def candidate_family(n: int, coef=None, basis=None, limit=MAX_SIGNED_PERMUTATIONS):
    """Discrete candidates and the name of the family searched.

    All signed permutations up to six states; beyond, sign flips combined with
    the permutations that preserve the model's structure
    (:mod:`symsindy.discrete_candidates`).
    """
    return structured_candidates(n, coef=coef, basis=basis, limit=limit)


# ------------------------------------------------------- vectorised action
class _SignedPermutations:
    """Signed permutations ``(R x)_j = s_j x_p(j)`` acting on coefficients.

    ``P_R`` is then a signed permutation of the monomials, so ``C P_R - S C``
    and its adjoint are signed shuffles of ``C``: thousands of candidates cost a
    few array operations instead of one sparse product each.
    """

    def __init__(self, perms, signs, basis, vector_output: bool):
        exps = basis.exponents
        k = len(perms)
        moved = np.zeros((k,) + exps.shape, dtype=np.int64)
        np.put_along_axis(
            moved, np.broadcast_to(perms[:, None, :], moved.shape), exps[None], axis=2
        )
        self.cols = basis.index(moved.reshape(-1, exps.shape[1])).reshape(k, -1)
        self.vals = np.prod(signs[:, None, :] ** exps[None], axis=2)
        self.perms, self.signs = perms, signs
        self.vector_output = vector_output

    def apply(self, C: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``C P_R - S C`` for candidates ``idx``: ``(len(idx), t, f)``.

        ``C`` is one coefficient matrix ``(t, f)`` for every candidate, or one
        per candidate ``(len(idx), t, f)``.
        """
        cols, vals = self.cols[idx], self.vals[idx]
        Cs = np.broadcast_to(C, (len(idx),) + C.shape[-2:])
        shuffled = np.zeros(Cs.shape)
        np.put_along_axis(
            shuffled,
            np.broadcast_to(cols[:, None, :], shuffled.shape),
            Cs * vals[:, None, :],
            axis=2,
        )
        if self.vector_output:
            t = Cs.shape[1]  # outputs: the first t variables (states before inputs)
            rows = self.perms[idx][:, :t, None]
            acted = self.signs[idx][:, :t, None] * np.take_along_axis(Cs, rows, 1)
        else:
            acted = Cs
        return shuffled - acted

    def adjoint(self, Z: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``Z P_R^T - S^T Z`` for a batch ``Z`` of shape ``(len(idx), t, f)``."""
        cols, vals = self.cols[idx], self.vals[idx]
        gathered = np.take_along_axis(Z, np.broadcast_to(cols[:, None, :], Z.shape), 2)
        gathered = gathered * vals[:, None, :]
        if self.vector_output:
            t = Z.shape[1]
            back = np.zeros_like(Z)
            rows = np.arange(len(idx))[:, None]
            back[rows, self.perms[idx][:, :t]] = self.signs[idx][:, :t, None] * Z
        else:
            back = Z
        return gathered - back


def _as_signed_permutations(candidates):
    if not candidates:
        return None
    mats = np.asarray(candidates, dtype=float)
    nonzero = mats != 0
    if not ((nonzero.sum(axis=2) == 1).all() and (nonzero.sum(axis=1) == 1).all()):
        return None
    perms = np.argmax(nonzero, axis=2)
    signs = np.take_along_axis(mats, perms[:, :, None], axis=2)[:, :, 0]
    return (perms, signs) if np.all(np.abs(signs) == 1) else None


def _acts_on_outputs(problem) -> bool:
    """Whether the outputs transform like (the first) variables."""
    return problem.space.output.kind in ("vector", "states")


def _batches(n: int, size: int = 2000):
    for start in range(0, n, size):
        yield np.arange(start, min(start + size, n))


def signed_action(problem, candidates):
    """The vectorised action of the candidates if all are signed permutations."""
    signed = _as_signed_permutations(candidates)
    if signed is None:
        return None
    return _SignedPermutations(*signed, problem.space.basis, _acts_on_outputs(problem))


def relative_residuals(
    problem: DiscoveryProblem, candidates, coef=None, action=None
) -> np.ndarray:
    """``||F(R x) - S F(x)|| / ||F||`` in the discovery's function norm.

    ``action``: :func:`signed_action` of the candidates, if already built.
    """
    coef = problem.coef if coef is None else coef
    basis = problem.space.basis
    norm = problem.norm.norm(coef, basis)
    action = action or signed_action(problem, candidates)
    values = []
    if action is not None:
        for idx in _batches(len(candidates)):
            res = problem.norm.apply(action.apply(coef, idx), basis)
            values.extend(np.linalg.norm(res.reshape(len(idx), -1), axis=1))
    else:
        for R in candidates:
            op = problem.space.discrete_constraint(R)
            res = op(coef)
            values.append(np.linalg.norm(problem.norm.apply(res, basis)))
    values = np.asarray(values, dtype=float)
    return values / norm if norm > 0 else np.zeros(len(values))


# --------------------------------------------------------------- results
@dataclass
class DiscreteResult:
    generators: list[np.ndarray]
    residuals: list
    order: int
    family: str
    verdicts: list[Verdict] = field(default_factory=list)
    test: SubspaceTest | None = None
    holding: list[np.ndarray] = field(default_factory=list)
    #: The symmetric subspace of ``test`` (its ``Q``).
    basis: object = None


def _check_candidates(candidates, n, n_inputs=0):
    out = []
    for R in candidates:
        R = np.asarray(R, dtype=float)
        if R.shape != (n, n):
            inputs = ""
            if n_inputs and R.shape == (n + n_inputs,) * 2:
                inputs = (
                    f" acting on the states only (not on the {n_inputs} control "
                    "input(s): give their action as input_action=...)"
                )
            raise ValueError(
                f"discrete candidates must be ({n}, {n}) matrices{inputs}, got "
                f"{R.shape}"
            )
        out.append(R)
    return out


def candidates_for(problem: DiscoveryProblem, discrete):
    """Validated candidates (on the library variables) and their family's name.

    With control inputs the candidates are elements of the states, extended
    to ``(x, u)`` by :meth:`DiscoveryProblem.extend`.
    """
    if problem.space.output.kind not in ("vector", "invariant", "states"):
        raise ValueError("discrete search supports output 'vector' or 'invariant'")
    n = problem.n_states
    if isinstance(discrete, str) and discrete == "auto":
        if problem.n_inputs:  # the structure search reads a state-only library
            cands, family = candidate_family(n)
        else:
            cands, family = candidate_family(n, problem.coef, problem.space.basis)
    elif isinstance(discrete, str) or not hasattr(discrete, "__iter__"):
        raise ValueError(
            "discrete must be 'auto', None (no search) or a sequence of "
            f"({n}, {n}) matrices, got {discrete!r}"
        )
    else:
        cands, family = list(discrete), "the given candidates"
    cands = _check_candidates(cands, n, problem.n_inputs)
    if problem.n_inputs:
        cands = [problem.extend(R, i) for i, R in enumerate(cands)]
        moved = problem.input_elements is not None
        family += " (inputs " + ("per input_action)" if moved else "unchanged)")
    return cands, family


def decide_discrete_by_tolerance(problem, algebra, discrete, tol) -> DiscreteResult:
    """Candidates whose relative residual is at most ``tol``."""
    cands, family = candidates_for(problem, discrete)
    rel = relative_residuals(problem, cands)
    residuals = list(zip(cands, rel.tolist(), strict=True))
    holding = [R for R, r in residuals if r <= tol]
    closed = _is_full_family(discrete, problem.n_states)
    gens = generators_modulo_identity_component(
        holding, algebra, problem.n, is_group=closed
    )
    order = FiniteMatrixGroup(
        generating_set(holding, problem.n, closed), problem.n
    ).order
    return DiscreteResult(gens, residuals, order, family, holding=holding)


# ------------------------------------------------------------------ test
#: Conjugate-gradient steps of the dual lower bound at most (one step is the
#: bound of the multiplier direction ``K c0``; every step can only raise it),
#: and the candidate-steps spent in all (46080 signed permutations of six
#: states get 2 steps, 384 of four states 20).
LOWER_BOUND_STEPS = 20
LOWER_BOUND_WORK = 100_000


def statistic_lower_bounds(
    problem, ctx, cands, steps=None, stop_at=np.inf, action=None
) -> np.ndarray:
    """A lower bound of each candidate's test statistic, all candidates at once.

    For the constraint ``K c = 0`` and the unconstrained fit ``c0``,
    ``T = min_{Kc=0} (c - c0)^T D (c - c0)`` with ``D`` the whitened data
    metric. Its dual is ``T = max_u 2 u^T a - u^T M u`` with ``a = K c0`` and
    ``M = K D^+ K^T``, so every multiplier ``u`` gives ``T >= 2 u^T a -
    u^T M u``. Conjugate gradients on ``M u = a`` maximise exactly this over
    growing Krylov spaces (the first step is the direction ``u = K c0``), so a
    few steps, vectorised over the candidates, tighten the bound towards
    ``T``; a candidate stops once its bound exceeds ``stop_at`` (it is
    rejected anyway). A multiplier whose ``K^T u`` reaches directions the data
    do not determine is not admissible (its dual value is minus infinity): the
    bound then keeps its last admissible value (0 at worst, never a false
    rejection).
    """
    action = action or signed_action(problem, cands)
    if action is None:
        return np.zeros(len(cands))
    if steps is None:
        steps = int(np.clip(LOWER_BOUND_WORK // len(cands), 1, LOWER_BOUND_STEPS))
    metric_inverse = _metric_inverse(np.asarray(ctx.stats.gram), ctx.noise.weights)
    c0 = ctx.noise.coef
    out = np.zeros(len(cands))
    for idx in _batches(len(cands)):
        out[idx] = _dual_bounds(action, idx, c0, metric_inverse, steps, stop_at)
    return out


def _metric_inverse(gram: np.ndarray, weights: np.ndarray):
    """``z -> (D^+ z, inadmissible)`` for a batch ``z`` of shape ``(k, t, f)``.

    ``D = blockdiag(w_i gram)``; ``inadmissible`` flags the ``z`` with a part
    in the directions the (column-scaled) Gram matrix does not determine.
    """
    d, vals, vecs, good = scaled_eigh(gram)
    kept_vecs = vecs[:, good]

    def apply(z):
        coords = (z / d) @ vecs  # (k, t, f) in the scaled eigenbasis
        lost = np.sum(coords[..., ~good] ** 2, axis=(1, 2))
        total = np.sum(coords**2, axis=(1, 2))
        solved = ((coords[..., good] / vals[good]) @ kept_vecs.T) / d
        return solved / weights[None, :, None], lost > 1e-12 * np.maximum(total, 1e-300)

    return apply


def _dual_bounds(action, idx, c0, metric_inverse, steps, stop_at) -> np.ndarray:
    """Conjugate-gradient dual bounds for the candidates ``idx``.

    The iterations track ``r = a - M u`` by recurrence (cheap, but it drifts
    by rounding); the returned bound ``2 u.a - u.M u`` is evaluated afresh for
    the final multipliers, so it is a true dual value.
    """

    def dot(a, b):
        return np.sum(a * b, axis=(1, 2))

    def apply_m(v, rows):
        solved, lost = metric_inverse(action.adjoint(v, idx[rows]))
        return action.apply(solved, idx[rows]), lost

    a = action.apply(c0, idx)
    u, r, p = np.zeros_like(a), a.copy(), a.copy()
    rr = dot(r, r)
    active = np.flatnonzero(rr > 0)  # a = 0: the fit satisfies K, T = 0
    for _ in range(steps):
        if active.size == 0:
            break
        pa = p[active]
        Mp, lost = apply_m(pa, active)
        pMp = dot(pa, Mp)
        ok = ~lost & (pMp > 0)
        active, pa, Mp, pMp = active[ok], pa[ok], Mp[ok], pMp[ok]
        alpha = (rr[active] / pMp)[:, None, None]
        u[active] += alpha * pa
        r[active] -= alpha * Mp
        estimate = dot(u[active], a[active]) + dot(u[active], r[active])
        rr_next = dot(r[active], r[active])
        p[active] = r[active] + (rr_next / rr[active])[:, None, None] * pa
        rr[active] = rr_next
        active = active[(estimate <= stop_at) & (rr_next > 0)]
    bound = np.zeros(len(idx))
    moved = np.flatnonzero(np.any(u != 0, axis=(1, 2)))
    if moved.size:
        Mu, _ = apply_m(u[moved], moved)
        ua = dot(u[moved], a[moved])
        bound[moved] = np.maximum(2 * ua - dot(u[moved], Mu), 0.0)
    return bound


@dataclass(frozen=True)
class _Subspace:
    """A symmetric subspace ``vec(C) = Q c`` (what the tests need of a basis)."""

    Q: sparse.csc_matrix


def signed_fixed_space(action, n_targets: int) -> sparse.csc_matrix | None:
    """Basis of the coefficients fixed by a group of signed permutations.

    Each element maps coefficient ``(j, m)`` to ``(p_j, cols_m)`` with sign
    ``s_j vals_m`` (``C P_R = S C`` entry by entry), so the fixed models are
    constant up to those signs on every orbit of index pairs under the
    generated group, and zero on an orbit that reaches an index with both
    signs. One column per orbit (its signed indicator, 1 at its first index):
    the orbit-of-a-monomial basis, found by a graph search instead of a null
    space per block (a discovery tests dozens of such groups). ``None`` when
    only the zero model is fixed.
    """
    f = action.cols.shape[1]
    size = n_targets * f
    index = np.arange(size).reshape(n_targets, f)
    maps = []
    for g in range(len(action.perms)):
        if action.vector_output:
            rows, row_signs = action.perms[g, :n_targets], action.signs[g, :n_targets]
        else:
            rows, row_signs = np.arange(n_targets), np.ones(n_targets)
        dest = index[rows][:, action.cols[g]]
        sign = row_signs[:, None] * action.vals[g][None, :]
        maps.append((dest.ravel(), sign.ravel()))
    value = np.zeros(size)
    seen = np.zeros(size, dtype=bool)
    columns = []
    for start in range(size):
        if seen[start]:
            continue
        orbit, consistent = _signed_orbit(start, maps, value, seen)
        if consistent:
            columns.append((orbit, value[orbit]))
    if not columns:
        return None
    rows = np.concatenate([o for o, _ in columns])
    vals = np.concatenate([v for _, v in columns])
    cols = np.concatenate([np.full(len(o), k) for k, (o, _) in enumerate(columns)])
    return sparse.csc_matrix((vals, (rows, cols)), shape=(size, len(columns)))


def _signed_orbit(start, maps, value, seen):
    """Search the orbit of ``start``, signing ``value``; False on a conflict."""
    value[start], seen[start] = 1.0, True
    orbit, frontier, consistent = [start], [start], True
    while frontier:
        i = frontier.pop()
        for dest, sign in maps:
            j, v = dest[i], sign[i] * value[i]
            if not seen[j]:
                value[j], seen[j] = v, True
                orbit.append(j)
                frontier.append(j)
            elif value[j] != v:
                consistent = False
    return np.array(orbit), consistent


def _joint_test(problem, ctx, algebra, elements):
    action = signed_action(problem, elements) if algebra.dim == 0 else None
    if action is not None:
        Q = signed_fixed_space(action, problem.space.n_targets)
        if Q is None:
            return None, None
        basis = _Subspace(Q)
    else:
        group = SymmetryGroup(algebra, elements, n=problem.n)
        try:
            basis = equivariant_basis(
                problem.space.basis,
                group,
                problem.space.output,
                problem.space.n_targets,
            )
        except ValueError:
            return None, None
    from .continuous import orbit_dimension

    dof = orbit_dimension(algebra, problem.candidates) if algebra.dim else 0
    return subspace_test(ctx.stats, basis.Q, ctx.noise, dof, ctx.alpha), basis


def decide_discrete_by_test(
    problem, ctx, algebra, base_test, discrete, base_basis=None
) -> DiscreteResult:
    """Greedy closure of the tested elements into a group (module docstring)."""
    cands, family = candidates_for(problem, discrete)
    action = signed_action(problem, cands)  # built once, used by every step
    rel = relative_residuals(problem, cands, action=action)
    residuals = list(zip(cands, rel.tolist(), strict=True))
    crit_all = ctx.noise.critical_value(problem.space.n_coef, ctx.alpha)
    bounds = statistic_lower_bounds(
        problem, ctx, cands, stop_at=crit_all, action=action
    )
    order = np.argsort(bounds, kind="stable")
    pending = [i for i in order if bounds[i] <= crit_all]
    current = base_test.coef if base_test is not None else ctx.noise.coef
    accepted: list[np.ndarray] = []
    holding: list[np.ndarray] = []
    verdicts: list[Verdict] = []
    group_test, group_basis = base_test, base_basis
    n_tests = 0
    refit_changed = True
    while pending:
        # Only an accepted element changes the refit, and with it what is implied.
        # Without an informative model nothing is implied: all stay undetermined.
        if refit_changed and ctx.informative:
            implied = _implied(problem, cands, pending, current, action)
            holding += [cands[i] for i in pending if implied[i]]
            pending = [i for i in pending if not implied[i]]
            refit_changed = False
        if not pending:
            break
        if n_tests >= MAX_DISCRETE_TESTS or not ctx.informative:
            verdicts += _untested(problem, cands, rel, pending, ctx)
            break
        i = pending.pop(0)
        n_tests += 1
        test, basis = _joint_test(problem, ctx, algebra, accepted + [cands[i]])
        verdict = "symmetric" if test is not None and test.accepted else "broken"
        power = None
        if (
            verdict == "symmetric"
            and ctx.reference is not None
            and problem.space.n_coef <= 1500
        ):
            power = detectable_breaking(
                ctx.stats,
                ctx.noise,
                basis.Q,
                ctx.reference,
                test.coef,
                test.dof,
                ctx.alpha,
            )
        verdicts.append(_verdict(problem, cands[i], rel[i], test, verdict, power))
        if power is not None and power > DETECTABLE_BREAKING:
            verdict = "undetermined"
            verdicts[-1].undetermine(power_reason(power))
        elif verdict == "symmetric":
            from .continuous import runs_agree

            if not runs_agree(problem, ctx, test, basis, verdicts[-1]):
                verdict = "broken"
        if verdict == "symmetric":
            accepted.append(cands[i])
            holding.append(cands[i])
            current, group_test, group_basis = test.coef, test, basis
            refit_changed = True
    n_rejected = int(np.sum(bounds > crit_all))
    if n_rejected:
        family += f" ({n_rejected} rejected by the lower bound of their statistic)"
    # The accepted elements need not be closed: generate their group.
    gens = generators_modulo_identity_component(holding, algebra, problem.n)
    group_order = FiniteMatrixGroup(generating_set(holding, problem.n), problem.n).order
    return DiscreteResult(
        gens,
        residuals,
        group_order,
        family,
        verdicts,
        group_test,
        holding,
        group_basis,
    )


def _is_full_family(discrete, n: int) -> bool:
    """Whether the candidates are all signed permutations (a group)."""
    return (
        isinstance(discrete, str)
        and discrete == "auto"
        and factorial(n) * 2**n <= MAX_SIGNED_PERMUTATIONS
    )


def _implied(problem, cands, pending, coef, action) -> dict:
    """Which pending candidates the refit ``coef`` satisfies exactly.

    ``action``: the signed-permutation action of all candidates, or None.
    """
    if not pending:
        return {}
    scale = max(np.linalg.norm(coef), 1e-300)
    idx = np.asarray(pending)
    if action is not None:
        res = np.concatenate(
            [
                np.linalg.norm(action.apply(coef, idx[b]).reshape(len(b), -1), axis=1)
                for b in _batches(len(idx))
            ]
        )
    else:
        res = np.array(
            [
                np.linalg.norm(problem.space.discrete_constraint(cands[i])(coef))
                for i in idx
            ]
        )
    return {i: bool(r <= _IMPLIED_TOL * scale) for i, r in zip(idx, res, strict=True)}


#: Untested candidates listed one by one in the report; the rest are summed up.
_LISTED_UNTESTED = 16


def _untested(problem, cands, rel, pending, ctx) -> list[Verdict]:
    """Undetermined verdicts of the candidates left when testing stops."""
    why = ctx.undecidable or f"not tested: beyond the {MAX_DISCRETE_TESTS} refits"
    # The identity holds for every model (otherwise found implied by the refit).
    pending = [
        i for i in pending if not np.array_equal(cands[i], np.eye(len(cands[i])))
    ]
    listed = [
        _verdict(problem, cands[i], rel[i], None, "undetermined")
        for i in pending[:_LISTED_UNTESTED]
    ]
    rest = pending[_LISTED_UNTESTED:]
    if rest:
        listed.append(
            Verdict(
                "discrete",
                f"{len(rest)} further candidates",
                "undetermined",
                None,
                float(np.min(rel[rest])),
            )
        )
    for verdict in listed:
        verdict.reason = why
    return listed


def _verdict(problem, R, rel, test, verdict, power=None) -> Verdict:
    return Verdict(
        "discrete",
        describe_discrete(R, problem.names or None),
        verdict,
        test,
        float(rel),
        detectable_breaking=power,
        element=R,
    )


def _discrete_residuals(coef, basis, candidates, output, samples, inner_product):
    """Relative residuals ``(R, ||F(R x) - S F(x)|| / ||F||)`` (0.1's helper)."""
    from ..spaces import ModelSpace
    from ..spectrum import FunctionNorm

    space = ModelSpace.of(basis, output=output, n_targets=coef.shape[0])
    norm = FunctionNorm.resolve(inner_product, samples)
    problem = DiscoveryProblem(coef, space, None, norm, None, "exact", None, None, None)
    rel = relative_residuals(problem, list(candidates))
    return list(zip(candidates, rel.tolist(), strict=True))
