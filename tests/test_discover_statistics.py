"""Discovery decided by a test: the targets of the calibrated-confidence design."""

import warnings

import numpy as np
import pysindy as ps
import pytest

from symsindy import (
    EquivariantSTLSQ,
    LiePolynomialLibrary,
    Monomials,
    datasets,
    discover_symmetries,
)
from symsindy.inference import (
    DERIVATIVE_BIAS_MARGIN,
    estimate_noise,
    signal_test,
)
from symsindy.regression_data import (
    integral_data,
    regression_data,
    without_edge_rows,
)


def _fit(x, x_dot=None, t=1.0, threshold=0.01):
    model = ps.SINDy(
        feature_library=LiePolynomialLibrary(degree=3),
        optimizer=ps.STLSQ(threshold=threshold, alpha=0.0),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(x, t=t, x_dot=x_dot)


def _points(sys, n=400, seed=0):
    x = np.random.default_rng(seed).uniform(-1.5, 1.5, size=(n, sys.n))
    return x, sys.rhs(x)


@pytest.mark.parametrize(
    "name", ["damped_oscillator", "hopf", "growth", "lorenz", "linear_decay", "rotor3"]
)
def test_exact_derivatives_give_the_known_group(name):
    """Exact data: the test agrees with the known symmetry group of each system."""
    sys = datasets.get_system(name)
    x, xdot = _points(sys)
    G = discover_symmetries(_fit(x, xdot), x=x, x_dot=xdot)
    assert G.report.method == "test"
    assert G.dim == sys.symmetry.dim
    expected_order = len(
        [R for R in datasets.get_system(name).symmetry.finite_group().elements()]
    )
    assert G.report.discrete_order >= expected_order
    # Every reported algebra is closed under the bracket.
    assert G.algebra.closure_residual() <= 1e-8
    # What was reported is what was tested, and it is what enforcing gives.
    assert G.report.group_test is None or G.report.group_test.accepted


def _hopf_round_trip(rows):
    sys = datasets.get_system("hopf")
    t = np.arange(0, 8, 0.01)
    xs = datasets.simulate(sys, 6, t, noise=0.02, seed=0)
    model = _fit(xs, t=t, threshold=0.1)
    G = discover_symmetries(model, x=xs, t=t, discrete=None, rows=rows)
    assert G.dim == 1 and G.report.snapped
    enforced = ps.SINDy(
        feature_library=LiePolynomialLibrary(degree=3),
        optimizer=EquivariantSTLSQ(G, threshold=0.0, alpha=0.0),
        differentiation_method=ps.SmoothedFiniteDifference(),
    ).fit(xs, t=t)
    coef = np.asarray(enforced.optimizer.coef_)
    # Never a collapsed model, and close to the accepted refit.
    assert np.linalg.norm(coef) > 0.5 * np.linalg.norm(sys.coefficients(3))
    np.testing.assert_allclose(coef, G.report.group_test.coef, atol=5e-2)
    return sys, xs, t, model, G


def _refit_on(rows, G):
    # Integral rows are not monomials of the states: name the library.
    opt = EquivariantSTLSQ(G, library=Monomials(2, 3), threshold=0.0, alpha=0.0)
    return opt.fit(rows.theta, rows.targets).coef_


def test_enforcing_the_returned_group_on_the_tested_rows_reproduces_the_refit():
    """Round trip on noisy data with the default (integral) rows of the test.

    On the same rows, the unweighted and the test's weighted least squares
    differ only by the (nearly equal) weights of the two targets.
    """
    sys, xs, t, _, G = _hopf_round_trip("auto")
    rows = integral_data(Monomials(2, 3), xs, t)
    assert G.report.noise.n_samples == rows.n_samples
    refit = G.report.group_test.coef
    np.testing.assert_allclose(_refit_on(rows, G), refit, atol=2e-3)
    # Free of derivative bias, the refit is close to the true model.
    np.testing.assert_allclose(refit, sys.coefficients(3), atol=3e-2)


def test_derivative_rows_leave_out_the_biased_trajectory_ends():
    """With the user's own rows, the end rows of the smoothed derivatives are
    left out of the test, and enforcing on the tested rows reproduces it."""
    _, xs, t, model, G = _hopf_round_trip("derivatives")
    assert G.report.noise.edge_rows > 0
    rows, n_edges = without_edge_rows(regression_data(model, xs, t=t))
    assert n_edges == G.report.noise.edge_rows
    np.testing.assert_allclose(_refit_on(rows, G), G.report.group_test.coef, atol=2e-3)


def test_slightly_broken_hopf_flips_as_the_data_grow():
    """x' gets + 0.05 x^2: invisible in little noisy data, rejected in plenty."""
    sys = datasets.get_system("hopf", eps=0.05)
    rng = np.random.default_rng(0)
    verdicts = []
    for n in (60, 6000):
        x = rng.uniform(-1.5, 1.5, size=(n, 2))
        xdot = sys.rhs(x) + 0.3 * rng.normal(size=x.shape)
        G = discover_symmetries(
            _fit(x, xdot, threshold=0.0), x=x, x_dot=xdot, discrete=None
        )
        verdicts.append(G.dim)
    assert verdicts == [1, 0]


def test_pure_noise_is_undetermined_never_gl_n():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(300, 2))
    xdot = rng.normal(size=x.shape)
    G = discover_symmetries(_fit(x, xdot, threshold=0.0), x=x, x_dot=xdot)
    assert G.dim == 0
    assert G.report.signal_p_value > G.report.alpha
    assert G.report.verdicts and all(
        v.verdict == "undetermined" for v in G.report.verdicts
    )
    assert "undetermined" in G.summary()


