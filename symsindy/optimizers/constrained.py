"""The same symmetry constraints handed to pysindy's ``ConstrainedSR3``.

This is the baseline that symsindy's reduced-coordinate optimizers are checked
and benchmarked against: pysindy enforces ``constraint_lhs @ vec(C) = 0`` in
every iteration, here with ``constraint_lhs`` an orthonormal basis of the row
space of the stacked symmetry constraints (pysindy's KKT solve needs linearly
independent rows).
"""

from __future__ import annotations

import numpy as np
import pysindy as ps
from scipy.linalg import orth

from ..equivariance import symmetry_constraints
from ..group import SymmetryGroup
from ..lie_derivative import resolve_basis

__all__ = ["constrained_sr3"]


def constrained_sr3(
    symmetry, library, output="vector", n_targets: int | None = None, **kwargs
) -> ps.ConstrainedSR3:
    """A ``ps.ConstrainedSR3`` whose equality constraints are the symmetry.

    Parameters
    ----------
    symmetry : SymmetryGroup, LieAlgebra, or generator matrices
    library : Monomials or pysindy.PolynomialLibrary
    output : "vector" or "invariant"
    n_targets : int, optional
    **kwargs : passed to ``ps.ConstrainedSR3`` (e.g. ``reg_weight_lam``,
        ``regularizer``, ``relax_coeff_nu``, ``max_iter``).

    Notes
    -----
    pysindy holds the constraints on ``coef_full_`` (the relaxed variable);
    its sparse ``coef_`` is only approximately symmetric.
    """
    K = symmetry_constraints(library, symmetry, output, n_targets).toarray()
    lhs = orth(K.T).T if K.shape[0] else np.zeros((0, K.shape[1]))
    if lhs.shape[0] == 0:
        raise ValueError("the symmetry imposes no constraint on this library")
    # Our vec is target-major; pysindy's non-deprecated "feature" order is
    # feature-major, so permute the columns once here.
    n_feat = len(resolve_basis(library, SymmetryGroup.coerce(symmetry).n))
    lhs = (
        lhs.reshape(lhs.shape[0], -1, n_feat)
        .transpose(0, 2, 1)
        .reshape(lhs.shape[0], -1)
    )
    return ps.ConstrainedSR3(
        constraint_lhs=lhs,
        constraint_rhs=np.zeros(lhs.shape[0]),
        constraint_order="feature",
        equality_constraints=True,
        **kwargs,
    )
