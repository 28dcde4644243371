"""A second test of an accepted symmetry, on the measured runs themselves.

The integral rows of :func:`symsindy.regression_data.integral_data` see a
model through weighted means over short windows: a breaking whose effect
builds up along a whole run escapes them. On Hopf broken by ``0.01 x0^2``
with 5 % state noise (six runs of 800 samples), the rows' test of the
rotation has a non-centrality of about 4; the runs themselves carry about 33
(the squared distance, in noise units, of the measured runs from the nearest
rotation-symmetric model's runs).

This module fits the symmetric model to the runs by shooting: the runs of
``x' = C Theta(x)`` with ``vec C = Q a`` in the symmetric subspace, from free
initial states, whitened by each state's noise, over ``a`` and the initial
states (Gauss-Newton with Levenberg-Marquardt damping, on the first quarter,
then half, then all of every run; the sensitivities are integrated
alongside, by the variational equations). At that fit the score (Lagrange
multiplier) statistic

    S = g^T I^+ g - g_Q^T I_Q^+ g_Q,

with ``g`` the gradient of the whitened residual over every coefficient of
``C`` and ``I`` their information (initial states profiled out), and ``g_Q``,
``I_Q`` the same over the symmetric coordinates, is the decrease of the
residual that freeing the whole model would bring beyond the symmetric one,
to first order (the second term vanishes at the symmetric optimum);
``S ~ chi2(codimension)`` under the symmetry. The score test needs the
shooting fit of the (small, well determined) symmetric model only, never the
free one, whose poorly determined directions make Gauss-Newton wander.

Integration: classical Runge-Kutta over the sampling grid, with steps that
span several samples where the Jacobian's spectral radius allows
(``STEP_SCALE``) and cubic Hermite interpolation in between (both commute
with linear changes of coordinates, so the runs of a symmetric model stay
exactly symmetric); the states' error stays below 1e-4 of their RMS.

The test abstains (returns the reason) when the runs cannot be trusted to
carry it: states without measurable noise, runs whose sensitivity to the
initial states grows beyond ``MAX_GROWTH`` (chaotic runs), a symmetric model
whose runs depart from the measured ones by more than ``MAX_DEPARTURE`` of
their spread at the start, a fit that does not converge, or runs that even
the free model (to first order) misses by more than ``MAX_MISFIT`` times the
noise variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.stats import chi2

from .polynomials import Monomials

__all__ = [
    "TrajectoryTest",
    "trajectory_test",
    "MAX_DEPARTURE",
    "MAX_GROWTH",
    "MAX_INTEGRATIONS",
    "MAX_MISFIT",
    "MAX_PARAMETERS",
]

#: Abstain when even the free model's runs (to first order from the
#: symmetric fit) miss the states by more than this multiple of the noise
#: variance per value: the library or the sampling cannot reproduce the runs,
#: whatever the symmetry.
MAX_MISFIT = 1.5

#: Integrations of the runs for one fit (Gauss-Newton steps and rejected
#: steps, counted by the fraction of the runs integrated) before it is
#: declared not converged.
MAX_INTEGRATIONS = 8

#: Fractions of the runs the symmetric fit works through (see
#: ``_fit_symmetric``).
HORIZONS = (0.25, 0.5, 1.0)

#: The symmetric fit stops when a Gauss-Newton step would lower the whitened
#: residual by less than this (one unit of the chi-square statistic), when a
#: lightly damped step did, or when the last step gained what the
#: linearisation predicted (within 5 %) and less than 30 units are left (on
#: the shorter runs of ``HORIZONS``, which only lead the way, whatever is
#: left): the score is the difference of the free and the symmetric model's
#: gains at the same point, which only needs the point to be where the runs
#: are linear in the parameters.
LINEAR = 1.0

#: Abstain when the runs' sensitivity to their initial states grows beyond
#: this: the linearisation of chaotic runs fails.
MAX_GROWTH = 1e3

#: Abstain when the symmetric model's runs, from the measured initial states,
#: depart from the measured runs by more than this fraction of a state's
#: spread (RMS): Gauss-Newton would not reach them (chaotic runs diverge).
MAX_DEPARTURE = 0.5

#: Levenberg-Marquardt damping of the first steps (relative to the diagonal
#: of the information).
FIRST_DAMPING = 1e-3

#: Runge-Kutta steps span samples up to this product of step and rate
#: (local error about ``STEP_SCALE^5 / 120`` of the state).
STEP_SCALE = 0.2

#: Abstain above this many coefficients (the information over all of them
#: costs ``n_values * P^2``).
MAX_PARAMETERS = 600

#: Numbers of the model runs held in memory at once (a block of samples of
#: every run with its sensitivities; 32 MB).
BLOCK_VALUES = 2**22

#: Abstain when a state's noise is below this fraction of its spread.
MIN_NOISE = 1e-5

NOT_CONVERGED = "the shooting fit does not converge"


@dataclass
class TrajectoryTest:
    """Score test of a symmetric subspace on the measured runs.

    Attributes
    ----------
    statistic : float
        ``S`` of the module docstring.
    dof : int
    p_value : float
    alpha : float
    coef : ndarray (n, n_features)
        The symmetric model fitted to the runs.
    misfit : float
        Its residual per value in units of the noise variance (about 1 when
        the runs are reproduced up to their noise).
    iterations : int
        Accepted Gauss-Newton steps.
    n_runs : int
    """

    statistic: float
    dof: int
    p_value: float
    alpha: float
    coef: np.ndarray
    misfit: float
    iterations: int
    n_runs: int

    @property
    def accepted(self) -> bool:
        return self.p_value > self.alpha

    def sentence(self) -> str:
        from .inference import format_p

        verdict = "agree" if self.accepted else "reject it"
        return (
            f"the trajectories {verdict} (S = {self.statistic:.3g} on "
            f"{self.dof} dof, p = {format_p(self.p_value)})"
        )

    def describe(self) -> str:
        runs = "run" if self.n_runs == 1 else "runs"
        return (
            f"shooting fit of {self.n_runs} {runs}, residual {self.misfit:.3g} "
            f"times the noise variance"
        )

    def to_dict(self) -> dict:
        return {
            "statistic": self.statistic,
            "dof": self.dof,
            "p_value": self.p_value,
            "accepted": self.accepted,
            "misfit": self.misfit,
        }


def trajectory_test(
    basis: Monomials,
    trajectories,
    times,
    coef,
    Q,
    variance,
    dof: int,
    alpha: float,
) -> TrajectoryTest | str:
    """Score test of ``vec C in span(Q)`` on the measured runs (module docstring).

    Parameters
    ----------
    basis : Monomials
        The library over the states.
    trajectories : list of arrays (n_times, n)
    times : list of arrays (n_times,)
        The time of every sample.
    coef : ndarray (n, len(basis))
        A symmetric model to start from (e.g. the refit on integral rows).
    Q : array or sparse matrix (n * len(basis), d)
        Basis of the symmetric subspace of ``vec C`` (row-major).
    variance : ndarray (n,)
        Noise variance of each state.
    dof : int
        Degrees of freedom of the statistic (the constraint's codimension).
    alpha : float

    Returns
    -------
    TrajectoryTest, or a str saying why the runs cannot carry the test.

    Examples
    --------
    A run of ``x' = -x + 0.2 x^2`` with 1 % noise: the runs reject the linear
    model (the symmetry ``x -> -x``) and accept ``x' = a x + b x^2``.

    >>> import numpy as np
    >>> from symsindy import Monomials
    >>> t = np.linspace(0, 3, 301)
    >>> rng = np.random.default_rng(0)
    >>> x = 1 / (0.2 + 0.8 * np.exp(t))[:, None] + 0.01 * rng.normal(size=(301, 1))
    >>> basis, var = Monomials(1, 2), np.array([1e-4])
    >>> odd = np.array([[0.0], [1.0], [0.0]])          # C = [0, a, 0]
    >>> test = trajectory_test(basis, [x], [t], np.array([[0.0, -0.9, 0.0]]), odd,
    ...                        var, dof=2, alpha=1e-3)
    >>> test.accepted
    False
    >>> free = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> test = trajectory_test(basis, [x], [t], np.array([[0.0, -1.0, 0.2]]), free,
    ...                        var, dof=1, alpha=1e-3)
    >>> test.accepted, np.round(test.coef, 1).tolist()
    (True, [[0.0, -1.0, 0.2]])
    """
    trajectories, times, coef, Q, variance = _checked(
        basis, trajectories, times, coef, Q, variance
    )
    if coef.size > MAX_PARAMETERS:
        return f"more than {MAX_PARAMETERS} coefficients"
    runs = _Runs(basis, trajectories, times, np.sqrt(variance))
    if np.any(variance <= (MIN_NOISE * runs.spread) ** 2):
        return "the states carry no measurable noise"
    fit = _fit_symmetric(runs, coef, Q)
    if isinstance(fit, str):
        return fit
    coef, x0, iterations, full = fit
    # The score: what freeing every coefficient would gain beyond the
    # symmetric model, both to first order at the same point.
    free_gain = full.step()[2]
    statistic = max(free_gain - full.restricted(Q).step()[2], 0.0)
    misfit = full.rss / max(runs.n_values - Q.shape[1] - x0.size, 1)
    free = (full.rss - free_gain) / max(runs.n_values - coef.size - x0.size, 1)
    if not free <= MAX_MISFIT:
        # Not the symmetry's fault: freeing the model would not fit either.
        return f"the model's runs miss the states by {free:.3g} times their noise"
    return TrajectoryTest(
        float(statistic),
        int(dof),
        float(chi2.sf(statistic, dof)),
        alpha,
        coef,
        misfit,
        iterations,
        len(trajectories),
    )


def _checked(basis, trajectories, times, coef, Q, variance):
    """The arguments of :func:`trajectory_test` as arrays, or one clear error."""
    from .trajectories import as_trajectory_list, time_arrays

    trajectories = as_trajectory_list(trajectories)
    n = trajectories[0].shape[1]
    if basis.n_vars != n:
        raise ValueError(
            f"basis is over {basis.n_vars} variables but the trajectories have {n}"
        )
    try:
        times = time_arrays(list(times), trajectories)
    except ValueError as err:
        raise ValueError(
            f"times must hold one time per sample of every trajectory ({err})"
        ) from None
    coef = np.array(coef, dtype=float)
    if coef.shape != (n, len(basis)):
        raise ValueError(f"coef must have shape {(n, len(basis))}, got {coef.shape}")
    Q = np.asarray(sparse.csr_matrix(Q).toarray())
    if Q.shape[0] != coef.size:
        raise ValueError(f"Q must have {coef.size} rows (vec C), got {Q.shape[0]}")
    variance = np.asarray(variance, dtype=float)
    if variance.shape != (n,) or not np.all(np.isfinite(variance) & (variance >= 0)):
        raise ValueError(
            f"variance must hold {n} finite non-negative values, got {variance!r}"
        )
    return trajectories, times, coef, Q, variance


def _fit_symmetric(runs: _Runs, coef, Q):
    """Shooting fit of ``vec C = Q a`` (and the initial states) to the runs,
    to within ``LINEAR`` of its optimum: ``(coef, x0, iterations, normal)``
    with ``normal`` the linearisation there over every coefficient, or why it
    fails.

    The fit starts on the first quarter of every run, then half, then all
    (``HORIZONS``): a model's runs drift from the measured ones the longer
    they are, so the short runs bring the coefficients to where the long ones
    are nearly linear in them, at a fraction of the cost. The whole runs are
    integrated with the sensitivities to every coefficient (about the cost of
    those to ``a``), which the score needs at the end.
    """
    a = np.linalg.lstsq(Q, coef.ravel(), rcond=None)[0] if Q.shape[1] else np.zeros(0)
    x0 = runs.observed[:, 0].copy()
    m = runs.observed.shape[1]
    # The whole runs first, without coefficient sensitivities (cheap): chaotic
    # runs show here, not on their first quarter.
    start = (Q @ a).reshape(coef.shape)
    why = _unfit(runs.normal_equations(start, x0, np.zeros((coef.size, 0))))
    if why:
        return why
    budget, iterations = float(MAX_INTEGRATIONS), 0
    for fraction in HORIZONS:
        stage = runs if fraction == 1 else runs.truncated(max(int(fraction * m), 2))
        fitted = _shoot(stage, coef.shape, Q, a, x0, budget / fraction, fraction == 1)
        if isinstance(fitted, str):
            return fitted
        a, x0, steps, used, normal = fitted
        iterations, budget = iterations + steps, budget - used * fraction
    return (Q @ a).reshape(coef.shape), x0, iterations, normal


def _unfit(normal: _NormalEquations) -> str:
    """Why runs so linearised cannot be fitted by shooting ("" if they can)."""
    if not normal.growth <= MAX_GROWTH:
        return (
            f"perturbations of the initial states grow over {MAX_GROWTH:.0e}-fold "
            "along the runs (chaotic or unstable runs)"
        )
    if not normal.departure <= MAX_DEPARTURE:
        return (
            f"the model's runs depart from the measured ones by "
            f"{normal.departure:.0%} of their spread (chaotic runs, or a model far "
            "from them)"
        )
    return ""


def _shoot(runs: _Runs, shape, Q, a, x0, budget: float, every: bool):
    """Levenberg-Marquardt over ``a`` and the initial states from ``(a, x0)``,
    with at most ``budget`` integrations: ``(a, x0, steps, integrations,
    normal)``, or why it fails. With ``every``, ``normal`` is over every
    coefficient (the steps use its restriction to ``Q``)."""

    def linearise(a, x0):
        coef = (Q @ a).reshape(shape)
        if every:
            full = runs.normal_equations(coef, x0, None)
            return full.restricted(Q), full
        return runs.normal_equations(coef, x0, Q), None

    normal, full = linearise(a, x0)
    why = _unfit(normal)
    if why:
        return why
    integrations, steps, damping = 1, 0, FIRST_DAMPING
    left = normal.step()[2]  # what the undamped step would gain
    while left > LINEAR:
        if integrations >= budget:
            return NOT_CONVERGED
        step_a, step_x, predicted = normal.step(damping)
        trial, trial_full = linearise(a + step_a, x0 + step_x)
        integrations += 1
        if not trial.rss < normal.rss:
            # Levenberg-Marquardt: shorter steps, turned towards the gradient.
            damping = max(10 * damping, FIRST_DAMPING)
            continue
        gain = normal.rss - trial.rss
        a, x0, normal, full = a + step_a, x0 + step_x, trial, trial_full
        steps, left = steps + 1, trial.step()[2]
        if gain <= LINEAR and damping <= FIRST_DAMPING:
            break  # what is left lies along directions the runs hardly see
        near = not every or left <= 30 * LINEAR  # shorter runs only lead on
        if abs(gain - predicted) <= 0.05 * predicted and near:
            break  # the linearisation holds from here on: the rest is linear
        damping = damping / 10 if damping > 1e-2 * FIRST_DAMPING else 0.0
    return a, x0, steps, integrations, full


@dataclass
class _NormalEquations:
    """Gauss-Newton normal equations of one linearisation, per run.

    ``K`` (runs, n + d, n + d) and ``k`` (runs, n + d) over the parameters
    ``(initial state of the run, coordinates along the directions)``;
    ``rss`` the whitened residual.
    """

    K: np.ndarray
    k: np.ndarray
    rss: float
    n: int
    #: RMS distance of the model runs from the measured ones over each
    #: state's spread (largest state).
    departure: float = 0.0
    #: Largest sensitivity of the runs to their initial states.
    growth: float = 0.0

    def restricted(self, Q: np.ndarray) -> _NormalEquations:
        """The same linearisation over the coordinates ``a`` of ``vec C = Q a``
        (for equations over every coefficient)."""
        n = self.n
        T = np.zeros((self.K.shape[1], n + Q.shape[1]))
        T[:n, :n] = np.eye(n)
        T[n:, n:] = Q
        K = np.swapaxes(T, 0, 1)[None] @ self.K @ T[None]
        return _NormalEquations(K, self.k @ T, self.rss, n, self.departure, self.growth)

    def _profiled(self, damping: float):
        """Information and score of the shared coordinates with the initial
        states eliminated (Levenberg-Marquardt ``damping`` times the
        diagonals)."""
        n = self.n
        Kxx, Kxc = self.K[:, :n, :n], self.K[:, :n, n:]
        if damping:
            Kxx = Kxx + damping * Kxx * np.eye(n)
        solve = np.linalg.pinv(Kxx, hermitian=True)
        G = np.sum(self.K[:, n:, n:] - np.swapaxes(Kxc, 1, 2) @ solve @ Kxc, axis=0)
        if damping:
            G += damping * np.diag(np.diag(np.sum(self.K[:, n:, n:], axis=0)))
        kx = self.k[:, :n]
        g = np.sum(self.k[:, n:] - np.einsum("rxp,rxy,ry->rp", Kxc, solve, kx), axis=0)
        return G, g, solve

    def step(self, damping: float = 0.0) -> tuple[np.ndarray, np.ndarray, float]:
        """Gauss-Newton (with ``damping``, Levenberg-Marquardt) step of the
        shared coordinates and of the initial states, and the decrease of the
        residual that the linearisation predicts for it."""
        from .inference import _scaled_solve

        if not (np.isfinite(self.rss) and np.all(np.isfinite(self.K))):
            return 0.0, 0.0, np.inf
        G, g, solve = self._profiled(damping)
        step_c, _ = _scaled_solve(G, g) if G.size else (np.zeros(0), 0)
        n = self.n
        rhs = self.k[:, :n] - self.K[:, :n, n:] @ step_c
        step_x = np.einsum("rxy,ry->rx", solve, rhs)
        both = np.concatenate(
            [step_x, np.broadcast_to(step_c, (len(step_x), step_c.size))], axis=1
        )
        quadratic = np.einsum("rp,rpq,rq->", both, self.K, both)
        predicted = float(2 * np.sum(self.k * both) - quadratic)
        return step_c, step_x, predicted


class _Runs:
    """The measured runs, padded to one length, and their model runs.

    Shorter runs repeat their last time (zero steps) and their padding is
    masked out of the residuals.
    """

    def __init__(self, basis: Monomials, trajectories, times, sigma):
        self.trajectories, self.times_given = trajectories, times
        lengths = [len(x) for x in trajectories]
        m = max(lengths)
        self.basis, self.sigma = basis, sigma
        self.n = trajectories[0].shape[1]
        self.observed = np.stack([_pad(x, m) for x in trajectories])
        self.mask = np.arange(m)[None, :] < np.array(lengths)[:, None]
        self.times = np.stack(
            [_pad(np.asarray(t, float)[:, None], m)[:, 0] for t in times]
        )
        self.steps = np.diff(self.times, axis=1)
        self.n_values = int(self.mask.sum()) * self.n
        spread = np.std(np.vstack(trajectories), axis=0)
        self.spread = np.where(spread > 0, spread, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            whitened = self.observed / sigma
        whitened[~self.mask] = 0.0
        self.whitened = whitened.reshape(len(trajectories), -1)
        self.nodes = None
        self._tables()

    def truncated(self, samples: int) -> _Runs:
        """The first ``samples`` samples of every run (the noise and spread of
        the whole runs kept)."""
        out = _Runs(
            self.basis,
            [x[:samples] for x in self.trajectories],
            [t[:samples] for t in self.times_given],
            self.sigma,
        )
        out.spread = self.spread
        if self.nodes is not None:  # the same steps, cut at the new end
            cut = self.nodes[self.nodes < samples - 1]
            out.nodes = np.append(cut, samples - 1)
        return out

    def _tables(self):
        # The runs are evaluated over every monomial up to the library's
        # degree: derivatives of a library without constant or linear terms
        # have them.
        self.full = Monomials(self.n, self.basis.max_degree)
        exps = self.full.exponents
        F, n = exps.shape
        self.columns = self.full.index(self.basis.exponents)
        # d Theta_k / d x_j = factor[k, j] * Theta[source[k, j]].
        self.source = np.zeros((F, n), dtype=int)
        self.factor = np.zeros((F, n))
        for j in range(n):
            has = np.nonzero(exps[:, j])[0]
            lowered = exps[has].copy()
            lowered[:, j] -= 1
            self.source[has, j] = self.full.index(lowered)
            self.factor[has, j] = exps[has, j]
        self.exponents = exps
        self.orders = np.arange(exps.max(initial=0) + 1)
        self.states = np.arange(n)[None, :]
        P = n * len(self.columns)
        self.rows = np.repeat(np.arange(n), len(self.columns))
        self.cols = 1 + n + np.arange(P)
        self.features = np.tile(self.columns, n)

    def _theta(self, x):
        powers = x[..., :, None] ** self.orders  # (..., n, degree + 1)
        return np.multiply.reduce(powers[..., self.states, self.exponents], axis=-1)

    def _field_and_jacobian(self, coef) -> np.ndarray:
        """``W`` with ``Theta(x) @ W = [F(x) | vec dF/dx(x)]`` (all monomials)."""
        n, F = self.n, len(self.full)
        full = np.zeros((n, F))
        full[:, self.columns] = coef
        W = np.zeros((F, n + n * n))
        W[:, :n] = full.T
        i, k, j = np.meshgrid(np.arange(n), np.arange(F), np.arange(n), indexing="ij")
        np.add.at(W, (self.source[k, j], n + i * n + j), full[i, k] * self.factor[k, j])
        return W

    def _rate(self, W, Z, directions):
        """Time derivative of ``Z = [x | dx/dx0 | dx/d(coordinates)]``
        (runs, n, 1 + n + d): coordinates along the directions of ``vec C``
        (laid out as in ``integrate``), or along every coefficient (None)."""
        n = self.n
        theta = self._theta(Z[:, :, 0])
        values = theta @ W
        dZ = np.empty_like(Z)
        dZ[:, :, 0] = values[:, :n]
        dZ[:, :, 1:] = values[:, n:].reshape(-1, n, n) @ Z[:, :, 1:]
        if directions is None:
            dZ[:, self.rows, self.cols] += theta[:, self.features]
        elif directions.size:
            # d/da of C Theta along vec C = D a: sum_k Theta_k D[(i, k), q],
            # with D laid out as (k, (i, q)) by ``integrate``.
            product = theta[:, self.columns] @ directions
            dZ[:, :, 1 + n :] += product.reshape(len(Z), n, -1)
        return dZ

    def _nodes(self, W) -> np.ndarray:
        """Sample indices where Runge-Kutta steps start and end.

        Steps span several samples when the data are sampled finely: ``h``
        times the largest spectral radius of the Jacobian over the samples
        stays below ``STEP_SCALE`` (local error about ``STEP_SCALE^5 / 120``
        of the state, as for ``x' = lambda x``); the samples
        in between come from the step's cubic Hermite interpolant, whose error
        is of the same order. Both commute with linear changes of
        coordinates, so the runs of a symmetric model stay exactly symmetric.
        """
        n = self.n
        jac = (self._theta(self.observed) @ W)[..., n:].reshape(*self.mask.shape, n, n)
        finite = np.all(np.isfinite(jac), axis=(-2, -1))
        radius = np.abs(np.linalg.eigvals(np.where(finite[..., None, None], jac, 0)))
        radius = np.where(finite, np.max(radius, axis=-1), np.inf)
        rate = np.max(radius, axis=0)  # per sample, over the runs
        span = np.max(self.times, axis=0)
        nodes, a = [0], 0
        for b in range(1, len(span)):
            fastest = np.max(rate[a : b + 1])
            if b - a > 1 and fastest * (span[b] - span[a]) > STEP_SCALE:
                a = b - 1
                nodes.append(a)
        return (
            np.append(nodes, len(span) - 1)
            if nodes[-1] != len(span) - 1
            else np.array(nodes)
        )

    def blocks(self, coef, x0, directions):
        """The model runs from ``x0`` with their sensitivities to the initial
        states and to coordinates along ``directions`` (see ``_rate``), a
        block of samples at a time: yields ``(samples, path)``, ``path`` of
        shape ``(runs, len(samples), n, 1 + n + d)``. A block holds about
        ``BLOCK_VALUES`` numbers, so memory does not grow with the runs'
        length."""
        n, runs = self.n, len(x0)
        W = self._field_and_jacobian(coef)
        d = coef.size if directions is None else directions.shape[1]
        if directions is not None:  # (P, d) -> (features, n * d) for _rate
            F = len(self.columns)
            directions = directions.reshape(n, F, d).transpose(1, 0, 2).reshape(F, -1)
        Z = np.zeros((runs, n, 1 + n + d))
        Z[:, :, 0] = x0
        Z[:, :, 1 : 1 + n] = np.eye(n)

        def rate(W, Z):
            return self._rate(W, Z, directions)

        if self.nodes is None:  # the step sizes of the first model, kept
            self.nodes = self._nodes(W)
        nodes = self.nodes
        per_block = max(2, BLOCK_VALUES // Z.size)
        with np.errstate(all="ignore"):
            values, rates = [Z], [rate(W, Z)]
            for i in range(1, len(nodes)):
                h = self.times[:, nodes[i]] - self.times[:, nodes[i - 1]]
                values.append(_rk4_step(rate, W, values[-1], rates[-1], h))
                rates.append(rate(W, values[-1]))
                last = i == len(nodes) - 1
                start = nodes[i - len(values) + 1]
                if nodes[i] - start >= per_block or last:
                    here = nodes[i - len(values) + 1 : i + 1]
                    samples = np.arange(start, nodes[i] + last)
                    yield (
                        samples,
                        _hermite(
                            np.stack(values, 1),
                            np.stack(rates, 1),
                            here,
                            self.times,
                            samples,
                        ),
                    )
                    values, rates = values[-1:], rates[-1:]

    def normal_equations(self, coef, x0, directions) -> _NormalEquations:
        """Linearisation at ``coef`` and ``x0`` over the initial states and
        coordinates along ``directions`` (None: every coefficient), summed
        over blocks of samples."""
        n, runs = self.n, len(x0)
        K = k = 0.0
        rss, growth = 0.0, 0.0
        miss = np.zeros(n)
        whitened = self.whitened.reshape(runs, -1, n)
        with np.errstate(all="ignore"):
            for samples, path in self.blocks(coef, x0, directions):
                mask = self.mask[:, samples]
                miss += np.sum(
                    (path[:, :, :, 0] - self.observed[:, samples])[mask] ** 2, 0
                )
                grown = float(np.max(np.abs(path[:, :, :, 1 : 1 + n])))
                growth = max(growth, grown if np.isfinite(grown) else np.inf)
                # Whitened: [model state | its sensitivities], padding zeroed.
                path /= self.sigma[:, None]
                path[~mask] = 0.0
                flat = path.reshape(runs, len(samples) * n, -1)
                r = whitened[:, samples].reshape(runs, -1) - flat[:, :, 0]
                K = K + (np.swapaxes(flat, 1, 2) @ flat)[:, 1:, 1:]
                k = k + np.einsum("rsw,rs->rw", flat[:, :, 1:], r)
                rss += float(np.sum(r**2))
            count = self.mask.sum()
            departure = np.max(np.sqrt(miss / count) / self.spread)
        if not np.isfinite(rss):
            rss = np.inf
        departure = float(departure) if np.isfinite(departure) else np.inf
        return _NormalEquations(K, k, rss, n, departure, growth)


def _rk4_step(rate, W, Z, k1, h):
    """One classical Runge-Kutta step of every run (``h`` per run; ``k1`` the
    rate at ``Z``). Written by hand rather than scipy's ``solve_ivp``: the
    steps fall on the samples for every run at once, carry the sensitivities
    as one array, and commute with linear maps (module docstring)."""
    h = h[:, None, None]
    k2 = rate(W, Z + h / 2 * k1)
    k3 = rate(W, Z + h / 2 * k2)
    k4 = rate(W, Z + h * k3)
    return Z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _hermite(values, rates, nodes, times, samples) -> np.ndarray:
    """The cubic Hermite interpolant of the steps between ``nodes`` (with
    ``values`` and ``rates`` there, ``(runs, len(nodes), ...)``) at
    ``samples``, which lie within them: ``(runs, len(samples), ...)``. It is
    exact at the nodes. Per run, one sparse product with the interpolation
    weights (two nodes per sample), which keeps the memory traffic to the
    output."""
    N = len(nodes)
    step = np.clip(np.searchsorted(nodes, samples, side="right") - 1, 0, N - 2)
    a, b = nodes[step], nodes[step + 1]
    h = times[:, b] - times[:, a]  # (runs, samples)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.nan_to_num((times[:, samples] - times[:, a]) / h)
    weights = (
        2 * s**3 - 3 * s**2 + 1,
        (s**3 - 2 * s**2 + s) * h,
        -2 * s**3 + 3 * s**2,
        (s**3 - s**2) * h,
    )
    rows = np.tile(np.arange(len(samples)), 4)
    cols = np.concatenate([step, step + N, step + 1, step + 1 + N])
    out = np.empty((values.shape[0], len(samples), *values.shape[2:]))
    for r in range(values.shape[0]):
        interpolate = sparse.csr_matrix(
            (np.concatenate([w[r] for w in weights]), (rows, cols)),
            shape=(len(samples), 2 * N),
        )
        known = np.concatenate([values[r], rates[r]]).reshape(2 * N, -1)
        out[r] = (interpolate @ known).reshape(out.shape[1:])
    return out


def _pad(values: np.ndarray, m: int) -> np.ndarray:
    """``values`` with its last row repeated up to ``m`` rows."""
    extra = m - len(values)
    return np.concatenate([values, np.repeat(values[-1:], extra, axis=0)])
