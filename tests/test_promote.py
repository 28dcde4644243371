"""Symmetry promotion: solver agreement, recovery of symmetry, respect for evidence."""

import warnings

import numpy as np
import pysindy as ps
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from symsindy import LieAlgebra, Monomials, datasets, discover_symmetries
from symsindy.polynomials import monomial_exponents
from symsindy.promote import SymmetryPromotingSR3, promotion_path


def _hopf_problem(noise, seed=0, eps=0.0, n_traj=6):
    sys = datasets.get_system("hopf", eps=eps)
    t = np.arange(0, 8, 0.01)
    xs = datasets.simulate(sys, n_traj, t, noise=noise, seed=seed)
    x = np.vstack(xs)
    xdot = np.vstack([ps.SmoothedFiniteDifference()(tr, t) for tr in xs])
    theta = np.asarray(ps.PolynomialLibrary(degree=3).fit_transform(x))
    return theta, xdot, sys.coefficients(3)


def _rotation_sv(coef):
    """Smallest relative singular value over gl(2), and the (snapped) group."""
    G = discover_symmetries(
        coef,
        library=Monomials(2, 3),
        discrete=None,
        inner_product="coefficients",
        tol=2e-2,
    )
    return G.report.relative_singular_values[-1], G


@pytest.fixture(scope="module")
def hopf3():
    return _hopf_problem(0.03)


@pytest.mark.parametrize(
    "sym_weight, l1_weight", [(1e-3, 0.0), (1e-2, 0.0), (1e-2, 1e-3)]
)
def test_admm_and_cvxpy_reach_the_same_optimum(hopf3, sym_weight, l1_weight):
    """Same convex problem: objectives agree to 1e-6 relative, coefficients to 1e-3."""
    theta, xdot, _ = hopf3
    theta, xdot = theta[::4], xdot[::4]
    kw = dict(
        candidates=LieAlgebra.gl(2),
        sym_weight=sym_weight,
        l1_weight=l1_weight,
        reweight=0,
    )
    fast = SymmetryPromotingSR3(**kw, tol=1e-9, max_iter=50_000).fit(theta, xdot)
    ref = SymmetryPromotingSR3(**kw, solver="cvxpy").fit(theta, xdot)
    assert fast.converged_
    assert abs(fast.objective_ - ref.objective_) <= 1e-6 * abs(ref.objective_)
    np.testing.assert_allclose(fast.coef_, ref.coef_, atol=1e-3)


@pytest.mark.parametrize("sym_weight", [1e-4, 3e-4, 1e-3])
def test_noisy_hopf_promotion_recovers_exactly_the_rotation(hopf3, sym_weight):
    """3% noise, gl(2) candidates, threshold 0.05, reweighted nuclear norm.

    For sym_weight in [1e-4, 1e-3] the promoted model's algebra is the rotation
    (relative singular value ~1e-9, snapped to J), while plain STLSQ's rotation
    singular value is 2.6e-2. At sym_weight = 1e-2 the model is still exactly
    rank-deficient (dim 1) but the shrunk fit prefers a slightly elliptic rotation
    (J conjugated by diag(1, 1.03)), which no longer snaps to J.
    """
    theta, xdot, true = hopf3
    opt = SymmetryPromotingSR3(LieAlgebra.gl(2), sym_weight=sym_weight, threshold=0.05)
    opt.fit(theta, xdot)
    sv, G = _rotation_sv(opt.coef_)
    assert G.dim == 1
    assert np.allclose(np.abs(G.generators[0]), np.abs([[0, 1], [1, 0]]) / np.sqrt(2))
    plain_sv, _ = _rotation_sv(ps.STLSQ(threshold=0.1).fit(theta, xdot).coef_)
    assert plain_sv >= 10 * sv
    np.testing.assert_array_equal(opt.coef_ != 0, true != 0)


@pytest.mark.slow
@pytest.mark.parametrize("sym_weight", [1e-4, 1e-3])
def test_genuine_symmetry_breaking_term_is_kept(sym_weight):
    """Hopf + 0.3 x^2: the promoted fit keeps x^2 (coefficient > 0.2) and breaks
    the rotation (relative singular value > 0.1) for sym_weight in [1e-4, 1e-3]."""
    theta, xdot, true = _hopf_problem(0.03, eps=0.3)
    opt = SymmetryPromotingSR3(LieAlgebra.gl(2), sym_weight=sym_weight, threshold=0.05)
    opt.fit(theta, xdot)
    assert opt.coef_[0, 3] > 0.2
    sv, G = _rotation_sv(opt.coef_)
    assert G.dim == 0 and sv > 0.1


def test_snap_refit_is_exactly_symmetric_and_debiased(hopf3):
    theta, xdot, true = hopf3
    shrunk = SymmetryPromotingSR3(LieAlgebra.gl(2), sym_weight=1e-2, threshold=0.05)
    snapped = clone(shrunk).set_params(snap=True)
    shrunk.fit(theta, xdot)
    snapped.fit(theta, xdot)
    assert snapped.symmetry_.dim == 1
    err = lambda c: np.linalg.norm(c - true) / np.linalg.norm(true)  # noqa: E731
    assert err(snapped.coef_) < err(shrunk.coef_)
    assert err(snapped.coef_) < 0.05
    sv, _ = _rotation_sv(snapped.coef_)
    assert sv < 1e-10


