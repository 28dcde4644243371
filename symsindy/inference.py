"""Deciding from data: is a symmetry consistent with the fit?

A symmetry claim is a statement about data, so it is a test. With ``RSS_0`` the
residual of the unconstrained least-squares fit over the whole library and
``RSS_V`` that of the refit restricted to the symmetric subspace ``V``,

    T = sum_i (RSS_V,i - RSS_0,i) / v_i   ~   chi^2(k)   if the symmetry holds,

where ``i`` runs over targets, ``v_i`` is the effective noise variance of
target ``i`` and ``k = p - p_V`` is the number of coefficients the symmetry
removes, minus the dimension of any family of candidates the search optimised
over. The constrained refit minimises the same weighted sum, so ``T`` is the
likelihood-ratio statistic of Gaussian noise.

Noise level
-----------
``sigma_i^2 = RSS_0,i / (N - p_t)`` (unbiased), inflated by the integrated
autocorrelation time ``tau_i`` of the residuals (smoothed numerical
derivatives have correlated errors: ``N_eff = N / tau``). Noise-free numerical
derivatives are biased rather than noisy, and with exact derivatives the
residual is rounding error, so ``v_i = max(sigma_i^2 tau_i,
(DERIVATIVE_NOISE_FLOOR * rms_i)^2)`` with ``rms_i`` the RMS of target ``i``:
the noise is never taken to be below 0.1 % of each derivative's scale
(:data:`DERIVATIVE_NOISE_FLOOR`). This bounds the variance, not the effect:
with many samples a systematic per-sample misfit below that level still
becomes significant (see ``relative_increase`` for the effect size).

Derivative bias
---------------
Numerical derivatives of even noise-free states are biased, and the bias of a
smoothing filter is a smooth function of the state that need not be symmetric:
with thousands of rows its non-equivariant part is "significant" however small
it is. So with numerical derivatives the null hypothesis is *equivalence*, not
exact symmetry: "the symmetry is broken by at most ``margin`` times each
derivative's RMS per sample". A breaking ``delta_i`` (per target) moves ``T``
to a non-central chi-square with non-centrality at most
``lambda = sum_i N margin^2 rms_i^2 / v_i``, and the test rejects above the
``1 - alpha`` quantile of ``ncx2(k, lambda)``.
:data:`DERIVATIVE_BIAS_MARGIN` (0.3 %) lies between the largest asymmetry that
``SmoothedFiniteDifference`` leaves in resolved, exactly symmetric flows
(about 0.2 %, Chen and Lorenz at 100 samples per period) and a 1 % breaking
(Hopf + 0.01 x0^2: 0.9 %). With measured derivatives the margin is 0.

State noise
-----------
Noise in the states also enters the library. Statistics corrected for it
(:class:`symsindy.regression_data.CorrectedStatistics`) carry the adjusted
normal equations in ``gram``, ``xty`` and ``rss``, and the plain residual in
``noise_rss(coef)``: the noise variance comes from the latter, since the
corrected estimate scatters with the features' noise included.

Everything here needs the data only through ``Theta^T Theta``,
``Theta^T Xdot``, ``Xdot^T Xdot``, the sample count and lagged cross products
for the autocorrelation: any object with those attributes (``gram``, ``xty``,
``yty``, ``n_samples``, ``rss(coef)``, ``residual_autocovariance(coef)``,
``pair_counts``) works, so the tests run on data streamed in chunks too.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse
from scipy.stats import chi2, ncx2, norm

from .linalg import reduced_normal_equations

__all__ = [
    "DERIVATIVE_NOISE_FLOOR",
    "DEFAULT_ALPHA",
    "NoiseEstimate",
    "SubspaceTest",
    "estimate_noise",
    "least_squares",
    "scaled_eigh",
    "subspace_least_squares",
    "subspace_test",
    "enforcement_test",
    "signal_test",
    "integrated_autocorrelation_time",
    "detectable_breaking",
    "breaking_resolution",
    "DETECTABLE_BREAKING",
    "DERIVATIVE_BIAS_MARGIN",
]

#: Floor of the noise standard deviation relative to each target's RMS: the
#: size of derivative errors that no symmetry claim is allowed to hinge on
#: (finite-difference bias of noise-free data is typically 1e-5 to 1e-3).
DERIVATIVE_NOISE_FLOOR = 1e-3

#: Equivalence margin with numerical derivatives: a symmetry broken by at most
#: this fraction of each derivative's RMS (per sample) counts as holding (see
#: "Derivative bias" in the module docstring).
DERIVATIVE_BIAS_MARGIN = 3e-3

#: A symmetry is "undetermined" when the data could not detect a breaking
#: this many times larger than the model itself (coefficients measured in units
#: of each monomial's RMS over the data). The bound is a worst case over every
#: breaking direction, so it is pessimistic for honest data and only breakings
#: that the data leave nearly unconstrained trigger it. In the calibration
#: benchmark, of the 742 discrete elements the test accepted, each checked
#: against every model that fits the noise-free data, 247 of the 253 with a
#: value up to 10 hold and 469 of the 489 above it do not (no threshold
#: between 3 and 30 does better by more than 2 elements); data on rays, where
#: the library's coefficients are not identifiable, give 1e4 and more without
#: noise. Noise comparable to the signal is caught by ``signal_test``.
DETECTABLE_BREAKING = 10.0

#: Default level of every symmetry test.
DEFAULT_ALPHA = 1e-3

#: Eigenvalues below this fraction of the largest (column-scaled Gram) are
#: treated as unidentifiable directions of the least-squares problem.
_RANK_RCOND = 1e-11


def scaled_eigh(H: np.ndarray):
    """``(d, vals, vecs, keep)``: ``H = D V diag(vals) V^T D`` with ``D = diag(d)``.

    The Gram matrix ``H`` (symmetric PSD) is scaled to unit diagonal first, so
    badly scaled libraries (monomials of very different sizes) do not lose the
    small ones; ``keep`` marks the eigenvalues above ``_RANK_RCOND`` times the
    largest, the directions the data determine.
    """
    d = np.sqrt(np.clip(np.diag(H), 0, None))
    d[d == 0] = 1.0
    vals, vecs = np.linalg.eigh(H / np.outer(d, d))
    keep = vals > _RANK_RCOND * max(vals.max(initial=0.0), 1e-300)
    return d, vals, vecs, keep


def _scaled_solve(H: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Minimum-norm solution of ``H c = b`` (H symmetric PSD) and its rank."""
    d, vals, vecs, keep = scaled_eigh(H)
    inv = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T
    scale = d if b.ndim == 1 else d[:, None]
    return (inv @ (b / scale)) / scale, int(keep.sum())


