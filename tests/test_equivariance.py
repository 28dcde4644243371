"""The symmetric subspace and its interpretable basis."""

import numpy as np
import pytest
from helpers import eval_poly
from scipy.linalg import expm, null_space

from symsindy import LieAlgebra, Monomials, SymmetryGroup
from symsindy.equivariance import equivariant_basis, symmetry_constraints


def _two_oscillators_with_swap():
    rot = LieAlgebra.from_matrices(
        np.kron(np.eye(2), LieAlgebra.so(2).matrices[0])[None]
    )
    swap = np.eye(4)[[2, 3, 0, 1]]
    return SymmetryGroup(rot, discrete=[swap])


@pytest.mark.parametrize(
    "basis, group, output",
    [
        (Monomials(2, 3), SymmetryGroup(LieAlgebra.so(2)), "vector"),
        (Monomials(3, 2), SymmetryGroup(LieAlgebra.so(3)), "invariant"),
        pytest.param(
            Monomials(4, 3),
            _two_oscillators_with_swap(),
            "vector",
            marks=pytest.mark.slow,  # dense null space of a 140-column K: ~5 s
        ),
        (Monomials(3, 2), SymmetryGroup(discrete=[np.diag([-1.0, -1, 1])]), "vector"),
        (Monomials(2, 3), SymmetryGroup(LieAlgebra.scaling(2, [2, 1])), "vector"),
    ],
)
def test_basis_spans_exactly_the_nullspace_with_identity_at_pivots(
    basis, group, output
):
    K = symmetry_constraints(basis, group, output).toarray()
    B = equivariant_basis(basis, group, output)
    Q = B.Q.toarray()
    assert np.abs(K @ Q).max() < 1e-12
    assert B.n_terms == null_space(K).shape[1] == np.linalg.matrix_rank(Q)
    np.testing.assert_array_equal(Q[B.pivots], np.eye(B.n_terms))


def test_known_dimensions_of_symmetric_spaces():
    assert equivariant_basis(Monomials(2, 3), LieAlgebra.so(2)).n_terms == 4
    inv = equivariant_basis(Monomials(3, 2), LieAlgebra.so(3), output="invariant")
    assert inv.n_terms == 2
    assert inv.terms(target_names=["f"]) == ["f = 1", "f = x0^2 + x1^2 + x2^2"]


def test_hopf_terms_are_orbits_of_monomials():
    B = equivariant_basis(Monomials(2, 3), LieAlgebra.so(2))
    assert B.terms() == [
        "x0' = x0, x1' = x1",
        "x0' = x1, x1' = -x0",
        "x0' = x0^3 + x0 x1^2, x1' = x0^2 x1 + x1^3",
        "x0' = x0^2 x1 + x1^3, x1' = -x0^3 - x0 x1^2",
    ]


def test_every_basis_model_commutes_with_the_group_action():
    rng = np.random.default_rng(0)
    group = _two_oscillators_with_swap()
    basis = Monomials(4, 3)
    B = equivariant_basis(basis, group)
    C = B.to_coef(rng.normal(size=B.n_terms))
    x = rng.normal(size=(5, 4))
    for g in [expm(0.7 * group.algebra.matrices[0]), group.discrete[0]]:
        lhs = eval_poly(C, basis.exponents, x @ g.T)
        np.testing.assert_allclose(
            lhs, eval_poly(C, basis.exponents, x) @ g.T, atol=1e-10
        )


def test_twelve_states_one_rotation_per_oscillator_is_sparse_and_exact():
    alg = LieAlgebra.direct_sum(*[LieAlgebra.so(2)] * 6)
    basis = Monomials(12, 3)
    B = equivariant_basis(basis, alg)
    K = symmetry_constraints(basis, alg)
    assert B.Q.shape[0] == 5460
    assert abs(K @ B.Q).max() < 1e-12
    assert B.Q.nnz < 5 * B.n_terms  # each term is a short orbit


def test_project_returns_the_closest_symmetric_model():
    B = equivariant_basis(Monomials(2, 1, 1), LieAlgebra.so(2))
    C = np.array([[1.0, -2.0], [2.2, 0.8]])
    c = B.project(C)
    np.testing.assert_allclose(B.to_coef(c), [[0.9, -2.1], [2.1, 0.9]])


def test_infeasible_symmetry_is_a_clear_error():
    with pytest.raises(ValueError, match="only the zero model"):
        equivariant_basis(Monomials(2, 1, 1), LieAlgebra.so(2), output="invariant")


def test_wrong_dimension_group_is_rejected():
    with pytest.raises(ValueError, match="R\\^3"):
        equivariant_basis(Monomials(2, 2), LieAlgebra.so(3))


