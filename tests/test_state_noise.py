"""Noise in the states: its estimate, the unbiased features, the corrected tests."""

import numpy as np
import pytest
from numpy.polynomial import hermite_e
from scipy.integrate import solve_ivp

from symsindy import Monomials, SymmetryGroup, equivariant_basis
from symsindy.inference import estimate_noise, least_squares, subspace_test
from symsindy.regression_data import (
    ArrayStatistics,
    CorrectedStatistics,
    integral_data,
)
from symsindy.state_noise import StateNoise, hermite_features, state_noise_variance


def _lu(_, s, a=36.0, b=3.0, c=18.0):
    x, y, z = s
    return [a * (y - x), -x * z + c * y, x * y - b * z]


LU_T = np.linspace(0, 11.6925, 1001)
LU_STARTS = [
    [-16.7, -5.9, 22.6],
    [-12.5, 0.4, 19.5],
    [17.3, -12.6, 12.9],
    [10.0, 4.8, 18.8],
    [-17.7, 3.6, 32.2],
    [-17.7, 9.8, 6.1],
]
LU = [
    solve_ivp(_lu, (0, LU_T[-1]), x0, t_eval=LU_T, rtol=1e-11, atol=1e-11).y.T
    for x0 in LU_STARTS
]


def test_differences_recover_the_variance_of_white_noise():
    t = np.linspace(0, 20, 4001)
    clean = np.stack([np.sin(t), 3 * np.cos(0.7 * t)], axis=1)
    sd = np.array([0.01, 0.2])
    noisy = clean + sd * np.random.default_rng(0).normal(size=clean.shape)
    np.testing.assert_allclose(state_noise_variance([noisy]), sd**2, rtol=0.1)
    assert np.all(state_noise_variance([clean]) < 1e-10)


def test_unbiased_features_are_the_hermite_polynomials():
    """Each monomial becomes the product of probabilists' Hermite polynomials,
    s^(k/2) He_k(x / sqrt s), per state."""
    basis = Monomials(3, 3)
    s = np.array([0.3, 0.05, 1.7])
    x = np.random.default_rng(1).normal(size=(7, 3))
    noise = StateNoise(s, basis, x[:, None, :], np.ones((7, 1)), np.zeros((7, 1)))
    expected = np.ones((7, len(basis)))
    for i in range(3):
        for col, k in enumerate(basis.exponents[:, i]):
            unit = np.zeros(k + 1)
            unit[k] = 1.0
            expected[:, col] *= s[i] ** (k / 2) * hermite_e.hermeval(
                x[:, i] / np.sqrt(s[i]), unit
            )
    np.testing.assert_allclose(noise.window_means(), expected, atol=1e-12)


def _gaussian_nodes(s, n_nodes=5):
    """Gauss-Hermite nodes and weights of N(0, diag(s)): exact for polynomials
    of degree < 2 n_nodes in each coordinate."""
    z, w = hermite_e.hermegauss(n_nodes)
    w = w / w.sum()
    grids = np.meshgrid(*[z * np.sqrt(si) for si in s], indexing="ij")
    weights = np.prod(np.meshgrid(*[w] * len(s), indexing="ij"), axis=0)
    return np.stack([g.ravel() for g in grids], axis=1), weights.ravel()


def test_hermite_features_are_unbiased_up_to_twice_the_degree():
    """E[H_a(x + e)] = x^a for every exponent of degree <= 6 (the squares that
    the Gram correction uses), by exact Gaussian quadrature."""
    exps = Monomials(2, 6).exponents
    s = np.array([0.4, 0.1])
    x = np.array([0.7, -1.3])
    nodes, weights = _gaussian_nodes(s)
    mean = weights @ hermite_features(exps, x + nodes, s)
    np.testing.assert_allclose(mean, np.prod(x**exps, axis=1), atol=1e-12)


def _box_row(basis, states, times, s):
    rows = integral_data(
        basis, states, times, window=2, state_noise=s, test_function="box"
    )
    return rows.theta[0], rows.targets[0], rows.state_noise


# Feature and target weights of a window whose target uses every sample.
_GENERIC = (np.array([[0.2, 0.5, 0.3]]), np.array([[-2.0, 0.7, 1.3]]))


def _generic_row(basis, states, times, s):
    features, targets = _GENERIC
    noise = StateNoise(s, basis, states[None], features, targets)
    return noise.window_means()[0], targets[0] @ states, noise


