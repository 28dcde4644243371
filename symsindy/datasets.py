"""Reference systems with known symmetry, simulated or bundled.

Each :class:`System` is a polynomial vector field given by its terms, so its
true coefficients in any polynomial library, its right-hand side and its
symmetry group come from one definition.

Examples
--------
>>> from symsindy import datasets
>>> sys = datasets.get_system("hopf")
>>> sys.symmetry.dim
1
>>> xs = datasets.simulate("hopf", n_trajectories=2, t=np.linspace(0, 1, 11), seed=0)
>>> len(xs), xs[0].shape
(2, (11, 2))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
from scipy.integrate import solve_ivp

from .algebra import LieAlgebra
from .group import SymmetryGroup
from .polynomials import Monomials

__all__ = [
    "System",
    "get_system",
    "simulate",
    "load",
    "ridge_function",
    "SYSTEMS",
    "available",
]

Terms = list[dict[tuple[int, ...], float]]


@dataclass
class System:
    """A polynomial ODE ``dx/dt = F(x)`` with known symmetry.

    Attributes
    ----------
    name, description : str
    terms : list of dict
        One dict per equation mapping an exponent tuple to its coefficient.
    symmetry : SymmetryGroup
        The true symmetry group (continuous and discrete parts).
    x0_scale : float
        Initial conditions are drawn uniformly from ``[-x0_scale, x0_scale]^n``.
    t_end, dt : float
        Default time span and step for :func:`simulate`.
    """

    name: str
    description: str
    terms: Terms
    symmetry: SymmetryGroup
    x0_scale: float = 1.0
    t_end: float = 10.0
    dt: float = 0.01
    x0_sampler: Callable | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.terms)

    @property
    def degree(self) -> int:
        return max((sum(e) for eq in self.terms for e in eq), default=1)

    def coefficients(self, degree: int | None = None, include_bias: bool = True):
        """True coefficient matrix ``(n, n_features)`` in pysindy library order."""
        degree = self.degree if degree is None else degree
        if degree < self.degree:
            raise ValueError(f"{self.name} needs degree >= {self.degree}")
        basis = Monomials(self.n, degree, 0 if include_bias else 1)
        coef = np.zeros((self.n, len(basis)))
        for i, eq in enumerate(self.terms):
            for exps, c in eq.items():
                idx = basis.index(np.array([exps]))[0]
                if idx < 0:
                    raise ValueError(f"term {exps} not in the library")
                coef[i, idx] = c
        return coef

    def rhs(self, x: np.ndarray) -> np.ndarray:
        """``F(x)`` at the rows of ``x`` (or a single state)."""
        x = np.asarray(x, dtype=float)
        single = x.ndim == 1
        basis = Monomials(self.n, self.degree)
        out = basis.evaluate(np.atleast_2d(x)) @ self.coefficients().T
        return out[0] if single else out


def _mono(n: int, *pairs) -> tuple[int, ...]:
    """Exponent tuple from (variable, power) pairs."""
    e = [0] * n
    for var, power in pairs:
        e[var] += power
    return tuple(e)


def damped_oscillator(a: float = 0.1) -> System:
    m = lambda *p: _mono(2, *p)  # noqa: E731
    terms = [{m((0, 1)): -a, m((1, 1)): -1.0}, {m((0, 1)): 1.0, m((1, 1)): -a}]
    alg = LieAlgebra.so(2) + LieAlgebra.scaling(2)
    return System(
        "damped_oscillator",
        f"x' = -{a} x - y, y' = x - {a} y (rotation and scaling)",
        terms,
        SymmetryGroup(alg),
        x0_scale=2.0,
        t_end=10.0,
    )


def hopf(mu: float = 1.0, omega: float = 1.0, eps: float = 0.0) -> System:
    """Hopf normal form ``z' = (mu + i omega) z - |z|^2 z`` (+ ``eps x^2`` in x')."""
    m = lambda *p: _mono(2, *p)  # noqa: E731
    fx = {m((0, 1)): mu, m((1, 1)): -omega, m((0, 3)): -1.0, m((0, 1), (1, 2)): -1.0}
    fy = {m((0, 1)): omega, m((1, 1)): mu, m((0, 2), (1, 1)): -1.0, m((1, 3)): -1.0}
    if eps:
        fx[m((0, 2))] = eps
    sym = (
        SymmetryGroup(LieAlgebra.trivial(2)) if eps else SymmetryGroup(LieAlgebra.so(2))
    )
    return System(
        "hopf" if not eps else f"hopf_eps{eps:g}",
        "Hopf normal form (rotation)" + (f" broken by {eps:g} x^2" if eps else ""),
        [fx, fy],
        sym,
        x0_scale=2.0,
        t_end=8.0,
    )


def growth(a: float = 1.0, b: float = 1.0) -> System:
    """``x0' = a x1^2 - b x0, x1' = x1``: scaling with weights (2, 1)."""
    m = lambda *p: _mono(2, *p)  # noqa: E731
    terms = [{m((1, 2)): a, m((0, 1)): -b}, {m((1, 1)): 1.0}]
    sym = SymmetryGroup(LieAlgebra.scaling(2, [2, 1]), discrete=[np.diag([1.0, -1.0])])
    return System(
        "growth", "x0' = x1^2 - x0, x1' = x1", terms, sym, x0_scale=1.0, t_end=2.0
    )


def lorenz(sigma: float = 10.0, rho: float = 28.0, beta: float = 8 / 3) -> System:
    m = lambda *p: _mono(3, *p)  # noqa: E731
    terms = [
        {m((0, 1)): -sigma, m((1, 1)): sigma},
        {m((0, 1)): rho, m((1, 1)): -1.0, m((0, 1), (2, 1)): -1.0},
        {m((2, 1)): -beta, m((0, 1), (1, 1)): 1.0},
    ]
    sym = SymmetryGroup(n=3, discrete=[np.diag([-1.0, -1.0, 1.0])])

    def sampler(rng, k):
        return rng.uniform([-15, -15, 5], [15, 15, 40], size=(k, 3))

    return System(
        "lorenz",
        "Lorenz system (reflection (x, y, z) -> (-x, -y, z))",
        terms,
        sym,
        t_end=4.0,
        dt=0.002,
        x0_sampler=sampler,
    )


def linear_decay(n: int = 3) -> System:
    """``x' = -x``: every linear map is a symmetry (gl(n))."""
    terms = [{_mono(n, (i, 1)): -1.0} for i in range(n)]
    return System(
        f"linear_decay{n}", "x' = -x", terms, SymmetryGroup(LieAlgebra.gl(n)), t_end=3.0
    )


