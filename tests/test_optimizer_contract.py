"""Optimizer numerics, sufficient statistics, convergence and parameter contracts.

Each test here fails on symsindy 0.1 (see the defects of issues 11 and 16).
"""

import functools
import warnings
from types import SimpleNamespace

import numpy as np
import pysindy as ps
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from symsindy import (
    EquivariantSR3,
    EquivariantSTLSQ,
    LieAlgebra,
    LiePolynomialLibrary,
    Monomials,
    SymmetryGroup,
    datasets,
)

OPTIMIZERS = [EquivariantSTLSQ, EquivariantSR3]
REFLECTION = SymmetryGroup(discrete=[np.diag([-1.0, -1.0, 1.0])])


def _lorenz_rows(degree, n=2000, seed=0):
    """Noise-free Lorenz derivatives at points spread over its attractor's box."""
    sys = datasets.get_system("lorenz")
    rng = np.random.default_rng(seed)
    x = rng.uniform([-20, -25, 0], [20, 25, 50], size=(n, 3))
    return Monomials(3, degree).evaluate(x), sys.rhs(x), sys.coefficients(degree)


def _stats(theta, y, w=None):
    w = np.ones(len(theta)) if w is None else w
    return SimpleNamespace(
        gram=theta.T @ (w[:, None] * theta),
        xty=theta.T @ (w[:, None] * y),
        yty=y.T @ (w[:, None] * y),
        n_samples=len(theta),
    )


def _hopf_rows(seed=0, n=300, noise=0.05):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    theta = Monomials(2, 3).evaluate(x)
    y = datasets.get_system("hopf").rhs(x) + noise * rng.normal(size=(n, 2))
    return theta, y


# ---------------------------------------------------------------- numerics
@pytest.mark.slow
@pytest.mark.parametrize("Opt", OPTIMIZERS)
def test_degree5_noise_free_lorenz_with_reflection_is_recovered_to_1e8(Opt):
    """Library condition number ~1e9: the squared normal equations gave the zero
    model (relative error 0.9995); QR on the scaled reduced design is exact."""
    theta, y, true = _lorenz_rows(5)
    opt = Opt(REFLECTION, threshold=0.1).fit(theta, y)
    assert np.linalg.norm(opt.coef_ - true) / np.linalg.norm(true) <= 1e-8
    assert opt.equivariance_residual() < 1e-12


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("Opt", OPTIMIZERS)
def test_sufficient_statistics_give_the_in_memory_fit(Opt, normalize):
    theta, y = _hopf_rows()
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(theta))
    opt = Opt(LieAlgebra.so(2), threshold=0.1, normalize_columns=normalize)
    rows = clone(opt).fit(theta, y, sample_weight=w)
    stats = clone(opt).fit_statistics(_stats(theta, y, w))
    np.testing.assert_allclose(stats.coef_, rows.coef_, rtol=0, atol=1e-10)
    if not normalize:
        true = datasets.get_system("hopf").coefficients(3)
        np.testing.assert_array_equal(rows.coef_ != 0, true != 0)


def test_statistics_path_recovers_degree5_lorenz():
    theta, y, true = _lorenz_rows(5)
    opt = EquivariantSTLSQ(REFLECTION, threshold=0.1, library=Monomials(3, 5))
    opt.fit_statistics(_stats(theta, y))
    assert np.linalg.norm(opt.coef_ - true) / np.linalg.norm(true) <= 1e-8


def test_bad_statistics_get_clear_errors():
    theta, y = _hopf_rows()
    opt = EquivariantSTLSQ(LieAlgebra.so(2))
    with pytest.raises(TypeError, match="gram, xty, yty and n_samples"):
        opt.fit_statistics(SimpleNamespace(gram=theta.T @ theta))
    bad = _stats(theta, y)
    bad.xty = bad.xty[:3]
    with pytest.raises(ValueError, match="stats.xty"):
        opt.fit_statistics(bad)


