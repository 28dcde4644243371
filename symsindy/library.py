"""A pysindy polynomial library that knows its monomials and symmetry operators."""

from __future__ import annotations

import numpy as np
from pysindy import PolynomialLibrary
from sklearn.utils.validation import check_is_fitted

from .algebra import LieAlgebra
from .lie_derivative import (
    CoefficientOperator,
    OutputAction,
    discrete_constraint,
    lie_derivative,
    lie_derivative_stack,
    resolve_basis,
)
from .polynomials import Monomials
from .size_guard import check_library_matrix

__all__ = ["LiePolynomialLibrary"]


class LiePolynomialLibrary(PolynomialLibrary):
    """All monomials of degree ``<= degree``, with exact Lie-derivative operators.

    Behaves exactly like ``pysindy.PolynomialLibrary`` inside ``ps.SINDy``
    (same arguments, features, order and names) and adds the symmetry operators
    of :mod:`symsindy.lie_derivative`. Every value of pysindy's arguments that
    gives all monomials up to ``degree`` is accepted; ``include_interaction=False``
    and ``interaction_only=True`` are refused at ``fit``: those libraries are not
    closed under linear maps, so no symmetry operator is exact on them.

    Parameters
    ----------
    degree : int, default 2
    include_interaction : bool, default True
        Must be True.
    interaction_only : bool, default False
        Must be False.
    include_bias : bool, default True
    order : {"C", "F"}, default "C"

    Examples
    --------
    >>> import numpy as np
    >>> lib = LiePolynomialLibrary(degree=2).fit(np.zeros((3, 2)))
    >>> lib.get_feature_names()
    ['1', 'x0', 'x1', 'x0^2', 'x0 x1', 'x1^2']
    >>> lib.lie_derivative(np.array([[0.0, -1.0], [1.0, 0.0]])).matrix.shape
    (12, 12)
    """

    def __init__(
        self,
        degree: int = 2,
        include_interaction: bool = True,
        interaction_only: bool = False,
        include_bias: bool = True,
        order: str = "C",
    ):
        super().__init__(
            degree=degree,
            include_interaction=include_interaction,
            interaction_only=interaction_only,
            include_bias=include_bias,
            order=order,
        )

    def fit(self, x, y=None):
        """Check the arguments, then fit as ``PolynomialLibrary``."""
        if self.interaction_only or not self.include_interaction:
            raise ValueError(
                "LiePolynomialLibrary needs every monomial up to its degree "
                "(include_interaction=True, interaction_only=False): the other "
                "libraries are not closed under linear maps (rotating x0*x1 "
                "produces x0^2); use pysindy's PolynomialLibrary for them"
            )
        return super().fit(x, y)

    def transform(self, x_full):
        """pysindy's transform, after checking that the library matrix fits.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit`` (as every pysindy library does).
        """
        check_is_fitted(self, "n_features_in_")
        xs = x_full if isinstance(x_full, list | tuple) else [x_full]
        rows = sum(int(np.prod(np.shape(x)[:-1])) for x in xs)
        check_library_matrix(rows, self.monomials())
        return super().transform(x_full)

    def monomials(self, n_vars: int | None = None) -> Monomials:
        """The library's monomial basis (``n_vars`` needed before ``fit``)."""
        return resolve_basis(self, n_vars)

    @property
    def exponents_(self) -> np.ndarray:
        """Exponents ``(n_features, n_vars)``, identical to ``powers_``."""
        return self.monomials().exponents

    def lie_derivative(
        self, generator, output: OutputAction = "vector", n_targets: int | None = None
    ) -> CoefficientOperator:
        """See :func:`symsindy.lie_derivative`."""
        return lie_derivative(self, generator, output, n_targets)

    def lie_derivative_stack(
        self,
        algebra: LieAlgebra,
        output: OutputAction = "vector",
        n_targets: int | None = None,
    ) -> CoefficientOperator:
        """See :func:`symsindy.lie_derivative_stack`."""
        return lie_derivative_stack(self, algebra, output, n_targets)

    def discrete_constraint(
        self, R: np.ndarray, output="vector", n_targets: int | None = None
    ) -> CoefficientOperator:
        """See :func:`symsindy.discrete_constraint`."""
        return discrete_constraint(self, R, output, n_targets)
