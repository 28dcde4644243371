"""Discover and promote symmetries of controlled models (SINDYc, ``fit(x, u=u)``).

Expected answers are derived by hand: for ``x' = F(x, u)`` with the inputs
unchanged, a linear ``A`` is a symmetry iff ``F(e^{sA} x, u) = e^{sA} F(x, u)``.
"""

import warnings

import numpy as np
import pysindy as ps
import pytest
from helpers import eval_poly
from scipy.linalg import subspace_angles

from symsindy import (
    EquivariantSTLSQ,
    LieAlgebra,
    Monomials,
    SymmetryGroup,
    SymmetryPromotingSR3,
    discover_symmetries,
)

J = np.array([[0.0, -1.0], [1.0, 0.0]])
DT = 0.01


def _oscillator(x, u, kick=False):
    """``x' = -x/2 + J x + u x`` (+ ``u e0`` with ``kick``)."""
    y = -0.5 * x + x @ J.T + u * x
    if kick:
        y[:, 0] += u[:, 0]
    return y


def _samples(n_states=2, n_inputs=1, size=300, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(size, n_states)), rng.normal(size=(size, n_inputs))


def _sindyc(x, u, x_dot, degree=2, threshold=0.05):
    model = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=degree),
        optimizer=ps.STLSQ(threshold=threshold),
    )
    return model.fit(x, t=DT, u=u, x_dot=x_dot)


def _max_principal_angle(mats, expected) -> float:
    a = np.asarray(mats).reshape(len(mats), -1).T
    b = np.asarray(expected).reshape(len(expected), -1).T
    return float(np.max(subspace_angles(a, b)))


# ------------------------------------------------------------- continuous
def test_rotation_and_scaling_of_a_controlled_oscillator_with_unchanged_input():
    x, u = _samples()
    model = _sindyc(x, u, _oscillator(x, u))
    G = discover_symmetries(model, x=x, t=DT, u=u, x_dot=_oscillator(x, u))
    assert G.n == 2 and G.dim == 2
    assert _max_principal_angle(G.generators, [J, np.eye(2)]) < 1e-10
    assert G.report.input_action is None
    assert "inputs (1): unchanged" in G.summary()


def test_coefficient_matrix_over_states_and_inputs_gives_the_same_span():
    # x0' = -x0/2 - x1 + u x0, x1' = x0 - x1/2 + u x1 over (x0, x1, u) degree 2
    lib = Monomials(3, 2)
    names = lib.names(["x0", "x1", "u"])
    C = np.zeros((2, len(lib)))
    for row, terms in enumerate(
        [{"x0": -0.5, "x1": -1.0, "x0 u": 1.0}, {"x0": 1.0, "x1": -0.5, "x1 u": 1.0}]
    ):
        for name, value in terms.items():
            C[row, names.index(name)] = value
    G = discover_symmetries(C, library=lib, n_inputs=1)
    assert G.report.method == "exact"
    assert G.dim == 2
    assert _max_principal_angle(G.generators, [J, np.eye(2)]) < 1e-12


def test_an_input_entering_one_state_breaks_rotation_and_scaling():
    # A in span{I, J} commutes with -I/2 + J, but must also kill e0: only A = 0.
    x, u = _samples()
    x_dot = _oscillator(x, u, kick=True)
    model = _sindyc(x, u, x_dot)
    G = discover_symmetries(model, x=x, t=DT, u=u, x_dot=x_dot, discrete=None)
    assert G.dim == 0
    so2 = discover_symmetries(
        model, LieAlgebra.so(2), x=x, t=DT, u=u, x_dot=x_dot, discrete=None
    )
    assert so2.dim == 0


def _linear_controlled(seed=0):
    """``x' = A x + B u`` with generic A, B: the scaling (x, u) -> e^s (x, u)."""
    A = np.array([[-1.0, 2.0], [0.5, -3.0]])
    B = np.array([[1.0], [-2.0]])
    x, u = _samples(seed=seed)
    return x, u, x @ A.T + u @ B.T


def _discover_with_scaled_input(model, x, u, x_dot, **options):
    """Scaling candidates, the input scaling like the states."""
    return discover_symmetries(
        model,
        LieAlgebra.scaling(2),
        x=x,
        t=DT,
        u=u,
        x_dot=x_dot,
        discrete=None,
        input_action=LieAlgebra.scaling(1),
        **options,
    )


