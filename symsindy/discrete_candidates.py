"""Which discrete symmetries to test: a candidate family that scales with ``n``.

There are ``2^n n!`` signed permutations of ``n`` coordinates: 46 080 for
``n = 6`` but 3.7e9 for ``n = 10``. :func:`candidate_discrete_elements` tests
all of them while that is cheap and otherwise a documented family whose size
grows polynomially in ``n``:

* **sign flips** of one coordinate, of every pair of coordinates, and of all
  coordinates (``1 + n + n(n-1)/2`` elements, identity included so that pure
  permutations are tested too);
* **structure-preserving permutations** of a given model: permutations ``p``
  that map the model's support onto itself (equation ``i`` and state ``j`` go to
  ``p(i)``, ``p(j)``; monomials are relabelled accordingly). Any permutation
  symmetry of the model has this property, so none is missed. They are the
  automorphisms of the coloured graph "state ``j`` appears in equation ``i``
  (with these degrees and exponents)", found by colour refinement and a
  backtracking search with pruning, at most ``max_permutations`` of them;
  every one is combined with every sign flip above;
* without a model, the cyclic shifts, the reversal and the transpositions.

The returned name states the family (and any cap), so a report can say
exactly what was searched.
"""

from __future__ import annotations

from itertools import combinations, permutations, product
from math import factorial

import numpy as np

from .polynomials import Monomials

__all__ = [
    "candidate_discrete_elements",
    "structure_permutations",
    "MAX_CANDIDATES",
]

#: Default cap on the number of candidates (all signed permutations up to n = 6).
MAX_CANDIDATES = 50_000

#: Coefficients below this fraction of the largest one are outside the support.
SUPPORT_REL_TOL = 1e-8


def candidate_discrete_elements(
    n: int,
    coef: np.ndarray | None = None,
    basis: Monomials | None = None,
    limit: int = MAX_CANDIDATES,
    max_permutations: int = 200,
) -> tuple[list[np.ndarray], str]:
    """Discrete candidate symmetries of a model with ``n`` states.

    Parameters
    ----------
    n : int
        State dimension.
    coef : array (n_targets, n_features), optional
        The model's coefficients over ``basis``; enables the structure-preserving
        permutations (see module docstring).
    basis : Monomials, optional
        The library of ``coef`` (default: the full polynomial library whose size
        matches ``coef``).
    limit : int
        Largest number of candidates; all signed permutations are used while
        there are at most ``limit`` of them.
    max_permutations : int
        Cap on the structure-preserving permutations searched.

    Returns
    -------
    candidates : list of (n, n) arrays
        Signed permutation matrices ``R`` (``(R x)_i = s_i x_p(i)``).
    family : str
        What was searched, for reports.

    Examples
    --------
    >>> cands, family = candidate_discrete_elements(3)
    >>> len(cands), family
    (48, 'all 48 signed permutations')
    >>> cands, family = candidate_discrete_elements(10)
    >>> len(cands) < 200, family.startswith("sign flips")
    (True, True)
    """
    n = _check_n(n)
    limit = int(limit)
    if limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit}")
    total = factorial(n) * 2**n
    if total <= limit:
        return _all_signed_permutations(n), f"all {total} signed permutations"
    signs = _sign_family(n)
    sign_text = (
        f"sign flips of single coordinates, of pairs and of all coordinates "
        f"({len(signs) - 1} + identity)"
    )
    if coef is None:
        perms = _generic_permutations(n)
        out = [_matrix(p, np.ones(n)) for p in perms] + [
            _matrix(np.arange(n), s) for s in signs[1:]
        ]
        family = (
            f"{sign_text}; cyclic shifts, reversal and transpositions "
            f"({len(perms) - 1}); no model given, so no structure-preserving "
            f"permutations"
        )
        return _cap(out, limit, family)
    coef = np.asarray(coef, dtype=float)
    basis = _resolve(basis, n, coef)
    perms, complete = structure_permutations(coef, basis, max_permutations)
    out = [_matrix(p, s) for p in perms for s in signs]
    which = "all" if complete else f"the first {len(perms)} (search capped)"
    family = (
        f"{sign_text}, each combined with {which} of the {len(perms)} permutations "
        f"that preserve the model's structure (identity included)"
    )
    return _cap(out, limit, family)