def test_zero_model_fitted_to_data_is_not_all_of_gl_n():
    sys = datasets.get_system("hopf")
    x, xdot = _points(sys)
    zero = _fit(x, xdot, threshold=100.0)
    assert not np.any(zero.optimizer.coef_)
    G = discover_symmetries(zero, x=x, x_dot=xdot, discrete=None)
    assert G.dim == 0
    assert all(v.verdict == "undetermined" for v in G.report.verdicts)


def test_zero_model_has_no_discrete_group_and_says_why():
    """The exact data satisfy -I and the quarter turn (both in SO(2)); a zero
    model must not inherit them from the data's least-squares fit."""
    sys = datasets.get_system("hopf")
    x, xdot = _points(sys)
    zero = _fit(x, xdot, threshold=100.0)
    with pytest.warns(UserWarning, match="the model is zero.*undetermined"):
        G = discover_symmetries(zero, x=x, x_dot=xdot)
    assert G.dim == 0 and G.report.discrete_order == 1 and not G.discrete
    discrete = [v for v in G.report.verdicts if v.kind == "discrete"]
    assert discrete and all(v.element is not None for v in discrete)
    assert not any(np.array_equal(v.element, np.eye(2)) for v in discrete)
    assert all(v.verdict == "undetermined" for v in G.report.verdicts)
    assert {v.reason for v in G.report.verdicts} == {"the model is zero"}
    assert G.report.undecidable == "the model is zero"
    assert "the model is zero (it has every symmetry)" in G.summary()
    for v in G.report.verdicts:  # the statistics, and one verdict with its reason
        assert "rejected" not in v.sentence() and "consistent" not in v.sentence()
        assert v.sentence().endswith("; undetermined (the model is zero)")


@pytest.mark.parametrize("kind", ["white", "constant"])
def test_signal_test_on_integral_rows_is_calibrated(kind):
    """With noisy states the tests run on state-noise-corrected integral rows,
    whose quadratic form is 0 at the least-squares fit: the zero model must be
    tested through that form (the plain Y^T Y made pure noise 'signal' with
    p = 0, and discovery then accepted gl(2) on it). Pure noise (white states,
    or constant states plus noise: x' = 0) is rejected about alpha of the time.
    """
    basis = Monomials(2, 3)
    t = np.arange(400) * 0.01
    p = []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        noise = rng.normal(size=(4, 400, 2))
        start = 0.0 if kind == "white" else rng.normal(size=(4, 1, 2))
        xs = list(start + (1.0 if kind == "white" else 0.05) * noise)
        stats = integral_data(basis, xs, t).statistics()
        estimate = estimate_noise(stats, margin=DERIVATIVE_BIAS_MARGIN)
        p.append(signal_test(stats, estimate))
    rejected = int(np.sum(np.asarray(p) < 0.1))
    assert 8 <= rejected <= 32  # Binomial(200, 0.1): 20, beyond 3 sd otherwise


