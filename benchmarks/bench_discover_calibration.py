"""Calibration of symmetry discovery: old tolerance rule, new test, trivial answer.

    python benchmarks/bench_discover_calibration.py [--quick] [--jobs 2]
        [--timeout 30] [--systems NAME ...] [--out benchmarks/results/...csv]

Systems (all polynomial of degree <= 3, candidates gl(n) unless stated)
    * every dysts flow whose right-hand side is exactly a polynomial of degree
      <= 3: the rhs is evaluated at 400 random points at two times, flows that
      depend on time are skipped, a degree-3 monomial library is fitted by least
      squares and the flow is accepted when the relative residual is <= 1e-10.
      Its exact coefficients come from expanding the rhs symbolically (sympy, the
      parameters as the floats dysts uses) and must agree with the fit to 1e-8;
    * every system of ``symsindy.datasets``;
    * systems written here with a known answer: a rotation with a third
      coordinate, two uncoupled Hopf oscillators (two rotations), a Duffing
      oscillator and two coupled Duffing oscillators (discrete only), two
      systems that do not depend on one coordinate (a translation; candidates
      affine(n)), and slightly broken ones (Hopf + eps x0^2 with eps 0.01, 0.03,
      0.05; Duffing + 0.03 x0^2).

Ground truth (two, both printed)
    coefficients: ``discover_symmetries(C, library=Monomials(n, 3),
    method="exact")`` on the exact coefficient matrix (machine-precision rule)
    with the full discrete search (all signed permutations for n <= 6):
    continuous dimension, algebra and ``report.discrete_order`` (order of the
    group of all discrete symmetries among the candidates, those inside the
    continuous group included).
    data (the targets apply here): the part of that group the noise-free data
    determine. Library combinations whose column-scaled singular value over
    the clean states is below ``UNSEEN_RCOND`` (1e-7) vanish on the data, so
    every model ``C + sum a_ik e_i c_k^T`` fits them exactly; a symmetry is
    determined when all those models have it, and a true symmetry that some of
    them break is one the data cannot decide ("undetermined" is the right
    answer, and accepting it is wrong). Six trajectories of x' = -x or of the
    rotor are six rays through the origin, which leave four cubics per
    equation free: only x -> -x is determined. For every other system the data
    identify the model and the two truths agree.

Data
    Six trajectories per system from random initial conditions, fixed seeds.
    dysts flows: a reference run from the dysts initial condition (20 periods,
    the first 10 dropped) spans the attractor; initial conditions are uniform
    in its bounding box widened by 20 % (redrawn when the run diverges), each
    run lasts 5 dominant periods sampled at 100 points per period, or at 200,
    400, ... (the first of ``POINTS_PER_PERIOD``) when central differences of
    the six clean runs miss the exact derivative by more than ``RESOLUTION``
    (5 %, RMS, worst state): the dominant period under-resolves spiking and
    relaxation flows (15 of the 80; LiuChen is off by 45 % at 100 points,
    AtmosphericRegime by 89 %), whose samples then determine no model at all.
    symsindy
    systems: their own initial conditions, time span and step.
    Integration: scipy LSODA, rtol = atol (relative to the attractor's scale)
    = 1e-10, of the exact polynomial (equal to the dysts rhs to ~1e-15).

Regimes
    ``exact``: clean states with exact derivatives ``x_dot = F(x)``;
    ``0%``, ``0.1%``, ``1%``, ``5%``: states plus Gaussian noise whose standard
    deviation is that fraction of each state's standard deviation (over all six
    trajectories), derivatives from the fitting pipeline.

The user's model (fixed pipeline)
    ``ps.SINDy(feature_library=ss.LiePolynomialLibrary(degree=3),
    optimizer=ps.STLSQ(threshold=1e-3 * s), differentiation_method=
    ps.SmoothedFiniteDifference())`` on the states in their own units, where
    ``s`` is the largest absolute coefficient of the same pipeline fitted with
    threshold 0 (the coefficient scale; 1e-3 keeps every true term of every
    system, whose smallest nonzero coefficient is >= 3.9e-3 times its largest).

Methods
    old rule: ``discover_symmetries(model, method="tolerance", tol=2e-2,
    x=states)`` (the data only as sample points of the L2 inner product);
    new rule: ``discover_symmetries(model, x=states, t=t)`` (or ``x_dot=``
    in the exact regime): the likelihood-ratio test at alpha = 1e-3, with
    the returned group checked on the measured runs (a score test at the
    same level, ``trajectory_check=True``, where the rows' resolution
    exceeds three margins);
    trivial: dimension 0, no discrete symmetry.

Metrics (per regime and pooled, against either truth)
    fully right: the found algebra equals the true one (same dimension and
    every principal angle between them below 0.1 rad) and the discrete order
    equals the true one. Continuous precision = sum(correct) / sum(found) and
    recall = sum(correct) / sum(true) over cases, where ``correct`` is the
    dimension of the intersection of the found and true algebras (principal
    angles below 0.1 rad); a found direction that is not a true symmetry counts
    against precision even when the dimensions agree. Discrete precision and
    recall count non-identity group elements: found = order - 1, true =
    order - 1, correct = min of the two when the found group's generators are
    all exact symmetries of the true model, else 0 (the identity would make any
    answer look partly right; against the data truth the generators must be
    symmetries of every model that fits the noise-free data). Time: CPU
    seconds of the discovery call (the fit excluded; one BLAS thread, so CPU
    time is what the call would take alone on the machine; the 2-core
    reference machine was shared); a call over ``--timeout`` CPU seconds is
    stopped and counts as wrong. Per-case results, with the new rule's verdict
    sentences, how the measured runs checked its group (``new_runs``) and the
    power of every element it judged (``new_power``: verdict, detectable
    breaking, whether the element holds), go to
    ``benchmarks/results/discover_calibration.csv``.
"""

