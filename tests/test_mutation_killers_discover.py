"""Discovery on exact models: analytic answers for the paths 0.1 left untested."""

import warnings

import numpy as np
import pytest

from symsindy import LieAlgebra, Monomials, datasets, discover_symmetries

J = np.array([[0.0, -1.0], [1.0, 0.0]])


def _exact(name):
    sys = datasets.get_system(name)
    return sys.coefficients(), Monomials(sys.n, sys.degree)


def _span_residual(target, mats):
    flat = np.asarray(mats).reshape(len(mats), -1).T
    coef, *_ = np.linalg.lstsq(flat, target.ravel(), rcond=None)
    return np.linalg.norm(flat @ coef - target.ravel()) / np.linalg.norm(target)


def _orthonormal(G):
    flat = G.algebra.coefficients.reshape(G.dim, -1)
    return np.allclose(flat @ flat.T, np.eye(G.dim), atol=1e-12)


@pytest.mark.parametrize("snap", [True, False])
def test_tolerance_rule_with_and_without_snapping(snap):
    """snap=False returns the numerical span itself, orthonormal, unsnapped."""
    C, lib = _exact("damped_oscillator")
    G = discover_symmetries(
        C, library=lib, discrete=None, method="tolerance", snap=snap
    )
    assert G.dim == 2 and _orthonormal(G)
    assert _span_residual(J, G.generators) < 1e-10
    assert _span_residual(np.eye(2), G.generators) < 1e-10
    assert G.report.snapped is snap


@pytest.mark.parametrize("name", ["hopf", "growth"])
def test_a_single_generator_is_normalised(name):
    """The returned basis is orthonormal for one generator as for several."""
    C, lib = _exact(name)
    for snap in (True, False):
        G = discover_symmetries(C, library=lib, discrete=None, snap=snap)
        assert G.dim == 1
        assert abs(np.linalg.norm(G.algebra.coefficients) - 1.0) < 1e-12


@pytest.mark.parametrize("scale", [1.0, 1e-3, 1e3])
def test_discrete_residuals_are_relative_to_the_model(scale):
    """Scaling the model scales every residual and its norm alike: same answer.

    A small model (coefficient norm below 1) must not have every reflection
    reported, nor a large one none.
    """
    C, lib = _exact("lorenz")
    G = discover_symmetries(scale * C, library=lib)
    assert G.dim == 0
    assert len(G.discrete) == 1
    np.testing.assert_array_equal(G.discrete[0], np.diag([-1.0, -1.0, 1.0]))
    reference = discover_symmetries(C, library=lib).report.discrete_residuals
    got = G.report.discrete_residuals
    assert len(got) == len(reference) == 48
    for (R, r), (R0, r0) in zip(got, reference, strict=True):
        np.testing.assert_array_equal(R, R0)
        assert r == pytest.approx(r0, rel=1e-9, abs=1e-15)


def test_lorenz_reflection_residuals_by_hand():
    """||F(R x) - R F(x)|| / ||F|| in coefficients, for two reflections.

    diag(-1,-1,1) holds (residual 0); diag(1,1,-1) flips the sign of the
    ``x y`` and ``x z`` terms: z' = x y - b z gets 2 |x y| = 2 and
    y' = x (rho - z) - y gets 2 |x z| = 2, so the residual is
    sqrt(2^2 + 2^2) / ||F||.
    """
    C, lib = _exact("lorenz")
    G = discover_symmetries(
        C, library=lib, discrete=[np.diag([-1.0, -1, 1]), np.diag([1.0, 1, -1])]
    )
    res = dict((tuple(np.diag(R)), r) for R, r in G.report.discrete_residuals)
    assert res[(-1.0, -1.0, 1.0)] < 1e-14
    expected = np.sqrt(8.0) / np.linalg.norm(C)
    assert res[(1.0, 1.0, -1.0)] == pytest.approx(expected, rel=1e-12)


def test_zero_model_warns_that_everything_is_a_symmetry():
    lib = Monomials(2, 1, 1)
    with pytest.warns(UserWarning, match="the model is zero"):
        G = discover_symmetries(np.zeros((2, 2)), library=lib, discrete=None)
    assert G.dim == 4


def test_candidates_restrict_the_answer():
    """Inside so(2) + scaling only, the oscillator keeps both; inside so(2), one."""
    C, lib = _exact("damped_oscillator")
    G = discover_symmetries(C, LieAlgebra.so(2), library=lib, discrete=None)
    assert G.dim == 1 and _span_residual(J, G.generators) < 1e-12