def test_noise_as_large_as_the_signal_is_undetermined_on_integral_rows():
    t = np.arange(0, 8, 0.01)
    rng = np.random.default_rng(0)
    white = [rng.normal(size=(800, 2)) for _ in range(6)]
    for xs in (white, datasets.simulate("hopf", 6, t, noise=3.0, seed=0)):
        G = discover_symmetries(xs, t=t)
        assert "integral rows" in G.report.noise.rows
        assert G.dim == 0 and G.report.discrete_order == 1
        assert G.report.signal_p_value > G.report.alpha
        assert all(v.verdict == "undetermined" for v in G.report.verdicts)
    # the same noise at 5 % of the states is signal enough
    G = discover_symmetries(datasets.simulate("hopf", 6, t, noise=0.05, seed=0), t=t)
    assert G.report.signal_p_value < 1e-12 and G.dim == 1


def test_answer_is_invariant_under_rescaling_states_and_time():
    sys = datasets.get_system("hopf")
    t = np.arange(0, 6, 0.01)
    xs = datasets.simulate(sys, 4, t, noise=0.01, seed=3)
    answers = []
    for s, c in [(1.0, 1.0), (1000.0, 1.0), (1.0, 60.0)]:
        scaled = [s * x for x in xs]
        model = _fit(scaled, t=c * t, threshold=0.0)
        G = discover_symmetries(model, x=scaled, t=c * t, discrete=None)
        answers.append((G.dim, G.report.group_test.statistic))
    assert [a[0] for a in answers] == [1, 1, 1]
    np.testing.assert_allclose([a[1] for a in answers], answers[0][1], rtol=1e-5)


def test_trajectories_mode_does_not_depend_on_the_units_of_time_or_states():
    """The model of trajectories is fitted in unit-free coordinates: with the
    absolute threshold, minutes instead of seconds removed every term."""
    t = np.arange(0, 8, 0.01)
    xs = datasets.simulate("hopf", 6, t, noise=0.01, seed=0)
    answers = []
    for c, s in [(1.0, 1.0), (60.0, 1.0), (1 / 3600, 1.0), (1.0, 1000.0)]:
        G = discover_symmetries([s * x for x in xs], t=c * t)
        answers.append((G.dim, G.report.discrete_order, G.report.group_test.statistic))
    assert [a[:2] for a in answers] == [(1, 4)] * 4
    np.testing.assert_allclose([a[2] for a in answers], answers[0][2], rtol=1e-6)


