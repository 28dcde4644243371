"""Bad input to ``discover_symmetries``: one clear error naming the argument."""

import warnings

import numpy as np
import pysindy as ps
import pytest

from symsindy import LiePolynomialLibrary, Monomials, datasets, discover_symmetries
from symsindy._validation import check_scalar

T = np.arange(0, 4, 0.01)


@pytest.fixture(scope="module")
def data():
    """Two Hopf trajectories, a model fitted to the first and its derivatives."""
    xs = datasets.simulate("hopf", 2, T, noise=0.01, seed=0)
    model = ps.SINDy(feature_library=LiePolynomialLibrary(degree=3))
    model.fit(xs[0], t=T)
    x_dot = ps.FiniteDifference()(xs[0], T)
    return xs, model, x_dot


def _three_states(x):
    return np.c_[x, x[:, :1]]


# 1. x_dot with the wrong number of samples
def test_x_dot_with_too_few_samples_names_both_counts(data):
    xs, model, x_dot = data
    with pytest.raises(ValueError, match=r"x_dot must have the same number of "):
        discover_symmetries(model, x=xs[0], x_dot=x_dot[:-3])
    with pytest.raises(ValueError, match=r"as x \(400\), got 397"):
        discover_symmetries(model, x=xs[0], x_dot=x_dot[:-3])


def test_x_dot_per_trajectory_sample_count(data):
    xs, model, x_dot = data
    with pytest.raises(ValueError, match=r"x_dot\[1\] .* as x\[1\] \(400\), got 397"):
        discover_symmetries(model, x=[xs[0], xs[0]], x_dot=[x_dot, x_dot[:-3]])


def test_x_dot_must_have_the_form_of_x(data):
    xs, model, x_dot = data
    with pytest.raises(ValueError, match="x_dot must have the form of x.*list of 2"):
        discover_symmetries(model, x=[xs[0], xs[0]], x_dot=x_dot)


# 2. x_dot with the wrong number of columns
def test_x_dot_with_wrong_columns_names_the_states(data):
    xs, model, x_dot = data
    with pytest.raises(ValueError, match="x_dot must have 2 columns.*got 1"):
        discover_symmetries(model, x=xs[0], x_dot=x_dot[:, :1])


# 3. trajectories with different numbers of states
def test_trajectories_with_different_states_name_the_trajectory(data):
    xs, _, _ = data
    with pytest.raises(ValueError, match=r"trajectories\[1\] has 3 states but .* 2"):
        discover_symmetries([xs[0], _three_states(xs[1])], t=T)


def test_x_list_with_different_states_names_the_trajectory(data):
    xs, model, _ = data
    with pytest.raises(ValueError, match=r"x\[1\] has 3 states but x\[0\] has 2"):
        discover_symmetries(model, x=[xs[0], _three_states(xs[1])], t=T)


@pytest.mark.parametrize("times", [T, None])
def test_x_with_other_states_than_the_model(data, times):
    xs, model, _ = data
    with pytest.raises(ValueError, match="x has 3 state columns but the model has 2"):
        discover_symmetries(model, x=_three_states(xs[0]), t=times)


# 4. a fitted model with x but neither t nor x_dot
def test_x_without_times_warns_what_is_missing(data):
    xs, model, _ = data
    with pytest.warns(UserWarning, match="x was given without its times t or deriv"):
        G = discover_symmetries(model, x=xs[0], discrete=None)
    assert G.report.method == "tolerance"
    with pytest.warns(UserWarning, match="test cannot run.*pass t=... or x_dot="):
        discover_symmetries(model, x=xs[0], discrete=None)


def test_method_test_with_x_alone_asks_for_times(data):
    xs, model, _ = data
    with pytest.raises(ValueError, match=r"method='test' .* pass t=\.\.\. or x_dot"):
        discover_symmetries(model, x=xs[0], method="test")


@pytest.mark.parametrize("given", ["t", "x_dot"])
def test_times_or_derivatives_without_states_raise(data, given):
    _, model, x_dot = data
    kwargs = {"t": T} if given == "t" else {"x_dot": x_dot}
    with pytest.raises(ValueError, match=f"{given} given without the states x"):
        discover_symmetries(model, **kwargs)


# 5. trajectories without their times
def test_trajectories_without_times_ask_for_t(data):
    xs, _, _ = data
    with pytest.raises(ValueError, match="list of 2 state arrays: pass their times t="):
        discover_symmetries(xs)


def test_single_array_without_library_or_times_names_both(data):
    xs, _, _ = data
    with pytest.raises(ValueError, match=r"library=.*their times t="):
        discover_symmetries(xs[0])


# 6. alpha in the open interval (0, 1)
@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1])
def test_alpha_outside_the_open_unit_interval(data, alpha):
    xs, model, _ = data
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        discover_symmetries(model, x=xs[0], t=T, alpha=alpha)


def test_check_scalar_states_half_open_interval():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1"):
        check_scalar("p", 1, low=0, high=1, high_inclusive=False)
    with pytest.raises(ValueError, match="p must be < 1, got 2"):
        check_scalar("p", 2, high=1, high_inclusive=False)
    assert check_scalar("p", 1, low=0, high=1) == 1


# 7. options that the chosen mode would ignore
@pytest.mark.parametrize("name", ["tol", "discrete_tol"])
def test_tol_with_the_test_raises(data, name):
    xs, model, _ = data
    with pytest.raises(ValueError, match=f"^{name} applies to method='tolerance'"):
        discover_symmetries(model, x=xs[0], t=T, method="test", **{name: 0.1})


def test_tol_with_exact_method_is_used():
    C = np.array([[-0.1, -1.0], [1.0, -0.1]])
    G = discover_symmetries(
        C, library=Monomials(2, 1, 1), method="exact", tol=1e-3, discrete=None
    )
    assert G.report.tol == 1e-3 and G.dim == 2


def test_fit_options_for_a_fitted_model_warn(data):
    xs, model, _ = data
    with pytest.warns(UserWarning, match=r"threshold=0.2 ignored: .*needs no fit"):
        discover_symmetries(model, x=xs[0], t=T, threshold=0.2, discrete=None)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*ignored: degree and threshold")
        discover_symmetries(model, x=xs[0], t=T, discrete=None)


def test_bad_degree_for_trajectories_raises_before_the_fit(data):
    xs, _, _ = data
    with pytest.raises(TypeError, match="degree must be an integer"):
        discover_symmetries(xs, t=T, degree=2.5)


# 8. complex input
@pytest.mark.parametrize("which", ["x", "x_dot", "t"])
def test_complex_data_are_refused(data, which):
    xs, model, x_dot = data
    kwargs = {"x": xs[0], "x_dot": x_dot} if which == "x_dot" else {"x": xs[0], "t": T}
    kwargs[which] = kwargs[which] + 0j
    with pytest.raises(TypeError, match=f"^{which} must be real"):
        discover_symmetries(model, **kwargs)


def test_complex_trajectories_are_refused(data):
    xs, _, _ = data
    with pytest.raises(TypeError, match=r"trajectories\[1\] must be real"):
        discover_symmetries([xs[0], xs[1] + 0j], t=T)
