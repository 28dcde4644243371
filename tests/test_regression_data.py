"""The rows of the tests: integral form, end rows of numerical derivatives."""

import numpy as np
import pysindy as ps
import pytest
from scipy.integrate import solve_ivp

from symsindy import LieAlgebra, Monomials, SymmetryGroup, datasets, equivariant_basis
from symsindy.inference import estimate_noise, subspace_test
from symsindy.regression_data import (
    RegressionData,
    edge_rows,
    integral_data,
    regression_data,
)
from symsindy.weak_form import PARABOLA_EXACT_DEGREE, PARABOLA_MIN_WINDOW

HOPF = datasets.get_system("hopf")
T = np.arange(0, 8, 0.01)


def _accurate(x0):
    # DOP853 at 1e-13: the rows' own error, not the simulation's, is measured.
    sol = solve_ivp(
        lambda _, x: HOPF.rhs(x[None])[0],
        (0, T[-1]),
        x0,
        t_eval=T,
        method="DOP853",
        rtol=1e-13,
        atol=1e-13,
    )
    return sol.y.T


CLEAN = [_accurate(x0) for x0 in np.random.default_rng(0).uniform(-2, 2, (6, 2))]


def _relative_misfit(rows, coef):
    """RMS of ``targets - Theta C^T`` relative to the RMS of the targets."""
    misfit = rows.targets - rows.theta @ coef.T
    return np.sqrt(np.mean(misfit**2) / np.mean(rows.targets**2))


@pytest.mark.parametrize("test_function", ["parabola", "box"])
def test_integral_rows_satisfy_the_exact_model_without_derivative_bias(test_function):
    """Noise-free Hopf: the true coefficients fit the integral rows to the
    accuracy of the simulation, while the smoothed derivatives of the same
    states miss them by far more (their bias)."""
    truth = HOPF.coefficients(3)
    rows = integral_data(Monomials(2, 3), CLEAN, T, test_function=test_function)
    integral = _relative_misfit(rows, truth)
    assert integral < 1e-5  # quadrature error, mostly in the fast initial transient
    model = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=3),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    derivative = _relative_misfit(regression_data(model, CLEAN, t=T), truth)
    assert derivative > 100 * integral


def test_integral_rows_are_window_means_on_the_derivative_scale():
    """x = (cos t, sin t): the mean of x' over [a, b] is (x(b) - x(a)) / (b - a)
    and the features are the means of the monomials over the window."""
    t = np.linspace(0, 2 * np.pi, 401)
    x = np.stack([np.cos(t), np.sin(t)], axis=1)
    rows = integral_data(Monomials(2, 1, 0), x, t, window=20, test_function="box")
    a, b = t[0], t[20]
    np.testing.assert_allclose(
        rows.targets[0], [np.cos(b) - np.cos(a), np.sin(b) - np.sin(a)] / (b - a)
    )
    mean_cos = (np.sin(b) - np.sin(a)) / (b - a)
    np.testing.assert_allclose(rows.theta[0, :2], [1.0, mean_cos], rtol=1e-9)
    assert rows.targets_kind == "integral" and rows.n_samples == 19


def test_parabola_rows_are_exact_for_states_polynomial_in_time():
    """Targets are the parabola-weighted mean of x' over a window, exactly
    when x is a polynomial of degree PARABOLA_EXACT_DEGREE in time (not
    beyond); the features are that weighted mean of the library."""
    t = np.linspace(0.0, 1.0, 21) ** 1.3  # uneven steps
    s = 2 * t - 1
    q = np.gradient(t)
    q[[0, -1]] /= 2  # trapezoid weights
    phi = q * (1 - s**2) / np.sum(q * (1 - s**2))
    for degree in (PARABOLA_EXACT_DEGREE, PARABOLA_EXACT_DEGREE + 1):
        x = (s**degree + 0.5 * s)[:, None]
        slope = 2 * (degree * s ** (degree - 1) + 0.5)
        rows = integral_data(
            Monomials(1, 1, 0), x, t, window=20, test_function="parabola"
        )
        np.testing.assert_allclose(rows.theta[0], [1.0, phi @ x[:, 0]], rtol=1e-12)
        error = abs(rows.targets[0, 0] - phi @ slope)
        assert (error < 1e-12) if degree == PARABOLA_EXACT_DEGREE else (error > 1e-4)


