"""Chunked sufficient statistics equal the direct computation on full arrays."""

import tracemalloc

import numpy as np
import pysindy as ps
import pytest

from symsindy import Monomials
from symsindy.sufficient_statistics import (
    SufficientStatistics,
    dask_array_from_npy,
    default_max_lag,
    differentiation_halo,
)


def _direct_lags(r_list, max_lag):
    """sum_s r_s r_(s+k) within each trajectory, by brute force."""
    out = np.zeros((max_lag + 1, r_list[0].shape[1]))
    counts = np.zeros(max_lag + 1, dtype=int)
    for r in r_list:
        for k in range(max_lag + 1):
            if k < len(r):
                out[k] += (r[: len(r) - k] * r[k:]).sum(axis=0)
                counts[k] += len(r) - k
    return out, counts


def _random_problem(rng, lengths, f=5, t=3):
    theta = [rng.normal(size=(m, f)) for m in lengths]
    y = [rng.normal(size=(m, t)) for m in lengths]
    return theta, y


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 1000])
def test_from_arrays_matches_direct_sums_for_any_chunking(chunk_size):
    rng = np.random.default_rng(0)
    lengths = [40, 2, 13]  # one trajectory shorter than max_lag
    theta, y = _random_problem(rng, lengths)
    ids = np.repeat([5, 1, 9], lengths)
    T, Y = np.vstack(theta), np.vstack(y)
    stats = SufficientStatistics.from_arrays(
        T, Y, trajectory_ids=ids, max_lag=4, chunk_size=chunk_size
    )
    np.testing.assert_allclose(stats.gram, T.T @ T, rtol=1e-12)
    np.testing.assert_allclose(stats.xty, T.T @ Y, rtol=1e-12)
    np.testing.assert_allclose(stats.yty, Y.T @ Y, rtol=1e-12)
    assert (stats.n_samples, stats.n_trajectories, stats.max_lag) == (55, 3, 4)
    coef = rng.normal(size=(3, 5))
    r = [yy - tt @ coef.T for tt, yy in zip(theta, y, strict=True)]
    expected, counts = _direct_lags(r, 4)
    np.testing.assert_allclose(
        stats.residual_autocovariance(coef), expected, atol=1e-10
    )
    np.testing.assert_array_equal(stats.pair_counts, counts)
    np.testing.assert_allclose(stats.rss(coef), expected[0], rtol=1e-12)


def test_sample_weight_scales_rows_by_sqrt_weight():
    rng = np.random.default_rng(1)
    T, Y = rng.normal(size=(30, 4)), rng.normal(size=(30, 2))
    w = rng.uniform(0.5, 2.0, size=30)
    stats = SufficientStatistics.from_arrays(T, Y, sample_weight=w, max_lag=2)
    np.testing.assert_allclose(stats.gram, T.T @ (w[:, None] * T), rtol=1e-12)
    np.testing.assert_allclose(stats.xty, T.T @ (w[:, None] * Y), rtol=1e-12)
    coef = rng.normal(size=(2, 4))
    r = np.sqrt(w)[:, None] * (Y - T @ coef.T)
    expected, _ = _direct_lags([r], 2)
    np.testing.assert_allclose(
        stats.residual_autocovariance(coef), expected, atol=1e-10
    )


