"""Lie-derivative operators: value semantics and input handling."""

import dataclasses

import numpy as np
import pytest

from symsindy import Monomials, lie_derivative

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