def test_least_squares_without_sparsity_matches_scipy_lstsq_in_full_coordinates():
    """Trivial group, no threshold: the plain least-squares solution."""
    rng = np.random.default_rng(0)
    theta, y = rng.normal(size=(50, 6)), rng.normal(size=(50, 2))
    opt = EquivariantSTLSQ(SymmetryGroup(n=2), threshold=0.0, alpha=0.0).fit(theta, y)
    np.testing.assert_allclose(opt.coef_, np.linalg.lstsq(theta, y)[0].T, atol=1e-12)


# ------------------------------------------------------------- convergence
def test_sr3_max_iter_zero_returns_the_start_with_a_convergence_warning():
    """0.1: the constructor raised, and set_params(max_iter=0) then fit raised
    UnboundLocalError."""
    theta, y = _hopf_rows()
    opt = EquivariantSR3(LieAlgebra.so(2), max_iter=0)
    with pytest.warns(ConvergenceWarning):
        opt.fit(theta, y)
    assert opt.n_iter_ == 0 and opt.converged_ is False


@pytest.mark.parametrize("Opt", OPTIMIZERS)
def test_stopping_at_max_iter_warns_convergence_warning(Opt):
    theta, y = _hopf_rows()
    opt = Opt(LieAlgebra.so(2), threshold=0.1, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="did not converge"):
            opt.fit(theta, y)
    with pytest.warns(ConvergenceWarning):
        opt.fit(theta, y)
    assert opt.n_iter_ == 1 and opt.converged_ is False


@pytest.mark.parametrize("Opt", OPTIMIZERS)
def test_converged_fit_reports_iterations_and_no_warning(Opt):
    theta, y = _hopf_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt = Opt(LieAlgebra.so(2), threshold=0.1, max_iter=200).fit(theta, y)
    assert opt.converged_ is True and 1 <= opt.n_iter_ < 200


# -------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "Opt, params, error, match",
    [
        (EquivariantSTLSQ, dict(threshold=-1), ValueError, "threshold"),
        (EquivariantSTLSQ, dict(alpha=-1), ValueError, "alpha"),
        (EquivariantSTLSQ, dict(max_iter=-1), ValueError, "max_iter"),
        (EquivariantSTLSQ, dict(max_iter=2.5), TypeError, "max_iter"),
        (EquivariantSTLSQ, dict(ridge_kw={"positive": True}), ValueError, "ridge_kw"),
        (EquivariantSR3, dict(relax_coeff_nu=0), ValueError, "relax_coeff_nu"),
        (EquivariantSR3, dict(tol=0), ValueError, "tol"),
        (EquivariantSR3, dict(reg_weight_lam=-1), ValueError, "reg_weight_lam"),
        (EquivariantSR3, dict(trimming_fraction=2), ValueError, "trimming_fraction"),
        (EquivariantSR3, dict(regularizer="l3"), NotImplementedError, "regularizer"),
        (EquivariantSR3, dict(regularizer="weighted_l0"), ValueError, "array"),
        (EquivariantSR3, dict(threshold=0.2, reg_weight_lam=0.1), ValueError, "both"),
        (
            EquivariantSR3,
            dict(trimming_fraction=0.1, unbias=True),
            ValueError,
            "unbias",
        ),
    ],
)
def test_parameters_are_stored_by_init_and_validated_at_fit(Opt, params, error, match):
    theta, y = _hopf_rows()
    opt = Opt(LieAlgebra.so(2), **params)  # never raises: sklearn's contract
    assert clone(opt).get_params()["symmetry"] is not None
    with pytest.raises(error, match=match):
        opt.fit(theta, y)


def test_defaults_equal_pysindy_for_shared_parameter_names():
    for ours, theirs in [
        (EquivariantSTLSQ(), ps.STLSQ()),
        (EquivariantSR3(), ps.SR3()),
    ]:
        shared = set(ours.get_params()) & set(theirs.get_params())
        assert {"max_iter", "unbias", "normalize_columns"} <= shared
        for name in shared - {"reg_weight_lam"}:
            assert ours.get_params()[name] == theirs.get_params()[name], name
    assert EquivariantSR3().reg_weight_lam == ps.SR3().reg_weight_lam


