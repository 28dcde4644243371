import numpy as np
import pytest
from helpers import complex_step_jacobian, eval_poly

from symsindy import LieAlgebra


@pytest.mark.parametrize(
    "factory, n, dim",
    [
        (LieAlgebra.gl, 3, 9),
        (LieAlgebra.sl, 3, 8),
        (LieAlgebra.so, 4, 6),
        (LieAlgebra.scaling, 3, 1),
        (LieAlgebra.diagonal, 3, 3),
        (LieAlgebra.translations, 3, 3),
        (LieAlgebra.affine, 2, 6),
    ],
)
def test_standard_algebras_have_known_dimension_and_are_closed(factory, n, dim):
    g = factory(n)
    assert (g.dim, g.n) == (dim, n)
    assert g.is_closed()


def test_polynomial_vector_fields_count_and_degree_one_equals_affine_span():
    g = LieAlgebra.polynomial(2, 2)
    assert g.dim == 2 * 6
    a = LieAlgebra.polynomial(3, 1)
    b = LieAlgebra.affine(3)
    span_a = a.coefficients.reshape(a.dim, -1)
    span_b = b.coefficients.reshape(b.dim, -1)
    assert np.linalg.matrix_rank(np.vstack([span_a, span_b])) == 12


def test_so3_structure_constants_are_levi_civita():
    g = LieAlgebra.so(3)  # R01, R02, R12
    consts, residual = g.structure_constants()
    assert residual < 1e-12
    mats = g.matrices
    for i in range(3):
        for j in range(3):
            comm = mats[i] @ mats[j] - mats[j] @ mats[i]
            np.testing.assert_allclose(np.einsum("k,kab->ab", consts[i, j], mats), comm)
    assert np.count_nonzero(np.abs(consts) > 1e-12) == 6


def test_sl2_is_not_abelian_and_non_subalgebra_is_detected():
    g = LieAlgebra.sl(2)
    consts, _ = g.structure_constants()
    assert np.abs(consts).max() > 0.5
    # Two off-diagonal units alone do not close: [E01, E10] = H.
    sub = LieAlgebra.from_matrices(g.matrices[:2])
    assert not sub.is_closed()
    assert sub.closure_residual() > 0.1


def test_bracket_of_polynomial_fields_matches_complex_step():
    rng = np.random.default_rng(3)
    n, k = 3, 2
    g = LieAlgebra.from_vector_fields(rng.normal(size=(2, n, 10)), degree=k)
    br = g.bracket(0, 1)
    out_exps = __import__("symsindy").Monomials(n, 2 * k - 1).exponents
    x = rng.normal(size=(4, n))

    def field(i):
        return lambda z: eval_poly(g.coefficients[i], g.basis.exponents, z)

    Dx = complex_step_jacobian(field(0), x)
    Dy = complex_step_jacobian(field(1), x)
    expected = np.einsum("sij,sj->si", Dx, field(1)(x)) - np.einsum(
        "sij,sj->si", Dy, field(0)(x)
    )
    np.testing.assert_allclose(eval_poly(br, out_exps, x), expected, atol=1e-10)


def test_linear_bracket_is_matrix_commutator():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 3, 3))
    g = LieAlgebra.from_matrices([A, B])
    lin = g.bracket(0, 1)[:, 1:4]
    np.testing.assert_allclose(lin, A @ B - B @ A, atol=1e-12)


def test_embed_and_direct_sum_place_blocks():
    g = LieAlgebra.so(2).embed([2, 3], 6)
    J = np.zeros((6, 6))
    J[3, 2], J[2, 3] = 1.0, -1.0
    np.testing.assert_array_equal(g.matrices[0], J)
    ds = LieAlgebra.direct_sum(LieAlgebra.so(2), LieAlgebra.so(2), LieAlgebra.so(2))
    assert (ds.dim, ds.n) == (3, 6)
    assert ds.is_closed()
    consts, _ = ds.structure_constants()
    assert np.abs(consts).max() < 1e-12  # commuting rotations


def test_embedding_a_polynomial_field_keeps_its_values():
    rng = np.random.default_rng(1)
    g = LieAlgebra.from_vector_fields(rng.normal(size=(1, 2, 6)), degree=2)
    big = g.embed([2, 0], 3)
    x = rng.normal(size=(5, 3))
    small_vals = g.evaluate(x[:, [2, 0]])[0]
    big_vals = big.evaluate(x)[0]
    np.testing.assert_allclose(big_vals[:, [2, 0]], small_vals)
    np.testing.assert_allclose(big_vals[:, 1], 0)


