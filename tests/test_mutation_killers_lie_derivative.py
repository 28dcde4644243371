"""Lie-derivative operators: value semantics and input handling."""

import dataclasses

import numpy as np
import pytest

from symsindy import LieAlgebra, Monomials, lie_derivative, lie_derivative_matrix

J = np.array([[0.0, -1.0], [1.0, 0.0]])


def test_operators_are_immutable_values():
    op = lie_derivative(Monomials(2, 1, 1), J)
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.n_targets = 3


def test_operator_accepts_nested_lists():
    """L_J of the linear field C x is C J - J C: for C = diag(1, 0) it is
    [[0, -1], [-1, 0]] (coefficients of x0, x1)."""
    op = lie_derivative(Monomials(2, 1, 1), J)
    out = op([[1, 0], [0, 0]])
    np.testing.assert_array_equal(out, np.array([[0.0, -1.0], [-1.0, 0.0]]))


def test_lie_derivative_matrix_of_one_invariant_function_given_as_a_row():
    """L_J x0^2 = 2 x0 (J x)_0 = -2 x0 x1 (the coefficients as a flat row)."""
    basis = Monomials(2, 2)
    f = np.zeros(len(basis))
    f[basis.index([[2, 0]])[0]] = 1.0
    M = lie_derivative_matrix(f, basis, LieAlgebra.so(2), output="invariant")
    expected = np.zeros(len(basis))
    expected[basis.index([[1, 1]])[0]] = -2.0
    np.testing.assert_allclose(M[:, 0], expected, atol=1e-15)