from __future__ import annotations

import argparse
import csv
import signal
import time
import warnings
import zlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pysindy as ps
from joblib import Parallel, delayed
from scipy.integrate import solve_ivp
from tqdm.auto import tqdm

import symsindy as ss

DEGREE = 3
N_TRAJ = 6
REGIMES = ("exact", "0%", "0.1%", "1%", "5%")
NOISE = {"0%": 0.0, "0.1%": 1e-3, "1%": 1e-2, "5%": 5e-2}
THRESHOLD_FACTOR = 1e-3
#: dysts flows are sampled at the first of these points per dominant period at
#: which central differences of the six runs match the exact derivative to
#: ``RESOLUTION`` (RMS, worst state): the dominant period under-resolves
#: spiking and relaxation flows, whose noise-free samples otherwise determine
#: no derivative, integral or model (LiuChen: 45 % error at 100 points).
POINTS_PER_PERIOD = (100, 200, 400, 800, 1600)
RESOLUTION = 0.05
OLD_TOL = 2e-2
ANGLE = 0.1  # radians: a found direction "is" a true one within this angle
EXACT_ELEMENT_TOL = 1e-9
METHODS = ("old", "new", "trivial")
TARGETS = {
    "fully right": ">= 95 %",
    "cont precision": ">= 0.99",
    "cont recall": ">= 0.85",
    "disc recall": ">= 0.90",
    "time n<=4": "< 1 s",
}
RESULTS = Path(__file__).parent / "results" / "discover_calibration.csv"
QUICK_SYSTEMS = (
    "hopf",
    "growth",
    "lorenz",
    "dysts:Lorenz",
    "dysts:SprottA",
    "duffing",
    "hopf_eps0.03",
)


# ------------------------------------------------------------------ systems
@dataclass
class Bench:
    """One system: exact coefficients, initial conditions, sample times."""

    name: str
    source: str
    coef: np.ndarray
    t: np.ndarray
    x0: object  # callable (rng, k) -> (k, n)
    affine: bool = False
    scale: float = 1.0
    description: str = ""
    #: the clean runs of ``case_seed``, when choosing ``t`` computed them
    runs: list | None = field(default=None, repr=False)
    exps: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        self.exps = ss.Monomials(self.n, DEGREE).exponents

    @property
    def n(self) -> int:
        return self.coef.shape[0]

    def features(self, x: np.ndarray) -> np.ndarray:
        """The degree-3 monomials at the rows of ``x``."""
        x = np.atleast_2d(x)
        return np.prod(x[:, None, :] ** self.exps[None], axis=2)

    def rhs(self, x: np.ndarray) -> np.ndarray:
        return self.features(x) @ self.coef.T

    def candidates(self):
        return ss.LieAlgebra.affine(self.n) if self.affine else None


def _coef_from_terms(n: int, terms: list[dict]) -> np.ndarray:
    basis = ss.Monomials(n, DEGREE)
    coef = np.zeros((n, len(basis)))
    for i, eq in enumerate(terms):
        for exps, c in eq.items():
            coef[i, basis.index(np.array([exps]))[0]] += c
    return coef


def _mono(n, *pairs):
    e = [0] * n
    for var, power in pairs:
        e[var] += power
    return tuple(e)


def _uniform(scale, n):
    return lambda rng, k: rng.uniform(-scale, scale, size=(k, n))


