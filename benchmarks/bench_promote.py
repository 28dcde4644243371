"""Symmetry promotion: solver speed and the subspace-recovery experiment.

    python benchmarks/bench_promote.py [--quick]

1. ADMM against the cvxpy reference on a degree-3 model in 4 states with gl(4)
   candidates (same convex problem: reweight=0), and ADMM alone on 6 states,
   degree 3, gl(6) (504 coefficients, 36 generators).
2. Recovery of f(x) = p(U x) (U: r x m orthonormal rows, p: quadratic with all
   monomials, coefficients U[0, 1)) from noise-free samples x ~ U[-1, 1]^m with a
   degree-2 library and translation candidates, by min ||L(W)||_* s.t.
   Theta W = y. Success: relative max-abs coefficient error < 5e-3. Reported: the
   smallest sample count that succeeds (binary search), median over 10 seeds.
   Published medians (Otto et al. 2025): m = 5: 13.5, 17.5, 20.5 for r = 1, 2, 3;
   m = 10: 32, 50, 52.5.
"""

import time

import numpy as np
from common import quick_flag, quiet, timed
from tqdm.auto import tqdm

import symsindy as ss
from symsindy.polynomials import Monomials, n_monomials
from symsindy.promote import SymmetryPromotingSR3

PAPER = {
    (5, 1): 13.5,
    (5, 2): 17.5,
    (5, 3): 20.5,
    (10, 1): 32,
    (10, 2): 50,
    (10, 3): 52.5,
}


def _linear_system(n, seed):
    """A random stable cubic system in n states (no symmetry by construction)."""
    rng = np.random.default_rng(seed)
    basis = Monomials(n, 3)
    coef = np.zeros((n, len(basis)))
    coef[:, 1 : n + 1] = rng.normal(size=(n, n)) * 0.5 - 1.5 * np.eye(n)
    cubic = basis.degrees == 3
    coef[:, cubic] = rng.normal(size=(n, cubic.sum())) * (
        rng.random((n, cubic.sum())) < 0.1
    )
    return basis, coef


def solver_speed(n, with_cvxpy, quick):
    basis, true = _linear_system(n, 0)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(400 if quick else 2000, n))
    theta = basis.evaluate(x)
    y = theta @ true.T + 0.01 * rng.normal(size=(x.shape[0], n))
    kw = dict(candidates=ss.LieAlgebra.gl(n), sym_weight=1e-2, reweight=0)
    fast_opt = SymmetryPromotingSR3(**kw, tol=1e-8, max_iter=20_000)
    t_fast, fast = timed(lambda: fast_opt.fit(theta, y))
    line = (
        f"{n} states, degree 3, gl({n}) ({true.size} coefficients, {n * n} "
        f"generators): ADMM {t_fast:.2f} s ({fast.n_iter_} iterations)"
    )
    if with_cvxpy:
        ref_opt = SymmetryPromotingSR3(**kw, solver="cvxpy")
        t_ref, ref = timed(lambda: ref_opt.fit(theta, y))
        gap = abs(fast.objective_ - ref.objective_) / abs(ref.objective_)
        line += (
            f", cvxpy {t_ref:.2f} s; speed-up {t_ref / t_fast:.0f}x, relative "
            f"objective gap {gap:.1e}, max coefficient gap "
            f"{np.abs(fast.coef_ - ref.coef_).max():.1e}"
        )
    print(line)


def _instance(m, r, seed):
    """Library, a pool of samples (prefixes are the candidate sets), truth."""
    lib, pool, values, true = ss.datasets.ridge_function(
        m, r, n_monomials(m, 2) + 10, seed
    )
    return lib, pool, values, true


def _succeeds(lib, pool, values, true, n_samples, solver, m):
    opt = SymmetryPromotingSR3(
        ss.LieAlgebra.translations(m),
        mode="interpolate",
        output="invariant",
        library=lib,
        reweight=0,
        solver=solver,
        tol=1e-9,
        max_iter=20_000,
    )
    with quiet():
        opt.fit(lib.evaluate(pool[:n_samples]), values[:n_samples])
    return np.abs(opt.coef_[0] - true).max() / np.abs(true).max() < 5e-3


def min_samples(m, r, seed, solver="admm"):
    """Binary search for the smallest prefix of the sample pool that succeeds."""
    lib, pool, values, true = _instance(m, r, seed)
    lo, hi = 1, len(lib)  # with as many samples as unknowns, plain solving works
    while lo < hi:
        mid = (lo + hi) // 2
        if _succeeds(lib, pool, values, true, mid, solver, m):
            hi = mid
        else:
            lo = mid + 1
    return lo


def recovery(quick):
    seeds = range(3 if quick else 10)
    cases = [(5, 1), (5, 2), (5, 3)] + ([] if quick else [(10, 1), (10, 2), (10, 3)])
    for m, r in cases:
        start = time.perf_counter()
        counts = [
            min_samples(m, r, s) for s in tqdm(seeds, desc=f"m={m} r={r}", leave=False)
        ]
        per = (time.perf_counter() - start) / len(seeds)
        lib, pool, values, true = _instance(m, r, 0)
        n = counts[0]
        t0 = time.perf_counter()
        _succeeds(lib, pool, values, true, n, "admm", m)
        t_admm = time.perf_counter() - t0
        t0 = time.perf_counter()
        _succeeds(lib, pool, values, true, n, "cvxpy", m)
        t_cvx = time.perf_counter() - t0
        print(
            f"m={m:2d} r={r}: median samples {np.median(counts):5.1f} "
            f"(paper {PAPER[(m, r)]}), counts {counts}; one solve ADMM "
            f"{t_admm * 1e3:.0f} ms vs cvxpy {t_cvx * 1e3:.0f} ms; "
            f"{per:.1f} s per binary search"
        )


def main():
    quick = quick_flag()
    solver_speed(4, True, quick)
    solver_speed(6, False, quick)
    recovery(quick)


if __name__ == "__main__":
    main()
