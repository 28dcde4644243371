"""Noise in the measured states, and what it does to a polynomial library.

Integral rows (:func:`symsindy.regression_data.integral_data`) evaluate the
library at the measured states ``x~ = x + e``. With white Gaussian noise ``e``
of variance ``s_i`` in state ``i`` this has two effects that least squares
does not average away (errors in the variables):

* the features are biased: ``E[x~^2] = x^2 + s``. Their unbiased versions are
  products of Hermite polynomials (``He_2 = x^2 - s``, ``He_3 = x^3 - 3 s x``,
  :func:`hermite_features`);
* the features are noisy, so the Gram matrix carries their covariance, and
  the targets, which share samples with the features (a window's ends, or all
  of them), a covariance with them.

The covariance terms are odd in a reflected state wherever the library's
columns are, so on runs that are not themselves symmetric samples they tilt
the least-squares fit away from a true symmetry: on the Lu system at 5 % state
noise the true reflection was rejected in 20 of 20 noise draws (and with
noise-free features at the nominal rate). :meth:`StateNoise.corrections`
estimates both covariances without bias from the noisy samples (the adjusted
least squares estimator of polynomial measurement-error models), and
:class:`symsindy.regression_data.CorrectedStatistics` subtracts them.

The noise variance is estimated from the samples themselves: the ``k``-th
difference of white noise has variance ``binom(2k, k) s``, that of a resolved
smooth signal shrinks like ``(step * frequency)^k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import comb, factorial

from .polynomials import Monomials, evaluate_products

__all__ = [
    "StateNoise",
    "state_noise_variance",
    "hermite_features",
    "MAX_DIFFERENCE_ORDER",
    "MAX_CORRECTION_TERMS",
]

#: Highest order of the differences that estimate the state noise.
MAX_DIFFERENCE_ORDER = 6

#: The exact covariance terms need the Hermite polynomials of degree
#: ``2 d - 2`` at every sample (``d`` the library's degree); beyond this many
#: (more than 20 states at degree 3, 10 at degree 4) the correction is skipped
#: and reports say so. Its cost grows like this number times the samples: on
#: 10^4 samples at degree 3, 0.05 s for 6 states, 0.3 s for 10, 2.7 s for 20.
MAX_CORRECTION_TERMS = 11000

#: Values per block when summing those polynomials (32 MB of float64).
_BLOCK_VALUES = 1 << 22


def state_noise_variance(trajectories) -> np.ndarray:
    """Variance of white noise in each state, from differences of the samples.

    For each order ``k`` up to :data:`MAX_DIFFERENCE_ORDER`, the mean square of
    the ``k``-th differences (pooled over trajectories) divided by
    ``binom(2k, k)`` is the noise variance plus what the signal contributes;
    the smallest over ``k`` is returned. It errs high only on data sampled too
    coarsely to resolve the flow.

    Parameters
    ----------
    trajectories : list of arrays (n_times, n)

    Returns
    -------
    ndarray (n,)

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 10, 20001)
    >>> noise = 0.01 * np.random.default_rng(0).normal(size=(t.size, 1))
    >>> x = np.sin(t)[:, None] + noise
    >>> round(float(np.sqrt(state_noise_variance([x])[0])), 3)
    0.01
    """
    n = np.shape(trajectories[0])[1]
    best = np.full(n, np.inf)
    for k in range(1, MAX_DIFFERENCE_ORDER + 1):
        diffs = [np.diff(x, n=k, axis=0) for x in trajectories if len(x) > k]
        if not diffs:
            break
        mean_square = np.mean(np.vstack(diffs) ** 2, axis=0)
        best = np.minimum(best, mean_square / comb(2 * k, k))
    return np.where(np.isfinite(best), best, 0.0)


@dataclass
class StateNoise:
    """The samples behind integral rows, for their errors-in-variables terms.

    Attributes
    ----------
    variance : ndarray (n,)
        Noise variance of each state.
    basis : Monomials
        The library of the rows.
    states : ndarray (n_rows, n_window, n)
        The measured states of each row's window.
    weights : ndarray (n_rows, n_window)
        Weights of each row's features, the library values at its samples
        (they sum to 1).
    target_weights : ndarray (n_rows, n_window)
        Weights of each row's targets, the states at its samples.
    """

    variance: np.ndarray
    basis: Monomials
    states: np.ndarray
    weights: np.ndarray
    target_weights: np.ndarray

    def select(self, rows) -> StateNoise:
        """The same for a subset (or a bootstrap draw) of the rows."""
        return StateNoise(
            self.variance,
            self.basis,
            self.states[rows],
            self.weights[rows],
            self.target_weights[rows],
        )

    @property
    def window(self) -> int:
        """Steps per window."""
        return self.states.shape[1] - 1

    @property
    def relative(self) -> np.ndarray:
        """Noise standard deviation of each state over its spread."""
        spread = self.states.reshape(-1, self.states.shape[-1]).std(axis=0)
        return np.sqrt(self.variance) / np.where(spread > 0, spread, 1.0)

    @property
    def _covariance_basis(self) -> Monomials:
        """The Hermite polynomials the covariances are combinations of."""
        degree = max(2 * self.basis.max_degree - 2, 0)
        return Monomials(self.basis.n_vars, degree)

    @property
    def applies(self) -> bool:
        """Whether there is noise to correct for, within ``MAX_CORRECTION_TERMS``."""
        small = len(self._covariance_basis) <= MAX_CORRECTION_TERMS
        return small and bool(np.any(self.variance > 0))

    def window_means(self) -> np.ndarray:
        """The rows' features: unbiased library values, averaged per window."""
        rows, window, n = self.states.shape
        values = hermite_features(
            self.basis.exponents, self.states.reshape(-1, n), self.variance
        )
        return np.einsum("rw,rwf->rf", self.weights, values.reshape(rows, window, -1))

    def corrections(self) -> tuple[np.ndarray, np.ndarray]:
        """``(K_gram, K_xty)`` to subtract from ``Theta^T Theta``, ``Theta^T Y``.

        Both are unbiased estimates from the noisy samples, exact for Gaussian
        noise: ``K_gram[p, q] = sum_j w_j^2 (H_p H_q - H_{p+q})(x_j)`` (the
        covariance of ``H_p`` and ``H_q``, since ``E[H_p H_q] - x^(p+q)`` is it
        and ``H_{p+q}`` is unbiased for ``x^(p+q)``; expanded by the Hermite
        product formula, see :func:`_hermite_covariance`), and ``K_xty[p, i] =
        s_i sum_j w_j v_j d_i H_p(x_j)`` with ``v`` the target weights: the
        features and the targets share their samples, and ``E[H_p(x~) e_i] =
        s_i d_i x^p`` (Stein's lemma). Zero when the expansion needs more than
        ``MAX_CORRECTION_TERMS`` polynomials.
        """
        n = self.states.shape[-1]
        f = len(self.basis)
        if not self.applies:
            return np.zeros((f, f)), np.zeros((f, n))
        lower = self._covariance_basis
        samples = self.states.reshape(-1, n)
        w2 = self.weights.reshape(-1) ** 2
        moments = np.zeros(len(lower))
        chunk = max(1, _BLOCK_VALUES // len(lower))
        for start in range(0, len(samples), chunk):
            part = slice(start, start + chunk)
            values = hermite_features(lower.exponents, samples[part], self.variance)
            moments += w2[part] @ values
        k_gram = _hermite_covariance(
            self.basis.exponents, self.variance, moments, lower
        )
        return k_gram, self._target_covariance(samples)

    def _target_covariance(self, samples: np.ndarray) -> np.ndarray:
        """``K_xty``: as ``d_i H_p = p_i H_(p - e_i)``, one weighted sum of the
        Hermite polynomials of degree ``d - 1`` gives every column."""
        exps = self.basis.exponents
        f, n = exps.shape
        shared = (self.weights * self.target_weights).reshape(-1)
        used = np.flatnonzero(shared)  # the ends only, for box windows
        lowered = Monomials(n, max(self.basis.max_degree - 1, 0))
        sums = shared[used] @ hermite_features(
            lowered.exponents, samples[used], self.variance
        )
        k_xty = np.zeros((f, n))
        for i in range(n):
            has = exps[:, i] > 0
            below = exps[has].copy()
            below[:, i] -= 1
            k_xty[has, i] = self.variance[i] * exps[has, i] * sums[lowered.index(below)]
        return k_xty


def hermite_features(exponents: np.ndarray, x: np.ndarray, variance) -> np.ndarray:
    """``prod_i He_(a_i)(x_i; s_i)`` for each row ``a`` of ``exponents``.

    Probabilists' Hermite polynomials of variance ``s`` (``He_0 = 1``,
    ``He_1 = x``, ``He_(k+1) = x He_k - k s He_(k-1)``): for ``x~ = x + e`` with
    ``e ~ N(0, diag(s))`` their mean is the monomial ``x ** a`` itself.
    """

    def table(j, column, top):
        values = np.ones((column.size, top + 1))
        if top:
            values[:, 1] = column
        for k in range(1, top):
            values[:, k + 1] = (
                column * values[:, k] - k * variance[j] * values[:, k - 1]
            )
        return values

    return evaluate_products(exponents, x, table)


def _hermite_covariance(exps, variance, moments, lower: Monomials) -> np.ndarray:
    """``sum_j w_j^2 (H_p H_q - H_(p+q))(x_j)`` for every pair of exponents.

    By the product formula ``H_p H_q = sum_k prod_i k_i! C(p_i, k_i)
    C(q_i, k_i) s_i^k_i H_(p+q-2k)`` (``0 <= k <= min(p, q)``), whose ``k = 0``
    term is ``H_(p+q)``, this is a combination of ``moments[c] = sum_j w_j^2
    H_c(x_j)`` over ``|c| <= 2d - 2`` only. The factor of each ``k`` is
    ``k! s^k`` times one number for ``p`` and one for ``q``, so looping over
    ``k`` fills the block of the exponents ``>= k`` at once. Written by hand
    because no library expands products of multivariate Hermite polynomials.
    """
    n = exps.shape[1]
    out = np.zeros((len(exps), len(exps)))
    top = max(int(exps.sum(axis=1).max()), 1)
    for k in Monomials(n, top, min_degree=1).exponents:
        rows = np.flatnonzero(np.all(exps >= k, axis=1))
        if rows.size == 0:
            continue
        reduced = exps[rows] - k
        pairs = (reduced[:, None, :] + reduced[None, :, :]).reshape(-1, n)
        block = moments[lower.index(pairs)].reshape(rows.size, rows.size)
        side = np.prod(comb(exps[rows], k), axis=1)
        scale = np.prod(factorial(k) * variance**k)
        out[np.ix_(rows, rows)] += scale * np.outer(side, side) * block
    return out
