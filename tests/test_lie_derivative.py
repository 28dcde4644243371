"""The Lie-derivative operators against analytic and numerical references."""

import numpy as np
import pysindy as ps
import pytest
from helpers import complex_step_jacobian, eval_poly
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm, null_space

from symsindy import (
    LieAlgebra,
    Monomials,
    discrete_constraint,
    lie_derivative,
    lie_derivative_matrix,
    lie_derivative_stack,
)


def _random_generator(kind, n, rng):
    if kind == "linear":
        return LieAlgebra.from_matrices(rng.normal(size=(n, n)))
    if kind == "affine":
        return LieAlgebra.from_vector_fields(rng.normal(size=(n, n + 1)), degree=1)
    k = int(rng.integers(2, 4))
    fb = Monomials(n, k)
    return LieAlgebra.from_vector_fields(rng.normal(size=(n, len(fb))), degree=k)


@pytest.mark.parametrize("kind", ["linear", "affine", "polynomial"])
@pytest.mark.parametrize("n, degree", [(1, 4), (2, 3), (3, 2), (4, 4), (6, 2)])
def test_vector_field_lie_derivative_matches_complex_step(kind, n, degree):
    """L_xi F = DF xi - Dxi F at random points, derivatives by complex step."""
    rng = np.random.default_rng(100 * n + degree)
    basis = Monomials(n, degree)
    gen = _random_generator(kind, n, rng)
    C = rng.normal(size=(n, len(basis)))
    op = lie_derivative(basis, gen)
    x = rng.normal(size=(7, n)) * 0.7

    def F(z):
        return eval_poly(C, basis.exponents, z)

    def xi(z):
        return eval_poly(gen.coefficients[0], gen.basis.exponents, z)

    expected = np.einsum("sij,sj->si", complex_step_jacobian(F, x), xi(x)) - np.einsum(
        "sij,sj->si", complex_step_jacobian(xi, x), F(x)
    )
    got = eval_poly(op(C), op.out_basis.exponents, x)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, atol=1e-11 * scale)


@pytest.mark.parametrize("kind", ["linear", "affine", "polynomial"])
def test_invariant_and_matrix_output_actions_match_complex_step(kind):
    rng = np.random.default_rng(7)
    n, m, basis = 3, 2, Monomials(3, 3, 1)
    gen = _random_generator(kind, n, rng)
    B = rng.normal(size=(m, m))
    C = rng.normal(size=(m, len(basis)))
    x = rng.normal(size=(5, n))

    def f(z):
        return eval_poly(C, basis.exponents, z)

    dfxi = np.einsum(
        "sij,sj->si",
        complex_step_jacobian(f, x),
        eval_poly(gen.coefficients[0], gen.basis.exponents, x),
    )
    inv = lie_derivative(basis, gen, output="invariant", n_targets=m)
    mat = lie_derivative(basis, gen, output=B)
    np.testing.assert_allclose(
        eval_poly(inv(C), inv.out_basis.exponents, x), dfxi, atol=1e-10
    )
    np.testing.assert_allclose(
        eval_poly(mat(C), mat.out_basis.exponents, x), dfxi - f(x) @ B.T, atol=1e-10
    )


def test_vector_action_equals_matrix_action_with_the_generator_itself():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(3, 3))
    basis = Monomials(3, 3)
    diff = lie_derivative(basis, A).matrix - lie_derivative(basis, A, output=A).matrix
    assert abs(diff).max() < 1e-12


def test_bracket_identity_is_an_anti_homomorphism():
    """L_[A,B] = -[L_A, L_B] with [A, B] = AB - BA."""
    rng = np.random.default_rng(4)
    A, B = rng.normal(size=(2, 3, 3))
    basis = Monomials(3, 3)
    LA = lie_derivative(basis, A).matrix.toarray()
    LB = lie_derivative(basis, B).matrix.toarray()
    LAB = lie_derivative(basis, A @ B - B @ A).matrix.toarray()
    np.testing.assert_allclose(LAB, -(LA @ LB - LB @ LA), atol=1e-10)


def test_bracket_identity_holds_for_invariant_functions():
    rng = np.random.default_rng(5)
    A, B = rng.normal(size=(2, 4, 4))
    basis = Monomials(4, 3)
    L = [
        lie_derivative(basis, M, output="invariant").matrix.toarray()
        for M in (A, B, A @ B - B @ A)
    ]
    np.testing.assert_allclose(L[2], -(L[0] @ L[1] - L[1] @ L[0]), atol=1e-10)