def test_parabola_targets_carry_steps_over_six_times_less_noise():
    """The targets' noise variance (sum of squared target weights) against the
    box's 2 / duration^2: about steps / 6 less for long windows."""
    t = np.linspace(0, 1, 47)
    x = np.zeros((47, 1))
    box = integral_data(Monomials(1, 1), x, t, window=46, test_function="box")
    parabola = integral_data(Monomials(1, 1), x, t, window=46)
    ratio = np.sum(box.state_noise.target_weights**2) / np.sum(
        parabola.state_noise.target_weights**2
    )
    assert 0.9 * 46 / 6 < ratio < 1.1 * 46 / 6


def test_auto_uses_the_parabola_from_its_minimum_window():
    t = np.linspace(0, 1, 200)
    x = np.sin(3 * t)[:, None]
    for window in (PARABOLA_MIN_WINDOW - 2, PARABOLA_MIN_WINDOW):
        rows = integral_data(Monomials(1, 1), x, t, window=window)
        interior = rows.state_noise.target_weights[0, 1:-1]
        assert np.any(interior) == (window >= PARABOLA_MIN_WINDOW)
    with pytest.raises(ValueError, match="test_function"):
        integral_data(Monomials(1, 1), x, t, test_function="hat")
    with pytest.raises(ValueError, match="parabola.*got 8"):
        integral_data(Monomials(1, 1), x, t, window=8, test_function="parabola")


def test_windows_longer_than_the_data_and_bad_times_are_refused():
    from symsindy.weak_form import box_weights, parabola_weights

    x = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="window of 19 steps.*longest has 10"):
        integral_data(Monomials(2, 2), x, 0.1, window=19)
    repeated = np.linspace(0, 1, 31)[None]
    repeated[0, 5] = repeated[0, 4]
    for weights in (box_weights, parabola_weights):
        with pytest.raises(ValueError, match="strictly increasing"):
            weights(repeated)
        with pytest.raises(ValueError, match="shape"):
            weights(np.linspace(0, 1, 31))
    with pytest.raises(ValueError, match="n_window >= 10"):
        parabola_weights(np.linspace(0, 1, 9)[None])


def test_the_default_window_is_short_against_the_motion():
    """Hopf at 628 samples per period allows long windows; 25 samples do not."""
    lib = Monomials(2, 3)
    dense = integral_data(lib, CLEAN, T)
    sparse_t = T[::25]
    sparse = integral_data(lib, [x[::25] for x in CLEAN], sparse_t)
    steps_dense = len(T) * len(CLEAN) / dense.n_samples
    steps_sparse = len(sparse_t) * len(CLEAN) / sparse.n_samples
    assert steps_dense > 20 and steps_sparse < 4


def test_window_is_validated():
    with pytest.raises(ValueError, match="window"):
        integral_data(Monomials(2, 3), CLEAN, T, window=1)


def test_integral_test_of_a_true_symmetry_is_calibrated():
    """Rotation-symmetric Hopf with 2 % state noise, 300 noise draws: the
    likelihood-ratio test on integral rows (no margin) rejects the true
    rotation at about the nominal rate, and the (broken) scaling x -> 2x
    always."""
    lib = Monomials(2, 3)
    rotation = equivariant_basis(lib, SymmetryGroup(LieAlgebra.so(2))).Q
    scaling = equivariant_basis(lib, SymmetryGroup(LieAlgebra.scaling(2))).Q
    scale = np.sqrt(np.mean(np.vstack(CLEAN) ** 2, axis=0))
    rng = np.random.default_rng(0)
    p_rotation, p_scaling = [], []
    for _ in range(300):
        noisy = [x + 0.02 * scale * rng.normal(size=x.shape) for x in CLEAN]
        stats = integral_data(lib, noisy, T, window=20).statistics()
        noise = estimate_noise(stats)
        p_rotation.append(subspace_test(stats, rotation, noise).p_value)
        p_scaling.append(subspace_test(stats, scaling, noise).p_value)
    rate = np.mean(np.array(p_rotation) < 0.1)
    assert 0.03 <= rate <= 0.15
    assert np.max(p_scaling) < 1e-6


def _rows(n_traj=4, length=400, inflated=0, factor=1.0, seed=0):
    rng = np.random.default_rng(seed)
    n = n_traj * length
    distance = np.tile(np.minimum(np.arange(length), np.arange(length)[::-1]), n_traj)
    residuals = rng.normal(size=(n, 2))
    residuals[distance < inflated] *= factor
    data = RegressionData(
        np.zeros((n, 1)),
        np.zeros((n, 2)),
        np.repeat(np.arange(n_traj), length),
        "derivatives",
        distance,
    )
    return data, residuals, distance


