"""Exact neighbours of numerically found generators, and Lie closures.

A generator estimated from a noisy fit is slightly off (entries of 1e-5 where
a rotation has zeros). Enforcing it would exclude almost every model: the
resonances that allow nonlinear equivariant terms (``|x|^2 x`` for a rotation)
hold only for the exact generator. So discovery proposes exact neighbours:
the span rewritten with the identity at its largest entries and every entry
rounded to a nearby simple fraction. Whether a neighbour is accepted is decided
by the caller (a test or a tolerance), never here.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.linalg import qr

from ..algebra import LieAlgebra
from ..tolerances import CLOSURE_TOL

__all__ = [
    "snap",
    "exact_neighbours",
    "lie_closure",
    "SNAP_MAX_DENOMINATOR",
    "SNAP_RELATIVE_DISTANCE",
    "COARSE_SNAP",
]

#: Entries are rounded to fractions with at most this denominator ...
SNAP_MAX_DENOMINATOR = 6

#: ... when the fraction is this close (relative to the largest entry).
SNAP_RELATIVE_DISTANCE = 0.05

#: ``(max denominator, relative distance)`` of the coarse neighbour: every
#: entry rounded to the nearest half (no entry is farther than 1/4 from one).
#: A generator estimated from noisy data can be 0.1-0.2 rad off, with entries
#: of 0.05-0.2 where the exact one has zeros and 0.8 where it has ones; the
#: fine rounding keeps them, and the neighbour it proposes is rejected for them.
COARSE_SNAP = (2, 0.25)


def _round_simple(
    values: np.ndarray,
    max_denominator: int = SNAP_MAX_DENOMINATOR,
    distance: float = SNAP_RELATIVE_DISTANCE,
) -> np.ndarray:
    """Round entries to nearby fractions with small denominators where close."""
    out = values.copy()
    scale = np.abs(values).max()
    for idx, v in np.ndenumerate(values):
        frac = float(Fraction(float(v)).limit_denominator(max_denominator))
        if abs(frac - v) <= distance * scale:
            out[idx] = frac
    return out


def _orthonormal(coefficients: np.ndarray, degree: int) -> LieAlgebra:
    flat = coefficients.reshape(coefficients.shape[0], -1)
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    # Entries that are zero in every input stay exactly zero (a linear field
    # must not pick up a 1e-17 constant term).
    vt[:, ~np.any(flat != 0, axis=0)] = 0.0
    return LieAlgebra(vt.reshape(coefficients.shape), degree)


def _orthonormal_matrices(mats: np.ndarray) -> np.ndarray:
    flat = mats.reshape(len(mats), -1)
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    return vt.reshape(mats.shape)


def exact_neighbours(algebra: LieAlgebra) -> list[LieAlgebra]:
    """The distinct exact versions of ``algebra``: fine, then coarse rounding."""
    out, keys = [], set()
    for level in ((SNAP_MAX_DENOMINATOR, SNAP_RELATIVE_DISTANCE), COARSE_SNAP):
        exact = snap(algebra, *level)
        if exact is None:
            continue
        key = np.round(exact.coefficients, 12).tobytes()
        if key not in keys:
            keys.add(key)
            out.append(exact)
    return out


def snap(
    algebra: LieAlgebra,
    max_denominator: int = SNAP_MAX_DENOMINATOR,
    distance: float = SNAP_RELATIVE_DISTANCE,
) -> LieAlgebra | None:
    """An exact version of ``algebra`` (same dimension, closed), or None.

    The basis is rewritten with the identity at its largest entries (column
    pivoted QR) and every entry rounded to a fraction with denominator
    <= ``max_denominator`` when within ``distance`` of it (relative to the
    largest entry).

    Examples
    --------
    >>> from symsindy import LieAlgebra
    >>> noisy = LieAlgebra.from_matrices([[[0.0, -1.0, -0.09], [0.94, 0.0, 0.05],
    ...                                    [0.06, 0.0, 0.0]]])
    >>> snap(noisy, 2, 0.2).matrices[0].round(3).tolist()
    [[0.0, -0.707, 0.0], [0.707, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if algebra.dim == 0:
        return None
    flat = algebra.coefficients.reshape(algebra.dim, -1)
    _, _, piv = qr(flat, pivoting=True, mode="economic")
    pivots = piv[: algebra.dim]
    rows = np.linalg.solve(flat[:, pivots], flat)
    snapped = _round_simple(rows, max_denominator, distance)
    if np.linalg.matrix_rank(snapped, tol=1e-8) != algebra.dim:
        return None
    candidate = LieAlgebra(snapped.reshape(algebra.coefficients.shape), algebra.degree)
    if not candidate.is_closed(CLOSURE_TOL):
        return None
    return _orthonormal(candidate.coefficients, candidate.degree)


def lie_closure(algebra: LieAlgebra, max_dim: int) -> LieAlgebra | None:
    """The smallest subalgebra containing ``algebra`` (None beyond ``max_dim``).

    Brackets outside the span are added until the span is closed. Only
    linear algebras are closed here (their brackets stay linear).
    """
    if algebra.dim == 0 or not algebra.is_linear:
        return algebra if algebra.dim else None
    mats = list(
        _orthonormal(
            LieAlgebra.from_matrices(algebra.matrices).coefficients, 1
        ).matrices
    )
    while len(mats) <= max_dim:
        basis = np.array([m.ravel() for m in mats])
        new = []
        for i in range(len(mats)):
            for j in range(i + 1, len(mats)):
                br = (mats[i] @ mats[j] - mats[j] @ mats[i]).ravel()
                coef, *_ = np.linalg.lstsq(basis.T, br, rcond=None)
                rest = br - basis.T @ coef
                if np.linalg.norm(rest) > 1e-8 * max(1.0, np.linalg.norm(br)):
                    new.append(rest)
        if not new:
            closed = LieAlgebra.from_matrices(_orthonormal_matrices(np.array(mats)))
            return closed.with_degree(algebra.degree)
        for v in new:
            basis = np.array([m.ravel() for m in mats])
            coef, *_ = np.linalg.lstsq(basis.T, v, rcond=None)
            rest = v - basis.T @ coef
            if np.linalg.norm(rest) > 1e-8:
                mats.append((rest / np.linalg.norm(rest)).reshape(mats[0].shape))
    return None
