"""Input validation at the boundary: one clear error naming the argument.

Public entry points (``fit``, ``discover_symmetries``, constructors of value
objects) call these once; inner functions trust their inputs.
"""

from __future__ import annotations

import numbers

import numpy as np

from .tolerances import MAX_CONDITION

__all__ = [
    "check_finite",
    "validate_xy",
    "check_sample_weight",
    "check_square",
    "check_invertible",
    "check_state_dimension",
    "check_scalar",
    "check_choice",
]


def check_finite(name: str, arr, allow_complex: bool = False) -> np.ndarray:
    """``arr`` as a float array, or a ValueError naming ``name`` if not finite.

    Complex input is refused (``TypeError``) rather than silently cast to real.
    """
    raw = np.asarray(arr)
    if np.iscomplexobj(raw) and not allow_complex:
        raise TypeError(f"{name} must be real, got complex values")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric: {err}") from None
    if not np.all(np.isfinite(arr)):
        rows = arr.reshape(arr.shape[0], -1) if arr.ndim else arr.reshape(1, 1)
        bad = int(np.sum(~np.all(np.isfinite(rows), axis=1)))
        raise ValueError(
            f"{name} contains NaN or inf in {bad} sample(s); remove or impute them "
            "before fitting"
        )
    return arr


def validate_xy(x_, y) -> tuple[np.ndarray, np.ndarray]:
    """Finite 2-D arrays: ``(n_samples, n_features)`` and ``(n_samples, n_targets)``."""
    x = check_finite("x (the library matrix)", x_)
    y = check_finite("y (the targets)", y)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"x and y must be 2-D with the same number of samples, got "
            f"{x.shape} and {y.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError("x and y contain no samples")
    return x, y


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """Finite, non-negative weights of length ``n_samples`` (not all zero)."""
    if sample_weight is None:
        return None
    w = check_finite("sample_weight", sample_weight)
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per sample, "
            f"got {w.shape}"
        )
    if np.any(w < 0):
        raise ValueError("sample_weight must be non-negative")
    if not np.any(w > 0):
        raise ValueError("sample_weight is zero for every sample")
    return w


def check_square(name: str, mat, n: int | None = None) -> np.ndarray:
    """A finite real square matrix (of size ``n`` when given)."""
    mat = check_finite(name, mat)
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ValueError(
            f"{name} must be a square (n, n) matrix, got shape {mat.shape}"
        )
    if n is not None and mat.shape[0] != n:
        raise ValueError(
            f"{name} must be ({n}, {n}) to act on R^{n}, got shape {mat.shape}"
        )
    return mat


def check_invertible(name: str, mat, max_condition: float = MAX_CONDITION):
    """Raise unless ``mat`` is numerically invertible (by condition number)."""
    cond = np.linalg.cond(mat)
    if not np.isfinite(cond) or cond > max_condition:
        raise ValueError(
            f"{name} must be invertible; its condition number is {cond:.2g} "
            f"(limit {max_condition:.0e})"
        )
    return mat


def check_state_dimension(name: str, got: int, expected: int) -> None:
    """Raise when an object acting on ``R^got`` meets a model on ``R^expected``."""
    if got != expected:
        raise ValueError(
            f"{name} acts on R^{got} but the model has {expected} state variables"
        )


def check_scalar(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
):
    """A finite real (or integer) number within bounds; else one clear error."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {what}, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (value < low or (value == low and not low_inclusive))
    too_high = high is not None and (
        value > high or (value == high and not high_inclusive)
    )
    if too_low or too_high:
        bounds = _bounds(low, high, low_inclusive, high_inclusive)
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return value


def _bounds(low, high, low_inclusive: bool, high_inclusive: bool) -> str:
    """``"in (0, 1)"``, ``">= 0"`` or ``"<= 1"``: the allowed range in words."""
    if low is not None and high is not None:
        left, right = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        return f"in {left}{low}, {high}{right}"
    if low is not None:
        return f"{'>=' if low_inclusive else '>'} {low}"
    return f"{'<=' if high_inclusive else '<'} {high}"


def check_choice(name: str, value, choices) -> None:
    """Raise unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
