"""Symmetry groups: a Lie algebra (identity component) plus discrete elements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._validation import check_invertible
from .algebra import LieAlgebra
from .finite_groups import (
    DEFAULT_MAX_ORDER,
    FiniteMatrixGroup,
    GroupOrder,
    group_key,
    in_identity_component,
)
from .naming import describe_algebra, describe_discrete

__all__ = ["SymmetryGroup", "DiscoveryReport", "generated_group", "group_key"]


@dataclass
class DiscoveryReport:
    """How a :class:`SymmetryGroup` was discovered (see :func:`discover_symmetries`).

    Attributes
    ----------
    singular_values : ndarray
        Singular values of the weighted Lie-derivative matrix, descending.
    relative_singular_values : ndarray
        The same divided by the model's norm (the quantity compared with ``tol``).
    tol : float
        Threshold on relative singular values: directions below are symmetries.
    inner_product : str
        ``"data"`` (L2 over the sample points) or ``"coefficients"``.
    candidates : LieAlgebra
        The candidate algebra searched, with its basis orthonormalised.
    closure_residual : float
        Distance of brackets of the discovered generators from their span.
    structure_constants : ndarray
        ``c[i, j, k]`` of the discovered (orthonormal) basis.
    discrete_residuals : list of (ndarray, float)
        Every discrete candidate checked with its relative residual.
    discrete_order : int
        Order of the group of all discrete candidates that hold (including
        those inside the continuous group).
    bootstrap_relative_singular_values : ndarray or None
        ``(n_bootstrap, dim)`` spectra of models refitted on resampled data.
    snapped : bool
        Whether the generators were replaced by nearby exact ones.
    """

    singular_values: np.ndarray
    relative_singular_values: np.ndarray
    tol: float
    inner_product: str
    candidates: LieAlgebra
    closure_residual: float
    structure_constants: np.ndarray
    discrete_tol: float = 0.0
    discrete_residuals: list = field(default_factory=list)
    discrete_order: int = 1
    bootstrap_relative_singular_values: np.ndarray | None = None
    snapped: bool = False

    @property
    def bootstrap_dim_frequency(self) -> dict[int, float] | None:
        """Fraction of bootstrap replicates giving each dimension."""
        if self.bootstrap_relative_singular_values is None:
            return None
        dims = (self.bootstrap_relative_singular_values <= self.tol).sum(axis=1)
        values, counts = np.unique(dims, return_counts=True)
        return {
            int(v): float(c) / len(dims) for v, c in zip(values, counts, strict=True)
        }


class SymmetryGroup:
    """A symmetry group: a Lie algebra of generators plus discrete elements.

    This is what :func:`symsindy.discover_symmetries` returns and what the
    enforcing optimizers accept.

    Parameters
    ----------
    algebra : LieAlgebra, optional
        Generators of the identity component (none if omitted).
    discrete : sequence of (n, n) arrays, optional
        Discrete elements (reflections, permutations, ...). Only generators of
        the finite part are needed; :meth:`elements` closes them.
    n : int, optional
        State dimension, needed only when neither of the above is given.
    coordinate_names : list of str, optional
        Names used by :meth:`describe`.

    Examples
    --------
    >>> import numpy as np
    >>> G = SymmetryGroup(LieAlgebra.so(2), discrete=[np.diag([1.0, -1.0])])
    >>> G.dim, G.order
    (1, 2)
    >>> print(G)
    rotation in the (x0, x1) plane
    (x0, x1) -> (x0, -x1)
    """

    def __init__(
        self,
        algebra: LieAlgebra | None = None,
        discrete: Sequence[np.ndarray] = (),
        n: int | None = None,
        coordinate_names: Sequence[str] | None = None,
        report: DiscoveryReport | None = None,
    ):
        discrete = [np.asarray(R, dtype=float) for R in discrete]
        sizes = {R.shape for R in discrete}
        if algebra is not None and not isinstance(algebra, LieAlgebra):
            raise TypeError(
                f"algebra must be a LieAlgebra, got {type(algebra).__name__}"
            )
        dims = {algebra.n} if algebra is not None else set()
        for shape in sizes:
            if len(shape) != 2 or shape[0] != shape[1]:
                raise ValueError(
                    f"discrete elements must be square matrices, got {shape}"
                )
            dims.add(shape[0])
        if n is not None:
            dims.add(int(n))
        if len(dims) != 1:
            raise ValueError(
                "algebra, discrete elements and n disagree on the state dimension "
                f"(got {sorted(dims)})"
                if dims
                else "give an algebra, discrete elements or n"
            )
        self.n = dims.pop()
        for R in discrete:
            if not np.all(np.isfinite(R)):
                raise ValueError("discrete elements must be finite invertible matrices")
            check_invertible("a discrete element", R)
        self.algebra = algebra if algebra is not None else LieAlgebra.trivial(self.n)
        self.discrete = discrete
        self.coordinate_names = (
            list(coordinate_names)
            if coordinate_names
            else [f"x{j}" for j in range(self.n)]
        )
        self.report = report

    # ------------------------------------------------------------- contents
    @property
    def dim(self) -> int:
        """Dimension of the Lie algebra."""
        return self.algebra.dim

    @property
    def generators(self) -> np.ndarray:
        """Matrices ``(dim, n, n)`` for linear algebras, else field coefficients."""
        if self.algebra.is_linear:
            return self.algebra.matrices
        return self.algebra.coefficients

    @property
    def singular_values(self) -> np.ndarray | None:
        """Relative singular values of the discovery (``None`` if not discovered)."""
        return None if self.report is None else self.report.relative_singular_values

    def finite_group(self, max_order: int = DEFAULT_MAX_ORDER) -> FiniteMatrixGroup:
        """The finite group generated by ``discrete`` (order, membership)."""
        return FiniteMatrixGroup(self.discrete, self.n, max_order)

    def elements(self, max_order: int = DEFAULT_MAX_ORDER) -> list[np.ndarray]:
        """All elements of the finite group generated by ``discrete`` (identity first).

        Raises
        ------
        ValueError
            If the generated group has more than ``max_order`` elements, or an
            element has infinite order (e.g. ``2 I``).
        """
        return self.finite_group(max_order).elements()

    @property
    def order(self) -> GroupOrder:
        """Order of the finite group generated by ``discrete``.

        Exact for signed permutations (Schreier-Sims, no listing); other groups
        are closed up to :data:`symsindy.finite_groups.DEFAULT_MAX_ORDER`
        elements, and a larger one reports ``order >= N``
        (``order.exact is False``).

        Raises
        ------
        ValueError
            If a discrete element has infinite order.
        """
        return self.finite_group().order

    def in_identity_component(self) -> list[bool]:
        """For each of :meth:`elements`, whether it lies in ``exp(algebra)``.

        Such elements are symmetries already implied by the continuous part
        (see :func:`symsindy.finite_groups.in_identity_component`).
        """
        return [in_identity_component(g, self.algebra) for g in self.elements()]

    # ----------------------------------------------------------- describing
    def describe(self) -> str:
        """Readable multi-line description of the group.

        Discrete generators already contained in the continuous group (see
        :meth:`in_identity_component`) are not listed.
        """
        lines = describe_algebra(self.algebra, self.coordinate_names)
        for R in self._discrete_beyond_identity_component():
            lines.append(describe_discrete(R, self.coordinate_names))
        return "\n".join(lines)

    def _discrete_beyond_identity_component(self) -> list[np.ndarray]:
        # G intersected with the identity component is a subgroup, so an
        # element outside it is exactly one not implied by the algebra.
        return [R for R in self.discrete if not in_identity_component(R, self.algebra)]

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return (
            f"SymmetryGroup(n={self.n}, dim={self.dim}, discrete={len(self.discrete)})"
        )

    def summary(self) -> str:
        """Description plus the spectrum and checks of a discovery."""
        lines = [f"Lie algebra of dimension {self.dim}:"]
        lines += [
            "  " + line
            for line in describe_algebra(self.algebra, self.coordinate_names)
        ]
        if self.report is not None and self.report.discrete_residuals:
            order = self.report.discrete_order
            inside = (
                ", all inside the continuous group"
                if (order > 1 and not self.discrete)
                else ""
            )
            lines.append(
                f"discrete symmetries among {len(self.report.discrete_residuals)} "
                f"candidates: a group of order {order}{inside}"
            )
        if self.discrete:
            lines.append("discrete generators beyond the continuous group:")
            lines += [
                "  " + describe_discrete(R, self.coordinate_names)
                for R in self.discrete
            ]
        if self.report is not None:
            rep = self.report
            spectrum = ", ".join(f"{s:.2e}" for s in rep.relative_singular_values)
            lines.append(
                f"relative singular values ({rep.inner_product} inner product, "
                f"tol {rep.tol:.1e}): {spectrum}"
            )
            lines.append(f"closure residual: {rep.closure_residual:.1e}")
            if rep.snapped:
                lines.append("generators snapped to exact values (still within tol)")
            freq = rep.bootstrap_dim_frequency
            if freq:
                stab = ", ".join(f"dim {d}: {p:.0%}" for d, p in sorted(freq.items()))
                lines.append(f"bootstrap: {stab}")
        return "\n".join(lines)

    def plot(self, axes=None):
        """Spectrum (log axis, threshold drawn) and generators; see plotting."""
        from .plotting import plot_group

        return plot_group(self, axes=axes)

    # ---------------------------------------------------------- conversion
    @classmethod
    def coerce(cls, symmetry) -> SymmetryGroup:
        """Accept a SymmetryGroup, a LieAlgebra, or a single (n, n) matrix."""
        if isinstance(symmetry, SymmetryGroup):
            return symmetry
        if isinstance(symmetry, LieAlgebra):
            return cls(symmetry)
        if symmetry is None:
            raise TypeError("symmetry is required (a SymmetryGroup or LieAlgebra)")
        arr = np.asarray(symmetry, dtype=float)
        if arr.ndim in (2, 3):
            return cls(LieAlgebra.from_matrices(arr))
        raise TypeError(
            "symmetry must be a SymmetryGroup, a LieAlgebra or generator matrices, "
            f"got {type(symmetry).__name__}"
        )

    def to_dict(self) -> dict:
        """JSON-serialisable description (the discovery report is not kept)."""
        return {
            "n": self.n,
            "algebra": {
                "degree": self.algebra.degree,
                "coefficients": self.algebra.coefficients.tolist(),
                "names": self.algebra.names,
            },
            "discrete": [R.tolist() for R in self.discrete],
            "coordinate_names": self.coordinate_names,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SymmetryGroup:
        """Inverse of :meth:`to_dict`."""
        try:
            alg = data["algebra"]
            n = int(data["n"])
            coef = np.asarray(alg["coefficients"], dtype=float)
            if coef.size == 0:
                algebra = LieAlgebra.trivial(n)
            else:
                algebra = LieAlgebra(coef, alg["degree"], alg.get("names"))
            return cls(
                algebra,
                [np.asarray(R) for R in data.get("discrete", [])],
                n=n,
                coordinate_names=data.get("coordinate_names"),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a valid symmetry group description: {err}") from err


def generated_group(
    generators: Sequence[np.ndarray], n: int, max_order: int = DEFAULT_MAX_ORDER
) -> list[np.ndarray]:
    """All elements of the finite matrix group generated by ``generators``.

    Kept for compatibility; see :class:`symsindy.finite_groups.FiniteMatrixGroup`.
    """
    return FiniteMatrixGroup(generators, n, max_order).elements()
