"""Model spaces: where a polynomial model's coefficients live, and how a group acts.

A model is ``F(x) = C Theta(x)`` with ``C`` of shape ``(n_targets, n_features)``
(pysindy's ``coef_`` layout) over the monomials ``Theta`` of a library. A
:class:`ModelSpace` bundles the three facts every symmetry computation needs:

* the monomial basis of the library (:class:`symsindy.polynomials.Monomials`);
* the number of model outputs (targets);
* the :class:`OutputAction`: how a group element acts on the outputs.

Output actions
--------------
``"vector"`` (ODE right-hand sides, the default): outputs transform like states,
so ``L_xi F = DF xi - D xi F`` and a discrete element ``R`` requires
``F(R x) = R F(x)``. ``"invariant"`` (scalar functions): outputs do not
transform, ``L_xi f = Df xi`` and ``f(R x) = f(x)``. A matrix action gives one
``(m, m)`` matrix ``B_q`` per generator (``L F = DF xi - B_q F``) or, for a
discrete element, the matrix ``S`` in ``F(R x) = S F(x)``.

``"states"`` (controlled vector fields, :mod:`symsindy.control`): the library
runs over the ``n`` states followed by ``m`` control inputs, the ``n`` outputs
transform like the states. Generators and elements act block-diagonally on
``(x, u)`` as ``blockdiag(A, A_u)``; the outputs are acted on by the state
block ``A`` (``L F = DF (A x, A_u u) - A F``).

The space builds every operator of the library: Lie derivatives of a whole
algebra (:meth:`ModelSpace.lie_derivative`), discrete constraints
(:meth:`ModelSpace.discrete_constraint`), the stacked constraints of a group
(:meth:`ModelSpace.constraints`) and the Lie-derivative matrix of a fixed
model (:meth:`ModelSpace.lie_derivative_matrix`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._validation import check_finite
from .polynomials import Monomials

__all__ = ["OutputAction", "ModelSpace", "resolve_basis"]

_KINDS = ("vector", "invariant", "matrix", "states")

#: Largest entry allowed in the state-input coupling blocks of a "states" action.
_BLOCK_TOL = 1e-12


@dataclass(frozen=True, eq=False)
class OutputAction:
    """How a symmetry acts on a model's outputs.

    Parameters
    ----------
    kind : {"vector", "invariant", "matrix", "states"}
    matrices : array (k, m, m), optional
        For ``kind="matrix"``: one output matrix per generator (or the single
        matrix ``S`` of a discrete element).

    Examples
    --------
    >>> OutputAction.coerce("vector").kind
    'vector'
    >>> OutputAction.coerce([[0.0, 1.0], [-1.0, 0.0]]).matrices.shape
    (1, 2, 2)
    """

    kind: str
    matrices: np.ndarray | None = None

    @classmethod
    def coerce(cls, output) -> OutputAction:
        """Accept an OutputAction, ``"vector"``, ``"invariant"`` or matrices."""
        if isinstance(output, OutputAction):
            return output
        if isinstance(output, str):
            if output not in ("vector", "invariant"):
                raise ValueError(
                    "output must be 'vector', 'invariant' or output matrices, "
                    f"got {output!r}"
                )
            return cls(output)
        mats = check_finite("output matrices", output)
        if mats.ndim == 2:
            mats = mats[None]
        if mats.ndim != 3 or mats.shape[1] != mats.shape[2]:
            raise ValueError(
                "output matrices must have shape (k, m, m) or (m, m), got "
                f"{np.shape(output)}"
            )
        return cls("matrix", mats)

    @property
    def is_vector(self) -> bool:
        return self.kind == "vector"

    def n_targets(self, n_vars: int, n_targets: int | None = None) -> int:
        """The number of model outputs, checked against this action."""
        if self.kind == "vector":
            if n_targets is not None and n_targets != n_vars:
                raise ValueError(
                    f"a vector-field model needs {n_vars} targets (n_targets equal "
                    f"to the state dimension), got {n_targets}; use "
                    "output='invariant' for scalar functions"
                )
            return n_vars
        if self.kind == "invariant":
            return 1 if n_targets is None else int(n_targets)
        if self.kind == "states":
            if n_targets is None or not 0 < n_targets <= n_vars:
                raise ValueError(
                    f"a controlled vector field needs one target per state (at most "
                    f"the {n_vars} library variables), got n_targets={n_targets}"
                )
            return int(n_targets)
        m = self.matrices.shape[1]
        if n_targets is not None and n_targets != m:
            raise ValueError(f"output matrices are {m}x{m}, but n_targets={n_targets}")
        return m

    def generator_matrices(self, algebra, n_targets: int) -> np.ndarray | None:
        """Output matrices of the generators of ``algebra`` (``None`` for
        vector/invariant); the state blocks ``A_q`` for ``"states"``."""
        dim = algebra.dim
        if self.kind == "states":
            if dim and not algebra.is_linear:
                raise ValueError(
                    "with control inputs the generators must be linear maps of the "
                    "states and inputs (affine or polynomial fields are not supported)"
                )
            mats = algebra.matrices if dim else np.zeros((0,) + (algebra.n,) * 2)
            return np.array([_state_block(A, n_targets) for A in mats]).reshape(
                dim, n_targets, n_targets
            )
        if self.kind != "matrix":
            return None
        if self.matrices.shape[0] != dim:
            raise ValueError(
                f"output matrices must have shape ({dim}, m, m), one per generator; "
                f"got {self.matrices.shape}"
            )
        return self.matrices

    def element_matrix(self, R: np.ndarray, n_targets: int) -> np.ndarray:
        """``S`` in ``F(R x) = S F(x)`` for a discrete element ``R``."""
        if self.kind == "vector":
            return R
        if self.kind == "invariant":
            return np.eye(n_targets)
        if self.kind == "states":
            return _state_block(R, n_targets)
        if self.matrices.shape[0] != 1:
            raise ValueError(
                "a discrete element needs a single (m, m) output matrix, got "
                f"{self.matrices.shape[0]}"
            )
        return self.matrices[0]

    def key(self):
        """Hashable value identifying the action (for caches)."""
        if self.matrices is None:
            return self.kind
        return (self.kind, self.matrices.shape, self.matrices.tobytes())


def _state_block(A: np.ndarray, n: int) -> np.ndarray:
    """The state block ``A[:n, :n]`` of a block-diagonal map of ``(x, u)``."""
    scale = max(np.abs(A).max(initial=0.0), 1.0)
    if max(np.abs(A[:n, n:]).max(initial=0.0), np.abs(A[n:, :n]).max(initial=0.0)) > (
        _BLOCK_TOL * scale
    ):
        raise ValueError(
            "a symmetry of a controlled model must act block-diagonally on the "
            "states and the control inputs (no state-input coupling)"
        )
    return A[:n, :n]


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


@dataclass(frozen=True, eq=False)
class ModelSpace:
    """The coefficient matrices ``C`` of models ``F(x) = C Theta(x)``.

    Parameters
    ----------
    basis : Monomials
        The library's monomials ``Theta``.
    n_targets : int
        Number of model outputs (rows of ``C``).
    output : OutputAction
        How symmetries act on the outputs.

    Examples
    --------
    >>> from symsindy import LieAlgebra
    >>> space = ModelSpace.of(Monomials(2, 3))
    >>> space.n_coef
    20
    >>> space.lie_derivative(LieAlgebra.so(2)).matrix.shape
    (20, 20)
    """

    basis: Monomials
    n_targets: int
    output: OutputAction

    @classmethod
    def of(
        cls,
        library,
        n_vars: int | None = None,
        output="vector",
        n_targets: int | None = None,
    ) -> ModelSpace:
        """The space of a library (Monomials or pysindy PolynomialLibrary)."""
        if isinstance(library, ModelSpace):
            return library
        basis = resolve_basis(library, n_vars)
        if n_vars is not None:
            check_acts_on("the symmetry", n_vars, basis.n_vars)
        action = OutputAction.coerce(output)
        return cls(basis, action.n_targets(basis.n_vars, n_targets), action)

    # ------------------------------------------------------------ shape
    @property
    def n_vars(self) -> int:
        """State dimension (variables of the library)."""
        return self.basis.n_vars

    @property
    def n_features(self) -> int:
        return len(self.basis)

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of a coefficient matrix ``(n_targets, n_features)``."""
        return (self.n_targets, self.n_features)

    @property
    def n_coef(self) -> int:
        """Length of ``vec(C) = C.ravel()``."""
        return self.n_targets * self.n_features

    def check_coef(self, coef, name: str = "coef") -> np.ndarray:
        """``coef`` as a finite float array of this space's shape."""
        coef = check_finite(name, coef)
        if coef.ndim == 1 and self.n_targets == 1:
            coef = coef[None]
        if coef.shape != self.shape:
            raise ValueError(f"{name} must have shape {self.shape}, got {coef.shape}")
        return coef

    def key(self):
        """Hashable value identifying the space (for caches)."""
        return (self.basis, self.n_targets, self.output.key())

    def zeros(self) -> sparse.csr_matrix:
        """An empty constraint matrix (no rows) on this space."""
        return sparse.csr_matrix((0, self.n_coef))

    # -------------------------------------------------------- operators
    def lie_derivative(self, algebra):
        """Stacked operator ``vec(C) -> (vec(L_xi_q F))_q`` over ``algebra``'s basis.

        See :func:`symsindy.lie_derivative.lie_derivative_stack`.
        """
        from .lie_derivative import build_lie_derivative

        return build_lie_derivative(self, algebra)

    def discrete_constraint(self, R, S=None):
        """Operator ``vec(C) -> vec(C P_R - S C)``, zero iff ``F(R x) = S F(x)``."""
        from .lie_derivative import build_discrete_constraint

        return build_discrete_constraint(self, R, S)

    def constraints(self, group) -> sparse.csr_matrix:
        """Stacked sparse ``K`` with ``K vec(C) = 0`` iff the model is symmetric."""
        from .group import SymmetryGroup

        group = SymmetryGroup.coerce(group)
        check_acts_on("the symmetry", group.n, self.n_vars)
        blocks = [self.lie_derivative(group.algebra).matrix] if group.dim else []
        blocks += [self.discrete_constraint(R).matrix for R in group.discrete]
        if not blocks:
            return self.zeros()
        return sparse.vstack(blocks, format="csr")

    def lie_derivative_matrix(self, algebra, norm=None):
        """The map ``(xi, C) -> L_xi F`` read as a matrix: see spectrum module."""
        from .spectrum import LieDerivativeMatrix

        return LieDerivativeMatrix(self, algebra, norm)


def check_acts_on(name: str, n_acting: int, n_vars: int) -> None:
    """One message for "this object acts on a space of the wrong dimension"."""
    if int(n_acting) != int(n_vars):
        raise ValueError(
            f"{name} acts on R^{n_acting} but the library has {n_vars} state variables"
        )