@pytest.mark.parametrize(
    "h, expected",
    [
        (LieAlgebra.so(2), 2),  # normaliser of so(2) in gl(2) is so(2) + I
        (LieAlgebra.scaling(2), 0),  # the identity commutes with everything
        (LieAlgebra.gl(2), 0),
        (LieAlgebra.from_matrices(np.diag([1.0, 0.0])), 2),  # normaliser: diagonals
    ],
)
def test_orbit_dimension_is_the_codimension_of_the_normaliser(h, expected):
    from symsindy.discover.continuous import orbit_dimension

    assert orbit_dimension(h, LieAlgebra.gl(2)) == expected


def test_orbit_dimension_of_nonlinear_algebras_is_grassmannian():
    from symsindy.discover.continuous import orbit_dimension

    cands = LieAlgebra.polynomial(2, 2)  # 12 fields
    h = LieAlgebra.from_vector_fields(cands.coefficients[:3], degree=2)
    assert orbit_dimension(h, cands) == 3 * (12 - 3)


def _noisy_model(name, threshold, degree=None, n_traj=3):
    import pysindy as ps

    sys = datasets.get_system(name)
    t = np.arange(0, sys.t_end / 2, sys.dt)
    xs = datasets.simulate(sys, n_traj, t, noise=0.01, seed=1)
    model = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=degree or sys.degree),
        optimizer=ps.STLSQ(threshold=threshold),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(xs, t=t)
    return model, xs, t


@pytest.mark.parametrize(
    "name, threshold, degree, expected, discrete",
    [
        ("hopf", 0.1, None, [J], []),
        ("damped_oscillator", 0.05, None, [J, np.eye(2)], []),
        ("lorenz", 0.5, 2, [], [np.diag([-1.0, -1.0, 1.0])]),
    ],
)
def test_likelihood_ratio_discovery_on_short_noisy_fits(
    name, threshold, degree, expected, discrete
):
    """method="test" (data given): the known group, its test accepted."""
    model, xs, t = _noisy_model(name, threshold, degree)
    G = discover_symmetries(model, x=xs, t=t)
    assert G.report.method == "test" and G.report.alpha == 1e-3
    assert G.report.snapped is (len(expected) > 0)  # nothing to snap in Lorenz
    assert G.dim == len(expected)
    for A in expected:
        assert _span_residual(A, G.generators) < 1e-12  # snapped: exact
    assert len(G.discrete) == len(discrete)
    for R, R0 in zip(G.discrete, discrete, strict=True):
        np.testing.assert_array_equal(R, R0)
    assert G.report.group_test is not None and G.report.group_test.accepted
    accepted = [v for v in G.report.verdicts if v.verdict == "symmetric"]
    assert accepted and all(v.test.p_value > 1e-3 for v in accepted)
    # every rejected continuous candidate really was rejected by its test
    for v in G.report.verdicts:
        if v.kind == "continuous" and v.verdict == "broken" and v.test is not None:
            assert v.test.p_value <= 1e-3


def test_default_discrete_candidates_up_to_six_states():
    """All 48 signed permutations of three coordinates, each once."""
    from symsindy.discover import candidate_family

    cands, name = candidate_family(3)[:2]
    assert len(cands) == 48 and "48 signed permutations" in name
    assert len({R.tobytes() for R in cands}) == 48
    for R in cands:
        assert np.array_equal(np.abs(R).sum(axis=0), np.ones(3))
        assert np.array_equal(np.abs(R).sum(axis=1), np.ones(3))


def test_power_is_reported_without_a_bias_column():
    """The detectable breaking is computed for libraries without a constant."""
    import pysindy as ps

    sys = datasets.get_system("hopf")
    t = np.arange(0, sys.t_end / 2, sys.dt)
    xs = datasets.simulate(sys, 3, t, noise=0.01, seed=1)
    model = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=3, include_bias=False),
        optimizer=ps.STLSQ(threshold=0.1),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(xs, t=t)
    G = discover_symmetries(model, x=xs, t=t, discrete=None, rows="derivatives")
    assert G.report.inner_product == "data"
    assert G.dim == 1 and _span_residual(J, G.generators) < 1e-12
    (accepted,) = [v for v in G.report.verdicts if v.verdict == "symmetric"]
    assert accepted.detectable_breaking is not None
    assert 0 < accepted.detectable_breaking < 0.5


def _flat(g):
    return g.coefficients.reshape(g.dim, -1)


