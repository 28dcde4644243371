"""The likelihood-ratio test and its power on a design solved by hand.

Four samples, two orthogonal library columns (Theta^T Theta = 4 I), two
targets and a residual direction e orthogonal to both columns: every
quantity of :mod:`symsindy.inference` has a closed form here.
"""

import numpy as np
import pytest
from scipy.stats import chi2

from symsindy.inference import (
    DERIVATIVE_NOISE_FLOOR,
    detectable_breaking,
    estimate_noise,
    integrated_autocorrelation_time,
    signal_test,
    subspace_test,
)
from symsindy.regression_data import ArrayStatistics

C0 = np.array([1.0, 1.0, 1.0, 1.0])
C1 = np.array([1.0, -1.0, 1.0, -1.0])
E = np.array([1.0, 1.0, -1.0, -1.0])
THETA = np.stack([C0, C1], axis=1)
Y = np.stack([2 * C0 + 0.5 * C1 + 0.1 * E, C1 + 0.2 * E], axis=1)
RSS0 = np.array([0.04, 0.16])  # ||0.1 e||^2, ||0.2 e||^2
VAR = RSS0 / (4 - 2)  # unbiased, tau = 1


def _noise():
    return estimate_noise(ArrayStatistics(THETA, Y, max_lag=2), tau=np.ones(2))


def test_noise_estimate_by_hand():
    noise = _noise()
    np.testing.assert_allclose(noise.rss, RSS0, rtol=1e-12)
    np.testing.assert_allclose(noise.variance, VAR, rtol=1e-12)
    np.testing.assert_allclose(noise.coef, [[2.0, 0.5], [0.0, 1.0]], atol=1e-12)
    assert noise.rank == 2 and noise.residual_dof == 2
    assert not noise.floored.any()


def test_noise_free_targets_get_the_floor():
    y = np.stack([2 * C0, C1], axis=1)
    noise = estimate_noise(ArrayStatistics(THETA, y, max_lag=2), tau=np.ones(2))
    ms = np.sum(y**2, axis=0) / 4
    np.testing.assert_allclose(noise.variance, DERIVATIVE_NOISE_FLOOR**2 * ms)
    assert noise.floored.all()


def test_subspace_test_by_hand():
    """Dropping column 1 costs 0.5^2 * 4 = 1 in target 0 and 1 * 4 in target 1."""
    Q = np.zeros((4, 2))
    Q[0, 0] = Q[2, 1] = 1.0  # keep column 0 of each target
    test = subspace_test(
        ArrayStatistics(THETA, Y, max_lag=2), Q, _noise(), search_dof=0
    )
    w = 1 / VAR
    statistic = w[0] * 1.0 + w[1] * 4.0
    assert test.statistic == pytest.approx(statistic, rel=1e-10)
    assert test.dof == 2 and test.codimension == 2
    assert test.p_value == pytest.approx(chi2.sf(statistic, 2), rel=1e-9)
    assert test.accepted is False
    base = np.sum(w * RSS0)  # = 2 targets * 2 residual dof = floor: 4
    assert test.relative_increase == pytest.approx(statistic / base, rel=1e-10)
    np.testing.assert_allclose(test.rss, RSS0 + [1.0, 4.0], rtol=1e-10)
    # one dof of search leaves one
    searched = subspace_test(
        ArrayStatistics(THETA, Y, max_lag=2), Q, _noise(), search_dof=1
    )
    assert searched.dof == 1
    assert searched.p_value == pytest.approx(chi2.sf(statistic, 1), rel=1e-9)


def test_signal_test_by_hand():
    """Explained sums of squares weighted by 1 / variance, 2 x 2 dof."""
    explained = np.sum(Y**2, axis=0) - RSS0
    statistic = np.sum(explained / VAR)
    p = signal_test(ArrayStatistics(THETA, Y, max_lag=2), _noise())
    assert p == pytest.approx(chi2.sf(statistic, 4), rel=1e-9, abs=1e-300)
    noise_only = np.stack([0.3 * E, -0.1 * E], axis=1)  # nothing explained
    stats = ArrayStatistics(THETA, noise_only, max_lag=2)
    assert signal_test(stats, estimate_noise(stats, tau=np.ones(2))) == 1.0


def test_detectable_breaking_by_hand():
    """Breaking along column 1, measured with reference factor R.

    A breaking is the distance of a perturbation to span(column 0). In
    whitened units that distance is w_i * 4 per unit of column 1 in the data
    metric (orthogonal columns) and w_i * (5 - 1^2 / 1) = w_i * 4 in the
    reference metric (the Schur complement of R^T R = [[1, 1], [1, 5]]): the
    ratio is 1, so the largest undetected breaking has squared size
    crit / 1 / norm2, with norm2 = sum_i w_i |C_i R^T|^2.
    """
    R = np.array([[1.0, 1.0], [0.0, 2.0]])
    Q = np.zeros((4, 2))
    Q[0, 0] = Q[2, 1] = 1.0
    coef = np.array([[2.0, 0.0], [1.0, 0.0]])
    w = 1 / VAR
    norm2 = np.sum(w * np.sum((coef @ R.T) ** 2, axis=1))
    crit = chi2.ppf(1 - 1e-3, 2)
    got = detectable_breaking(
        ArrayStatistics(THETA, Y, max_lag=2), _noise(), Q, R, coef, 2, 1e-3
    )
    assert got == pytest.approx(np.sqrt(crit / norm2), rel=1e-9)
    # A model 100 times smaller (norm2 < 1) hides breakings 100 times larger.
    small = detectable_breaking(
        ArrayStatistics(THETA, Y, max_lag=2), _noise(), Q, R, coef / 100, 2, 1e-3
    )
    assert small == pytest.approx(100 * got, rel=1e-9)


