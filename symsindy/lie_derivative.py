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

from .algebra import LieAlgebra
from .polynomials import (
    Monomials,
    directional_derivative_matrix,
    embedding_matrix,
    jacobian_product_tensor,
    substitution_matrix,
)

__all__ = [
    "CoefficientOperator",
    "resolve_basis",
    "output_basis",
    "lie_derivative",
    "lie_derivative_stack",
    "lie_derivative_matrix",
    "discrete_constraint",
]

OutputAction = str | np.ndarray | Sequence[np.ndarray]


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


def resolve_basis(library, n_vars: int | None = None) -> Monomials:
    """The monomial basis of a library.

    Parameters
    ----------
    library : Monomials or pysindy.PolynomialLibrary
        A pysindy library must be fitted, or ``n_vars`` given.
    n_vars : int, optional
        State dimension, used when ``library`` is not fitted.

    Raises
    ------
    ValueError
        For libraries that are not closed under linear changes of coordinates
        (``interaction_only=True`` or ``include_interaction=False``).
    TypeError
        For anything that is not a polynomial library.
    """
    if isinstance(library, Monomials):
        return library
    from pysindy import PolynomialLibrary

    if not isinstance(library, PolynomialLibrary):
        raise TypeError(
            "library must be a pysindy PolynomialLibrary (or LiePolynomialLibrary) "
            f"or a symsindy Monomials basis, got {type(library).__name__}"
        )
    if library.interaction_only or not library.include_interaction:
        raise ValueError(
            "library must contain all monomials up to its degree: with "
            "interaction_only=True or include_interaction=False it is not closed "
            "under linear maps (rotating x0*x1 produces x0^2), so symmetry "
            "operators cannot be exact on it"
        )
    fitted_n = getattr(library, "n_features_in_", None)
    if fitted_n is not None and n_vars is not None and fitted_n != n_vars:
        raise ValueError(
            f"library was fitted on {fitted_n} state variables but the symmetry "
            f"acts on {n_vars}"
        )
    n = fitted_n if fitted_n is not None else n_vars
    if n is None:
        raise ValueError("library is not fitted; pass n_vars (the state dimension)")
    return Monomials(int(n), int(library.degree), 0 if library.include_bias else 1)