def own_systems() -> list[Bench]:
    """Systems with a known answer, written here."""
    out = []
    m3 = lambda *p: _mono(3, *p)  # noqa: E731
    # rotation in (x0, x1) with a third coordinate: so(2)
    r2 = [m3((0, 2)), m3((1, 2))]
    terms = [
        {m3((0, 1), (2, 1)): 1.0, m3((1, 1)): -1.0, m3((0, 3)): -1.0},
        {m3((1, 1), (2, 1)): 1.0, m3((0, 1)): 1.0, m3((1, 3)): -1.0},
        {m3(): 1.0, m3((2, 1)): -1.0, r2[0]: -1.0, r2[1]: -1.0},
    ]
    terms[0][m3((0, 1), (1, 2))] = -1.0
    terms[1][m3((0, 2), (1, 1))] = -1.0
    out.append(("rotation_3d", "rotation in (x0, x1), coupled to x2", terms, 3))
    # two uncoupled Hopf oscillators with frequencies 1 and 2: so(2) + so(2)
    m4 = lambda *p: _mono(4, *p)  # noqa: E731
    terms = []
    for (x, y), w in (((0, 1), 1.0), ((2, 3), 2.0)):
        fx = {m4((x, 1)): 1.0, m4((y, 1)): -w, m4((x, 3)): -1.0}
        fx[m4((x, 1), (y, 2))] = -1.0
        fy = {m4((y, 1)): 1.0, m4((x, 1)): w, m4((y, 3)): -1.0}
        fy[m4((x, 2), (y, 1))] = -1.0
        terms += [fx, fy]
    out.append(("two_hopf", "two uncoupled Hopf oscillators", terms, 4))
    # Duffing: x -> -x only; broken by 0.03 x0^2
    m2 = lambda *p: _mono(2, *p)  # noqa: E731
    for eps in (0.0, 0.03):
        f1 = {m2((0, 1)): 1.0, m2((0, 3)): -1.0, m2((1, 1)): -0.1}
        if eps:
            f1[m2((0, 2))] = eps
        name = "duffing" if not eps else f"duffing_eps{eps:g}"
        out.append((name, "Duffing oscillator", [{m2((1, 1)): 1.0}, f1], 2))
    # two coupled identical Duffing oscillators: swap and -I
    terms = []
    for a, b in ((0, 2), (2, 0)):
        terms.append({m4((a + 1, 1)): 1.0})
        terms.append(
            {
                m4((a, 1)): 1.0 - 0.3,
                m4((a, 3)): -1.0,
                m4((a + 1, 1)): -0.1,
                m4((b, 1)): 0.3,
            }
        )
    out.append(("coupled_duffing", "two coupled Duffing oscillators", terms, 4))
    # slightly broken Hopf
    benches = [
        Bench(
            name,
            "own",
            _coef_from_terms(n, terms),
            np.arange(0, 10, 0.01),
            _uniform(2.0, n),
            description=desc,
        )
        for name, desc, terms, n in out
    ]
    for eps in (0.01, 0.03, 0.05):
        sys = ss.datasets.get_system("hopf", eps=eps)
        benches.append(
            Bench(
                sys.name,
                "own",
                sys.coefficients(DEGREE),
                np.arange(0, sys.t_end, sys.dt),
                _uniform(sys.x0_scale, 2),
                description=sys.description,
            )
        )
    # translations: the field does not depend on the last coordinate
    terms = [
        {m3((1, 1)): 1.0},
        {m3((0, 1)): -1.0, m3((1, 1)): -0.2, m3((0, 3)): -1.0},
        {m3((0, 2)): 1.0, m3((1, 2)): -1.0},
    ]
    benches.append(
        Bench(
            "driven_phase",
            "own",
            _coef_from_terms(3, terms),
            np.arange(0, 10, 0.01),
            _uniform(1.5, 3),
            affine=True,
            description="damped Duffing driving x2 (translation in x2)",
        )
    )
    m4l = lambda *p: _mono(4, *p)  # noqa: E731
    terms = [
        {m4l((0, 1)): -10.0, m4l((1, 1)): 10.0},
        {m4l((0, 1)): 28.0, m4l((1, 1)): -1.0, m4l((0, 1), (2, 1)): -1.0},
        {m4l((2, 1)): -8 / 3, m4l((0, 1), (1, 1)): 1.0},
        {m4l((0, 1), (1, 1)): 1.0},
    ]
    benches.append(
        Bench(
            "lorenz_drift",
            "own",
            _coef_from_terms(4, terms),
            np.arange(0, 4, 0.002),
            lambda rng, k: rng.uniform([-15, -15, 5, -20], [15, 15, 40, 20], (k, 4)),
            affine=True,
            scale=20.0,
            description="Lorenz plus x3' = x0 x1 (translation in x3)",
        )
    )
    return benches


def symsindy_systems() -> list[Bench]:
    out = []
    for name in ss.datasets.available():
        sys = ss.datasets.get_system(name)
        sampler = sys.x0_sampler or _uniform(sys.x0_scale, sys.n)
        out.append(
            Bench(
                sys.name,
                "symsindy",
                sys.coefficients(DEGREE),
                np.arange(0, sys.t_end, sys.dt),
                sampler,
                scale=20.0 if name == "lorenz" else sys.x0_scale,
                description=sys.description,
            )
        )
    return out


def _dysts_coefficients(system, n):
    """Exact coefficients by expanding the rhs with sympy symbols.

    Most flows define ``_rhs(*x, t, *params)``; a few (Lorenz96) only
    ``rhs(X, t)``, which is evaluated on an object array of symbols.
    """
    import sympy as sp

    xs = sp.symbols(f"x0:{n}")
    func = getattr(system._rhs, "py_func", system._rhs)
    try:
        exprs = func(*xs, 0.0, *system.param_list)
    except TypeError:
        exprs = system.rhs(np.array(xs, dtype=object), 0.0)
    basis = ss.Monomials(n, DEGREE)
    coef = np.zeros((n, len(basis)))
    for i, expr in enumerate(exprs):
        for monom, c in sp.Poly(sp.expand(expr), *xs).terms():
            coef[i, basis.index(np.array([monom]))[0]] += float(c)
    return coef


