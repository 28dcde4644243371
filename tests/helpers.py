"""Independent reference evaluations used by the tests (no symsindy internals)."""

import numpy as np


def eval_poly(coef, exps, x):
    """F(x) = coef @ x**exps, for real or complex x of shape (s, n)."""
    mons = np.prod(x[:, None, :] ** exps[None, :, :], axis=2)
    return mons @ coef.T


def complex_step_jacobian(f, x, h=1e-30):
    """Jacobian (s, m, n) of f at the rows of x, exact to rounding for analytic f."""
    s, n = x.shape
    cols = []
    for j in range(n):
        step = np.zeros(n, dtype=complex)
        step[j] = 1j * h
        cols.append(f(x.astype(complex) + step).imag / h)
    return np.stack(cols, axis=2)


def duffing_trajectory(times, x0):
    """Damped Duffing x'' = -x - 0.1 x' - x^3 at the given times (tight tolerances)."""
    from scipy.integrate import solve_ivp

    sol = solve_ivp(
        lambda _, z: [z[1], -z[0] - 0.1 * z[1] - z[0] ** 3],
        (times[0], times[-1]),
        x0,
        t_eval=times,
        rtol=1e-11,
        atol=1e-11,
    )
    return sol.y.T