def test_merge_of_pieces_in_any_tree_equals_one_pass():
    rng = np.random.default_rng(2)
    theta, y = _random_problem(rng, [25, 3, 30], f=4, t=2)
    T, Y = np.vstack(theta), np.vstack(y)
    ids = np.repeat([0, 1, 2], [25, 3, 30])
    whole = SufficientStatistics.from_arrays(T, Y, trajectory_ids=ids, max_lag=5)
    # Cut anywhere, including inside the short trajectory and inside others.
    cuts = [0, 2, 11, 24, 26, 27, 29, 40, 58]
    pieces = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        s = SufficientStatistics(4, 2, max_lag=5)
        for start in range(a, b):
            new = start == a and (start == 0 or ids[start] != ids[start - 1])
            if start == a or ids[start] != ids[start - 1]:
                seg_end = start
                while seg_end < b and ids[seg_end] == ids[start]:
                    seg_end += 1
                s.update(
                    T[start:seg_end], Y[start:seg_end], new_trajectory=new or start != a
                )
        pieces.append(s)
    left = pieces[0]
    for p in pieces[1:]:
        left = left.merge(p)
    # A balanced tree gives the same as left-to-right.
    level = pieces
    while len(level) > 1:
        nxt = [level[i].merge(level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = nxt + ([level[-1]] if len(level) % 2 else [])
    coef = rng.normal(size=(2, 4))
    for merged in (left, level[0]):
        np.testing.assert_allclose(merged._lagged, whole._lagged, atol=1e-10)
        np.testing.assert_array_equal(merged.pair_counts, whole.pair_counts)
        assert merged.n_trajectories == 3 and merged.n_samples == 58
        np.testing.assert_allclose(
            merged.residual_autocovariance(coef),
            whole.residual_autocovariance(coef),
            atol=1e-10,
        )


def _in_memory(trajs, dt, degree, diff):
    """Library of smoothed states and derivatives as ps.SINDy.fit computes them."""
    thetas, ys = [], []
    for x in trajs:
        xdot = np.asarray(diff(x, dt))
        xs = np.asarray(diff.smoothed_x_)
        thetas.append(Monomials(x.shape[1], degree).evaluate(xs))
        ys.append(xdot)
    return thetas, ys


@pytest.mark.parametrize(
    "diff",
    [
        ps.SmoothedFiniteDifference(),
        ps.FiniteDifference(order=2),
        ps.SmoothedFiniteDifference(smoother_kws={"window_length": 7}),
    ],
    ids=["smoothed", "plain", "window7"],
)
def test_chunked_derivatives_equal_whole_trajectory_derivatives(diff):
    rng = np.random.default_rng(3)
    dt = 0.01
    trajs = [np.cumsum(rng.normal(size=(m, 3)), axis=0) * 0.1 for m in (500, 260)]
    thetas, ys = _in_memory(trajs, dt, 2, diff)
    stats = SufficientStatistics.from_trajectories(
        trajs,
        dt,
        Monomials(3, 2),
        differentiation_method=diff,
        chunk_size=37,
        max_lag=6,
    )
    T, Y = np.vstack(thetas), np.vstack(ys)
    scale = np.abs(T.T @ T).max()
    np.testing.assert_allclose(stats.gram, T.T @ T, atol=1e-10 * scale)
    np.testing.assert_allclose(stats.xty, T.T @ Y, atol=1e-10 * np.abs(T.T @ Y).max())
    np.testing.assert_allclose(stats.yty, Y.T @ Y, atol=1e-10 * np.abs(Y.T @ Y).max())
    coef = rng.normal(size=(3, 10))
    r = [y - th @ coef.T for th, y in zip(thetas, ys, strict=True)]
    expected, counts = _direct_lags(r, 6)
    np.testing.assert_allclose(
        stats.residual_autocovariance(coef),
        expected,
        atol=1e-10 * np.abs(expected).max(),
    )
    np.testing.assert_array_equal(stats.pair_counts, counts)


def test_pysindy_library_and_nonuniform_times_and_dropped_endpoints():
    rng = np.random.default_rng(4)
    t = np.cumsum(rng.uniform(0.005, 0.015, size=300))
    x = np.column_stack([np.sin(t), np.cos(3 * t)]) + 0.01 * rng.normal(size=(300, 2))
    diff = ps.FiniteDifference(drop_endpoints=True)
    lib = ps.PolynomialLibrary(degree=3)
    stats = SufficientStatistics.from_trajectories(
        x, t, lib, differentiation_method=diff, chunk_size=50, max_lag=3
    )
    xdot = np.asarray(diff(x, t))
    keep = np.all(np.isfinite(xdot), axis=1)
    theta = np.asarray(ps.PolynomialLibrary(degree=3).fit_transform(x))[keep]
    np.testing.assert_allclose(stats.gram, theta.T @ theta, rtol=1e-10)
    np.testing.assert_allclose(stats.xty, theta.T @ xdot[keep], rtol=1e-10)
    assert stats.n_samples == keep.sum() == 298
    assert not hasattr(lib, "n_output_features_")  # the caller's library is untouched


@pytest.mark.slow
def test_memmap_input_keeps_memory_bounded_by_the_chunk(tmp_path):
    rng = np.random.default_rng(5)
    n_rows = 100_000
    path = tmp_path / "x.npy"
    data = np.lib.format.open_memmap(path, mode="w+", dtype=float, shape=(n_rows, 3))
    data[:] = np.cumsum(rng.normal(size=(n_rows, 3)), axis=0) * 1e-3
    data.flush()
    del data
    x = np.load(path, mmap_mode="r")
    tracemalloc.start()
    stats = SufficientStatistics.from_trajectories(
        x, 0.01, Monomials(3, 3), chunk_size=2_000, max_lag=2
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    full_theta = n_rows * 20 * 8  # 16 MB for the whole library matrix
    assert peak < full_theta / 8, f"peak {peak / 2**20:.1f} MiB"
    assert stats.n_samples == n_rows


@pytest.mark.slow
def test_dask_cluster_gives_the_in_memory_answer(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    rng = np.random.default_rng(6)
    trajs = [np.cumsum(rng.normal(size=(m, 2)), axis=0) * 0.05 for m in (900, 400)]
    for k, tr in enumerate(trajs):
        np.save(tmp_path / f"x{k}.npy", tr)
    diff = ps.SmoothedFiniteDifference()
    thetas, ys = _in_memory(trajs, 0.02, 3, diff)
    T, Y = np.vstack(thetas), np.vstack(ys)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        arrays = [dask_array_from_npy(tmp_path / f"x{k}.npy", 128) for k in range(2)]
        stats = SufficientStatistics.from_trajectories(
            arrays, 0.02, Monomials(2, 3), chunk_size=100, max_lag=4
        )
    np.testing.assert_allclose(stats.gram, T.T @ T, atol=1e-10 * np.abs(T.T @ T).max())
    np.testing.assert_allclose(stats.xty, T.T @ Y, atol=1e-10 * np.abs(T.T @ Y).max())
    coef = rng.normal(size=(2, 10))
    r = [y - th @ coef.T for th, y in zip(thetas, ys, strict=True)]
    expected, counts = _direct_lags(r, 4)
    np.testing.assert_allclose(
        stats.residual_autocovariance(coef),
        expected,
        atol=1e-10 * np.abs(expected).max(),
    )
    assert stats.n_trajectories == 2


def test_default_max_lag_respects_the_memory_budget():
    assert default_max_lag(84, 6) == 20
    f20 = 1771  # 20 states, degree 3
    lag = default_max_lag(f20, 20)
    assert 8 * (lag + 1) * (f20 + 20) ** 2 <= 200 * 2**20
    assert default_max_lag(10626, 20) == 0  # degree 4: only the Gram matrix
    assert SufficientStatistics(10, 2).max_lag == 20


def test_halo_is_unknown_for_nonlocal_methods():
    assert differentiation_halo(ps.SpectralDerivative()) is None
    assert differentiation_halo(ps.FiniteDifference(periodic=True)) is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"theta": np.zeros((3, 2)), "y": np.zeros((4, 1))}, "rows"),
        (
            {
                "theta": np.zeros((4, 2)),
                "y": np.zeros((4, 1)),
                "trajectory_ids": [0, 1, 0, 1],
            },
            "contiguous",
        ),
        (
            {"theta": np.zeros((2, 2)), "y": np.zeros((2, 1)), "chunk_size": 0},
            "chunk_size",
        ),
        ({"theta": np.array([[np.nan, 1.0]]), "y": np.zeros((1, 1))}, "theta_chunk"),
        ({"theta": np.zeros((2, 2)), "y": np.zeros((2, 1)), "max_lag": -1}, "max_lag"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SufficientStatistics.from_arrays(**kwargs)


def test_rss_checks_coefficient_shape_and_merge_checks_compatibility():
    stats = SufficientStatistics.from_arrays(
        np.ones((5, 3)), np.ones((5, 2)), max_lag=1
    )
    with pytest.raises(ValueError, match="coef"):
        stats.rss(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="max_lag"):
        stats.merge(SufficientStatistics(3, 2, max_lag=2))


def test_enforced_fit_from_streamed_statistics_equals_the_in_memory_fit():
    from symsindy import EquivariantSTLSQ, LieAlgebra
    from symsindy.regression_data import ArrayStatistics

    rng = np.random.default_rng(7)
    dt = 0.01
    t = np.arange(0, 6, dt)
    trajs = []
    for _ in range(3):  # Hopf normal form: rotation-symmetric
        r0, p0 = rng.uniform(0.2, 1.5), rng.uniform(0, 2 * np.pi)
        r = 1 / np.sqrt(1 + (1 / r0**2 - 1) * np.exp(-2 * t))
        trajs.append(np.column_stack([r * np.cos(p0 + t), r * np.sin(p0 + t)]))
    diff = ps.SmoothedFiniteDifference()
    model = ps.SINDy(
        optimizer=EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.05),
        feature_library=ps.PolynomialLibrary(degree=3),
        differentiation_method=diff,
    ).fit(trajs, t=dt)
    stats = SufficientStatistics.from_trajectories(
        trajs, dt, Monomials(2, 3), diff, chunk_size=97, max_lag=5
    )
    opt = EquivariantSTLSQ(LieAlgebra.so(2), threshold=0.05).fit_statistics(stats)
    np.testing.assert_allclose(opt.coef_, model.coefficients(), atol=1e-10)
    # The residual statistics agree with the in-memory implementation.
    thetas, ys = _in_memory(trajs, dt, 3, ps.SmoothedFiniteDifference())
    ids = np.repeat(np.arange(3), [len(th) for th in thetas])
    ref = ArrayStatistics(np.vstack(thetas), np.vstack(ys), ids, max_lag=5)
    np.testing.assert_allclose(
        stats.residual_autocovariance(opt.coef_),
        ref.residual_autocovariance(opt.coef_),
        rtol=1e-8,
        atol=1e-12,
    )
    np.testing.assert_array_equal(stats.pair_counts, ref.pair_counts)