def structure_permutations(
    coef: np.ndarray, basis: Monomials, max_count: int = 200, max_nodes: int = 200_000
) -> tuple[list[np.ndarray], bool]:
    """Permutations ``p`` of the states that map the model's support onto itself.

    For vector fields (``n_targets == n``) equation ``i`` moves with state
    ``i``; otherwise the outputs stay fixed. The identity comes first.

    Returns
    -------
    perms : list of int arrays
        ``p`` with ``R[i, p[i]] = 1`` a candidate.
    complete : bool
        False when ``max_count`` or ``max_nodes`` stopped the search.

    Examples
    --------
    A cyclic model ``x_i' = x_(i+1)`` on four states has the four shifts:

    >>> coef = np.zeros((4, 5))
    >>> for i in range(4):
    ...     coef[i, 1 + (i + 1) % 4] = 1.0
    >>> perms, complete = structure_permutations(coef, Monomials(4, 1))
    >>> sorted(p.tolist() for p in perms), complete
    ([[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2]], True)
    """
    n, exps = basis.n_vars, basis.exponents
    scale = np.abs(coef).max() if coef.size else 0.0
    support = np.abs(coef) > SUPPORT_REL_TOL * scale if scale > 0 else coef != 0
    vector = coef.shape[0] == n
    W = _coupling_labels(support, exps, vector)
    colours = _refine(W)
    target = {(i, m) for i, m in zip(*np.nonzero(support), strict=True)}

    def preserves(p: np.ndarray) -> bool:
        moved = np.zeros_like(exps)
        moved[:, p] = exps  # (R x)^e with (R x)_j = x_p(j)
        img = basis.index(moved)
        rows = p if vector else np.arange(coef.shape[0])
        return all((rows[i], img[m]) in target for i, m in target)

    # Backtracking over states, most constrained (smallest colour class) first.
    sizes = np.bincount(colours)
    order = sorted(range(n), key=lambda v: (sizes[colours[v]], v))
    found: list[np.ndarray] = []
    nodes = 0
    p = -np.ones(n, dtype=int)
    used = np.zeros(n, dtype=bool)
    complete = True

    def extend(depth: int) -> bool:
        nonlocal nodes, complete
        if depth == n:
            if preserves(p):
                found.append(p.copy())
                if len(found) >= max_count:
                    complete = False
                    return False
            return True
        v = order[depth]
        assigned = order[:depth]
        for u in np.nonzero((colours == colours[v]) & ~used)[0]:
            nodes += 1
            if nodes > max_nodes:
                complete = False
                return False
            if W[v, v] != W[u, u]:
                continue
            if any(W[v, w] != W[u, p[w]] or W[w, v] != W[p[w], u] for w in assigned):
                continue
            p[v], used[u] = u, True
            keep_going = extend(depth + 1)
            p[v], used[u] = -1, False
            if not keep_going:
                return False
        return True

    extend(0)
    identity = np.arange(n)
    found.sort(key=lambda q: (not np.array_equal(q, identity), q.tolist()))
    return found, complete


# ------------------------------------------------------------------ helpers
def _coupling_labels(support: np.ndarray, exps: np.ndarray, vector: bool) -> np.ndarray:
    """Integer label ``W[i, j]``: how state ``j`` enters equation ``i``.

    The label encodes the sorted (degree, exponent of x_j) pairs of the support
    monomials of equation ``i`` containing ``x_j``; relabelling states by a
    structure-preserving permutation maps ``W`` to itself. For scalar outputs
    all equations are pooled into one row per state pair ``(j, j)``.
    """
    n = exps.shape[1]
    degrees = exps.sum(axis=1)
    table: dict = {}
    rows = support if vector else support.any(axis=0, keepdims=True)
    W = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        eq = rows[i] if vector else rows[0]
        mons = np.nonzero(eq)[0]
        for j in range(n):
            has = mons[exps[mons, j] > 0]
            key = tuple(
                sorted(zip(degrees[has].tolist(), exps[has, j].tolist(), strict=True))
            )
            if not vector:
                # Scalar outputs: only the diagonal carries information.
                key = key if i == j else ()
            W[i, j] = table.setdefault(key, len(table))
    return W


