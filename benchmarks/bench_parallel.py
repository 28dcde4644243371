"""Parallel sweeps: GridSearchCV over the symmetric estimator, serial vs n_jobs=2.

    python benchmarks/bench_parallel.py

A grid of 16 parameter settings x 3 trajectory folds = 48 symmetry-promoting
fits (gl(2) candidates, reweighted nuclear norm, ADMM) on noisy Hopf
trajectories. Prints wall times and the ratio; the worker pool is started once
before timing (joblib reuses it), as it is in any longer session. The same code
runs on a Dask cluster inside ``joblib.parallel_backend("dask")``.
"""

import time

import numpy as np
from common import quiet
from sklearn.model_selection import GridSearchCV

import symsindy as ss


def _search(X, Y, groups, grid, n_jobs):
    return GridSearchCV(
        ss.SymmetricSINDyRegressor(candidates=ss.LieAlgebra.gl(2), degree=3),
        grid,
        cv=ss.trajectory_cv(groups, 3),
        n_jobs=n_jobs,
    )


def main():
    t = np.arange(0, 8, 0.01)
    xs = ss.datasets.simulate("hopf", 9, t, noise=0.03, seed=0)
    X, Y, groups = ss.stack_trajectories(xs, t)
    grid = {"sym_weight": np.logspace(-4, -1, 8).tolist(), "threshold": [0.01, 0.05]}
    with quiet():  # start the worker pool
        _search(X, Y, groups, {"sym_weight": [1e-3]}, 2).fit(X, Y)
    times = {}
    for n_jobs in (None, 2):
        search = _search(X, Y, groups, grid, n_jobs)
        start = time.perf_counter()
        with quiet():
            search.fit(X, Y)
        times[n_jobs] = time.perf_counter() - start
    n_fits = len(search.cv_results_["params"]) * 3
    print(
        f"GridSearchCV, {n_fits} promotion fits on {X.shape[0]} samples: serial "
        f"{times[None]:.2f} s, n_jobs=2 {times[2]:.2f} s, speed-up "
        f"{times[None] / times[2]:.2f}x (best {search.best_params_})"
    )


if __name__ == "__main__":
    main()