def rotor3(mu: float = 1.0) -> System:
    """``x' = (mu - |x|^2) x`` in R^3: non-abelian so(3) symmetry."""
    n = 3
    terms = []
    for i in range(n):
        eq = {_mono(n, (i, 1)): mu}
        for j in range(n):
            eq[_mono(n, (i, 1), (j, 2))] = eq.get(_mono(n, (i, 1), (j, 2)), 0.0) - 1.0
        terms.append(eq)
    signed = [np.diag([-1.0, 1.0, 1.0]), np.eye(3)[[1, 0, 2]], np.eye(3)[[1, 2, 0]]]
    return System(
        "rotor3",
        "x' = (1 - |x|^2) x in R^3 (so(3))",
        terms,
        SymmetryGroup(LieAlgebra.so(3), discrete=signed),
        x0_scale=1.5,
        t_end=4.0,
    )


def coupled_hopf(
    k: int = 3, coupling: float = 0.2, mu: float = 1.0, omega: float = 1.0
):
    """``k`` identical Hopf oscillators on a ring with diffusive coupling.

    Symmetric under a common rotation of all oscillators and the cyclic shift of
    the oscillators (a ``Z_k`` acting by permuting coordinate pairs).
    """
    n = 2 * k
    terms = []
    for osc in range(k):
        x, y = 2 * osc, 2 * osc + 1
        nxt = (2 * ((osc + 1) % k), 2 * ((osc + 1) % k) + 1)
        fx = {
            _mono(n, (x, 1)): mu - coupling,
            _mono(n, (y, 1)): -omega,
            _mono(n, (x, 3)): -1.0,
            _mono(n, (x, 1), (y, 2)): -1.0,
        }
        fy = {
            _mono(n, (x, 1)): omega,
            _mono(n, (y, 1)): mu - coupling,
            _mono(n, (x, 2), (y, 1)): -1.0,
            _mono(n, (y, 3)): -1.0,
        }
        fx[_mono(n, (nxt[0], 1))] = fx.get(_mono(n, (nxt[0], 1)), 0.0) + coupling
        fy[_mono(n, (nxt[1], 1))] = fy.get(_mono(n, (nxt[1], 1)), 0.0) + coupling
        terms += [fx, fy]
    J = LieAlgebra.so(2).matrices[0]
    common = LieAlgebra.from_matrices(np.kron(np.eye(k), J)[None], ["common rotation"])
    shift = np.kron(np.roll(np.eye(k), 1, axis=0), np.eye(2))
    return System(
        f"coupled_hopf{k}",
        f"{k} Hopf oscillators on a ring",
        terms,
        SymmetryGroup(common, discrete=[shift]),
        x0_scale=1.5,
        t_end=6.0,
    )


SYSTEMS: dict[str, Callable[..., System]] = {
    "damped_oscillator": damped_oscillator,
    "hopf": hopf,
    "growth": growth,
    "lorenz": lorenz,
    "linear_decay": linear_decay,
    "rotor3": rotor3,
    "coupled_hopf": coupled_hopf,
}


def available() -> list[str]:
    """Names accepted by :func:`get_system` and :func:`simulate`."""
    return sorted(SYSTEMS)


