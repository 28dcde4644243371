"""Discovery against known symmetry groups of reference systems."""

import warnings

import numpy as np
import pysindy as ps
import pytest
from sklearn.pipeline import Pipeline

from symsindy import LieAlgebra, Monomials, SymmetryGroup, datasets, discover_symmetries
from symsindy.naming import describe_algebra


def _span_equal(a, b, tol=1e-8):
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    r = np.linalg.matrix_rank
    return r(a, tol) == r(b, tol) == r(np.vstack([a, b]), tol)


def _exact(name, **kw):
    sys = datasets.get_system(name, **kw)
    return sys, sys.coefficients(), Monomials(sys.n, sys.degree)


def test_harmonic_oscillator_has_rotation_and_scaling():
    sys, C, lib = _exact("damped_oscillator")
    G = discover_symmetries(C, library=lib, discrete=None)
    assert G.dim == 2
    assert _span_equal(G.generators, np.array([np.eye(2), [[0, -1], [1, 0]]]))
    assert "uniform scaling" in str(G) and "rotation in the (x0, x1) plane" in str(G)


def test_hopf_normal_form_has_only_the_rotation():
    sys, C, lib = _exact("hopf")
    G = discover_symmetries(C, library=lib)
    assert G.dim == 1
    assert _span_equal(G.generators, np.array([[[0, -1], [1, 0]]]))
    # Among signed permutations only the rotations by multiples of 90 degrees
    # hold; all lie in the continuous rotation group, so none is listed.
    assert G.report.discrete_order == 4
    assert G.discrete == []
    assert str(G) == "rotation in the (x0, x1) plane"


def test_lorenz_has_no_continuous_symmetry_and_one_reflection():
    sys, C, lib = _exact("lorenz")
    G = discover_symmetries(C, library=lib)
    assert G.dim == 0
    assert G.order == 2
    np.testing.assert_array_equal(G.discrete[0], np.diag([-1.0, -1.0, 1.0]))
    assert "(x0, x1, x2) -> (-x0, -x1, x2)" in str(G)


def test_growth_system_has_weighted_scaling():
    sys, C, lib = _exact("growth")
    G = discover_symmetries(C, library=lib)
    assert G.dim == 1
    assert _span_equal(G.generators, np.diag([2.0, 1.0])[None])
    assert "weights (2, 1)" in str(G)
    assert any(np.allclose(R, np.diag([1.0, -1.0])) for R in G.elements())


def test_linear_decay_has_all_of_gl3():
    sys, C, lib = _exact("linear_decay")
    G = discover_symmetries(C, library=lib, discrete=None)
    assert G.dim == 9
    assert str(G).startswith("gl(3)")


def test_rotor_has_nonabelian_so3_with_levi_civita_structure():
    sys, C, lib = _exact("rotor3")
    G = discover_symmetries(C, library=lib)
    assert G.dim == 3
    assert _span_equal(G.generators, LieAlgebra.so(3).matrices)
    assert G.report.closure_residual < 1e-10
    consts = G.report.structure_constants
    assert np.abs(consts).max() > 0.5  # non-abelian
    assert "so(3) acting on (x0, x1, x2)" in str(G)
    # All 48 signed permutations are orthogonal; the 24 rotations among them lie
    # in SO(3), so one reflection generates the rest: the group is O(3).
    assert G.report.discrete_order == 48
    assert len(G.discrete) == 1 and np.isclose(np.linalg.det(G.discrete[0]), -1)
    elements = SymmetryGroup(
        G.algebra,
        discrete=G.elements()[1:]
        + [np.eye(3)[[1, 2, 0]], np.eye(3)[[1, 0, 2]] @ np.diag([1.0, 1, -1])],
    )
    assert sum(elements.in_identity_component()) == 24


