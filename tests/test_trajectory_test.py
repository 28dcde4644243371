"""The check of accepted symmetries on the measured runs (shooting fit)."""

import json
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from symsindy import (
    LieAlgebra,
    Monomials,
    SymmetryGroup,
    datasets,
    discover_symmetries,
    equivariant_basis,
)
from symsindy.state_noise import state_noise_variance
from symsindy.trajectory_test import _Runs, trajectory_test

BASIS = Monomials(2, 3)
ROTATION = equivariant_basis(BASIS, SymmetryGroup(LieAlgebra.so(2))).Q


def _runs(eps, noise, seed, n_runs=4, t_end=6.0):
    t = np.arange(0.0, t_end, 0.01)
    xs = datasets.simulate("hopf", n_runs, t, noise=noise, seed=seed, eps=eps)
    return xs, t


def _exact(coef, x0, t):
    rhs = lambda _, x: (BASIS.evaluate(x[None]) @ coef.T)[0]  # noqa: E731
    sol = solve_ivp(rhs, (t[0], t[-1]), x0, t_eval=t, rtol=1e-11, atol=1e-12)
    return sol.y.T


def test_model_runs_match_an_accurate_integrator():
    """Runge-Kutta steps over several samples plus Hermite interpolation stay
    within 1e-4 of the states' RMS: a hundredth of the noise at 1 %, and the
    runs are consulted only for noisier rows."""
    coef = datasets.get_system("hopf", eps=0.03).coefficients(3)
    t = np.arange(0.0, 6.0, 0.01)
    x0 = np.array([[1.5, -0.3], [0.2, 0.1]])
    exact = [_exact(coef, x, t) for x in x0]
    runs = _Runs(BASIS, exact, [t, t], np.ones(2))
    error = np.sqrt(runs.normal_equations(coef, x0, None).rss / runs.n_values)
    assert error < 1e-4 * np.sqrt(np.mean(np.vstack(exact) ** 2))
    assert len(runs._nodes(runs._field_and_jacobian(coef))) < len(t) / 3


def test_sensitivities_match_finite_differences():
    coef = datasets.get_system("hopf", eps=0.03).coefficients(3)
    t = np.arange(0.0, 3.0, 0.01)
    x0 = np.array([[1.2, 0.4]])
    observed = _exact(coef, x0[0], t) + 0.1
    sigma = np.array([0.5, 2.0])
    runs = _Runs(BASIS, [observed], [t], sigma)
    normal = runs.normal_equations(coef, x0, None)
    params = np.concatenate([x0[0], coef.ravel()])

    def whitened_residual(p):
        run = _exact(p[2:].reshape(coef.shape), p[:2], t)
        return ((observed - run) / sigma).ravel()

    step = 1e-6
    columns = []
    for i in range(params.size):
        dp = np.zeros_like(params)
        dp[i] = step
        columns.append(
            (whitened_residual(params - dp) - whitened_residual(params + dp))
            / (2 * step)
        )
    jac = np.array(columns).T
    np.testing.assert_allclose(
        normal.K[0], jac.T @ jac, rtol=5e-4, atol=1e-6 * np.abs(jac.T @ jac).max()
    )
    np.testing.assert_allclose(
        normal.k[0], jac.T @ whitened_residual(params), rtol=5e-4, atol=1e-3
    )


def _rotation_test(eps, noise, seed, alpha, n_runs=6, t_end=8.0, start=None):
    xs, t = _runs(eps, noise, seed, n_runs, t_end)
    if start is None:
        start = datasets.get_system("hopf").coefficients(3)
    return trajectory_test(
        BASIS, xs, [t] * len(xs), start, ROTATION, state_noise_variance(xs), 16, alpha
    )


def test_symmetric_fit_recovers_the_model_with_residual_at_the_noise_level():
    truth = datasets.get_system("hopf").coefficients(3)
    test = _rotation_test(0.0, 0.02, seed=3, alpha=1e-3, n_runs=4, start=1.02 * truth)
    assert abs(test.misfit - 1) < 0.05
    np.testing.assert_allclose(test.coef, truth, atol=0.02)
    assert "shooting fit of 4 runs" in test.describe()


def test_score_test_of_a_true_symmetry_is_calibrated():
    """Rejections of the true rotation at alpha = 0.1 over 40 noisy data sets."""
    rejected = sum(
        not _rotation_test(0.0, 0.05, seed, 0.1, n_runs=2, t_end=4.0).accepted
        for seed in range(40)
    )
    assert 0 < rejected <= 10  # binomial(40, 0.1): mean 4, P(> 10) < 0.002


def test_runs_see_a_breaking_the_integral_rows_miss():
    """Hopf + 0.01 x0^2 at 5 % noise: the runs reject the rotation at 1e-3."""
    rejected = [
        not _rotation_test(0.01, 0.05, seed, 1e-3).accepted for seed in range(5)
    ]
    assert sum(rejected) >= 4