def test_so15_cubic_basis_is_fast_and_is_identity_plus_norm_squared():
    # Dense SVDs of the tall blocks and per-block sparse slicing took ~13 s here.
    import time

    n = 15
    start = time.process_time()  # CPU time: robust to other load on the machine
    B = equivariant_basis(Monomials(n, 3), LieAlgebra.so(n))
    assert time.process_time() - start < 8.0
    # so(n)-equivariant cubic fields: x and |x|^2 x (Schur's lemma for n >= 3).
    assert B.n_terms == 2
    assert B.terms()[0].startswith("x0' = x0, x1' = x1")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, n))
    field = eval_poly(B.to_coef([0.0, 1.0]), Monomials(n, 3).exponents, x)
    np.testing.assert_allclose(field, (x**2).sum(axis=1, keepdims=True) * x)


def test_constraint_blocks_recover_a_shuffled_block_diagonal_matrix():
    from scipy import sparse

    from symsindy.equivariance import constraint_blocks

    rng = np.random.default_rng(2)
    dense = np.zeros((11, 10))
    dense[0:3, 0:2] = rng.normal(size=(3, 2))
    dense[3:4, 2:6] = rng.normal(size=(1, 4))
    dense[4:9, 6:9] = rng.normal(size=(5, 3))  # rows 9, 10 and column 9 stay empty
    rows, cols = rng.permutation(11), rng.permutation(10)
    K = sparse.csr_matrix(dense[rows][:, cols])
    before = K.copy()
    blocks = constraint_blocks(K)
    assert len(blocks) == 3
    assert sorted(blocks.sizes().tolist()) == [[1, 4], [3, 2], [5, 3]]
    for idx, block in blocks:
        # Column c of K is column cols[c] of the unshuffled matrix.
        original = np.sort(cols[idx]).tolist()
        assert original in ([0, 1], [2, 3, 4, 5], [6, 7, 8])
        expected = dense[:, cols[idx]]
        expected = expected[np.any(expected != 0, axis=1)]
        # Same rows up to order: compare sorted row tuples.
        np.testing.assert_array_equal(
            np.array(sorted(map(tuple, block))), np.array(sorted(map(tuple, expected)))
        )
    assert (K != before).nnz == 0  # the caller's matrix is untouched


def test_null_space_of_tall_block_matches_scipy():
    from symsindy.linalg import null_space as fast_null_space

    rng = np.random.default_rng(4)
    A = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 9))  # rank 6, nullity 3
    N = fast_null_space(A)
    ref = null_space(A)
    assert N.shape == ref.shape == (9, 3)
    # Same subspace: projectors agree.
    np.testing.assert_allclose(N @ N.T, ref @ ref.T, atol=1e-10)


def test_balancing_scales_recover_the_units_of_a_conjugated_algebra():
    """so(3) written for states in the units D: the balancing scales are D."""
    from symsindy.linalg import balancing_scales

    D = np.diag([1.0, 30.0, 0.2])
    mats = [D @ L @ np.linalg.inv(D) for L in LieAlgebra.so(3).matrices]
    d = balancing_scales(np.array(mats))
    np.testing.assert_allclose(d / d[0], np.diag(D), rtol=1e-8)
    np.testing.assert_allclose(np.prod(d), 1.0, rtol=1e-12)  # geometric mean 1


@pytest.mark.parametrize("factor", [1e-4, 1e3, 1e4])
def test_basis_of_a_rotation_in_very_different_units(factor):
    """A rotation of (x, factor y): the symmetric fields are those of so(2)
    carried through z = D x (C = D C0 S^-1), not more (fixed tolerances found
    a fifth, spurious direction from factor 1e3 on)."""
    D = np.array([1.0, factor])
    library = Monomials(2, 3)
    A = np.diag(D) @ np.array([[0.0, -1.0], [1.0, 0.0]]) @ np.diag(1 / D)
    B = equivariant_basis(library, LieAlgebra.from_matrices([A]))
    plain = equivariant_basis(library, LieAlgebra.so(2)).Q.toarray()
    assert B.n_terms == plain.shape[1] == 4
    monomials = np.prod(D[None, :] ** library.exponents, axis=1)
    carried = (D[:, None] / monomials[None, :]).ravel()[:, None] * plain
    Q = B.Q.toarray()
    # same span: each carried field is a combination of the new basis
    coef, *_ = np.linalg.lstsq(Q, carried, rcond=None)
    np.testing.assert_allclose(
        Q @ coef, carried, rtol=1e-9, atol=1e-12 * abs(carried).max()
    )
    assert np.allclose(Q[B.pivots, np.arange(B.n_terms)], 1.0)  # interpretable
    # and every column is exactly equivariant: F(e^{tA} x) = e^{tA} F(x)
    from scipy.linalg import expm as _expm

    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2)) * D
    g = _expm(0.3 * A)
    for j in range(B.n_terms):
        C = Q[:, j].reshape(B.n_targets, -1)
        lhs = library.evaluate(x @ g.T) @ C.T
        rhs = (library.evaluate(x) @ C.T) @ g.T
        np.testing.assert_allclose(lhs, rhs, rtol=1e-8, atol=1e-8 * abs(rhs).max())
