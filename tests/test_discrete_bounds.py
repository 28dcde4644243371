"""The dual lower bound that prunes discrete candidates before their refit."""

import warnings

import numpy as np
import pysindy as ps
import pytest

from symsindy import LieAlgebra, SymmetryGroup, datasets, equivariant_basis
from symsindy.discover.discrete import candidates_for, statistic_lower_bounds
from symsindy.discover.inputs import build_problem
from symsindy.discover.symmetries import evidence
from symsindy.inference import subspace_test


@pytest.fixture(scope="module")
def lorenz_problem():
    """Noisy Lorenz (reflection diag(-1, -1, 1)), all 48 signed permutations."""
    t = np.arange(0, 5, 0.01)
    xs = datasets.simulate("lorenz", 4, t, noise=0.01, seed=3)
    model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(xs, t=t)
    options = dict(
        library=None, x=xs, t=t, x_dot=None, output="vector", inner_product="auto",
        sample_points=None, method="auto", tol=None, alpha=1e-3, margin=None,
        rows="auto", degree=2, threshold=0.05,
    )  # fmt: skip
    problem = build_problem(model, LieAlgebra.gl(3), options)
    ctx = evidence(problem)
    cands, _ = candidates_for(problem, "auto")
    exact = []
    for R in cands:
        Q = equivariant_basis(problem.space.basis, SymmetryGroup(discrete=[R], n=3)).Q
        exact.append(subspace_test(ctx.stats, Q, ctx.noise).statistic)
    return problem, ctx, cands, np.array(exact)


def test_the_dual_bound_never_exceeds_the_refit_statistic(lorenz_problem):
    problem, ctx, cands, exact = lorenz_problem
    for steps in (1, 3, 40):
        bounds = statistic_lower_bounds(problem, ctx, cands, steps=steps)
        assert np.all(bounds <= exact * (1 + 1e-8) + 1e-8)


def test_more_conjugate_gradient_steps_tighten_the_bound_to_the_statistic(
    lorenz_problem,
):
    problem, ctx, cands, exact = lorenz_problem
    one = statistic_lower_bounds(problem, ctx, cands, steps=1)
    many = statistic_lower_bounds(problem, ctx, cands, steps=200)
    assert np.all(many >= one * (1 - 1e-10))
    broken = exact > 1.0
    assert np.median(one[broken] / exact[broken]) < 0.5
    np.testing.assert_allclose(many[broken], exact[broken], rtol=1e-3)


def test_the_true_reflection_is_never_pruned(lorenz_problem):
    problem, ctx, cands, exact = lorenz_problem
    (true,) = [
        i for i, R in enumerate(cands) if np.array_equal(R, np.diag([-1.0, -1, 1]))
    ]
    crit = ctx.noise.critical_value(problem.space.n_coef, ctx.alpha)
    bounds = statistic_lower_bounds(problem, ctx, cands, steps=40)
    assert bounds[true] <= exact[true] * (1 + 1e-8) and exact[true] < crit
    assert np.sum(bounds > crit) > len(cands) // 2


@pytest.mark.parametrize("output", ["vector", "invariant"])
def test_orbit_basis_of_signed_permutations_spans_the_equivariant_subspace(output):
    """The graph search of orbits agrees with the null-space construction for
    random groups of signed permutations (principal angles 0)."""
    from scipy.linalg import subspace_angles

    from symsindy import Monomials
    from symsindy.discover.discrete import (
        _as_signed_permutations,
        _SignedPermutations,
        signed_fixed_space,
    )

    rng = np.random.default_rng(1)
    compared = 0
    for _ in range(25):
        n = int(rng.integers(2, 5))
        elements = [
            np.eye(n)[rng.permutation(n)] * rng.choice([-1.0, 1.0], size=n)[:, None]
            for _ in range(int(rng.integers(1, 3)))
        ]
        basis, t = Monomials(n, 3), n if output == "vector" else 1
        group = SymmetryGroup(discrete=elements, n=n)
        action = _SignedPermutations(
            *_as_signed_permutations(elements), basis, output == "vector"
        )
        fast = signed_fixed_space(action, t)
        try:
            reference = equivariant_basis(basis, group, output, t).Q.toarray()
        except ValueError:
            assert fast is None
            continue
        fast = fast.toarray()
        assert fast.shape == reference.shape
        assert np.max(subspace_angles(fast, reference)) < 1e-10
        compared += 1
    assert compared >= 20


def test_relative_residuals_of_the_zero_model_are_zero():
    """(Exact for every candidate: 0 / 0 is reported as 0, not NaN.)"""
    from symsindy import Monomials
    from symsindy.discover.discrete import relative_residuals
    from symsindy.discover.inputs import DiscoveryProblem
    from symsindy.spaces import ModelSpace
    from symsindy.spectrum import FunctionNorm

    lib = Monomials(2, 3)
    space = ModelSpace.of(lib, output="vector", n_targets=2)
    norm = FunctionNorm.resolve("coefficients", None)
    problem = DiscoveryProblem(
        np.zeros((2, len(lib))), space, None, norm, None, "exact", None, None, None
    )
    values = relative_residuals(problem, [-np.eye(2), np.eye(2)[::-1]])
    assert values.tolist() == [0.0, 0.0]
