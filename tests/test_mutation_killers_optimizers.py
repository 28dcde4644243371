"""Optimizers against independent references: pysindy and closed forms.

Under the trivial group the symmetric optimizers must be pysindy's STLSQ and
SR3 (same parameters, same answers), and every least-squares step of the
reduced problem must be the textbook formula computed here with numpy.
"""

import warnings

import numpy as np
import pysindy as ps
import pytest
from scipy import sparse

from symsindy import EquivariantSR3, EquivariantSTLSQ, SymmetryGroup
from symsindy.optimizers.reduced import ReducedLeastSquares


def _support_changing_rows():
    """A problem on which STLSQ drops terms in four successive rounds.

    Correlated column pairs make each refit push another coefficient under
    the threshold: pysindy's supports are 10, 7, 4, 3, 2, 2 (seed chosen so).
    """
    rng = np.random.default_rng(65)
    n, f = 40, 10
    theta = rng.normal(size=(n, f))
    theta[:, 1] = theta[:, 0] + 0.5 * rng.normal(size=n)
    theta[:, 3] = theta[:, 2] + 0.5 * rng.normal(size=n)
    w = rng.uniform(-0.3, 0.3, size=f)
    w[0] = 1.0
    y = (theta @ w + 0.1 * rng.normal(size=n))[:, None]
    return theta, y


@pytest.mark.parametrize("unbias", [True, False])
def test_stlsq_under_the_trivial_group_is_pysindys_stlsq(unbias):
    """Every round, not only the first change of support, as ps.STLSQ."""
    theta, y = _support_changing_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ps.STLSQ(threshold=0.15, alpha=0.05, unbias=unbias).fit(theta, y)
    opt = EquivariantSTLSQ(
        SymmetryGroup(n=1), threshold=0.15, alpha=0.05, unbias=unbias
    ).fit(theta, y)
    supports = [int(np.count_nonzero(h)) for h in ref.history_]
    assert supports == [10, 7, 4, 3, 2, 2]  # the reference really iterates
    np.testing.assert_allclose(opt.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    assert [int(np.count_nonzero(h)) for h in opt.history_] == supports
    assert opt.n_iter_ == len(supports) - 1 and opt.converged_


def _closed_form_ridge(A, y, ridge):
    return np.linalg.solve(A.T @ A + np.diag(ridge), A.T @ y)


def _rows(seed=3, n=30, r=5):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, r)) * rng.uniform(0.1, 10, size=r)  # unequal scales
    return A, rng.normal(size=n)


@pytest.mark.parametrize("path", ["rows", "statistics"])
def test_reduced_ridge_solve_is_the_closed_form(path):
    """argmin ||A c - y||^2 + sum_j ridge_j c_j^2 = (A^T A + diag(ridge))^-1 A^T y."""
    A, y = _rows()
    Q = sparse.identity(A.shape[1], format="csr")
    if path == "rows":
        problem = ReducedLeastSquares.from_rows(Q, A, y[:, None])
    else:
        problem = ReducedLeastSquares.from_statistics(
            Q, A.T @ A, (A.T @ y)[:, None], float(y @ y)
        )
    ridge = np.array([0.0, 2.0, 5.0, 0.5, 30.0])
    np.testing.assert_allclose(
        problem.solve(None, ridge), _closed_form_ridge(A, y, ridge), rtol=1e-9
    )
    np.testing.assert_allclose(
        problem.solve(None, 3.0), _closed_form_ridge(A, y, np.full(5, 3.0)), rtol=1e-9
    )
    # On a support: the other coordinates are exactly zero, the rest is the
    # closed form of the sub-design.
    active = np.array([True, False, True, True, False])
    c = problem.solve(active, ridge)
    assert np.all(c[~active] == 0)
    np.testing.assert_allclose(
        c[active], _closed_form_ridge(A[:, active], y, ridge[active]), rtol=1e-9
    )
    # Residual and the unexplained part.
    c0 = problem.solve()
    np.testing.assert_allclose(c0, np.linalg.lstsq(A, y, rcond=None)[0], rtol=1e-9)
    for c in (c0, np.arange(5.0)):
        np.testing.assert_allclose(
            problem.residual(c), np.sum((A @ c - y) ** 2), rtol=1e-9
        )


def test_relaxation_step_is_the_closed_form():
    """SR3's step argmin ||A c - y||^2 + ||c - w||^2 / nu."""
    A, y = _rows(seed=5)
    problem = ReducedLeastSquares.from_rows(
        sparse.identity(A.shape[1], format="csr"), A, y[:, None]
    )
    w = np.array([0.3, -1.0, 2.0, 0.0, 0.7])
    for nu in (0.1, 1.0, 7.0):
        expected = np.linalg.solve(A.T @ A + np.eye(5) / nu, A.T @ y + w / nu)
        np.testing.assert_allclose(problem.relaxation(nu)(w), expected, rtol=1e-9)