def test_scaling_is_found_only_when_the_inputs_scale_like_the_states():
    x, u, x_dot = _linear_controlled()
    model = _sindyc(x, u, x_dot)
    fixed = discover_symmetries(
        model, LieAlgebra.scaling(2), x=x, t=DT, u=u, x_dot=x_dot, discrete=None
    )
    assert fixed.dim == 0
    scaled = _discover_with_scaled_input(model, x, u, x_dot)
    assert scaled.dim == 1
    assert _max_principal_angle(scaled.generators, [np.eye(2)]) < 1e-12
    # the returned input action scales u by the same amount as x
    act = scaled.report.input_action
    ratio = act.generators[0][0, 0] / scaled.generators[0][0, 0]
    assert ratio == pytest.approx(1.0, abs=1e-12)
    assert "transformed with the states" in scaled.summary()


def test_scaling_with_inputs_holds_for_the_exact_coefficients_too():
    x, u, x_dot = _linear_controlled()
    C = np.asarray(_sindyc(x, u, x_dot).optimizer.coef_)
    lib = Monomials(3, 2)
    unchanged = discover_symmetries(C, LieAlgebra.scaling(2), library=lib, n_inputs=1)
    scaled = discover_symmetries(
        C, LieAlgebra.scaling(2), library=lib, input_action=LieAlgebra.scaling(1)
    )
    assert (unchanged.dim, scaled.dim) == (0, 1)


# --------------------------------------------------------------- round trip
def test_discovered_group_enforced_on_the_same_data_recovers_the_model():
    x, u = _samples(seed=3)
    x_dot = _oscillator(x, u)
    model = _sindyc(x, u, x_dot)
    G = discover_symmetries(model, x=x, t=DT, u=u, x_dot=x_dot)
    enforced = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=2),
        optimizer=EquivariantSTLSQ(G, threshold=0.05),
    ).fit(x, t=DT, u=u, x_dot=x_dot)
    exact = np.zeros((2, 10))  # 1, x0, x1, u, x0^2, x0 x1, x0 u, x1^2, x1 u, u^2
    exact[0, [1, 2, 6]] = [-0.5, -1.0, 1.0]
    exact[1, [1, 2, 8]] = [1.0, -0.5, 1.0]
    np.testing.assert_allclose(enforced.optimizer.coef_, exact, atol=1e-8)
    # and it reproduces the accepted refit of the test
    np.testing.assert_allclose(
        enforced.optimizer.coef_, G.report.group_test.coef, atol=1e-8
    )


def test_round_trip_with_scaled_inputs_uses_the_reported_input_action():
    x, u, x_dot = _linear_controlled(seed=4)
    model = _sindyc(x, u, x_dot)
    G = _discover_with_scaled_input(model, x, u, x_dot)
    opt = EquivariantSTLSQ(G, threshold=0.05, input_action=G.report.input_action)
    fit = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2), optimizer=opt)
    fit.fit(x, t=DT, u=u, x_dot=x_dot)
    np.testing.assert_allclose(fit.optimizer.coef_, G.report.group_test.coef, atol=1e-8)
    np.testing.assert_allclose(fit.predict(x, u=u), x_dot, atol=1e-8)


# ----------------------------------------------------------------- discrete
def _lorenz_with_input(x, u, on_x=False):
    """Lorenz with ``u`` added to z' (keeps (x, y, z) -> (-x, -y, z)) or x'."""
    a, b, c = x.T
    out = np.stack([10 * (b - a), a * (28 - c) - b, a * b - 8 / 3 * c + u[:, 0]], 1)
    if on_x:
        out[:, 0] += u[:, 0]
    return out


@pytest.mark.parametrize("on_x", [False, True])
def test_discrete_search_acts_on_the_states_with_inputs_fixed(on_x):
    x, u = _samples(n_states=3, size=400, seed=5)
    x_dot = _lorenz_with_input(x, u, on_x)
    model = _sindyc(x, u, x_dot)
    G = discover_symmetries(model, x=x, t=DT, u=u, x_dot=x_dot)
    flip = np.diag([-1.0, -1.0, 1.0])
    assert G.dim == 0
    if on_x:
        assert G.discrete == []
    else:
        assert len(G.discrete) == 1
        np.testing.assert_array_equal(G.discrete[0], flip)
    assert "inputs unchanged" in G.report.discrete_family