def get_system(name: str, **params) -> System:
    """A reference system by name, with optional parameters (e.g. ``eps``)."""
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; choose from {available()}")
    return SYSTEMS[name](**params)


def simulate(
    system: str | System,
    n_trajectories: int = 5,
    t: np.ndarray | None = None,
    noise: float = 0.0,
    seed: int | None = 0,
    x0: np.ndarray | None = None,
    **params,
) -> list[np.ndarray]:
    """Trajectories of a reference system from random initial conditions.

    Parameters
    ----------
    system : str or System
    n_trajectories : int
    t : array, optional
        Sample times (default ``arange(0, t_end, dt)`` of the system).
    noise : float
        Gaussian noise with standard deviation ``noise`` times each state's RMS
        over all trajectories (so ``0.01`` is 1% noise).
    seed : int, optional
    x0 : array (n,) or (n_trajectories, n), optional
        Initial conditions (default: random, drawn as the system prescribes).
    **params : passed to :func:`get_system`.

    Returns
    -------
    list of arrays ``(len(t), n)``.
    """
    sys = get_system(system, **params) if isinstance(system, str) else system
    if n_trajectories < 1:
        raise ValueError(f"n_trajectories must be >= 1, got {n_trajectories}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    t = np.arange(0, sys.t_end, sys.dt) if t is None else np.asarray(t, dtype=float)
    rng = np.random.default_rng(seed)
    if x0 is not None:
        x0s = np.atleast_2d(np.asarray(x0, dtype=float))
        if x0s.shape != (n_trajectories, sys.n) or not np.all(np.isfinite(x0s)):
            raise ValueError(
                f"x0 must be finite with shape ({n_trajectories}, {sys.n}) (one row "
                f"per trajectory), got {np.shape(x0)}"
            )
    elif sys.x0_sampler is not None:
        x0s = sys.x0_sampler(rng, n_trajectories)
    else:
        x0s = rng.uniform(-sys.x0_scale, sys.x0_scale, size=(n_trajectories, sys.n))
    trajs = []
    for x0 in x0s:
        sol = solve_ivp(
            lambda _, x: sys.rhs(x),
            (t[0], t[-1]),
            x0,
            t_eval=t,
            rtol=1e-10,
            atol=1e-10,
            method="LSODA",
        )
        if not sol.success or sol.y.shape[1] != len(t):
            raise RuntimeError(f"integration of {sys.name} failed: {sol.message}")
        trajs.append(sol.y.T)
    if noise:
        rms = np.sqrt(np.mean(np.vstack(trajs) ** 2, axis=0))
        trajs = [tr + noise * rms * rng.normal(size=tr.shape) for tr in trajs]
    return trajs


def load(name: str) -> dict:
    """A bundled dataset: ``{"t": times, "x": list of trajectories, ...}``.

    Files live in the package's ``data`` folder (see ``datasets/README.md``).
    """
    files = {
        p.name.rsplit(".", 1)[0]: p
        for p in resources.files("symsindy.data").iterdir()
        if p.name.endswith(".npz")
    }
    if name not in files:
        raise ValueError(f"no bundled dataset {name!r}; available: {sorted(files)}")
    with resources.as_file(files[name]) as path, np.load(path) as data:
        x = data["x"]
        out = {"t": data["t"], "x": [x[i] for i in range(x.shape[0])]}
        for key in data.files:
            if key not in ("t", "x"):
                out[key] = data[key]
    return out


def ridge_function(m: int, r: int, n_samples: int, seed: int | None = 0):
    """A scalar function ``f(x) = p(U x)`` that depends on an r-dim subspace.

    ``U`` (r x m) has orthonormal rows spanning a random subspace; ``p`` is a
    quadratic in r variables with every monomial and coefficients uniform in
    [0, 1). This is the subspace-recovery test problem of Otto et al. (2025):
    ``f`` is invariant under the translations orthogonal to the subspace.

    Returns
    -------
    library : Monomials
        All monomials of degree <= 2 in m variables.
    x : array (n_samples, m)
        Samples uniform in [-1, 1]^m.
    y : array (n_samples,)
        ``f(x)`` without noise.
    coefficients : array (len(library),)
        The true coefficients of ``f`` in ``library``.
    """
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.normal(size=(m, r)))[0].T
    p = Monomials(r, 2)
    pc = rng.uniform(0, 1, size=len(p))
    library = Monomials(m, 2)
    # Exact: f is a quadratic, so least squares on enough generic points is exact.
    fit_x = rng.uniform(-1, 1, size=(4 * len(library), m))
    true = np.linalg.lstsq(
        library.evaluate(fit_x), p.evaluate(fit_x @ U.T) @ pc, rcond=None
    )[0]
    x = rng.uniform(-1, 1, size=(n_samples, m))
    return library, x, p.evaluate(x @ U.T) @ pc, true
