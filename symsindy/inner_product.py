"""Inner products on polynomial functions (kept for compatibility).

The function norms now live in :mod:`symsindy.spectrum` (:class:`FunctionNorm`);
these wrappers keep the 0.1 helpers importable.
"""

from __future__ import annotations

import numpy as np

from .polynomials import Monomials
from .spectrum import INNER_PRODUCTS, FunctionNorm

__all__ = ["INNER_PRODUCTS", "function_weight", "apply_weight", "resolve_inner_product"]


def resolve_inner_product(inner_product: str, samples) -> str:
    """``"auto"`` becomes ``"data"`` when samples exist, else ``"coefficients"``."""
    return FunctionNorm.resolve(inner_product, samples).kind


def function_weight(basis: Monomials, samples, inner_product: str):
    """Upper-triangular ``R`` with ``||g|| = ||R c||``, or None for coefficients."""
    points = None if inner_product == "coefficients" else samples
    return FunctionNorm(inner_product, points).factor(basis)


def apply_weight(coefs: np.ndarray, R) -> np.ndarray:
    """Weighted coefficients ``(..., n_monomials) -> (..., n_monomials)``."""
    return coefs if R is None else coefs @ R.T
