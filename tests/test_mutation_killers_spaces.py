"""Model spaces and output actions: the contracts other modules rely on."""

import dataclasses

import numpy as np
import pytest

from symsindy import LieAlgebra, Monomials, SymmetryGroup
from symsindy.spaces import ModelSpace, OutputAction
from symsindy.spectrum import LieDerivativeMatrix

J = np.array([[0.0, -1.0], [1.0, 0.0]])


@pytest.mark.parametrize("bad", [np.ones((2, 3)), np.ones((2, 2, 3)), np.ones(3)])
def test_output_matrices_must_be_square(bad):
    with pytest.raises(ValueError, match="shape"):
        OutputAction.coerce(bad)


def test_matrix_action_fixes_the_number_of_targets():
    action = OutputAction.coerce(np.stack([J, np.eye(2)]))
    assert action.n_targets(3) == 2 and action.n_targets(3, 2) == 2
    with pytest.raises(ValueError, match="n_targets=3"):
        action.n_targets(3, 3)


def test_element_matrices_of_each_action():
    R = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert OutputAction.coerce("vector").element_matrix(R, 2) is R
    np.testing.assert_array_equal(
        OutputAction.coerce("invariant").element_matrix(R, 3), np.eye(3)
    )
    S = np.diag([1.0, -1.0])
    np.testing.assert_array_equal(OutputAction.coerce(S).element_matrix(R, 2), S)
    with pytest.raises(ValueError, match="single"):
        OutputAction.coerce(np.stack([S, S])).element_matrix(R, 2)


def test_action_keys_tell_actions_apart():
    keys = [
        OutputAction.coerce("vector").key(),
        OutputAction.coerce("invariant").key(),
        OutputAction.coerce(J).key(),
        OutputAction.coerce(-J).key(),
    ]
    assert len(set(keys)) == 4
    assert OutputAction.coerce(J).key() == OutputAction.coerce(J.copy()).key()


def test_spaces_are_immutable_and_of_returns_a_space_unchanged():
    space = ModelSpace.of(Monomials(2, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        space.n_targets = 3
    assert ModelSpace.of(space) is space


def test_check_coef_accepts_one_row_for_one_target():
    space = ModelSpace.of(Monomials(2, 1), output="invariant")
    out = space.check_coef([1.0, 2.0, 3.0])
    assert out.shape == (1, 3) and out.tolist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(ValueError, match="coef"):
        space.check_coef([1.0, np.nan, 3.0])
    with pytest.raises(ValueError, match=r"shape \(1, 3\)"):
        space.check_coef(np.ones((2, 3)))


def test_trivial_group_gives_no_constraint_rows():
    space = ModelSpace.of(Monomials(2, 2))
    K = space.constraints(SymmetryGroup(n=2))
    assert K.shape == (0, space.n_coef)
    assert space.zeros().shape == (0, 12)


def test_space_builds_the_lie_derivative_matrix():
    space = ModelSpace.of(Monomials(2, 1, 1))
    L = space.lie_derivative_matrix(LieAlgebra.so(2))
    assert isinstance(L, LieDerivativeMatrix)
    # L_J of C x is C J - J C; for C = J it vanishes, for C = diag(1, -1) it is
    # [[0, -2], [-2, 0]].
    np.testing.assert_allclose(L.columns(J), np.zeros((4, 1)), atol=0)
    np.testing.assert_allclose(L.columns(np.diag([1.0, -1.0]))[:, 0], [0, -2, -2, 0])
