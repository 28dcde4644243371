"""Symmetries of models with control inputs (SINDYc).

A controlled model ``x' = F(x, u)`` has ``n`` states and ``m`` inputs; its
library runs over the ``n + m`` variables ``(x, u)`` (pysindy concatenates them
in that order). A symmetry acts on the states by the group the user gives and
on the inputs by an action the user chooses (by default the inputs are left
unchanged):

* a generator ``A`` of the states becomes the field ``blockdiag(A, A_u)`` on the
  library variables, and acts on the ``n`` outputs by ``A``;
* a discrete element ``R`` becomes ``blockdiag(R, R_u)`` on the library
  variables, and acts on the outputs by ``R``.

:func:`control_action` turns ``(group, n_inputs, input_action)`` into these
pieces. :func:`control_space` is the coefficient space of a controlled model
(a :class:`~symsindy.spaces.ModelSpace` over ``(x, u)`` whose outputs
transform like the states); its operators are what enforce
(:func:`control_constraints`), discover and promote use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.linalg import block_diag

from ._validation import check_scalar
from .algebra import LieAlgebra
from .group import SymmetryGroup
from .spaces import ModelSpace, OutputAction, resolve_basis

__all__ = [
    "ControlAction",
    "control_action",
    "control_constraints",
    "control_space",
    "check_input_action",
    "extended_candidates",
]


@dataclass(frozen=True)
class ControlAction:
    """A state symmetry extended to ``(x, u)``.

    Attributes
    ----------
    algebra : LieAlgebra
        Generators ``blockdiag(A_q, A_u_q)`` on the ``n + m`` library variables.
    output : ndarray (dim, n, n)
        How each generator acts on the ``n`` outputs (``A_q``).
    discrete : list of (ndarray (n + m, n + m), ndarray (n, n))
        Pairs ``(blockdiag(R, R_u), R)``: the element on the library variables
        and its action on the outputs.
    n_states, n_inputs : int
    """

    algebra: LieAlgebra
    output: np.ndarray
    discrete: list
    n_states: int
    n_inputs: int

    @property
    def group(self) -> SymmetryGroup:
        """The extended group acting on the ``n + m`` library variables."""
        return SymmetryGroup(
            self.algebra,
            [big for big, _ in self.discrete],
            n=self.n_states + self.n_inputs,
        )


def control_action(symmetry, n_inputs: int, input_action=None) -> ControlAction:
    """Extend a symmetry of the states to states and control inputs.

    Parameters
    ----------
    symmetry : SymmetryGroup, LieAlgebra or generator matrices
        A group of linear maps of the ``n`` states.
    n_inputs : int
        Number of control inputs ``m``.
    input_action : SymmetryGroup, LieAlgebra, or None
        How the group acts on the inputs: a group on ``R^m`` with one generator
        per generator of ``symmetry`` and one discrete element per discrete
        element (matched in order). A LieAlgebra gives the generators only
        (discrete elements then leave the inputs unchanged). ``None``: the
        inputs are unchanged (zero generators, identity elements).

    Returns
    -------
    ControlAction

    Examples
    --------
    Rotating the states of a planar system while the scalar input is fixed:

    >>> from symsindy import LieAlgebra
    >>> act = control_action(LieAlgebra.so(2), n_inputs=1)
    >>> act.algebra.matrices[0].tolist()
    [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    group = SymmetryGroup.coerce(symmetry)
    m = int(check_scalar("n_inputs", n_inputs, low=0, integer=True))
    n = group.n
    if group.dim and not group.algebra.is_linear:
        raise ValueError(
            "with control inputs the symmetry's generators must be linear maps of "
            "the states (affine or polynomial generators are not supported)"
        )
    gens = group.algebra.matrices if group.dim else np.zeros((0, n, n))
    gens_u, elems_u = _input_matrices(input_action, group, m)
    big = np.array([block_diag(A, Au) for A, Au in zip(gens, gens_u, strict=True)])
    algebra = LieAlgebra.from_matrices(big) if len(big) else LieAlgebra.trivial(n + m)
    discrete = [
        (block_diag(R, Ru), R) for R, Ru in zip(group.discrete, elems_u, strict=True)
    ]
    return ControlAction(algebra, gens, discrete, n, m)


def _input_matrices(input_action, group: SymmetryGroup, m: int):
    """Generators and discrete elements of the action on the inputs."""
    dim, k = group.dim, len(group.discrete)
    if input_action is None:
        return np.zeros((dim, m, m)), [np.eye(m)] * k
    check_input_action(input_action)
    if isinstance(input_action, LieAlgebra):
        input_action = SymmetryGroup(input_action, discrete=[np.eye(m)] * k)
    if input_action.n != m:
        raise ValueError(
            f"input_action acts on R^{input_action.n} but there are {m} control inputs"
        )
    if input_action.dim != dim or len(input_action.discrete) != k:
        raise ValueError(
            f"input_action must give one input generator per state generator "
            f"({dim}) and one input element per discrete element ({k}); got "
            f"{input_action.dim} and {len(input_action.discrete)}"
        )
    if dim and not input_action.algebra.is_linear:
        raise ValueError("input_action generators must be linear maps of the inputs")
    gens = input_action.algebra.matrices if dim else np.zeros((0, m, m))
    return gens, list(input_action.discrete)


def check_input_action(input_action) -> None:
    """Raise unless ``input_action`` is None, a LieAlgebra or a SymmetryGroup."""
    if input_action is not None and not isinstance(
        input_action, LieAlgebra | SymmetryGroup
    ):
        raise TypeError(
            "input_action must be a SymmetryGroup or LieAlgebra acting on the "
            f"control inputs, or None; got {type(input_action).__name__}"
        )


def extended_candidates(candidates: LieAlgebra, n_inputs: int, input_action=None):
    """Candidate generators of the states extended to ``(x, u)``.

    Discrete elements of a SymmetryGroup ``input_action`` do not act on
    generators, so only its algebra is used.
    """
    if isinstance(input_action, SymmetryGroup):
        input_action = input_action.algebra if input_action.dim else None
    return control_action(candidates, n_inputs, input_action).algebra


def control_space(
    library, n_states: int, n_inputs: int, output="vector", n_targets=None
) -> ModelSpace:
    """The coefficient space of a controlled model over ``(x, u)``.

    Parameters
    ----------
    library : Monomials or pysindy.PolynomialLibrary
        Library over the ``n_states + n_inputs`` variables ``(x, u)``.
    n_states, n_inputs : int
    output : {"vector", "invariant"}
        ``"vector"``: ``n_states`` outputs transforming like the states (the
        usual SINDYc model, :class:`~symsindy.spaces.OutputAction` ``"states"``).
        ``"invariant"``: outputs left unchanged.
    n_targets : int, optional

    Returns
    -------
    ModelSpace
        Its operators take symmetries of ``(x, u)`` (see :func:`control_action`).

    Examples
    --------
    >>> from symsindy import Monomials
    >>> control_space(Monomials(3, 2), n_states=2, n_inputs=1).shape
    (2, 10)
    """
    n, m = int(n_states), int(n_inputs)
    basis = resolve_basis(library, n + m)
    if basis.n_vars != n + m:
        raise ValueError(
            f"the library has {basis.n_vars} variables, but the model has {n} "
            f"states and {m} control inputs: the library must run over the states "
            "followed by the inputs (x, u), as pysindy's fit(x, u=u) builds it"
        )
    if output == "vector":
        t = n if n_targets is None else int(n_targets)
        if t != n:
            raise ValueError(
                f"a controlled vector field has one output per state ({n}), got "
                f"{t} targets"
            )
        return ModelSpace(basis, n, OutputAction("states"))
    if output == "invariant":
        return ModelSpace.of(basis, output="invariant", n_targets=n_targets)
    raise ValueError(
        f"with control inputs output must be 'vector' or 'invariant', got {output!r}"
    )


def control_constraints(
    library, action: ControlAction, output="vector", n_targets: int | None = None
) -> sparse.csr_matrix:
    """Stacked constraints ``K vec(C) = 0`` of models symmetric under ``action``.

    Parameters
    ----------
    library : Monomials or pysindy.PolynomialLibrary
        Library over the ``n + m`` variables ``(x, u)``.
    action : ControlAction
    output : {"vector", "invariant"}
        ``"vector"``: ``n`` outputs transforming like the states (the usual
        SINDYc model). ``"invariant"``: outputs left unchanged.
    n_targets : int, optional
    """
    space = control_space(library, action.n_states, action.n_inputs, output, n_targets)
    return space.constraints(action.group)