@pytest.mark.parametrize("regularizer", ["L0", "l0", "L1", "l1", "L2"])
def test_sr3_accepts_pysindy_regularizer_spellings(regularizer):
    theta, y = _hopf_rows()
    opt = EquivariantSR3(LieAlgebra.so(2), regularizer=regularizer, max_iter=200)
    opt.fit(theta, y)
    assert opt.equivariance_residual() < 1e-12


def test_sr3_l0_default_matches_ps_sr3_under_the_trivial_group():
    """Same algorithm, same defaults: identical to pysindy without a symmetry."""
    rng = np.random.default_rng(3)
    theta, y = _hopf_rows(seed=3)
    ours = EquivariantSR3(SymmetryGroup(n=2), max_iter=200).fit(theta, y)
    theirs = ps.SR3(max_iter=200).fit(theta, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-8)
    ours = EquivariantSTLSQ(SymmetryGroup(n=2)).fit(theta, y)
    theirs = ps.STLSQ().fit(theta, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-8)
    del rng


def test_sr3_threshold_alias_equals_reg_weight_lam():
    theta, y = _hopf_rows()
    a = EquivariantSR3(LieAlgebra.so(2), threshold=0.3).fit(theta, y)
    b = EquivariantSR3(LieAlgebra.so(2), reg_weight_lam=0.3**2 / 2).fit(theta, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_stlsq_sparse_ind_keeps_unlisted_terms():
    theta, y = _hopf_rows()
    # thresholding everything else away, the linear terms (columns 1, 2) stay
    opt = EquivariantSTLSQ(LieAlgebra.so(2), threshold=100.0, sparse_ind=range(3, 10))
    opt.sparse_ind = list(range(3, 10))
    opt.fit(theta, y)
    assert np.all(opt.coef_[:, 3:] == 0) and np.all(opt.coef_[:, 1:3] != 0)


# ------------------------------------------------------------ sample weights
@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(300), "non-negative"),
        (np.ones(299), r"shape \(300,\)"),
        (np.zeros(300), "zero for every sample"),
    ],
)
@pytest.mark.parametrize("Opt", OPTIMIZERS)
def test_bad_sample_weights_get_clear_errors(Opt, weights, match):
    """0.1: negative weights reached LAPACK, wrong lengths a broadcasting error."""
    theta, y = _hopf_rows()
    with pytest.raises(ValueError, match=match):
        Opt(LieAlgebra.so(2)).fit(theta, y, sample_weight=weights)


@pytest.mark.parametrize("Opt", OPTIMIZERS)
def test_non_uniform_weights_keep_library_inference(Opt):
    """Weights are applied after the library is checked against the data."""
    theta, y = _hopf_rows()
    w = np.linspace(0.1, 3.0, len(theta))
    opt = Opt(LieAlgebra.so(2), threshold=0.1).fit(theta, y, sample_weight=w)
    assert opt.equivariance_residual() < 1e-12


def test_complex_library_matrix_is_refused():
    theta, y = _hopf_rows()
    with pytest.raises(TypeError, match="real"):
        EquivariantSTLSQ(LieAlgebra.so(2)).fit(theta + 0j, y)