def least_squares(stats) -> tuple[np.ndarray, int]:
    """Unconstrained least squares over the whole library: ``(coef, rank)``.

    ``coef`` has pysindy's layout ``(n_targets, n_features)``.
    """
    coef, rank = _scaled_solve(np.asarray(stats.gram), np.asarray(stats.xty))
    return coef.T, rank


def integrated_autocorrelation_time(
    autocovariance: np.ndarray, pair_counts: np.ndarray
) -> np.ndarray:
    """``tau = 1 + 2 sum_k rho_k`` per column, summed while ``rho_k > 0``.

    Truncating at the first non-positive autocorrelation (Geyer's initial
    positive sequence, in its simplest form) keeps the noisy tail out.
    """
    acov = np.asarray(autocovariance, dtype=float)
    counts = np.maximum(np.asarray(pair_counts, dtype=float), 1.0)
    per_pair = acov / counts[:, None]
    var = per_pair[0]
    tau = np.ones(acov.shape[1])
    for j in range(acov.shape[1]):
        if var[j] <= 0:
            continue
        rho = per_pair[1:, j] / var[j]
        stop = np.flatnonzero(rho <= 0)
        rho = rho[: stop[0]] if stop.size else rho
        tau[j] = 1.0 + 2.0 * rho.sum()
    return np.clip(tau, 1.0, None)