def _is_polynomial(system, n) -> bool:
    """Autonomous and a polynomial of degree <= 3 (relative LS residual <= 1e-10).

    Tested at 400 points ``c + s u`` (``u`` standard normal) for three centres
    and spreads: (0, 1), (0, 10) and (dysts initial condition, 1 + its size);
    the library is evaluated at ``u`` (a polynomial in x is one in u of the same
    degree) to keep the fit well conditioned. Several spreads are needed: a
    piecewise flow (Colpitts) is linear on the unit scale alone.
    """
    rng = np.random.default_rng(0)
    lib = ss.Monomials(n, DEGREE)
    ic = np.asarray(system.ic, float)
    for centre, spread in ((0.0, 1.0), (0.0, 10.0), (ic, 1.0 + np.abs(ic).max())):
        u = rng.normal(size=(400, n))
        x = centre + spread * u
        try:
            f0 = np.array([system.rhs(p, 0.0) for p in x], dtype=float)
            f1 = np.array([system.rhs(p, 1.7) for p in x], dtype=float)
        except Exception:  # noqa: BLE001 - a flow dysts cannot evaluate is skipped
            return False
        if not np.all(np.isfinite(f0)) or not np.allclose(f0, f1, rtol=1e-12):
            return False  # non-autonomous
        theta = lib.evaluate(u)
        fit, *_ = np.linalg.lstsq(theta, f0, rcond=None)
        if np.linalg.norm(theta @ fit - f0) > 1e-10 * np.linalg.norm(f0):
            return False
    return True


def dysts_systems(names=None) -> list[Bench]:
    """dysts flows whose rhs is exactly a polynomial of degree <= 3."""
    import dysts.flows as flows
    from dysts.systems import get_attractor_list

    out = []
    for name in names or get_attractor_list("continuous_no_delay"):
        system = getattr(flows, name)()
        n = len(system.ic)
        if not _is_polynomial(system, n):
            continue
        coef = _dysts_coefficients(system, n)
        x = np.random.default_rng(1).normal(size=(200, n))
        fx = np.array([system.rhs(p, 0.0) for p in x], dtype=float)
        theta = ss.Monomials(n, DEGREE).evaluate(x)
        if np.linalg.norm(theta @ coef.T - fx) > 1e-10 * np.linalg.norm(fx):
            raise RuntimeError(f"dysts {name}: symbolic and fitted coefficients differ")
        bench = _dysts_bench(name, system, coef)
        if bench is None:
            print(f"skipped dysts {name}: the reference run from its ic fails")
        else:
            out.append(bench)
    return out


def _dysts_bench(name, system, coef) -> Bench:
    period = float(system.period)
    bench = Bench(
        f"dysts:{name}", "dysts", coef, None, None, description=f"dysts {name}"
    )
    ref = _integrate(
        bench,
        np.asarray(system.ic, float),
        np.linspace(0, 20 * period, 2001),
        limit=np.inf,
    )
    if ref is None:
        return None
    ref = ref[1000:]
    low, high = ref.min(axis=0), ref.max(axis=0)
    pad = 0.2 * (high - low) + 1e-3 * np.maximum(np.abs(high), 1.0)
    bench.scale = float(np.abs(ref).max())
    bench.x0 = lambda rng, k: rng.uniform(low - pad / 2, high + pad / 2, (k, len(low)))
    bench.attractor = ref
    for per_period in POINTS_PER_PERIOD:
        bench.t = np.linspace(0, 5 * period, 5 * per_period + 1)
        runs = trajectories(bench, case_seed(bench))
        if _difference_error(bench, runs, period / per_period) <= RESOLUTION:
            break
    bench.runs = runs
    return bench


def _difference_error(bench: Bench, runs, dt: float) -> float:
    """Worst state's RMS error of central differences over the runs, relative
    to its RMS rate."""
    diff = np.vstack([(x[2:] - x[:-2]) / (2 * dt) for x in runs])
    exact = bench.rhs(np.vstack([x[1:-1] for x in runs]))
    err = np.sqrt(np.mean((diff - exact) ** 2, axis=0) / np.mean(exact**2, axis=0))
    return float(err.max())


def case_seed(bench: Bench) -> int:
    """The seed of a system's runs (the same in every regime)."""
    return zlib.crc32(bench.name.encode())


# --------------------------------------------------------------- simulation
#: CPU seconds one integration may take (a stiff or escaping run is redrawn).
MAX_RUN_SECONDS = 10.0


class _Escaped(Exception):
    pass