# ------------------------------------------------------------------ ensembles
@pytest.mark.slow
@pytest.mark.parametrize("Opt", OPTIMIZERS)
def test_bagged_ensemble_keeps_the_symmetry(Opt):
    """0.1: the median left the symmetric subspace (2.9e-3 / 5.8e-2 on coupled
    Hopf) while equivariance_residual reported the last member (1e-15)."""
    J = LieAlgebra.so(2).matrices[0]
    rot = LieAlgebra.from_matrices(np.kron(np.eye(2), J)[None])
    group = SymmetryGroup(rot, discrete=[np.eye(4)[[2, 3, 0, 1]]])
    sys = datasets.get_system("coupled_hopf", k=2, coupling=0.3)
    t = np.arange(0, 4, 0.01)
    xs = datasets.simulate(sys, 3, t, noise=0.05, seed=0)
    inner = Opt(group, threshold=0.05)
    ens = ps.EnsembleOptimizer(opt=inner, bagging=True, n_models=7)
    np.random.seed(0)  # noqa: NPY002 (pysindy's ensemble draws from the global RNG)
    model = ps.SINDy(optimizer=ens, feature_library=ps.PolynomialLibrary(degree=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(xs, t=t)
    coef = np.asarray(model.coefficients())
    assert inner.basis_.residual(coef) < 1e-12
    np.testing.assert_array_equal(ens.coef_, inner.coef_)
    assert inner.equivariance_residual() < 1e-12
    # each member was symmetric, and the aggregate is their median in the
    # symmetric coordinates
    members = np.array([c.ravel()[inner.basis_.pivots] for c in ens.coef_list])
    for c in ens.coef_list:
        assert inner.basis_.residual(c) < 1e-12
    np.testing.assert_allclose(
        inner.reduced_coef_, np.median(members, axis=0), rtol=0, atol=1e-14
    )


def test_library_ensemble_is_refused_with_a_reason():
    theta, y = _hopf_rows()
    ens = ps.EnsembleOptimizer(
        opt=EquivariantSTLSQ(LieAlgebra.so(2)), library_ensemble=True, n_models=3
    )
    with pytest.raises(ValueError, match="library_ensemble"):
        ens.fit(theta, y)


# -------------------------------------------------------------- libraries
@pytest.mark.parametrize("degree", [1, 2, 3])
@pytest.mark.parametrize("include_bias", [True, False])
@pytest.mark.parametrize("order", ["C", "F"])
def test_lie_library_accepts_every_supported_polynomial_library_value(
    degree, include_bias, order
):
    """0.1: include_interaction=True and interaction_only=False raised TypeError.

    Every supported value of pysindy 2.1's ``PolynomialLibrary`` arguments
    gives pysindy's features and names, and a symmetric fit accepts it."""
    kw = dict(
        degree=degree,
        include_interaction=True,
        interaction_only=False,
        include_bias=include_bias,
        order=order,
    )
    x = np.random.default_rng(0).normal(size=(40, 2))
    lib = LiePolynomialLibrary(**kw)
    ref = ps.PolynomialLibrary(**kw)
    np.testing.assert_array_equal(
        np.asarray(lib.fit_transform(x)), np.asarray(ref.fit_transform(x))
    )
    assert lib.get_feature_names() == ref.get_feature_names()
    assert lib.get_params() == ref.get_params()
    y = x @ np.array([[-1.0, 2.0], [-2.0, -1.0]])  # a I + b J, rotation-symmetric
    opt = EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.1)  # library inferred
    ps.SINDy(feature_library=lib, optimizer=opt).fit(x, t=0.1, x_dot=y)
    assert opt.equivariance_residual() < 1e-12
    names = lib.get_feature_names()
    linear = [names.index("x0"), names.index("x1")]
    np.testing.assert_allclose(opt.coef_[:, linear], [[-1, -2], [2, -1]], atol=1e-10)


@pytest.mark.parametrize(
    "bad", [dict(include_interaction=False), dict(interaction_only=True)]
)
def test_lie_library_refuses_libraries_not_closed_under_linear_maps_at_fit(bad):
    x = np.random.default_rng(0).normal(size=(5, 2))
    lib = LiePolynomialLibrary(degree=2, **bad)  # constructs (scikit-learn contract)
    with pytest.raises(ValueError, match="closed under linear maps"):
        lib.fit(x)


def test_weak_form_library_is_read_through_its_function_library():
    sys = datasets.get_system("hopf")
    t = np.linspace(0, 10, 1000)
    xs = datasets.simulate(sys, 4, t, seed=0)
    weak = ps.WeakPDELibrary(
        function_library=ps.PolynomialLibrary(degree=3), spatiotemporal_grid=t, K=200
    )
    opt = EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.1, library=weak)
    model = ps.SINDy(optimizer=opt, feature_library=weak)
    model.fit(xs, t=t)
    np.testing.assert_allclose(opt.coef_, sys.coefficients(3), atol=0.02)
    assert opt.equivariance_residual() < 1e-12