def test_normalized_has_unit_frobenius_norm():
    g = (LieAlgebra.scaling(2, [2, 1]) + LieAlgebra.so(2)).normalized()
    norms = np.linalg.norm(g.coefficients.reshape(g.dim, -1), axis=1)
    np.testing.assert_allclose(norms, 1.0)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones((2, 3)), "square"),
        (np.ones((2, 2, 3)), "square"),
        (np.array([[np.nan, 0], [0, 1]]), "NaN"),
    ],
)
def test_from_matrices_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        LieAlgebra.from_matrices(bad)


def test_bad_dimensions_and_mismatched_sums_raise():
    with pytest.raises(ValueError, match="positive integer"):
        LieAlgebra.gl(0)
    with pytest.raises(ValueError, match="R\\^2 and R\\^3"):
        LieAlgebra.so(2) + LieAlgebra.so(3)
    with pytest.raises(ValueError, match="distinct"):
        LieAlgebra.so(2).embed([1, 1], 4)
    with pytest.raises(ValueError, match="linear"):
        _ = LieAlgebra.translations(2).matrices


def test_gl_structure_constants_match_matrix_unit_brackets():
    # [E_ij, E_kl] = delta_jk E_il - delta_li E_kj, written out independently.
    n = 4
    g = LieAlgebra.gl(n)
    consts, residual = g.structure_constants()
    assert residual < 1e-14
    index = {(i, j): k for k, (i, j) in enumerate(np.ndindex(n, n))}
    expected = np.zeros_like(consts)
    for (i, j), a in index.items():
        for (k, m), b in index.items():
            if j == k:
                expected[a, b, index[i, m]] += 1.0
            if m == i:
                expected[a, b, index[k, j]] -= 1.0
    np.testing.assert_array_equal(consts, expected)


def test_so_structure_constants_agree_with_pairwise_least_squares():
    g = LieAlgebra.so(5)
    consts, residual = g.structure_constants()
    mats = g.matrices
    span = mats.reshape(g.dim, -1).T
    for i in range(g.dim):
        for j in range(g.dim):
            comm = (mats[i] @ mats[j] - mats[j] @ mats[i]).ravel()
            c, *_ = np.linalg.lstsq(span, comm, rcond=None)
            np.testing.assert_allclose(consts[i, j], c, atol=1e-14)
    assert residual < 1e-14


def test_polynomial_structure_constants_agree_with_pairwise_brackets():
    rng = np.random.default_rng(5)
    g = LieAlgebra.from_vector_fields(rng.normal(size=(4, 3, 10)), degree=2)
    consts, residual = g.structure_constants()
    out = __import__("symsindy").Monomials(3, 3)
    E = __import__("symsindy").polynomials.embedding_matrix(g.basis, out).toarray()
    span = np.stack([(c @ E).ravel() for c in g.coefficients], axis=1)
    worst = 0.0
    for i in range(4):
        for j in range(4):
            br = g.bracket(i, j).ravel()
            c, *_ = np.linalg.lstsq(span, br, rcond=None)
            np.testing.assert_allclose(consts[i, j], c, atol=1e-10)
            worst = max(worst, np.linalg.norm(span @ c - br))
    scale = np.linalg.norm(span, axis=0).max()
    assert residual == pytest.approx(worst / scale**2, rel=1e-8)
    assert residual > 0.1  # four random fields do not close


def test_structure_constants_are_computed_once_and_read_only():
    g = LieAlgebra.so(4)
    first = g.structure_constants()
    assert g.structure_constants() is first
    assert g.is_closed() and g.closure_residual() == first[1]
    with pytest.raises(ValueError):
        first[0][0, 1, 2] = 5.0


def test_gl12_structure_constants_are_fast():
    # Pairwise least squares took about 40 s here; one solve takes well under 1 s.
    import time

    start = time.process_time()  # CPU time: robust to other load on the machine
    consts, residual = LieAlgebra.gl(12).structure_constants()
    assert time.process_time() - start < 8.0
    assert consts.shape == (144, 144, 144) and residual == 0.0
