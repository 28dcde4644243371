"""Finite groups: exact orders without listing, capped closure, identity component."""

import time

import numpy as np
import pytest
from scipy.linalg import expm

from symsindy import LieAlgebra, Monomials, SymmetryGroup, discover_symmetries
from symsindy.finite_groups import (
    FiniteMatrixGroup,
    GroupOrder,
    element_order,
    generators_modulo_identity_component,
    in_identity_component,
)
from symsindy.lie_derivative import discrete_constraint


def _rotation(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _hyperoctahedral_generators(n):
    flips = [np.diag(np.where(np.arange(n) == i, -1.0, 1.0)) for i in range(n)]
    swap = np.eye(n)[[1, 0] + list(range(2, n))]
    cycle = np.roll(np.eye(n), 1, axis=0)
    return flips + [swap, cycle]


@pytest.mark.parametrize("n, order", [(2, 8), (3, 48), (6, 46080), (8, 10321920)])
def test_signed_permutation_orders_are_exact_without_listing(n, order):
    start = time.perf_counter()
    G = FiniteMatrixGroup(_hyperoctahedral_generators(n), n)
    assert G.order == order and G.order.exact
    assert G.contains(-np.eye(n))
    assert not G.contains(_rotation(0.3) if n == 2 else 0.5 * np.eye(n))
    assert time.perf_counter() - start < 2.0


def test_listing_signed_permutations_matches_the_order():
    elements = FiniteMatrixGroup(_hyperoctahedral_generators(3), 3).elements()
    keys = {np.round(g, 8).tobytes() for g in elements}
    assert len(keys) == 48 and np.allclose(elements[0], np.eye(3))
    assert all(np.allclose(g @ g.T, np.eye(3)) for g in elements)


def test_general_groups_are_closed_up_to_a_cap_and_report_a_lower_bound():
    S = np.array([[2.0, 1.0], [0.0, 1.0]])
    g = S @ _rotation(2 * np.pi / 7) @ np.linalg.inv(S)  # order 7, not orthogonal
    assert FiniteMatrixGroup([g], 2).order == 7
    big = FiniteMatrixGroup([_rotation(2 * np.pi / 40)], 2, max_order=20)
    assert not big.order.exact and big.order > 20
    assert str(big.order).startswith(">= ")
    with pytest.raises(ValueError, match="more than the limit"):
        big.elements()


@pytest.mark.parametrize(
    "element",
    [2 * np.eye(2), np.array([[1.0, 1.0], [0.0, 1.0]])],
    ids=["scaling", "shear"],
)
def test_elements_of_infinite_order_are_a_clear_error(element):
    with pytest.raises(ValueError, match="infinite order"):
        _ = SymmetryGroup(n=2, discrete=[element]).order
    with pytest.raises(ValueError, match="infinite order"):
        element_order(element)


def test_invertibility_is_judged_by_condition_not_determinant():
    small = 0.1 * np.eye(15)  # det 1e-15, perfectly conditioned
    assert SymmetryGroup(n=15, discrete=[small]).n == 15
    assert discrete_constraint(Monomials(15, 1, 1), small).matrix.shape == (225, 225)
    with pytest.raises(ValueError, match="invertible"):
        SymmetryGroup(n=2, discrete=[np.array([[1.0, 1.0], [1.0, 1.0 + 1e-14]])])


def test_rotation_by_pi_lies_in_the_rotation_group():
    so2 = LieAlgebra.so(2)
    assert in_identity_component(-np.eye(2), so2)
    assert in_identity_component(_rotation(np.pi / 2), so2)
    assert not in_identity_component(np.diag([1.0, -1.0]), so2)
    plane01 = so2.embed([0, 1], 3)
    plane12 = so2.embed([1, 2], 3)
    half_turn = np.diag([-1.0, -1.0, 1.0])
    assert in_identity_component(half_turn, plane01)
    assert not in_identity_component(half_turn, plane12)
    assert not in_identity_component(half_turn, LieAlgebra.scaling(3))


def test_identity_component_of_larger_algebras():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 4))
    rotation = expm(X - X.T)
    assert in_identity_component(rotation, LieAlgebra.so(4))
    assert in_identity_component(rotation, LieAlgebra.gl(4))
    torus = LieAlgebra.direct_sum(LieAlgebra.so(2), LieAlgebra.so(2))
    both = np.kron(np.eye(2), _rotation(np.pi))
    assert in_identity_component(both, torus)
    assert in_identity_component(np.kron(np.eye(2), _rotation(2.0)), torus)
    swap = np.eye(4)[[2, 3, 0, 1]]  # det +1, but swaps the two planes
    assert not in_identity_component(swap, torus)


def test_generators_modulo_the_identity_component():
    gens = _hyperoctahedral_generators(3)
    holding = FiniteMatrixGroup(gens, 3).elements()
    beyond = generators_modulo_identity_component(holding, LieAlgebra.so(3), 3)
    assert len(beyond) == 1 and np.linalg.det(beyond[0]) < 0
    rotations = [_rotation(k * np.pi / 2) for k in range(4)]
    assert generators_modulo_identity_component(rotations, LieAlgebra.so(2), 2) == []


@pytest.mark.slow
@pytest.mark.parametrize("n", [6, 7])
def test_discovery_with_default_arguments_handles_all_of_gl_n(n):
    """x' = -x: every linear map is a symmetry; the finite group is huge."""
    basis = Monomials(n, 1, 1)
    start = time.perf_counter()
    G = discover_symmetries(-np.eye(n), library=basis)
    assert G.dim == n * n
    # GL(n) contains every signed permutation of determinant +1; one element
    # of determinant -1 is all that is beyond the continuous group.
    assert len(G.discrete) == 1 and np.linalg.det(G.discrete[0]) < 0
    assert time.perf_counter() - start < 30


def test_group_order_is_an_int_with_exactness():
    order = GroupOrder(5)
    assert order == 5 and order.exact and repr(order) == "5"
    assert repr(GroupOrder(7, exact=False)) == "GroupOrder(7, exact=False)"


def test_a_single_given_element_is_counted():
    """A candidate list need not be a group (no identity): still order 2."""
    from symsindy import datasets

    C = datasets.get_system("lorenz").coefficients(3)
    R = np.diag([-1.0, -1.0, 1.0])
    G = discover_symmetries(C, library=Monomials(3, 3), method="exact", discrete=[R])
    assert G.report.discrete_order == 2
    assert len(G.discrete) == 1 and np.allclose(G.discrete[0], R)
