"""Carry a symmetry through an affine change of input coordinates.

Preprocessing such as ``StandardScaler`` feeds a model ``x' = M x + b`` while its
targets (time derivatives) stay in the original units. A model ``G(x') = F(x)``
is symmetric in the *original* coordinates exactly when

* for a linear generator ``A``: ``DG(x') A' (x' - b) = A G(x')`` with
  ``A' = M A M^-1`` (an affine input field, output action ``A``);
* for a discrete element ``R``: ``G(R' x' + b - R' b) = R G(x')`` with
  ``R' = M R M^-1``.

Unequal scales turn a rotation into a different linear symmetry, and centring
makes it affine; fitting the untransported group would silently produce a
model symmetric in the wrong coordinates.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .algebra import LieAlgebra
from .group import SymmetryGroup
from .polynomials import Monomials
from .spaces import ModelSpace, OutputAction

__all__ = ["affine_map", "transported_constraints"]


def affine_map(transform, n: int, x_probe: np.ndarray | None = None):
    """``(M, b)`` with ``transform(x) = M x + b``, checked to be affine.

    Parameters
    ----------
    transform : callable mapping ``(n_samples, n)`` to ``(n_samples, n)``
    n : int
    x_probe : array, optional
        Points at which affinity is verified (default: random).

    Raises
    ------
    ValueError
        If the map is not affine, changes the dimension, or is not invertible.
    """
    points = np.vstack([np.zeros(n), np.eye(n)])
    images = np.asarray(transform(points), dtype=float)
    if images.shape != (n + 1, n):
        raise ValueError(
            "preprocessing must map R^n to R^n to carry a symmetry, got output "
            f"shape {images.shape[1:]} for {n} inputs"
        )
    b = images[0]
    M = (images[1:] - b).T
    probe = np.random.default_rng(0).normal(size=(8, n)) if x_probe is None else x_probe
    if not np.allclose(
        np.asarray(transform(probe)), probe @ M.T + b, rtol=1e-8, atol=1e-10
    ):
        raise ValueError(
            "preprocessing is not an affine map; a symmetry cannot be carried through "
            "it (use linear scalers such as StandardScaler, or none)"
        )
    if np.linalg.cond(M) > 1e12:
        raise ValueError("preprocessing is not invertible (e.g. a constant feature)")
    return M, b


def transported_constraints(
    group,
    basis: Monomials,
    M: np.ndarray,
    b: np.ndarray,
    output="vector",
    n_targets: int | None = None,
) -> sparse.csr_matrix:
    """Constraints on ``vec(C)`` in the new coordinates ``x' = M x + b``.

    ``group`` is given in the original coordinates; only linear generators and
    discrete elements that commute with the shift can be carried.
    """
    group = SymmetryGroup.coerce(group)
    n = group.n
    space = ModelSpace.of(basis, n, output, n_targets)
    t = space.n_targets
    Minv = np.linalg.inv(M)
    blocks = []
    if group.dim:
        if not group.algebra.is_linear:
            raise ValueError(
                "only linear generators can be carried through preprocessing"
            )
        mats = group.algebra.matrices
        fields = np.zeros((group.dim, n, n + 1))
        for k, A in enumerate(mats):
            A_new = M @ A @ Minv
            fields[k, :, 1:] = A_new
            fields[k, :, 0] = -A_new @ b
        # In the new coordinates the input field is affine while the outputs
        # (derivatives in original units) still transform by A itself.
        out = mats if space.output.is_vector else np.zeros((group.dim, t, t))
        moved = ModelSpace(basis, t, OutputAction.coerce(out))
        blocks.append(moved.lie_derivative(LieAlgebra(fields, 1)).matrix)
    for R in group.discrete:
        R_new = M @ R @ Minv
        if not np.allclose(R_new @ b, b, atol=1e-10 * max(1.0, np.abs(b).max())):
            raise ValueError(
                "a discrete symmetry does not commute with the preprocessing's "
                "centring (R mean != mean); use StandardScaler(with_mean=False) or "
                "centre the data so that the symmetry fixes the mean"
            )
        S = space.output.element_matrix(R, t)
        blocks.append(space.discrete_constraint(R_new, S).matrix)
    if not blocks:
        return space.zeros()
    return sparse.vstack(blocks, format="csr")