def test_integrated_autocorrelation_time_stops_at_the_first_negative_lag():
    acov = np.array([[10.0, 4.0], [5.0, -1.0], [2.0, 1.0], [-1.0, 1.0], [3.0, 1.0]])
    counts = np.array([10.0, 9.0, 8.0, 7.0, 6.0])
    tau = integrated_autocorrelation_time(acov, counts)
    # column 0: rho = 5/9, 2/8, then -1/7 stops; column 1: rho_1 < 0 at once
    assert tau[0] == pytest.approx(1 + 2 * (5 / 9 + 2 / 8), rel=1e-12)
    assert tau[1] == 1.0


def test_detectable_breaking_of_one_target_by_hand():
    """One target, one broken direction: lambda = 4 / 4 as above."""
    R = np.array([[1.0, 1.0], [0.0, 2.0]])
    stats = ArrayStatistics(THETA, Y[:, :1], max_lag=2)
    noise = estimate_noise(stats, tau=np.ones(1))
    coef = np.array([[2.0, 0.0]])
    norm2 = np.sum((coef @ R.T) ** 2) / VAR[0]
    crit = chi2.ppf(1 - 1e-3, 1)
    got = detectable_breaking(stats, noise, np.array([[1.0], [0.0]]), R, coef, 1, 1e-3)
    assert got == pytest.approx(np.sqrt(crit / norm2), rel=1e-9)
    # nothing left to break: the whole library is symmetric
    assert detectable_breaking(stats, noise, np.eye(2), R, coef, 1, 1e-3) == 0.0


def test_invisible_symmetric_directions_break_nothing():
    """A library column that vanishes on the data but is itself symmetric.

    Column 2 is zero on every sample. Inside span(Q) it breaks nothing, so the
    answer is the column-1 breaking alone: data 4 / v, reference 1 / v per
    unit, lambda = 4. Outside span(Q) it is a breaking the data cannot see.
    """
    theta = np.stack([C0, C1, np.zeros(4)], axis=1)
    stats = ArrayStatistics(theta, Y[:, :1], max_lag=2)
    noise = estimate_noise(stats, tau=np.ones(1))
    R = np.eye(3)
    coef = np.array([[2.0, 0.0, 0.0]])
    norm2 = 4.0 / noise.variance[0]
    crit = chi2.ppf(1 - 1e-3, 1)
    symmetric = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])  # columns 0 and 2
    got = detectable_breaking(stats, noise, symmetric, R, coef, 1, 1e-3)
    assert got == pytest.approx(np.sqrt(crit / 4.0 / norm2), rel=1e-9)
    only_first = np.array([[1.0], [0.0], [0.0]])
    assert detectable_breaking(stats, noise, only_first, R, coef, 1, 1e-3) > 1e4


def _schur(X, Q):
    """Quadratic form of the squared X-distance to span(Q)."""
    XQ = X @ Q
    return X - XQ @ np.linalg.solve(Q.T @ XQ, XQ.T)


def test_detectable_breaking_against_schur_complements():
    """A random design whose symmetric subspace mixes the two targets.

    Independently of the implementation (which factors the data metric and
    projects reference-orthogonal representatives), the squared distances to
    span(Q) are the Schur complements of the two metrics, and the worst ratio
    is their smallest generalised eigenvalue on any complement of span(Q).
    """
    from scipy.linalg import eigh, null_space

    rng = np.random.default_rng(3)
    theta = rng.normal(size=(40, 4)) * [1.0, 10.0, 0.1, 3.0]
    y = theta @ rng.normal(size=(4, 2)) + rng.normal(size=(40, 2)) * [0.5, 2.0]
    stats = ArrayStatistics(theta, y, max_lag=2)
    noise = estimate_noise(stats, tau=np.ones(2))
    R = rng.normal(size=(4, 4))
    Q = rng.normal(size=(8, 3))  # columns mix the coefficients of both targets
    coef = rng.normal(size=(2, 4))
    w = noise.weights
    data = np.kron(np.diag(w), np.asarray(stats.gram))
    ref = np.kron(np.diag(w), R.T @ R)
    W = null_space(Q.T)
    lam = eigh(W.T @ _schur(data, Q) @ W, W.T @ _schur(ref, Q) @ W)[0][0]
    norm2 = np.sum(w * np.sum((coef @ R.T) ** 2, axis=1))
    crit = noise.critical_value(2, 1e-3)
    got = detectable_breaking(stats, noise, Q, R, coef, 2, 1e-3)
    assert got == pytest.approx(np.sqrt(crit / lam / norm2), rel=1e-7)