def test_six_dimensional_ring_of_oscillators_has_common_rotation_and_shift():
    sys = datasets.get_system("coupled_hopf", k=3)
    shift = sys.symmetry.discrete[0]
    G = discover_symmetries(
        sys.coefficients(),
        library=Monomials(6, 3),
        discrete=[shift, shift.T, np.eye(6)],
    )
    assert G.dim == 1
    assert _span_equal(G.generators, sys.symmetry.algebra.matrices)
    assert G.order == 3


def test_polynomial_candidates_find_nonlinear_symmetries():
    """F = (1, 0) commutes with xi iff d(xi)/dx0 = 0, i.e. xi = (a(x1), b(x1)).

    Within degree-2 candidate fields that is span{x1^k d/dx0, x1^k d/dx1 : k <= 2}
    (dim 6). The truncation is not closed ([x1^2 d/dx0, x1^2 d/dx1] has degree 3),
    which discovery reports with a warning.
    """
    C = np.array([[1.0, 0, 0], [0, 0, 0]])
    with pytest.warns(UserWarning, match="not closed"):
        G = discover_symmetries(
            C,
            library=Monomials(2, 1),
            candidates=LieAlgebra.polynomial(2, 2),
            discrete=None,
        )
    assert G.dim == 6
    assert G.report.closure_residual > 0.1
    basis = Monomials(2, 2)
    expected = np.zeros((6, 2, len(basis)))
    for k in range(3):
        expected[k, 0, basis.index([[0, k]])[0]] = 1
        expected[3 + k, 1, basis.index([[0, k]])[0]] = 1
    assert _span_equal(G.algebra.coefficients, expected)


def test_affine_candidates_on_constant_field_give_closed_subalgebra():
    C = np.array([[1.0, 0, 0], [0, 0, 0]])
    G = discover_symmetries(
        C, library=Monomials(2, 1), candidates=LieAlgebra.affine(2), discrete=None
    )
    assert G.dim == 4  # d/dx0, x1 d/dx0, d/dx1, x1 d/dx1
    assert G.report.closure_residual < 1e-12


def test_affine_candidates_find_translation_symmetry():
    # x' = y - x^0 ... the field F = (y, -x) shifted: F(x) = (x1 - 1, -(x0 - 2))
    C = np.array([[-1.0, 0.0, 1.0], [2.0, -1.0, 0.0]])
    G = discover_symmetries(
        C, library=Monomials(2, 1), candidates=LieAlgebra.affine(2), discrete=None
    )
    # Rotation and scaling about the centre (2, 1), with no pure translation.
    assert G.dim == 2
    x = np.array([[2.0, 1.0]])
    assert np.allclose(G.algebra.evaluate(x), 0)  # both fix the centre


def test_discovered_basis_is_orthonormal_and_spectrum_sorted():
    sys, C, lib = _exact("damped_oscillator")
    G = discover_symmetries(C, library=lib, discrete=None)
    flat = G.algebra.coefficients.reshape(G.dim, -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(G.dim), atol=1e-12)
    s = G.report.singular_values
    assert np.all(np.diff(s) <= 1e-15)
    assert len(s) == 4