def test_snap_recovers_the_exact_rotation_from_a_noisy_one():
    from symsindy.discover.snapping import snap

    noisy = LieAlgebra.from_matrices(J + 1e-3 * np.array([[0.3, -0.2], [0.1, 0.4]]))
    exact = snap(noisy)
    assert exact.is_linear  # no 1e-17 constant terms picked up
    np.testing.assert_array_equal(
        exact.matrices[0] * np.sqrt(2), J * np.sign(exact.matrices[0][1, 0])
    )
    assert snap(LieAlgebra.trivial(2)) is None


def test_discrete_verdicts_report_their_power():
    """Accepted elements carry the detectable breaking, as directions do.

    Lorenz ((x, y, z) -> (-x, -y, z)) on six trajectories: the reflection is
    accepted, with a finite power below the threshold of "undetermined".
    """
    import pysindy as ps

    from symsindy.inference import DETECTABLE_BREAKING

    sys = datasets.get_system("lorenz")
    t = np.arange(0, sys.t_end, sys.dt)
    xs = datasets.simulate(sys, 6, t, noise=0.01, seed=2)
    model = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=2),
        optimizer=ps.STLSQ(threshold=0.5),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(xs, t=t)
    G = discover_symmetries(model, x=xs, t=t)
    elements = [v for v in G.report.verdicts if v.kind == "discrete"]
    accepted = [v for v in elements if v.verdict == "symmetric"]
    assert accepted and all(
        0 < v.detectable_breaking <= DETECTABLE_BREAKING for v in accepted
    )
    assert all(v.to_dict()["detectable_breaking"] is not None for v in accepted)
    assert any(np.allclose(v.element, np.diag([-1.0, -1.0, 1.0])) for v in accepted)


J3 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
#: A rotation generator estimated 0.2 rad off (rotation_3d and the coupled
#: Hopf oscillators at 5 % noise): junk where J has zeros, 0.78 for a one.
OFF = np.array([[0.0, -1.0, -0.09], [0.78, 0.0, 0.05], [0.06, 0.0, 0.0]])


def _is_rotation(h):
    A = h.matrices[0]
    return h.dim == 1 and np.allclose(A / A[1, 0], J3, atol=1e-12, rtol=0)


def test_fine_snap_keeps_junk_that_the_coarse_one_removes():
    from symsindy.discover.snapping import COARSE_SNAP, exact_neighbours, snap

    noisy = LieAlgebra.from_matrices([OFF])
    assert not _is_rotation(snap(noisy))  # 0.09 and 0.06 are kept
    assert _is_rotation(snap(noisy, *COARSE_SNAP))
    found = exact_neighbours(noisy)
    assert len(found) == 2 and _is_rotation(found[1])
    # an exact generator has one neighbour, itself
    assert [
        _is_rotation(h) for h in exact_neighbours(LieAlgebra.from_matrices([J3]))
    ] == [True]


def test_proposals_skip_a_closure_beyond_the_candidates():
    """span{E01, E10} is not closed: snapping refuses it and its closure sl(2)
    leaves the candidates, so nothing is proposed."""
    from symsindy.discover.continuous import _proposals

    E01, E10 = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 0.0]])
    cands = LieAlgebra.from_matrices([E01, E10]).orthonormalized()
    assert _proposals(np.eye(2), cands) == []


def test_verdicts_name_the_tested_algebra():
    """The continuous verdicts say what was tested, not "trivial"."""
    C, lib = _exact("hopf")
    t = np.arange(0, 10, 0.01)
    sys = datasets.get_system("hopf")
    xs = datasets.simulate(sys, 3, t, noise=0.0, seed=0)
    xdot = [sys.rhs(x) for x in xs]
    G = discover_symmetries(C, library=lib, x=xs, x_dot=xdot, discrete=None)
    (accepted,) = [v for v in G.report.verdicts if v.verdict == "symmetric"]
    assert accepted.description == "rotation in the (x0, x1) plane"
    assert all(v.description != "trivial" for v in G.report.verdicts)
    # a single candidate: the search's last span (all of them) is tested too
    only = discover_symmetries(
        C, library=lib, x=xs, x_dot=xdot, candidates=LieAlgebra.so(2), discrete=None
    )
    assert only.dim == 1 and _span_residual(J, only.generators) < 1e-12


def test_proposals_include_the_coarse_neighbour():
    """The search proposes the exact rotation from a direction 0.1 rad off."""
    from symsindy.discover.continuous import _proposals

    cands = LieAlgebra.gl(3).orthonormalized()
    flat = cands.coefficients.reshape(cands.dim, -1)
    target = LieAlgebra.from_matrices([OFF]).coefficients.reshape(1, -1)
    rows = np.linalg.lstsq(flat.T, target.T, rcond=None)[0].T
    proposals = _proposals(rows, cands)
    assert any(p.is_exact and _is_rotation(p.algebra) for p in proposals)


