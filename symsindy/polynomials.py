"""Monomial bookkeeping: exponents in pysindy order and exact sparse operators.

Every polynomial in symsindy is a coefficient vector over a :class:`Monomials`
basis: all monomials in ``n_vars`` variables whose total degree lies in
``[min_degree, max_degree]``, ordered exactly like pysindy's
``PolynomialLibrary`` (by degree, then lexicographically by the sorted tuple of
variable indices, as ``itertools.combinations_with_replacement`` yields them).

The matrices built here are exact: they come from exponent arithmetic, never
from sampling or symbolic algebra.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from itertools import combinations_with_replacement
from math import comb

import numpy as np
from scipy import sparse

__all__ = [
    "Monomials",
    "monomial_exponents",
    "n_monomials",
    "evaluate_monomials",
    "evaluate_products",
    "directional_derivative_matrix",
    "substitution_matrix",
    "embedding_matrix",
]


def n_monomials(n_vars: int, max_degree: int, min_degree: int = 0) -> int:
    """Number of monomials in ``n_vars`` variables with degree in a range."""
    return sum(comb(n_vars + k - 1, k) for k in range(min_degree, max_degree + 1))


def monomial_exponents(n_vars: int, max_degree: int, min_degree: int = 0) -> np.ndarray:
    """Exponents of all monomials with ``min_degree <= degree <= max_degree``.

    Returns an integer array of shape ``(n_monomials, n_vars)`` in exactly the
    order of ``pysindy.PolynomialLibrary(degree=max_degree,
    include_bias=(min_degree == 0)).powers_``.

    Examples
    --------
    >>> monomial_exponents(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    rows = [
        np.bincount(np.asarray(combo, dtype=int), minlength=n_vars)
        for degree in range(min_degree, max_degree + 1)
        for combo in combinations_with_replacement(range(n_vars), degree)
    ]
    if not rows:
        return np.zeros((0, n_vars), dtype=np.int64)
    return np.vstack(rows).astype(np.int64)


@lru_cache(maxsize=256)
def _shared_exponents(n_vars: int, max_degree: int, min_degree: int) -> np.ndarray:
    # Operators create many equal bases; build each exponent table once.
    exps = monomial_exponents(n_vars, max_degree, min_degree)
    exps.flags.writeable = False
    return exps


@lru_cache(maxsize=256)
def _sorted_keys(n_vars: int, max_degree: int, min_degree: int):
    basis = Monomials(n_vars, max_degree, min_degree)
    keys = basis._encode(basis.exponents)
    order = np.argsort(keys)
    return keys[order], order


class Monomials:
    """An ordered basis of monomials with fast, vectorised index lookup.

    Parameters
    ----------
    n_vars : int
        Number of variables (state dimension).
    max_degree : int
        Largest total degree.
    min_degree : int, default 0
        Smallest total degree (0 includes the constant monomial, pysindy's bias).
    """

    def __init__(self, n_vars: int, max_degree: int, min_degree: int = 0):
        if n_vars < 1:
            raise ValueError(f"n_vars must be a positive integer, got {n_vars}")
        if max_degree < 0 or min_degree < 0 or min_degree > max_degree:
            raise ValueError(
                f"need 0 <= min_degree <= max_degree, got {min_degree}, {max_degree}"
            )
        self.n_vars = int(n_vars)
        self.max_degree = int(max_degree)
        self.min_degree = int(min_degree)

    def __repr__(self) -> str:
        return (
            f"Monomials(n_vars={self.n_vars}, max_degree={self.max_degree}, "
            f"min_degree={self.min_degree})"
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, Monomials) and (
            (self.n_vars, self.max_degree, self.min_degree)
            == (other.n_vars, other.max_degree, other.min_degree)
        )

    def __hash__(self) -> int:
        return hash((self.n_vars, self.max_degree, self.min_degree))

    def __len__(self) -> int:
        return n_monomials(self.n_vars, self.max_degree, self.min_degree)

    @property
    def exponents(self) -> np.ndarray:
        """Integer array ``(n_monomials, n_vars)`` in pysindy order (read-only)."""
        return _shared_exponents(self.n_vars, self.max_degree, self.min_degree)

    @cached_property
    def degrees(self) -> np.ndarray:
        return self.exponents.sum(axis=1)

    @property
    def _keys(self) -> tuple[np.ndarray, np.ndarray]:
        # Monomials of degree <= D are encoded exactly in base D + 1, which fits
        # in int64 up to ~40 variables at degree 2; beyond that, fall back to a
        # lexicographic row search (np.unique on rows), which is exact as well.
        return _sorted_keys(self.n_vars, self.max_degree, self.min_degree)

    def _encode(self, exps: np.ndarray) -> np.ndarray:
        base = self.max_degree + 1
        if self.n_vars * np.log2(base) < 62:
            weights = base ** np.arange(self.n_vars, dtype=np.int64)
            return np.asarray(exps, dtype=np.int64) @ weights
        return None

    def index(self, exps: np.ndarray) -> np.ndarray:
        """Positions of the monomials ``exps`` (rows) in this basis; -1 if absent."""
        exps = np.atleast_2d(np.asarray(exps, dtype=np.int64))
        out = np.full(exps.shape[0], -1, dtype=np.int64)
        if exps.shape[0] == 0:
            return out
        deg = exps.sum(axis=1)
        valid = (
            (exps >= 0).all(axis=1)
            & (deg >= self.min_degree)
            & (deg <= self.max_degree)
        )
        if not valid.any():
            return out
        query = exps[valid]
        if self._encode(query[:1]) is not None:
            sorted_keys, order = self._keys
            pos = np.searchsorted(sorted_keys, self._encode(query))
            out[valid] = order[pos]
            return out
        both = np.vstack([self.exponents, query])
        _, inverse = np.unique(both, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        lookup = np.empty(inverse[: len(self)].max() + 1, dtype=np.int64)
        lookup[inverse[: len(self)]] = np.arange(len(self))
        out[valid] = lookup[inverse[len(self) :]]
        return out

    def states(self, theta: np.ndarray) -> np.ndarray:
        """The states behind a library matrix: its degree-1 columns.

        Raises
        ------
        ValueError
            If this basis has no degree-1 monomials.
        """
        cols = self.index(np.eye(self.n_vars, dtype=np.int64))
        if (cols < 0).any():
            raise ValueError(f"{self} has no degree-1 monomials to read states from")
        return np.asarray(theta)[:, cols]

    def scale_factors(self, scales: np.ndarray) -> np.ndarray:
        """``prod_j scales_j ** a_j`` for every monomial ``a``: how each one
        scales when the variables are multiplied by ``scales``."""
        scales = np.asarray(scales, dtype=float)
        return np.prod(scales[None, :] ** self.exponents, axis=1)

    def names(self, variables: list[str] | None = None) -> list[str]:
        """Readable names such as ``'x0^2 x1'`` in pysindy's style."""
        variables = variables or [f"x{j}" for j in range(self.n_vars)]
        return [_monomial_name(row, variables) for row in self.exponents]

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """Values of every monomial at the rows of ``x``: ``(n_samples, len(self))``."""
        return evaluate_monomials(self.exponents, x)


def _monomial_name(exponent_row: np.ndarray, variables: list[str]) -> str:
    parts = [
        v if e == 1 else f"{v}^{e}"
        for v, e in zip(variables, exponent_row, strict=True)
        if e > 0
    ]
    return " ".join(parts) if parts else "1"


def evaluate_monomials(exponents: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Evaluate monomials ``x ** exponents`` at the rows of ``x``."""
    return evaluate_products(
        exponents, x, lambda _, column, top: column[:, None] ** np.arange(top + 1)
    )


def evaluate_products(exponents: np.ndarray, x: np.ndarray, table) -> np.ndarray:
    """``prod_j P_(a_j)(x_j)`` for each row ``a`` of ``exponents``, at each row ``x``.

    ``table(j, column, top)`` returns the values ``P_0 .. P_top`` of coordinate
    ``j``'s univariate polynomials at ``column`` (shape ``(n_samples, top + 1)``,
    with ``P_0 = 1``): each is computed once per sample, then gathered, which
    costs a fraction of evaluating every product term by term. A product has at
    most ``degree`` factors other than ``P_0``, so the gather runs over those
    factors, not over all the coordinates (20 states at degree 3: 3 passes
    instead of 20).
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    exponents = np.asarray(exponents, dtype=np.int64)
    if exponents.size and exponents.min() < 0:
        raise ValueError("exponents must be non-negative integers")
    tops = exponents.max(axis=0, initial=0)
    # All coordinates' tables side by side; column 0 is P_0 = 1 of coordinate 0.
    offsets = np.concatenate([[0], np.cumsum(tops + 1)[:-1]])
    first, *rest = _factor_columns(exponents, offsets)
    out = np.empty((x.shape[0], exponents.shape[0]))
    # Blocks of samples bound the temporaries (the tables and one factor) to
    # _PRODUCT_BLOCK values beside the output; np.take into a reused buffer
    # (mode "clip": the columns are valid, and it is not buffered) costs a
    # fraction of fancy indexing at thousands of products.
    rows = max(1, _PRODUCT_BLOCK // max(exponents.shape[0], 1))
    factor = np.empty((min(rows, x.shape[0]), exponents.shape[0]))
    for start in range(0, x.shape[0], rows):
        block = x[start : start + rows]
        values = np.hstack(
            [table(j, block[:, j], int(top)) for j, top in enumerate(tops)]
        )
        target = out[start : start + rows]
        np.take(values, first, axis=1, out=target, mode="clip")
        for columns in rest:
            part = factor[: block.shape[0]]
            target *= np.take(values, columns, axis=1, out=part, mode="clip")
    return out


#: Values per block of samples in :func:`evaluate_products` (8 MB of float64).
_PRODUCT_BLOCK = 1 << 20


def _factor_columns(exponents: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """For each factor slot, the table column of every product's factor there.

    Slot ``s`` holds each product's ``s``-th coordinate with a nonzero exponent,
    or column 0 (the constant 1) when it has fewer.
    """
    nonzero = exponents > 0
    slots = max(int(nonzero.sum(axis=1).max(initial=0)), 1)
    # Coordinates with nonzero exponents first, in order (a stable sort).
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :slots]
    rows = np.arange(exponents.shape[0])[:, None]
    powers = exponents[rows, order]
    columns = np.where(powers > 0, offsets[order] + powers, 0)
    return list(columns.T)


def embedding_matrix(source: Monomials, target: Monomials) -> sparse.csr_matrix:
    """Sparse ``(len(source), len(target))`` inclusion of one basis in another.

    Raises
    ------
    ValueError
        If a monomial of ``source`` is missing from ``target``.
    """
    cols = target.index(source.exponents)
    if (cols < 0).any():
        raise ValueError(f"{source} is not contained in {target}")
    rows = np.arange(len(source))
    return sparse.csr_matrix(
        (np.ones(len(source)), (rows, cols)), shape=(len(source), len(target))
    )


def directional_derivative_matrix(
    basis: Monomials,
    field_basis: Monomials,
    field_coef: np.ndarray,
    out_basis: Monomials,
) -> sparse.csr_matrix:
    """Exact matrix ``M`` with ``D Theta(x) xi(x) = M Theta_out(x)``.

    ``Theta`` are the monomials of ``basis``; the vector field ``xi`` has
    components ``xi_j(x) = sum_m field_coef[j, m] * Phi_m(x)`` over the monomials
    ``Phi`` of ``field_basis``; ``Theta_out`` are the monomials of ``out_basis``.

    Returns a sparse matrix of shape ``(len(basis), len(out_basis))``.
    """
    exps = basis.exponents
    rows, cols, vals = [], [], []
    for j, m in zip(*np.nonzero(field_coef), strict=True):
        has_j = np.nonzero(exps[:, j])[0]
        new = exps[has_j] + field_basis.exponents[m]
        new[:, j] -= 1
        rows.append(has_j)
        cols.append(out_basis.index(new))
        vals.append(field_coef[j, m] * exps[has_j, j])
    return _assemble(rows, cols, vals, (len(basis), len(out_basis)))


def jacobian_product_tensor(
    field_basis: Monomials,
    field_coef: np.ndarray,
    basis: Monomials,
    out_basis: Monomials,
) -> sparse.csr_matrix:
    """Exact operator ``vec(C) -> vec(D xi(x) C Theta(x))`` in ``out_basis``.

    ``C`` has shape ``(n_vars, len(basis))`` and ``vec`` is row-major
    (``C.ravel()``); the result has shape
    ``(n_vars * len(out_basis), n_vars * len(basis))``.
    """
    n = field_basis.n_vars
    n_in, n_out = len(basis), len(out_basis)
    lib = basis.exponents
    rows, cols, vals = [], [], []
    for i, m in zip(*np.nonzero(field_coef), strict=True):
        phi = field_basis.exponents[m]
        for j in np.nonzero(phi)[0]:
            # d/dx_j of Phi_m, multiplied by every library monomial Theta_l.
            shifted = phi.copy()
            shifted[j] -= 1
            out_idx = out_basis.index(lib + shifted)
            rows.append(i * n_out + out_idx)
            cols.append(j * n_in + np.arange(n_in))
            vals.append(np.full(n_in, field_coef[i, m] * phi[j]))
    return _assemble(rows, cols, vals, (n * n_out, n * n_in))


def _assemble(rows, cols, vals, shape) -> sparse.csr_matrix:
    if not rows:
        return sparse.csr_matrix(shape)
    rows, cols, vals = map(np.concatenate, (rows, cols, vals))
    if (cols < 0).any() or (rows < 0).any():
        raise ValueError("image monomial outside the output basis")
    out = sparse.coo_matrix((vals, (rows, cols)), shape=shape).tocsr()
    out.eliminate_zeros()
    return out


def _as_signed_permutation(R: np.ndarray):
    """``(perm, signs)`` if ``R`` is a signed permutation matrix, else None."""
    R = np.asarray(R, dtype=float)
    nonzero = R != 0
    if not (nonzero.sum(axis=1) == 1).all() or not (nonzero.sum(axis=0) == 1).all():
        return None
    perm = np.argmax(nonzero, axis=1)
    signs = R[np.arange(R.shape[0]), perm]
    if not np.all(np.abs(signs) == 1):
        return None
    return perm, signs


def substitution_matrix(basis: Monomials, R: np.ndarray) -> sparse.csr_matrix:
    """Exact matrix ``P_R`` with ``Theta(R x) = P_R Theta(x)``.

    Row ``l`` expands ``(R x)^{e_l} = prod_j (R_j . x)^{e_lj}``. Rows are built in
    degree order by the recursion ``(Rx)^e = (R_j . x) (Rx)^{e - delta_j}``, so
    every row is one sparse product; signed permutations stay one-term rows.

    Parameters
    ----------
    basis : Monomials
    R : ndarray of shape (n_vars, n_vars)

    Returns
    -------
    scipy.sparse.csr_matrix of shape (len(basis), len(basis))
    """
    n = basis.n_vars
    signed_perm = _as_signed_permutation(R)
    if signed_perm is not None:
        perm, signs = signed_perm
        exps = basis.exponents
        # (R x)_j = s_j x_perm[j]: the exponent of x_j moves to x_perm[j].
        moved = np.zeros_like(exps)
        moved[:, perm] = exps
        values = np.prod(signs[None, :] ** exps, axis=1)
        rows = np.arange(len(basis))
        return sparse.csr_matrix(
            (values, (rows, basis.index(moved))), shape=(len(basis), len(basis))
        )
    # Work in the full basis from degree 0 so the recursion always finds e - delta_j.
    full = Monomials(n, basis.max_degree, 0)
    exps = full.exponents
    times = np.full((len(full), n), -1, dtype=np.int64)  # index of x^e * x_k
    for k in range(n):
        shifted = exps.copy()
        shifted[:, k] += 1
        times[:, k] = full.index(shifted)
    rows: list[sparse.csr_matrix] = [
        sparse.csr_matrix(([1.0], ([0], [0])), (1, len(full)))
    ]
    for e in exps[1:]:
        j = int(np.nonzero(e)[0][0])
        lower = e.copy()
        lower[j] -= 1
        prev = rows[full.index(lower)[0]].tocoo()
        r_cols, r_vals = [], []
        for k in np.nonzero(R[j])[0]:
            r_cols.append(times[prev.col, k])
            r_vals.append(prev.data * R[j, k])
        cols = np.concatenate(r_cols) if r_cols else np.zeros(0, dtype=np.int64)
        data = np.concatenate(r_vals) if r_vals else np.zeros(0)
        row = sparse.csr_matrix(
            (data, (np.zeros_like(cols), cols)), shape=(1, len(full))
        )
        row.sum_duplicates()
        rows.append(row)
    P = sparse.vstack(rows).tocsr()
    keep = full.index(basis.exponents)
    P = P[keep][:, keep]
    P.eliminate_zeros()
    return P