def _integrate(bench: Bench, x0, t, limit=100.0):
    """A run of the exact polynomial; None if it fails, leaves ``limit`` times
    the attractor's scale, or takes more than ``MAX_RUN_SECONDS`` CPU seconds."""
    bound = limit * max(bench.scale, np.abs(x0).max())
    start = time.process_time()

    def rhs(_, x):
        if time.process_time() - start > MAX_RUN_SECONDS:
            raise _Escaped
        return bench.rhs(x)[0]

    def escape(_, x):
        return bound - np.abs(x).max()

    escape.terminal = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = solve_ivp(
                rhs,
                (t[0], t[-1]),
                x0,
                t_eval=t,
                method="LSODA",
                rtol=1e-10,
                atol=1e-10 * bench.scale,
                events=escape if np.isfinite(bound) else None,
            )
    except _Escaped:
        return None
    if not sol.success or sol.y.shape[1] != len(t) or not np.all(np.isfinite(sol.y)):
        return None
    return sol.y.T


def trajectories(bench: Bench, seed: int) -> list[np.ndarray]:
    """Six runs from random initial conditions (redrawn when a run diverges)."""
    if bench.runs is not None and seed == case_seed(bench):
        return bench.runs
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(30 * N_TRAJ):
        run = _integrate(bench, bench.x0(rng, 1)[0], bench.t)
        if run is not None:
            out.append(run)
        if len(out) == N_TRAJ:
            return out
    attractor = getattr(bench, "attractor", None)
    if attractor is None:
        raise RuntimeError(f"{bench.name}: initial conditions keep diverging")
    while len(out) < N_TRAJ:  # start on the attractor itself
        x0 = attractor[rng.integers(len(attractor))]
        run = _integrate(bench, x0, bench.t)
        if run is not None:
            out.append(run)
    return out


# -------------------------------------------------------------- discovery
class Timeout(Exception):
    pass


def _alarm(*_):
    raise Timeout


def _call(fn, timeout):
    """``(result or None, CPU seconds, status)`` with a CPU-time limit.

    CPU time of this (single-threaded) process, not wall time: the reference
    machine is shared, and wall time would measure the other work on it.
    """
    signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, timeout)
    start = time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn()
        status = "ok"
    except Timeout:
        out, status = None, "timeout"
    except Exception as exc:  # noqa: BLE001 - recorded per case, the run goes on
        out, status = None, f"error: {type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    return out, time.process_time() - start, status


def _fit(xs, t, x_dot, threshold):
    model = ps.SINDy(
        feature_library=ss.LiePolynomialLibrary(degree=DEGREE),
        optimizer=ps.STLSQ(threshold=threshold),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(xs, t=t, x_dot=x_dot)
    return model


def users_model(xs, t, x_dot):
    """The fixed pipeline (module docstring): threshold 1e-3 of the LS scale."""
    scale = np.abs(np.asarray(_fit(xs, t, x_dot, 0.0).optimizer.coef_)).max()
    return _fit(xs, t, x_dot, THRESHOLD_FACTOR * scale)


def _basis(alg) -> np.ndarray:
    """Orthonormal basis of an algebra's coefficient vectors."""
    if alg.dim == 0:
        return np.zeros((0, 0))
    return np.linalg.qr(alg.coefficients.reshape(alg.dim, -1).T)[0]


def correct_dimension(found, truth_basis) -> int:
    """Dimension of the intersection of found and true algebras (angles < ANGLE)."""
    q = _basis(found.algebra)
    if q.shape[1] == 0 or truth_basis.shape[1] == 0:
        return 0
    if q.shape[0] != truth_basis.shape[0]:
        return 0
    cosines = np.linalg.svd(q.T @ truth_basis, compute_uv=False)
    return int(np.sum(cosines >= np.cos(ANGLE)))


def discrete_exact(found, bench: Bench, unseen=None) -> bool:
    """Whether every reported discrete generator is a symmetry of the true model
    (and, given ``unseen``, of every model that fits the noise-free data).

    Checked directly, ``F(R x) = R F(x)`` at random points (relative 1e-9).
    """
    models = _family(bench, unseen)
    return all(
        _fixes(np.asarray(R, dtype=float), bench, models) for R in found.discrete
    )


def _family(bench: Bench, unseen=None) -> list[np.ndarray]:
    """The true coefficients and a basis of what the noise-free data leave free.

    Every model ``C + sum a_ik e_i c_k^T`` (``c_k`` the rows of ``unseen``)
    fits the noise-free data exactly.
    """
    models = [bench.coef]
    for c in [] if unseen is None else unseen:
        for i in range(bench.n):
            E = np.zeros_like(bench.coef)
            E[i] = c
            models.append(E)
    return models


def _fixes(R: np.ndarray, bench: Bench, models) -> bool:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(200, bench.n)) * bench.scale
    theta, moved = bench.features(x), bench.features(x @ R.T)
    for M in models:
        fx = theta @ M.T
        gap = np.linalg.norm(moved @ M.T - fx @ R.T)
        if gap > EXACT_ELEMENT_TOL * max(np.linalg.norm(fx), 1e-300):
            return False
    return True


#: Singular values of the column-scaled library over the noise-free states
#: below this fraction of the largest: combinations of monomials the data do
#: not identify (they vanish on the trajectories, e.g. a cubic that vanishes
#: on six rays through the origin).
UNSEEN_RCOND = 1e-7


