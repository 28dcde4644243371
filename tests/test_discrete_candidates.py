"""Discrete candidate families: exhaustive when small, polynomial when large."""

import numpy as np
import pytest

from symsindy import Monomials
from symsindy.discrete_candidates import (
    candidate_discrete_elements,
    structure_permutations,
)


def _lorenz96(n, forcing=8.0):
    """x_i' = (x_(i+1) - x_(i-2)) x_(i-1) - x_i + F over Monomials(n, 2)."""
    basis = Monomials(n, 2)
    coef = np.zeros((n, len(basis)))

    def col(*idx):
        e = np.zeros(n, dtype=int)
        for i in idx:
            e[i % n] += 1
        return basis.index(e[None])[0]

    for i in range(n):
        coef[i, col(i + 1, i - 1)] += 1.0
        coef[i, col(i - 2, i - 1)] -= 1.0
        coef[i, col(i)] -= 1.0
        coef[i, 0] = forcing
    return coef, basis


def _is_symmetry(R, coef, basis, rng):
    """F(R x) == R F(x) at random points (independent of the search)."""
    x = rng.normal(size=(5, R.shape[0]))
    lhs = basis.evaluate(x @ R.T) @ coef.T
    rhs = (basis.evaluate(x) @ coef.T) @ R.T
    return np.allclose(lhs, rhs, atol=1e-10)


def test_small_n_uses_every_signed_permutation():
    for n, total in [(1, 2), (3, 48), (6, 46_080)]:
        cands, family = candidate_discrete_elements(n)
        assert len(cands) == total == len({R.tobytes() for R in cands})
        assert family == f"all {total} signed permutations"


def test_without_a_model_the_family_grows_polynomially_and_says_so():
    sizes = []
    for n in (7, 10, 20):
        cands, family = candidate_discrete_elements(n)
        sizes.append(len(cands))
        assert "no model given" in family and family.endswith(
            f"{len(cands)} candidates"
        )
        for R in cands:  # signed permutation matrices
            assert (np.abs(R).sum(axis=0) == 1).all() and (
                np.abs(R).sum(axis=1) == 1
            ).all()
    assert sizes[-1] <= 2 * 20**2 + 10


def test_lorenz96_structure_permutations_are_exactly_the_cyclic_shifts():
    rng = np.random.default_rng(0)
    n = 10
    coef, basis = _lorenz96(n)
    perms, complete = structure_permutations(coef, basis)
    assert complete
    shifts = {tuple(np.roll(np.arange(n), -k)) for k in range(n)}
    assert {tuple(p) for p in perms} == shifts
    for p in perms:
        R = np.eye(n)[p]
        assert _is_symmetry(R, coef, basis, rng)
    cands, family = candidate_discrete_elements(n, coef, basis)
    assert "all of the 10 permutations that preserve the model's structure" in family
    holding = [R for R in cands if _is_symmetry(R, coef, basis, rng)]
    # Every shift holds; no sign flip can (the forcing term fixes all signs).
    assert len(holding) == n - 1  # identity is not a candidate
    assert all((R >= 0).all() for R in holding)


def test_asymmetric_model_has_only_the_identity_structure_permutation():
    rng = np.random.default_rng(1)
    basis = Monomials(8, 2)
    coef = np.where(rng.random((8, len(basis))) < 0.15, rng.normal(size=(8, 45)), 0.0)
    perms, complete = structure_permutations(coef, basis)
    assert complete and len(perms) == 1 and np.array_equal(perms[0], np.arange(8))


def test_sign_symmetry_of_a_large_model_is_among_the_candidates():
    # x_i' = -x_i + x_i x_(i+1)^2 on 9 states: flipping any one sign is a symmetry.
    rng = np.random.default_rng(2)
    n = 9
    basis = Monomials(n, 3)
    coef = np.zeros((n, len(basis)))
    for i in range(n):
        e = np.zeros(n, dtype=int)
        e[i] = 1
        coef[i, basis.index(e[None])[0]] = -1.0
        e[(i + 1) % n] += 2
        coef[i, basis.index(e[None])[0]] = 0.5
    cands, _ = candidate_discrete_elements(n, coef, basis)
    holding = [R for R in cands if _is_symmetry(R, coef, basis, rng)]
    flips = [R for R in holding if np.allclose(np.abs(R), np.eye(n))]
    assert len(flips) == n + n * (n - 1) // 2 + 1  # singles, pairs, all
    assert any(not np.allclose(np.abs(R), np.eye(n)) for R in holding)  # shifts


def test_permutation_search_cap_is_reported():
    # f = sum x_i^2 is invariant under all 7! permutations: the search is capped.
    n = 7
    basis = Monomials(n, 2)
    coef = np.zeros((1, len(basis)))
    for i in range(n):
        e = np.zeros(n, dtype=int)
        e[i] = 2
        coef[0, basis.index(e[None])[0]] = 1.0
    perms, complete = structure_permutations(coef, basis, max_count=50)
    assert len(perms) == 50 and not complete
    cands, family = candidate_discrete_elements(n, coef, basis, limit=300)
    assert "search capped" in family and "capped at the first 300" in family
    assert len(cands) == 300


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "n must be"),
        ({"n": 8, "limit": 0}, "limit"),
        ({"n": 8, "coef": np.zeros((8, 7))}, "matches no full polynomial library"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        candidate_discrete_elements(**kwargs)
