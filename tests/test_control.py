"""Symmetries of controlled models (states and inputs)."""

import numpy as np
import pysindy as ps
import pytest

from symsindy import EquivariantSTLSQ, LieAlgebra, Monomials, SymmetryGroup
from symsindy.control import control_action, control_constraints

J = LieAlgebra.so(2).matrices[0]


def _controlled_hopf(x, u):
    """x' = (1 - |x|^2) x + J x + u x: rotation-equivariant, u invariant."""
    r2 = np.sum(x**2, axis=1, keepdims=True)
    return (1 - r2) * x + x @ J.T + u * x


def test_default_input_action_leaves_inputs_unchanged():
    act = control_action(LieAlgebra.so(2), n_inputs=1)
    A = act.algebra.matrices[0]
    np.testing.assert_array_equal(A[:2, :2], J)
    np.testing.assert_array_equal(A[2], 0)
    np.testing.assert_array_equal(act.output[0], J)


def test_enforced_controlled_fit_recovers_the_model_and_is_equivariant():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    u = rng.normal(size=(400, 1))
    y = _controlled_hopf(x, u)
    theta = Monomials(3, 3).evaluate(np.hstack([x, u]))
    opt = EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.05).fit(theta, y)
    np.testing.assert_allclose(theta @ opt.coef_.T, y, atol=1e-10)
    # rotate the states, keep the input: the model commutes with the rotation
    R = np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
    rotated = Monomials(3, 3).evaluate(np.hstack([x @ R.T, u]))
    np.testing.assert_allclose(rotated @ opt.coef_.T, (theta @ opt.coef_.T) @ R.T)
    K = control_constraints(Monomials(3, 3), control_action(LieAlgebra.so(2), 1))
    assert np.abs(K @ opt.coef_.ravel()).max() < 1e-10


def test_sindyc_model_with_a_symmetric_optimizer():
    """0.1 refused every SINDYc model ("not the polynomial library ...")."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 2))
    u = rng.normal(size=(300, 1))
    model = ps.SINDy(
        optimizer=EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.05),
        feature_library=ps.PolynomialLibrary(degree=3),
    )
    model.fit(x, t=0.01, u=u, x_dot=_controlled_hopf(x, u))
    np.testing.assert_allclose(model.predict(x, u=u), _controlled_hopf(x, u), atol=1e-9)


def test_input_action_of_the_wrong_size_names_the_inputs():
    with pytest.raises(ValueError, match="control inputs"):
        control_action(LieAlgebra.so(2), 1, input_action=LieAlgebra.so(2))
    group = SymmetryGroup(discrete=[np.diag([-1.0, 1.0])])
    flip = SymmetryGroup(discrete=[-np.eye(1)])
    act = control_action(group, 1, input_action=flip)
    np.testing.assert_array_equal(act.discrete[0][0], np.diag([-1.0, 1.0, -1.0]))
