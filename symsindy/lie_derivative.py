"""Exact Lie-derivative operators on the coefficients of polynomial models.

A model is ``F(x) = C Theta(x)`` with ``C`` of shape ``(n_targets, n_features)``
(pysindy's ``coef_`` layout) and ``Theta`` the monomials of a library. For a
generator ``xi`` this module builds the sparse matrix ``L`` with

    vec(coefficients of L_xi F) = L @ vec(C),     vec(C) = C.ravel()  (row-major,
                                                  target-major, as pysindy's
                                                  ``constraint_order="target"``)

Conventions
-----------
``L_xi F = DF . xi - (output action) F`` where the output action is

* ``"vector"`` (ODE right-hand sides, the default): ``D xi . F``, so
  ``L_xi F`` is the vector-field bracket and, for ``xi = A x``,
  ``L_A F = DF A x - A F``;
* ``"invariant"`` (scalar functions of the state): nothing, ``L_xi f = Df . xi``;
* a matrix ``B`` (``(n_targets, n_targets)``, one per generator): ``B F``.

With the bracket of :mod:`symsindy.algebra` (the matrix commutator on linear
fields), ``L_[xi, eta] = -[L_xi, L_eta]``.

The coefficients of ``L_xi F`` live in :func:`output_basis`: monomials of degree
in ``[max(0, min(l0, l0 + k0 - 1)), max(l1, l1 + k1 - 1)]`` for a library of
degrees ``[l0, l1]`` and generators of degrees ``[k0, k1]``; for linear
generators this is the library itself.

A discrete element ``R`` gives the condition ``F(R x) = S F(x)`` (``S = R``,
identity, or the user's matrix), i.e. ``C P_R - S C = 0`` with ``P_R`` from
:func:`symsindy.polynomials.substitution_matrix`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._validation import check_invertible, check_square
from .algebra import LieAlgebra
from .polynomials import (
    Monomials,
    directional_derivative_matrix,
    embedding_matrix,
    jacobian_product_tensor,
    substitution_matrix,
)
from .size_guard import check_lie_derivative
from .spaces import ModelSpace, OutputAction, check_acts_on, resolve_basis

__all__ = [
    "CoefficientOperator",
    "resolve_basis",
    "output_basis",
    "lie_derivative",
    "lie_derivative_stack",
    "lie_derivative_matrix",
    "discrete_constraint",
    "build_lie_derivative",
    "build_discrete_constraint",
]

OutputActionLike = str | np.ndarray | Sequence[np.ndarray] | OutputAction


@dataclass(frozen=True)
class CoefficientOperator:
    """A sparse linear map between coefficient matrices of polynomial models.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Shape ``(n_blocks * n_targets * len(out_basis), n_targets * len(in_basis))``.
    in_basis, out_basis : Monomials
    n_targets : int
    n_blocks : int
        Number of stacked operators (one per generator of an algebra).
    """

    matrix: sparse.csr_matrix
    in_basis: Monomials
    out_basis: Monomials
    n_targets: int
    n_blocks: int = 1

    def __call__(self, coef: np.ndarray) -> np.ndarray:
        """Apply to ``coef`` ``(n_targets, n_features)``.

        Returns ``(n_targets, n_out)``, or ``(n_blocks, n_targets, n_out)`` for a
        stack.
        """
        coef = np.asarray(coef, dtype=float)
        expected = (self.n_targets, len(self.in_basis))
        if coef.shape != expected:
            raise ValueError(f"coef must have shape {expected}, got {coef.shape}")
        out = (self.matrix @ coef.ravel()).reshape(
            self.n_blocks, self.n_targets, len(self.out_basis)
        )
        return out[0] if self.n_blocks == 1 else out


def _as_algebra(generator) -> LieAlgebra:
    if isinstance(generator, LieAlgebra):
        return generator
    arr = check_square("generator", generator)
    return LieAlgebra.from_matrices(arr)


def output_basis(basis: Monomials, algebra: LieAlgebra) -> Monomials:
    """Monomial basis holding ``L_xi F`` for every ``xi`` in ``algebra``."""
    k0, k1 = algebra.degree_range
    lo = max(0, min(basis.min_degree, basis.min_degree + k0 - 1))
    hi = max(basis.max_degree, basis.max_degree + k1 - 1)
    return Monomials(basis.n_vars, hi, lo)


def build_lie_derivative(space: ModelSpace, algebra: LieAlgebra) -> CoefficientOperator:
    """The stacked Lie-derivative operator of ``algebra`` on ``space``.

    Block ``q`` maps ``vec(C)`` to ``vec(L_xi_q F)``: the directional derivative
    ``DF xi_q`` is ``C M_q`` (``M_q`` from exponent arithmetic) and the output
    action subtracts ``D xi_q F`` (vector fields) or ``B_q F`` (matrices).
    """
    if not isinstance(algebra, LieAlgebra):
        raise TypeError(f"algebra must be a LieAlgebra, got {type(algebra).__name__}")
    check_acts_on("the generators", algebra.n, space.n_vars)
    check_lie_derivative(space, algebra)  # clear error before a huge allocation
    basis, t, action = space.basis, space.n_targets, space.output
    mats = action.generator_matrices(algebra, t)
    out = output_basis(basis, algebra)
    E = embedding_matrix(basis, out) if mats is not None else None
    blocks = []
    for q, field in enumerate(algebra.coefficients):
        M = directional_derivative_matrix(basis, algebra.basis, field, out)
        L = sparse.kron(sparse.identity(t), M.T)
        if action.is_vector:
            L = L - jacobian_product_tensor(algebra.basis, field, basis, out)
        elif mats is not None:
            L = L - sparse.kron(sparse.csr_matrix(mats[q]), E.T)
        blocks.append(L)
    matrix = (
        sparse.vstack(blocks, format="csr")
        if blocks
        else sparse.csr_matrix((0, t * len(basis)))
    )
    return CoefficientOperator(matrix, basis, out, t, algebra.dim)


def build_discrete_constraint(
    space: ModelSpace, R: np.ndarray, S: np.ndarray | None = None
) -> CoefficientOperator:
    """Operator ``vec(C) -> vec(C P_R - S C)`` on ``space``.

    ``S`` defaults to the space's output action on ``R``.
    """
    R = check_square("R", R)
    check_acts_on("R", R.shape[0], space.n_vars)
    check_invertible("R", R)
    t = space.n_targets
    S = space.output.element_matrix(R, t) if S is None else check_square("S", S, t)
    P = substitution_matrix(space.basis, R)
    f = space.n_features
    matrix = sparse.kron(sparse.identity(t), P.T) - sparse.kron(
        sparse.csr_matrix(S), sparse.identity(f)
    )
    matrix = sparse.csr_matrix(matrix)
    matrix.eliminate_zeros()
    return CoefficientOperator(matrix, space.basis, space.basis, t, 1)


def lie_derivative_stack(
    library,
    algebra: LieAlgebra,
    output: OutputActionLike = "vector",
    n_targets: int | None = None,
) -> CoefficientOperator:
    """Stacked operators ``vec(C) -> (vec(L_xi_q F))_q`` over an algebra's basis.

    This is the bilinear map of the design read with the generators fixed: its
    nullspace is the set of symmetric models (used to enforce), and for a fixed
    model ``C`` the reshaped product gives the matrix used to discover and
    promote (see :class:`symsindy.spectrum.LieDerivativeMatrix`).

    Parameters
    ----------
    library : Monomials or pysindy.PolynomialLibrary
    algebra : LieAlgebra
    output : "vector", "invariant", array (dim, m, m) or OutputAction
        Action on the model's outputs (see :mod:`symsindy.spaces`).
    n_targets : int, optional
        Number of model outputs (defaults: n for "vector", 1 for "invariant").

    Returns
    -------
    CoefficientOperator with ``n_blocks = algebra.dim``.

    Examples
    --------
    >>> from symsindy import LieAlgebra, Monomials
    >>> op = lie_derivative_stack(Monomials(2, 3), LieAlgebra.so(2))
    >>> op.matrix.shape
    (20, 20)
    """
    if not isinstance(algebra, LieAlgebra):
        raise TypeError(f"algebra must be a LieAlgebra, got {type(algebra).__name__}")
    space = ModelSpace.of(library, algebra.n, output, n_targets)
    return space.lie_derivative(algebra)


def lie_derivative(
    library,
    generator,
    output: OutputActionLike = "vector",
    n_targets: int | None = None,
) -> CoefficientOperator:
    """The operator ``vec(C) -> vec(L_xi F)`` for one generator.

    Parameters
    ----------
    library : Monomials or pysindy.PolynomialLibrary
    generator : array (n, n) or LieAlgebra of dimension 1
        A matrix ``A`` (the field ``x -> A x``) or a one-generator algebra for
        affine and polynomial fields.
    output : "vector", "invariant" or array (m, m)
    n_targets : int, optional

    Examples
    --------
    Rotation invariance of ``|x|^2``:

    >>> import numpy as np
    >>> from symsindy import Monomials
    >>> J = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> L = lie_derivative(Monomials(2, 2), J, output="invariant")
    >>> coef = np.array([[0, 0, 0, 1.0, 0, 1.0]])   # x0^2 + x1^2
    >>> float(np.abs(L(coef)).max())
    0.0
    """
    algebra = _as_algebra(generator)
    if algebra.dim != 1:
        raise ValueError(
            f"generator must be a single field, got an algebra of dimension "
            f"{algebra.dim}; use lie_derivative_stack"
        )
    return lie_derivative_stack(library, algebra, output, n_targets)


def lie_derivative_matrix(
    coef: np.ndarray,
    library,
    algebra: LieAlgebra,
    output: OutputActionLike = "vector",
    operator: CoefficientOperator | None = None,
) -> np.ndarray:
    """Matrix whose column ``q`` is ``vec(L_xi_q F)`` for the model ``F = C Theta``.

    Its nullspace (in generator space) is the model's symmetry algebra inside
    ``algebra``; its singular values measure how strongly each direction is
    broken. Shape ``(n_targets * n_out, algebra.dim)``. For weighted function
    norms, singular values and a ``LinearOperator`` view use
    :class:`symsindy.spectrum.LieDerivativeMatrix`.

    ``operator`` may pass a precomputed :func:`lie_derivative_stack`.
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    if operator is None:
        operator = lie_derivative_stack(library, algebra, output, coef.shape[0])
    return operator(coef).reshape(operator.n_blocks, -1).T


def discrete_constraint(
    library,
    R: np.ndarray,
    output: str | np.ndarray = "vector",
    n_targets: int | None = None,
) -> CoefficientOperator:
    """Operator ``vec(C) -> vec(C P_R - S C)``; zero iff ``F(R x) = S F(x)``.

    Parameters
    ----------
    library : Monomials or pysindy.PolynomialLibrary
    R : array (n, n)
        Invertible linear map of state space.
    output : "vector" (``S = R``), "invariant" (``S = I``) or an (m, m) matrix ``S``.
    n_targets : int, optional
    """
    R = check_square("R", R)
    space = ModelSpace.of(library, R.shape[0], output, n_targets)
    return space.discrete_constraint(R)