@pytest.mark.parametrize("row", [_box_row, _generic_row])
def test_corrections_are_the_exact_noise_covariances(row):
    """One window of three samples: over the noise (exact quadrature), the mean
    of ``K`` is the covariance of the row's features and the mean of ``k`` their
    covariance with the target, which shares samples with them (the ends of a
    box window; every sample of a generic one)."""
    basis = Monomials(2, 3)
    s = np.array([0.05, 0.02])
    t = np.array([0.0, 0.1, 0.2])
    clean = np.array([[0.8, -0.3], [0.9, 0.1], [1.1, 0.4]])
    nodes, weights = _gaussian_nodes(np.tile(s, 3), n_nodes=4)
    f, n = len(basis), 2
    moments = {"f": 0.0, "y": 0.0, "ff": 0.0, "fy": 0.0, "K": 0.0, "k": 0.0}
    for e, w in zip(nodes, weights, strict=True):
        feature, target, noise = row(basis, clean + e.reshape(3, 2), t, s)
        K, k = noise.corrections()
        for key, value in (
            ("f", feature),
            ("y", target),
            ("ff", np.outer(feature, feature)),
            ("fy", np.outer(feature, target)),
            ("K", K),
            ("k", k),
        ):
            moments[key] = moments[key] + w * value
    cov_ff = moments["ff"] - np.outer(moments["f"], moments["f"])
    cov_fy = moments["fy"] - np.outer(moments["f"], moments["y"])
    assert np.abs(cov_ff).max() > 1e-3 and np.abs(cov_fy).max() > 1e-2
    np.testing.assert_allclose(moments["K"], cov_ff, atol=1e-12)
    np.testing.assert_allclose(moments["k"], cov_fy, atol=1e-12)
    assert K.shape == (f, f) and k.shape == (f, n)


def test_without_noise_the_corrected_statistics_are_the_plain_ones():
    """K = 0: ``J(c) = RSS(c) - min RSS`` and the same normal equations, also
    for a library the data leave partly undetermined."""
    rng = np.random.default_rng(3)
    theta = rng.normal(size=(50, 4))
    theta[:, 3] = theta[:, 0] - theta[:, 1]  # one unseen direction
    y = theta @ rng.normal(size=(4, 2)) + 0.1 * rng.normal(size=(50, 2))
    plain = ArrayStatistics(theta, y)
    zero = CorrectedStatistics(theta, y, None, 5, np.zeros((4, 4)), np.zeros((4, 2)))
    np.testing.assert_allclose(zero.gram, plain.gram, atol=1e-9)
    np.testing.assert_allclose(zero.xty, plain.xty, atol=1e-9)
    best, rank = least_squares(plain)
    assert rank == 3 and least_squares(zero)[1] == 3
    coef = rng.normal(size=(2, 4))
    np.testing.assert_allclose(
        zero.rss(coef), plain.rss(coef) - plain.rss(best), rtol=1e-8
    )
    np.testing.assert_allclose(zero.noise_rss(coef), plain.rss(coef))


def test_rows_without_state_noise_keep_the_plain_statistics():
    rows = integral_data(Monomials(3, 3), LU, LU_T, state_noise=None)
    assert not np.any(rows.state_noise.variance)
    assert not isinstance(rows.statistics(), CorrectedStatistics)