def test_discovery_rejects_the_slightly_broken_rotation_and_says_why():
    xs, t = _runs(eps=0.01, noise=0.05, seed=0, n_runs=6, t_end=8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checked = discover_symmetries(xs, t=t)
        rows_only = discover_symmetries(xs, t=t, trajectory_check=False)
    assert rows_only.dim == 1  # the integral rows alone cannot see it
    assert checked.dim == 0 and checked.order == 1
    rotation = next(v for v in checked.report.verdicts if "rotation" in v.description)
    assert rotation.verdict == "broken"
    assert "the trajectories reject it" in rotation.sentence()
    report = json.loads(json.dumps(checked.report.to_dict()))
    assert report["trajectory_check"].startswith("checked on the runs: shooting fit")
    assert any(
        v.get("trajectory", {}).get("accepted") is False for v in report["verdicts"]
    )
    assert "checked on the runs" in checked.summary()
    import matplotlib.pyplot as plt

    from symsindy.plotting import plot_spectrum

    fig = plot_spectrum(checked)
    text = "\n".join(t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    assert "broken: T = 18.4 on 14 dof, p = 0.22, +10%; runs: S = 51.6" in text


def test_discovery_keeps_a_true_rotation_the_runs_agree_with():
    """The returned group is checked once; its candidates are not re-checked."""
    xs, t = _runs(eps=0.0, noise=0.05, seed=3, n_runs=6, t_end=8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = discover_symmetries(xs, t=t)
    assert G.dim == 1
    runs = G.report.group_trajectory
    assert runs is not None and runs.accepted and runs.dof == 16
    assert all(v.trajectory is None for v in G.report.verdicts)
    assert "the trajectories agree (S = " in G.summary()
    report = json.loads(json.dumps(G.report.to_dict()))
    assert report["group_test"]["trajectory"]["accepted"] is True


def test_noise_free_chaotic_and_unfittable_runs_are_not_checked():
    t = np.arange(0.0, 8.0, 0.01)
    coef = datasets.get_system("hopf").coefficients(3)
    clean = datasets.simulate("hopf", 2, t, seed=0)
    why = trajectory_test(BASIS, clean, [t, t], coef, ROTATION, np.zeros(2), 16, 1e-3)
    assert "no measurable noise" in why
    lorenz = datasets.get_system("lorenz").coefficients(3)
    tl = np.arange(0.0, 10.0, 0.005)
    xs = datasets.simulate("lorenz", 2, tl, noise=0.01, seed=0)
    why = trajectory_test(
        Monomials(3, 3),
        xs,
        [tl, tl],
        lorenz,
        np.eye(lorenz.size),
        state_noise_variance(xs),
        1,
        1e-3,
    )
    assert "chaotic" in why
    # A quadratic library cannot reproduce Hopf's cubic runs, whatever the
    # symmetry: the runs abstain rather than blame the rotation.
    xs = datasets.simulate("hopf", 2, t, noise=0.01, seed=0)
    quadratic = Monomials(2, 2)
    rotation = equivariant_basis(quadratic, SymmetryGroup(LieAlgebra.so(2))).Q
    why = trajectory_test(
        quadratic, xs, [t, t], coef[:, :6], rotation, state_noise_variance(xs), 8, 1e-3
    )
    assert isinstance(why, str), why


def test_runs_of_different_lengths_are_padded_not_truncated():
    """Every sample of both runs counts once; the padding counts nothing."""
    t = np.arange(0.0, 6.0, 0.01)
    coef = datasets.get_system("hopf").coefficients(3)
    x0 = np.array([[1.0, 0.5], [0.3, -1.2]])
    offset = 0.1  # observations off the model runs by this much everywhere
    runs = [_exact(coef, x0[0], t) + offset, _exact(coef, x0[1], t[:300]) + offset]
    fitted = _Runs(BASIS, runs, [t, t[:300]], np.ones(2))
    rss = fitted.normal_equations(coef, x0, None).rss
    assert fitted.n_values == 2 * (600 + 300)
    assert rss == pytest.approx(offset**2 * fitted.n_values, rel=1e-3)


def test_trajectory_check_must_be_a_bool():
    xs, t = _runs(eps=0.0, noise=0.01, seed=0, n_runs=2)
    with pytest.raises(ValueError, match="trajectory_check must be True or False"):
        discover_symmetries(xs, t=t, trajectory_check="yes")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"coef": np.zeros((2, 5))}, "coef must have shape"),
        ({"Q": np.zeros((7, 1))}, "Q must have 20 rows"),
        ({"variance": np.array([1e-4])}, "variance must hold 2"),
        ({"variance": np.array([1e-4, np.nan])}, "variance must hold 2"),
        ({"times": [np.arange(5.0)]}, "one time per sample"),
        ({"basis": Monomials(3, 3)}, "basis is over 3 variables"),
    ],
)
def test_bad_arguments_are_named(change, message):
    xs, t = _runs(eps=0.0, noise=0.01, seed=0, n_runs=1, t_end=1.0)
    args = dict(
        basis=BASIS,
        trajectories=xs,
        times=[t],
        coef=datasets.get_system("hopf").coefficients(3),
        Q=ROTATION,
        variance=np.array([1e-4, 1e-4]),
        dof=16,
        alpha=1e-3,
    )
    args.update(change)
    with pytest.raises(ValueError, match=message):
        trajectory_test(**args)


