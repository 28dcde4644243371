"""Lie algebras of polynomial vector fields on state space.

A generator is a polynomial vector field ``xi(x) = G Phi(x)``, stored as a
coefficient array ``G`` of shape ``(n, n_monomials)`` over the monomials ``Phi``
of degree ``<= degree`` (pysindy order, constant first). A linear generator
``xi(x) = A x`` has ``G[:, 1:n+1] = A`` and zeros elsewhere, so matrices and
nonlinear fields share one representation.

Bracket convention
------------------
``[xi, eta] = D xi . eta - D eta . xi``. For linear fields ``A x`` and ``B x`` this
is the matrix commutator ``(AB - BA) x``. With the Lie derivative
``L_xi F = DF . xi - D xi . F`` of :mod:`symsindy.lie_derivative`, the identity
``L_[xi, eta] = -[L_xi, L_eta]`` holds (an anti-homomorphism).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from itertools import combinations

import numpy as np
from scipy import sparse

from .polynomials import Monomials, directional_derivative_matrix, embedding_matrix

__all__ = ["LieAlgebra"]


def _coordinate_names(n: int) -> list[str]:
    return [f"x{j}" for j in range(n)]


class LieAlgebra:
    """A finite-dimensional Lie algebra of polynomial vector fields on ``R^n``.

    Build one with the class methods (:meth:`gl`, :meth:`so`, :meth:`scaling`,
    :meth:`from_matrices`, ...); combine with :meth:`embed`, :meth:`direct_sum`
    and ``+`` (span of both bases on the same space).

    Parameters
    ----------
    coefficients : array of shape (dim, n, n_monomials)
        Generator coefficients over ``Monomials(n, degree)``.
    degree : int
        Largest polynomial degree of the generators.
    names : list of str, optional
        One readable name per generator.

    Examples
    --------
    >>> g = LieAlgebra.so(3)
    >>> g.dim, g.n, g.is_linear
    (3, 3, True)
    >>> bool(g.is_closed())
    True
    """

    def __init__(
        self,
        coefficients: np.ndarray,
        degree: int,
        names: Sequence[str] | None = None,
    ):
        coefficients = np.asarray(coefficients, dtype=float)
        if coefficients.ndim != 3:
            raise ValueError(
                "coefficients must have shape (dim, n, n_monomials), got "
                f"{coefficients.shape}"
            )
        if not np.all(np.isfinite(coefficients)):
            raise ValueError("generator coefficients contain NaN or inf")
        dim, n, n_mon = coefficients.shape
        basis = Monomials(n, degree)
        if n_mon != len(basis):
            raise ValueError(
                f"coefficients have {n_mon} monomials, expected {len(basis)} for "
                f"degree {degree} in {n} variables"
            )
        self.coefficients = coefficients
        self.degree = int(degree)
        self.basis = basis
        names = list(names) if names is not None else [f"X{i}" for i in range(dim)]
        if len(names) != dim:
            raise ValueError(f"got {len(names)} names for {dim} generators")
        self.names = names

    # ------------------------------------------------------------------ basics
    @property
    def n(self) -> int:
        """State dimension the algebra acts on."""
        return self.coefficients.shape[1]

    @property
    def dim(self) -> int:
        """Dimension of the algebra (number of basis generators)."""
        return self.coefficients.shape[0]

    def __len__(self) -> int:
        return self.dim

    def __repr__(self) -> str:
        kind = "linear" if self.is_linear else f"polynomial degree {self.degree}"
        return f"LieAlgebra(dim={self.dim}, n={self.n}, {kind})"

    @property
    def degree_range(self) -> tuple[int, int]:
        """Smallest and largest degree of any monomial used by a generator."""
        used = np.nonzero(np.abs(self.coefficients).sum(axis=(0, 1)))[0]
        if used.size == 0:
            return (1, 1)
        degrees = self.basis.degrees[used]
        return int(degrees.min()), int(degrees.max())

    @property
    def is_linear(self) -> bool:
        """True when every generator is ``x -> A x``."""
        linear = self.basis.degrees == 1
        return not np.any(self.coefficients[:, :, ~linear])

    @property
    def matrices(self) -> np.ndarray:
        """Generators as matrices ``(dim, n, n)``; only for linear algebras."""
        if not self.is_linear:
            raise ValueError(
                "this algebra has affine or nonlinear generators; use .coefficients"
            )
        return self.coefficients[:, :, 1 : self.n + 1].copy()

    def __iter__(self):
        return iter(self.coefficients)

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_matrices(
        cls, matrices: Sequence[np.ndarray] | np.ndarray, names=None
    ) -> LieAlgebra:
        """Linear algebra spanned by the given ``(n, n)`` matrices."""
        mats = np.asarray(matrices, dtype=float)
        if mats.ndim == 2:
            mats = mats[None]
        if mats.ndim != 3 or mats.shape[1] != mats.shape[2]:
            raise ValueError(
                f"matrices must be a sequence of square (n, n) arrays, got shape "
                f"{np.shape(matrices)}"
            )
        if not np.all(np.isfinite(mats)):
            raise ValueError("matrices contain NaN or inf")
        q, n, _ = mats.shape
        coef = np.zeros((q, n, len(Monomials(n, 1))))
        coef[:, :, 1:] = mats
        return cls(coef, degree=1, names=names)

    @classmethod
    def from_vector_fields(
        cls, coefficients: np.ndarray, degree: int, names=None
    ) -> LieAlgebra:
        """Algebra spanned by polynomial vector fields (see class docstring)."""
        coefficients = np.asarray(coefficients, dtype=float)
        if coefficients.ndim == 2:
            coefficients = coefficients[None]
        return cls(coefficients, degree=degree, names=names)

    @classmethod
    def trivial(cls, n: int) -> LieAlgebra:
        """The zero algebra on ``R^n`` (no continuous symmetry)."""
        n = _check_n(n)
        return cls(np.zeros((0, n, len(Monomials(n, 1)))), degree=1, names=[])

    @classmethod
    def gl(cls, n: int) -> LieAlgebra:
        """All linear maps: the ``n^2`` matrix units ``E_ij``."""
        n = _check_n(n)
        mats = np.zeros((n * n, n, n))
        names = []
        for k, (i, j) in enumerate(np.ndindex(n, n)):
            mats[k, i, j] = 1.0
            names.append(f"E{i}{j}")
        return cls.from_matrices(mats, names)

    @classmethod
    def sl(cls, n: int) -> LieAlgebra:
        """Traceless matrices: off-diagonal units and ``E_ii - E_(i+1)(i+1)``."""
        n = _check_n(n)
        mats, names = [], []
        for i, j in np.ndindex(n, n):
            if i != j:
                m = np.zeros((n, n))
                m[i, j] = 1.0
                mats.append(m)
                names.append(f"E{i}{j}")
        for i in range(n - 1):
            m = np.zeros((n, n))
            m[i, i], m[i + 1, i + 1] = 1.0, -1.0
            mats.append(m)
            names.append(f"H{i}")
        return cls.from_matrices(np.array(mats).reshape(-1, n, n), names)

    @classmethod
    def so(cls, n: int) -> LieAlgebra:
        """Rotations: ``E_ji - E_ij`` for ``i < j`` (rotation from x_i toward x_j)."""
        n = _check_n(n)
        mats, names = [], []
        for i, j in combinations(range(n), 2):
            m = np.zeros((n, n))
            m[j, i], m[i, j] = 1.0, -1.0
            mats.append(m)
            names.append(f"R{i}{j}")
        if not mats:
            raise ValueError("so(n) needs n >= 2")
        return cls.from_matrices(np.array(mats), names)

    @classmethod
    def scaling(cls, n: int, weights: Sequence[float] | None = None) -> LieAlgebra:
        """One scaling ``diag(weights)`` (uniform scaling by default)."""
        n = _check_n(n)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (n,):
            raise ValueError(f"weights must have length {n}, got shape {w.shape}")
        return cls.from_matrices(np.diag(w)[None], ["scaling"])

    @classmethod
    def diagonal(cls, n: int) -> LieAlgebra:
        """Independent scalings of each coordinate: ``E_ii``."""
        n = _check_n(n)
        mats = np.zeros((n, n, n))
        for i in range(n):
            mats[i, i, i] = 1.0
        return cls.from_matrices(mats, [f"E{i}{i}" for i in range(n)])

    @classmethod
    def translations(cls, n: int) -> LieAlgebra:
        """Constant vector fields ``e_i``."""
        n = _check_n(n)
        coef = np.zeros((n, n, len(Monomials(n, 1))))
        for i in range(n):
            coef[i, i, 0] = 1.0
        return cls(coef, degree=1, names=[f"T{i}" for i in range(n)])

    @classmethod
    def affine(cls, n: int) -> LieAlgebra:
        """gl(n) plus translations: ``x -> A x + b``."""
        return cls.gl(n) + cls.translations(n)

    @classmethod
    def polynomial(cls, n: int, degree: int) -> LieAlgebra:
        """All polynomial vector fields of degree ``<= degree`` (monomial basis)."""
        n = _check_n(n)
        if degree < 0:
            raise ValueError(f"degree must be >= 0, got {degree}")
        basis = Monomials(n, max(degree, 1))
        names_mon = basis.names()
        n_used = len(Monomials(n, degree))
        coef = np.zeros((n * n_used, n, len(basis)))
        names = []
        for k, (i, m) in enumerate(np.ndindex(n, n_used)):
            coef[k, i, m] = 1.0
            names.append(f"{names_mon[m]} d/dx{i}")
        return cls(coef, degree=max(degree, 1), names=names)

    # ------------------------------------------------------------ combinators
    def with_degree(self, degree: int) -> LieAlgebra:
        """The same fields written over monomials of a larger degree."""
        if degree == self.degree:
            return self
        if degree < self.degree:
            raise ValueError(f"cannot write degree-{self.degree} fields at {degree}")
        E = embedding_matrix(self.basis, Monomials(self.n, degree)).toarray()
        coef = np.einsum("qim,mk->qik", self.coefficients, E)
        return LieAlgebra(coef, degree, self.names)

    def __add__(self, other: LieAlgebra) -> LieAlgebra:
        """Span of both bases, acting on the same state space."""
        if not isinstance(other, LieAlgebra):
            return NotImplemented
        if other.n != self.n:
            raise ValueError(
                f"cannot add algebras on R^{self.n} and R^{other.n}; "
                "use LieAlgebra.direct_sum for block embeddings"
            )
        degree = max(self.degree, other.degree)
        a, b = self.with_degree(degree), other.with_degree(degree)
        return LieAlgebra(
            np.concatenate([a.coefficients, b.coefficients]), degree, a.names + b.names
        )

    def embed(self, coords: Sequence[int], n: int) -> LieAlgebra:
        """Act on coordinates ``coords`` of ``R^n`` and trivially on the others.

        Examples
        --------
        >>> LieAlgebra.so(2).embed([2, 3], 6).matrices[0][2:4, 2:4].tolist()
        [[0.0, -1.0], [1.0, 0.0]]
        """
        coords = [int(c) for c in coords]
        if len(coords) != self.n or len(set(coords)) != len(coords):
            raise ValueError(
                f"coords must list {self.n} distinct coordinates, got {coords}"
            )
        if min(coords) < 0 or max(coords) >= n:
            raise ValueError(f"coords {coords} out of range for state dimension {n}")
        big = Monomials(n, self.degree)
        exps = np.zeros((len(self.basis), n), dtype=np.int64)
        exps[:, coords] = self.basis.exponents
        cols = big.index(exps)
        coef = np.zeros((self.dim, n, len(big)))
        coef[:, np.array(coords)[:, None], cols[None, :]] = self.coefficients
        names = [f"{name}@{tuple(coords)}" for name in self.names]
        return LieAlgebra(coef, self.degree, names)

    @classmethod
    def direct_sum(cls, *algebras: LieAlgebra) -> LieAlgebra:
        """Block-diagonal sum acting on concatenated coordinates.

        Examples
        --------
        >>> LieAlgebra.direct_sum(LieAlgebra.so(2), LieAlgebra.so(2)).n
        4
        """
        if not algebras:
            raise ValueError("direct_sum needs at least one algebra")
        n = sum(a.n for a in algebras)
        start, total = 0, None
        for a in algebras:
            part = a.embed(range(start, start + a.n), n)
            total = part if total is None else total + part
            start += a.n
        return total

    # ----------------------------------------------------------- structure
    def bracket_coefficients(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``[x, y] = Dx . y - Dy . x`` for two fields over ``self.basis``.

        Returned over ``Monomials(n, max(2 * degree - 1, degree))``.
        """
        out = Monomials(self.n, max(2 * self.degree - 1, self.degree))
        dx = directional_derivative_matrix(self.basis, self.basis, y, out)
        dy = directional_derivative_matrix(self.basis, self.basis, x, out)
        # Row i of x @ dx is D(x_i) . y.
        return np.asarray(x @ dx - y @ dy)

    def bracket(self, i: int, j: int) -> np.ndarray:
        """Bracket of basis generators ``i`` and ``j`` (see module docstring)."""
        return self.bracket_coefficients(self.coefficients[i], self.coefficients[j])

    def structure_constants(self) -> tuple[np.ndarray, float]:
        """Constants ``c[i, j, k]`` with ``[X_i, X_j] = sum_k c[i, j, k] X_k``.

        Computed once per algebra and cached (the returned arrays are read-only).
        All brackets are formed at once (matrix commutators for linear algebras)
        and solved against the basis with one multi-right-hand-side least squares.

        Returns
        -------
        constants : ndarray of shape (dim, dim, dim)
            Least-squares coefficients of each bracket in the basis.
        residual : float
            Largest relative distance of a bracket from the span
            (0 for a Lie subalgebra, up to rounding).

        Examples
        --------
        >>> consts, residual = LieAlgebra.so(3).structure_constants()
        >>> consts[0, 1].tolist()  # [R01, R02] = R12
        [0.0, 0.0, 1.0]
        """
        return self._structure

    @cached_property
    def _structure(self) -> tuple[np.ndarray, float]:
        q = self.dim
        consts = np.zeros((q, q, q))
        if q == 0:
            consts.flags.writeable = False
            return consts, 0.0
        if self.is_linear:
            span = self.matrices.reshape(q, -1)
            brackets = self._linear_brackets
        else:
            out = Monomials(self.n, max(2 * self.degree - 1, self.degree))
            E = embedding_matrix(self.basis, out)
            span = np.stack([np.asarray(c @ E).ravel() for c in self.coefficients])
            brackets = self._polynomial_brackets(out)
        scale = max(np.linalg.norm(span, axis=1).max(), 1e-300)
        # One pseudo-inverse serves every bracket: c = pinv(span^T) vec([X_i, X_j]).
        # Standard bases (gl, so, ...) are sparse; sparse products keep gl(20)
        # at q^2 work instead of q^3 per generator.
        pinv = _maybe_sparse(_pseudo_inverse_rows(span))
        span = _maybe_sparse(span)
        residual = 0.0
        for i, rows in brackets():  # rows: vec([X_i, X_j]) for j > i
            if rows.shape[0] == 0:
                continue
            c = np.asarray(pinv @ rows.T).T
            consts[i, i + 1 :] = c
            consts[i + 1 :, i] = -c
            resid = np.asarray(span.T @ c.T).T - rows
            residual = max(residual, np.linalg.norm(resid, axis=1).max() / scale**2)
        consts.flags.writeable = False
        return consts, float(residual)

    def _linear_brackets(self):
        """Rows ``vec([A_i, A_j])`` for every ``j``, one ``i`` at a time."""
        mats = self.matrices
        for i, A in enumerate(mats):
            rest = mats[i + 1 :]
            comm = A @ rest - rest @ A  # vectorised over j > i
            yield i, comm.reshape(len(rest), self.n * self.n)

    def _polynomial_brackets(self, out: Monomials):
        """Rows ``vec([X_i, X_j])`` for every ``j``, one ``i`` at a time."""
        # D_j (derivative along X_j) is built once per generator, so that
        # [X_i, X_j] = X_i D_j - X_j D_i costs two sparse products per i.
        derivs = [
            directional_derivative_matrix(self.basis, self.basis, c, out)
            for c in self.coefficients
        ]
        along_all = sparse.hstack(derivs, format="csr")  # (f, q * m_out)
        q, n, f = self.coefficients.shape
        flat = self.coefficients.reshape(q * n, f)
        m_out = len(out)

        def gen():
            for i in range(q):
                first = np.asarray((along_all.T @ self.coefficients[i].T).T)
                first = first.reshape(n, q, m_out).transpose(1, 0, 2)
                second = np.asarray(derivs[i].T @ flat.T).T.reshape(q, n, m_out)
                yield i, (first - second)[i + 1 :].reshape(q - i - 1, n * m_out)

        return gen

    def closure_residual(self) -> float:
        """Relative distance of the brackets from the span (0 for a subalgebra)."""
        return self.structure_constants()[1]

    def is_closed(self, tol: float = 1e-8) -> bool:
        """True when the span is closed under the bracket (a Lie subalgebra)."""
        return self.closure_residual() <= tol

    def normalized(self, norm: str = "fro") -> LieAlgebra:
        """Each generator scaled to unit norm.

        Parameters
        ----------
        norm : {"fro", "max"}
            Frobenius norm of the coefficient array, or its largest entry.
        """
        if norm == "fro":
            scale = np.linalg.norm(self.coefficients.reshape(self.dim, -1), axis=1)
        elif norm == "max":
            scale = np.abs(self.coefficients.reshape(self.dim, -1)).max(axis=1)
        else:
            raise ValueError(f"norm must be 'fro' or 'max', got {norm!r}")
        if np.any(scale == 0):
            raise ValueError("cannot normalise a zero generator")
        return LieAlgebra(
            self.coefficients / scale[:, None, None], self.degree, self.names
        )

    def orthonormalized(self) -> LieAlgebra:
        """The same span with a Frobenius-orthonormal basis.

        An already orthonormal basis (gl, so, ...) is returned unchanged, keeping
        its names.

        Raises
        ------
        ValueError
            If the generators are linearly dependent.
        """
        if self.dim == 0:
            return self
        flat = self.coefficients.reshape(self.dim, -1)
        _, s, vt = np.linalg.svd(flat, full_matrices=False)
        if s[-1] < 1e-10 * s[0]:
            raise ValueError("candidate generators are linearly dependent")
        if np.allclose(flat @ flat.T, np.eye(self.dim), atol=1e-12):
            return self
        return LieAlgebra(vt.reshape(self.coefficients.shape), self.degree)

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """Values of every generator at the rows of ``x``: ``(dim, n_samples, n)``."""
        phi = self.basis.evaluate(x)
        return np.einsum("qim,sm->qsi", self.coefficients, phi)


def _pseudo_inverse_rows(span: np.ndarray) -> np.ndarray:
    """``pinv(span.T)``: exact (``span / |row|^2``) for orthogonal rows.

    The standard bases (gl, so, sl's off-diagonal part, ...) are orthogonal,
    and the exact formula keeps their structure constants exact integers.
    """
    gram = span @ span.T
    diag = np.diag(gram).copy()
    if np.all(diag > 0) and not np.any(gram - np.diag(diag)):
        return span / diag[:, None]
    return np.linalg.pinv(span.T)


def _maybe_sparse(a: np.ndarray, density: float = 0.1):
    """A CSR copy of ``a`` when few entries are non-zero, else ``a`` itself."""
    if np.count_nonzero(a) <= density * a.size:
        return sparse.csr_matrix(a)
    return a


def _check_n(n) -> int:
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"state dimension n must be a positive integer, got {n!r}")
    return int(n)
