"""Symmetric sparse-regression optimizers (pysindy BaseOptimizers)."""

from .base import SymmetricOptimizer, infer_basis
from .constrained import constrained_sr3
from .promoting import PromotionPath, SymmetryPromotingSR3, promotion_path
from .sr3 import EquivariantSR3
from .stlsq import EquivariantSTLSQ

__all__ = [
    "EquivariantSR3",
    "EquivariantSTLSQ",
    "PromotionPath",
    "SymmetricOptimizer",
    "SymmetryPromotingSR3",
    "constrained_sr3",
    "infer_basis",
    "promotion_path",
]
