"""Trajectory stacking and derivatives: irregular times, smoothed states, errors."""

import numpy as np
import pysindy as ps
import pytest
from helpers import duffing_trajectory

from symsindy import (
    LieAlgebra,
    LiePolynomialLibrary,
    SymmetricSINDyRegressor,
    datasets,
)
from symsindy.trajectories import (
    SavitzkyGolayDifference,
    fit_sindy,
    stack_trajectories,
)

# Damped Duffing oscillator x' = y, y' = -x - 0.1 y - x^3, in library order
# [1, x, y, x^2, xy, y^2, x^3, x^2 y, x y^2, y^3].
DUFFING = np.zeros((2, 10))
DUFFING[0, 2] = 1.0
DUFFING[1, [1, 2, 6]] = [-1.0, -0.1, -1.0]


def _duffing(times):
    rng = np.random.default_rng(1)
    trajs = []
    for tt in times:
        trajs.append(duffing_trajectory(tt, rng.uniform(-2, 2, 2)))
    return trajs


def _coef_error(model):
    coef = np.asarray(model.coefficients())
    return np.abs(coef - DUFFING).max() / np.abs(DUFFING).max()


def test_jittered_time_stamps_do_not_bias_the_coefficients():
    """+-20 % jitter of dt on exact data: every coefficient within 1 % (not 5 %)."""
    rng = np.random.default_rng(0)
    dt = 0.01
    times = [np.arange(0, 8, dt) + rng.uniform(-0.2, 0.2, 800) * dt for _ in range(3)]
    model = fit_sindy(_duffing(times), times, ps.STLSQ(threshold=0.05), 3)
    assert _coef_error(model) < 0.01


def test_random_time_stamps_recover_the_exact_model():
    rng = np.random.default_rng(2)
    times = [np.sort(rng.uniform(0, 8, 800)) for _ in range(3)]
    model = fit_sindy(_duffing(times), times, ps.STLSQ(threshold=0.05), 3)
    assert _coef_error(model) < 0.01
    assert np.count_nonzero(model.coefficients()) == 4


def test_even_sampling_reproduces_pysindys_smoothed_finite_difference():
    t = np.arange(0, 3, 0.01)
    (x,) = datasets.simulate("hopf", 1, t, noise=0.05, seed=0)
    ours = SavitzkyGolayDifference()
    np.testing.assert_array_equal(ours(x, t), ps.SmoothedFiniteDifference()(x, t))
    np.testing.assert_allclose(ours(x, 0.01), ours(x, t), rtol=1e-10, atol=1e-10)


def test_irregular_smoothing_is_exact_on_cubics():
    t = np.sort(np.random.default_rng(3).uniform(0, 2, 60))
    x = np.stack([1 - 2 * t + t**3, t**2], axis=1)
    diff = SavitzkyGolayDifference()
    diff(x, t)
    np.testing.assert_allclose(diff.smoothed_x_, x, atol=1e-10)


def test_stacked_smoothed_states_reproduce_the_sindy_fit():
    """The documented fit(X, y) path regresses on the same data as ps.SINDy."""
    t = np.arange(0, 6, 0.01)
    xs = datasets.simulate("hopf", 4, t, noise=0.2, seed=0)
    sindy = fit_sindy(xs, t, ps.STLSQ(threshold=0.1), 3)
    X, Y, _ = stack_trajectories(xs, t)
    lib = LiePolynomialLibrary(degree=3)
    stlsq = ps.STLSQ(threshold=0.1).fit(np.asarray(lib.fit_transform(X)), Y)
    np.testing.assert_allclose(stlsq.coef_, sindy.coefficients(), atol=1e-12)


@pytest.mark.slow
def test_regressor_on_smoothed_states_beats_raw_states_at_20_percent_noise():
    """Held-out field error of the documented fit(X, y) path at 20 % noise."""
    t = np.arange(0, 8, 0.01)
    xs = datasets.simulate("hopf", 10, t, noise=0.2, seed=0)
    clean = np.vstack(datasets.simulate("hopf", 10, t, seed=0))
    f_true = datasets.get_system("hopf").rhs(clean)
    errors = {}
    for states in ("smoothed", "raw"):
        X, Y, _ = stack_trajectories(xs, t, states=states)
        reg = SymmetricSINDyRegressor(symmetry=LieAlgebra.so(2), threshold=0.1)
        f = reg.fit(X, Y).predict(clean)
        errors[states] = np.linalg.norm(f - f_true) / np.linalg.norm(f_true)
    np.testing.assert_array_equal(
        stack_trajectories(xs, t, states="raw")[0], np.vstack(xs)
    )
    assert errors["smoothed"] < 0.1 < errors["raw"]


@pytest.mark.parametrize(
    "times, message",
    [
        (np.r_[0.0, 0.1, 0.1, np.arange(3, 20) * 0.1], "sample 2 has t = 0.1"),
        (np.r_[0.0, 0.2, 0.1, np.arange(3, 20) * 0.1], "strictly increasing"),
        (np.arange(19) * 0.1, "20 samples but"),
    ],
)
def test_bad_times_name_the_trajectory_and_sample(times, message):
    with pytest.raises(ValueError, match=message):
        stack_trajectories(np.zeros((20, 2)), times)


def test_short_trajectory_names_the_window():
    with pytest.raises(ValueError, match="trajectory 1 has 6 samples.*window_length"):
        fit_sindy([np.ones((20, 2)), np.ones((6, 2))], 0.1, ps.STLSQ())
    with pytest.raises(ValueError, match="states must be"):
        stack_trajectories(np.ones((20, 2)), 0.1, states="denoised")
