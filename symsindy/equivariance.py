"""The subspace of symmetric models and an interpretable basis for it.

For a group with Lie-algebra generators ``xi_1..xi_k`` and discrete elements
``R_1..R_m`` the symmetric coefficient matrices ``C`` are the nullspace of

    K vec(C) = [L_xi_1; ...; L_xi_k; D_R_1; ...; D_R_m] vec(C) = 0

(:mod:`symsindy.lie_derivative`; ``vec(C) = C.ravel()``). The basis ``Q`` returned
here has one column per *symmetric term*: each column has a 1 at its leading
coefficient (its pivot) and 0 at every other column's pivot, like a reduced
row echelon form. Fitting ``vec(C) = Q c`` therefore means that ``c_j`` is the
coefficient of the pivot monomial, and zeroing ``c_j`` drops one whole
symmetric term; the model never leaves the symmetric subspace.

Linear generators preserve degree and the constraints only couple coefficients
that share a constraint row, so ``K`` splits into independent blocks (connected
components of its sparsity graph); each small block gets its own dense SVD.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .algebra import LieAlgebra
from .group import SymmetryGroup
from .linalg import (
    balancing_scales,
    diagonal_conjugate,
    echelon_basis,
    null_space,
)
from .polynomials import Monomials
from .size_guard import check_dense_blocks, progress
from .spaces import ModelSpace
from .threads import single_blas_thread

__all__ = [
    "EquivariantBasis",
    "basis_from_constraints",
    "constraint_blocks",
    "equivariant_basis",
    "symmetry_constraints",
]


def symmetry_constraints(
    library, symmetry, output="vector", n_targets: int | None = None
) -> sparse.csr_matrix:
    """Stacked sparse constraint matrix ``K``: ``K vec(C) = 0`` iff symmetric.

    Parameters
    ----------
    library : Monomials, pysindy.PolynomialLibrary or ModelSpace
    symmetry : SymmetryGroup, LieAlgebra or generator matrices
    output : "vector" or "invariant"
    n_targets : int, optional
    """
    group = SymmetryGroup.coerce(symmetry)
    return ModelSpace.of(library, group.n, output, n_targets).constraints(group)


@dataclass(frozen=True)
class EquivariantBasis:
    """A sparse, interpretable basis of the symmetric coefficient matrices.

    Attributes
    ----------
    Q : scipy.sparse.csc_matrix, shape (n_targets * n_features, n_terms)
        ``vec(C) = Q @ c``; column ``j`` has a 1 at ``pivots[j]``.
    pivots : ndarray of int
        Position in ``vec(C)`` of each column's leading coefficient.
    library : Monomials
    n_targets : int
    """

    Q: sparse.csc_matrix
    pivots: np.ndarray
    library: Monomials
    n_targets: int
    constraints: sparse.csr_matrix | None = None

    def residual(self, coef: np.ndarray) -> float:
        """``||K vec(coef)|| / ||coef||``: 0 (up to rounding) for symmetric models."""
        norm = np.linalg.norm(coef)
        if self.constraints is None or norm == 0:
            return 0.0
        return float(np.linalg.norm(self.constraints @ np.ravel(coef)) / norm)

    @property
    def n_terms(self) -> int:
        """Dimension of the symmetric subspace."""
        return self.Q.shape[1]

    def to_coef(self, c: np.ndarray) -> np.ndarray:
        """Coefficient matrix ``(n_targets, n_features)`` of reduced coordinates."""
        return (self.Q @ np.asarray(c, dtype=float)).reshape(self.n_targets, -1)

    def project(self, coef: np.ndarray) -> np.ndarray:
        """Reduced coordinates of the symmetric model closest to ``coef``."""
        Qd = self.Q.toarray()
        c, *_ = np.linalg.lstsq(Qd, np.asarray(coef, dtype=float).ravel(), rcond=None)
        return c

    def terms(
        self,
        feature_names: list[str] | None = None,
        target_names: list[str] | None = None,
        precision: int = 3,
    ) -> list[str]:
        """Each symmetric term written out, e.g. ``"x0' = x0, x1' = x1"``."""
        f = len(self.library)
        feature_names = feature_names or self.library.names()
        target_names = target_names or [f"x{i}'" for i in range(self.n_targets)]
        out = []
        for j in range(self.n_terms):
            col = self.Q[:, j].toarray().ravel().reshape(self.n_targets, f)
            parts = []
            for i in range(self.n_targets):
                nz = np.nonzero(col[i])[0]
                if nz.size:
                    expr = _linear_combination(
                        col[i, nz], [feature_names[k] for k in nz], precision
                    )
                    parts.append(f"{target_names[i]} = {expr}")
            out.append(", ".join(parts))
        return out


def _linear_combination(coefs, names, precision: int = 3) -> str:
    """``"x0 - 2 x1^2"`` style text for a sum of named terms."""
    text = ""
    for c, name in zip(coefs, names, strict=True):
        sign = "-" if c < 0 else "+"
        mag = abs(c)
        factor = "" if np.isclose(mag, 1.0) else f"{mag:.{precision}g} "
        factor = factor if name != "1" else f"{mag:.{precision}g}"
        term = factor + (name if name != "1" else "")
        text += f" {sign} {term}" if text else ("-" if c < 0 else "") + term
    return text


def equivariant_basis(
    library, symmetry, output="vector", n_targets: int | None = None
) -> EquivariantBasis:
    """A sparse interpretable basis ``Q`` of the symmetric models.

    Parameters
    ----------
    library : Monomials or pysindy.PolynomialLibrary
    symmetry : SymmetryGroup, LieAlgebra or generator matrices
    output : "vector" (vector fields, default) or "invariant" (scalar functions)
    n_targets : int, optional

    Returns
    -------
    EquivariantBasis

    Raises
    ------
    ValueError
        When only the zero model is symmetric (an infeasible request).

    Examples
    --------
    Rotation-equivariant linear vector fields in the plane are ``a I + b J``:

    >>> from symsindy import LieAlgebra, Monomials
    >>> B = equivariant_basis(Monomials(2, 1, 1), LieAlgebra.so(2))
    >>> B.terms()
    ["x0' = x0, x1' = x1", "x0' = x1, x1' = -x0"]
    """
    group = SymmetryGroup.coerce(symmetry)
    space = ModelSpace.of(library, group.n, output, n_targets)
    key = _cache_key(space, group)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    scales = _balancing_scales(space, group)
    if scales is None:
        result = basis_from_constraints(space.constraints(group), space.basis)
    else:
        result = _balanced_basis(space, group, scales)
    _CACHE[key] = result
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


#: The symmetric basis is computed in balanced coordinates when the best
#: diagonal rescaling of the states changes some scale by more than this.
BALANCE_RATIO = 10.0


def _balancing_scales(space: ModelSpace, group: SymmetryGroup) -> np.ndarray | None:
    """Scales ``d`` of the states that balance the group, or None.

    A rotation of ``x`` and ``1000 y`` (generator entries 1e-3 and 1e3) makes
    constraint entries of very different sizes, and the fixed relative
    tolerances of the nullspace and the echelon form then keep spurious
    directions. In the coordinates ``x = D x~`` where the generators are
    balanced (:func:`~symsindy.linalg.balancing_scales`) it is a plain rotation.
    Only linear actions with vector, controlled-state or invariant outputs.
    """
    if space.output.kind not in ("vector", "states", "invariant"):
        return None
    if group.dim and not group.algebra.is_linear:
        return None
    mats = [*(group.algebra.matrices if group.dim else []), *group.discrete]
    if not mats:
        return None
    d = balancing_scales(np.array(mats))
    return d if d.max() / d.min() >= BALANCE_RATIO else None


def unit_scaling(space: ModelSpace, d: np.ndarray) -> np.ndarray:
    """``vec(C) = unit_scaling * vec(C~)`` for the states ``x = D x~``.

    The model ``x' = C Theta(x)`` is ``x~' = C~ Theta(x~)`` with
    ``C~ = D^-1 C S``, ``S`` each monomial's factor ``prod d^p`` (no ``D^-1``
    for invariant functions). A symmetric subspace of ``C~`` under a group
    ``G~`` is carried to that of ``C`` under ``D G~ D^-1`` by this diagonal.
    """
    monomials = space.basis.scale_factors(d)
    targets = np.ones(space.n_targets)
    if space.output.kind != "invariant":
        targets = d[: space.n_targets]
    return (targets[:, None] / monomials[None, :]).ravel()


def _balanced_basis(space: ModelSpace, group: SymmetryGroup, d) -> EquivariantBasis:
    """The basis found in the coordinates ``x = D x~``, written back in ``x``.

    There the model is ``C~ = D^-1 C S`` (``S``: each monomial's factor
    ``prod d^p``), so ``vec(C) = diag(d_i / s_p) vec(C~)``: a diagonal map,
    which keeps the sparsity; the pivots are scaled back to 1.
    """
    algebra = None
    if group.dim:
        algebra = LieAlgebra.from_matrices(
            diagonal_conjugate(group.algebra.matrices, 1.0 / d)
        ).with_degree(group.algebra.degree)
    discrete = [diagonal_conjugate(R, 1.0 / d) for R in group.discrete]
    balanced = SymmetryGroup(algebra, discrete, n=len(d))
    tilde = basis_from_constraints(space.constraints(balanced), space.basis)
    rows = unit_scaling(space, d)
    Q = sparse.diags(rows) @ tilde.Q @ sparse.diags(1.0 / rows[tilde.pivots])
    return EquivariantBasis(
        sparse.csc_matrix(Q),
        tilde.pivots,
        space.basis,
        tilde.n_targets,
        space.constraints(group),
    )


# Repeated fits (grid searches, paths, bootstrap) reuse the same group and
# library; the basis is a pure function of their values, so cache it by value.
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 32


def _cache_key(space: ModelSpace, group: SymmetryGroup):
    return (
        space.key(),
        group.algebra.degree,
        group.algebra.coefficients.shape,
        group.algebra.coefficients.tobytes(),
        tuple(R.tobytes() for R in group.discrete),
    )


def basis_from_constraints(K, basis: Monomials) -> EquivariantBasis:
    """The interpretable nullspace basis of any stacked constraint matrix ``K``.

    ``K`` acts on ``vec(C)`` (target-major) for coefficients over ``basis``; use
    this for constraints built by hand (e.g. symmetries transported through a
    change of coordinates).
    """
    K = sparse.csr_matrix(K)
    n_vars = K.shape[1]
    if n_vars % len(basis):
        raise ValueError(
            f"constraints have {n_vars} columns, not a multiple of the "
            f"{len(basis)} library features"
        )
    t = n_vars // len(basis)
    blocks = constraint_blocks(K)
    # Unconstrained coefficients are free: one unit basis vector each.
    free = np.setdiff1d(np.arange(n_vars), blocks.columns)
    cols = [(np.array([i]), np.ones(1)) for i in free]
    pivots = list(free)
    # The blocks are small: threaded BLAS only adds synchronisation (and
    # busy-waiting threads on a loaded machine), so run them single-threaded.
    work = check_dense_blocks(blocks.sizes())
    with single_blas_thread():
        for idx, block in progress(blocks, work, "symmetric basis", len(blocks)):
            N = null_space(block)
            if N.shape[1] == 0:
                continue
            local, piv = echelon_basis(N)
            for j in range(local.shape[1]):
                nz = np.nonzero(local[:, j])[0]
                cols.append((idx[nz], local[nz, j]))
                pivots.append(idx[piv[j]])
    if not cols:
        raise ValueError(
            "the symmetry constraints are infeasible on this library: only the zero "
            "model is symmetric (check the group, the output action and the degree)"
        )
    order_cols = np.argsort(pivots)
    rows_all = np.concatenate([cols[k][0] for k in order_cols])
    vals_all = np.concatenate([cols[k][1] for k in order_cols])
    col_ids = np.concatenate(
        [np.full(cols[k][0].size, j) for j, k in enumerate(order_cols)]
    )
    Q = sparse.csc_matrix((vals_all, (rows_all, col_ids)), shape=(n_vars, len(cols)))
    return EquivariantBasis(Q, np.asarray(pivots)[order_cols], basis, t, K)


@dataclass(frozen=True)
class ConstraintBlocks:
    """Independent diagonal blocks of a sparse constraint matrix.

    Rows and columns of ``K`` are permuted once so that every connected
    component of its sparsity graph (rows and columns that share a non-zero)
    is one contiguous dense block; iterating yields ``(columns, dense_block)``
    with ``columns`` the original column indices of the block. Slicing each
    block out of the sparse matrix separately costs a search over all rows per
    block, which dominated for algebras with thousands of blocks (gl(15)).

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        ``K[row_order][:, columns]``: block-diagonal.
    columns : ndarray of int
        Constrained columns of ``K``, grouped by block.
    row_bounds, col_bounds : ndarray of int
        Block ``b`` is rows ``row_bounds[b]:row_bounds[b + 1]`` and columns
        ``col_bounds[b]:col_bounds[b + 1]`` of ``matrix``.
    """

    matrix: sparse.csr_matrix
    columns: np.ndarray
    row_bounds: np.ndarray
    col_bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.col_bounds) - 1

    def sizes(self) -> np.ndarray:
        """``(rows, columns)`` of each block, shape ``(n_blocks, 2)``."""
        return np.stack([np.diff(self.row_bounds), np.diff(self.col_bounds)], axis=1)

    def __iter__(self):
        M = self.matrix
        for b in range(len(self)):
            r0, r1 = self.row_bounds[b], self.row_bounds[b + 1]
            c0, c1 = self.col_bounds[b], self.col_bounds[b + 1]
            lo, hi = M.indptr[r0], M.indptr[r1]
            block = np.zeros((r1 - r0, c1 - c0))
            local_rows = np.repeat(np.arange(r1 - r0), np.diff(M.indptr[r0 : r1 + 1]))
            block[local_rows, M.indices[lo:hi] - c0] = M.data[lo:hi]
            yield self.columns[c0:c1], block


def constraint_blocks(K: sparse.spmatrix) -> ConstraintBlocks:
    """Split ``K`` into independent blocks with one row and one column permutation.

    Rows and columns without non-zeros belong to no block.

    Examples
    --------
    >>> K = sparse.csr_matrix(np.array([[1.0, 0, 1], [0, 2.0, 0], [0, 0, 0]]))
    >>> blocks = constraint_blocks(K)
    >>> [(c.tolist(), b.tolist()) for c, b in blocks]
    [([0, 2], [[1.0, 1.0]]), ([1], [[2.0]])]
    """
    K = sparse.csr_matrix(K, copy=True)  # cleaned in place below
    K.sum_duplicates()
    K.eliminate_zeros()
    m, k = K.shape
    # Components of the bipartite row-column graph: no (K^T K)-sized product.
    pattern = sparse.csr_matrix(
        (np.ones(K.nnz, dtype=np.int8), K.indices, K.indptr), shape=K.shape
    )
    graph = sparse.bmat([[None, pattern], [pattern.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    row_labels, col_labels = labels[:m], labels[m:]
    used_rows = np.nonzero(np.diff(K.indptr) > 0)[0]
    used_cols = np.nonzero(np.bincount(K.indices, minlength=k) > 0)[0]
    row_order = used_rows[np.argsort(row_labels[used_rows], kind="stable")]
    col_order = used_cols[np.argsort(col_labels[used_cols], kind="stable")]
    # Every component with a non-zero has both rows and columns, so the sorted
    # label lists have the same distinct values in the same order.
    r_lab, c_lab = row_labels[row_order], col_labels[col_order]
    row_bounds = np.r_[0, np.flatnonzero(np.diff(r_lab)) + 1, len(r_lab)]
    col_bounds = np.r_[0, np.flatnonzero(np.diff(c_lab)) + 1, len(c_lab)]
    if len(row_order) == 0:
        row_bounds = col_bounds = np.zeros(1, dtype=np.int64)
    permuted = K[row_order][:, col_order].tocsr()
    permuted.sort_indices()
    return ConstraintBlocks(permuted, col_order, row_bounds, col_bounds)