@pytest.mark.parametrize("factor", [1e-3, 0.01, 0.2, 5.0, 37.3, 1e3, 1e4])
def test_rotation_is_found_when_one_state_changes_units(factor):
    """y in other units: the rotation is generated by D J D^-1, D = diag(1, f),
    whose small entry no simple fraction is near (it snapped to 0, and the
    rotation was lost from a factor of 5 on). Found in balanced coordinates,
    with the scale ratio fitted; enforcing it on the same data keeps the model.
    """
    sys = datasets.get_system("hopf")
    t = np.arange(0, 8, 0.01)
    D = np.diag([1.0, factor])
    xs = [x @ D for x in datasets.simulate(sys, 6, t, noise=0.01, seed=0)]
    model = _fit(xs, t=t, threshold=0.0)
    G = discover_symmetries(model, x=xs, t=t, discrete=None)
    assert G.dim == 1
    A = G.algebra.matrices[0]
    truth = D @ np.array([[0.0, -1.0], [1.0, 0.0]]) @ np.linalg.inv(D)
    cosine = abs(np.sum(A * truth)) / (np.linalg.norm(A) * np.linalg.norm(truth))
    assert cosine > 1 - 1e-5
    # the aspect ratio is fitted to the data (well within the resolution)
    ratio = -A[1, 0] / A[0, 1]
    assert abs(ratio / factor**2 - 1) < 3e-3
    test = G.report.group_test
    assert test.accepted and test.dof == 14 and test.statistic < 30
    enforced = _fit(xs, t=t, threshold=0.0)
    enforced.optimizer = EquivariantSTLSQ(G, threshold=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enforced.fit(xs, t=t)
    linear = D @ sys.coefficients(3)[:, 1:3] @ np.linalg.inv(D)  # z = D x
    np.testing.assert_allclose(
        enforced.coefficients()[:, 1:3], linear, rtol=0.05, atol=0.05
    )


def test_report_quotes_statistic_p_value_and_effect_size():
    sys = datasets.get_system("lorenz")
    x, xdot = _points(sys, 300)
    G = discover_symmetries(_fit(x, xdot), x=x, x_dot=xdot)
    assert np.allclose(G.discrete[0], np.diag([-1.0, -1.0, 1.0]))
    text = G.summary()
    assert "likelihood-ratio" in text and "p = " in text and "residual by" in text
    data = G.report.to_dict()
    assert data["method"] == "test" and data["verdicts"]
    tested = [v for v in data["verdicts"] if "statistic" in v]
    assert all({"p_value", "dof", "relative_increase"} <= set(v) for v in tested)


def test_coefficients_without_data_are_taken_as_exact():
    sys = datasets.get_system("hopf", eps=1e-6)
    G = discover_symmetries(sys.coefficients(3), library=Monomials(2, 3), discrete=None)
    assert G.report.method == "exact" and G.dim == 0
    exact = discover_symmetries(
        datasets.get_system("hopf").coefficients(3),
        library=Monomials(2, 3),
        discrete=None,
    )
    assert exact.dim == 1


def test_bootstrap_uses_the_same_rows_as_the_main_fit():
    """Rigid body-like rotor at 5 % noise: replicates agree with the answer."""
    sys = datasets.get_system("hopf")
    t = np.arange(0, 8, 0.01)
    xs = datasets.simulate(sys, 6, t, noise=0.05, seed=4)
    model = _fit(xs, t=t, threshold=0.1)
    G = discover_symmetries(model, x=xs, t=t, discrete=None, n_bootstrap=4)
    freq = G.report.bootstrap_dim_frequency
    assert freq.get(G.dim, 0.0) >= 0.75


def test_bad_discrete_and_symmetry_arguments_name_what_was_expected():
    from symsindy import SymmetricSINDyRegressor

    C = datasets.get_system("hopf").coefficients(3)
    with pytest.raises(ValueError, match="discrete must be 'auto', None"):
        discover_symmetries(C, library=Monomials(2, 3), discrete="none")
    x = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(TypeError, match="the string 'so2'"):
        SymmetricSINDyRegressor(symmetry="so2").fit(x, x)


def test_data_on_the_limit_cycle_cannot_identify_the_model():
    """On the circle r = 1, r^2 x and x are the same function: undetermined."""
    sys = datasets.get_system("hopf")
    theta = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    x = np.column_stack([np.cos(theta), np.sin(theta)])
    xdot = sys.rhs(x)
    G = discover_symmetries(_fit(x, xdot), x=x, x_dot=xdot, discrete=None)
    assert G.dim == 0
    undetermined = [v for v in G.report.verdicts if v.verdict == "undetermined"]
    assert undetermined and all(
        v.detectable_breaking > 1e3 for v in undetermined if v.detectable_breaking
    )


def test_spectrum_plot_shows_the_tested_verdicts():
    import matplotlib.pyplot as plt

    from symsindy.plotting import plot_spectrum

    sys = datasets.get_system("hopf")
    x, xdot = _points(sys)
    G = discover_symmetries(_fit(x, xdot), x=x, x_dot=xdot, discrete=None)
    fig = plot_spectrum(G)
    ax = fig.axes[0]
    assert any("accepted: dim 1" in t.get_text() for t in ax.get_legend().get_texts())
    assert any("symmetric: T = " in t.get_text() for t in ax.texts)
    plt.close(fig)


def test_the_margin_is_zero_for_measured_derivatives_and_a_floor_for_computed_ones():
    sys = datasets.get_system("hopf")
    t = np.arange(0, 4, 0.01)
    xs = datasets.simulate(sys, 4, t, noise=0.01, seed=2)
    model = _fit(xs, t=t, threshold=0.1)
    x_dot = [sys.rhs(x) for x in xs]
    measured = discover_symmetries(model, x=xs, x_dot=x_dot, discrete=None)
    assert measured.report.noise.margin == 0.0
    assert measured.report.noise.rows == "samples"
    computed = discover_symmetries(model, x=xs, t=t, discrete=None)
    assert computed.report.noise.margin == 0.003
    assert computed.report.noise.rows.startswith("integral rows")
    chosen = discover_symmetries(model, x=xs, t=t, discrete=None, margin=0.0)
    assert chosen.report.noise.margin == 0.0
    with pytest.raises(ValueError, match="rows"):
        discover_symmetries(model, x=xs, t=t, rows="weak")
    with pytest.raises(ValueError, match="margin"):
        discover_symmetries(model, x=xs, t=t, margin=-1.0)


def test_short_data_keep_the_derivative_rows():
    """Two trajectories of 120 samples leave too few windows for the 10 cubic
    terms (80 rows of the shortest windows, 100 needed): the test runs on the
    240 derivative rows instead, unless integral rows are asked for."""
    sys = datasets.get_system("hopf")
    t = np.arange(0, 1.2, 0.01)
    xs = datasets.simulate(sys, 2, t, noise=0.01, seed=4)
    model = _fit(xs, t=t, threshold=0.1)
    auto = discover_symmetries(model, x=xs, t=t, discrete=None)
    assert auto.report.noise.rows == "derivative rows"
    forced = discover_symmetries(model, x=xs, t=t, discrete=None, rows="integral")
    assert forced.report.noise.rows.startswith("integral rows")
    assert forced.report.noise.n_samples == 2 * (120 // 3)


def test_untested_candidates_are_listed_up_to_sixteen_then_summed_up():
    """Pure noise in three states: all 48 signed permutations are undetermined,
    16 named one by one and the other 31 (all but the identity) in one line."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(400, 3))
    xdot = rng.normal(size=x.shape)
    G = discover_symmetries(_fit(x, xdot, threshold=0.0), x=x, x_dot=xdot)
    discrete = [v for v in G.report.verdicts if v.kind == "discrete"]
    assert all(v.verdict == "undetermined" for v in discrete)
    named = [v for v in discrete if v.element is not None]
    assert len(named) == 16 and len(discrete) == 17
    assert discrete[-1].description == "31 further candidates"
    why = "the derivatives are indistinguishable from noise"
    assert all(v.reason == why for v in discrete)
    assert discrete[-1].sentence().endswith(f"; undetermined ({why})")


def test_elements_implied_by_the_continuous_refit_are_not_tested_again():
    """Exact Hopf: +-I and +-J lie in SO(2), which the accepted refit already
    satisfies; they are held without an explicit test of their own."""
    sys = datasets.get_system("hopf")
    x, xdot = _points(sys)
    G = discover_symmetries(_fit(x, xdot), x=x, x_dot=xdot)
    assert G.dim == 1 and G.report.discrete_order == 4
    tested = [
        v.element
        for v in G.report.verdicts
        if v.kind == "discrete" and v.verdict == "symmetric"
    ]
    assert tested == []


def test_discrete_candidates_of_the_wrong_size_are_refused():
    sys = datasets.get_system("hopf")
    x, xdot = _points(sys)
    with pytest.raises(ValueError, match=r"\(2, 2\) matrices"):
        discover_symmetries(_fit(x, xdot), x=x, x_dot=xdot, discrete=[np.eye(3)])
