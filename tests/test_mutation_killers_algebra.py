"""Lie algebras: bases as documented, degree changes and their guards."""

import numpy as np
import pytest

from symsindy import LieAlgebra


def test_gl_and_sl_bases_are_matrix_units():
    g = LieAlgebra.gl(2).matrices
    np.testing.assert_array_equal(g, np.eye(4).reshape(4, 2, 2))
    s = LieAlgebra.sl(2).matrices
    np.testing.assert_array_equal(
        s,
        np.array(
            [[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]], np.diag([1.0, -1.0])]
        ),
    )


def test_with_degree_rewrites_the_same_fields():
    g = LieAlgebra.so(2) + LieAlgebra.translations(2)
    assert g.with_degree(1) is g
    h = g.with_degree(3)
    assert h.degree == 3 and h.coefficients.shape == (3, 2, 10)
    assert h.names == g.names
    x = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_allclose(h.evaluate(x), g.evaluate(x), atol=1e-15)
    with pytest.raises(ValueError, match="cannot write degree-3"):
        h.with_degree(2)


def test_polynomial_algebra_checks_the_dimension():
    with pytest.raises(ValueError, match="state dimension"):
        LieAlgebra.polynomial(1.5, 2)


def test_normalized_by_the_largest_entry():
    g = LieAlgebra.scaling(2, [2.0, 1.0]) + LieAlgebra.so(2)
    h = g.normalized("max")
    np.testing.assert_allclose(h.matrices[0], np.diag([1.0, 0.5]))
    np.testing.assert_allclose(h.matrices[1], g.matrices[1])
    with pytest.raises(ValueError, match="'fro' or 'max'"):
        g.normalized("l1")


def test_orthonormalized_spans_the_same_algebra_with_an_orthonormal_basis():
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    g = LieAlgebra.from_matrices([J, J + 2 * np.eye(2)])
    h = g.orthonormalized()
    # (.matrices would refuse: the SVD leaves ~1e-17 in the constant terms)
    flat = h.coefficients[:, :, 1:].reshape(2, -1)
    assert np.abs(h.coefficients[:, :, 0]).max() < 1e-15
    np.testing.assert_allclose(flat @ flat.T, np.eye(2), atol=1e-14)
    # same span: J and I are combinations of the new basis
    for target in (J, np.eye(2)):
        c, *_ = np.linalg.lstsq(flat.T, target.ravel(), rcond=None)
        np.testing.assert_allclose(flat.T @ c, target.ravel(), atol=1e-14)
    assert LieAlgebra.gl(2).orthonormalized().names == LieAlgebra.gl(2).names
    with pytest.raises(ValueError, match="linearly dependent"):
        LieAlgebra.from_matrices([J, 2 * J]).orthonormalized()


def test_orthonormalized_trivial_algebra_is_itself():
    g = LieAlgebra.trivial(2)
    assert g.orthonormalized() is g


def test_bracket_of_two_polynomial_fields_by_hand():
    """xi = x0^2 d/dx0, eta = x0 d/dx1: [xi, eta] = Dxi eta - Deta xi = -x0^2 d/dx1."""
    from symsindy import Monomials

    basis = Monomials(2, 2)
    coef = np.zeros((2, 2, len(basis)))
    coef[0, 0, basis.index([[2, 0]])[0]] = 1.0
    coef[1, 1, basis.index([[1, 0]])[0]] = 1.0
    g = LieAlgebra.from_vector_fields(coef, degree=2)
    out = Monomials(2, 3)
    expected = np.zeros((2, len(out)))
    expected[1, out.index([[2, 0]])[0]] = -1.0
    np.testing.assert_array_equal(g.bracket(0, 1), expected)
    np.testing.assert_array_equal(g.bracket(1, 0), -expected)
