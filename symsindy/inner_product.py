"""Inner products on polynomial functions: by coefficients or over the data.

``function_weight`` returns an upper-triangular ``R`` such that the norm of a
function with coefficients ``c`` is ``||R c||``; ``None`` stands for the plain
coefficient norm. Over data, ``||g||^2 = mean_s |g(x_s)|^2``, so ``R`` is the
triangular factor of the (scaled) monomial matrix at the sample points.
"""

from __future__ import annotations

import numpy as np

from .polynomials import Monomials

__all__ = ["INNER_PRODUCTS", "function_weight", "apply_weight", "resolve_inner_product"]

INNER_PRODUCTS = ("auto", "data", "coefficients")


def resolve_inner_product(inner_product: str, samples) -> str:
    """``"auto"`` becomes ``"data"`` when samples exist, else ``"coefficients"``."""
    if inner_product not in INNER_PRODUCTS:
        raise ValueError(
            "inner_product must be 'auto', 'data' or 'coefficients', "
            f"got {inner_product!r}"
        )
    if inner_product == "data" and samples is None:
        raise ValueError("inner_product='data' needs sample points: pass x=...")
    if inner_product == "auto":
        return "data" if samples is not None else "coefficients"
    return inner_product


def function_weight(basis: Monomials, samples, inner_product: str):
    """Upper-triangular ``R`` with ``||g|| = ||R c||``, or None for coefficients."""
    if inner_product == "coefficients":
        return None
    theta = basis.evaluate(samples) / np.sqrt(samples.shape[0])
    return np.linalg.qr(theta, mode="r")


def apply_weight(coefs: np.ndarray, R) -> np.ndarray:
    """Weighted coefficients ``(..., n_monomials) -> (..., n_monomials)``."""
    return coefs if R is None else coefs @ R.T