@dataclass
class NoiseEstimate:
    """Noise level of the least-squares fit, per target.

    Attributes
    ----------
    variance : ndarray (n_targets,)
        Effective noise variance ``v_i`` used by the tests (after the
        autocorrelation correction and the floor).
    sigma : ndarray (n_targets,)
        Residual standard deviation of the unconstrained fit.
    tau : ndarray (n_targets,)
        Integrated autocorrelation time of the residuals.
    floored : ndarray of bool
        Targets whose variance is the floor (noise-free derivatives).
    n_samples : int
    n_effective : ndarray (n_targets,)
        ``n_samples / tau``.
    rank : int
        Identifiable coefficients per target (rank of the library's Gram).
    rss : ndarray (n_targets,)
        Residual sums of squares of the unconstrained fit.
    rms : ndarray (n_targets,)
        RMS of each target.
    coef : ndarray (n_targets, n_features)
        Unconstrained least-squares coefficients.
    margin : float
        Equivalence margin of the tests, relative to each derivative's RMS
        (0: exact symmetry is the null hypothesis).
    edge_rows : int
        Rows at trajectory ends left out of the tests (see
        :func:`symsindy.regression_data.edge_rows`).
    rows : str
        What the rows are, for reports ("samples", "integral rows", ...).
    state_noise : ndarray (n_states,), optional
        Noise in the states relative to their spread, for integral rows with
        state noise (see :mod:`symsindy.state_noise`).
    state_noise_corrected : bool
        Whether the library was corrected for that noise (not when it is
        larger than :data:`~symsindy.state_noise.MAX_CORRECTION_TERMS` allows).
    """

    variance: np.ndarray
    sigma: np.ndarray
    tau: np.ndarray
    floored: np.ndarray
    n_samples: int
    n_effective: np.ndarray
    rank: int
    rss: np.ndarray
    rms: np.ndarray
    coef: np.ndarray
    margin: float = 0.0
    edge_rows: int = 0
    rows: str = "samples"
    state_noise: np.ndarray | None = None
    state_noise_corrected: bool = False

    @property
    def weights(self) -> np.ndarray:
        return 1.0 / self.variance

    @property
    def noncentrality(self) -> float:
        """Largest mean shift of ``T`` a breaking within the margin can cause."""
        allowed = self.n_samples * (self.margin * self.rms) ** 2
        return float(np.sum(allowed / self.variance))

    def p_value(self, statistic: float, dof: int) -> float:
        """``P(T >= statistic)`` under the null (chi-square, or non-central)."""
        lam = self.noncentrality
        if lam <= 0:
            return float(chi2.sf(statistic, dof))
        return _noncentral(ncx2.sf, norm.sf, statistic, dof, lam)

    def critical_value(self, dof: int, alpha: float) -> float:
        """The ``1 - alpha`` quantile of ``T`` under the null."""
        lam = self.noncentrality
        if lam <= 0:
            return float(chi2.ppf(1 - alpha, dof))
        return _noncentral(ncx2.ppf, norm.isf, 1 - alpha, dof, lam, alpha)

    @property
    def residual_dof(self) -> int:
        return self.n_samples - self.rank

    def describe(self) -> str:
        """One line for reports."""
        rel = self.sigma / np.where(self.rms > 0, self.rms, 1.0)
        tau = ", ".join(f"{t:.1f}" for t in self.tau)
        floor = " (floor)" if self.floored.any() else ""
        margin = (
            f"; allowing {100 * self.margin:.2g}% for numerical bias (p-values "
            "from the non-central chi-square)"
            if self.margin
            else ""
        )
        edges = f" ({self.edge_rows} end rows left out)" if self.edge_rows else ""
        states = ""
        if self.state_noise is not None:
            worst = 100 * float(np.max(self.state_noise))
            states = (
                f"; library corrected for state noise ({worst:.2g}% of spread)"
                if self.state_noise_corrected
                else f"; state noise {worst:.2g}% of spread, library too large "
                "to correct for it"
            )
        return (
            f"noise {100 * rel.max():.3g}% of the derivatives' RMS{floor}; "
            f"autocorrelation time {tau}; {self.n_samples} {self.rows}{edges}, "
            f"effective {int(self.n_effective.min())}{margin}{states}"
        )