def test_discrete_input_action_pairs_with_explicit_candidates():
    # x' = -x + u: (x, u) -> (-x, -u) is a symmetry, (x, u) -> (-x, u) is not
    x, u = _samples(n_states=1, size=200, seed=6)
    x_dot = -x + u
    model = _sindyc(x, u, x_dot)
    flip = -np.eye(1)
    kept = discover_symmetries(
        model,
        x=x,
        t=DT,
        u=u,
        x_dot=x_dot,
        discrete=[flip],
        input_action=SymmetryGroup(discrete=[-np.eye(1)]),
    )
    fixed = discover_symmetries(model, x=x, t=DT, u=u, x_dot=x_dot, discrete=[flip])
    assert len(kept.discrete) == 1 and kept.discrete[0][0, 0] == -1.0
    np.testing.assert_array_equal(kept.report.input_action.discrete[0], -np.eye(1))
    assert fixed.discrete == []


# ------------------------------------------------------------------ promote
def _controlled_hopf(x, u, kick=False):
    """``x' = (1 - |x|^2) x + J x + u x``: symmetry algebra so(2) exactly
    (``L_A (|x|^2 x) = 2 (x^T A x) x`` vanishes iff ``A`` is antisymmetric);
    ``kick`` adds ``u e0``, which breaks it."""
    y = (1 - np.sum(x**2, axis=1, keepdims=True)) * x + x @ J.T + u * x
    if kick:
        y[:, 0] += u[:, 0]
    return y


def _lie_matrix(coef, lib, z, n=2):
    """Columns ``L_E F = DF (E x, 0) - E F`` over the unit matrices ``E`` of
    gl(n), by complex-step differentiation at the points ``z = (x, u)``."""
    F = eval_poly(coef, lib.exponents, z)
    units, cols = [], []
    for i in range(n):
        for j in range(n):
            E = np.zeros((n, n))
            E[i, j] = 1.0
            step = np.zeros(z.shape, dtype=complex)
            step[:, :n] = 1e-30j * (z[:, :n] @ E.T)
            dF = eval_poly(coef, lib.exponents, z + step).imag / 1e-30
            cols.append((dF - F @ E.T).ravel())
            units.append(E)
    return np.array(cols).T / np.linalg.norm(F), np.array(units)