def test_state_noise_is_validated():
    with pytest.raises(ValueError, match="state_noise"):
        integral_data(Monomials(3, 3), LU, LU_T, state_noise=[-1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="state_noise"):
        integral_data(Monomials(3, 3), LU, LU_T, state_noise=np.nan)


def test_state_noise_in_the_library_no_longer_rejects_a_true_reflection():
    """The Lu system, six runs that are not reflection-symmetric samples, 5 %
    state noise: without the correction the true (x, y, z) -> (-x, -y, z) is
    rejected in every draw; with it, at about the nominal rate."""
    basis = Monomials(3, 3)
    Q = equivariant_basis(basis, SymmetryGroup(None, discrete=[np.diag([-1, -1, 1])])).Q
    scale = np.vstack(LU).std(axis=0)
    rng = np.random.default_rng(0)
    p_corrected, p_plain = [], []
    for draw in range(150):
        noisy = [x + 0.05 * scale * rng.normal(size=x.shape) for x in LU]
        modes = ("auto", None) if draw < 20 else ("auto",)
        for mode in modes:
            stats = integral_data(basis, noisy, LU_T, state_noise=mode).statistics()
            p = subspace_test(stats, Q, estimate_noise(stats)).p_value
            (p_corrected if mode == "auto" else p_plain).append(p)
    assert np.mean(np.array(p_plain) < 0.01) == 1.0
    assert 0.04 <= np.mean(np.array(p_corrected) < 0.1) <= 0.16


def test_discovery_reports_the_state_noise_it_corrected_for():
    from symsindy import datasets, discover_symmetries

    t = np.arange(0, 8, 0.01)
    xs = datasets.simulate("hopf", 6, t, noise=0.03, seed=0)
    G = discover_symmetries(xs, t=t)
    relative = G.report.noise.state_noise
    np.testing.assert_allclose(relative, 0.03, rtol=0.15)
    assert "library corrected for state noise (2.9% of spread)" in G.summary()
    assert "102 integral rows (parabola windows of 46 steps)" in G.summary()
    assert G.report.to_dict()["noise"]["state_noise"] == list(relative)
    exact = discover_symmetries(xs, t=t, rows="derivatives")
    assert exact.report.noise.state_noise is None  # only integral rows correct


def test_directions_seen_through_the_noise_alone_keep_half_their_spread():
    """A correction larger than a direction's whole spread (noise-only
    directions, estimated with error) is floored at SIGNAL_FRACTION of it, so
    the corrected Gram matrix stays positive definite and the estimate stable."""
    from symsindy.regression_data import SIGNAL_FRACTION

    rng = np.random.default_rng(4)
    theta = rng.normal(size=(200, 3))
    y = theta @ np.array([[1.0, -2.0, 0.5]]).T + 0.1 * rng.normal(size=(200, 1))
    gram = theta.T @ theta
    direction = np.linalg.eigh(gram)[1][:, :1]
    spread = (direction.T @ gram @ direction).item()
    over = 1.2 * spread * direction @ direction.T  # 120 % of that direction
    stats = CorrectedStatistics(theta, y, None, 5, over, np.zeros((3, 1)))
    whitened = np.linalg.inv(np.linalg.cholesky(gram))
    mu2 = np.linalg.eigvalsh(whitened @ stats.gram @ whitened.T)
    np.testing.assert_allclose(mu2.min(), SIGNAL_FRACTION**2, rtol=1e-8)
    np.testing.assert_allclose(mu2.max(), 1.0, rtol=1e-8)


def test_a_library_too_large_to_correct_is_reported_uncorrected(monkeypatch):
    import symsindy.state_noise as state_noise
    from symsindy import datasets, discover_symmetries

    t = np.arange(0, 8, 0.01)
    xs = datasets.simulate("hopf", 6, t, noise=0.03, seed=0)
    monkeypatch.setattr(state_noise, "MAX_CORRECTION_TERMS", 10)
    G = discover_symmetries(xs, t=t)
    noise = G.report.noise
    assert not noise.state_noise_corrected
    np.testing.assert_allclose(noise.state_noise, 0.03, rtol=0.15)
    assert "state noise 2.9% of spread, library too large to correct" in G.summary()
    assert G.report.to_dict()["noise"]["state_noise_corrected"] is False


def test_corrections_scale_to_twenty_states():
    """20 states at degree 3 are corrected, and the Gram correction is its
    definition ``sum w^2 (H_p H_q - H_(p+q))``, evaluated pair by pair."""
    rng = np.random.default_rng(5)
    states = rng.normal(size=(40, 5, 20))
    weights = rng.uniform(0.1, 0.3, size=(40, 5))
    variance = rng.uniform(0.005, 0.02, size=20)
    basis = Monomials(20, 3)
    noise = StateNoise(variance, basis, states, weights, weights)
    assert noise.applies
    K, _ = noise.corrections()
    samples, w2 = states.reshape(-1, 20), weights.reshape(-1) ** 2
    exps = basis.exponents
    pairs = rng.integers(0, len(basis), size=(300, 2))
    pairs[:20] = pairs[:20, [0]]  # some variances too
    for p, q in pairs:
        h = hermite_features(
            np.array([exps[p], exps[q], exps[p] + exps[q]]), samples, variance
        )
        assert K[p, q] == pytest.approx(w2 @ (h[:, 0] * h[:, 1] - h[:, 2]), abs=1e-12)
    assert np.abs(K).max() > 1e-3
