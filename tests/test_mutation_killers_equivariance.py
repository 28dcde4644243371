"""The symmetric subspace: residuals, written terms and the cache, by hand."""

import numpy as np
from scipy import sparse

from symsindy import LieAlgebra, Monomials
from symsindy.equivariance import basis_from_constraints, equivariant_basis


def test_residual_of_a_broken_model_is_its_relative_lie_derivative():
    """For C = diag(1, -1): ||C J - J C|| / ||C|| = sqrt(8) / sqrt(2) = 2."""
    B = equivariant_basis(Monomials(2, 1, 1), LieAlgebra.so(2))
    assert B.residual(np.diag([1.0, -1.0])) == np.float64(2.0)
    assert B.residual(np.array([[0.0, -1.0], [1.0, 0.0]])) == 0.0
    assert B.residual(np.zeros((2, 2))) == 0.0


def test_terms_of_a_hand_made_constraint():
    """c_0 = 3 c_1: the term is 1 + x0 / 3, written to 3 significant digits."""
    B = basis_from_constraints(sparse.csr_matrix([[1.0, -3.0]]), Monomials(1, 1))
    np.testing.assert_allclose(B.Q.toarray(), [[1.0], [1.0 / 3.0]])
    assert B.terms(target_names=["f"]) == ["f = 1 + 0.333 x0"]
    assert B.terms(target_names=["f"], precision=2) == ["f = 1 + 0.33 x0"]


def test_bases_are_cached_by_value():
    lib = Monomials(2, 3)
    first = equivariant_basis(lib, LieAlgebra.so(2))
    assert equivariant_basis(Monomials(2, 3), LieAlgebra.so(2)) is first