@pytest.fixture(scope="module")
def noisy_fits():
    out = {}
    for name, thr in (("hopf", 0.1), ("lorenz", 0.5)):
        sys = datasets.get_system(name)
        t = np.arange(0, sys.t_end, sys.dt)
        xs = datasets.simulate(sys, 8, t, noise=0.01, seed=1)
        model = ps.SINDy(
            feature_library=ps.PolynomialLibrary(degree=3),
            optimizer=ps.STLSQ(threshold=thr),
            differentiation_method=ps.SmoothedFiniteDifference(),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(xs, t=t)
        out[name] = (model, xs, t)
    return out


@pytest.mark.slow
def test_noisy_hopf_fit_recovers_rotation_with_defaults(noisy_fits):
    model, _, _ = noisy_fits["hopf"]
    G = discover_symmetries(model)
    assert G.report.inner_product == "data"
    assert G.dim == 1
    assert _span_equal(G.generators, np.array([[[0, -1], [1, 0]]]), tol=1e-2)


def test_noisy_lorenz_fit_recovers_reflection_with_defaults(noisy_fits):
    model, _, _ = noisy_fits["lorenz"]
    G = discover_symmetries(model)
    assert G.dim == 0
    assert G.order == 2
    assert np.allclose(G.discrete[0], np.diag([-1.0, -1.0, 1.0]))


def test_answer_is_invariant_to_rescaling_time_and_data():
    """F -> c F (time unit) and x -> s x (units of the data) keep the spectrum."""
    sys, C, lib = _exact("hopf", eps=0.05)
    x = np.vstack(datasets.simulate("hopf", 4, np.linspace(0, 6, 300), seed=2))
    ref = discover_symmetries(C, library=lib, x=x, discrete=None)
    s = 7.0
    scale = s ** (1 - lib.degrees)  # F_s(x) = s F(x / s)
    C_scaled = 3.0 * C * scale[None, :]
    other = discover_symmetries(C_scaled, library=lib, x=s * x, discrete=None)
    np.testing.assert_allclose(
        other.report.relative_singular_values,
        ref.report.relative_singular_values,
        rtol=1e-8,
    )


@pytest.mark.slow
def test_broken_hopf_rotation_singular_value_grows_and_flips_at_documented_eps():
    """sigma_rot/||F|| = 0.602 eps on this data, so with tol = 0.02 the algebra
    drops from dim 1 to dim 0 between eps = 0.03 and eps = 0.04."""
    x = np.vstack(datasets.simulate("hopf", 8, np.arange(0, 8, 0.01), seed=0))
    values, dims = [], []
    for eps in (0.0, 0.01, 0.03, 0.04, 0.1, 0.3):
        sys, C, lib = _exact("hopf", eps=eps)
        G = discover_symmetries(C, library=lib, x=x, discrete=None, tol=2e-2)
        values.append(G.report.relative_singular_values[-1])
        dims.append(G.dim)
    assert np.all(np.diff(values) > 0)
    assert dims == [1, 1, 1, 0, 0, 0]


def test_discovery_accepts_pipelines_and_plain_libraries():
    sys = datasets.get_system("hopf")
    xs = datasets.simulate(sys, 4, np.arange(0, 5, 0.01), seed=0)
    x = np.vstack(xs)
    xdot = sys.rhs(x)
    pipe = Pipeline([("lib", ps.PolynomialLibrary(degree=3)), ("opt", ps.STLSQ(0.1))])
    pipe.fit(x, xdot)
    G = discover_symmetries(pipe, discrete=None)
    assert G.dim == 1


@pytest.mark.slow
def test_discover_from_trajectories_in_one_call_with_bootstrap():
    sys = datasets.get_system("hopf")
    t = np.arange(0, sys.t_end, sys.dt)
    xs = datasets.simulate(sys, 6, t, noise=0.01, seed=0)
    G = discover_symmetries(
        xs, t=t[1] - t[0], threshold=0.1, n_bootstrap=5, discrete=None
    )
    assert G.dim == 1
    boot = G.report.bootstrap_relative_singular_values
    assert boot.shape == (5, 4)
    assert G.report.bootstrap_dim_frequency == {1: 1.0}
    assert "bootstrap: dim 1: 100%" in G.summary()


def test_group_plot_draws_spectrum_and_threshold():
    import matplotlib.pyplot as plt

    sys, C, lib = _exact("damped_oscillator")
    fig = discover_symmetries(C, library=lib, discrete=None).plot()
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert len(ax.lines) >= 1
    plt.close(fig)


def test_bad_input_gets_clear_errors():
    sys, C, lib = _exact("hopf")
    with pytest.raises(ValueError, match="not fitted"):
        discover_symmetries(ps.SINDy())
    with pytest.raises(ValueError, match="acts on R\\^3"):
        discover_symmetries(C, library=lib, candidates=LieAlgebra.gl(3))
    bad = C.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        discover_symmetries(bad, library=lib)
    with pytest.raises(ValueError, match="library="):
        discover_symmetries(C)
    with pytest.raises(ValueError, match="NaN or inf"):
        discover_symmetries(C, library=lib, x=np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(TypeError, match="PolynomialLibrary"):
        discover_symmetries(C, library=ps.FourierLibrary())
    with pytest.raises(ValueError, match="linearly dependent"):
        discover_symmetries(
            C, library=lib, candidates=LieAlgebra.so(2) + LieAlgebra.so(2)
        )
    with pytest.raises(ValueError, match="needs 2 targets"):
        discover_symmetries(C[:1], library=lib)


def test_describe_names_sl_and_partial_rotations():
    assert describe_algebra(LieAlgebra.sl(3))[0].startswith("sl(3)")
    g = LieAlgebra.so(2).embed([1, 3], 4)
    assert describe_algebra(g) == ["rotation in the (x1, x3) plane"]
    group = SymmetryGroup(n=2)
    assert str(group) == "no continuous symmetry"


@pytest.mark.slow
def test_parallel_bootstrap_reproduces_serial():
    sys = datasets.get_system("hopf")
    t = np.arange(0, 4, 0.01)
    xs = datasets.simulate(sys, 4, t, noise=0.01, seed=5)
    kw = dict(t=t[1] - t[0], threshold=0.1, n_bootstrap=4, discrete=None)
    serial = discover_symmetries(xs, **kw)
    parallel = discover_symmetries(xs, n_jobs=2, **kw)
    np.testing.assert_allclose(
        parallel.report.bootstrap_relative_singular_values,
        serial.report.bootstrap_relative_singular_values,
    )


def test_vectorised_signed_permutation_search_matches_general_substitution():
    from symsindy.discover import _discrete_residuals, candidate_discrete_elements

    rng = np.random.default_rng(3)
    basis = Monomials(3, 3)
    coef = rng.normal(size=(3, len(basis)))
    x = rng.normal(size=(30, 3))
    cands = candidate_discrete_elements(3)
    fast = _discrete_residuals(coef, basis, cands, "vector", x, "data")
    # A non-permutation candidate forces the general sparse path for all of them.
    rotation = np.array([[0.6, -0.8, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0]])
    slow = _discrete_residuals(coef, basis, cands + [rotation], "vector", x, "data")
    np.testing.assert_allclose(
        [r for _, r in fast], [r for _, r in slow[:-1]], rtol=1e-12
    )


def test_balanced_neighbours_find_a_rotation_in_other_units():
    """D J D^-1 snaps to J in balanced coordinates, with D recovered up to
    scale; balanced or non-linear algebras get no balanced neighbour."""
    from symsindy.discover.snapping import balanced_neighbours, rescaled

    D = np.diag([1.0, 40.0])
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    rotation = D @ J @ np.linalg.inv(D)
    noisy = rotation + np.array([[2e-3, 0.0], [0.0, -1e-3]])
    found, d = balanced_neighbours(LieAlgebra.from_matrices([noisy]))
    np.testing.assert_allclose(d[1] / d[0], 40.0, rtol=1e-3)
    balanced = [h.matrices[0] for h in found]
    assert any(np.allclose(np.abs(B), np.abs(J) / np.sqrt(2)) for B in balanced)
    back = rescaled(found[0], np.diag(D), 1).matrices[0]
    cosine = np.sum(back * rotation) / np.linalg.norm(back) / np.linalg.norm(rotation)
    assert abs(cosine) == pytest.approx(1.0, abs=1e-12)
    assert balanced_neighbours(LieAlgebra.so(2))[0] == []
    found, d = balanced_neighbours(LieAlgebra.translations(2))
    assert found == [] and np.array_equal(d, np.ones(2))