def test_edge_rows_finds_exactly_the_inflated_ends():
    data, residuals, distance = _rows(inflated=7, factor=10.0)
    found = edge_rows(data, residuals)
    np.testing.assert_array_equal(found, np.flatnonzero(distance < 7))


def test_edge_rows_leaves_homoscedastic_and_measured_rows_alone():
    data, residuals, _ = _rows()
    assert edge_rows(data, residuals).size == 0
    data, residuals, _ = _rows(inflated=7, factor=10.0)
    data.targets_kind = "measured"
    assert edge_rows(data, residuals).size == 0


def test_bootstrap_draws_inflate_the_noise_by_their_duplication():
    """Rows drawn (2, 1, 0) times: the statistic's noise grows by (4 + 1) / 3."""
    from symsindy.discover.bootstrap import _draw_tau

    tau = _draw_tau(np.array([1.0, 2.0]), np.array([0, 0, 1]))
    np.testing.assert_allclose(tau, [5 / 3, 10 / 3])
    assert _draw_tau(None, np.array([0, 1])) is None


def test_integral_rows_handle_irregular_times_per_trajectory():
    """x' = -x sampled at irregular times (two trajectories, their own times):
    Simpson's rule on uneven steps still gives the coefficient to 1e-6."""
    rng = np.random.default_rng(2)
    times = [np.cumsum(rng.uniform(0.005, 0.015, size=300)) for _ in range(2)]
    xs = [np.exp(-t)[:, None] * x0 for t, x0 in zip(times, (1.0, -2.0), strict=True)]
    rows = integral_data(Monomials(1, 1, 1), xs, times, window=10)
    coef = np.linalg.lstsq(rows.theta, rows.targets, rcond=None)[0]
    assert coef[0, 0] == pytest.approx(-1.0, abs=1e-6)
    assert set(rows.trajectory_ids.tolist()) == {0, 1}


def test_a_single_inflated_end_row_is_found():
    """One trajectory end dropped (NaN rows): distance 0 has a single row."""
    data, residuals, distance = _rows(n_traj=1, inflated=1, factor=10.0)
    keep = np.arange(1, len(distance))  # the first row is gone
    data.theta, data.targets = data.theta[keep], data.targets[keep]
    data.trajectory_ids, data.edge_distance = data.trajectory_ids[keep], distance[keep]
    found = edge_rows(data, residuals[keep])
    np.testing.assert_array_equal(found, [len(keep) - 1])


def test_a_target_without_residual_does_not_hide_the_ends_of_another():
    data, residuals, distance = _rows(inflated=5, factor=10.0)
    residuals[:, 1] = 0.0
    np.testing.assert_array_equal(
        edge_rows(data, residuals), np.flatnonzero(distance < 5)
    )


def test_an_odd_window_is_rounded_up_to_an_even_one():
    t = np.linspace(0, 1, 111)
    x = np.exp(-t)[:, None]
    rows = integral_data(Monomials(1, 1, 1), x, t, window=9)
    assert rows.n_samples == 111 // 11


ROTATION = SymmetryGroup(
    LieAlgebra.from_matrices([np.array([[0.0, -1.0], [1.0, 0.0]])])
)


def _rotation_p_values(eps, noise, seeds, test_function):
    """p-values of the Hopf rotation on six noisy runs of Hopf + eps x0^2,
    tested exactly (margin 0)."""
    basis = Monomials(2, 3)
    Q = equivariant_basis(basis, ROTATION).Q
    system = datasets.get_system("hopf", eps=eps)
    t = np.arange(0, system.t_end, system.dt)
    clean = datasets.simulate(system, 6, t, seed=0)
    scale = np.vstack(clean).std(axis=0)
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        noisy = [x + noise * scale * rng.normal(size=x.shape) for x in clean]
        stats = integral_data(basis, noisy, t, test_function=test_function).statistics()
        out.append(subspace_test(stats, Q, estimate_noise(stats)).p_value)
    return np.array(out)


def test_parabola_rows_find_a_breaking_the_box_rows_miss():
    """Hopf + 0.01 x0^2 at 1 % noise (46-step windows): the rotation is
    rejected at 0.01 in most draws with the parabola, in few with the box."""
    parabola = _rotation_p_values(0.01, 0.01, range(10), "parabola")
    box = _rotation_p_values(0.01, 0.01, range(10), "box")
    assert np.sum(parabola < 0.01) >= 8 and np.sum(box < 0.01) <= 3


def test_parabola_rows_reject_a_true_rotation_at_the_nominal_rate():
    p = _rotation_p_values(0.0, 0.05, range(100, 180), "parabola")
    assert 0.04 <= np.mean(p < 0.1) <= 0.18