def unseen_directions(bench: Bench, xs_clean) -> np.ndarray:
    """Rows ``c``: library combinations with ``Theta(x) c = 0`` on the clean data."""
    theta = np.vstack([bench.features(x) for x in xs_clean])
    scale = np.linalg.norm(theta, axis=0)
    scale[scale == 0] = 1.0
    _, sv, vt = np.linalg.svd(theta / scale, full_matrices=False)
    return vt[sv < UNSEEN_RCOND * sv[0]] / scale


def data_truth(bench: Bench, truth, unseen: np.ndarray):
    """``(dim, order, basis)`` of the symmetries the noise-free data determine.

    A symmetry is determined when every model that fits the noise-free data
    exactly has it; a true symmetry that some such model breaks is one the
    data cannot decide ("undetermined"). With identifiable data this is the
    true group itself.
    """
    if not len(unseen):
        return truth.dim, int(truth.report.discrete_order), _basis(truth.algebra)
    models = _family(bench, unseen)
    cands = (bench.candidates() or ss.LieAlgebra.gl(bench.n)).orthonormalized()
    space = ss.spaces.ModelSpace.of(ss.Monomials(bench.n, DEGREE))
    matrix = space.lie_derivative_matrix(cands)
    cols = np.vstack([matrix.columns(M) / np.linalg.norm(M) for M in models])
    _, sv, vt = np.linalg.svd(cols)
    sv = np.concatenate([sv, np.zeros(len(vt) - len(sv))])
    free = vt[sv <= 1e-9 * max(sv[0], 1e-300)]
    algebra = ss.LieAlgebra(
        np.einsum("kq,qim->kim", free, cands.coefficients), cands.degree
    )
    return algebra.dim, _determined_order(bench, models), _basis(algebra)


def _determined_order(bench: Bench, models) -> int:
    """Signed permutations that are symmetries of every model in ``models``."""
    from itertools import permutations, product

    eye = np.eye(bench.n)
    count = 0
    for perm in permutations(range(bench.n)):
        for signs in product((1.0, -1.0), repeat=bench.n):
            R = np.array(signs)[:, None] * eye[list(perm)]
            count += _fixes(R, bench, models[:1]) and _fixes(R, bench, models)
    return count


