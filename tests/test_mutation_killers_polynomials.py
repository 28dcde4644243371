"""Monomial bookkeeping: contracts that the property tests do not reach."""

import numpy as np
import pytest

from symsindy.polynomials import Monomials, _as_signed_permutation


def test_exponent_table_is_read_only():
    """The shared exponent table cannot be corrupted through one basis."""
    basis = Monomials(3, 2)
    with pytest.raises(ValueError):
        basis.exponents[1, 0] = 7
    assert Monomials(3, 2).exponents[1].tolist() == [1, 0, 0]


def test_index_beyond_integer_keys_at_degree_three():
    """Base 4 keys of 40 variables overflow int64 (4**32 wraps to 0): row search."""
    basis = Monomials(40, 3)
    np.testing.assert_array_equal(basis.index(basis.exponents), np.arange(len(basis)))


def test_states_are_the_degree_one_columns():
    basis = Monomials(3, 2)
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]])
    np.testing.assert_array_equal(basis.states(basis.evaluate(x)), x)
    with pytest.raises(ValueError, match="no degree-1"):
        Monomials(2, 2, 2).states(np.ones((1, 3)))


def test_evaluate_accepts_a_single_point_and_integers():
    """x0^2 x1 at (2, 3) is 12: one point as a 1-D array or a list of ints."""
    basis = Monomials(2, 3)
    col = basis.index([[2, 1]])[0]
    for point in (np.array([2.0, 3.0]), [2, 3]):
        values = basis.evaluate(point)
        assert values.shape == (1, len(basis))
        assert values[0, col] == 12.0
        assert values[0, 0] == 1.0


@pytest.mark.parametrize(
    "R, expected",
    [
        (np.array([[0.0, -1.0], [1.0, 0.0]]), ([1, 0], [-1.0, 1.0])),
        (np.eye(3)[[2, 0, 1]], ([2, 0, 1], [1.0, 1.0, 1.0])),
        (np.array([[0.0, 2.0], [1.0, 0.0]]), None),  # one entry per row, not +-1
        (np.array([[1.0, 1.0], [0.0, 1.0]]), None),  # a shear
        (np.array([[1.0, 0.0], [1.0, 0.0]]), None),  # two entries in a column
    ],
)
def test_signed_permutations_are_recognised_exactly(R, expected):
    got = _as_signed_permutation(R)
    if expected is None:
        assert got is None
    else:
        assert got[0].tolist() == expected[0] and got[1].tolist() == expected[1]


def test_substitution_by_a_singular_map_with_a_zero_row():
    """Theta(R x) = P_R Theta(x) holds for any R; (R x)_1 = 0 kills x1 terms."""
    from symsindy.polynomials import substitution_matrix

    basis = Monomials(2, 2)
    R = np.array([[1.0, 2.0], [0.0, 0.0]])
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    P = substitution_matrix(basis, R).toarray()
    np.testing.assert_allclose(basis.evaluate(x) @ P.T, basis.evaluate(x @ R.T))
