"""Test functions of the weak (integral) form over windows of samples.

A window's row of :func:`symsindy.regression_data.integral_data` is a
weighted sum of the library over its samples (the features) and of the states
(the targets). A test function ``phi`` that vanishes at the window's ends
gives ``int phi x' dt = -int phi' x dt``, so the two sides of ``x' = C
Theta(x)`` become weighted means over the window with no derivative
estimated. Each function here maps the samples' times ``(n_rows, n_window)``
to those feature and target weights.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "box_weights",
    "parabola_weights",
    "resolve_test_function",
    "TEST_FUNCTIONS",
    "PARABOLA_EXACT_DEGREE",
    "PARABOLA_MIN_WINDOW",
]

#: The parabola's targets are exact for states that are polynomials of this
#: degree in time over a window (see :func:`parabola_weights`).
PARABOLA_EXACT_DEGREE = 9

#: Windows of at least this many steps use the parabola test function by
#: default, whose targets carry about ``steps / 6`` times less noise variance
#: than the box's increments once ``steps`` is large (twice less at 16 steps;
#: below that the exactness conditions cost more than the parabola gains).
PARABOLA_MIN_WINDOW = 16


def box_weights(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feature and target weights of the box ``phi = 1`` over each window.

    The features are Simpson means over each row of ``times`` (Simpson's rule
    is linear in the values), the targets the increments over the duration:
    ``x(t_b) - x(t_a) = C int Theta``, with Simpson's error ``h^4 / 180``
    times the fourth time derivative.
    """
    from scipy.integrate import simpson

    times = _checked_times(times, 2)
    m = times.shape[1]
    duration = times[:, -1] - times[:, 0]
    unit = np.broadcast_to(np.eye(m), (times.shape[0], m, m))
    features = simpson(unit, x=times[:, :, None], axis=1) / duration[:, None]
    targets = np.zeros_like(features)
    targets[:, 0], targets[:, -1] = -1 / duration, 1 / duration
    return features, targets


def parabola_weights(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feature and target weights of the parabola ``phi = 1 - s^2``.

    ``s`` runs over [-1, 1] across each window. The features are ``q phi``
    over ``sum q phi`` (``q`` trapezoid weights). The targets are the
    combination ``v`` of the window's states with the least noise (least
    ``sum v_j^2``) that satisfies ``sum_j v_j p(t_j) = sum_j w_j p'(t_j)`` for
    every polynomial ``p`` of degree ``<= PARABOLA_EXACT_DEGREE``: the
    weighted mean derivative, exactly for states polynomial in time over the
    window (the least-squares slope when that degree is 1). Noise-free Hopf
    runs fit their rows to 8e-6 of the targets' RMS at 46 steps per window
    (5e-6 with the box's Simpson rule); the trapezoid rule applied to
    ``-phi'`` misses by 1e-2. Written by hand: this discrete integration by
    parts is what makes the weak form exact.

    Examples
    --------
    >>> t = np.linspace(0.0, 1.0, 17)
    >>> features, targets = parabola_weights(t[None])
    >>> bool(np.isclose(targets[0] @ t**3, features[0] @ (3 * t**2)))
    True
    """
    from numpy.polynomial import legendre

    times = _checked_times(times, PARABOLA_EXACT_DEGREE + 1)
    start, end = times[:, :1], times[:, -1:]
    half = (end - start) / 2
    s = (times - start) / half - 1
    steps = np.diff(times, axis=1)
    q = np.zeros_like(times)
    q[:, :-1] += steps / 2
    q[:, 1:] += steps / 2
    features = q * (1 - s**2) / np.sum(q * (1 - s**2), axis=1, keepdims=True)
    # Legendre polynomials in s: the same conditions, well conditioned.
    degree = PARABOLA_EXACT_DEGREE
    values = legendre.legvander(s, degree)  # (rows, samples, degree + 1)
    slopes = legendre.legvander(s, degree - 1) @ legendre.legder(np.eye(degree + 1))
    wanted = np.einsum("rs,rsk->rk", features, slopes) / half
    gram = np.einsum("rsk,rsj->rkj", values, values)
    dual = np.linalg.solve(gram, wanted[:, :, None])[:, :, 0]
    return features, np.einsum("rsk,rk->rs", values, dual)


#: The test functions by name: samples' times (n_rows, n_window) to feature
#: and target weights.
TEST_FUNCTIONS = {"parabola": parabola_weights, "box": box_weights}


def resolve_test_function(test_function: str, window: int) -> str:
    """The test function ``test_function`` names for windows of ``window`` steps.

    ``"auto"`` is the parabola from ``PARABOLA_MIN_WINDOW`` steps on, the box
    below.

    Raises
    ------
    ValueError
        For an unknown name, or a parabola window too short for its exactness
        conditions.
    """
    if test_function == "auto":
        return "parabola" if window >= PARABOLA_MIN_WINDOW else "box"
    if test_function not in TEST_FUNCTIONS:
        raise ValueError(
            f"test_function must be 'auto' or one of {sorted(TEST_FUNCTIONS)}, "
            f"got {test_function!r}"
        )
    if test_function == "parabola" and window <= PARABOLA_EXACT_DEGREE:
        raise ValueError(
            f"test_function='parabola' needs windows of more than "
            f"{PARABOLA_EXACT_DEGREE} steps, got {window}"
        )
    return test_function


def _checked_times(times, min_samples: int) -> np.ndarray:
    """``times`` as float rows of at least ``min_samples`` increasing values."""
    times = np.asarray(times, dtype=float)
    if times.ndim != 2 or times.shape[1] < min_samples:
        raise ValueError(
            f"times must have shape (n_rows, n_window) with n_window >= "
            f"{min_samples}, got shape {times.shape}"
        )
    if not np.all(np.isfinite(times)) or np.any(np.diff(times, axis=1) <= 0):
        raise ValueError("times must be finite and strictly increasing along rows")
    return times