def _refine(W: np.ndarray) -> np.ndarray:
    """Stable colouring of the states (1-dimensional Weisfeiler-Leman)."""
    n = W.shape[0]
    colours = np.zeros(n, dtype=np.int64)
    for _ in range(n + 1):
        signature = [
            (
                int(colours[i]),
                int(W[i, i]),
                tuple(sorted(zip(W[i].tolist(), colours.tolist(), strict=True))),
                tuple(sorted(zip(W[:, i].tolist(), colours.tolist(), strict=True))),
            )
            for i in range(n)
        ]
        table = {s: k for k, s in enumerate(sorted(set(signature)))}
        new = np.array([table[s] for s in signature])
        if len(table) == len(np.unique(colours)):
            return new
        colours = new
    return colours


def _sign_family(n: int) -> list[np.ndarray]:
    """Identity, single flips, pair flips and the full flip (no duplicates)."""
    out = [np.ones(n)]
    for i in range(n):
        s = np.ones(n)
        s[i] = -1.0
        out.append(s)
    for i, j in combinations(range(n), 2):
        s = np.ones(n)
        s[[i, j]] = -1.0
        out.append(s)
    if n > 2:
        out.append(-np.ones(n))
    return out


def _generic_permutations(n: int) -> list[np.ndarray]:
    base = np.arange(n)
    perms = [np.roll(base, -k) for k in range(n)]  # identity first
    perms.append(base[::-1].copy())
    for i, j in combinations(range(n), 2):
        p = base.copy()
        p[[i, j]] = p[[j, i]]
        perms.append(p)
    unique = {tuple(p): p for p in perms}
    return list(unique.values())


def _all_signed_permutations(n: int) -> list[np.ndarray]:
    return [
        _matrix(np.array(perm), np.array(signs))
        for perm in permutations(range(n))
        for signs in product((1.0, -1.0), repeat=n)
    ]


def _matrix(perm: np.ndarray, signs: np.ndarray) -> np.ndarray:
    n = len(perm)
    R = np.zeros((n, n))
    R[np.arange(n), perm] = signs
    return R


def _cap(out: list, limit: int, family: str) -> tuple[list[np.ndarray], str]:
    # Drop the identity (it is always a symmetry) and duplicates.
    seen, unique = set(), []
    eye = np.eye(len(out[0])) if out else None
    for R in out:
        key = R.tobytes()
        if key in seen or np.array_equal(R, eye):
            continue
        seen.add(key)
        unique.append(R)
    if len(unique) > limit:
        family += f"; capped at the first {limit} of {len(unique)}"
        unique = unique[:limit]
    return unique, f"{family}: {len(unique)} candidates"


def _resolve(basis, n: int, coef: np.ndarray) -> Monomials:
    if basis is not None:
        if basis.n_vars != n:
            raise ValueError(f"basis has {basis.n_vars} variables, expected n = {n}")
        if coef.shape[1] != len(basis):
            raise ValueError(
                f"coef has {coef.shape[1]} columns but basis has {len(basis)} monomials"
            )
        return basis
    for degree in range(0, 64):
        size = len(Monomials(n, degree))
        if size == coef.shape[1]:
            return Monomials(n, degree)
        if size > coef.shape[1]:
            break
    raise ValueError(
        f"coef has {coef.shape[1]} columns, which matches no full polynomial library "
        f"in {n} variables; pass basis"
    )


def _check_n(n) -> int:
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return int(n)
