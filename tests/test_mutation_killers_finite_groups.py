"""Finite groups: exact orders and the identity component, by hand."""

import numpy as np
import pytest

from symsindy import LieAlgebra
from symsindy.finite_groups import (
    FiniteMatrixGroup,
    element_order,
    in_identity_component,
)


def _rotation(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


@pytest.mark.parametrize(
    "R, order",
    [
        (np.eye(3), 1),
        (-np.eye(2), 2),
        (_rotation(2 * np.pi / 5), 5),
        (np.eye(3)[[1, 2, 0]], 3),
        (np.array([[0.0, -1.0], [1.0, -1.0]]), 3),  # not orthogonal, order 3
    ],
)
def test_element_orders(R, order):
    assert element_order(R) == order


@pytest.mark.parametrize(
    "cap, order, exact", [(7, 7, True), (5, 6, False), (6, 7, False)]
)
def test_closure_stops_one_element_past_the_cap(cap, order, exact):
    """The cyclic group of a rotation by 2 pi / 7 has 7 elements."""
    G = FiniteMatrixGroup([_rotation(2 * np.pi / 7)], 2, max_order=cap)
    assert int(G.order) == order and G.order.exact is exact


def test_identity_component_of_the_identity_and_of_lists():
    trivial = LieAlgebra.trivial(2)
    assert in_identity_component(np.eye(2), trivial) is True
    assert in_identity_component([[0.0, -1.0], [1.0, 0.0]], LieAlgebra.so(2))
    assert not in_identity_component([[1.0, 0.0], [0.0, -1.0]], LieAlgebra.so(2))


def _embedded_rotation(n=3):
    return LieAlgebra.so(2).embed([0, 1], n)


def _flips():
    return [np.diag(s) for s in ([-1.0, 1, 1], [1.0, -1, 1], [1.0, 1, -1])]


def test_generators_modulo_a_partial_rotation_group():
    """Sign flips of R^3 modulo rotations in the (x0, x1) plane.

    The rotation by pi in that plane, diag(-1, -1, 1), is implied; two flips
    generate the rest: one of x0 or x1 and the flip of x2.
    """
    from symsindy.finite_groups import generators_modulo_identity_component

    elements = FiniteMatrixGroup(_flips(), 3).elements()
    assert len(elements) == 8
    gens = generators_modulo_identity_component(elements, _embedded_rotation(), 3)
    assert len(gens) == 2
    implied = np.diag([-1.0, -1.0, 1.0])
    assert FiniteMatrixGroup(gens + [implied], 3).order == 8


def test_a_rotation_outside_the_identity_component_is_kept():
    """diag(1, -1, -1) has determinant +1 but is not a rotation in (x0, x1)."""
    from symsindy.finite_groups import generators_modulo_identity_component

    R = np.diag([1.0, -1.0, -1.0])
    gens = generators_modulo_identity_component([np.eye(3), R], _embedded_rotation(), 3)
    assert len(gens) == 1
    np.testing.assert_array_equal(gens[0], R)


def test_identity_component_of_a_non_orthogonal_element_of_finite_order():
    """M R M^-1 = expm(2 pi / 3 M J M^-1) lies in the group it generates."""
    M = np.array([[1.0, 1.0], [0.0, 2.0]])
    Minv = np.linalg.inv(M)
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    g = M @ _rotation(2 * np.pi / 3) @ Minv
    assert in_identity_component(g, LieAlgebra.from_matrices(M @ J @ Minv))


@pytest.mark.parametrize("k", [5, 9, 15])
def test_cyclic_rotation_groups_are_implied_by_so2(k):
    """Every rotation by 2 pi j / k lies in SO(2): nothing discrete is left."""
    from symsindy.finite_groups import generators_modulo_identity_component

    elements = FiniteMatrixGroup([_rotation(2 * np.pi / k)], 2).elements()
    assert len(elements) == k
    assert generators_modulo_identity_component(elements, LieAlgebra.so(2), 2) == []


def test_element_order_at_exactly_the_bound():
    assert element_order(_rotation(2 * np.pi / 5), max_order=5) == 5
    with pytest.raises(ValueError, match="order above 4"):
        element_order(_rotation(2 * np.pi / 5), max_order=4)
