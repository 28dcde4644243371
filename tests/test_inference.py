"""The likelihood-ratio test behind discovery: calibration, power, noise level."""

import numpy as np
import pytest

from symsindy import LieAlgebra, Monomials, equivariant_basis
from symsindy.inference import (
    DERIVATIVE_NOISE_FLOOR,
    estimate_noise,
    integrated_autocorrelation_time,
    least_squares,
    subspace_test,
)
from symsindy.regression_data import ArrayStatistics

BASIS = Monomials(2, 3)
ROTATION = equivariant_basis(BASIS, LieAlgebra.so(2))


def _hopf_coef(eps=0.0):
    """x' = x - y - x r^2 + eps x^2, y' = x + y - y r^2 (rotation iff eps = 0)."""
    C = np.zeros((2, len(BASIS)))
    idx = {tuple(e): k for k, e in enumerate(BASIS.exponents)}
    C[0, idx[(1, 0)]], C[0, idx[(0, 1)]] = 1.0, -1.0
    C[1, idx[(1, 0)]], C[1, idx[(0, 1)]] = 1.0, 1.0
    for i, (a, b) in enumerate([((3, 0), (1, 2)), ((2, 1), (0, 3))]):
        C[i, idx[a]] = C[i, idx[b]] = -1.0
    C[0, idx[(2, 0)]] = eps
    return C


def _simulated_stats(C, n, noise, rng):
    x = rng.uniform(-1.5, 1.5, size=(n, 2))
    theta = BASIS.evaluate(x)
    y = theta @ C.T + noise * rng.normal(size=(n, 2))
    return ArrayStatistics(theta, y)


def test_a_true_symmetry_is_rejected_about_alpha_of_the_time():
    """Calibration: 400 data sets of a rotation-symmetric model, alpha = 0.05."""
    rng = np.random.default_rng(0)
    C = _hopf_coef()
    rejections = 0
    for _ in range(400):
        stats = _simulated_stats(C, 200, 0.3, rng)
        test = subspace_test(stats, ROTATION.Q, estimate_noise(stats), alpha=0.05)
        rejections += not test.accepted
    # Binomial(400, 0.05): mean 20, sd 4.4. The autocorrelation correction
    # makes the test slightly conservative on independent noise.
    assert 6 <= rejections <= 34


def test_a_broken_symmetry_is_rejected_with_high_power():
    rng = np.random.default_rng(1)
    C = _hopf_coef(eps=0.15)
    rejected = [
        not subspace_test(
            stats := _simulated_stats(C, 800, 0.3, rng),
            ROTATION.Q,
            estimate_noise(stats),
        ).accepted
        for _ in range(50)
    ]
    assert np.mean(rejected) >= 0.95


def test_statistic_matches_an_independent_constrained_least_squares():
    rng = np.random.default_rng(2)
    stats = _simulated_stats(_hopf_coef(0.05), 300, 0.2, rng)
    noise = estimate_noise(stats)
    test = subspace_test(stats, ROTATION.Q, noise)
    # Independent: weighted least squares on the explicit reduced design.
    Q = ROTATION.Q.toarray()
    w = np.sqrt(noise.weights)
    design = np.vstack(
        [
            w[i] * stats.theta @ Q[i * len(BASIS) : (i + 1) * len(BASIS)]
            for i in range(2)
        ]
    )
    target = np.concatenate([w[i] * stats.targets[:, i] for i in range(2)])
    c, *_ = np.linalg.lstsq(design, target, rcond=None)
    free = np.linalg.lstsq(stats.theta, stats.targets, rcond=None)[0]
    rss_free = ((stats.targets - stats.theta @ free) ** 2).sum(axis=0)
    expected = np.sum((target - design @ c) ** 2) - np.sum(noise.weights * rss_free)
    assert test.statistic == pytest.approx(expected, rel=1e-8)
    assert test.codimension == 2 * len(BASIS) - Q.shape[1]


def test_noise_free_derivatives_use_the_documented_floor():
    rng = np.random.default_rng(3)
    stats = _simulated_stats(_hopf_coef(), 300, 0.0, rng)
    noise = estimate_noise(stats)
    assert noise.floored.all()
    rms = np.sqrt(np.diag(stats.yty) / stats.n_samples)
    np.testing.assert_allclose(np.sqrt(noise.variance), DERIVATIVE_NOISE_FLOOR * rms)
    coef, rank = least_squares(stats)
    np.testing.assert_allclose(coef, _hopf_coef(), atol=1e-9)
    assert rank == len(BASIS)


