"""The calibration benchmark's definitions: metrics, ground truth of its systems."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import symsindy as ss

PATH = Path(__file__).parent.parent / "benchmarks" / "bench_discover_calibration.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_calibration", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_calibration"] = module
    spec.loader.exec_module(module)
    return module


def _row(true_dim, true_order, dim, correct, order, exact=True, n=3):
    return {
        "n": n,
        "true_dim": true_dim,
        "true_order": true_order,
        "data_dim": true_dim,
        "data_order": true_order,
        "new_dim": dim,
        "new_correct": correct,
        "new_data_correct": correct,
        "new_order": order,
        "new_disc_exact": exact,
        "new_data_disc_exact": exact,
        "new_status": "ok",
        "new_time": 0.5,
    }


def test_metrics_count_directions_and_non_identity_elements(bench):
    rows = [
        _row(1, 4, 1, 1, 4),  # right
        _row(0, 2, 1, 0, 1),  # a false direction, the reflection missed
        _row(2, 1, 1, 1, 2, exact=False),  # half the algebra, a false element
    ]
    m = bench.metrics(rows, "new")
    assert m["fully right"] == 1
    assert m["cont precision"] == pytest.approx(2 / 3)  # 2 right of 3 found
    assert m["cont recall"] == pytest.approx(2 / 3)  # 2 right of 3 true
    # non-identity elements: found 3 + 0 + 1, true 3 + 1 + 0, right 3 + 0 + 0
    assert m["disc precision"] == pytest.approx(3 / 4)
    assert m["disc recall"] == pytest.approx(3 / 4)


def test_a_timeout_is_wrong_and_finds_nothing(bench):
    row = _row(1, 4, -1, 0, -1)
    row["new_status"] = "timeout"
    m = bench.metrics([row], "new")
    assert m["fully right"] == 0 and m["timeouts"] == 1
    assert m["cont recall"] == 0 and m["disc recall"] == 0


def test_correct_dimension_compares_algebras_not_dimensions(bench):
    rotation = ss.SymmetryGroup(ss.LieAlgebra.so(2))
    scaling = ss.SymmetryGroup(ss.LieAlgebra.scaling(2))
    both = ss.SymmetryGroup(ss.LieAlgebra.so(2) + ss.LieAlgebra.scaling(2))
    assert bench.correct_dimension(rotation, bench._basis(scaling.algebra)) == 0
    assert bench.correct_dimension(rotation, bench._basis(both.algebra)) == 1
    assert bench.correct_dimension(both, bench._basis(both.algebra)) == 2


def test_discrete_exact_checks_the_true_field(bench):
    duffing = next(b for b in bench.own_systems() if b.name == "duffing")
    good = ss.SymmetryGroup(n=2, discrete=[-np.eye(2)])
    bad = ss.SymmetryGroup(n=2, discrete=[np.diag([1.0, -1.0])])
    assert bench.discrete_exact(good, duffing)
    assert not bench.discrete_exact(bad, duffing)


@pytest.mark.slow
def test_own_systems_have_the_stated_symmetry(bench):
    expected = {  # (dimension, order) by construction
        "rotation_3d": (1, 4),
        "two_hopf": (2, 16),
        "duffing": (0, 2),
        "duffing_eps0.03": (0, 1),
        "coupled_duffing": (0, 4),
        "hopf_eps0.03": (0, 1),
    }
    for b in bench.own_systems():
        if b.name in expected:
            G = bench.ground_truth(b)
            assert (G.dim, int(G.report.discrete_order)) == expected[b.name], b.name


def test_polynomial_detection_rejects_piecewise_and_driven_flows(bench):
    flows = pytest.importorskip("dysts.flows")
    assert bench._is_polynomial(flows.Lorenz(), 3)
    assert not bench._is_polynomial(flows.Colpitts(), 3)  # linear near 0 only
    assert not bench._is_polynomial(flows.Torus(), 3)  # depends on time


def _rays(n_rays=6, seed=0):
    """Trajectories of x' = -x in R^3: each stays on its ray through x0."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 3, 50)
    return [np.exp(-t)[:, None] * rng.normal(size=3) for _ in range(n_rays)]


