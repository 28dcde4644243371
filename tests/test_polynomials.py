import numpy as np
import pysindy as ps
import pytest

from symsindy.polynomials import (
    Monomials,
    directional_derivative_matrix,
    evaluate_monomials,
    monomial_exponents,
    substitution_matrix,
)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("degree", [1, 2, 3, 4])
@pytest.mark.parametrize("bias", [True, False])
def test_exponents_match_pysindy_powers_and_names(n, degree, bias):
    x = np.random.default_rng(0).normal(size=(4, n))
    lib = ps.PolynomialLibrary(degree=degree, include_bias=bias).fit(x)
    basis = Monomials(n, degree, 0 if bias else 1)
    np.testing.assert_array_equal(basis.exponents, lib.powers_)
    assert basis.names() == lib.get_feature_names()
    np.testing.assert_allclose(basis.evaluate(x), np.asarray(lib.transform(x)))


def test_index_roundtrip_and_missing_monomials_are_minus_one():
    basis = Monomials(4, 3, 1)
    np.testing.assert_array_equal(basis.index(basis.exponents), np.arange(len(basis)))
    assert basis.index([[0, 0, 0, 0]])[0] == -1  # degree 0 excluded
    assert basis.index([[4, 0, 0, 0]])[0] == -1  # degree too high
    assert basis.index([[-1, 2, 0, 0]])[0] == -1


def test_index_works_beyond_integer_encoding_range():
    basis = Monomials(70, 2)  # 3**70 overflows int64, exercises the row search
    idx = np.array([0, 5, 100, len(basis) - 1])
    np.testing.assert_array_equal(basis.index(basis.exponents[idx]), idx)


def test_count_matches_exponents():
    assert len(Monomials(10, 3)) == 286 == monomial_exponents(10, 3).shape[0]


@pytest.mark.parametrize("seed", range(3))
def test_directional_derivative_matches_complex_step(seed):
    from helpers import complex_step_jacobian, eval_poly

    rng = np.random.default_rng(seed)
    n, d, k = 3, 3, 2
    basis, fb = Monomials(n, d), Monomials(n, k)
    out = Monomials(n, d + k - 1)
    G = rng.normal(size=(n, len(fb)))
    M = directional_derivative_matrix(basis, fb, G, out)
    x = rng.normal(size=(5, n))
    jac = complex_step_jacobian(
        lambda z: eval_poly(np.eye(len(basis)), basis.exponents, z), x
    )
    xi = eval_poly(G, fb.exponents, x)
    expected = np.einsum("smn,sn->sm", jac, xi)
    got = out.evaluate(x) @ M.T.toarray()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind", ["random", "signed_permutation"])
def test_substitution_matrix_reproduces_theta_of_Rx(kind):
    rng = np.random.default_rng(1)
    n = 4
    if kind == "random":
        R = rng.normal(size=(n, n))
    else:
        R = np.eye(n)[rng.permutation(n)] * rng.choice([-1, 1], size=n)[:, None]
    for basis in (Monomials(n, 3), Monomials(n, 4, 1)):
        P = substitution_matrix(basis, R)
        x = rng.normal(size=(6, n))
        np.testing.assert_allclose(
            basis.evaluate(x @ R.T), basis.evaluate(x) @ P.T.toarray(), rtol=1e-10
        )
        if kind == "signed_permutation":
            assert P.nnz == len(basis)  # one term per row: cheap and exact


@pytest.mark.parametrize(
    "args", [(0, 2), (2, -1), (2, 1, 2)], ids=["no-vars", "neg-degree", "min>max"]
)
def test_bad_monomial_arguments_raise(args):
    with pytest.raises(ValueError):
        Monomials(*args)


def test_products_of_any_exponent_rows_are_the_monomials():
    """Unordered, repeated and all-zero exponent rows, high powers."""
    rng = np.random.default_rng(0)
    exps = rng.integers(0, 4, size=(40, 6)) * (rng.random((40, 6)) < 0.4)
    exps[:3] = 0
    exps[5] = exps[6]
    x = rng.normal(size=(30, 6))
    expected = np.prod(x[:, None, :] ** exps[None], axis=2)
    np.testing.assert_allclose(evaluate_monomials(exps, x), expected, rtol=1e-12)
    assert (
        evaluate_monomials(np.zeros((2, 3), int), x[:, :3]).tolist()
        == [[1.0, 1.0]] * 30
    )
    assert evaluate_monomials(np.zeros((0, 3), int), x[:, :3]).shape == (30, 0)
    listed = evaluate_monomials([[1, 0], [0, 2]], x[:, :2])
    np.testing.assert_allclose(listed, x[:, :2] ** [1, 2], rtol=1e-12)
    unsigned = evaluate_monomials(np.array([[1, 2]], np.uint8), x[:, :2])
    np.testing.assert_allclose(unsigned[:, 0], x[:, 0] * x[:, 1] ** 2, rtol=1e-12)
    with pytest.raises(ValueError, match="non-negative"):
        evaluate_monomials(np.array([[-1, 2]]), x[:, :2])


def test_products_are_the_same_across_blocks_of_samples(monkeypatch):
    """Blocks of 3 samples (the last one short) give the one-block values."""
    import symsindy.polynomials as polynomials

    exps = Monomials(4, 3).exponents
    x = np.random.default_rng(1).normal(size=(31, 4))
    whole = evaluate_monomials(exps, x)
    monkeypatch.setattr(polynomials, "_PRODUCT_BLOCK", 3 * len(exps))
    np.testing.assert_array_equal(evaluate_monomials(exps, x), whole)
    np.testing.assert_allclose(whole, np.prod(x[:, None, :] ** exps[None], axis=2))


def test_scale_factors_are_how_monomials_scale_with_their_variables():
    basis = Monomials(3, 3)
    s = np.array([2.0, 0.5, 10.0])
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(
        basis.evaluate(x * s), basis.evaluate(x) * basis.scale_factors(s), rtol=1e-12
    )