def test_flow_equivariance_holds_exactly_on_the_nullspace():
    """F(expm(tA) x) = expm(tA) F(x) for all t iff L_A F = 0."""
    rng = np.random.default_rng(6)
    A = LieAlgebra.so(3).matrices[2] + 0.5 * LieAlgebra.so(3).matrices[0]
    basis = Monomials(3, 3)
    L = lie_derivative(basis, A).matrix.toarray()
    N = null_space(L)
    assert N.shape[1] > 0
    C_sym = (N @ rng.normal(size=N.shape[1])).reshape(3, -1)
    C_rand = rng.normal(size=C_sym.shape)
    x = rng.normal(size=(6, 3))
    for t in (0.3, 1.1, -2.0):
        g = expm(t * A)
        lhs = eval_poly(C_sym, basis.exponents, x @ g.T)
        rhs = eval_poly(C_sym, basis.exponents, x) @ g.T
        np.testing.assert_allclose(lhs, rhs, atol=1e-10)
        lhs = eval_poly(C_rand, basis.exponents, x @ g.T)
        rhs = eval_poly(C_rand, basis.exponents, x) @ g.T
        assert np.abs(lhs - rhs).max() > 1e-3


def test_so2_equivariant_cubic_vector_fields_form_a_4d_space():
    L = lie_derivative(Monomials(2, 3), LieAlgebra.so(2).matrices[0])
    assert null_space(L.matrix.toarray()).shape[1] == 4


def test_so3_invariant_quadratics_are_a_plus_b_norm_squared():
    op = lie_derivative_stack(Monomials(3, 2), LieAlgebra.so(3), output="invariant")
    N = null_space(op.matrix.toarray())
    assert N.shape[1] == 2
    # The span is {1, x0^2 + x1^2 + x2^2}.
    target = np.zeros((10, 2))
    target[0, 0] = 1.0
    target[[4, 7, 9], 1] = 1.0
    assert np.linalg.matrix_rank(np.hstack([N, target]), tol=1e-10) == 2


def test_translation_invariance_of_a_function_of_a_difference():
    basis = Monomials(2, 2)
    T = LieAlgebra.from_vector_fields(np.array([[1.0, 0, 0], [1.0, 0, 0]]), 1)
    op = lie_derivative(basis, T, output="invariant")
    coef = np.zeros((1, 6))
    coef[0, [3, 4, 5]] = [1.0, -2.0, 1.0]  # (x0 - x1)^2
    coef[0, [1, 2]] = [3.0, -3.0]  # 3 (x0 - x1)
    assert np.abs(op(coef)).max() < 1e-14
    assert op.out_basis.max_degree == 2 and op.out_basis.min_degree == 0


def test_lie_derivative_matrix_columns_are_per_generator_derivatives():
    rng = np.random.default_rng(8)
    g = LieAlgebra.gl(2)
    basis = Monomials(2, 3)
    C = rng.normal(size=(2, len(basis)))
    LF = lie_derivative_matrix(C, basis, g)
    assert LF.shape == (2 * len(basis), 4)
    for q, A in enumerate(g.matrices):
        np.testing.assert_allclose(LF[:, q], lie_derivative(basis, A)(C).ravel())


def test_harmonic_oscillator_has_rotation_and_scaling_in_gl2():
    basis = Monomials(2, 1, 1)
    C = np.array([[-0.1, -1.0], [1.0, -0.1]])
    LF = lie_derivative_matrix(C, basis, LieAlgebra.gl(2))
    sv = np.linalg.svd(LF, compute_uv=False)
    assert np.sum(sv < 1e-12) == 2


@pytest.mark.parametrize("R", [np.diag([-1.0, -1, 1]), np.eye(3)[[1, 2, 0]]])
def test_discrete_constraint_detects_lorenz_reflection(R):
    basis = Monomials(3, 2)
    C = np.zeros((3, 10))
    C[0, [1, 2]] = [-10, 10]
    C[1, [1, 2, 6]] = [28, -1, -1]  # x0, x1, x0 x2
    C[2, [3, 5]] = [-8 / 3, 1]  # x2, x0 x1
    op = discrete_constraint(basis, R)
    residual = np.abs(op(C)).max()
    if np.allclose(R, np.diag([-1.0, -1, 1])):
        assert residual < 1e-12
    else:
        assert residual > 1