def _as_algebra(generator) -> LieAlgebra:
    if isinstance(generator, LieAlgebra):
        return generator
    arr = np.asarray(generator, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(
            "generator must be a square (n, n) matrix or a LieAlgebra, got shape "
            f"{arr.shape}"
        )
    return LieAlgebra.from_matrices(arr)


def output_basis(basis: Monomials, algebra: LieAlgebra) -> Monomials:
    """Monomial basis holding ``L_xi F`` for every ``xi`` in ``algebra``."""
    k0, k1 = algebra.degree_range
    lo = max(0, min(basis.min_degree, basis.min_degree + k0 - 1))
    hi = max(basis.max_degree, basis.max_degree + k1 - 1)
    return Monomials(basis.n_vars, hi, lo)


def _output_matrices(output, algebra_dim: int, n: int, n_targets: int | None):
    """Normalise ``output`` to (kind, list of per-generator matrices, n_targets)."""
    if isinstance(output, str):
        if output == "vector":
            if n_targets is not None and n_targets != n:
                raise ValueError(
                    f'output="vector" needs n_targets == state dimension {n}, got '
                    f"{n_targets}; use output='invariant' for scalar functions"
                )
            return "vector", None, n
        if output == "invariant":
            return "invariant", None, 1 if n_targets is None else int(n_targets)
        raise ValueError(
            f"output must be 'vector', 'invariant' or output matrices, got {output!r}"
        )
    mats = np.asarray(output, dtype=float)
    if mats.ndim == 2:
        mats = mats[None]
    if mats.ndim != 3 or mats.shape[1] != mats.shape[2] or mats.shape[0] != algebra_dim:
        raise ValueError(
            f"output matrices must have shape ({algebra_dim}, m, m), one per "
            f"generator; got {np.shape(output)}"
        )
    if not np.all(np.isfinite(mats)):
        raise ValueError("output matrices contain NaN or inf")
    if n_targets is not None and n_targets != mats.shape[1]:
        raise ValueError(
            f"output matrices are {mats.shape[1]}x{mats.shape[1]}, "
            f"but n_targets={n_targets}"
        )
    return "matrix", mats, mats.shape[1]


def lie_derivative_stack(
    library,
    algebra: LieAlgebra,
    output: OutputAction = "vector",
    n_targets: int | None = None,
) -> CoefficientOperator:
    """Stacked operators ``vec(C) -> (vec(L_xi_q F))_q`` over an algebra's basis.

    This is the bilinear map of the design read with the generators fixed: its
    nullspace is the set of symmetric models (used to enforce), and for a fixed
    model ``C`` the reshaped product gives the matrix used to discover and
    promote (see :func:`lie_derivative_matrix`).

    Parameters
    ----------
    library : Monomials or pysindy.PolynomialLibrary
    algebra : LieAlgebra
    output : "vector", "invariant" or array (dim, m, m)
        Action on the model's outputs (see module docstring).
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
    basis = resolve_basis(library, algebra.n)
    if basis.n_vars != algebra.n:
        raise ValueError(
            f"generators act on R^{algebra.n} but the library has {basis.n_vars} "
            "state variables"
        )
    kind, mats, t = _output_matrices(output, algebra.dim, algebra.n, n_targets)
    out = output_basis(basis, algebra)
    E = embedding_matrix(basis, out) if kind == "matrix" else None
    blocks = []
    for q, field in enumerate(algebra.coefficients):
        M = directional_derivative_matrix(basis, algebra.basis, field, out)
        L = sparse.kron(sparse.identity(t), M.T)
        if kind == "vector":
            L = L - jacobian_product_tensor(algebra.basis, field, basis, out)
        elif kind == "matrix":
            L = L - sparse.kron(sparse.csr_matrix(mats[q]), E.T)
        blocks.append(L)
    matrix = (
        sparse.vstack(blocks, format="csr")
        if blocks
        else sparse.csr_matrix((0, t * len(basis)))
    )
    return CoefficientOperator(matrix, basis, out, t, algebra.dim)


def lie_derivative(
    library,
    generator,
    output: OutputAction = "vector",
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
    if not isinstance(output, str):
        output = np.asarray(output, dtype=float)[None]
    return lie_derivative_stack(library, algebra, output, n_targets)


def lie_derivative_matrix(
    coef: np.ndarray,
    library,
    algebra: LieAlgebra,
    output: OutputAction = "vector",
    operator: CoefficientOperator | None = None,
) -> np.ndarray:
    """Matrix whose column ``q`` is ``vec(L_xi_q F)`` for the model ``F = C Theta``.

    Its nullspace (in generator space) is the model's symmetry algebra inside
    ``algebra``; its singular values measure how strongly each direction is
    broken. Shape ``(n_targets * n_out, algebra.dim)``.

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
    R = np.asarray(R, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ValueError(f"R must be a square (n, n) matrix, got shape {R.shape}")
    if not np.all(np.isfinite(R)):
        raise ValueError("R contains NaN or inf")
    n = R.shape[0]
    basis = resolve_basis(library, n)
    if basis.n_vars != n:
        raise ValueError(
            f"R acts on R^{n} but the library has {basis.n_vars} state variables"
        )
    if abs(np.linalg.det(R)) < 1e-12:
        raise ValueError("R must be invertible")
    if isinstance(output, str):
        kind, _, t = _output_matrices(output, 1, n, n_targets)
        S = R if kind == "vector" else np.eye(t)
    else:
        _, mats, t = _output_matrices(np.asarray(output)[None], 1, n, n_targets)
        S = mats[0]
    P = substitution_matrix(basis, R)
    f = len(basis)
    matrix = sparse.kron(sparse.identity(t), P.T) - sparse.kron(
        sparse.csr_matrix(S), sparse.identity(f)
    )
    matrix = sparse.csr_matrix(matrix)
    matrix.eliminate_zeros()
    return CoefficientOperator(matrix, basis, basis, t, 1)