def _noncentral(exact, gaussian, value, dof, lam, alpha=None) -> float:
    """A non-central chi-square function, or its normal limit where boost's
    series fails (it overflows or does not converge for very large ``dof`` and
    ``lambda``, where ``N(k + lambda, 2 (k + 2 lambda))`` is accurate)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = float(exact(value, dof, lam))
        if np.isfinite(out) and not caught:
            return out
    except OverflowError:
        pass
    mean, sd = dof + lam, np.sqrt(2.0 * (dof + 2.0 * lam))
    if alpha is None:  # survival function at ``value``
        return float(gaussian((value - mean) / sd))
    return float(mean + sd * gaussian(alpha))


def estimate_noise(
    stats,
    floor: float = DERIVATIVE_NOISE_FLOOR,
    tau: np.ndarray | None = None,
    margin: float = 0.0,
) -> NoiseEstimate:
    """Noise level of the unconstrained least-squares fit (see module docstring).

    ``tau`` overrides the autocorrelation times (a bootstrap draw of rows has
    lost the time order it would be estimated from). ``margin`` is the
    equivalence margin of the tests (``DERIVATIVE_BIAS_MARGIN`` for numerical
    derivatives, 0 for measured ones).

    Raises
    ------
    ValueError
        When there are no more samples than identifiable coefficients.
    """
    coef, rank = least_squares(stats)
    n = int(stats.n_samples)
    if n <= rank:
        raise ValueError(
            f"{n} samples cannot estimate the noise of a library with {rank} "
            "identifiable terms; use more data or a lower degree"
        )
    rss = np.clip(np.asarray(stats.rss(coef), dtype=float), 0.0, None)
    spread = rss
    if hasattr(stats, "noise_rss"):
        # With noisy features (errors in the variables) the tests compare the
        # corrected quadratic form, but the estimator scatters with the plain
        # residual, feature noise included.
        spread = np.clip(np.asarray(stats.noise_rss(coef), dtype=float), 0.0, None)
    sigma2 = spread / (n - rank)
    if tau is None:
        acov = stats.residual_autocovariance(coef)
        tau = (
            integrated_autocorrelation_time(acov, stats.pair_counts)
            if acov.shape[0] > 1
            else np.ones_like(sigma2)
        )
    ms = np.clip(np.diag(np.asarray(stats.yty)) / n, 0.0, None)
    floor_var = (floor**2) * ms
    effective = sigma2 * tau
    floored = effective < floor_var
    variance = np.maximum(effective, floor_var)
    variance = np.where(variance > 0, variance, 1e-300)
    return NoiseEstimate(
        variance=variance,
        sigma=np.sqrt(sigma2),
        tau=tau,
        floored=floored,
        n_samples=n,
        n_effective=n / tau,
        rank=rank,
        rss=rss,
        rms=np.sqrt(ms),
        coef=coef,
        margin=float(margin),
    )


def subspace_least_squares(stats, Q, weights: np.ndarray) -> tuple[np.ndarray, int]:
    """Weighted least squares with ``vec(C) = Q c``: ``(coef, rank)``.

    Minimises ``sum_i weights_i RSS_i(C)``; only ``f x f`` and ``r x r``
    matrices are formed.
    """
    gram, xty = np.asarray(stats.gram), np.asarray(stats.xty)
    f, t = xty.shape
    Q = sparse.csr_matrix(Q)
    H, b = reduced_normal_equations(Q, gram, xty, weights)
    c, rank = _scaled_solve(H, b)
    return (Q @ c).reshape(t, f), rank


@dataclass
class SubspaceTest:
    """Outcome of testing a symmetric subspace against the unconstrained fit.

    Attributes
    ----------
    statistic : float
        ``T`` of the module docstring.
    dof : int
        Degrees of freedom after the search correction.
    p_value : float
    alpha : float
    accepted : bool
        ``p_value > alpha``: enforcing the symmetry does not significantly
        worsen the fit.
    relative_increase : float
        Effect size: ``(RSS_V - RSS_0) / RSS_0`` summed over targets with the
        test's weights (0.004 means the symmetry costs 0.4 % of the residual).
    coef : ndarray
        The refit inside the subspace.
    rss : ndarray
        Its residual sums of squares per target.
    codimension : int
        Coefficients removed by the constraint (before the search correction).
    search_dof : int
    resolution : float
        The smallest breaking the test detects half the time, as a fraction of
        each target's RMS per sample, in the most favourable direction (a
        breaking orthogonal to the symmetric models): symmetric verdicts hold
        up to breakings of about this size (see :func:`breaking_resolution`).
    """

    statistic: float
    dof: int
    p_value: float
    alpha: float
    accepted: bool
    relative_increase: float
    coef: np.ndarray = field(repr=False)
    rss: np.ndarray = field(repr=False)
    codimension: int = 0
    search_dof: int = 0
    noise: NoiseEstimate | None = field(default=None, repr=False)

    @cached_property
    def resolution(self) -> float:
        # Computed on demand (a root search): most tests are never reported.
        if self.noise is None or self.codimension == 0:
            return float("nan")
        return breaking_resolution(self.noise, self.dof, self.alpha)

    @property
    def excess_sigma(self) -> float:
        """Effect size: how many standard deviations ``T`` lies above its mean
        under the symmetry (``dof`` plus the margin's non-centrality)."""
        lam = 0.0 if self.noise is None else self.noise.noncentrality
        return (self.statistic - self.dof - lam) / np.sqrt(2.0 * (self.dof + 2 * lam))

    def sentence(self, decided: bool = True) -> str:
        """Wording a scientist can quote.

        ``decided=False`` leaves out the verdict, for a candidate whose verdict
        is not the test's (undetermined, with the reason given by the caller).
        """
        text = (
            f"enforcing it raises the residual by {100 * self.relative_increase:.3g}% "
            f"({self.excess_sigma:+.2g} sigma; T = {self.statistic:.3g} on "
            f"{self.dof} dof, p = {format_p(self.p_value)})"
        )
        if not decided:
            return text
        text += ": consistent with the data" if self.accepted else ": rejected"
        if self.accepted and np.isfinite(self.resolution):
            text += (
                f" (resolution: breakings below {100 * self.resolution:.2g}% of the "
                "derivatives' RMS go unseen)"
            )
        return text


def format_p(p: float) -> str:
    """A p-value for reports: two digits, and "< 1e-6" below that."""
    return f"{p:.2g}" if p >= 1e-6 else "< 1e-6"


def subspace_test(
    stats,
    Q,
    noise: NoiseEstimate,
    search_dof: int = 0,
    alpha: float = DEFAULT_ALPHA,
) -> SubspaceTest:
    """Likelihood-ratio test of "the model lies in ``span(Q)``".

    Parameters
    ----------
    stats : sufficient statistics (see module docstring)
    Q : sparse or dense (n_targets * n_features, r)
        Basis of the constrained subspace (``vec(C) = C.ravel()``), e.g.
        ``equivariant_basis(...).Q``.
    noise : NoiseEstimate
    search_dof : int
        Dimension of the family of candidates the search optimised over.
    alpha : float
        Level of the test.

    Returns
    -------
    SubspaceTest
    """
    w = noise.weights
    coef, rank_v = subspace_least_squares(stats, Q, w)
    rss_v = np.clip(np.asarray(stats.rss(coef), dtype=float), 0.0, None)
    statistic = float(max(np.sum(w * (rss_v - noise.rss)), 0.0))
    codim = noise.rank * len(w) - rank_v
    dof = max(codim - int(search_dof), 1)
    p_value = noise.p_value(statistic, dof) if codim > 0 else 1.0
    base = float(np.sum(w * noise.rss))
    floor = float(np.sum(w * noise.variance)) * max(noise.residual_dof, 1)
    rel = float(np.sum(w * (rss_v - noise.rss)) / max(base, floor, 1e-300))
    return SubspaceTest(
        statistic=statistic,
        dof=dof,
        p_value=p_value,
        alpha=alpha,
        accepted=p_value > alpha,
        relative_increase=max(rel, 0.0),
        coef=coef,
        rss=rss_v,
        codimension=int(codim),
        search_dof=int(search_dof),
        noise=noise,
    )


def breaking_resolution(noise: NoiseEstimate, dof: int, alpha: float) -> float:
    """The relative breaking a test detects with probability 1/2 (best case).

    A breaking ``delta`` (a fraction of each target's RMS per sample) that is
    orthogonal to the symmetric models moves ``T`` to ``ncx2(dof, lambda)`` with
    ``lambda = delta^2 sum_i N rms_i^2 / v_i``; the test rejects it half the
    time when ``P(ncx2(dof, lambda) > c) = 1/2``, ``c`` the critical value
    (which already includes the margin). Less favourable directions need more.

    Examples
    --------
    One target with 10 % noise over 400 samples, a constraint removing two
    coefficients: breakings below about 1.8 % of the target's RMS go unseen.

    >>> import numpy as np
    >>> from symsindy.regression_data import ArrayStatistics
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(400, 3))
    >>> y = theta[:, :1] + 0.1 * rng.normal(size=(400, 1))
    >>> noise = estimate_noise(ArrayStatistics(theta, y), tau=np.ones(1))
    >>> round(breaking_resolution(noise, 2, 1e-3), 3)
    0.018
    """
    from scipy.optimize import brentq

    unit = noise.n_samples * float(np.sum(noise.rms**2 / noise.variance))
    if unit <= 0:
        return float("inf")
    dof = max(int(dof), 1)
    crit = noise.critical_value(dof, alpha)

    def missed(lam):  # P(T > crit) - 1/2 at non-centrality lam
        return _noncentral(ncx2.sf, norm.sf, crit, dof, lam) - 0.5

    upper = crit + 10.0 * np.sqrt(2.0 * (dof + 2.0 * crit)) + 10.0
    if missed(0.0) >= 0:
        return 0.0
    return float(np.sqrt(brentq(missed, 0.0, upper, xtol=1e-10 * upper) / unit))


def signal_test(stats, noise: NoiseEstimate, alpha: float = DEFAULT_ALPHA) -> float:
    """p-value of "the derivatives are pure noise" (the zero model).

    When this is not small the data cannot tell any symmetry apart: every
    candidate is undetermined. The zero model is tested like any subspace,
    through ``stats.rss``: with noisy features (corrected statistics) that is
    the corrected quadratic form, whose minimum ``noise.rss`` is 0, so the
    plain ``Y^T Y`` would count all of the targets, noise included, as signal.
    """
    w = noise.weights
    explained = np.asarray(stats.rss(np.zeros_like(noise.coef)), float) - noise.rss
    statistic = float(np.sum(w * np.clip(explained, 0.0, None)))
    return float(chi2.sf(statistic, max(noise.rank * len(w), 1)))


def detectable_breaking(
    stats,
    noise: NoiseEstimate,
    Q,
    reference: np.ndarray,
    coef: np.ndarray,
    dof: int,
    alpha: float = DEFAULT_ALPHA,
) -> float:
    """Largest relative symmetry breaking the data could miss (power).

    A perturbation ``dC`` of the model breaks the symmetry by its distance to
    the symmetric subspace ``span(Q)``. The test sees that distance in the data
    metric (whitened units) and rejects once its square reaches
    ``chi2.ppf(1 - alpha, dof)``; its size is the same distance in the
    ``reference`` norm (e.g. each monomial's RMS over the data). The largest
    breaking that stays undetected has relative size

        sqrt(crit / lambda_min) / ||F||_reference,

    with ``lambda_min`` the smallest ratio of the two squared distances over
    perturbations outside ``span(Q)``. A large value means the data cannot tell
    the symmetry from a breaking of that size: the verdict is then
    "undetermined" rather than "symmetric". Directions the data cannot see
    but that are themselves symmetric (an odd polynomial vanishing on the data,
    for a point reflection) break nothing and do not count.

    Parameters
    ----------
    reference : ndarray (k, n_features)
        Factor ``R`` of the reference norm over the library (``||g|| = ||R c||``),
        e.g. the RMS of each monomial over the data.
    """
    from scipy.linalg import eigh, null_space, orth

    data, ref, scale = _whitened_factors(stats, noise, reference)
    t = len(noise.weights)
    Qs = np.asarray(sparse.csr_matrix(Q).toarray()) * scale[:, None]
    # Each class modulo span(Q) by its reference-orthogonal representative,
    # whose reference norm is then the class's reference distance to span(Q).
    B = null_space(_per_target(ref.T @ ref, Qs, t).T)
    if B.shape[1] == 0:
        return 0.0
    breaking = _per_target(data, B, t)
    if Qs.shape[1]:
        seen = orth(_per_target(data, Qs, t), rcond=1e-10)
        breaking -= seen @ (seen.T @ breaking)  # data distance to span(Q)
    A = breaking.T @ breaking
    refB = _per_target(ref, B, t)
    M = refB.T @ refB
    M += 1e-12 * np.trace(M) / M.shape[0] * np.eye(M.shape[0])
    lam = eigh(A, M, eigvals_only=True, subset_by_index=[0, 0])[0]
    w = noise.weights
    norm2 = float(np.sum(w * np.sum((coef @ reference.T) ** 2, axis=1)))
    if lam <= 0 or norm2 <= 0:
        return float("inf")
    crit = noise.critical_value(max(int(dof), 1), alpha)
    return float(np.sqrt(crit / lam / norm2))


def _whitened_factors(stats, noise: NoiseEstimate, reference: np.ndarray):
    """Factors ``(D, R, s)`` of one target's whitened data metric and
    reference metric, in the coordinates ``s * vec(C)``.

    The data metric is ``block_diag(w_i Theta^T Theta)``; ``s`` scales it to
    a unit diagonal before it is factored, so that badly scaled monomials keep
    their precision and rank decisions do not depend on the units of the
    states. In those coordinates both metrics are ``block_diag`` of the same
    factor for every target (see :func:`_per_target`).
    """
    d, vals, vecs, _ = scaled_eigh(np.asarray(stats.gram))
    root = (vecs * np.sqrt(np.clip(vals, 0.0, None))).T
    scale = np.concatenate([np.sqrt(w) * d for w in noise.weights])
    return root, reference / d, scale


def _per_target(factor: np.ndarray, X: np.ndarray, n_targets: int) -> np.ndarray:
    """``kron(I, factor) @ X``, target block by target block (no Kronecker)."""
    blocks = X.reshape(n_targets, factor.shape[1], -1)
    out = np.einsum("mp,tpk->tmk", factor, blocks)
    return out.reshape(n_targets * factor.shape[0], -1)


def enforcement_test(
    stats,
    Q,
    alpha: float = DEFAULT_ALPHA,
    tau=None,
    margin: float = DERIVATIVE_BIAS_MARGIN,
):
    """Does enforcing ``span(Q)`` significantly worsen the fit? (None: cannot tell).

    The check behind the warning of the enforcing optimizers: the same
    likelihood-ratio test as discovery, for a symmetry the user imposed. An
    optimizer cannot tell measured from numerical derivatives, so the margin
    for derivative bias applies by default.
    """
    try:
        noise = estimate_noise(stats, tau=tau, margin=margin)
    except ValueError:
        return None
    return subspace_test(stats, Q, noise, 0, alpha)