def test_operators_accept_pysindy_libraries_and_refuse_incomplete_ones():
    A = LieAlgebra.so(2).matrices[0]
    lib = ps.PolynomialLibrary(degree=2).fit(np.zeros((3, 2)))
    assert lie_derivative(lib, A).matrix.shape == (12, 12)
    unfitted = ps.PolynomialLibrary(degree=2, include_bias=False)
    assert lie_derivative(unfitted, A).in_basis == Monomials(2, 2, 1)
    with pytest.raises(ValueError, match="closed under linear maps"):
        lie_derivative(ps.PolynomialLibrary(degree=2, interaction_only=True), A)
    with pytest.raises(ValueError, match="closed under linear maps"):
        lie_derivative(ps.PolynomialLibrary(degree=2, include_interaction=False), A)
    with pytest.raises(TypeError, match="PolynomialLibrary"):
        lie_derivative(ps.FourierLibrary(), A)
    with pytest.raises(ValueError, match="fitted on 2"):
        lie_derivative(lib, np.eye(3))


@pytest.mark.parametrize(
    "generator, match",
    [
        (np.ones((2, 3)), "square"),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), "NaN"),
        (np.eye(3), "library has 2"),
        (LieAlgebra.gl(2), "single field"),
    ],
)
def test_bad_generators_get_clear_errors(generator, match):
    with pytest.raises(ValueError, match=match):
        lie_derivative(Monomials(2, 2), generator)


def test_bad_output_actions_get_clear_errors():
    A = np.eye(2)
    with pytest.raises(ValueError, match="n_targets"):
        lie_derivative(Monomials(2, 2), A, n_targets=3)
    with pytest.raises(ValueError, match="output must be"):
        lie_derivative(Monomials(2, 2), A, output="tensor")
    with pytest.raises(ValueError, match="invertible"):
        discrete_constraint(Monomials(2, 2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        lie_derivative(Monomials(2, 2), A)(np.ones((2, 5)))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 4),
    degree=st.integers(1, 3),
    bias=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_bracket_identity_for_random_libraries(n, degree, bias, seed):
    """For every library shape: L_[A,B] = -[L_A, L_B] on vector fields."""
    rng = np.random.default_rng(seed)
    A, B = rng.normal(size=(2, n, n))
    basis = Monomials(n, degree, 0 if bias else 1)
    LA, LB, LAB = (
        lie_derivative(basis, M).matrix.toarray() for M in (A, B, A @ B - B @ A)
    )
    scale = max(1.0, np.abs(LA).max() * np.abs(LB).max())
    assert np.abs(LAB + (LA @ LB - LB @ LA)).max() <= 1e-10 * scale


def _constraint_derivative(library, A, B, output_of, n_targets, h=1e-3):
    """d/dt of discrete_constraint(expm(tA)) at t = 0 by a 4th-order difference."""

    def D(t):
        S = output_of(expm(t * B))
        return discrete_constraint(library, expm(t * A), S, n_targets).matrix.toarray()

    return (-D(2 * h) + 8 * D(h) - 8 * D(-h) + D(-2 * h)) / (12 * h)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 3),
    degree=st.integers(1, 3),
    bias=st.booleans(),
    output=st.sampled_from(["vector", "invariant", "matrix"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_lie_derivative_is_the_derivative_of_the_discrete_constraint(
    n, degree, bias, output, seed
):
    """d/dt [C P_expm(tA) - S(t) C] at t = 0 is L_A C = C M_A - B C.

    The finite condition F(R x) = S F(x) and the infinitesimal one share their
    sign: both subtract the output action. Checked for vector fields (S = R,
    B = A), invariant functions (S = I, B = 0) and a matrix output action
    (S = expm(tB) on two outputs).
    """
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    A /= np.linalg.norm(A, 2)
    basis = Monomials(n, degree, 0 if bias else 1)
    if output == "vector":
        B, out, targets, of = A, "vector", None, lambda S: "vector"
    elif output == "invariant":
        B, out, targets, of = np.zeros((1, 1)), "invariant", 1, lambda S: "invariant"
    else:
        B = rng.normal(size=(2, 2))
        B /= np.linalg.norm(B, 2)
        out, targets, of = B, 2, lambda S: S
    expected = lie_derivative(basis, A, out, targets).matrix.toarray()
    got = _constraint_derivative(basis, A, B, of, targets)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
