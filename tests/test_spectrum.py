"""The Lie-derivative matrix of a fixed model and the function norms."""

import numpy as np
import pytest
from helpers import complex_step_jacobian, eval_poly
from scipy import sparse

from symsindy import LieAlgebra, Monomials
from symsindy.spaces import ModelSpace
from symsindy.spectrum import FunctionNorm, LieDerivativeMatrix


def _random_model(n=3, degree=2, seed=0):
    rng = np.random.default_rng(seed)
    basis = Monomials(n, degree)
    return basis, rng.normal(size=(n, len(basis)))


def test_columns_match_lie_derivative_evaluated_at_the_points():
    """Column norms under the data norm = RMS over points of DF A x - A F."""
    basis, C = _random_model()
    points = np.random.default_rng(1).normal(size=(40, 3))
    gl = LieAlgebra.gl(3)
    L = LieDerivativeMatrix(ModelSpace.of(basis), gl, FunctionNorm("data", points))
    cols = L.columns(C)
    exps = basis.exponents
    jac = complex_step_jacobian(lambda x: eval_poly(C, exps, x), points)
    F = eval_poly(C, exps, points)
    for j, A in enumerate(gl.matrices):
        lie = np.einsum("sij,sj->si", jac, points @ A.T) - F @ A.T
        expected = np.sqrt(np.mean(np.sum(lie**2, axis=1)))
        assert np.linalg.norm(cols[:, j]) == pytest.approx(expected, rel=1e-10)


def test_model_operator_is_the_adjoint_pair_of_its_matrix():
    basis, C = _random_model(n=2, degree=3)
    points = np.random.default_rng(2).normal(size=(30, 2))
    L = LieDerivativeMatrix(
        ModelSpace.of(basis), LieAlgebra.gl(2), FunctionNorm("data", points)
    )
    A = L.model_operator()
    dense = A @ np.eye(A.shape[1])
    assert np.allclose(A.rmatvec(np.eye(A.shape[0])[3]), dense[3])
    assert np.allclose(dense @ C.ravel(), L.as_vector(L.columns(C)))
    assert np.allclose(L.normal_matrix(), dense.T @ dense, atol=1e-10)


def test_coefficient_normal_matrix_stays_sparse():
    basis, _ = _random_model(n=4, degree=3)
    L = LieDerivativeMatrix(ModelSpace.of(basis), LieAlgebra.gl(4))
    N = L.normal_matrix()
    assert sparse.issparse(N)
    assert N.nnz < 0.2 * N.shape[0] * N.shape[1]


def test_relative_singular_values_are_unit_free_under_the_data_norm():
    basis, C = _random_model()
    points = np.random.default_rng(3).normal(size=(50, 3))
    ortho = LieAlgebra.gl(3).orthonormalized()
    space = ModelSpace.of(basis)
    base = LieDerivativeMatrix(space, ortho, FunctionNorm("data", points))
    # x -> s x and t -> t / c: the model in new units has coefficients
    # c * s^(1 - degree) per monomial.
    s, c = 10.0, 7.0
    scaled = c * C * s ** (1.0 - basis.degrees)[None, :]
    moved = LieDerivativeMatrix(space, ortho, FunctionNorm("data", s * points))
    assert np.allclose(
        base.relative_singular_values(C),
        moved.relative_singular_values(scaled),
        rtol=1e-8,
    )


def test_singular_vectors_span_the_known_algebra_of_the_damped_oscillator():
    C = np.array([[-0.1, -1.0], [1.0, -0.1]])
    L = LieDerivativeMatrix(ModelSpace.of(Monomials(2, 1, 1)), LieAlgebra.gl(2))
    s, vt = L.svd(C)
    null = np.einsum("kq,qij->kij", vt[s < 1e-12], LieAlgebra.gl(2).matrices)
    expected = np.array([np.eye(2), [[0.0, -1.0], [1.0, 0.0]]])
    both = np.vstack([null.reshape(2, -1), expected.reshape(2, -1)])
    assert np.linalg.matrix_rank(both, 1e-10) == 2


def test_function_norms_validate_their_inputs():
    with pytest.raises(ValueError, match="needs sample points"):
        FunctionNorm("data")
    with pytest.raises(ValueError, match="inner_product must be one of"):
        FunctionNorm("sobolev")
    with pytest.raises(ValueError, match="coordinates"):
        FunctionNorm("samples", np.zeros((3, 2))).factor(Monomials(3, 1))
    box = FunctionNorm.from_box([-1, -1], [1, 1], 200, seed=0)
    assert box.points.shape == (200, 2) and np.all(np.abs(box.points) <= 1)
    with pytest.raises(ValueError, match="low < high"):
        FunctionNorm.from_box([0, 0], [1, -1], 10)