def test_autocorrelation_time_of_an_ar1_sequence():
    """AR(1) with coefficient phi has tau = (1 + phi) / (1 - phi)."""
    rng = np.random.default_rng(4)
    phi, n = 0.6, 200_000
    e = rng.normal(size=n)
    r = np.empty(n)
    r[0] = e[0]
    for k in range(1, n):
        r[k] = phi * r[k - 1] + e[k]
    lags = 40
    acov = np.array([[np.dot(r[k:], r[: n - k])] for k in range(lags + 1)])
    counts = np.array([n - k for k in range(lags + 1)])
    tau = integrated_autocorrelation_time(acov, counts)[0]
    assert tau == pytest.approx((1 + phi) / (1 - phi), rel=0.05)


def test_too_few_samples_for_the_noise_level_is_a_clear_error():
    rng = np.random.default_rng(5)
    stats = _simulated_stats(_hopf_coef(), 8, 0.1, rng)
    with pytest.raises(ValueError, match="cannot estimate the noise"):
        estimate_noise(stats)


# ------------------------------------------------------- equivalence margin
def test_the_margin_allows_exactly_its_breaking_as_noncentrality():
    """lambda = sum_i N (margin rms_i)^2 / v_i, and p / critical value are those
    of scipy's non-central chi-square with it."""
    from scipy.stats import ncx2

    rng = np.random.default_rng(4)
    stats = _simulated_stats(_hopf_coef(), 500, 0.1, rng)
    noise = estimate_noise(stats, margin=0.01)
    expected = np.sum(500 * (0.01 * noise.rms) ** 2 / noise.variance)
    assert noise.noncentrality == pytest.approx(expected, rel=1e-12)
    assert noise.p_value(30.0, 7) == pytest.approx(ncx2.sf(30.0, 7, expected))
    crit = noise.critical_value(7, 1e-3)
    assert crit == pytest.approx(ncx2.ppf(1 - 1e-3, 7, expected))
    assert estimate_noise(stats).noncentrality == 0.0


def test_a_breaking_within_the_margin_is_accepted_and_beyond_it_rejected():
    """Hopf + eps x^2 with plenty of data: eps = 0.01 breaks by ~0.6 % of the
    derivatives' RMS, inside a 2 % margin and far outside no margin."""
    rng = np.random.default_rng(5)
    stats = _simulated_stats(_hopf_coef(0.01), 20000, 0.01, rng)
    strict = subspace_test(stats, ROTATION.Q, estimate_noise(stats))
    lenient = subspace_test(stats, ROTATION.Q, estimate_noise(stats, margin=0.02))
    assert not strict.accepted and lenient.accepted
    assert lenient.statistic == pytest.approx(strict.statistic)


def test_noncentral_functions_fall_back_to_their_normal_limit():
    from scipy.stats import norm

    from symsindy.inference import _noncentral

    def overflowing(*_):
        raise OverflowError("tgamma")

    mean, sd = 10 + 1e6, np.sqrt(2 * (10 + 2e6))
    assert _noncentral(overflowing, norm.sf, mean + sd, 10, 1e6) == pytest.approx(
        norm.sf(1.0)
    )
    quantile = _noncentral(overflowing, norm.isf, 0.999, 10, 1e6, alpha=1e-3)
    assert quantile == pytest.approx(mean + sd * norm.isf(1e-3))
    assert _noncentral(lambda *_: 0.25, norm.sf, 1.0, 10, 5.0) == 0.25


def test_without_a_search_the_degrees_of_freedom_are_the_codimension():
    rng = np.random.default_rng(6)
    stats = _simulated_stats(_hopf_coef(), 300, 0.1, rng)
    test = subspace_test(stats, ROTATION.Q, estimate_noise(stats))
    assert test.search_dof == 0
    assert test.dof == test.codimension == 2 * len(BASIS) - ROTATION.Q.shape[1]