# ------------------------------------------------- weak form without library=
LORENZ_T = np.linspace(0, 5, 2001)


@functools.cache
def _lorenz_trajectories(noise):
    return datasets.simulate("lorenz", 2, LORENZ_T, noise=noise, seed=0)


def _weak_lorenz_fit(opt, noise, function_library=None, seed=0):
    """Weak-form SINDy of Lorenz (2 trajectories); pysindy draws the weak
    subdomains from numpy's global generator, so it is seeded per fit.
    ``library="weak"`` on the optimizer is replaced by the weak library."""
    xs = _lorenz_trajectories(noise)
    np.random.seed(seed)  # noqa: NPY002 (pysindy draws from the global RNG)
    weak = ps.WeakPDELibrary(
        function_library=function_library or ps.PolynomialLibrary(degree=2),
        spatiotemporal_grid=LORENZ_T,
        K=200,
    )
    if getattr(opt, "library", None) == "weak":
        opt.library = weak
    if getattr(getattr(opt, "opt", None), "library", None) == "weak":
        opt.opt.library = weak
    return ps.SINDy(feature_library=weak, optimizer=opt).fit(xs, t=LORENZ_T)


@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_weak_form_without_library_reads_the_enclosing_sindy(noise):
    """0.1: the weak-form feature matrix failed monomial inference; the library
    is now read from the ps.SINDy whose optimizer is fitting."""
    found = EquivariantSTLSQ(REFLECTION, threshold=0.5)
    given = EquivariantSTLSQ(REFLECTION, threshold=0.5, library="weak")
    _weak_lorenz_fit(found, noise)
    _weak_lorenz_fit(given, noise)
    np.testing.assert_allclose(found.coef_, given.coef_, rtol=0, atol=1e-12)
    assert found.equivariance_residual() < 1e-12
    assert found.library is None  # the parameter is left as the user set it
    # correlated weak-form rows would make the test reject the true symmetry
    assert found.enforcement_test_ is None and given.enforcement_test_ is None
    truth = datasets.get_system("lorenz").coefficients(2)
    np.testing.assert_allclose(found.coef_, truth, atol=1e-6 if noise == 0 else 0.5)


def test_weak_form_without_library_inside_a_bagged_ensemble():
    def ensemble(library):
        inner = EquivariantSTLSQ(REFLECTION, threshold=0.5, library=library)
        return ps.EnsembleOptimizer(opt=inner, bagging=True, n_models=10)

    found, given = ensemble(None), ensemble("weak")
    _weak_lorenz_fit(found, 0.01, seed=1)
    _weak_lorenz_fit(given, 0.01, seed=1)
    np.testing.assert_allclose(found.coef_, given.coef_, rtol=0, atol=1e-12)
    assert found.opt.equivariance_residual() < 1e-12
    truth = datasets.get_system("lorenz").coefficients(2)
    np.testing.assert_allclose(found.coef_, truth, atol=0.5)


def test_weak_form_with_a_non_polynomial_function_library_is_a_type_error():
    opt = EquivariantSTLSQ(REFLECTION, threshold=0.5)
    with pytest.raises(TypeError, match="function_library is a FourierLibrary"):
        _weak_lorenz_fit(opt, 0.0, function_library=ps.FourierLibrary())
    trivial = EquivariantSTLSQ(SymmetryGroup(n=3), threshold=0.5)
    _weak_lorenz_fit(trivial, 0.0, function_library=ps.FourierLibrary())
    assert trivial.coef_.shape == (3, 6)  # the trivial group accepts any library


def test_unfitted_lie_library_transform_is_not_fitted_error():
    """As for every pysindy library (pysindy's own test_not_fitted)."""
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LiePolynomialLibrary(degree=2).transform(np.zeros((5, 2)))