def test_six_rays_leave_four_cubics_per_equation_free(bench):
    """A cubic p(x) = sum_j r^j p_j(v) on a ray vanishes iff every homogeneous
    part does at v: degrees 0-2 (1 + 3 + 6 values) are fixed by six generic
    rays, degree 3 has 10 coefficients and 6 conditions, so 4 stay free."""
    decay = next(b for b in bench.symsindy_systems() if b.name == "linear_decay3")
    unseen = bench.unseen_directions(decay, _rays())
    assert unseen.shape == (4, 20)
    degrees = ss.Monomials(3, 3).exponents.sum(axis=1)
    assert np.all(np.abs(unseen[:, degrees < 3]) < 1e-8 * np.abs(unseen).max())
    theta = np.vstack([ss.Monomials(3, 3).evaluate(x) for x in _rays()])
    assert np.abs(theta @ unseen.T).max() < 1e-7 * np.abs(theta).max()
    more = [np.exp(-np.linspace(0, 3, 50))[:, None] * v for v in np.eye(3)]
    assert bench.unseen_directions(decay, _rays(12) + more).shape == (0, 20)


def test_data_truth_on_rays_is_the_point_reflection_alone(bench):
    """x' = -x commutes with gl(3), but models x' = -x + c(x) with c an
    unseen cubic fit the rays too. A cubic field is odd, so -I fixes every
    one of them; no other signed permutation or linear flow fixes the four
    generic ones."""
    decay = next(b for b in bench.symsindy_systems() if b.name == "linear_decay3")
    truth = bench.ground_truth(decay)
    assert (truth.dim, int(truth.report.discrete_order)) == (9, 48)
    dim, order, basis = bench.data_truth(
        decay, truth, bench.unseen_directions(decay, _rays())
    )
    assert (dim, order, basis.shape[1]) == (0, 2, 0)
    unseen = bench.unseen_directions(decay, _rays())
    minus = ss.SymmetryGroup(n=3, discrete=[-np.eye(3)])
    swap = ss.SymmetryGroup(n=3, discrete=[np.eye(3)[[1, 0, 2]]])
    assert bench.discrete_exact(minus, decay, unseen)
    assert bench.discrete_exact(swap, decay) and not bench.discrete_exact(
        swap, decay, unseen
    )


def test_identified_data_keep_the_true_group(bench):
    """Enumerating the signed permutations agrees with the ground truth."""
    duffing = next(b for b in bench.own_systems() if b.name == "coupled_duffing")
    truth = bench.ground_truth(duffing)
    assert bench._determined_order(duffing, bench._family(duffing)) == 4
    dim, order, _ = bench.data_truth(duffing, truth, np.zeros((0, 35)))
    assert (dim, order) == (truth.dim, int(truth.report.discrete_order)) == (0, 4)


def test_metrics_read_the_chosen_truth(bench):
    row = _row(9, 48, 0, 0, 2)
    row.update(data_dim=0, data_order=2, new_data_correct=0)
    assert bench.metrics([row], "new", "data")["fully right"] == 1
    assert bench.metrics([row], "new", "coefficients")["fully right"] == 0
    assert bench.metrics([row], "new", "coefficients")["cont recall"] == 0.0


def test_difference_error_is_that_of_central_differences(bench):
    # On x' = -x, (x(t+h) - x(t-h)) / 2h = -x(t) sinh(h) / h at every sample.
    coef = np.zeros((1, 4))
    coef[0, 1] = -1.0  # Monomials(1, 3): 1, x, x^2, x^3
    decay = bench.Bench("decay", "own", coef, None, None)
    h = 0.3
    runs = [np.exp(-np.arange(40) * h)[:, None] * x0 for x0 in (1.0, -2.5)]
    expected = np.sinh(h) / h - 1
    assert bench._difference_error(decay, runs, h) == pytest.approx(expected, 1e-10)


def test_spiking_dysts_flows_are_sampled_finely_enough(bench):
    pytest.importorskip("dysts.flows")
    lorenz, liu_chen = bench.dysts_systems(["Lorenz", "LiuChen"])
    assert len(lorenz.t) == 501  # 100 points per period resolve it
    assert len(liu_chen.t) > 501
    runs = bench.trajectories(liu_chen, bench.case_seed(liu_chen))
    dt = liu_chen.t[1] - liu_chen.t[0]
    assert bench._difference_error(liu_chen, runs, dt) <= bench.RESOLUTION
    coarse = bench.trajectories(
        bench.Bench(
            liu_chen.name, "dysts", liu_chen.coef, liu_chen.t[::4], liu_chen.x0
        ),
        bench.case_seed(liu_chen),
    )
    assert bench._difference_error(liu_chen, coarse, 4 * dt) > bench.RESOLUTION