def test_rescaled_problem_is_the_same_problem_in_new_units():
    """c' = u * c: the solution in new units is u times the old one."""
    A, y = _rows(seed=7)
    problem = ReducedLeastSquares.from_rows(
        sparse.identity(A.shape[1], format="csr"), A, y[:, None]
    )
    u = np.array([2.0, 0.5, 1.0, 4.0, 0.25])
    np.testing.assert_allclose(
        problem.rescaled(u).solve(), u * problem.solve(), rtol=1e-9
    )


def test_rows_of_targets_without_terms_count_as_unexplained():
    """A target with no symmetric term keeps all of its sum of squares."""
    rng = np.random.default_rng(2)
    theta, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    Q = np.vstack([np.eye(3), np.zeros((3, 3))])  # target 0 only, a dense basis
    c = np.linalg.lstsq(theta, y[:, 0], rcond=None)[0]
    expected = np.sum((theta @ c - y[:, 0]) ** 2) + np.sum(y[:, 1] ** 2)
    for basis in (Q, sparse.csc_matrix(Q)):
        problem = ReducedLeastSquares.from_rows(basis, theta, y)
        np.testing.assert_allclose(problem.solve(), c, rtol=1e-9)
        np.testing.assert_allclose(
            problem.residual(problem.solve()), expected, rtol=1e-9
        )