def ground_truth(bench: Bench):
    lib = ss.Monomials(bench.n, DEGREE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = ss.discover_symmetries(
            bench.coef, candidates=bench.candidates(), library=lib, method="exact"
        )
    return G


def _verdicts(G) -> str:
    if G is None or G.report is None:
        return ""
    return " | ".join(f"[{v.verdict}] {v.sentence()}" for v in G.report.verdicts)


def run_system(bench: Bench, regimes, timeout) -> list[dict]:
    """Ground truth, then every regime with every method."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _run_system(bench, regimes, timeout)


def _run_system(bench, regimes, timeout):
    seed = case_seed(bench)
    truth = ground_truth(bench)
    true_dim, true_order = truth.dim, int(truth.report.discrete_order)
    xs_clean = trajectories(bench, seed)
    unseen = unseen_directions(bench, xs_clean)
    data_dim, data_order, data_basis = data_truth(bench, truth, unseen)
    truth_basis = _basis(truth.algebra)
    std = np.vstack(xs_clean).std(axis=0)
    rows = []
    for regime in regimes:
        rng = np.random.default_rng([seed, REGIMES.index(regime)])
        if regime == "exact":
            xs, x_dot = xs_clean, [bench.rhs(x) for x in xs_clean]
        else:
            xs = [x + NOISE[regime] * std * rng.normal(size=x.shape) for x in xs_clean]
            x_dot = None
        start = time.process_time()
        model = users_model(xs, bench.t, x_dot)
        fit_time = time.process_time() - start
        cands = bench.candidates()
        calls = {
            "old": partial(
                ss.discover_symmetries,
                model,
                candidates=cands,
                method="tolerance",
                tol=OLD_TOL,
                x=np.vstack(xs),
            ),
            "new": partial(
                ss.discover_symmetries,
                model,
                candidates=cands,
                x=xs,
                **(dict(t=bench.t) if x_dot is None else dict(x_dot=x_dot)),
            ),
        }
        row = dict(
            system=bench.name,
            source=bench.source,
            n=bench.n,
            regime=regime,
            true_dim=true_dim,
            true_order=true_order,
            true_group="; ".join(truth.describe().splitlines()),
            unseen=len(unseen),
            data_dim=data_dim,
            data_order=data_order,
            fit_time=round(fit_time, 3),
            model_terms=int(np.count_nonzero(model.optimizer.coef_)),
            true_terms=int(np.count_nonzero(bench.coef)),
        )
        for method, fn in calls.items():
            G, seconds, status = _call(fn, timeout)
            row.update(_method_row(method, G, seconds, status, truth_basis, bench))
            row.update(_data_scores(method, G, data_basis, bench, unseen))
        row.update(
            trivial_dim=0,
            trivial_order=1,
            trivial_correct=0,
            trivial_disc_exact=True,
            trivial_data_correct=0,
            trivial_data_disc_exact=True,
            trivial_time=0.0,
            trivial_status="ok",
        )
        rows.append(row)
    return rows


def _method_row(method, G, seconds, status, truth_basis, bench):
    out = {f"{method}_time": round(seconds, 3), f"{method}_status": status}
    if G is None:
        out.update(
            {
                f"{method}_dim": -1,
                f"{method}_order": -1,
                f"{method}_correct": 0,
                f"{method}_disc_exact": False,
            }
        )
        return out
    out[f"{method}_dim"] = G.dim
    out[f"{method}_order"] = int(G.report.discrete_order)
    out[f"{method}_correct"] = correct_dimension(G, truth_basis)
    out[f"{method}_disc_exact"] = discrete_exact(G, bench)
    if method == "new":
        out["new_generators"] = "; ".join(G.describe().splitlines())
        out["new_verdicts"] = _verdicts(G)
        noise = G.report.noise
        if noise is not None:
            out["new_noise_sigma_rel"] = float(np.max(noise.sigma / noise.rms))
            out["new_tau_max"] = float(np.max(noise.tau))
            out["new_floored"] = int(np.sum(noise.floored))
        out["new_signal_p"] = G.report.signal_p_value
        out["new_runs"] = _runs_column(G.report)
    else:
        out["old_generators"] = "; ".join(G.describe().splitlines())
    return out


def _runs_column(report) -> str:
    """How the measured runs checked the returned group ("" if not consulted)."""
    runs = report.group_trajectory
    if runs is not None:
        return f"{report.trajectory_check}; returned group: {runs.sentence()}"
    return report.trajectory_check


def _data_scores(method, G, data_basis, bench, unseen) -> dict:
    """Right directions and exact elements against what the data determine."""
    if G is None:
        return {f"{method}_data_correct": 0, f"{method}_data_disc_exact": False}
    out = {
        f"{method}_data_correct": correct_dimension(G, data_basis),
        f"{method}_data_disc_exact": discrete_exact(G, bench, unseen),
    }
    if method == "new" and G.report is not None:
        out["new_power"] = _power_column(G.report.verdicts, bench, unseen)
    return out


def _power_column(verdicts, bench, unseen) -> str:
    """``verdict:detectable breaking:holds`` of every element the power check
    judged; ``holds`` says whether the element is a symmetry of every model
    that fits the noise-free data (a diagnostic of the power threshold)."""
    models = _family(bench, unseen)
    parts = []
    for v in verdicts:
        if v.detectable_breaking is None or v.element is None:
            continue
        holds = _fixes(np.asarray(v.element, dtype=float), bench, models)
        parts.append(f"{v.verdict}:{v.detectable_breaking:.3g}:{holds}")
    return "; ".join(parts)


# ------------------------------------------------------------------ metrics
#: Column names of the two ground truths: the exact coefficients' group, and
#: the part of it that the noise-free data determine (module docstring).
TRUTHS = {
    "data": ("data_dim", "data_order", "_data_correct", "_data_disc_exact"),
    "coefficients": ("true_dim", "true_order", "_correct", "_disc_exact"),
}


def _ratio(num, den):
    return num / den if den else float("nan")


def metrics(rows, method, truth="data") -> dict:
    """Fully right, precision/recall and times of one method over ``rows``."""
    dim_key, order_key, correct_key, exact_key = TRUTHS[truth]
    found = np.array([max(r[f"{method}_dim"], 0) for r in rows])
    correct = np.array([r[f"{method}{correct_key}"] for r in rows])
    true = np.array([r[dim_key] for r in rows])
    order = np.array([r[f"{method}_order"] for r in rows])
    true_order = np.array([r[order_key] for r in rows])
    exact = np.array([bool(r[f"{method}{exact_key}"]) for r in rows])
    ok = np.array([r[f"{method}_status"] == "ok" for r in rows])
    cont_right = (correct == found) & (found == true) & ok
    disc_right = (order == true_order) & exact & ok
    f_el = np.where(ok, np.maximum(order, 1) - 1, 0)
    t_el = true_order - 1
    c_el = np.where(exact & ok, np.minimum(f_el, t_el), 0)
    times = np.array([r[f"{method}_time"] for r in rows])
    small = np.array([r["n"] <= 4 for r in rows])
    return {
        "cases": len(rows),
        "fully right": int(np.sum(cont_right & disc_right)),
        "cont right": int(np.sum(cont_right)),
        "disc right": int(np.sum(disc_right)),
        "cont precision": _ratio(correct.sum(), found.sum()),
        "cont recall": _ratio(correct.sum(), true.sum()),
        "disc precision": _ratio(c_el.sum(), f_el.sum()),
        "disc recall": _ratio(c_el.sum(), t_el.sum()),
        "time mean": float(times.mean()) if len(times) else float("nan"),
        "time max": float(times.max()) if len(times) else float("nan"),
        "time n<=4 max": float(times[small].max()) if small.any() else float("nan"),
        "time n<=4 mean": float(times[small].mean()) if small.any() else float("nan"),
        "timeouts": int(np.sum(~ok)),
    }


def _fmt(x, digits=2):
    return "-" if x != x else f"{x:.{digits}f}"


def table(rows, regimes, truth="data") -> str:
    """Markdown table: rows (regime, method), measured next to the targets."""
    head = (
        "| regime | method | fully right | cont. precision | cont. recall | "
        "disc. precision | disc. recall | s/case mean | s/case max | "
        "max s, n<=4 |"
    )
    lines = [head, "|" + "---|" * 10]
    groups = [(reg, [r for r in rows if r["regime"] == reg]) for reg in regimes]
    groups.append(("pooled", rows))
    for reg, sub in groups:
        if not sub:
            continue
        for method in METHODS:
            m = metrics(sub, method, truth)
            name = {
                "old": "old rule (tol 2e-2)",
                "new": "new rule (test)",
                "trivial": "trivial",
            }[method]
            timing = (
                ["-", "-", "-"]
                if method == "trivial"
                else [
                    _fmt(m["time mean"]),
                    _fmt(m["time max"]),
                    _fmt(m["time n<=4 max"]),
                ]
            )
            lines.append(
                f"| {reg} | {name} | {m['fully right']}/{m['cases']} "
                f"({m['fully right'] / m['cases']:.0%}) | "
                f"{_fmt(m['cont precision'])} | {_fmt(m['cont recall'])} | "
                f"{_fmt(m['disc precision'])} | {_fmt(m['disc recall'])} | "
                + " | ".join(timing)
                + " |"
            )
    lines.append(
        "| target | new rule | exact: all; pooled >= 95 % | >= 0.99 | >= 0.85 | "
        "| >= 0.90 | | | < 1 s |"
    )
    return "\n".join(lines)


def failures(rows, method="new", truth="data") -> list[dict]:
    """Cases the method gets wrong (continuous or discrete)."""
    dim_key, order_key, correct_key, exact_key = TRUTHS[truth]
    out = []
    for r in rows:
        cont_ok = r[f"{method}{correct_key}"] == r[f"{method}_dim"] == r[dim_key]
        disc_ok = r[f"{method}_order"] == r[order_key] and r[f"{method}{exact_key}"]
        if not (cont_ok and disc_ok and r[f"{method}_status"] == "ok"):
            out.append(r)
    return out


# --------------------------------------------------------------------- main
def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few systems/regimes")
    parser.add_argument("--jobs", type=int, default=2, help="parallel systems")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="CPU seconds per discovery call"
    )
    parser.add_argument("--systems", nargs="*", help="only these system names")
    parser.add_argument("--out", type=Path, default=None, help="CSV of all cases")
    return parser.parse_args()


def all_systems(selected=None) -> list[Bench]:
    dysts_names = None
    if selected:
        dysts_names = [s.split(":", 1)[1] for s in selected if s.startswith("dysts:")]
    benches = symsindy_systems() + own_systems()
    if dysts_names is None or dysts_names:
        benches += dysts_systems(dysts_names)
    if selected:
        benches = [b for b in benches if b.name in selected]
    return benches


def main():
    args = parse_args()
    selected = args.systems or (list(QUICK_SYSTEMS) if args.quick else None)
    regimes = ("exact", "1%") if args.quick else REGIMES
    out = args.out or (
        RESULTS.with_name("discover_calibration_quick.csv") if args.quick else RESULTS
    )
    start = time.perf_counter()
    benches = all_systems(selected)
    # largest systems first, so the two workers finish together
    benches.sort(key=lambda b: -b.n)
    print(
        f"{len(benches)} systems x {len(regimes)} regimes = "
        f"{len(benches) * len(regimes)} cases "
        f"({sum(b.source == 'dysts' for b in benches)} dysts flows), "
        f"{args.jobs} workers, timeout {args.timeout:g} CPU s per discovery"
    )
    jobs = Parallel(n_jobs=args.jobs, return_as="generator_unordered")(
        delayed(run_system)(b, regimes, args.timeout) for b in benches
    )
    rows = []
    for result in tqdm(jobs, total=len(benches), desc="systems"):
        rows += result
    rows.sort(key=lambda r: (r["system"], REGIMES.index(r["regime"])))
    out.parent.mkdir(parents=True, exist_ok=True)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    unseen = sorted({r["system"] for r in rows if r["unseen"]})
    print("Ground truth: what the noise-free data determine (targets apply here)")
    print(table(rows, regimes, "data"))
    print(
        "\nGround truth: the exact coefficients' group, whether or not the data "
        f"identify it (differs for {', '.join(unseen) or 'no system'})"
    )
    print(table(rows, regimes, "coefficients"))
    bad = failures(rows)
    print(f"\nnew rule wrong in {len(bad)} of {len(rows)} cases (data truth):")
    for r in bad:
        print(
            f"  {r['system']} [{r['regime']}]: determined dim {r['data_dim']} "
            f"order {r['data_order']} (true {r['true_dim']}, {r['true_order']}), "
            f"found dim {r['new_dim']} ({r['new_data_correct']} right) "
            f"order {r['new_order']} "
            + ("" if r["new_status"] == "ok" else r["new_status"])
        )
    print(f"\nper-case results: {out}; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
