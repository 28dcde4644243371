"""The Lie-derivative matrix of a model and the norms that measure it.

For candidate generators ``xi_1..xi_q`` and a model ``F = C Theta`` the map
``xi -> L_xi F`` is linear; its matrix ``L_F`` has column ``j`` equal to the
(weighted) coefficients of ``L_xi_j F``. Its null space is the model's symmetry
algebra inside the candidates, its singular values say how strongly each
direction is broken, and its nuclear norm is the convex surrogate that
promotion penalises. :class:`LieDerivativeMatrix` is the one object that
computes it; discovery and promotion both use it.

Function norms
--------------
How large a function is depends on how it is measured (:class:`FunctionNorm`):

* ``"coefficients"``: the Euclidean norm of its monomial coefficients;
* ``"data"``: the L2 norm over the training states,
  ``||g||^2 = mean_s |g(x_s)|^2``;
* ``"samples"``: the same L2 norm over user-given points (for instance points
  drawn uniformly from a box, as in the promotion objective of Otto et al.).

A norm is applied through a triangular factor ``R`` with ``||g|| = ||R c||``,
one small dense ``(k, m)`` matrix per monomial basis, applied block by block:
the weighted operator is never formed as a Kronecker product.

Relative singular values divide by ``||F||`` in the same norm. For linear
candidates with an orthonormal basis and the data norm they are unchanged when
the states are rescaled (``x -> s x``) or time is (``F -> c F``).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ._validation import check_choice, check_finite
from .algebra import LieAlgebra
from .polynomials import Monomials
from .spaces import ModelSpace

__all__ = ["FunctionNorm", "LieDerivativeMatrix", "INNER_PRODUCTS"]

#: Names accepted wherever an ``inner_product`` argument is taken.
INNER_PRODUCTS = ("auto", "data", "coefficients", "samples")


class FunctionNorm:
    """How polynomial functions are measured.

    Parameters
    ----------
    kind : {"coefficients", "data", "samples"}
    points : array (n_points, n_vars), optional
        Where the L2 norm is taken (required for "data" and "samples").

    Examples
    --------
    >>> import numpy as np
    >>> from symsindy import Monomials
    >>> norm = FunctionNorm("data", points=np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> round(norm.norm(np.array([[0.0, 1.0, 1.0]]), Monomials(2, 1)), 12)  # x0 + x1
    1.0
    """

    def __init__(self, kind: str = "coefficients", points=None):
        check_choice("inner_product", kind, ("coefficients", "data", "samples"))
        if kind != "coefficients":
            if points is None:
                raise ValueError(
                    f"inner_product={kind!r} needs sample points (x=... or "
                    "sample_points=...)"
                )
            points = check_finite("sample points", points)
            if points.ndim != 2 or points.shape[0] == 0:
                raise ValueError(
                    f"sample points must be (n_points, n_vars), got {points.shape}"
                )
        self.kind = kind
        self.points = points
        self._factors: dict[Monomials, np.ndarray] = {}

    def __repr__(self) -> str:
        where = "" if self.points is None else f", {self.points.shape[0]} points"
        return f"FunctionNorm({self.kind!r}{where})"

    @classmethod
    def resolve(cls, inner_product="auto", samples=None, sample_points=None):
        """The norm named by an ``inner_product`` argument.

        ``"auto"`` is the data norm when training states are known, else the
        coefficient norm. An existing FunctionNorm is returned unchanged.
        """
        if isinstance(inner_product, FunctionNorm):
            return inner_product
        check_choice("inner_product", inner_product, INNER_PRODUCTS)
        if inner_product == "auto":
            inner_product = "data" if samples is not None else "coefficients"
        if inner_product == "samples":
            return cls("samples", sample_points)
        if inner_product == "data":
            if samples is None:
                raise ValueError("inner_product='data' needs sample points: pass x=...")
            return cls("data", samples)
        return cls("coefficients")

    @classmethod
    def from_box(cls, low, high, n_points: int, seed: int | None = 0):
        """The L2 norm over ``n_points`` uniform random points of a box."""
        low, high = np.atleast_1d(low).astype(float), np.atleast_1d(high).astype(float)
        if low.shape != high.shape or np.any(high <= low):
            raise ValueError("the box needs low < high in every coordinate")
        rng = np.random.default_rng(seed)
        return cls("samples", rng.uniform(low, high, size=(int(n_points), low.size)))

    def factor(self, basis: Monomials) -> np.ndarray | None:
        """Triangular ``R`` with ``||g|| = ||R c||`` over ``basis`` (None: identity)."""
        if self.kind == "coefficients":
            return None
        if basis not in self._factors:
            if self.points.shape[1] != basis.n_vars:
                raise ValueError(
                    f"sample points have {self.points.shape[1]} coordinates, the "
                    f"library has {basis.n_vars} state variables"
                )
            theta = basis.evaluate(self.points) / np.sqrt(self.points.shape[0])
            self._factors[basis] = np.linalg.qr(theta, mode="r")
        return self._factors[basis]

    def apply(self, coefs: np.ndarray, basis: Monomials) -> np.ndarray:
        """Weighted coefficients: rows ``(..., len(basis)) -> (..., k)``."""
        R = self.factor(basis)
        return coefs if R is None else coefs @ R.T

    def norm(self, coef: np.ndarray, basis: Monomials) -> float:
        """``||F||`` of the model ``coef`` (all targets together)."""
        return float(np.linalg.norm(self.apply(np.asarray(coef, dtype=float), basis)))


class LieDerivativeMatrix:
    """The bilinear map ``(xi, C) -> L_xi F_C`` read as a matrix ``L_F(C)``.

    Parameters
    ----------
    space : ModelSpace
    algebra : LieAlgebra
        Candidate generators ``xi_1..xi_q`` (used as given: orthonormalise them
        first for a generator-independent spectrum).
    norm : FunctionNorm, optional
        How the Lie derivatives are measured (default: coefficients).

    Notes
    -----
    ``L_F(C)`` has shape ``(n_targets * k, q)`` where ``k`` is the number of rows
    of the norm's factor over the output basis. The model-to-matrix map is
    available as a ``scipy.sparse.linalg.LinearOperator`` (:meth:`model_operator`)
    and so is, for a fixed model, the generator-to-function map
    (:meth:`operator`).

    Examples
    --------
    >>> import numpy as np
    >>> from symsindy import LieAlgebra, Monomials
    >>> from symsindy.spaces import ModelSpace
    >>> space = ModelSpace.of(Monomials(2, 1, 1))
    >>> L = LieDerivativeMatrix(space, LieAlgebra.gl(2))
    >>> C = np.array([[-0.1, -1.0], [1.0, -0.1]])   # damped oscillator
    >>> int(np.sum(L.relative_singular_values(C) < 1e-12))   # rotation + scaling
    2
    """

    def __init__(self, space: ModelSpace, algebra: LieAlgebra, norm=None):
        if not isinstance(algebra, LieAlgebra):
            raise TypeError(
                f"candidates must be a LieAlgebra, got {type(algebra).__name__}"
            )
        self.space = space
        self.algebra = algebra
        self.norm = FunctionNorm() if norm is None else norm
        self.stack = space.lie_derivative(algebra)
        self._factor = self.norm.factor(self.stack.out_basis)

    # ------------------------------------------------------------ shapes
    @property
    def n_generators(self) -> int:
        return self.algebra.dim

    @property
    def n_rows(self) -> int:
        """Rows of ``L_F``: targets times weighted output coordinates."""
        k = len(self.stack.out_basis) if self._factor is None else self._factor.shape[0]
        return self.space.n_targets * k

    def as_matrix(self, values: np.ndarray) -> np.ndarray:
        """Generator-major vector ``(q * n_rows,) -> (n_rows, q)``."""
        return values.reshape(self.n_generators, self.n_rows).T

    def as_vector(self, Z: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`as_matrix`."""
        return Z.T.ravel()

    # --------------------------------------------------- weighted blocks
    def _weight(self, raw: np.ndarray) -> np.ndarray:
        """Apply the norm factor to every (generator, target) block of ``raw``."""
        blocks = raw.reshape(-1, len(self.stack.out_basis))
        if self._factor is not None:
            blocks = blocks @ self._factor.T
        return blocks.ravel()

    def _weight_adjoint(self, values: np.ndarray) -> np.ndarray:
        if self._factor is None:
            return values
        return (values.reshape(-1, self._factor.shape[0]) @ self._factor).ravel()

    def model_operator(self) -> LinearOperator:
        """``vec(C) -> vec(L_F(C))`` (generator-major) as a LinearOperator."""
        L = self.stack.matrix
        Lt = L.T.tocsr()  # transposed once, reused by every rmatvec
        return LinearOperator(
            (self.n_generators * self.n_rows, self.space.n_coef),
            matvec=lambda w: self._weight(L @ np.ravel(w)),
            rmatvec=lambda z: Lt @ self._weight_adjoint(np.ravel(z)),
            dtype=float,
        )

    def normal_matrix(self):
        """``A^T A`` for the model operator ``A``.

        Sparse for the coefficient norm. For a weighted norm it is accumulated
        block by block as ``sum_b L_b^T (R^T R) L_b`` (a dense
        ``(n_coef, n_coef)`` array), never through a Kronecker product.
        """
        L = self.stack.matrix
        if self._factor is None:
            return (L.T @ L).tocsr()
        G = self._factor.T @ self._factor
        m = len(self.stack.out_basis)
        out = np.zeros((self.space.n_coef, self.space.n_coef))
        for start in range(0, L.shape[0], m):
            block = L[start : start + m]
            if block.nnz:
                cols = np.unique(block.indices)
                sub = block[:, cols].toarray()
                out[np.ix_(cols, cols)] += sub.T @ G @ sub
        return out

    # ------------------------------------------------ fixed-model views
    def columns(self, coef) -> np.ndarray:
        """``L_F(C)``: column ``j`` is the weighted ``vec(L_xi_j F)``."""
        coef = self.space.check_coef(coef)
        return self.as_matrix(self._weight(self.stack.matrix @ coef.ravel()))

    def operator(self, coef) -> LinearOperator:
        """For a fixed model, ``xi -> L_xi F`` in generator coordinates."""
        cols = self.columns(coef)
        return LinearOperator(
            cols.shape, matvec=lambda v: cols @ v, rmatvec=lambda u: cols.T @ u
        )

    def svd(self, coef) -> tuple[np.ndarray, np.ndarray]:
        """Singular values (descending) and right singular vectors (rows).

        ``vt[i]`` are the generator coordinates of the ``i``-th direction; the
        last rows span the (near) symmetries.
        """
        q = self.n_generators
        if q == 0:
            return np.zeros(0), np.zeros((0, 0))
        cols = self.columns(coef)
        # QR first: the SVD of the small triangular factor gives every right
        # singular vector without forming the tall left factor.
        r = np.linalg.qr(cols, mode="r")
        r = np.vstack([r, np.zeros((q - r.shape[0], q))])
        _, s, vt = np.linalg.svd(r)
        return s, vt

    def singular_values(self, coef) -> np.ndarray:
        """Singular values of ``L_F(C)``, descending."""
        return self.svd(coef)[0]

    def model_norm(self, coef) -> float:
        """``||F||`` in the same function norm."""
        coef = self.space.check_coef(coef)
        return self.norm.norm(coef, self.space.basis)

    def relative_singular_values(self, coef) -> np.ndarray:
        """Singular values divided by ``||F||`` (all zero for the zero model)."""
        s = self.singular_values(coef)
        norm = self.model_norm(coef)
        return s / norm if norm > 0 else np.zeros_like(s)

    def relative_lie_derivatives(self, coef, generators: LieAlgebra) -> np.ndarray:
        """``||L_xi F|| / ||F||`` for each generator of ``generators``."""
        other = LieDerivativeMatrix(self.space, generators, self.norm)
        cols = other.columns(coef)
        norm = self.model_norm(coef)
        values = np.linalg.norm(cols, axis=0)
        return values / norm if norm > 0 else np.zeros_like(values)