@pytest.mark.parametrize("regularizer", ["l0", "l1", "l2"])
@pytest.mark.parametrize("unbias", [False, True])
def test_sr3_under_the_trivial_group_is_pysindys_sr3(regularizer, unbias):
    theta, y = _support_changing_rows()
    kw = dict(reg_weight_lam=0.02, regularizer=regularizer, relax_coeff_nu=0.5)
    kw.update(max_iter=500, tol=1e-10, unbias=unbias)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ps.SR3(**kw).fit(theta, y)
        opt = EquivariantSR3(SymmetryGroup(n=1), **kw).fit(theta, y)
    np.testing.assert_allclose(opt.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(opt.coef_full_, ref.coef_full_, rtol=1e-6, atol=1e-8)


def test_stlsq_keeps_a_coefficient_equal_to_the_threshold():
    """pysindy keeps |c| >= threshold; an exact tie must not be dropped."""
    theta, y = np.eye(2), np.array([[0.5], [1.0]])
    ref = ps.STLSQ(threshold=0.5, alpha=0.0).fit(theta, y)
    opt = EquivariantSTLSQ(SymmetryGroup(n=1), threshold=0.5, alpha=0.0).fit(theta, y)
    np.testing.assert_array_equal(ref.coef_, [[0.5, 1.0]])
    np.testing.assert_array_equal(opt.coef_, ref.coef_)


def test_stlsq_threshold_above_every_term_gives_zero_with_a_warning():
    theta, y = _support_changing_rows()
    opt = EquivariantSTLSQ(SymmetryGroup(n=1), threshold=100.0, max_iter=5)
    with pytest.warns(UserWarning, match="removed every symmetric term"):
        opt.fit(theta, y)
    assert np.all(opt.coef_ == 0)
    assert opt.converged_ is True and opt.n_iter_ == 1 and len(opt.history_) == 2


def test_stlsq_ridge_spares_unlisted_terms():
    """sparse_ind: only listed columns are thresholded and penalised.

    threshold 0 and no unbiasing leave the ridge solution with penalty alpha
    on the listed columns only: (A^T A + alpha diag(listed))^-1 A^T y.
    """
    theta, y = _support_changing_rows()
    listed = [0, 2, 4, 6, 8]
    opt = EquivariantSTLSQ(
        SymmetryGroup(n=1), threshold=0.0, alpha=5.0, sparse_ind=listed, unbias=False
    ).fit(theta, y)
    ridge = np.zeros(theta.shape[1])
    ridge[listed] = 5.0
    expected = _closed_form_ridge(theta, y[:, 0], ridge)
    np.testing.assert_allclose(opt.coef_[0], expected, rtol=1e-9)


def test_sr3_trimming_is_pysindys_trimming():
    """Three outliers: the same weights and coefficients as ps.SR3."""
    theta, y = _support_changing_rows()
    y = y.copy()
    y[[3, 17, 30]] += 5.0
    kw = dict(reg_weight_lam=0.02, relax_coeff_nu=0.5, max_iter=200, tol=1e-10)
    kw["trimming_fraction"] = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ps.SR3(**kw).fit(theta, y)
        opt = EquivariantSR3(SymmetryGroup(n=1), **kw).fit(theta, y)
    np.testing.assert_allclose(opt.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(opt.trimming_array, ref.trimming_array, atol=1e-12)
    assert set(np.argsort(opt.trimming_array)[:3]) <= {3, 17, 30, 29}
    assert len(opt.history_) == len(ref.history_)
    assert opt.n_iter_ == len(opt.history_) - 1 and opt.converged_
    opt.disable_trimming()
    assert opt.trimming_fraction == 0.0
    opt.enable_trimming(0.2)
    assert opt.trimming_fraction == 0.2


@pytest.mark.parametrize("regularizer", ["l0", "l1"])
def test_sr3_threshold_alias_is_the_documented_weight(regularizer):
    """l0: lam = threshold^2 / (2 nu) (hard threshold); l1: lam = threshold / nu."""
    theta, y = _support_changing_rows()
    t, nu = 0.1, 0.5
    lam = t**2 / (2 * nu) if regularizer == "l0" else t / nu
    kw = dict(regularizer=regularizer, relax_coeff_nu=nu, max_iter=300, tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ps.SR3(reg_weight_lam=lam, **kw).fit(theta, y)
        opt = EquivariantSR3(SymmetryGroup(n=1), threshold=t, **kw).fit(theta, y)
    np.testing.assert_allclose(opt.coef_, ref.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("lam", [np.nan, np.inf, -0.1])
def test_sr3_rejects_a_bad_weight(lam):
    theta, y = _support_changing_rows()
    with pytest.raises(ValueError, match="reg_weight_lam"):
        EquivariantSR3(SymmetryGroup(n=1), reg_weight_lam=lam).fit(theta, y)


def _badly_scaled_rows():
    theta, y = _support_changing_rows()
    return theta * np.array([1, 10, 0.1, 1, 5, 1, 0.2, 1, 1, 3.0]), y


@pytest.mark.parametrize("threshold", [0.5, 1.0])
def test_normalized_columns_are_pysindys(threshold):
    """Thresholds in units where every column has unit norm, as pysindy."""
    theta, y = _badly_scaled_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ps.STLSQ(threshold=threshold, alpha=0.05, normalize_columns=True)
        opt = EquivariantSTLSQ(
            SymmetryGroup(n=1), threshold=threshold, alpha=0.05, normalize_columns=True
        )
        np.testing.assert_allclose(
            opt.fit(theta, y).coef_, ref.fit(theta, y).coef_, rtol=1e-9, atol=1e-12
        )
        kw = dict(reg_weight_lam=threshold / 10, normalize_columns=True)
        kw.update(max_iter=300, tol=1e-10)
        ref = ps.SR3(**kw).fit(theta, y)
        opt = EquivariantSR3(SymmetryGroup(n=1), **kw).fit(theta, y)
    np.testing.assert_allclose(opt.coef_, ref.coef_, rtol=1e-9, atol=1e-12)


def test_small_ridge_weights_still_count():
    A, y = _rows(seed=11)
    problem = ReducedLeastSquares.from_rows(
        sparse.identity(A.shape[1], format="csr"), A, y[:, None]
    )
    ridge = np.full(5, 0.5)
    np.testing.assert_allclose(
        problem.solve(None, ridge), _closed_form_ridge(A, y, ridge), rtol=1e-9
    )


@pytest.mark.parametrize("path", ["rows", "statistics"])
def test_one_term_per_target(path):
    """Q uses library column 0 for each of two targets: two 1-term fits."""
    rng = np.random.default_rng(4)
    theta, y = rng.normal(size=(25, 3)), rng.normal(size=(25, 2))
    Q = np.zeros((6, 2))
    Q[0, 0] = Q[3, 1] = 1.0
    if path == "rows":
        problem = ReducedLeastSquares.from_rows(Q, theta, y)
    else:
        problem = ReducedLeastSquares.from_statistics(
            Q, theta.T @ theta, theta.T @ y, float(np.sum(y**2))
        )
    x = theta[:, 0]
    expected = (x @ y) / (x @ x)
    np.testing.assert_allclose(problem.solve(), expected, rtol=1e-9)
    rss = np.sum((y - np.outer(x, expected)) ** 2)
    np.testing.assert_allclose(problem.residual(expected), rss, rtol=1e-9)


@pytest.mark.parametrize("path", ["rows", "statistics"])
def test_duplicate_columns_get_the_minimum_norm_solution(path):
    """Two equal columns share the coefficient equally (minimum norm)."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=30)
    theta = np.stack([x, x, rng.normal(size=30)], axis=1)
    y = (3 * x + 0.5 * theta[:, 2] + 0.01 * rng.normal(size=30))[:, None]
    Q = sparse.identity(3, format="csr")
    if path == "rows":
        problem = ReducedLeastSquares.from_rows(Q, theta, y)
    else:
        problem = ReducedLeastSquares.from_statistics(
            Q, theta.T @ theta, theta.T @ y, float(np.sum(y**2))
        )
    expected = np.linalg.lstsq(theta, y[:, 0], rcond=None)[0]
    np.testing.assert_allclose(problem.solve(), expected, rtol=1e-7)
    assert problem.solve()[0] == pytest.approx(problem.solve()[1], rel=1e-7)
    rss = np.sum((theta @ expected - y[:, 0]) ** 2)
    np.testing.assert_allclose(problem.residual(expected), rss, rtol=1e-6)


def test_a_basis_without_terms_in_any_target_fits_zero():
    rng = np.random.default_rng(6)
    theta, y = rng.normal(size=(10, 2)), rng.normal(size=(10, 1))
    problem = ReducedLeastSquares.from_rows(sparse.csr_matrix((2, 3)), theta, y)
    assert problem.solve().tolist() == [0.0, 0.0, 0.0]
    assert problem.residual(np.zeros(3)) == pytest.approx(np.sum(y**2))