def test_nan_in_a_trajectory_is_refused():
    xs, t = _runs(eps=0.0, noise=0.01, seed=0, n_runs=1, t_end=1.0)
    xs[0][5, 1] = np.nan
    coef = datasets.get_system("hopf").coefficients(3)
    with pytest.raises(ValueError, match="NaN or inf"):
        trajectory_test(BASIS, xs, [t], coef, ROTATION, np.ones(2), 16, 1e-3)


def test_sensitivities_along_directions_are_the_projected_full_ones():
    """The symmetric fit's sensitivities (to the coordinates along Q) are
    those to every coefficient, projected on Q."""
    coef = datasets.get_system("hopf", eps=0.03).coefficients(3)
    xs, t = _runs(eps=0.03, noise=0.01, seed=1, n_runs=2, t_end=3.0)
    runs = _Runs(BASIS, xs, [t, t], np.array([0.02, 0.03]))
    x0 = np.array([x[0] for x in xs])
    Q = ROTATION.toarray()
    along = runs.normal_equations(coef, x0, Q)
    projected = runs.normal_equations(coef, x0, None).restricted(Q)
    np.testing.assert_allclose(along.K, projected.K, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(along.k, projected.k, rtol=1e-9, atol=1e-9)


def test_the_fit_works_through_a_quarter_a_half_then_all_of_the_runs(monkeypatch):
    lengths = []
    original = _Runs.normal_equations

    def spy(self, coef, x0, directions):
        lengths.append(self.observed.shape[1])
        return original(self, coef, x0, directions)

    monkeypatch.setattr(_Runs, "normal_equations", spy)
    _rotation_test(0.0, 0.02, seed=3, alpha=1e-3, n_runs=2, t_end=4.0)
    assert lengths[0] == 400  # the whole runs, for chaos, first
    stages = [m for i, m in enumerate(lengths) if i and m != lengths[i - 1]]
    assert stages == [100, 200, 400]


def test_the_score_does_not_depend_on_where_the_fit_stops(monkeypatch):
    """Against a fit converged to 1e-6 of a chi-square unit."""
    import symsindy.trajectory_test as module

    fast = _rotation_test(0.01, 0.05, seed=1, alpha=1e-3)
    monkeypatch.setattr(module, "LINEAR", 1e-6)
    monkeypatch.setattr(module, "MAX_INTEGRATIONS", 60)
    converged = _rotation_test(0.01, 0.05, seed=1, alpha=1e-3)
    assert converged.iterations > fast.iterations
    assert abs(fast.statistic - converged.statistic) < 0.5
    np.testing.assert_allclose(fast.coef, converged.coef, atol=2e-3)


def test_blocks_of_samples_give_the_same_equations(monkeypatch):
    """Memory is bounded by summing over blocks of samples; the seams between
    blocks change nothing (runs of different lengths included)."""
    import symsindy.trajectory_test as module

    coef = datasets.get_system("hopf", eps=0.03).coefficients(3)
    xs, t = _runs(eps=0.03, noise=0.02, seed=2, n_runs=3, t_end=4.0)
    xs[1], times = xs[1][:250], [t, t[:250], t]
    x0 = np.array([x[0] for x in xs])
    whole = _Runs(BASIS, xs, times, np.array([0.02, 0.03])).normal_equations(
        coef, x0, None
    )
    monkeypatch.setattr(module, "BLOCK_VALUES", 3 * 2 * 23 * 7)  # 7 samples
    runs = _Runs(BASIS, xs, times, np.array([0.02, 0.03]))
    blocks = list(runs.blocks(coef, x0, None))
    assert len(blocks) > 20
    assert np.array_equal(np.concatenate([b[0] for b in blocks]), np.arange(400))
    pieces = runs.normal_equations(coef, x0, None)
    np.testing.assert_allclose(pieces.K, whole.K, rtol=1e-10)
    np.testing.assert_allclose(pieces.k, whole.k, rtol=1e-10, atol=1e-9)
    assert pieces.rss == pytest.approx(whole.rss, rel=1e-12)
    assert pieces.departure == pytest.approx(whole.departure, rel=1e-12)
    assert pieces.growth == pytest.approx(whole.growth, rel=1e-12)


def test_runs_that_blow_up_are_called_unstable():
    """x' = x^2 from x = 2 blows up at t = 0.5: the growth check says so."""
    t = np.linspace(0.0, 1.0, 201)
    x = np.where(t < 0.45, 2 / (1 - 2 * np.minimum(t, 0.45)), 20.0)[:, None]
    x = x + 0.01 * np.random.default_rng(0).normal(size=x.shape)
    why = trajectory_test(
        Monomials(1, 2),
        [x],
        [t],
        np.array([[0.0, 0.0, 1.0]]),
        np.eye(3),
        np.array([1e-4]),
        1,
        1e-3,
    )
    assert "perturbations of the initial states grow" in why