def test_nearly_collinear_columns_are_one_unidentified_direction():
    """Unit columns a and b at angle theta, 1 - cos(theta) = 5e-12 (below the
    1e-11 rank cutoff of the largest eigenvalue, 2): y = a is fitted by the
    minimum-norm solution on the identified direction a + b, (1/2, 1/2) up to
    theta, not by the exact (1, 0)."""
    from types import SimpleNamespace

    theta = np.arccos(1 - 5e-12)
    a = np.zeros(50)
    a[0] = 1.0
    z = np.zeros(50)
    z[1] = 1.0
    b = np.cos(theta) * a + np.sin(theta) * z
    X = np.stack([a, b], axis=1)
    stats = SimpleNamespace(gram=X.T @ X, xty=(X.T @ a)[:, None])
    coef, rank = least_squares(stats)
    assert rank == 1
    np.testing.assert_allclose(coef.ravel(), [0.5, 0.5], atol=1e-5)


def test_a_breaking_at_the_reported_resolution_is_detected_half_the_time():
    """Linear model, symmetric subspace = columns 0 and 1, breaking along an
    independent column 2 of the size the test reports as its resolution: 400
    noise draws reject it about half the time (alpha = 1e-3)."""
    from scipy import sparse

    rng = np.random.default_rng(7)
    theta = rng.normal(size=(400, 3))
    Q = sparse.csr_matrix(np.eye(3)[:, :2])
    clean = theta[:, :1]
    first = clean + 0.1 * rng.normal(size=(400, 1))
    noise = estimate_noise(ArrayStatistics(theta, first), tau=np.ones(1))
    resolution = subspace_test(ArrayStatistics(theta, first), Q, noise).resolution
    # A breaking b theta_2 whose RMS is `resolution` of the targets' RMS.
    b = resolution * noise.rms[0] / np.sqrt(np.mean(theta[:, 2] ** 2))
    rejected = []
    for _ in range(400):
        y = clean + b * theta[:, 2:] + 0.1 * rng.normal(size=(400, 1))
        stats = ArrayStatistics(theta, y)
        rejected.append(
            not subspace_test(stats, Q, estimate_noise(stats, tau=np.ones(1))).accepted
        )
    assert 0.4 <= np.mean(rejected) <= 0.6


def test_excess_sigma_is_the_standardised_statistic():
    """(T - E0 T) / sd0(T) with the null's chi-square (or non-central) moments."""
    from symsindy.inference import SubspaceTest

    def test(statistic, noise=None):
        return SubspaceTest(
            statistic, 14, 0.5, 1e-3, True, 0.1, np.zeros(1), np.zeros(1), noise=noise
        )

    assert test(14 + 2 * np.sqrt(28.0)).excess_sigma == pytest.approx(2.0)
    assert test(14 - np.sqrt(28.0)).excess_sigma == pytest.approx(-1.0)
    assert "(+2 sigma; T = 24.6 on 14 dof" in test(14 + 2 * np.sqrt(28.0)).sentence()
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(400, 3))
    y = theta[:, :1] + 0.1 * rng.normal(size=(400, 1))
    noise = estimate_noise(ArrayStatistics(theta, y), tau=np.ones(1), margin=0.01)
    lam = noise.noncentrality
    assert lam > 0
    centred = test(14 + lam + np.sqrt(2 * (14 + 2 * lam)), noise)
    assert centred.excess_sigma == pytest.approx(1.0)


def test_sentence_states_the_verdict_and_resolution_only_when_decided():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(400, 3))
    y = theta[:, :1] + 0.1 * rng.normal(size=(400, 1))
    stats = ArrayStatistics(theta, y)
    noise = estimate_noise(stats, tau=np.ones(1))
    keep_first = np.eye(3)[:, :1]  # y = theta_0: true
    accepted = subspace_test(stats, keep_first, noise)
    rejected = subspace_test(stats, np.eye(3)[:, 1:2], noise)
    assert accepted.accepted and not rejected.accepted
    text = accepted.sentence()
    resolution = f"{100 * accepted.resolution:.2g}%"
    assert text.endswith(
        f": consistent with the data (resolution: breakings below {resolution} "
        "of the derivatives' RMS go unseen)"
    )
    assert rejected.sentence().endswith("p = < 1e-6): rejected")
    assert accepted.sentence(decided=False).endswith(
        f"T = {accepted.statistic:.3g} on {accepted.dof} dof, "
        f"p = {accepted.p_value:.2g})"
    )