def test_snap_refuses_a_span_that_is_not_closed():
    """span{E01, E10} is not a subalgebra (their bracket is diag(1, -1))."""
    from symsindy.discover.snapping import snap

    E01, E10 = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 0.0]])
    assert snap(LieAlgebra.from_matrices([E01 + 1e-4, E10])) is None


def test_lie_closure_adds_brackets_up_to_a_cap():
    from symsindy.discover.snapping import lie_closure

    E01, E10 = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 0.0]])
    closed = lie_closure(LieAlgebra.from_matrices([E01, E10]), max_dim=4)
    assert closed.dim == 3  # sl(2)
    np.testing.assert_allclose(_flat(closed) @ _flat(closed).T, np.eye(3), atol=1e-12)
    for A in (E01, E10, np.diag([1.0, -1.0])):
        assert _span_residual(A, closed.matrices) < 1e-12
    assert lie_closure(LieAlgebra.from_matrices([E01, E10]), max_dim=2) is None
    single = lie_closure(LieAlgebra.from_matrices([2 * J]), max_dim=4)
    assert single.dim == 1 and abs(np.linalg.norm(single.matrices) - 1) < 1e-12


def test_lie_closure_adds_two_new_brackets_in_one_round():
    """span{E10, E12, E01} in gl(3): one round brings E11 - E00 and E02; the
    closure is sl(2) on (x0, x1) with the ideal span{E02, E12}, dimension 5."""
    from symsindy.discover.snapping import lie_closure

    def unit(i, j):
        E = np.zeros((3, 3))
        E[i, j] = 1.0
        return E

    closed = lie_closure(
        LieAlgebra.from_matrices([unit(1, 0), unit(1, 2), unit(0, 1)]), max_dim=9
    )
    assert closed.dim == 5
    np.testing.assert_allclose(_flat(closed) @ _flat(closed).T, np.eye(5), atol=1e-12)
    expected = [unit(0, 1), unit(1, 0), unit(1, 2), unit(0, 2), unit(0, 0) - unit(1, 1)]
    for A in expected:
        assert _span_residual(A, closed.matrices) < 1e-12


def test_lie_closure_of_trivial_and_nonlinear_algebras():
    from symsindy.discover.snapping import lie_closure

    assert lie_closure(LieAlgebra.trivial(2), max_dim=4) is None
    nonlinear = LieAlgebra.polynomial(2, 2)
    assert lie_closure(nonlinear, max_dim=100) is nonlinear
    # a linear algebra written at degree 2 keeps its degree
    at2 = LieAlgebra.so(2).with_degree(2)
    closed = lie_closure(at2, max_dim=4)
    assert closed.degree == 2 and closed.dim == 1 and closed.is_linear


@pytest.mark.parametrize(
    "eps, method, dim",
    [
        (0.05, "tolerance", 0),  # relative breaking 0.028 > DEFAULT_TOL = 0.02
        (1e-6, "tolerance", 1),
        (1e-6, "exact", 0),  # exact models: 1e-6 is a breaking
        (0.0, "exact", 1),
    ],
)
def test_tolerances_of_the_coefficient_rules(eps, method, dim):
    """Hopf plus eps x0^2 in x0': L_J of the extra term has norm eps sqrt(5/2)."""
    import math

    from symsindy.tolerances import EXACT_MODEL_TOL

    C, lib = _exact("hopf")
    C = C.copy()
    C[0, lib.index([[2, 0]])[0]] += eps
    G = discover_symmetries(C, library=lib, discrete=None, method=method)
    assert G.dim == dim
    rel = G.report.relative_singular_values[-1]
    assert rel == pytest.approx(
        eps * np.sqrt(2.5) / np.linalg.norm(C), rel=1e-3, abs=1e-15
    )
    expected_tol = 0.02 if method == "tolerance" else EXACT_MODEL_TOL * np.sqrt(C.size)
    assert G.report.tol == pytest.approx(expected_tol)
    assert math.isnan(G.report.alpha)


def test_bootstrap_needs_the_training_data():
    C, lib = _exact("hopf")
    with pytest.raises(ValueError, match="n_bootstrap needs"):
        discover_symmetries(C, library=lib, n_bootstrap=2)


