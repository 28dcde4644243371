"""Readable names for generators, algebras and discrete elements.

Recognition works on spans, not on particular basis vectors: an algebra is
called ``so(3) acting on (x0, x1, x2)`` when its span equals that of the
embedded so(3), whatever basis the SVD returned.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import numpy as np

from .algebra import LieAlgebra
from .linalg import echelon_basis

__all__ = [
    "describe_algebra",
    "describe_generator",
    "describe_discrete",
    "readable_basis",
]

_TOL = 1e-6


def _coord_list(coords, names) -> str:
    return "(" + ", ".join(names[c] for c in coords) + ")"


def _same_span(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the rows of ``a`` and ``b`` span the same space."""
    if a.shape[0] != b.shape[0]:
        return False
    ra = np.linalg.matrix_rank(a, tol=_TOL)
    return (
        ra
        == np.linalg.matrix_rank(b, tol=_TOL)
        == np.linalg.matrix_rank(np.vstack([a, b]), tol=_TOL)
    )


def readable_basis(vectors: np.ndarray) -> np.ndarray:
    """The span of independent rows, rewritten in reduced row echelon form."""
    return echelon_basis(np.asarray(vectors, dtype=float).T)[0].T


def _ratio_string(values: np.ndarray) -> str:
    base = values[np.argmin(np.abs(values))]
    ratios = values / base
    fracs = [Fraction(float(r)).limit_denominator(12) for r in ratios]
    if all(abs(float(f) - r) < 1e-6 for f, r in zip(fracs, ratios, strict=True)):
        denom = np.lcm.reduce([f.denominator for f in fracs])
        ints = [int(f * denom) for f in fracs]
        return "(" + ", ".join(str(i) for i in ints) + ")"
    return "(" + ", ".join(f"{r:.3g}" for r in ratios) + ")"


def describe_generator(A: np.ndarray, names: list[str] | None = None) -> str:
    """Name a linear generator: rotation, scaling, shear, or its matrix."""
    A = np.asarray(A, dtype=float)
    n = A.shape[0]
    names = names or [f"x{j}" for j in range(n)]
    scale = np.abs(A).max()
    if scale == 0:
        return "zero"
    A = A / scale
    support = [
        i for i in range(n) if np.abs(A[i]).max() > _TOL or np.abs(A[:, i]).max() > _TOL
    ]
    if np.allclose(A, A[0, 0] * np.eye(n), atol=_TOL):
        return "uniform scaling"
    if np.allclose(A, np.diag(np.diag(A)), atol=_TOL):
        d = np.diag(A)[support]
        if len(support) == 1:
            return f"scaling of {names[support[0]]}"
        return (
            f"scaling of {_coord_list(support, names)} with weights {_ratio_string(d)}"
        )
    if np.allclose(A, -A.T, atol=_TOL):
        if len(support) == 2:
            i, j = support
            return f"rotation in the ({names[i]}, {names[j]}) plane"
        planes = _rotation_planes(A, support)
        if planes:
            listed = ", ".join(f"({names[i]}, {names[j]})" for i, j in planes)
            return f"simultaneous rotation in the {listed} planes"
        return f"rotation acting on {_coord_list(support, names)}"
    sym = 0.5 * (A + A.T)
    if np.allclose(sym, sym[0, 0] * np.eye(n), atol=_TOL):
        return "rotation combined with uniform scaling"
    return "linear map " + np.array2string(A, precision=3, suppress_small=True).replace(
        "\n", ""
    )


def _rotation_planes(A: np.ndarray, support: list[int]):
    """Coordinate pairs if ``A`` rotates disjoint planes at one common speed."""
    planes, used = [], set()
    for i in support:
        if i in used:
            continue
        partners = [j for j in support if j != i and abs(A[j, i]) > _TOL]
        if len(partners) != 1 or partners[0] in used:
            return None
        j = partners[0]
        planes.append((i, j))
        used.update((i, j))
    speeds = [abs(A[j, i]) for i, j in planes]
    return planes if np.allclose(speeds, speeds[0]) else None


def describe_algebra(algebra: LieAlgebra, names: list[str] | None = None) -> list[str]:
    """Lines naming the algebra, recognising gl, sl, so on coordinate subsets.

    Falls back to naming each element of a readable (row-echelon) basis.
    """
    n = algebra.n
    names = names or [f"x{j}" for j in range(n)]
    if algebra.dim == 0:
        return ["no continuous symmetry"]
    if not algebra.is_linear:
        flat = readable_basis(algebra.coefficients.reshape(algebra.dim, -1))
        mon = algebra.basis.names(names)
        lines = []
        for row in flat.reshape(-1, n, len(mon)):
            terms = [
                f"{c:+.3g} {m} d/d{names[i]}"
                for i in range(n)
                for c, m in zip(row[i], mon, strict=True)
                if abs(c) > 1e-9
            ]
            lines.append("vector field " + " ".join(terms))
        return lines
    mats = algebra.matrices.reshape(algebra.dim, -1)
    if algebra.dim == n * n:
        return [f"gl({n}): all linear maps of {_coord_list(range(n), names)}"]
    if algebra.dim == n * n - 1 and _same_span(
        mats, LieAlgebra.sl(n).matrices.reshape(-1, n * n)
    ):
        return [f"sl({n}): traceless linear maps of {_coord_list(range(n), names)}"]
    # Peel off recognisable so(k) blocks (k >= 3), then name what remains.
    lines, remaining = [], mats
    for k in range(n, 2, -1):
        for coords in combinations(range(n), k):
            block = LieAlgebra.so(k).embed(coords, n).matrices.reshape(-1, n * n)
            if np.linalg.matrix_rank(np.vstack([remaining, block]), tol=_TOL) == (
                np.linalg.matrix_rank(remaining, tol=_TOL)
            ):
                lines.append(f"so({k}) acting on {_coord_list(coords, names)}")
                remaining = _complement(remaining, block)
    for row in readable_basis(remaining) if remaining.shape[0] else []:
        lines.append(describe_generator(row.reshape(n, n), names))
    return lines


def _complement(span: np.ndarray, sub: np.ndarray) -> np.ndarray:
    """Rows spanning the orthogonal complement of ``sub`` inside ``span``."""
    q, _ = np.linalg.qr(sub.T)
    rest = span - (span @ q) @ q.T
    u, s, vt = np.linalg.svd(rest, full_matrices=False)
    return vt[s > _TOL * max(1.0, s.max(initial=0.0))]


def describe_discrete(R: np.ndarray, names: list[str] | None = None) -> str:
    """Name a discrete element, e.g. ``(x0, x1, x2) -> (-x0, -x1, x2)``."""
    R = np.asarray(R, dtype=float)
    n = R.shape[0]
    names = names or [f"x{j}" for j in range(n)]
    if np.allclose(R, -np.eye(n)):
        return "point reflection x -> -x"
    images = []
    for i in range(n):
        nz = np.nonzero(np.abs(R[i]) > _TOL)[0]
        if len(nz) == 1 and np.isclose(abs(R[i, nz[0]]), 1.0):
            sign = "-" if R[i, nz[0]] < 0 else ""
            images.append(f"{sign}{names[nz[0]]}")
        else:
            terms = " ".join(f"{R[i, j]:+.3g} {names[j]}" for j in nz)
            images.append(terms.lstrip("+"))
    return f"{_coord_list(range(n), names)} -> ({', '.join(images)})"