@pytest.mark.parametrize("solver", ["admm", "cvxpy"])
def test_interpolation_recovers_a_ridge_function_from_few_samples(solver):
    """m = 5, r = 1: 14 samples for 21 unknowns suffice (paper's median 13.5)."""
    lib, x, y, true = datasets.ridge_function(5, 1, 14, seed=0)
    theta = lib.evaluate(x)
    opt = SymmetryPromotingSR3(
        LieAlgebra.translations(5),
        mode="interpolate",
        output="invariant",
        library=Monomials(5, 2),
        reweight=0,
        solver=solver,
        tol=1e-9,
        max_iter=20_000,
    ).fit(theta, y)
    err = np.abs(opt.coef_[0] - true).max() / np.abs(true).max()
    assert err < 5e-3
    # Least squares (minimum norm) with the same samples does not recover it.
    ls = np.linalg.lstsq(theta, y, rcond=None)[0]
    assert np.abs(ls - true).max() / np.abs(true).max() > 5e-2


def test_stopping_early_warns_and_reports(hopf3):
    theta, xdot, _ = hopf3
    with pytest.warns(ConvergenceWarning, match="before convergence"):
        opt = SymmetryPromotingSR3(LieAlgebra.gl(2), max_iter=3, reweight=0).fit(
            theta, xdot
        )
    assert not opt.converged_ and opt.n_iter_ == 3
    assert opt.primal_residual_ > 0 and opt.dual_residual_ >= 0


@pytest.mark.slow
def test_regularisation_path_breaks_symmetries_in_order(hopf3):
    import matplotlib.pyplot as plt

    theta, xdot, _ = hopf3
    path = promotion_path(
        SymmetryPromotingSR3(LieAlgebra.gl(2), threshold=0.05),
        theta[::2],
        xdot[::2],
        sym_weights=np.logspace(0, -4, 6),
        progress=False,
    )
    assert path.coefs.shape == (6, 2, 10)
    assert path.dims[0] == 4  # the zero model: everything symmetric
    assert path.dims[-1] == 1  # only the rotation survives weak promotion
    assert np.all(np.diff(path.dims) <= 0)
    assert path.breaking_order()[0] == (1.0, 4)
    fig = path.plot()
    assert fig.axes[0].get_xscale() == "log"
    plt.close(fig)


def test_sklearn_contract_and_parameter_errors(hopf3):
    theta, xdot, _ = hopf3
    opt = SymmetryPromotingSR3(LieAlgebra.gl(2))
    assert opt.set_params(sym_weight=0.5) is opt
    assert clone(opt).get_params()["sym_weight"] == 0.5
    with pytest.raises(ValueError, match="reweight=0"):
        SymmetryPromotingSR3(solver="cvxpy").fit(theta, xdot)
    with pytest.raises(ValueError, match="normalize_columns"):
        SymmetryPromotingSR3(normalize_columns=True).fit(theta, xdot)
    with pytest.raises(ValueError, match="R\\^3"):
        SymmetryPromotingSR3(LieAlgebra.gl(3)).fit(theta, xdot)
    with pytest.raises(ValueError, match="candidate_weights"):
        SymmetryPromotingSR3(candidate_weights=[1.0, 2.0]).fit(theta, xdot)
    with pytest.raises(ValueError, match="NaN"):
        bad = theta.copy()
        bad[0, 0] = np.nan
        SymmetryPromotingSR3().fit(bad, xdot)


def test_works_inside_sindy_with_print(capsys):
    t = np.arange(0, 5, 0.01)
    xs = datasets.simulate("hopf", 4, t, noise=0.01, seed=0)
    model = ps.SINDy(
        optimizer=SymmetryPromotingSR3(
            LieAlgebra.gl(2), sym_weight=1e-3, threshold=0.05
        ),
        feature_library=ps.PolynomialLibrary(degree=3),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(xs, t=t)
    model.print()
    assert "x0^3" in capsys.readouterr().out
    assert monomial_exponents(2, 3).shape[0] == model.coefficients().shape[1]


def test_parallel_path_matches_serial_cold_starts(hopf3):
    theta, xdot, _ = hopf3
    template = SymmetryPromotingSR3(
        LieAlgebra.gl(2), threshold=0.05, reweight=0, tol=1e-9, max_iter=20_000
    )
    weights = [1e-1, 1e-3]
    serial = promotion_path(template, theta[::4], xdot[::4], weights, progress=False)
    parallel = promotion_path(
        template, theta[::4], xdot[::4], weights, progress=False, n_jobs=2
    )
    np.testing.assert_allclose(parallel.coefs, serial.coefs, atol=1e-5)
    np.testing.assert_array_equal(parallel.dims, serial.dims)


@pytest.mark.parametrize("sym_weight", [1e-4, 1e-2])
def test_data_inner_product_promotion_snaps_to_the_rotation(hopf3, sym_weight):
    """Measuring Lie derivatives over the data (L2 at the training states)."""
    theta, xdot, true = hopf3
    opt = SymmetryPromotingSR3(
        LieAlgebra.gl(2),
        sym_weight=sym_weight,
        threshold=0.05,
        inner_product="data",
        snap=True,
    ).fit(theta, xdot)
    assert opt.symmetry_.dim == 1 and opt.symmetry_.report.inner_product == "data"
    assert "rotation" in str(opt.symmetry_)
    assert np.linalg.norm(opt.coef_ - true) / np.linalg.norm(true) < 0.05