def _promote(x, u, x_dot, **kw):
    opt = SymmetryPromotingSR3(candidates=LieAlgebra.gl(2), threshold=0.01, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ps.SINDy(feature_library=ps.PolynomialLibrary(degree=3), optimizer=opt).fit(
            x, t=DT, u=u, x_dot=x_dot
        )
    return opt


@pytest.mark.parametrize("kick", [False, True])
def test_promotion_keeps_an_exact_rotation_and_keeps_a_broken_one_broken(kick):
    x, u = _samples(seed=7)
    opt = _promote(x, u, _controlled_hopf(x, u, kick), sym_weight=1e-3)
    assert opt.n_inputs_ == 1
    L, units = _lie_matrix(np.asarray(opt.coef_), Monomials(3, 3), np.hstack([x, u]))
    _, s, vt = np.linalg.svd(L, full_matrices=False)
    if kick:
        assert s[-1] > 1e-2
        return
    assert s[-1] < 1e-8  # an exact one-parameter symmetry ...
    direction = np.einsum("q,qij->ij", vt[-1], units)
    assert _max_principal_angle([direction], [J]) < 1e-3  # ... close to rotation


@pytest.mark.parametrize("kick", [False, True])
def test_promotion_with_snap_enforces_the_exact_rotation(kick):
    x, u = _samples(seed=7)
    opt = _promote(x, u, _controlled_hopf(x, u, kick), sym_weight=1e-3, snap=True)
    L, _ = _lie_matrix(np.asarray(opt.coef_), Monomials(3, 3), np.hstack([x, u]))
    rotation = np.array([0.0, -1.0, 1.0, 0.0]) / np.sqrt(2)  # J over E_00..E_11
    if kick:
        assert opt.symmetry_.dim == 0
        assert np.linalg.norm(L @ rotation) > 1e-2
    else:
        assert opt.symmetry_.dim == 1
        assert np.linalg.norm(L @ rotation) < 1e-8


def test_promotion_with_scaled_inputs_keeps_the_joint_scaling():
    x, u, x_dot = _linear_controlled(seed=8)
    theta = Monomials(3, 2).evaluate(np.hstack([x, u]))
    kw = dict(candidates=LieAlgebra.scaling(2), sym_weight=1e-2, threshold=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        joint = SymmetryPromotingSR3(input_action=LieAlgebra.scaling(1), **kw)
        joint.fit(theta, x_dot)
    # scaling (x, u) jointly maps the model to itself: degree-2 terms vanish
    quadratic = Monomials(3, 2).degrees == 2
    assert np.abs(joint.coef_[:, quadratic]).max() < 1e-8
    assert joint.relative_singular_values()[-1] < 1e-8


def test_promoting_optimizer_stores_input_action_unchanged_for_clone():
    from sklearn.base import clone

    action = LieAlgebra.scaling(1)
    opt = SymmetryPromotingSR3(input_action=action)
    assert opt.get_params()["input_action"] is action
    copy = clone(opt).input_action
    np.testing.assert_array_equal(copy.coefficients, action.coefficients)


# ------------------------------------------------------------------- errors
def test_data_without_inputs_for_a_control_model_names_u():
    x, u = _samples()
    model = _sindyc(x, u, _oscillator(x, u))
    with pytest.raises(ValueError, match="control input.*u="):
        discover_symmetries(model, x=x, t=DT, x_dot=_oscillator(x, u))


def test_input_action_of_the_wrong_size_is_refused():
    x, u = _samples()
    model = _sindyc(x, u, _oscillator(x, u))
    with pytest.raises(ValueError, match="control inputs"):
        discover_symmetries(model, input_action=LieAlgebra.scaling(2), tol=1e-6)
    with pytest.raises(ValueError, match="one input generator per state generator"):
        discover_symmetries(model, input_action=LieAlgebra.scaling(1), tol=1e-6)
    theta = Monomials(3, 2).evaluate(np.hstack([x, u]))
    opt = SymmetryPromotingSR3(sym_weight=1e-2, input_action=LieAlgebra.scaling(2))
    with pytest.raises(ValueError, match="input_action acts on R\\^2"):
        opt.fit(theta, _oscillator(x, u))


def test_symmetries_of_states_and_inputs_together_are_refused():
    x, u = _samples()
    model = _sindyc(x, u, _oscillator(x, u))
    with pytest.raises(ValueError, match="states and 1 control input.*input_action"):
        discover_symmetries(model, LieAlgebra.gl(3), tol=1e-6)
    with pytest.raises(ValueError, match="states only"):
        discover_symmetries(model, tol=1e-6, discrete=[np.eye(3)])
    theta = Monomials(3, 2).evaluate(np.hstack([x, u]))
    opt = SymmetryPromotingSR3(candidates=LieAlgebra.gl(3), sym_weight=1e-2)
    with pytest.raises(ValueError, match="input_action"):
        opt.fit(theta, _oscillator(x, u))


def test_a_library_without_the_inputs_is_refused():
    C = np.zeros((2, len(Monomials(2, 2))))
    C[0, 1] = 1.0
    with pytest.raises(ValueError, match="states and 1 control inputs"):
        discover_symmetries(C, library=Monomials(2, 2), n_inputs=1)


def test_inputs_given_for_a_model_without_inputs_are_refused():
    x, u = _samples()
    plain = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2))
    plain.fit(x, t=DT, x_dot=-x)
    with pytest.raises(ValueError, match="no control inputs"):
        discover_symmetries(plain, x=x, t=DT, x_dot=-x, u=u)


def test_bootstrap_replicates_keep_the_scaling_with_scaled_inputs():
    x, u, x_dot = _linear_controlled()
    G = _discover_with_scaled_input(_sindyc(x, u, x_dot), x, u, x_dot, n_bootstrap=3)
    assert G.dim == 1 and G.report.bootstrap_dims.tolist() == [1, 1, 1]