def test_bootstrap_replicates_find_the_same_rotation():
    """Refits on resampled rows: finite spectra, each replicate accepts so(2)."""
    model, xs, t = _noisy_model("hopf", 0.1)
    G = discover_symmetries(
        model, x=xs, t=t, discrete=None, n_bootstrap=3, rows="derivatives"
    )
    spectra = G.report.bootstrap_relative_singular_values
    assert spectra.shape == (3, 4) and np.all(np.isfinite(spectra))
    assert np.all(spectra[:, -1] < 0.05) and np.all(spectra[:, -2] > 0.5)
    assert G.report.bootstrap_dims.tolist() == [1, 1, 1]


def test_one_sample_point_is_enough_for_the_data_norm():
    C, lib = _exact("hopf")
    G = discover_symmetries(
        C, library=lib, discrete=None, x=np.array([[0.3, -0.4]]), inner_product="data"
    )
    assert G.report.inner_product == "data"


def test_discover_straight_from_trajectories():
    sys = datasets.get_system("hopf")
    t = np.arange(0, sys.t_end / 2, sys.dt)
    xs = datasets.simulate(sys, 3, t, noise=0.01, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = discover_symmetries(xs, t=t, threshold=0.1, discrete=None)
    assert G.report.method == "test" and G.report.inner_product == "data"
    assert G.dim == 1 and _span_residual(J, G.generators) < 1e-12


def test_fitted_model_without_its_data_falls_back_to_the_tolerance_rule():
    model, _, _ = _noisy_model("hopf", 0.1)
    with pytest.warns(UserWarning):
        G = discover_symmetries(model, discrete=None)
    assert G.report.method == "tolerance"
    assert G.dim == 1 and _span_residual(J, G.generators) < 1e-12


def test_an_explicit_tolerance_is_used_and_reported():
    """tol=0.05 accepts the Hopf rotation broken by eps = 0.05 (0.028 <= 0.05)."""
    C, lib = _exact("hopf")
    C = C.copy()
    C[0, lib.index([[2, 0]])[0]] += 0.05
    G = discover_symmetries(C, library=lib, discrete=None, tol=0.05)
    assert G.report.method == "tolerance" and G.report.tol == 0.05
    assert G.dim == 1


def test_bootstrap_of_a_model_without_its_data_is_refused():
    model, _, _ = _noisy_model("hopf", 0.1)
    with pytest.warns(UserWarning):
        with pytest.raises(ValueError, match="n_bootstrap needs"):
            discover_symmetries(model, discrete=None, n_bootstrap=2)


def test_bootstrap_under_the_tolerance_rule_records_spectra_only():
    model, xs, t = _noisy_model("hopf", 0.1)
    G = discover_symmetries(
        model, x=xs, t=t, discrete=None, method="tolerance", n_bootstrap=2
    )
    assert G.report.bootstrap_relative_singular_values.shape == (2, 4)
    assert G.report.bootstrap_dims is None


def test_coefficients_with_their_training_data_are_tested():
    """A bare coefficient matrix plus x and t: the rows are rebuilt and tested."""
    model, xs, t = _noisy_model("hopf", 0.1)
    C = np.asarray(model.coefficients())
    G = discover_symmetries(C, library=Monomials(2, 3), x=xs, t=t, discrete=None)
    assert G.report.method == "test"
    assert G.dim == 1 and _span_residual(J, G.generators) < 1e-12


def test_a_bias_free_model_without_data_is_measured_on_its_training_states():
    import pysindy as ps

    sys = datasets.get_system("hopf")
    t = np.arange(0, sys.t_end / 2, sys.dt)
    xs = datasets.simulate(sys, 3, t, noise=0.01, seed=1)
    model = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=3, include_bias=False),
        optimizer=ps.STLSQ(threshold=0.1),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(xs, t=t)
        G = discover_symmetries(model, discrete=None)
    assert G.report.inner_product == "data"


def test_a_fitted_symmetric_regressor_is_accepted():
    """Exact Hopf derivatives at random points: the regressor's model is Hopf."""
    from symsindy import SymmetricSINDyRegressor

    sys = datasets.get_system("hopf")
    x = np.random.default_rng(0).uniform(-1, 1, size=(200, 2))
    xdot = Monomials(2, 3).evaluate(x) @ sys.coefficients().T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = SymmetricSINDyRegressor(degree=3, threshold=0.01).fit(x, xdot)
    G = discover_symmetries(reg, discrete=None, method="exact")
    assert G.dim == 1 and _span_residual(J, G.generators) < 1e-10
